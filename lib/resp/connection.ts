// One client connection: bytes in → RequestParser → dispatcher → replies out,
// in request order, with one socket write per read event.
//
//   data event ─► parse every complete request ─► exec each
//                   sync reply, nothing queued  ─► straight into the writer
//                   otherwise                   ─► a slot in the FIFO, filled when it settles
//              ─► one write of everything ready (to the socket's handle: DirectWriter)
//   slots settle ─► move the ready prefix of the FIFO into the writer ─► one write
//   after this turn's other promise reactions (slots of every connection given one promise,
//   a group commit's OK, settle in one reaction; one microtask then writes every connection
//   a reaction of this turn left replies to)
//
// Order: commands run as soon as they arrive, concurrently, except that one
// sharing a key with a command still in flight waits for it, and a barrier
// (SCAN, FLUSHALL, HELLO, AUTH...) waits for everything before it and holds
// back everything after it. So a pipeline behaves as if run one by one, as
// Redis runs it, while writes to distinct keys share one group commit.
// Commands the host says order themselves (a plain GET or SET on a single
// node: the engine applies them in arrival order) are only counted, not
// tracked per key: nothing needs to wait for them but a barrier.
//
// Bounds: at most MAX_PENDING unanswered requests, MAX_PENDING_BYTES of their
// arguments (as Redis bounds a client's query buffer) and MAX_OUTPUT_BYTES of
// unsent output per connection; past any of them, reading pauses until the
// node catches up (half of each), and TCP backpressure reaches the client: a
// client pipelining far more than the node can commit (redis-cli --pipe) does
// not make it swell.
import { Buffer } from 'node:buffer'
import type { Socket } from 'node:net'
// Imported, not the global: globalThis.performance is a getter, ~170 more instructions a clock read.
import { performance } from 'node:perf_hooks'
import { RequestParser, protocolErrorReply, type RequestHandler } from './parser.js'
import { ReplyWriter, type Proto, type Reply } from './reply.js'
import type { CallStats, Session, Transaction } from './session.js'
import { errorReply } from './commands/index.js'
import { recordCallAt } from './commands/stats.js'
import { Fifo } from '../util/fifo.js'
import type { ReceiveBuffer } from '../util/receive-buffer.js'
import { directWriter, type DirectWriter } from '../util/adopt-socket.js'

export interface ConnectionHost {
  exec (session: Session, args: Buffer[]): Reply | Promise<Reply>
  keysOf (args: Buffer[]): string[] | 'all' | null
  /** What the command does to the connection however it runs: starts a transaction (MULTI), ends one (EXEC, DISCARD, RESET), closes it (QUIT). */
  connectionEffect (args: Buffer[]): 'begin' | 'end' | 'quit' | null
  /** Does the command take effect in arrival order by itself (no per-key waiting needed)? */
  selfOrdered (args: Buffer[]): boolean
  /** Writes the command's reply to out itself when it can answer at once (a cached GET), setting session.callStats as exec does; false: nothing done. */
  writeFast (session: Session, args: Buffer[], out: ReplyWriter): boolean
  /** A plain SET (3 arguments) run as exec runs it, setting session.callStats as exec does; null, nothing done: not the plain case here (exec it). */
  execSet (session: Session, key: Buffer, value: Buffer): Reply | Promise<Reply> | null
  /** writeFast of a GET whose key is key[from, to) (the parser's chunk: no view of it made). */
  writeGet (session: Session, key: Buffer, from: number, to: number, out: ReplyWriter): boolean
  now (): number
  readonly maxBulkLen: number
  readonly requirePassword: boolean
  commandProcessed (): void
  closed (conn: Connection): void
  logError (msg: string): void
  /** Latency tracking, or null (off: nothing is timed). */
  readonly tracker: CommandTracker | null
}

/**
 * Told of every command's reply, with when the bytes that held it were read
 * and when the reply was ready (performance.now() ms). Replies ready within
 * the read event share one clock read at its end: they go out in one write then.
 */
