// The simulated network: every node of a cluster in one process, on virtual
// time, under one seed (docs/design.md#architecture). Endpoints are Transports; messages
// cross the network as frames encoded and decoded with the real codec.
//
// Each message (requests and responses separately) is, in this order:
//   dropped when the path is cut (partition, isolate) or an end crashed,
//   lost with dropProbability,
//   duplicated with duplicateProbability (each copy gets its own delay),
//   delayed uniformly in [delayMsMin, delayMsMax] (so messages may reorder),
//   and, when due, dropped again if the path was cut or an end crashed or
//   restarted meanwhile; else delivered. A duplicate request runs the handler
//   twice (FORWARD excepted: see transmit); a duplicate response is ignored
//   (counted as late).
// Before all that, a frame a hold() picks is parked until the test releases it:
// one message delayed past exactly the moment a scenario needs (a race made to
// happen on purpose rather than by luck); released, it crosses as above.
// Every choice is drawn from the network's seeded Random in a fixed order, and
// every delay is a VirtualClock timer: the same seed and the same workload
// give the same deliveries and outcomes.

import type { Logger } from '../runtime/log.js'
import { silentLogger } from '../runtime/log.js'
import { seededRandom, type Random } from '../runtime/random.js'
import { MAX_FRAME_BYTES_DEFAULT, decodeFrame, encodeFrame } from './codec.js'
import {
  InvalidMessageError,
  PeerOverloadedError,
  PeerStoppedError,
  PeerTimeoutError,
  PeerUnreachableError,
  errorCode,
  errorMessage,
  type PeerError
} from './errors.js'
import { Faults } from './faults.js'
import { isRequestName, schemaOf, type Message, type MessageName, type Request, type Response, type ResponseTo } from './messages.js'
import { Call, checkResponse, emptyStats, type CallHolder, type CallSink, type PeerAddress, type RequestHandler, type Transport, type TransportStats } from './transport.js'
import { VirtualClock } from './virtual-clock.js'

export interface SimNetworkOptions {
  seed: number
  /** Defaults to a new VirtualClock starting at 0. */
  clock?: VirtualClock
  dropProbability?: number
  duplicateProbability?: number
  /** Default 1. */
  delayMsMin?: number
  /** Default 10. */
  delayMsMax?: number
  maxFrameBytes?: number
  /** Messages in flight at once; more are dropped (counted as overflow). Default 1,000,000. */
  inFlightMax?: number
  /** Requests outstanding per endpoint. Default 65,536. */
  outstandingMax?: number
  /** Trace lines kept (the oldest are forgotten; traceCount counts them all). Default 100,000; 0 disables. */
  traceMax?: number
  log?: Logger
}

export interface SimStats {
  sent: number
  delivered: number
  duplicated: number
  lost: number
  cut: number
  vanished: number
  overflow: number
}

export const SIM_PORT = 7000

/** Frames parked by SimNetwork.hold. */
export interface HeldFrames {
  /** Frames parked so far (released ones included). */
  readonly count: number
  /** Stops parking and sends every parked frame on (in the order parked). */
  release (): void
}

interface Hold {
  match: (from: string, to: string, msg: Message) => boolean
  frames: Array<{ from: SimEndpoint, incarnation: number, to: string, frame: Buffer, type: MessageName, id: number }>
}

export class SimNetwork {
  readonly clock: VirtualClock
  /** The network's own seeded Random; give node code one with forkRandom() so its draws do not shift the network's. */
  readonly random: Random
  dropProbability: number
  duplicateProbability: number
  delayMsMin: number
  delayMsMax: number
  readonly maxFrameBytes: number
  readonly outstandingMax: number
  readonly log: Logger
  /** One line per send, drop and delivery: `<ms> <event> <from>><to> <TYPE>#<id>`. */
  readonly trace: string[] = []
  traceCount = 0
  readonly counters: SimStats = { sent: 0, delivered: 0, duplicated: 0, lost: 0, cut: 0, vanished: 0, overflow: 0 }
  /** Messages put on the wire and their bytes, per message type (requests and responses). */
  readonly sentByType = new Map<MessageName, { messages: number, bytes: number }>()
  private readonly seed: number
  private forks = 0
  private readonly endpoints = new Map<string, SimEndpoint>()
  private readonly byAddress = new Map<string, string>()
  private readonly cuts = new Set<string>()
  private readonly holds: Hold[] = []
  private readonly isolated = new Set<string>()
  private inFlight = 0
  private readonly inFlightMax: number
  private readonly traceMax: number

