// The RESP listener: accepts client connections (up to --maxclients), hands
// each to a Connection, and closes them gracefully on shutdown.
import { createServer, type Server, type Socket } from 'node:net'
import type { DynakvNode } from '../node/node.js'
import { adoptAccepted } from '../util/adopt-socket.js'
import { Connection, type CommandTracker, type ConnectionHost } from './connection.js'
import { ReceiveBuffer } from '../util/receive-buffer.js'
import type { CommandStats } from '../metrics/command-stats.js'
import { Dispatcher, type ServerInfo } from './commands/index.js'
import type { Session } from './session.js'
import type { Reply, ReplyWriter } from './reply.js'
import { Buffer } from 'node:buffer'

/** A client socket's reads: at most this many bytes each (the stream path reads 64 KB too). */
const RECEIVE_BUFFER_BYTES = 64 * 1024

export class RespServer implements ServerInfo, ConnectionHost {
  readonly dispatcher: Dispatcher
  readonly connections = new Set<Connection>()
  totalConnections = 0
  totalCommands = 0
  rejectedConnections = 0
  port = 0
  private readonly server: Server
  /** What every client socket reads into (reads run one at a time; each is copied out: Connection.received). */
  private readonly receiveBuffer = new ReceiveBuffer(RECEIVE_BUFFER_BYTES)
  private nextId = 1
  readonly tunables = new Map<string, string>()
  readonly protoMaxBulkLenMax: number
  readonly tracker: CommandTracker | null
  shutdown: (() => void) | null = null

  /** commandStats: per-command calls, errors and latencies are kept there (null: not tracked). */
  constructor (private readonly node: DynakvNode, readonly commandStats: CommandStats | null = null) {
    this.dispatcher = new Dispatcher(node, this)
    const dispatcher = this.dispatcher
    this.tracker = commandStats === null
      ? null
      : { done: (args, reply, readAtMs, readyAtMs) => commandStats.record(dispatcher.statName(args), reply.type === 'error' ? reply.value : null, (readyAtMs - readAtMs) * 1000) }
    node.peers.executor = this.dispatcher
    this.protoMaxBulkLenMax = node.config.protoMaxBulkLen
    // Paused: each accepted socket is adopted to read into receiveBuffer (accept) before any read.
    this.server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket))
  }

  get maxBulkLen (): number {
    return this.node.config.protoMaxBulkLen
  }

  get requirePassword (): boolean {
    return this.node.config.requirepass !== null
  }

  resetStats (): void {
    this.totalConnections = 0
    this.totalCommands = 0
    this.rejectedConnections = 0
  }

  configChanged (): void {
    for (const c of this.connections) c.setMaxBulkLen(this.maxBulkLen)
  }

  clients (): Iterable<Session> {
    return this.connections
  }

  /** A connection turns a rejection into an error reply itself. */
  exec (session: Session, args: Buffer[]): Reply | Promise<Reply> {
    return this.dispatcher.exec(session, args, true)
  }

  keysOf (args: Buffer[]): string[] | 'all' | null {
    return this.dispatcher.keysOf(args)
  }

  connectionEffect (args: Buffer[]): 'begin' | 'end' | 'quit' | null {
    return this.dispatcher.connectionEffect(args)
  }

  selfOrdered (args: Buffer[]): boolean {
    return this.dispatcher.selfOrdered(args)
  }

  writeFast (session: Session, args: Buffer[], out: ReplyWriter): boolean {
    return this.dispatcher.writeFast(session, args, out)
  }

  execSet (session: Session, key: Buffer, value: Buffer): Reply | Promise<Reply> | null {
    return this.dispatcher.execSet(session, key, value)
  }

  writeGet (session: Session, key: Buffer, from: number, to: number, out: ReplyWriter): boolean {
    return this.dispatcher.writeGet(session, key, from, to, out)
  }

  now (): number {
    return this.node.clock.now()
  }

  commandProcessed (): void {
    this.totalCommands++
  }

  closed (conn: Connection): void {
    this.connections.delete(conn)
  }

  logError = (msg: string): void => {
    this.node.log.error(msg)
  }

  private accept (accepted: Socket): void {
    if (this.connections.size >= this.node.config.maxclients) {
      this.rejectedConnections++
      accepted.on('error', () => {})
      accepted.resume() // what the client sends is dropped; its end closes the socket
      accepted.end('-ERR max number of clients reached\r\n')
      return
    }
    this.totalConnections++
    // Reads into the one receive buffer (lib/util/adopt-socket.ts), copied out per read by the connection; else the stream path.
    let conn: Connection | null = null
    const receive = this.receiveBuffer
    const adopted = adoptAccepted(accepted, { buffer: receive.bytes, callback: (nread) => conn?.received(nread, receive) })
    conn = new Connection(this.nextId++, adopted ?? accepted, this, adopted === null)
    this.connections.add(conn)
  }

  listen (host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e)
      this.server.once('error', onError)
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError)
        this.server.on('error', (e) => this.node.log.error(`RESP listener: ${e.message}`))
        const addr = this.server.address()
        this.port = typeof addr === 'object' && addr !== null ? addr.port : port
        resolve(this.port)
      })
    })
  }

  /** Stops accepting, lets every connection answer what it has in flight, then closes them. */
  async close (graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const c of this.connections) c.shutdown()
    const deadline = Date.now() + graceMs
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    for (const c of this.connections) c.destroy()
    await closed
  }
}