export interface CommandTracker {
  done (args: Buffer[], reply: Reply, readAtMs: number, readyAtMs: number): void
}

/** A place in the reply FIFO: a reply not sent yet, or one still being computed (and what settling it needs). */
class Slot {
  reply: Reply | null = null
  /** INFO commandstats counters the command is recorded in, once answered (null: none, or recorded already). */
  stats: CallStats | null = null
  /** The command's argument bytes, counted in the connection's pendingBytes until it is answered. */
  bytes = 0

  // Mutable: a connection reuses the slots it has answered (Connection.newSlot).
  constructor (
    /** The protocol the reply is encoded in: the one in force when its command ran. */
    public proto: Proto,
    /** The command, for latency tracking only (null when not tracking: the parser's views are not kept until the reply), null for a reply queued ready. */
    public args: Buffer[] | null,
    /** When the bytes holding the command were read (performance.now() ms). */
    public readAtMs: number,
    /** What later commands on its keys wait for; null when untracked (self-ordered) or ready. */
    public flight: InFlight | null,
    /** Already-encoded bytes (a protocol error). */
    readonly raw: Buffer | null = null
  ) {}
}

/** Answered slots a connection keeps for its next commands (one pipeline's worth and more: a slot per request otherwise). */
const SPARE_SLOTS = 64

/**
 * 1 024 unanswered requests (4 096 until session 11): a deep pipeline's
 * requests stay alive until their group commit, and 4 096 of them outgrew V8's
 * young generation (2 × 4 MB, lib/cli/launch.ts), so scavenges copied and
 * promoted them. A 1 000 000-SET `redis-cli --pipe`: CPU a SET −18 to −21 %
 * (V8's GC threads 0.9–1.5 µs a SET against 2.4–3.2), faster in 7 of 7 paired
 * rounds, commits of ~770 SETs instead of ~2 200 (docs/performance.md,
 * "Session 11, lead: the read window").
 */
const MAX_PENDING = 1024
const MAX_PENDING_BYTES = 8 * 1024 * 1024
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024

/**
 * Slots of any connections awaiting one promise: consecutive commands given the
 * same promise (the plain SETs of one group commit, across connections) are
 * settled by one reaction. Bounded by the slots in flight (MAX_PENDING a
 * connection).
 */
class AwaitGroup {
  // Made with their first entry: an empty array's first push allocates room for 17.
  readonly conns: Connection[]
  readonly slots: Slot[]
  constructor (readonly promise: Promise<Reply>, conn: Connection, slot: Slot) {
    this.conns = [conn]
    this.slots = [slot]
  }
}

/** The group a command given the same promise joins; null once its reaction has run (a later one gets a group of its own). */
let lastGroup: AwaitGroup | null = null

function settleGroup (group: AwaitGroup, r: Reply): void {
  if (lastGroup === group) lastGroup = null
  const { conns, slots } = group
  // One clock read for every reply of the group (INFO commandstats, latency tracking).
  const atMs = performance.now()
  for (let i = 0; i < slots.length; i++) {
    conns[i].settle(slots[i], r, atMs)
    conns[i].flushSoon()
  }
}

/**
 * Connections with replies settled in this turn's promise reactions, written
 * by one microtask after them, not one per connection. The microtask is a
 * reaction to a settled promise, not queueMicrotask (Node's makes an
 * AsyncResource and a bound function a call: 60 against 22 ns, session 8). A
 * connection is listed once (its flushQueued): bounded by the connections.
 * Kept with a count, not emptied with `length = 0` (which drops the backing
 * store: the next push allocates room for 17).
 */
const toFlush: Array<Connection | null> = []
let toFlushCount = 0
let flushScheduled = false
const SETTLED = Promise.resolve()

function flushAll (): void {
  flushScheduled = false
  // (the count re-read: a connection listed while flushing is flushed too)
  for (let i = 0; i < toFlushCount; i++) {
    const conn = toFlush[i] as Connection
    toFlush[i] = null
    conn.flushQueuedReplies()
  }
  toFlushCount = 0
}

