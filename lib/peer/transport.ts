// The one I/O seam between a node and its peers (docs/design.md#architecture), implemented by
// the TCP transport (tcp.ts) and by an endpoint of the simulated network
// (sim.ts). Also the bookkeeping of one outstanding request, shared by both.

import type { Timer } from '../runtime/clock.js'
import { PeerProtocolError, PeerRemoteError, type PeerError } from './errors.js'
import type { Faults } from './faults.js'
import { replyOf, type Handled, type Message, type Request, type Response, type ResponseTo } from './messages.js'

/** name null: not known yet (a join seed); learned from the handshake. */
export interface PeerAddress {
  name: string | null
  host: string
  port: number
}

/**
 * `from` is the authenticated peer name. Throwing answers ERROR {code: err.code, message}.
 * A response at hand is returned as it is (answered at once, no promise and no reaction).
 */
export type RequestHandler = (from: string, req: Request) => Handled

export interface TransportStats {
  /** TCP: established connections (handshake done, not draining). Sim: peers exchanged with. */
  connections: number
  /** TCP: sockets open now, handshaking and draining ones included. Sim: as connections. */
  connectionsOpen: number
  /** Sockets ever opened, dialed or accepted. */
  connectionsOpened: number
  requestsSent: number
  requestsReceived: number
  responsesReceived: number
  /** Error responses received (the request rejected with PeerRemoteError). */
  errorsReceived: number
  bytesSent: number
  bytesReceived: number
  timeouts: number
  /** Responses that arrived after their request had settled (timed out, or a duplicate). */
  lateResponses: number
  /** Handshakes this node refused (wrong secret, cluster, version, name...). */
  refusedHandshakes: number
  /** Handshakes that failed for any reason: refused by either side, timed out, cut short. */
  failedHandshakes: number
  /** Connections dropped for a malformed or oversized frame. */
  malformedFrames: number
  /** Messages dropped by fault injection (Faults) on send or receive. */
  droppedByFaults: number
  /** Socket writes: with write coalescing, fewer than the frames written. */
  socketWrites: number
}

/** Traffic with one peer over its authenticated connections (handshakes not included). */
export interface PeerTraffic {
  framesSent: number
  framesReceived: number
  bytesSent: number
  bytesReceived: number
}

export function emptyStats (): TransportStats {
  return {
    connections: 0,
    connectionsOpen: 0,
    connectionsOpened: 0,
    requestsSent: 0,
    requestsReceived: 0,
    responsesReceived: 0,
    errorsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    timeouts: 0,
    lateResponses: 0,
    refusedHandshakes: 0,
    failedHandshakes: 0,
    malformedFrames: 0,
    droppedByFaults: 0,
    socketWrites: 0
  }
}

export interface Transport {
  readonly name: string
  /** TCP: listen on the peer port; sim: register with the network. */
  start (handler: RequestHandler): Promise<void>
  /**
   * Sends req and resolves with its response (never ERROR) and the responder's
   * authenticated name. Rejects with a PeerError: DYNAKV_PEER_TIMEOUT,
   * DYNAKV_PEER_UNREACHABLE, DYNAKV_PEER_OVERLOADED, DYNAKV_PEER_CONNECTION_LOST,
   * DYNAKV_PEER_STOPPED, a handshake code, or (PeerRemoteError) the code the
   * remote handler failed with.
   */
  request<R extends Request> (to: PeerAddress, req: R, timeoutMs: number): Promise<ResponseTo<R> & { from: string }>
  /**
   * request without a promise (the replica requests of every client command):
   * sink.callDone is told the outcome once, never during send itself; tag and
   * ctx are the caller's, carried on the Call.
   */
  send (to: PeerAddress, req: Request, timeoutMs: number, sink: CallSink, ctx: unknown, tag: number): void
  /** Closes everything; outstanding requests reject with DYNAKV_PEER_STOPPED. */
  stop (): Promise<void>
  /** The address peers reach this transport at (TCP: valid once started; port 0 resolved). */
  address (): PeerAddress
  readonly faults: Faults
  stats (): TransportStats
}

/**
 * Told once how a call ended: its response (err null) or its PeerError. One
 * object shared by many calls instead of a promise and two closures per call.
 */
export interface CallSink {
  callDone (call: Call, err: PeerError | null, res: (Response & { from: string }) | null): void
}

