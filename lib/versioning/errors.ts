// Errors of the versioning module. Codes are stable API; messages may change.
// Malformed stored objects throw DecodeError from lib/util/bytes.ts.

/** A client-supplied context token that does not decode (the server answers `-ERR invalid context`). */
export class InvalidContextError extends Error {
  override readonly name = 'InvalidContextError'
  readonly code = 'DYNAKV_INVALID_CONTEXT'
}

/** A node name or epoch that cannot form an actor id. */
export class InvalidActorError extends Error {
  override readonly name = 'InvalidActorError'
  readonly code = 'DYNAKV_INVALID_ACTOR'
}

/** A put would need a counter beyond 2^53 - 1 (only reachable through a forged context). */
export class CounterOverflowError extends Error {
  override readonly name = 'CounterOverflowError'
  readonly code = 'DYNAKV_COUNTER_OVERFLOW'
}

/** A caller passed an argument outside its contract (a programmer error, not an operating one). */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError'
  readonly code = 'DYNAKV_INVALID_ARGUMENT'
}