/** A command in flight, which later commands may have to wait for (a promise only if one does). */
class InFlight {
  private waiters: Array<() => void> | null = null
  settled = false

  constructor (readonly keys: string[] | 'all' | null) {}

  wait (): Promise<void> {
    if (this.settled) return Promise.resolve()
    return new Promise(resolve => (this.waiters ??= []).push(resolve))
  }

  settle (): void {
    this.settled = true
    if (this.waiters !== null) for (const w of this.waiters) w()
    this.waiters = null
  }
}

/** What a connection's tails and inflight always hold (never waited for: it is settled, and no key names it). */
const HELD = new InFlight(null)
HELD.settled = true

export class Connection implements Session, RequestHandler {
  proto: Proto = 2
  authenticated: boolean
  name = ''
  libName = ''
  libVer = ''
  db = 0
  readonly addr: string
  readonly laddr: string
  readonly createdAtMs: number
  lastCommand = ''
  closeAfterReply = false
  readonly forwarded = false
  tx: Transaction | null = null
  callStats: CallStats | null = null

  private readonly parser: RequestParser
  private readonly writer = new ReplyWriter()
  /** Replies written to the socket's handle, not through the stream path (lib/util/adopt-socket.ts); null: socket.write. */
  private readonly out: DirectWriter | null
  /** The unanswered requests in order (a ring: drain removes from the front one by one). */
  private readonly queue = new Fifo<Slot>()
  private flushQueued = false
  /** A MULTI arrived and no EXEC, DISCARD or RESET since (what the session will be in once they run). */
  private queueing = false
  private inData = false
  /** The host declined the GET the parser offered (onGet): the onCommand that follows does not ask again. */
  private getOffered = false
  private closing = false
  private paused = false
  /** The argument bytes of the commands not answered yet (what reading ahead holds in memory). */
  private pendingBytes = 0
  private ended = false
  /**
   * Per key: the last command in flight that touches it. Both collections
   * always hold HELD (so `size - 1` is what is in flight): V8 rebuilds a Map's
   * or Set's table smaller whenever a delete leaves it empty, and a -P1
   * client's every tracked command would (a clustered SET or GET: two
   * tables, ~350 B a clustered SET in a heap profile).
   */
  private readonly tails = new Map<string | InFlight, InFlight>([[HELD, HELD]])
  /** Every command in flight (and HELD), and the last barrier among them. */
  private readonly inflight = new Set<InFlight>([HELD])
  private barrier: InFlight | null = null
  /** Self-ordered commands in flight, and what a barrier waits on until they are all answered. */
  private selfOrderedInFlight = 0
  private selfOrderedDrained: InFlight | null = null
  private readonly tracker: CommandTracker | null
  /** When the chunk being parsed (or the last one) was read: every command of a read event starts then (one clock read per chunk). */
  private readAtMs = performance.now()
  /** Commands the read event answered at once, for latency tracking (only kept while tracking). */
  private readonly answeredArgs: Buffer[][] = []
  private readonly answered: Reply[] = []
  /**
   * INFO commandstats counters of the commands the read event answered at
   * once, the first timedCount of them: their time is added at its end. A
   * count, not a push and a truncation per read event: setting an array's
   * length is a call into V8's runtime. Holds no more than one chunk's
   * commands, and only the commands' shared counters.
   */
  private readonly timed: CallStats[] = []
  private timedCount = 0
  /** One clock read shared by the replies that settle before the next flush (a group commit settles many at once); -1: none yet. */
  private settledAtMs = -1
  /**
   * Slots answered and written, for reuse (at most SPARE_SLOTS). Made holding
   * one: an empty `[]` holds small integers until its first push, and newSlot,
   * drain and settle, optimised for earlier connections' arrays of slots, were
   * deoptimised by each new connection's ('wrong map', then 'not a Smi' at
   * its first push: `node --trace-deopt`).
   */
  private readonly spare: Slot[] = [new Slot(2, null, 0, null)]

