// One peer connection over a socket: handshake, framing, the table of
// outstanding requests both ways, write coalescing, and the graceful drain of
// a connection that lost a simultaneous dial. The TCP transport (tcp.ts) owns
// the connections and decides which one carries a request.
//
//   handshaking --handshake ok--> ready --GOODBYE sent/received--> retiring
//        |                          |                                 |
//        +-- refused, timed out, ---+--- socket closed, malformed ----+--> closed
//            socket error               frame, stop()                 |
//                                                                     |
//   retiring -> closed gracefully once both GOODBYEs are exchanged and |
//   nothing is in flight either way (or after drainTimeoutMs) ---------+

import type { Socket } from 'node:net'
import type { TimeSource, Timer } from '../runtime/clock.js'
import type { Logger } from '../runtime/log.js'
import { FrameReader, FrameWriter, HANDSHAKE_FRAME_BYTES_MAX, encodeFrame } from './codec.js'
import {
  HandshakeError,
  PeerConnectionLostError,
  PeerError,
  PeerOverloadedError,
  PeerProtocolError,
  PeerUnreachableError,
  errorCode,
  errorMessage,
  isHandshakeCode
} from './errors.js'
import type { Faults } from './faults.js'
import { Handshake, type HandshakeOptions } from './handshake.js'
import { schemaOf, type Handled, type Message, type Request, type Response } from './messages.js'
import { checkResponse, type Call, type CallHolder, type PeerTraffic, type TransportStats } from './transport.js'
import { SlotTable } from '../util/slots.js'
import type { ReceiveBuffer } from '../util/receive-buffer.js'

export interface PeerLimits {
  /** Bound on a frame's length field (type + id + body) after the handshake. */
  maxFrameBytes: number
  /** From socket creation to an authenticated peer, both ways. */
  handshakeTimeoutMs: number
  /** Requests sent (or queued during the handshake) and not yet answered, per connection. */
  maxOutstandingPerConnection: number
  /** Requests being handled for one peer at once; more are answered ERROR DYNAKV_PEER_OVERLOADED. */
  maxInboundPerConnection: number
  /** Bytes waiting in the socket and the coalescing buffer; past it requests fail fast and reading pauses. */
  maxWriteBufferBytes: number
  reconnectBackoffMsMin: number
  reconnectBackoffMsMax: number
  /** Bound on how long a retired connection may take to drain. */
  drainTimeoutMs: number
  /** Sockets open at once, inbound and outbound, handshaking included. */
  maxConnections: number
  /** Requests outstanding at once over the whole transport (delayed or dropped by faults included). */
  maxOutstanding: number
}

/** Refusal reasons already logged, per peer (its name, else its host): bounded, the oldest peer forgotten first. */
export class RefusalLog {
  private readonly seen = new Map<string, Set<string>>()

  constructor (private readonly peersMax = 1024) {}

  /** True the first time `code` is noted for `who` (since it last connected). */
  first (who: string, code: string): boolean {
    let codes = this.seen.get(who)
    if (codes?.has(code) === true) return false
    if (codes === undefined) {
      if (this.seen.size >= this.peersMax) this.seen.delete(this.seen.keys().next().value as string)
      this.seen.set(who, codes = new Set())
    }
    codes.add(code)
    return true
  }

  /** The peer completed a handshake: a later refusal is news again. */
  forget (who: string): void {
    this.seen.delete(who)
  }
}

/** How long a socket ended with a last frame (ERROR, or a drained connection) may linger before it is destroyed. */
export const LINGER_MS = 2000
const OK: Response = Object.freeze({ type: 'OK' })
const GOODBYE: Message = Object.freeze({ type: 'GOODBYE' })
const ERROR_MESSAGE_CHARS_MAX = 1024
/** Bound on the ids of one OKS frame (5 bytes each at most): more go out in another. */
const OKS_IDS_MAX = 4096
/** The protocol version that has OKS (a version-2 peer gets an OK frame each). */
const OKS_VERSION = 3