const OK: Response = Object.freeze({ type: 'OK' })

/** What holds an outstanding call (a connection's table of requests): told once when the call settles. */
export interface CallHolder {
  release (call: Call): void
}

/** One outstanding request: settles exactly once, and then releases its timers and its slot. */
export class Call {
  settled = false
  /** Whatever holds this call (a connection's table), set by the holder: a shared object, not a closure per call. */
  holder: CallHolder | null = null
  /** The request id the holder sent it under (0: not sent yet). */
  id = 0
  /**
   * Told once when the call settles: a transport's table of outstanding calls,
   * one function shared by every call (no closure per call).
   */
  untrack: ((call: Call) => void) | null = null
  /** Its place in a transport's table of outstanding calls (-1: none). */
  slot = -1
  /** When the call times out, for a transport that sweeps deadlines instead of arming a timer per call (0: unset). */
  deadlineMs = 0
  /** Where the call goes (for the timeout's message). */
  to: PeerAddress | null = null
  /** Settled through the sink (Transport.send), or else through this promise (Transport.request). */
  readonly promise: Promise<Response & { from: string }> | null = null
  private resolveFn: ((res: Response & { from: string }) => void) | null = null
  private rejectFn: ((err: PeerError) => void) | null = null
  private cleanups: Array<() => void> | null = null

  constructor (
    readonly req: Request,
    readonly timeoutMs: number,
    private readonly sink: CallSink | null = null,
    /** The sender's own: what the call is for, and which of its requests. */
    readonly ctx: unknown = null,
    readonly tag = 0
  ) {
    if (sink === null) {
      this.promise = new Promise((resolve, reject) => {
        this.resolveFn = resolve
        this.rejectFn = reject
      })
    }
  }

  /** Cancels timer when the call settles. */
  addTimer (timer: Timer): void {
    this.onSettle(() => timer.cancel())
  }

  /** Runs fn once when the call settles (at once if it has). */
  onSettle (fn: () => void): void {
    if (this.settled) fn()
    else (this.cleanups ??= []).push(fn)
  }

  fail (err: PeerError): void {
    if (!this.settle()) return
    const sink = this.sink
    // A failure may come while the sender is still sending (a stopped transport, an unreachable peer):
    // told a microtask later, as a promise's rejection would be.
    if (sink !== null) queueMicrotask(() => sink.callDone(this, err, null))
    else (this.rejectFn as (err: PeerError) => void)(err)
  }

  /** Settles with a response received from `from`; false when the call had settled already. */
  deliver (msg: Message, from: string): boolean {
    if (this.settled) return false
    const expected = replyOf(this.req.type)
    if (msg.type === 'ERROR') this.fail(new PeerRemoteError(msg.code, msg.message))
    else if (msg.type !== expected) this.fail(new PeerProtocolError(`${from} answered ${this.req.type} with ${msg.type}, expected ${expected}`))
    else if (this.settle()) {
      // The message was decoded for this call alone: it carries the sender's name itself (no copy per response).
      const res = msg as Response & { from: string }
      res.from = from
      if (this.sink !== null) this.sink.callDone(this, null, res)
      else (this.resolveFn as (res: Response & { from: string }) => void)(res)
    }
    return true
  }

  private settle (): boolean {
    if (this.settled) return false
    this.settled = true
    const cleanups = this.cleanups
    this.cleanups = null
    if (cleanups !== null) for (const fn of cleanups) fn()
    const untrack = this.untrack
    this.untrack = null
    if (untrack !== null) untrack(this)
    const holder = this.holder
    this.holder = null
    if (holder !== null) holder.release(this)
    return true
  }
}

/**
 * Checks a handler's response against the request; returns an ERROR to send
 * instead when it does not match. A handler that resolves with nothing
 * answers OK to a request whose reply is OK (a replica write answered with its
 * group commit's own promise, not one more per request).
 */
export function checkResponse (req: Request, res: unknown): Response {
  if (res === undefined && replyOf(req.type) === 'OK') return OK
  const type = (res as { type?: unknown } | null)?.type
  if (type === 'ERROR' || type === replyOf(req.type)) return res as Response
  return { type: 'ERROR', code: 'DYNAKV_PEER_BAD_RESPONSE', message: `handler answered ${req.type} with ${String(type)}` }
}