  /**
   * streamReads: the socket reads through Node's stream path ('data' events;
   * it comes paused from the listener, so it is resumed here); false: the
   * listener delivers its reads to received() (an adopted socket).
   */
  constructor (readonly id: number, private readonly socket: Socket, private readonly host: ConnectionHost, streamReads = true) {
    this.authenticated = !host.requirePassword
    this.tracker = host.tracker
    this.addr = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`
    this.laddr = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`
    this.createdAtMs = host.now()
    socket.setNoDelay(true)
    this.out = directWriter(socket, () => this.maybeResume())
    // The connection is the parser's handler: its methods, the same for every connection (RequestHandler).
    this.parser = new RequestParser(this, { maxBulkLen: host.maxBulkLen })
    if (streamReads) {
      socket.on('data', (chunk: Buffer) => this.onData(chunk))
      socket.resume()
    }
    socket.on('drain', () => this.maybeResume())
    socket.on('error', () => {})
    socket.on('close', () => {
      this.ended = true
      host.closed(this)
    })
  }

  /**
   * nread bytes read into the server's receive buffer (not the stream path's
   * ArrayBuffer, 'data' event and read-ahead tick). The parser hands out views
   * of what it is fed (a SET's value, kept until its commit), so it is fed the
   * receive buffer's bytes as transient: it copies them when it first keeps
   * any, and a read of GETs answered at once is not copied at all.
   */
  received (nread: number, from: ReceiveBuffer): void {
    this.onData(from.view(nread), true)
  }

  private onData (chunk: Buffer, transient = false): void {
    if (this.closing) return
    this.inData = true
    this.readAtMs = performance.now() // one clock read per chunk, not per command
    try {
      this.parser.feed(chunk, transient)
    } finally {
      this.inData = false
    }
    if (this.answered.length > 0 || this.timedCount > 0) this.reportAnswered()
    this.flush()
  }

  /** The parser's (RequestHandler): has the client authenticated? */
  isAuthenticated (): boolean {
    return this.authenticated
  }

  /** The parser's (RequestHandler): a request. */
  onCommand (args: Buffer[]): void {
    if (this.closing) return
    this.host.commandProcessed()
    // Between MULTI and EXEC as they arrived, commands are queued, and a queue
    // does not commute: each waits for everything before it, as a barrier.
    // Nothing unanswered before it, no MULTI, no tracking: the host may write the reply itself.
    const offered = this.getOffered
    this.getOffered = false
    if (!offered && this.queue.length === 0 && !this.queueing && this.tracker === null && this.host.writeFast(this, args, this.writer)) return this.answeredFast()
    const serial = this.queueing
    const effect = this.host.connectionEffect(args)
    if (effect === 'begin') this.queueing = true
    else if (effect === 'end' || effect === 'quit') this.queueing = false
    const ordered = !serial && this.host.selfOrdered(args)
    // Keys are needed only to find what this command must wait for.
    const keys = (ordered ? this.tails.size > 1 || this.barrier !== null : this.inflight.size > 1 || this.selfOrderedInFlight > 0) ? this.keysOf(args, serial) : undefined
    const waits = keys === undefined ? null : this.waitsFor(keys)
    if (waits === null) {
      let reply: Reply | Promise<Reply>
      let stats: CallStats | null = null
      try {
        reply = this.host.exec(this, args)
        stats = this.callStats
      } catch (e) {
        reply = errorReply(e, this.host.logError)
      }
      // A self-ordered command is only counted; any other is tracked (what follows it on its keys waits for it).
      if (reply instanceof Promise) this.awaitIn(this.enqueue(args, argBytes(args), ordered ? undefined : keys === undefined ? this.keysOf(args, serial) : keys), reply, stats)
      else this.answerNow(args, reply, stats)
    } else {
      // One that has to wait is tracked like any other (what follows it on its key must wait for it too).
      const slot = this.enqueue(args, argBytes(args), keys === undefined ? this.keysOf(args, serial) : keys)
      Promise.all(waits.map(w => w.wait())).then(() => this.runWaited(slot, args))
    }
    // QUIT closes once answered, whenever it runs: nothing after it is read.
    if (this.closeAfterReply || effect === 'quit') this.closing = true
  }