/**
 * The requests of one type whose handler returned one promise (Connection.await):
 * the first id in a field, so a request alone in its group commit (small
 * batches) makes no array.
 */
class Answering {
  more: number[] | null = null
  constructor (readonly handled: Promise<unknown>, readonly type: Request['type'], readonly first: number) {}

  add (id: number): void {
    // bounded: each id is counted in inbound (maxInboundPerConnection)
    if (this.more === null) this.more = [id]
    else this.more.push(id)
  }
}
const errorResponse = (err: unknown): Response => ({ type: 'ERROR', code: errorCode(err), message: errorMessage(err).slice(0, ERROR_MESSAGE_CHARS_MAX) })

export interface ConnectionOwner {
  readonly clock: TimeSource
  readonly log: Logger
  readonly faults: Faults
  readonly limits: PeerLimits
  readonly counters: TransportStats
  /** Refusals already logged: each peer's refusal is logged once per reason, not once per retry. */
  readonly refusals: RefusalLog
  /** The traffic record of an authenticated peer (kept across its connections). */
  trafficOf (peer: string): PeerTraffic
  connectionReady (conn: Connection): void
  connectionClosed (conn: Connection, err: PeerError, previous: ConnectionState): void
  /** Calls conn.flush() once this turn's I/O callbacks have run (with every other connection's flush: one deferral per turn). */
  flushLater (conn: Connection): void
  handle (from: string, req: Request): Handled
}

export type ConnectionState = 'handshaking' | 'ready' | 'retiring' | 'closed'

export interface ConnectionOptions {
  outbound: boolean
  /** The dialed address (outbound only). */
  target: { host: string, port: number } | null
  /** For logs: host:port. */
  label: string
  handshake: HandshakeOptions
}

export class Connection implements CallHolder {
  state: ConnectionState = 'handshaking'
  /** The authenticated peer name, set when the handshake completes. */
  peerName: string | null = null
  readonly outbound: boolean
  readonly target: { host: string, port: number } | null
  readonly label: string
  private readonly handshake: Handshake
  /** Decodes bytes fields as views of the chunk they came in (each chunk is this connection's own: received, onData). */
  private readonly reader = new FrameReader(HANDSHAKE_FRAME_BYTES_MAX, true)
  private readonly sent: SentCalls
  private readonly unsent = new Set<Call>()
  private inbound = 0
  /** Frames queued this turn, encoded one after another (its pending bytes), written as one buffer by flush. */
  private readonly outbox = new FrameWriter()
  /** Requests answered OK this turn, sent at the flush as one OKS frame (bounded: OKS_IDS_MAX). */
  private oks: number[] = []
  private flushScheduled = false
  /** The owner's handler, for faults.answer: one function per connection, not a closure per request. */
  private readonly handleNow = (from: string, req: Request): Handled => this.owner.handle(from, req)
  /** The promise the last request's handler returned while it is pending, with the type of that request and the ids it answers (await). */
  private shared: Answering | null = null
  private goodbyeSent = false
  private goodbyeReceived = false
  /** Reading is paused while our writes to a peer that does not read are over maxWriteBufferBytes. */
  private paused = false
  private timer: Timer | null = null
  private socketError: Error | null = null
  /** Set once the peer is authenticated. */
  private traffic: PeerTraffic | null = null
  /** The OK every id of an OKS frame is answered with (it carries this peer's name once delivered: Call.deliver). */
  private ok: Response | null = null

