// Local, request-driven failure detection (the paper's §4.8): a peer that keeps
// failing requests or heartbeats for downAfterMs is down *for this node only*;
// it is probed in the background and is up again at its first answer. No global
// agreement. Pure state: callers pass the time.

export interface PeerHealth {
  up: boolean
  /** When the current up/down state began (ms). */
  sinceMs: number
  /** When the current run of failures began, or null. */
  failingSinceMs: number | null
  lastOkMs: number | null
  /** When a request or heartbeat last failed, or null: a peer that failed lately may have missed writes. */
  lastFailureMs: number | null
  failures: number
}

export class FailureDetector {
  private readonly peers = new Map<string, PeerHealth>()

  constructor (readonly downAfterMs: number) {}

  private health (peer: string, nowMs: number): PeerHealth {
    let h = this.peers.get(peer)
    if (h === undefined) {
      h = { up: true, sinceMs: nowMs, failingSinceMs: null, lastOkMs: null, lastFailureMs: null, failures: 0 }
      this.peers.set(peer, h)
    }
    return h
  }

  /** A request or heartbeat to peer succeeded. Returns true when this brought it back up. */
  success (peer: string, nowMs: number): boolean {
    const h = this.health(peer, nowMs)
    h.lastOkMs = nowMs
    h.failingSinceMs = null
    if (h.up) return false
    h.up = true
    h.sinceMs = nowMs
    return true
  }

  /** A request or heartbeat to peer failed. Returns true when this took it down. */
  failure (peer: string, nowMs: number): boolean {
    const h = this.health(peer, nowMs)
    h.failures++
    h.lastFailureMs = nowMs
    if (h.failingSinceMs === null) h.failingSinceMs = nowMs
    if (!h.up || nowMs - h.failingSinceMs < this.downAfterMs) return false
    h.up = false
    h.sinceMs = nowMs
    return true
  }

  isUp (peer: string): boolean {
    return this.peers.get(peer)?.up ?? true
  }

  state (peer: string): PeerHealth | undefined {
    return this.peers.get(peer)
  }

  forget (peer: string): void {
    this.peers.delete(peer)
  }

  downPeers (): string[] {
    const out: string[] = []
    for (const [peer, h] of this.peers) if (!h.up) out.push(peer)
    return out
  }
}