  /** The parser's offer (RequestHandler) of a GET of chunk[from, to), before its arguments are made: onCommand's writeFast without them. */
  onGet (chunk: Buffer, from: number, to: number): boolean {
    if (this.closing || this.queue.length !== 0 || this.queueing || this.tracker !== null) return false
    if (!this.host.writeGet(this, chunk, from, to, this.writer)) {
      this.getOffered = true // (onCommand, next: not asked again)
      return false
    }
    this.host.commandProcessed()
    this.answeredFast()
    return true
  }

  /**
   * The parser's offer (RequestHandler) of a plain SET, before its argument
   * array is made: onCommand's path for it without the array, the command's
   * lookup and the general dispatch. Taken only where onCommand would run it
   * at once as a self-ordered command (nothing it must wait for, no MULTI, no
   * latency tracking) and the host runs it as a plain SET (execSet); false,
   * nothing done: onCommand follows.
   */
  onSet (key: Buffer, value: Buffer): boolean {
    if (this.closing || this.queueing || this.tracker !== null || this.tails.size > 1 || this.barrier !== null) return false
    const reply = this.host.execSet(this, key, value)
    if (reply === null) return false
    this.host.commandProcessed()
    const stats = this.callStats
    if (reply instanceof Promise) this.awaitIn(this.enqueue(null, 3 + key.length + value.length, undefined), reply, stats)
    else this.answerNow(null, reply, stats)
    if (this.closeAfterReply) this.closing = true
    return true
  }

  /** A command's reply to come: its slot (enqueued) settled with it. */
  private awaitIn (slot: Slot, reply: Promise<Reply>, stats: CallStats | null): void {
    slot.proto = this.proto // HELLO changes it: the one in force when the command ran
    slot.stats = stats
    this.await(reply, slot)
  }

  /** A command's reply, ready now: written, or queued behind the replies before it. args: null only when not tracking. */
  private answerNow (args: Buffer[] | null, reply: Reply, stats: CallStats | null): void {
    // INFO commandstats: counted now, timed at the end of the read event.
    if (stats !== null) {
      stats.calls++
      if (reply.type === 'error') stats.failed++
      this.timed[this.timedCount++] = stats
    }
    if (this.tracker !== null && args !== null) {
      this.answeredArgs.push(args)
      this.answered.push(reply)
    }
    if (this.queue.length === 0) this.write(reply, this.proto)
    else {
      const slot = new Slot(this.proto, null, 0, null)
      slot.reply = reply
      this.queue.push(slot)
    }
  }

  /** A command the host answered into the writer (writeFast): counted now, timed at the end of the read event. */
  private answeredFast (): void {
    const stats = this.callStats
    if (stats !== null) {
      stats.calls++
      this.timed[this.timedCount++] = stats
    }
    if (this.closeAfterReply) this.closing = true
  }

  /**
   * Settles the slot with the reply when it comes. Consecutive commands given
   * the same promise, on this connection or any other (plain SETs of one
   * group commit), share one reaction (AwaitGroup).
   */
  private await (reply: Promise<Reply>, slot: Slot): void {
    const group = lastGroup
    if (group !== null && group.promise === reply) {
      group.conns.push(this)
      group.slots.push(slot)
      return
    }
    const g = lastGroup = new AwaitGroup(reply, this, slot)
    const logError = this.host.logError
    reply.then((r) => settleGroup(g, r), (e) => settleGroup(g, errorReply(e, logError)))
  }

  private keysOf (args: Buffer[], serial: boolean): string[] | 'all' | null {
    return serial ? 'all' : this.host.keysOf(args)
  }

  /** A slot at the end of the FIFO for a reply to come, bytes its arguments' size; keys undefined: self-ordered, only counted. args: null only when not tracking. */
  private enqueue (args: Buffer[] | null, bytes: number, keys: string[] | 'all' | null | undefined): Slot {
    const flight = keys === undefined ? null : this.track(keys)
    if (keys === undefined) this.selfOrderedInFlight++
    const slot = this.newSlot(args, flight)
    slot.bytes += bytes
    this.pendingBytes += slot.bytes
    this.queue.push(slot)
    if (this.queue.length >= MAX_PENDING || this.pendingBytes > MAX_PENDING_BYTES) this.pause()
    return slot
  }