  constructor (private readonly owner: ConnectionOwner, private readonly socket: Socket, opts: ConnectionOptions) {
    this.outbound = opts.outbound
    this.target = opts.target
    this.label = opts.label
    this.handshake = new Handshake(opts.handshake)
    this.sent = new SentCalls(owner.limits.maxOutstandingPerConnection)
    socket.setNoDelay(true)
    socket.on('data', chunk => this.onData(chunk))
    socket.on('error', err => { this.socketError = err })
    socket.on('close', () => this.close(this.lostError()))
    socket.on('drain', () => {
      if (this.paused) {
        this.paused = false
        socket.resume()
      }
    })
    this.timer = owner.clock.after(owner.limits.handshakeTimeoutMs, () => {
      if (this.state !== 'handshaking') return
      this.logRefusal('DYNAKV_PEER_HANDSHAKE_TIMEOUT', `handshake with peer ${this.label} timed out after ${owner.limits.handshakeTimeoutMs} ms`)
      this.close(new HandshakeError('DYNAKV_PEER_HANDSHAKE_TIMEOUT', `handshake with ${this.label} timed out`))
    })
    this.writeNow(encodeFrame(0, this.handshake.hello))
  }

  /** Requests sent and unanswered, plus those queued for the handshake. */
  get outstanding (): number { return this.sent.size + this.unsent.size }

  get readPaused (): boolean { return this.paused }

  private isOpen (): boolean {
    return this.state !== 'closed'
  }

  /** For logs and errors: the peer's name once known, and its address. */
  who (): string {
    return this.peerName === null ? this.label : `${this.peerName} (${this.label})`
  }

  /** Sends call now, or queues it until the handshake completes. Throws PeerError when it cannot. */
  submit (call: Call): void {
    if (this.state === 'handshaking') {
      if (this.outstanding >= this.owner.limits.maxOutstandingPerConnection) {
        throw new PeerOverloadedError(`${this.outstanding} requests already waiting for ${this.who()}`)
      }
      this.unsent.add(call)
      call.holder = this
      return
    }
    if (this.state !== 'ready') throw new PeerConnectionLostError(`connection to ${this.who()} is closing`)
    this.send(call)
  }

  /**
   * Stops sending requests here (the connection lost a simultaneous dial, or
   * the peer said GOODBYE), tells the peer, and closes once both directions
   * have drained. Returns the requests queued here and never sent, for the
   * caller to send elsewhere.
   */
  retire (): Call[] {
    if (this.state !== 'ready') return []
    this.state = 'retiring'
    const moved = [...this.unsent]
    this.unsent.clear()
    for (const call of moved) call.holder = null
    this.goodbyeSent = true
    this.enqueue(0, GOODBYE)
    this.timer = this.owner.clock.after(this.owner.limits.drainTimeoutMs, () => {
      this.close(new PeerConnectionLostError(`connection to ${this.who()} did not drain within ${this.owner.limits.drainTimeoutMs} ms`))
    })
    this.maybeFinishDrain()
    return moved
  }

  /**
   * Closes now: outstanding requests fail with err. Graceful (a drained
   * connection, or a refusal with lastFrame carrying the reason) ends the
   * socket after what is buffered; otherwise it is destroyed.
   */
  close (err: PeerError, how: { graceful?: boolean, lastFrame?: Buffer } = {}): void {
    if (this.state === 'closed') return
    const previous = this.state
    this.state = 'closed'
    this.timer?.cancel()
    this.timer = null
    if (how.graceful === true || how.lastFrame !== undefined) {
      this.flush()
      if (how.lastFrame !== undefined) {
        this.countWrite(how.lastFrame)
        this.socket.end(how.lastFrame)
      } else {
        this.socket.end()
      }
      const linger = this.owner.clock.after(LINGER_MS, () => this.socket.destroy())
      this.socket.once('close', () => linger.cancel())
    } else {
      this.socket.destroy()
    }
    const failure = previous === 'handshaking' && this.outbound && !(err instanceof HandshakeError) && err.code !== 'DYNAKV_PEER_STOPPED'
      ? new PeerUnreachableError(`cannot reach ${this.label}: ${this.socketError?.message ?? err.message}`)
      : err
    const calls = [...this.unsent, ...this.sent.clear()]
    this.unsent.clear()
    for (const call of calls) {
      call.holder = null
      call.fail(failure)
    }
    this.owner.connectionClosed(this, failure, previous)
  }

