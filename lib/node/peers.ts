// The node's side of the peer protocol: requests to other nodes (replica reads
// and writes, forwarding) and the handler of the requests they send us.
import type { Transport, PeerAddress } from '../peer/transport.js'
import type { Request, Response } from '../peer/messages.js'
import { HANDOFF_HINTS, HANDOFF_OWNERSHIP } from '../peer/messages.js'
import { PeerRemoteError } from '../peer/errors.js'
import { decodeObject, encodeObject, merge } from '../versioning/index.js'
import { encodeReplyBinary, decodeReplyBinary } from '../resp/reply-binary.js'
import type { Reply } from '../resp/reply.js'
import { internalSession, type Session } from '../resp/session.js'
import type { RangePage, RangeSpec, ReplicaClient } from './coordinator.js'
import type { RecordRef } from './keys.js'
import type { DynakvNode } from './node.js'

const EMPTY_BYTES = Buffer.alloc(0)
/** Records one request may read or write. */
const RECORDS_MAX = 10_000

export class PeerUnknownError extends Error {
  readonly code = 'DYNAKV_PEER_UNKNOWN'
}

/** Executes a whole client command on this node (the RESP command layer). */
export interface CommandExecutor {
  exec (session: Session, args: Buffer[]): Reply | Promise<Reply>
}

export interface PeerStats {
  forwardedOut: number
  forwardedIn: number
  replicaReadsServed: number
  replicaWritesServed: number
}

export class Peers implements ReplicaClient {
  readonly stats: PeerStats = { forwardedOut: 0, forwardedIn: 0, replicaReadsServed: 0, replicaWritesServed: 0 }
  executor: CommandExecutor | null = null
  /** Incoming request types handled by other services (gossip, handoff, anti-entropy, scans). */
  private readonly handlers = new Map<Request['type'], (from: string, req: Request) => Promise<Response>>()

  constructor (private readonly node: DynakvNode, readonly transport: Transport) {}

  address (name: string): PeerAddress {
    const r = this.node.membership.get(name)
    if (r === undefined) throw new PeerUnknownError(`unknown node ${name}`)
    return { name, host: r.peerHost, port: r.peerPort }
  }

  get timeoutMs (): number {
    return this.node.config.requestTimeoutMs
  }

  /** Sends a request to a member, feeding the failure detector with the outcome. */
  async request<R extends Request> (name: string, req: R, timeoutMs = this.timeoutMs): Promise<Awaited<ReturnType<Transport['request']>> & { type: string }> {
    const clock = this.node.clock
    try {
      const res = await this.transport.request(this.address(name), req, timeoutMs)
      this.node.detector.success(name, clock.now())
      return res
    } catch (e) {
      // A remote handler's error is an answer: the peer is alive.
      if (e instanceof PeerRemoteError) this.node.detector.success(name, clock.now())
      else this.node.detector.failure(name, clock.now())
      throw e
    }
  }

  on<T extends Request['type']> (type: T, handler: (from: string, req: Extract<Request, { type: T }>) => Promise<Response>): void {
    this.handlers.set(type, handler as (from: string, req: Request) => Promise<Response>)
  }

  async getReplica (node: string, ref: RecordRef, hintFor: string | null): Promise<Buffer | undefined> {
    const res = await this.request(node, { type: 'GET_REPLICA', key: ref.skey, hintFor }) as { obj: Buffer | null }
    return res.obj ?? undefined
  }

  async putReplica (node: string, ref: RecordRef, bytes: Buffer, hintFor: string | null): Promise<void> {
    await this.request(node, { type: 'PUT_REPLICA', key: ref.skey, obj: bytes, hintFor })
  }

  async readRecords (node: string, refs: RecordRef[], hintFor: string | null): Promise<Array<Buffer | undefined>> {
    const res = await this.request(node, { type: 'READ_RECORDS', keys: refs.map(r => r.skey), hintFor }) as { objs: Buffer[] }
    if (res.objs.length !== refs.length) throw Object.assign(new Error('READ_RECORDS answered for other records'), { code: 'DYNAKV_PEER_PROTOCOL' })
    return res.objs.map(b => b.length === 0 ? undefined : b)
  }

  async putRecords (node: string, refs: RecordRef[], bytes: Buffer[], hintFor: string | null): Promise<void> {
    await this.request(node, { type: 'PUT_RECORDS', keys: refs.map(r => r.skey), objs: bytes, hintFor })
  }

  async readRange (node: string, _key: RecordRef, range: RangeSpec, hintFor: string | null): Promise<RangePage> {
    const res = await this.request(node, { type: 'READ_RANGE', start: range.start, end: range.end ?? null, limit: range.limit, hintFor }) as { keys: Buffer[], objs: Buffer[], more: boolean }
    return { rows: res.keys.map((k, i) => [k, decodeObject(res.objs[i])]), more: res.more }
  }

