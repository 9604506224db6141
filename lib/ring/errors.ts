// Errors of the ring module. Each failure has its own class and a stable
// `code`; messages may change, codes may not.

export class RingError extends Error {
  readonly code: string = 'DYNAKV_RING'

  constructor (message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** The partition count is not a power of two in 1..65536. */
export class PartitionCountError extends RingError {
  override readonly code = 'DYNAKV_RING_PARTITION_COUNT'
}

/** N (replicas per key) is not an integer >= 1. */
export class ReplicaCountError extends RingError {
  override readonly code = 'DYNAKV_RING_REPLICA_COUNT'
}

/** A partition number or a hash does not fit the ring. */
export class PartitionRangeError extends RingError {
  override readonly code = 'DYNAKV_RING_PARTITION_RANGE'
}

/** A SCAN cursor outside 0 <= c < 2^63. */
export class CursorRangeError extends RingError {
  override readonly code = 'DYNAKV_RING_CURSOR_RANGE'
}

/** A membership record that claim cannot use (duplicate name, bad weight, bad times). */
export class MemberError extends RingError {
  override readonly code = 'DYNAKV_RING_MEMBER'
}

/** No live member is left to own the partitions. */
export class NoMembersError extends RingError {
  override readonly code = 'DYNAKV_RING_NO_MEMBERS'
}

/** An owners array that is not a ring (empty, wrong length, empty names). */
export class OwnersError extends RingError {
  override readonly code = 'DYNAKV_RING_OWNERS'
}

/** A broken internal invariant: a bug in this module, never an input problem. */
export class RingInvariantError extends RingError {
  override readonly code = 'DYNAKV_RING_INVARIANT'
}

export function invariant (condition: boolean, message: string): asserts condition {
  if (!condition) throw new RingInvariantError(message)
}
