// What a failed --join means. Most failures are transient (the seed is still
// starting, or unreachable for now) and the join is retried; a refusal caused
// by this node's configuration is final: retrying cannot cure a wrong secret.
// Codes are compared exactly: handshake codes come from this node's or the
// seed's transport, membership codes from the seed's gossip (a remote error).

export type JoinRefusalCause = 'cluster-secret' | 'cluster-name' | 'partitions' | 'n' | 'protocol-version'

/** The join can never succeed with this node's configuration: the node stops with this. */
export class JoinRefusedError extends Error {
  readonly code = 'DYNAKV_JOIN_REFUSED'
  constructor (readonly reason: JoinRefusalCause, message: string) {
    super(message)
  }
}

const FINAL: Readonly<Record<string, JoinRefusalCause>> = {
  DYNAKV_PEER_WRONG_SECRET: 'cluster-secret',
  DYNAKV_PEER_WRONG_CLUSTER: 'cluster-name',
  DYNAKV_MEMBERSHIP_WRONG_CLUSTER: 'cluster-name',
  DYNAKV_MEMBERSHIP_PARTITIONS: 'partitions',
  DYNAKV_MEMBERSHIP_N: 'n',
  DYNAKV_PEER_VERSION_MISMATCH: 'protocol-version'
}

const WHAT: Readonly<Record<JoinRefusalCause, string>> = {
  'cluster-secret': 'wrong --cluster-secret (it differs from the cluster\'s)',
  'cluster-name': 'wrong --cluster-name',
  partitions: 'mismatched --partitions',
  n: 'mismatched --n',
  'protocol-version': 'incompatible dynakv version (peer protocol)'
}

/**
 * 'final': give up and stop the node; 'done': nothing to join (the seed is
 * this node, or this node became a member meanwhile); 'retry': try again later.
 */
export function classifyJoinFailure (err: unknown, seed: string): { outcome: 'final', error: JoinRefusedError } | { outcome: 'done' | 'retry' } {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return { outcome: 'retry' }
  if (code === 'DYNAKV_PEER_SELF' || code === 'DYNAKV_MEMBERSHIP_REFUSED') return { outcome: 'done' }
  const cause = FINAL[code]
  if (cause === undefined) return { outcome: 'retry' }
  const message = (err as Error).message
  return { outcome: 'final', error: new JoinRefusedError(cause, `join through ${seed} refused: ${WHAT[cause]}: ${message}`) }
}