  /** Runs a client command on another node and relays its reply. */
  async forward (node: string, session: Session, args: Buffer[]): Promise<Reply> {
    this.stats.forwardedOut++
    // The remote coordinator's own requests may take a timeout each: allow for two rounds.
    const res = await this.request(node, { type: 'FORWARD', proto: session.proto, args }, 3 * this.timeoutMs) as { reply: Buffer }
    return decodeReplyBinary(res.reply)
  }

  /** The transport's request handler. */
  readonly handle = async (from: string, req: Request): Promise<Response> => {
    this.node.detector.success(from, this.node.clock.now())
    switch (req.type) {
      case 'PING':
        this.node.gossip.notePeerDigest(from, req.digest)
        return { type: 'PONG', digest: this.node.membership.digest() }
      case 'GET_REPLICA':
        return await this.serveGet(req.key, req.hintFor)
      case 'PUT_REPLICA':
        await this.servePut(req.key, req.obj, req.hintFor)
        return { type: 'OK' }
      case 'READ_RECORDS':
        return { type: 'OBJECTS', keys: req.keys, objs: await Promise.all(req.keys.map(async k => (await this.readStored(k, req.hintFor)) ?? EMPTY_BYTES)) }
      case 'PUT_RECORDS':
        if (req.keys.length > RECORDS_MAX) throw Object.assign(new Error('too many records'), { code: 'DYNAKV_LIMIT' })
        await Promise.all(req.keys.map((k, i) => this.servePut(k, req.objs[i], req.hintFor)))
        return { type: 'OK' }
      case 'READ_RANGE': {
        const page = await this.node.localRange({ start: req.start, end: req.end ?? undefined, limit: Math.min(req.limit, RECORDS_MAX) }, req.hintFor === this.node.identity.name ? null : req.hintFor)
        return { type: 'ROWS', keys: page.rows.map(r => r[0]), objs: page.rows.map(r => encodeObject(r[1])), more: page.more }
      }
      case 'FORWARD':
        return await this.serveForward(req.proto, req.args)
      case 'HANDOFF_BATCH':
        await this.serveHandoff(req.kind, req.keys, req.objs)
        return { type: 'OK' }
      default: {
        const handler = this.handlers.get(req.type)
        if (handler === undefined) throw Object.assign(new Error(`no handler for ${req.type}`), { code: 'DYNAKV_UNSUPPORTED' })
        return await handler(from, req)
      }
    }
  }

  private async serveGet (skey: Buffer, hintFor: string | null): Promise<Response> {
    return { type: 'OBJECT', obj: await this.readStored(skey, hintFor) }
  }

  /** This replica's bytes of a record, merged with the hint held for `hintFor` if any. */
  private async readStored (skey: Buffer, hintFor: string | null): Promise<Buffer | null> {
    this.stats.replicaReadsServed++
    const ref = this.node.recordRef(skey)
    const found = this.node.local.readEntry(ref)
    const data = (found instanceof Promise ? await found : found)?.bytes
    const hint = hintFor !== null && hintFor !== this.node.identity.name ? await this.node.local.readHint(hintFor, ref) : undefined
    // The stored bytes go out as they are, unless a hint has to be merged in.
    if (hint === undefined) return data ?? null
    return encodeObject(data === undefined ? hint : merge(decodeObject(data), hint))
  }

  /** A replica write (refused with NotReplicaError when this node does not store the record: see LocalReplica). */
  private async servePut (skey: Buffer, bytes: Buffer, hintFor: string | null): Promise<void> {
    this.stats.replicaWritesServed++
    const ref = this.node.recordRef(skey)
    const obj = decodeObject(bytes)
    if (hintFor !== null && hintFor !== this.node.identity.name) {
      await this.node.local.storeHint(hintFor, ref, obj)
      this.node.coordinator.stats.hintsWritten++
    } else {
      await this.node.local.merge(ref, obj, bytes)
    }
  }

  private async serveHandoff (kind: number, keys: Buffer[], objs: Buffer[]): Promise<void> {
    // Ownership transfers, delivered hints and repairs all land in this node's data.
    // One key refused (or failed) fails the batch once every merge has settled: the
    // sender keeps the whole batch and sends it again (merging twice is harmless).
    const writes: Array<Promise<unknown>> = []
    for (let i = 0; i < keys.length; i++) writes.push(this.node.local.merge(this.node.recordRef(keys[i]), decodeObject(objs[i])))
    const failed = (await Promise.allSettled(writes)).find(o => o.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    if (kind === HANDOFF_HINTS) this.node.handoff.stats.hintsReceived += keys.length
    else if (kind === HANDOFF_OWNERSHIP) this.node.handoff.stats.objectsReceived += keys.length
  }

  private async serveForward (proto: number, args: Buffer[]): Promise<Response> {
    this.stats.forwardedIn++
    if (this.executor === null || args.length === 0) throw Object.assign(new Error('this node does not run client commands'), { code: 'DYNAKV_UNSUPPORTED' })
    const session = internalSession(proto === 3 ? 3 : 2, true)
    const reply = await this.executor.exec(session, args)
    return { type: 'REPLY', reply: encodeReplyBinary(reply) }
  }
}
