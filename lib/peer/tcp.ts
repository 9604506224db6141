// The TCP transport: one persistent, multiplexed, authenticated connection per
// peer pair (docs/design.md#peer-protocol), carrying requests both ways.
//
// - A request to a peer with no connection dials one; requests wait (bounded)
//   for its handshake. A request to a name now at a new host:port drops the
//   connections dialed to the old address and dials the new one.
// - Simultaneous dial: when a second connection with the same peer completes
//   its handshake, both sides keep the one dialed by the node whose name sorts
//   first (JavaScript string order; both sides know both names and who dialed,
//   so they agree without talking). Two connections dialed by the same node
//   (a restart, a seed dial racing a named one): the newer is kept. The other
//   is retired, not cut: each side sends GOODBYE on it ("no more requests from
//   me here"), moves requests it had only queued there to the kept connection,
//   still answers and awaits what is in flight, and closes it once it has sent
//   and received GOODBYE and nothing is in flight either way. TCP's ordering
//   makes that safe: no request can follow a GOODBYE. So no request already
//   sent fails and none runs twice (retrying on the kept connection could run
//   a non-idempotent FORWARD twice). drainTimeoutMs bounds a stuck drain.
// - A failed dial or handshake starts an exponential backoff per address
//   (reconnectBackoffMsMin doubling to reconnectBackoffMsMax, jittered through
//   the Random); while it lasts, requests to that address fail fast with
//   DYNAKV_PEER_UNREACHABLE, or with the refusal's own code when the peer
//   refused the handshake. A completed handshake resets it.
// - Timeouts run on the TimeSource; outstanding requests per connection and bytes
//   waiting to be written are bounded (DYNAKV_PEER_OVERLOADED); frames written
//   in one tick are coalesced into one socket write; TCP_NODELAY is set.

import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net'
import { realClock, type TimeSource, type Timer } from '../runtime/clock.js'
import { silentLogger, type Logger } from '../runtime/log.js'
import { realRandom, type Random } from '../runtime/random.js'
import { MAX_FRAME_BYTES_DEFAULT } from './codec.js'
import { Connection, RefusalLog, type ConnectionOwner, type ConnectionState, type PeerLimits } from './connection.js'
import {
  HandshakeError,
  InvalidMessageError,
  PeerError,
  PeerOverloadedError,
  PeerStoppedError,
  PeerTimeoutError,
  PeerConnectionLostError,
  PeerUnreachableError,
  errorMessage,
  isHandshakeRefusal
} from './errors.js'
import { Faults } from './faults.js'
import { SlotTable } from '../util/slots.js'
import { adoptAccepted } from '../util/adopt-socket.js'
import { ReceiveBuffer } from '../util/receive-buffer.js'
import { NONCE_BYTES, type HandshakeOptions } from './handshake.js'
import { isRequestName, type Request, type ResponseTo } from './messages.js'
import { Call, emptyStats, type CallSink, type PeerAddress, type PeerTraffic, type RequestHandler, type Transport, type TransportStats } from './transport.js'
import { Buffer } from 'node:buffer'

export type { PeerLimits } from './connection.js'

export const PEER_LIMITS_DEFAULT: Readonly<PeerLimits> = {
  maxFrameBytes: MAX_FRAME_BYTES_DEFAULT,
  handshakeTimeoutMs: 5000,
  maxOutstandingPerConnection: 1024,
  maxInboundPerConnection: 1024,
  maxWriteBufferBytes: 8 * 1024 * 1024,
  reconnectBackoffMsMin: 100,
  reconnectBackoffMsMax: 10_000,
  drainTimeoutMs: 30_000,
  maxConnections: 1024,
  maxOutstanding: 65_536
}

/** Addresses whose backoff state is remembered; the oldest is forgotten past it. */
const BACKOFF_ENTRIES_MAX = 4096
/** An outbound socket's reads: at most this many bytes each. */
const RECEIVE_BUFFER_BYTES = 64 * 1024
/** Peers whose traffic is counted apart; the oldest is forgotten past it. */
const TRAFFIC_PEERS_MAX = 4096