  /** A slot for a command to be answered: a spare one if there is one. */
  private newSlot (command: Buffer[] | null, flight: InFlight | null): Slot {
    const args = this.tracker === null ? null : command
    const slot = this.spare.pop()
    if (slot === undefined) return new Slot(this.proto, args, this.readAtMs, flight)
    slot.proto = this.proto
    slot.args = args
    slot.readAtMs = this.readAtMs
    slot.flight = flight
    return slot
  }

  /** A command that waited for others runs now. */
  private runWaited (slot: Slot, args: Buffer[]): void {
    let reply: Reply | Promise<Reply>
    try {
      reply = this.host.exec(this, args)
      slot.stats = this.callStats
    } catch (e) {
      reply = errorReply(e, this.host.logError)
    }
    slot.proto = this.proto
    if (reply instanceof Promise) this.await(reply, slot)
    else {
      this.settle(slot, reply, -1)
      this.flushSoon()
    }
  }

  /**
   * A reply is ready (at atMs, or -1: read the clock if needed): recorded,
   * its keys released, and the ready prefix of the FIFO moved to the writer.
   * The caller then writes it: flushSoon.
   */
  settle (slot: Slot, r: Reply, atMs: number): void {
    if (slot.stats !== null || this.tracker !== null) {
      if (atMs < 0) {
        if (this.settledAtMs < 0) this.settledAtMs = performance.now()
        atMs = this.settledAtMs
      }
      recordCallAt(slot.stats, r, slot.readAtMs, atMs)
      this.tracker?.done(slot.args as Buffer[], r, slot.readAtMs, atMs)
    }
    slot.reply = r
    this.pendingBytes -= slot.bytes
    if (slot.flight !== null) this.untrack(slot.flight)
    else if (--this.selfOrderedInFlight === 0 && this.selfOrderedDrained !== null) {
      this.selfOrderedDrained.settle()
      this.selfOrderedDrained = null
    }
    this.drain()
  }

  /** The replies of this read event that were ready at once: one clock read for all. */
  private reportAnswered (): void {
    const readyAtMs = performance.now()
    const tracker = this.tracker
    if (tracker !== null) {
      for (let i = 0; i < this.answered.length; i++) tracker.done(this.answeredArgs[i], this.answered[i], this.readAtMs, readyAtMs)
      this.answeredArgs.length = 0
      this.answered.length = 0
    }
    const usec = Math.round((readyAtMs - this.readAtMs) * 1000)
    for (let i = 0; i < this.timedCount; i++) this.timed[i].usec += usec
    this.timedCount = 0
  }

  /** What a command must wait for, or null when it can run now. */
  private waitsFor (keys: string[] | 'all' | null): InFlight[] | null {
    let waits: InFlight[] | null = this.barrier === null ? null : [this.barrier]
    if (keys === 'all') {
      waits = []
      for (const f of this.inflight) if (f !== HELD) waits.push(f)
      if (this.selfOrderedInFlight > 0) waits.push(this.selfOrderedDrained ??= new InFlight(null))
    } else if (keys !== null) {
      for (const k of keys) {
        const tail = this.tails.get(k)
        if (tail !== undefined) (waits ??= []).push(tail)
      }
    }
    return waits
  }

  private track (keys: string[] | 'all' | null): InFlight {
    const flight = new InFlight(keys)
    this.inflight.add(flight)
    if (keys === 'all') this.barrier = flight
    else if (keys !== null) for (const k of keys) this.tails.set(k, flight)
    return flight
  }

  private untrack (flight: InFlight): void {
    flight.settle()
    this.inflight.delete(flight)
    if (this.barrier === flight) this.barrier = null
    const keys = flight.keys
    if (keys !== 'all' && keys !== null) for (const k of keys) if (this.tails.get(k) === flight) this.tails.delete(k)
  }