  // ---- receiving ----

  /**
   * What a socket read into the transport's receive buffer (net.connect's
   * `onread`, or an accepted socket adopted by lib/util/adopt-socket.ts: no
   * stream machinery per read, no 'data' event, no read-ahead tick). The
   * buffer is reused by the next read, so the read is copied out of it once
   * (ReceiveBuffer.copyOut),
   * and the messages' bytes fields (a replica write's key and record) are
   * views of that copy: one copy and one view a field, where a copy of each
   * field was a buffer and, in Node 20's Buffer#copy, a view of the source
   * (docs/performance.md, "Session 15, cluster15"). A field kept past its
   * turn keeps its read's copy alive (at most the receive buffer's 64 KB):
   * the replica write's bytes live in the engine until their group commit,
   * whose cache copies them.
   */
  received (nread: number, from: ReceiveBuffer): void {
    this.onData(from.copyOut(nread))
  }

  private onData (chunk: Buffer): void {
    if (this.state === 'closed') return
    this.owner.counters.bytesReceived += chunk.length
    if (this.traffic !== null) this.traffic.bytesReceived += chunk.length
    this.reader.push(chunk)
    // bounded: each round consumes one frame of what was pushed, or returns
    while (this.isOpen()) {
      let msg: Message | null
      try {
        msg = this.reader.nextMessage()
      } catch (err) {
        this.owner.counters.malformedFrames++
        this.owner.log.warn(`dropped peer ${this.who()}: malformed frame: ${errorMessage(err)}`)
        this.close(new PeerProtocolError(`malformed frame from ${this.who()}: ${errorMessage(err)}`))
        return
      }
      if (msg === null) return
      if (this.state === 'handshaking') this.onHandshakeFrame(msg)
      else this.onFrame(this.reader.id, msg)
    }
  }

  private onHandshakeFrame (msg: Message): void {
    if (msg.type === 'ERROR') {
      const code = isHandshakeCode(msg.code) ? msg.code : 'DYNAKV_PEER_HANDSHAKE'
      this.logRefusal(code, `peer ${this.label} refused the handshake: ${msg.message}`)
      this.close(new HandshakeError(code, `${this.label} refused the handshake: ${msg.message}`))
      return
    }
    let reply: Message | null
    try {
      if (msg.type !== 'HELLO' && msg.type !== 'AUTH') {
        throw new HandshakeError('DYNAKV_PEER_HANDSHAKE', `${msg.type} before the handshake completed`)
      }
      reply = this.handshake.receive(msg)
    } catch (err) {
      this.refuse(err as HandshakeError)
      return
    }
    if (reply !== null) this.writeNow(encodeFrame(0, reply))
    if (this.handshake.complete) this.becomeReady()
  }

  private refuse (err: HandshakeError): void {
    this.owner.counters.refusedHandshakes++
    const claim = this.handshake.claimedName === null || this.outbound ? '' : ` (it claims to be ${JSON.stringify(this.handshake.claimedName)})`
    this.logRefusal(err.code, `refused peer ${this.label}: ${err.message}${claim}`)
    const reason = encodeFrame(0, { type: 'ERROR', code: err.code, message: err.message.slice(0, ERROR_MESSAGE_CHARS_MAX) })
    this.close(err, { lastFrame: reason })
  }

  /**
   * A failed handshake is logged at warn the first time for this peer (its
   * claimed name, else its address) and reason; a peer retrying with the same
   * mistake is logged at debug after that.
   */
  private logRefusal (code: string, message: string): void {
    const who = this.handshake.claimedName ?? this.target?.host ?? this.socket.remoteAddress ?? this.label
    if (this.owner.refusals.first(who, code)) this.owner.log.warn(`${message} (logged once for this peer and reason)`)
    else this.owner.log.debug(message)
  }

