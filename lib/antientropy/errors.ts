// Errors of the anti-entropy module. Codes are stable API; messages may change.
// Each one is an operating error (bad input from a peer), to be counted and
// answered, never a reason to crash: the exchange is abandoned and retried.

/** A node index or level outside the tree, as a peer's MERKLE_NODES request may carry. */
export class NodeRangeError extends RangeError {
  override readonly name = 'NodeRangeError'
  readonly code = 'DYNAKV_AE_NODE_RANGE'
}

/** The remote side of compareTrees answered with the wrong number or size of hashes. */
export class RemoteReplyError extends Error {
  override readonly name = 'RemoteReplyError'
  readonly code = 'DYNAKV_AE_REMOTE_REPLY'
}

/** A (key, digest) list given to diffDigests is not strictly ascending by key. */
export class UnsortedDigestsError extends Error {
  override readonly name = 'UnsortedDigestsError'
  readonly code = 'DYNAKV_AE_UNSORTED_DIGESTS'
}