  constructor (opts: SimNetworkOptions) {
    this.seed = opts.seed
    this.clock = opts.clock ?? new VirtualClock()
    this.random = seededRandom(opts.seed)
    this.dropProbability = opts.dropProbability ?? 0
    this.duplicateProbability = opts.duplicateProbability ?? 0
    this.delayMsMin = opts.delayMsMin ?? 1
    this.delayMsMax = opts.delayMsMax ?? 10
    this.maxFrameBytes = opts.maxFrameBytes ?? MAX_FRAME_BYTES_DEFAULT
    this.inFlightMax = opts.inFlightMax ?? 1_000_000
    this.outstandingMax = opts.outstandingMax ?? 65_536
    this.traceMax = opts.traceMax ?? 100_000
    this.log = opts.log ?? silentLogger
  }

  /** A Random derived from the seed, the n-th one asked for: deterministic, independent of the network's draws. */
  forkRandom (): Random {
    this.forks++
    return seededRandom((Math.imul(this.seed ^ 0x5bd1e995, 0x9e3779b1) + this.forks * 0x632be5ab) >>> 0)
  }

  /** The endpoint named name, created on first use (one per name; it survives crash and restart). */
  endpoint (name: string): SimEndpoint {
    let ep = this.endpoints.get(name)
    if (ep === undefined) {
      ep = new SimEndpoint(this, name, { name, host: name, port: SIM_PORT })
      this.endpoints.set(name, ep)
      this.byAddress.set(`${name}:${SIM_PORT}`, name)
    }
    return ep
  }

  address (name: string): PeerAddress {
    return this.endpoint(name).address()
  }

  /** Cuts every path between a node of groupA and a node of groupB, both ways, until heal(). */
  partition (groupA: Iterable<string>, groupB: Iterable<string>): void {
    const b = [...groupB]
    for (const x of groupA) {
      for (const y of b) {
        if (x === y) continue
        this.cuts.add(pairKey(x, y))
      }
    }
  }

  /** Cuts name off from every other endpoint, present and future, until heal(). */
  isolate (name: string): void {
    this.isolated.add(name)
  }

  /** Removes every partition and isolation (crashed endpoints stay down). */
  heal (): void {
    this.cuts.clear()
    this.isolated.clear()
  }

  isCut (a: string, b: string): boolean {
    if (a === b) return false
    return this.isolated.has(a) || this.isolated.has(b) || this.cuts.has(pairKey(a, b))
  }

  /** The endpoint's process dies: its handler is gone, its outstanding requests fail, its messages vanish. */
  crash (name: string): void {
    this.endpoint(name).crash()
  }

  /** The endpoint comes back as a fresh process with handler. */
  async restart (name: string, handler: RequestHandler): Promise<void> {
    await this.endpoint(name).start(handler)
  }

  /** The name registered at host:port, for requests to a seed address. */
  resolve (host: string, port: number): string | null {
    return this.byAddress.get(`${host}:${port}`) ?? null
  }

  /**
   * Parks every frame (request or response) for which match returns true until
   * release(). Parked frames count as in flight (inFlightMax bounds them); one
   * whose sender crashed or restarted meanwhile vanishes when released.
   */
  hold (match: (from: string, to: string, msg: Message) => boolean): HeldFrames {
    const hold: Hold = { match, frames: [] }
    this.holds.push(hold)
    return {
      get count () { return hold.frames.length },
      release: () => {
        const i = this.holds.indexOf(hold)
        if (i < 0) return
        this.holds.splice(i, 1)
        for (const f of hold.frames) {
          this.inFlight--
          if (f.from.incarnation !== f.incarnation || !f.from.running) {
            this.counters.vanished++
            this.record('vanish', `${f.from.name}>${f.to} ${f.type}#${f.id}`)
          } else {
            this.transmit(f.from, f.to, f.frame, f.type, f.id)
          }
        }
      }
    }
  }

  /** Parks the frame if a hold picks it. */
  private park (from: SimEndpoint, to: string, frame: Buffer, type: MessageName, id: number): boolean {
    const { msg } = decodeFrame(frame, this.maxFrameBytes)
    const hold = this.holds.find(h => h.match(from.name, to, msg))
    if (hold === undefined) return false
    const what = `${from.name}>${to} ${type}#${id}`
    if (this.inFlight >= this.inFlightMax) {
      this.counters.overflow++
      this.record('overflow', what)
      return true
    }
    this.inFlight++
    hold.frames.push({ from, incarnation: from.incarnation, to, frame, type, id })
    this.record('hold', what)
    return true
  }