  private becomeReady (): void {
    this.timer?.cancel()
    this.timer = null
    this.owner.refusals.forget(this.handshake.claimedName as string)
    if (this.target !== null) this.owner.refusals.forget(this.target.host)
    this.peerName = this.handshake.peerName
    this.traffic = this.owner.trafficOf(this.peerName as string)
    this.state = 'ready'
    this.reader.maxFrameBytes = this.owner.limits.maxFrameBytes
    this.owner.connectionReady(this)
    if (this.state !== 'ready') return // retired at once: the owner moved the queued requests
    const queued = [...this.unsent]
    this.unsent.clear()
    for (const call of queued) {
      call.holder = null
      if (call.settled) continue
      try {
        this.send(call)
      } catch (err) {
        call.fail(err as PeerError)
      }
    }
  }

  private onFrame (id: number, msg: Message): void {
    if (this.traffic !== null) this.traffic.framesReceived++
    const role = schemaOf(msg.type).role
    if (role === 'request') this.onRequest(id, msg as Request)
    else if (role === 'response') this.onResponse(id, msg)
    else if (msg.type === 'OKS') this.onOks(msg.ids)
    else if (msg.type === 'GOODBYE') this.onGoodbye()
    else {
      this.owner.counters.malformedFrames++
      this.owner.log.warn(`dropped peer ${this.who()}: unexpected ${msg.type} after the handshake`)
      this.close(new PeerProtocolError(`unexpected ${msg.type} from ${this.who()}`))
    }
  }

  private onRequest (id: number, req: Request): void {
    const { owner } = this
    const from = this.peerName as string
    if (owner.faults.dropsReceive(from)) {
      owner.counters.droppedByFaults++
      return
    }
    owner.counters.requestsReceived++
    if (this.inbound >= owner.limits.maxInboundPerConnection) {
      this.respond(id, { type: 'ERROR', code: 'DYNAKV_PEER_OVERLOADED', message: `${this.inbound} requests from ${from} in progress` })
      return
    }
    this.inbound++
    let handled: Handled
    try {
      handled = owner.faults.answer(from, req, this.handleNow)
    } catch (err) {
      this.answer(id, errorResponse(err))
      return
    }
    // A response at hand (a replica read from memory) is answered at once; else one reaction per promise, not a chain.
    if (!(handled instanceof Promise)) this.answer(id, checkResponse(req, handled))
    else if (this.shared !== null && handled === this.shared.handled && req.type === this.shared.type) this.shared.add(id)
    else this.await(handled, req, id)
  }

  /**
   * One reaction for the requests whose handler returned this promise, as the
   * next ones may (the PUT_REPLICAs of one frame chunk join one group commit,
   * whose promise the engine hands to each): they are answered together when
   * it settles. A request of another type, or another promise, starts a new
   * group; the group closes when its reaction runs.
   */
  private await (handled: Promise<unknown>, req: Request, id: number): void {
    const group = new Answering(handled, req.type, id)
    this.shared = group
    handled.then(res => this.answerAll(group, checkResponse(req, res)), (err: unknown) => this.answerAll(group, errorResponse(err)))
  }

  /** Answers the requests of a settled promise (await): its group is closed first, so a request handed it later starts another. */
  private answerAll (group: Answering, res: Response): void {
    if (this.shared === group) this.shared = null
    this.answer(group.first, res)
    const more = group.more
    if (more === null) return
    // bounded: the requests of one promise, each counted in inbound (maxInboundPerConnection)
    for (let i = 0; i < more.length; i++) this.answer(more[i], res)
  }

  private answer (id: number, res: Response): void {
    this.inbound--
    this.respond(id, res)
    this.maybeFinishDrain()
  }

