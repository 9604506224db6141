// Fault injection hooks, off by default. Both transports check them on every
// send and every receive; the node lets a test switch them on only when it was
// started with --allow-fault-injection.

import type { Handled, Request } from './messages.js'

export class Faults {
  /** Peer names whose traffic (requests and responses, both ways) is dropped: requests to them time out. */
  readonly partitioned = new Set<string>()
  /** Added before each outgoing request is sent (a stand-in for tc netem). */
  delayMs = 0
  /** Drops an outgoing request when it returns true (the request then times out). */
  dropRequest: ((to: string, req: Request) => boolean) | null = null
  /**
   * Answers an incoming request OK without handling it when it returns true: a
   * peer that lies (a mutation the jepsen checkers must catch). Only for
   * requests whose answer is OK.
   */
  ackUnhandled: ((from: string, req: Request) => boolean) | null = null

  clear (): void {
    this.partitioned.clear()
    this.delayMs = 0
    this.dropRequest = null
    this.ackUnhandled = null
  }

  /** The handler's answer to an incoming request, unless ackUnhandled fakes it. */
  answer (from: string, req: Request, handler: (from: string, req: Request) => Handled): Handled {
    if (this.ackUnhandled !== null && this.ackUnhandled(from, req)) return { type: 'OK' }
    return handler(from, req)
  }

  /** Whether an outgoing request to `to` is dropped. */
  dropsSend (to: string, req: Request): boolean {
    return this.partitioned.has(to) || (this.dropRequest !== null && this.dropRequest(to, req))
  }

  /** Whether anything received from `from` is dropped. */
  dropsReceive (from: string): boolean {
    return this.partitioned.has(from)
  }
}