  /** The parser's (RequestHandler): a protocol error. */
  onError (message: string): void {
    // The message is latin1 (the offending byte goes out as the byte itself, as Redis sends it).
    const bytes = protocolErrorReply(message)
    if (this.queue.length === 0) this.writer.raw(bytes)
    else this.queue.push(new Slot(this.proto, null, 0, null, bytes))
    this.closing = true
  }

  private write (reply: Reply, proto: Proto): void {
    try {
      this.writer.write(reply, proto)
    } catch (e) {
      this.writer.write(errorReply(e, this.host.logError), proto)
    }
  }

  /** Moves the ready prefix of the FIFO into the writer. */
  private drain (): void {
    for (let head = this.queue.first(); head !== undefined && (head.reply !== null || head.raw !== null); head = this.queue.first()) {
      const slot = this.queue.shift() as Slot
      if (slot.raw !== null) this.writer.raw(slot.raw)
      else {
        this.write(slot.reply as Reply, slot.proto)
        // Nothing holds an answered slot any more (its settle has run, its group's loop is past it): reuse it.
        if (this.spare.length < SPARE_SLOTS) {
          slot.reply = null
          slot.stats = null
          slot.bytes = 0
          slot.args = null
          slot.flight = null
          this.spare.push(slot)
        }
      }
    }
  }

  /** After a settle: writes what is ready after the other promise reactions of this turn (a whole group commit resolves at once), not the next turn. */
  flushSoon (): void {
    if (this.inData || this.flushQueued) return
    this.flushQueued = true
    toFlush[toFlushCount++] = this
    if (flushScheduled) return
    flushScheduled = true
    void SETTLED.then(flushAll)
  }

  /** flushAll's call: the flush flushSoon queued. */
  flushQueuedReplies (): void {
    this.flushQueued = false
    this.settledAtMs = -1
    this.flush()
  }

  private flush (): void {
    if (this.ended) return
    const out = this.writer.take()
    if (out !== null) {
      if (this.out !== null) this.out.write(out)
      else this.socket.write(out)
    }
    if (this.closing && this.queue.length === 0) {
      // Closed for real once the last reply is written, as Redis's freeClient
      // closes the descriptor: a client that keeps writing is cut off (RST),
      // instead of a half-closed socket that reads on forever.
      this.ended = true
      this.socket.end(() => this.socket.destroy())
      return
    }
    this.maybeResume()
    if (this.outputQueued() > MAX_OUTPUT_BYTES) this.pause()
  }

  /** Replies not handed to the kernel yet (bytes). */
  private outputQueued (): number {
    return this.out !== null ? this.out.queued : this.socket.writableLength
  }

  private pause (): void {
    if (this.paused) return
    this.paused = true
    this.socket.pause()
  }

  private maybeResume (): void {
    if (!this.paused || this.queue.length > MAX_PENDING / 2 || this.pendingBytes > MAX_PENDING_BYTES / 2 || this.outputQueued() > MAX_OUTPUT_BYTES / 2) return
    this.paused = false
    this.socket.resume()
  }

  /**
   * When the last bytes were read, on the host's clock (CLIENT LIST's idle
   * time): worked out when asked from the read event's own clock read, not
   * a second clock read per read event.
   */
  get lastCommandAtMs (): number {
    return this.host.now() - (performance.now() - this.readAtMs)
  }

  /** CONFIG SET proto-max-bulk-len: from the next bulk header on. */
  setMaxBulkLen (n: number): void {
    this.parser.maxBulkLen = n
  }

  /** Server shutdown: answer what is in flight, then close. */
  shutdown (): void {
    this.closing = true
    if (this.queue.length === 0) this.flush()
  }

  destroy (): void {
    this.ended = true
    this.socket.destroy()
  }
}

/** The bytes of a command's arguments. */
function argBytes (args: Buffer[]): number {
  let n = 0
  for (let i = 0; i < args.length; i++) n += args[i].length
  return n
}