  private respond (id: number, res: Response): void {
    if (this.state === 'closed') return
    const to = this.peerName as string
    if (this.owner.faults.dropsReceive(to)) {
      this.owner.counters.droppedByFaults++
      return
    }
    if (res.type === 'OK' && this.handshake.version >= OKS_VERSION) {
      // The replica writes of one group commit are answered in the same turn: one frame for all of them.
      this.oks.push(id)
      if (this.oks.length >= OKS_IDS_MAX) this.queueOks()
      this.schedule()
      return
    }
    try {
      this.enqueue(id, res)
    } catch (err) {
      this.owner.log.error(`cannot send ${res.type} to ${this.who()}: ${errorMessage(err)}`)
      this.enqueue(id, { type: 'ERROR', code: errorCode(err), message: errorMessage(err).slice(0, ERROR_MESSAGE_CHARS_MAX) })
    }
  }

  private onResponse (id: number, msg: Message): void {
    const from = this.peerName as string
    if (this.owner.faults.dropsReceive(from)) {
      this.owner.counters.droppedByFaults++
      return
    }
    const call = this.sent.get(id)
    if (call === undefined) {
      this.owner.counters.lateResponses++
      return
    }
    this.owner.counters.responsesReceived++
    if (msg.type === 'ERROR') this.owner.counters.errorsReceived++
    call.deliver(msg, from)
  }

  /** OK to each request of ids (an id no longer outstanding is a late response, as with OK frames). */
  private onOks (ids: number[]): void {
    // bounded: the ids of one frame; one OK for all (deliver gives it its sender's name, this connection's peer's each time)
    const ok = this.ok ??= { type: 'OK' }
    for (let i = 0; i < ids.length && this.isOpen(); i++) this.onResponse(ids[i], ok)
  }

  private onGoodbye (): void {
    this.goodbyeReceived = true
    // a ready connection has nothing queued: retire() returns no requests here
    if (this.state === 'ready') this.retire()
    this.maybeFinishDrain()
  }

  private maybeFinishDrain (): void {
    if (this.state !== 'retiring' || !this.goodbyeSent || !this.goodbyeReceived || this.sent.size > 0 || this.inbound > 0) return
    this.owner.log.debug(`drained the duplicate connection to ${this.who()}`)
    this.close(new PeerConnectionLostError(`connection to ${this.who()} drained`), { graceful: true })
  }

  private lostError (): PeerError {
    const reason = this.socketError?.message ?? 'connection closed'
    return new PeerConnectionLostError(`connection to ${this.who()} lost: ${reason}`)
  }

  // ---- sending ----

  private send (call: Call): void {
    const { owner } = this
    const to = this.peerName as string
    if (this.sent.size >= owner.limits.maxOutstandingPerConnection) {
      throw new PeerOverloadedError(`${this.sent.size} requests outstanding to ${to}`)
    }
    const buffered = this.socket.writableLength + this.outbox.pending
    if (buffered > owner.limits.maxWriteBufferBytes) {
      throw new PeerOverloadedError(`${buffered} bytes waiting to be written to ${to}`)
    }
    owner.counters.requestsSent++
    if (owner.faults.dropsSend(to, call.req)) {
      owner.counters.droppedByFaults++
      return // it times out, as a lost request does
    }
    const id = this.sent.add(call)
    try {
      this.enqueue(id, call.req)
    } catch (err) {
      this.sent.delete(id)
      owner.counters.requestsSent--
      throw err
    }
    call.id = id
    call.holder = this
  }

  /** A call held here settled: out of the queue for the handshake (id 0), else out of the table of requests sent. */
  release (call: Call): void {
    if (call.id === 0) {
      this.unsent.delete(call)
      return
    }
    this.sent.delete(call.id)
    this.maybeFinishDrain()
  }

  /**
   * Coalesces: every frame enqueued in one turn of the event loop goes out in
   * one socket write, flushed once the turn's I/O callbacks have run
   * (setImmediate). Under load a turn handles many client requests, replica
   * requests and responses at once; a write(2) each would cost more than the
   * frames (~13 µs a write on loopback under load, against ~1 µs to encode a
   * frame), and the wait is the rest of the turn, not a timer.
   */
  private enqueue (id: number, msg: Message): void {
    this.queue(id, msg)
    this.schedule()
  }