  /** Called by endpoints: puts one encoded frame on the wire. */
  transmit (from: SimEndpoint, to: string, frame: Buffer, type: MessageName, id: number): void {
    if (this.holds.length > 0 && this.park(from, to, frame, type, id)) return
    const what = `${from.name}>${to} ${type}#${id}`
    this.counters.sent++
    const byType = this.sentByType.get(type)
    if (byType === undefined) this.sentByType.set(type, { messages: 1, bytes: frame.length })
    else {
      byType.messages++
      byType.bytes += frame.length
    }
    this.record('send', what)
    const dst = this.endpoints.get(to)
    if (dst === undefined || !dst.running) {
      this.counters.vanished++
      this.record('vanish', what)
      return
    }
    if (this.isCut(from.name, to)) {
      this.counters.cut++
      this.record('cut', what)
      return
    }
    if (this.random.next() < this.dropProbability) {
      this.counters.lost++
      this.record('lost', what)
      return
    }
    // FORWARD (a client's command run by another node) is never duplicated: it is
    // not idempotent, and neither TCP nor our transport ever sends a frame twice;
    // the requests our code does resend (handoff, anti-entropy) are idempotent.
    const duplicate = this.random.next() < this.duplicateProbability
    const copies = duplicate && type !== 'FORWARD' ? 2 : 1
    if (copies === 2) {
      this.counters.duplicated++
      this.record('dup', what)
    }
    const incarnation = from.incarnation
    for (let i = 0; i < copies; i++) {
      const span = Math.max(0, this.delayMsMax - this.delayMsMin)
      const delayMs = this.delayMsMin + this.random.int(span + 1)
      if (this.inFlight >= this.inFlightMax) {
        this.counters.overflow++
        this.record('overflow', what)
        continue
      }
      this.inFlight++
      this.clock.after(delayMs, () => {
        this.inFlight--
        this.deliver(from, incarnation, to, frame, what)
      })
    }
  }

  private deliver (from: SimEndpoint, incarnation: number, to: string, frame: Buffer, what: string): void {
    const dst = this.endpoints.get(to)
    if (from.incarnation !== incarnation || !from.running || dst === undefined || !dst.running) {
      this.counters.vanished++
      this.record('vanish', what)
      return
    }
    if (this.isCut(from.name, to)) {
      this.counters.cut++
      this.record('cut', what)
      return
    }
    this.counters.delivered++
    this.record('deliver', what)
    const { id, msg } = decodeFrame(frame, this.maxFrameBytes)
    dst.receive(from.name, id, msg, frame.length)
  }

  private record (event: string, what: string): void {
    this.traceCount++
    if (this.traceMax === 0) return
    if (this.trace.length >= this.traceMax) this.trace.shift()
    this.trace.push(`${this.clock.now()} ${event} ${what}`)
  }
}

export class SimEndpoint implements Transport, CallHolder {
  readonly faults = new Faults()
  running = false
  /** Bumped by every start: messages of an earlier incarnation vanish. */
  incarnation = 0
  private handler: RequestHandler | null = null
  private nextId = 1
  private readonly pending = new Map<number, Call>()
  private readonly counters = emptyStats()
  private readonly peersSeen = new Set<string>()

  constructor (private readonly network: SimNetwork, readonly name: string, private readonly addr: PeerAddress) {}

  async start (handler: RequestHandler): Promise<void> {
    if (this.running) throw new Error(`endpoint ${this.name} already started`)
    this.handler = handler
    this.running = true
    this.incarnation++
  }

  address (): PeerAddress {
    return { ...this.addr }
  }

  request<R extends Request> (to: PeerAddress, req: R, timeoutMs: number): Promise<ResponseTo<R> & { from: string }> {
    const call = new Call(req, timeoutMs)
    this.begin(to, call)
    return call.promise as Promise<ResponseTo<R> & { from: string }>
  }

  send (to: PeerAddress, req: Request, timeoutMs: number, sink: CallSink, ctx: unknown, tag: number): void {
    const call = new Call(req, timeoutMs, sink, ctx, tag)
    call.to = to
    this.begin(to, call)
  }

  async stop (): Promise<void> {
    this.shutDown(new PeerStoppedError(`endpoint ${this.name} stopped`))
  }

  /** See SimNetwork.crash. */
  crash (): void {
    this.shutDown(new PeerStoppedError(`endpoint ${this.name} crashed`))
  }

