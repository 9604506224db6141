// Quorum bookkeeping for one request, as in etcd-raft's quorum package: replies
// come in, the tracker says whether the request is still pending, won or lost.
//
//   needed   R or W: successful replies required
//   primariesNeeded   PW: how many of those must come from primaries (0 = any)
//   total    replicas asked
//
//   won  ⇔ ok ≥ needed ∧ okPrimaries ≥ primariesNeeded
//   lost ⇔ it can no longer be won with the replies still outstanding

export type QuorumState = 'pending' | 'won' | 'lost'

export class QuorumTracker {
  ok = 0
  okPrimaries = 0
  failed = 0
  private outstandingPrimaries: number

  constructor (
    readonly needed: number,
    readonly total: number,
    readonly primariesNeeded = 0,
    primariesAsked = total
  ) {
    if (!Number.isInteger(needed) || needed < 1) throw new RangeError(`needed must be ≥ 1, got ${needed}`)
    if (primariesAsked > total) throw new RangeError('more primaries asked than replicas')
    this.outstandingPrimaries = primariesAsked
  }

  get outstanding (): number { return this.total - this.ok - this.failed }

  success (fromPrimary: boolean): QuorumState {
    if (this.outstanding <= 0) throw new Error('more replies than replicas asked')
    this.ok++
    if (fromPrimary) {
      this.okPrimaries++
      this.outstandingPrimaries--
    }
    return this.state
  }

  failure (fromPrimary: boolean): QuorumState {
    if (this.outstanding <= 0) throw new Error('more replies than replicas asked')
    this.failed++
    if (fromPrimary) this.outstandingPrimaries--
    return this.state
  }

  /**
   * A replica asked refused (it does not store the key in its view of the ring)
   * and another node was asked in its place: the reply is still awaited, now
   * from a primary or not as toPrimary says.
   */
  reassign (fromPrimary: boolean, toPrimary: boolean): QuorumState {
    if (this.outstanding <= 0) throw new Error('more replies than replicas asked')
    this.outstandingPrimaries += (toPrimary ? 1 : 0) - (fromPrimary ? 1 : 0)
    return this.state
  }

  get state (): QuorumState {
    if (this.ok >= this.needed && this.okPrimaries >= this.primariesNeeded) return 'won'
    if (this.ok + this.outstanding < this.needed) return 'lost'
    if (this.okPrimaries + this.outstandingPrimaries < this.primariesNeeded) return 'lost'
    return 'pending'
  }
}

/** The `-NOQUORUM` text (docs/design.md#errors). */
export function noQuorumMessage (op: 'read' | 'write', needed: number, answered: number, primaries?: { needed: number, answered: number }): string {
  let msg = `NOQUORUM ${op} needed ${needed} replicas, ${answered} answered`
  if (primaries !== undefined && primaries.needed > 0 && primaries.answered < primaries.needed) {
    msg += ` (${primaries.answered} of ${primaries.needed} primaries)`
  }
  if (op === 'write') msg += '; the write may still have been stored on some replicas'
  return msg
}

/** The operation and quorum of a `-NOQUORUM` text made by noQuorumMessage (null for any other text). */
export function parseNoQuorum (text: string): { op: 'read' | 'write', needed: number } | null {
  const m = /^NOQUORUM (read|write) needed (\d+) replicas, \d+ answered/.exec(text)
  return m === null ? null : { op: m[1] as 'read' | 'write', needed: Number(m[2]) }
}