  /** Encodes a frame into the outbox; throws InvalidMessageError (nothing queued) when it cannot. */
  private queue (id: number, msg: Message): void {
    const bytes = this.outbox.frame(id, msg, this.owner.limits.maxFrameBytes)
    this.owner.counters.bytesSent += bytes
    if (this.traffic !== null) {
      this.traffic.framesSent++
      this.traffic.bytesSent += bytes
    }
  }

  private schedule (): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    this.owner.flushLater(this)
  }

  /** The OKs of this turn as one frame in the outbox (a lone one as a plain OK). */
  private queueOks (): void {
    const ids = this.oks
    if (ids.length === 1) {
      // (the usual open-loop turn: the array is kept, pop leaves its store)
      this.queue(ids[0], OK)
      ids.pop()
      return
    }
    this.oks = []
    this.queue(0, { type: 'OKS', ids })
  }

  /** Writes what this turn queued (OKS included) in one socket write; the owner calls it at the end of the turn (flushLater). */
  flush (): void {
    this.flushScheduled = false
    if (this.oks.length > 0) this.queueOks()
    if (this.outbox.pending === 0 || !this.socket.writable) return
    // (taken first: a frame queued during the write is the next flush's)
    this.socket.write(this.outbox.take())
    this.owner.counters.socketWrites++
    if (!this.paused && this.socket.writableLength > this.owner.limits.maxWriteBufferBytes) {
      // the peer does not read: stop reading its requests until our writes drain
      this.paused = true
      this.socket.pause()
    }
  }

  /** Handshake frames: written at once, not coalesced. */
  private writeNow (frame: Buffer): void {
    this.countWrite(frame)
    this.socket.write(frame)
  }

  private countWrite (frame: Buffer): void {
    this.owner.counters.bytesSent += frame.length
    this.owner.counters.socketWrites++
  }
}

/**
 * A connection's requests sent and not answered, by id: a slot each of a
 * SlotTable (a Map with a set and a delete per request re-allocated its table
 * as it grew and shrank). An id is its slot in the low bits and the slot's use
 * count above them (from 1: no id is 0), so an answer that comes after its
 * call settled and the slot was taken again finds another id there and is a
 * late response, unless the slot was reused 2^32 / slots times meanwhile
 * (4 194 303 with the default 1 024 slots).
 */
export class SentCalls {
  private readonly calls = new SlotTable<Call>()
  private readonly uses: number[] = []
  /** Slots: a power of two of at least max, the ids' low bits. */
  private readonly slots: number
  private readonly usesMax: number

  /** max: at most this many at once (the caller checks size first). */
  constructor (readonly max: number) {
    this.slots = 2 ** Math.ceil(Math.log2(Math.max(2, max)))
    this.usesMax = Math.floor(0xffffffff / this.slots)
    if (this.usesMax < 1) throw new RangeError(`${max} requests outstanding per connection do not fit 32-bit ids`)
  }

  get size (): number {
    return this.calls.size
  }

  /** Takes a slot for call; returns its id. */
  add (call: Call): number {
    const slot = this.calls.add(call)
    if (slot === this.uses.length) this.uses.push(0)
    const use = this.uses[slot] % this.usesMax + 1
    this.uses[slot] = use
    return use * this.slots + slot
  }

  get (id: number): Call | undefined {
    const slot = id % this.slots
    const call = this.calls.at(slot)
    return call !== null && this.uses[slot] * this.slots + slot === id ? call : undefined
  }

  delete (id: number): void {
    if (this.get(id) !== undefined) this.calls.delete(id % this.slots)
  }

  /** Empties the table; returns the calls it held. */
  clear (): Call[] {
    return this.calls.clear()
  }
}