export interface TcpTransportOptions {
  name: string
  host: string
  /** 0: let the OS choose (see address()). */
  port: number
  clusterName: string
  clusterSecret: string | Uint8Array
  clock?: TimeSource
  random?: Random
  log?: Logger
  limits?: Partial<PeerLimits>
  /** Only for tests: speak another protocol version. */
  protocolVersion?: number
}

export interface ConnectionInfo {
  /** The authenticated peer name; null while handshaking. */
  peer: string | null
  /** host:port: dialed, or the remote end of an accepted socket. */
  label: string
  /** The node that dialed it; null while an accepted socket is handshaking. */
  dialedBy: string | null
  state: ConnectionState
  /** Requests of ours waiting for a response on it. */
  outstanding: number
  /** Reading paused: the peer does not read what we write (backpressure). */
  readPaused: boolean
}

interface Backoff {
  failures: number
  retryAtMs: number
  /** Why the last dial failed: a refused handshake is reported as such while the backoff lasts. */
  err: PeerError
}

type State = 'new' | 'running' | 'stopped'

export class TcpTransport implements Transport {
  readonly name: string
  readonly faults = new Faults()
  readonly limits: Readonly<PeerLimits>
  private readonly clock: TimeSource
  private readonly random: Random
  private readonly log: Logger
  private readonly counters = emptyStats()
  private readonly owner: ConnectionOwner
  private state: State = 'new'
  private server: Server | null = null
  private handler: RequestHandler | null = null
  private boundPort: number
  private readonly conns = new Set<Connection>()
  /** Ready and retiring connections by peer name, and outbound ones still handshaking with the name they expect. */
  private readonly byPeer = new Map<string, Set<Connection>>()
  private readonly boundName = new Map<Connection, string>()
  /** Outbound handshakes to an address whose node name is not known yet (a join seed). */
  private readonly seedDials = new Map<string, Connection>()
  private readonly backoff = new Map<string, Backoff>()
  /** Outstanding requests: each leaves the table as it settles (untrack), and times out by the deadline sweep. */
  /** The outstanding calls, each in a slot (Call.slot) of a table reused as they come and go. */
  private readonly calls = new SlotTable<Call>()
  private readonly untrack = (call: Call): void => {
    if (call.slot >= 0 && this.calls.at(call.slot) === call) this.calls.delete(call.slot)
    call.slot = -1
  }
  /** The deadline sweep's one timer (null: not armed), and when it fires. */
  private sweepTimer: Timer | null = null
  private sweepAtMs = Infinity
  private readonly traffic = new Map<string, PeerTraffic>()
  /**
   * Connections with frames queued this turn, written by one deferred call
   * (flushAll); each is listed once (its flushScheduled). Two lists in turn,
   * filled in place (toFlush[0..toFlushCount)): a new array each turn cost
   * ~170 B, paid by every request when a turn holds one.
   */
  private toFlush: Array<Connection | null> = []
  private toFlushCount = 0
  private flushing: Array<Connection | null> = []
  private readonly flushAll = (): void => {
    const conns = this.toFlush
    const n = this.toFlushCount
    // (a connection listed while these flush goes to the other list, and another deferral)
    this.toFlush = this.flushing
    this.flushing = conns
    this.toFlushCount = 0
    // bounded: each connection at most once (limits.maxConnections)
    for (let i = 0; i < n; i++) {
      const conn = conns[i] as Connection
      conns[i] = null
      conn.flush()
    }
  }
  /** What every socket reads into (dial, onAccept; reads run one at a time): frames are decoded from it, and a partial one copied out. */
  private readonly receiveBuffer = new ReceiveBuffer(RECEIVE_BUFFER_BYTES)