  stats (): TransportStats {
    return { ...this.counters, connections: this.peersSeen.size, connectionsOpen: this.peersSeen.size }
  }

  /** Called by the network with a decoded frame. */
  receive (from: string, id: number, msg: Message, bytes: number): void {
    this.counters.bytesReceived += bytes
    if (this.faults.dropsReceive(from)) {
      this.counters.droppedByFaults++
      return
    }
    this.peersSeen.add(from)
    const role = schemaOf(msg.type).role
    if (role === 'request') this.onRequest(from, id, msg as Request)
    else if (role === 'response') this.onResponse(from, id, msg)
  }

  /** A call sent from here settled: out of the table of requests outstanding. */
  release (call: Call): void {
    this.pending.delete(call.id)
  }

  private begin (to: PeerAddress, call: Call): void {
    const { req, timeoutMs } = call
    const { clock } = this.network
    if (!this.running) return call.fail(new PeerStoppedError(`endpoint ${this.name} is not running`))
    if (!isRequestName((req as { type?: unknown }).type as string)) return call.fail(new InvalidMessageError(`not a request: ${String(req.type)}`))
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return call.fail(new InvalidMessageError(`timeoutMs must be positive, got ${timeoutMs}`))
    if (this.pending.size >= this.network.outstandingMax) return call.fail(new PeerOverloadedError(`${this.pending.size} requests outstanding`))
    const toName = to.name ?? this.network.resolve(to.host, to.port)
    if (toName === null) return call.fail(new PeerUnreachableError(`nothing listens at ${to.host}:${to.port}`))
    const id = this.allocateId()
    let frame: Buffer
    try {
      frame = encodeFrame(id, req, this.network.maxFrameBytes)
    } catch (err) {
      return call.fail(err as PeerError)
    }
    this.pending.set(id, call)
    call.id = id
    call.holder = this
    call.addTimer(clock.after(timeoutMs, () => {
      if (call.settled) return
      this.counters.timeouts++
      call.fail(new PeerTimeoutError(`${req.type} to ${toName} timed out after ${timeoutMs} ms`))
    }))
    const send = (): void => {
      if (call.settled || !this.running) return
      this.counters.requestsSent++
      if (this.faults.dropsSend(toName, req)) {
        this.counters.droppedByFaults++
        return
      }
      this.counters.bytesSent += frame.length
      this.network.transmit(this, toName, frame, req.type, id)
    }
    if (this.faults.delayMs > 0) call.addTimer(clock.after(this.faults.delayMs, send))
    else send()
  }

  private onRequest (from: string, id: number, req: Request): void {
    const handler = this.handler
    if (handler === null) return
    this.counters.requestsReceived++
    const incarnation = this.incarnation
    let handled: Promise<Response | undefined>
    try {
      handled = Promise.resolve(this.faults.answer(from, req, handler))
    } catch (err) {
      handled = Promise.reject(err)
    }
    handled
      .then(res => checkResponse(req, res), (err: unknown): Response => ({ type: 'ERROR', code: errorCode(err), message: errorMessage(err) }))
      .then(res => {
        if (!this.running || this.incarnation !== incarnation) return // the process that ran the handler is gone
        if (this.faults.dropsReceive(from)) {
          this.counters.droppedByFaults++
          return
        }
        let frame: Buffer
        try {
          frame = encodeFrame(id, res, this.network.maxFrameBytes)
        } catch (err) {
          this.network.log.error(`endpoint ${this.name} cannot send ${res.type}: ${errorMessage(err)}`)
          res = { type: 'ERROR', code: errorCode(err), message: errorMessage(err) }
          frame = encodeFrame(id, res)
        }
        this.counters.bytesSent += frame.length
        this.network.transmit(this, from, frame, res.type, id)
      })
  }

  private onResponse (from: string, id: number, msg: Message): void {
    const call = this.pending.get(id)
    if (call === undefined) {
      this.counters.lateResponses++
      return
    }
    this.counters.responsesReceived++
    if (msg.type === 'ERROR') this.counters.errorsReceived++
    call.deliver(msg, from)
  }

  private allocateId (): number {
    // bounded: at most outstandingMax ids are taken
    for (;;) {
      const id = this.nextId
      this.nextId = id >= 0xffffffff ? 1 : id + 1
      if (!this.pending.has(id)) return id
    }
  }

  private shutDown (err: PeerError): void {
    this.running = false
    this.handler = null
    const calls = [...this.pending.values()]
    for (const call of calls) call.fail(err)
  }
}

function pairKey (a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`
}