  constructor (private readonly opts: TcpTransportOptions) {
    this.name = opts.name
    this.clock = opts.clock ?? realClock
    this.random = opts.random ?? realRandom
    this.log = opts.log ?? silentLogger
    this.limits = checkLimits({ ...PEER_LIMITS_DEFAULT, ...opts.limits })
    this.boundPort = opts.port
    this.owner = {
      clock: this.clock,
      log: this.log,
      faults: this.faults,
      limits: this.limits,
      counters: this.counters,
      refusals: new RefusalLog(),
      trafficOf: peer => this.trafficOf(peer),
      connectionReady: conn => this.onReady(conn),
      connectionClosed: (conn, err, previous) => this.onClosed(conn, err, previous),
      flushLater: conn => this.flushLater(conn),
      handle: (from, req) => {
        if (this.handler === null) return Promise.reject(new PeerStoppedError('no handler'))
        return this.handler(from, req)
      }
    }
  }

  async start (handler: RequestHandler): Promise<void> {
    if (this.state !== 'new') throw new Error(`transport ${this.name} already started`)
    this.handler = handler
    // Paused: an accepted socket is adopted to read into the receive buffer (onAccept) before any read.
    const server = createServer({ noDelay: true, pauseOnConnect: true }, socket => this.onAccept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    server.on('error', err => this.log.error(`peer listener ${this.opts.host}:${this.boundPort}: ${err.message}`))
    this.server = server
    this.boundPort = (server.address() as AddressInfo).port
    this.state = 'running'
    this.log.info(`peer transport ${this.name} listening on ${this.opts.host}:${this.boundPort}`)
  }

  address (): PeerAddress {
    return { name: this.name, host: this.opts.host, port: this.boundPort }
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
    if (this.state === 'stopped') return
    this.state = 'stopped'
    this.sweepTimer?.cancel()
    this.sweepTimer = null
    const err = new PeerStoppedError(`transport ${this.name} stopped`)
    for (const conn of [...this.conns]) conn.close(err)
    for (const call of this.calls.all()) call.fail(err)
    const server = this.server
    this.server = null
    if (server !== null) await new Promise<void>(resolve => server.close(() => resolve()))
  }

  stats (): TransportStats {
    let connections = 0
    for (const conn of this.conns) if (conn.state === 'ready') connections++
    return { ...this.counters, connections, connectionsOpen: this.conns.size }
  }

  /** Frames and bytes exchanged with each authenticated peer since start. */
  peerTraffic (): ReadonlyMap<string, Readonly<PeerTraffic>> {
    return this.traffic
  }

  /**
   * One deferral per turn for every connection's writes, not one each: a turn
   * that sends to two peers schedules one immediate, and its writes' ticks run
   * in one pass (Node makes a Map per pass, processPromiseRejections).
   */
  private flushLater (conn: Connection): void {
    if (this.toFlushCount === 0) this.clock.defer(this.flushAll)
    this.toFlush[this.toFlushCount++] = conn
  }

  private trafficOf (peer: string): PeerTraffic {
    let t = this.traffic.get(peer)
    if (t === undefined) {
      if (this.traffic.size >= TRAFFIC_PEERS_MAX) this.traffic.delete(this.traffic.keys().next().value as string)
      this.traffic.set(peer, t = { framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0 })
    }
    return t
  }

  /** Every open connection: for INFO, and for tests of the simultaneous-dial rule. */
  connectionInfo (): ConnectionInfo[] {
    return [...this.conns].map(conn => ({
      peer: conn.peerName,
      label: conn.label,
      dialedBy: conn.outbound ? this.name : conn.peerName,
      state: conn.state,
      outstanding: conn.outstanding,
      readPaused: conn.readPaused
    }))
  }

  // ---- requests ----

  private begin (to: PeerAddress, call: Call): void {
    const { req, timeoutMs } = call
    if (this.state !== 'running') return call.fail(new PeerStoppedError(`transport ${this.name} is ${this.state === 'new' ? 'not started' : 'stopped'}`))
    if (!isRequestName((req as { type?: unknown }).type as string)) return call.fail(new InvalidMessageError(`not a request: ${String(req.type)}`))
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return call.fail(new InvalidMessageError(`timeoutMs must be positive, got ${timeoutMs}`))
    if (this.calls.size >= this.limits.maxOutstanding) return call.fail(new PeerOverloadedError(`${this.calls.size} peer requests outstanding`))
    call.slot = this.calls.add(call)
    call.untrack = this.untrack
    call.to = to
    // No timer per request: one sweep, armed for the earliest deadline (sweepDeadlines).
    const deadline = this.clock.now() + timeoutMs
    call.deadlineMs = deadline
    if (deadline < this.sweepAtMs) this.armSweep(deadline)
    if (to.name !== null && this.faults.partitioned.has(to.name)) {
      this.counters.droppedByFaults++
      return // times out, as across a real partition
    }
    if (this.faults.delayMs > 0) call.addTimer(this.clock.after(this.faults.delayMs, () => this.dispatch(to, call)))
    else this.dispatch(to, call)
  }

  /**
   * Timeouts without a timer per request (a setTimeout and a clearTimeout for
   * each of the thousands of replica requests a second): one timer, armed for
   * the earliest deadline of the outstanding calls. When it fires it fails the
   * calls past their deadline and re-arms for the earliest one left. Requests
   * share a few timeouts and are sent in time order, so a new deadline is
   * nearly always later than the armed one: under a steady load the sweep runs
   * about once per timeout and walks the calls outstanding at that moment
   * (at most limits.maxOutstanding). A call never times out early; it may
   * time out later than its deadline by the event loop's lag, as with a timer.
   */
  private armSweep (atMs: number): void {
    this.sweepTimer?.cancel()
    this.sweepAtMs = atMs
    this.sweepTimer = this.clock.after(Math.max(1, atMs - this.clock.now()), () => this.sweepDeadlines())
  }

  private sweepDeadlines (): void {
    this.sweepTimer = null
    this.sweepAtMs = Infinity
    const now = this.clock.now()
    let next = Infinity
    const expired: Call[] = []
    const calls = this.calls
    // bounded: the table never holds more than limits.maxOutstanding calls
    for (let i = 0; i < calls.extent; i++) {
      const call = calls.at(i)
      if (call === null) continue
      if (call.deadlineMs <= now) expired.push(call)
      else if (call.deadlineMs < next) next = call.deadlineMs
    }
    for (const call of expired) {
      if (call.settled) continue
      this.counters.timeouts++
      call.fail(new PeerTimeoutError(`${call.req.type} to ${describe(call.to as PeerAddress)} timed out after ${call.timeoutMs} ms`))
    }
    if (next !== Infinity && this.state === 'running') this.armSweep(next)
  }

  private dispatch (to: PeerAddress, call: Call): void {
    if (call.settled || this.state !== 'running') return
    try {
      this.connectionFor(to).submit(call)
    } catch (err) {
      call.fail(err instanceof PeerError ? err : new PeerUnreachableError(`cannot reach ${describe(to)}: ${errorMessage(err)}`))
    }
  }

  private connectionFor (to: PeerAddress): Connection {
    if (to.name !== null) {
      const bound = this.byPeer.get(to.name)
      if (bound !== undefined) {
        // The usual case, per replica request: a ready connection to the address asked (no copy, no key strings).
        let moved = false
        let ready: Connection | null = null
        for (const conn of bound) {
          if (conn.outbound && conn.target !== null && (conn.target.host !== to.host || conn.target.port !== to.port)) moved = true
          else if (ready === null && conn.state === 'ready') ready = conn
        }
        if (!moved && ready !== null) return ready
        const key = addressKey(to.host, to.port)
        for (const conn of [...bound]) {
          if (conn.outbound && conn.target !== null && addressKey(conn.target.host, conn.target.port) !== key) {
            this.log.info(`peer ${to.name} moved to ${key}: dropping the connection to ${conn.label}`)
            conn.close(new PeerConnectionLostError(`peer ${to.name} moved from ${conn.label} to ${key}`))
          }
        }
        for (const conn of bound) if (conn.state === 'ready') return conn
        for (const conn of bound) if (conn.state === 'handshaking') return conn
      }
    }
    const key = addressKey(to.host, to.port)
    if (to.name === null) {
      for (const conn of this.conns) {
        if (conn.state === 'ready' && conn.target !== null && addressKey(conn.target.host, conn.target.port) === key) return conn
      }
      const seed = this.seedDials.get(key)
      if (seed !== undefined) return seed
    }
    const backoff = this.backoff.get(backoffKey(to.name, key))
    const now = this.clock.now()
    if (backoff !== undefined && now < backoff.retryAtMs) {
      const { err } = backoff
      const next = `next attempt in ${backoff.retryAtMs - now} ms`
      if (isHandshakeRefusal(err)) throw new HandshakeError(err.code, `${err.message}; ${next}`)
      throw new PeerUnreachableError(`${describe(to)} unreachable (${err.message}); ${next}`)
    }
    return this.dial(to, key)
  }

  private dial (to: PeerAddress, key: string): Connection {
    if (this.conns.size >= this.limits.maxConnections) throw new PeerOverloadedError(`${this.conns.size} peer connections open`)
    // Read without the stream machinery (a 'data' event, a read-ahead tick and its promise-rejection pass per read):
    // into one receive buffer, reused by every connection (reads run one at a time). Accepted sockets are adopted (onAccept).
    let conn: Connection | null = null
    const receive = this.receiveBuffer
    const socket = netConnect({ host: to.host, port: to.port, onread: { buffer: receive.bytes, callback: nread => { conn?.received(nread, receive); return true } } })
    conn = new Connection(this.owner, socket, {
      outbound: true,
      target: { host: to.host, port: to.port },
      label: key,
      handshake: this.handshakeOptions(to.name)
    })
    this.conns.add(conn)
    this.counters.connectionsOpened++
    if (to.name !== null) this.bind(conn, to.name)
    else this.seedDials.set(key, conn)
    return conn
  }

  private onAccept (accepted: Socket): void {
    if (this.state !== 'running' || this.conns.size >= this.limits.maxConnections) {
      accepted.destroy()
      return
    }
    // Read into the receive buffer as outbound sockets do (lib/util/adopt-socket.ts); else the stream path.
    let conn: Connection | null = null
    const receive = this.receiveBuffer
    const adopted = adoptAccepted(accepted, { buffer: receive.bytes, callback: nread => conn?.received(nread, receive) })
    const socket = adopted ?? accepted
    conn = new Connection(this.owner, socket, {
      outbound: false,
      target: null,
      label: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      handshake: this.handshakeOptions(null)
    })
    if (adopted === null) accepted.resume() // its 'data' listener is on (Connection)
    this.conns.add(conn)
    this.counters.connectionsOpened++
  }

  private handshakeOptions (expectedPeer: string | null): HandshakeOptions {
    return {
      nodeName: this.name,
      clusterName: this.opts.clusterName,
      clusterSecret: this.opts.clusterSecret,
      expectedPeer,
      nonce: Buffer.from(this.random.hex(NONCE_BYTES), 'hex'),
      version: this.opts.protocolVersion
    }
  }

  // ---- connection lifecycle ----

  private bind (conn: Connection, name: string): void {
    let set = this.byPeer.get(name)
    if (set === undefined) this.byPeer.set(name, set = new Set())
    set.add(conn)
    this.boundName.set(conn, name)
  }

  private onReady (conn: Connection): void {
    const name = conn.peerName as string
    if (conn.target !== null) {
      const key = addressKey(conn.target.host, conn.target.port)
      this.backoff.delete(backoffKey(this.boundName.get(conn) ?? null, key))
      this.backoff.delete(backoffKey(name, key))
      if (this.seedDials.get(key) === conn) this.seedDials.delete(key)
    }
    if (!this.boundName.has(conn)) this.bind(conn, name)
    this.log.debug(`${conn.outbound ? 'connected to' : 'accepted'} peer ${conn.who()}`)
    for (const other of [...(this.byPeer.get(name) as Set<Connection>)]) {
      if (other === conn || other.state !== 'ready') continue
      const kept = this.keepOne(conn, other)
      const retired = kept === conn ? other : conn
      this.log.debug(`two connections with ${name}: keeping the one dialed by ${this.dialerOf(kept)}, draining the other`)
      for (const call of retired.retire()) {
        try {
          kept.submit(call)
        } catch (err) {
          call.fail(err as PeerError)
        }
      }
      if (retired === conn) return
    }
  }

  private dialerOf (conn: Connection): string {
    return conn.outbound ? this.name : conn.peerName as string
  }

  /** The simultaneous-dial rule: the connection dialed by the smaller name; between two of one dialer, the newer (fresh). */
  private keepOne (fresh: Connection, old: Connection): Connection {
    const a = this.dialerOf(fresh)
    const b = this.dialerOf(old)
    if (a === b) return fresh
    return a < b ? fresh : old
  }

  private onClosed (conn: Connection, err: PeerError, previous: ConnectionState): void {
    this.conns.delete(conn)
    const name = this.boundName.get(conn)
    if (name !== undefined) {
      this.boundName.delete(conn)
      const set = this.byPeer.get(name)
      set?.delete(conn)
      if (set?.size === 0) this.byPeer.delete(name)
    }
    if (previous === 'handshaking') this.counters.failedHandshakes++
    if (conn.target === null) return
    const key = addressKey(conn.target.host, conn.target.port)
    if (this.seedDials.get(key) === conn) this.seedDials.delete(key)
    if (previous === 'handshaking' && this.state === 'running') this.noteDialFailure(name ?? null, key, err)
  }

  private noteDialFailure (name: string | null, address: string, err: PeerError): void {
    const key = backoffKey(name, address)
    const failures = (this.backoff.get(key)?.failures ?? 0) + 1
    const { reconnectBackoffMsMin: min, reconnectBackoffMsMax: max } = this.limits
    const base = Math.min(max, min * 2 ** Math.min(failures - 1, 30))
    const delayMs = Math.round(base / 2 + this.random.next() * base / 2)
    this.backoff.delete(key) // re-inserted last: the map's order is the eviction order
    this.backoff.set(key, { failures, retryAtMs: this.clock.now() + delayMs, err })
    if (this.backoff.size > BACKOFF_ENTRIES_MAX) this.backoff.delete(this.backoff.keys().next().value as string)
    this.log.debug(`cannot reach peer ${address}${name === null ? '' : ` (${name})`}: ${err.message}; next attempt in ${delayMs} ms`)
  }
}

function addressKey (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** Backoff is per (expected name, address): another node's name at the same address is not held back. */
function backoffKey (name: string | null, address: string): string {
  return `${name ?? ''}@${address}`
}

function describe (to: PeerAddress): string {
  const addr = addressKey(to.host, to.port)
  return to.name === null ? addr : `${to.name} (${addr})`
}

function checkLimits (limits: PeerLimits): PeerLimits {
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`peer limit ${key} must be a positive integer, got ${String(value)}`)
  }
  if (limits.maxFrameBytes < 64) throw new RangeError(`maxFrameBytes must be at least 64, got ${limits.maxFrameBytes}`)
  if (limits.reconnectBackoffMsMax < limits.reconnectBackoffMsMin) throw new RangeError('reconnectBackoffMsMax must be at least reconnectBackoffMsMin')
  return limits
}

