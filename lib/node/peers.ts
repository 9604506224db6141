// The node's side of the peer protocol: requests to other nodes (replica reads
// and writes, forwarding) and the handler of the requests they send us.
import type { CallSink, Transport, PeerAddress } from '../peer/transport.js'
import type { Handled, Request, Response, ResponseTo } from '../peer/messages.js'
import { PeerRemoteError } from '../peer/errors.js'
import type { FailureDetector } from '../membership/detector.js'
import type { Membership } from '../membership/membership.js'
import type { TimeSource } from '../runtime/clock.js'
import { decodeObject, encodeObject, merge } from '../versioning/index.js'
import { validateObject } from '../versioning/validate.js'
import type { RangePage, RangeSpec, ReplicaClient, ReplicaReplies } from '../coordinator/coordinator.js'
import { refOfStorageKey, type RecordRef } from './keys.js'
import type { LocalReplica } from './local.js'
import type { Entry } from '../storage/engine.js'
import { Buffer } from 'node:buffer'

const EMPTY_BYTES = Buffer.alloc(0)
const OK: Response = Object.freeze({ type: 'OK' })
const objectResponse = (obj: Buffer | null): Response => ({ type: 'OBJECT', obj })
const sameResponse = <T>(res: T): T => res
/** Records one request may read or write. */
const RECORDS_MAX = 10_000
/** Member addresses kept at once (Peers.address). */
const ADDRESSES_MAX = 4096

export class PeerUnknownError extends Error {
  readonly code = 'DYNAKV_PEER_UNKNOWN'
}

/**
 * Runs a whole forwarded client command on this node: the seam the RESP layer
 * provides (its dispatcher), so this layer relays replies as bytes it never reads.
 */
export interface CommandExecutor {
  /** The reply in the RESP layer's protocol-free binary form, for a client speaking RESP `proto`. */
  execForwarded (proto: number, args: Buffer[]): Promise<Buffer>
}

/** What Peers uses of its node. */
export interface PeersDeps {
  /** This node's name. */
  readonly self: string
  readonly clock: TimeSource
  /** Told the outcome of every request sent, and of every request received. */
  readonly detector: Pick<FailureDetector, 'success' | 'failure'>
  /** Where each member listens for peers. */
  readonly membership: Pick<Membership, 'get'>
  readonly requestTimeoutMs: number
  readonly partitionBits: number
  readonly local: Pick<LocalReplica, 'readEntry' | 'readHint' | 'storeHint' | 'store'>
  /** A page of this node's records in a range, merged with the hints it holds for hintFor. */
  localRange (range: RangeSpec, hintFor: string | null): Promise<RangePage>
  /** A replica write was stored here as a hint for another node. */
  hintStored (): void
}

/** What the services need of Peers: typed requests to members, and handlers of the requests they serve. */
export interface PeerRequests {
  request<R extends Request> (name: string, req: R, timeoutMs?: number): Promise<ResponseTo<R> & { from: string }>
  on<T extends Request['type']> (type: T, handler: (from: string, req: Extract<Request, { type: T }>) => Promise<ResponseTo<Extract<Request, { type: T }>>>): void
}

export interface PeerStats {
  forwardedOut: number
  forwardedIn: number
  replicaReadsServed: number
  replicaWritesServed: number
}

export class Peers implements ReplicaClient, PeerRequests {
  readonly stats: PeerStats = { forwardedOut: 0, forwardedIn: 0, replicaReadsServed: 0, replicaWritesServed: 0 }
  executor: CommandExecutor | null = null
  /** Incoming request types handled by other services (gossip, handoff, anti-entropy, keyspace). */
  private readonly handlers = new Map<Request['type'], (from: string, req: Request) => Promise<Response>>()

  constructor (private readonly deps: PeersDeps, readonly transport: Transport) {}

  /** Where each member was last reached: one object per member, not one per request (never changed: a move makes a new one). */
  private readonly addresses = new Map<string, PeerAddress>()

  address (name: string): PeerAddress {
    const r = this.deps.membership.get(name)
    if (r === undefined) throw new PeerUnknownError(`unknown node ${name}`)
    let a = this.addresses.get(name)
    if (a === undefined || a.host !== r.peerHost || a.port !== r.peerPort) {
      // (bounded: members that left are forgotten with the rest past ADDRESSES_MAX)
      if (this.addresses.size >= ADDRESSES_MAX) this.addresses.clear()
      a = Object.freeze({ name, host: r.peerHost, port: r.peerPort })
      this.addresses.set(name, a)
    }
    return a
  }

  get timeoutMs (): number {
    return this.deps.requestTimeoutMs
  }

  /** Sends a request to a member, feeding the failure detector with the outcome. */
  request<R extends Request> (name: string, req: R, timeoutMs = this.timeoutMs): Promise<ResponseTo<R> & { from: string }> {
    return this.requestThen(name, req, timeoutMs, sameResponse)
  }

  /** request, with what the caller takes of the response mapped in the same reaction (one promise fewer). */
  private requestThen<R extends Request, T> (name: string, req: R, timeoutMs: number, map: (res: ResponseTo<R> & { from: string }) => T): Promise<T> {
    const { clock, detector } = this.deps
    const failed = (e: unknown): never => {
      // A remote handler's error is an answer: the peer is alive.
      if (e instanceof PeerRemoteError) detector.success(name, clock.now())
      else detector.failure(name, clock.now())
      throw e
    }
    let to: PeerAddress
    try {
      to = this.address(name)
    } catch (e) {
      return Promise.reject(e).catch(failed)
    }
    // (then, not async/await: one promise fewer per replica request)
    return this.transport.request(to, req, timeoutMs).then((res) => {
      detector.success(name, clock.now())
      return map(res)
    }, failed)
  }

  on<T extends Request['type']> (type: T, handler: (from: string, req: Extract<Request, { type: T }>) => Promise<ResponseTo<Extract<Request, { type: T }>>>): void {
    // The map forgets the pairing of a type and its handler; handle() looks handlers up by req.type, which restores it.
    this.handlers.set(type, handler as unknown as (from: string, req: Request) => Promise<Response>)
  }

  getReplica (node: string, ref: RecordRef, hintFor: string | null, to: ReplicaReplies, tag: number): void {
    this.sendReplica(node, { type: 'GET_REPLICA', key: ref.skey, hintFor }, to, tag)
  }

  putReplica (node: string, ref: RecordRef, bytes: Buffer, hintFor: string | null, to: ReplicaReplies, tag: number): void {
    this.sendReplica(node, { type: 'PUT_REPLICA', key: ref.skey, obj: bytes, hintFor }, to, tag)
  }

  /**
   * A replica request without a promise: the transport tells replicaDone, which
   * feeds the failure detector as request does and answers the round
   * (Transport.send). The round rides on the call as its ctx.
   */
  private sendReplica (name: string, req: Request, to: ReplicaReplies, tag: number): void {
    let address: PeerAddress
    try {
      address = this.address(name)
    } catch (e) {
      const { clock, detector } = this.deps
      // (told a reaction later, never during the call that asked: ReplicaReplies)
      void Promise.resolve().then(() => {
        detector.failure(name, clock.now())
        to.replicaReplied(tag, e, undefined)
      })
      return
    }
    this.transport.send(address, req, this.timeoutMs, this.replicaDone, to, tag)
  }

  private readonly replicaDone: CallSink = {
    callDone: (call, err, res) => {
      const { clock, detector } = this.deps
      const name = (call.to as PeerAddress).name as string
      // A remote handler's error is an answer: the peer is alive.
      if (err === null || err instanceof PeerRemoteError) detector.success(name, clock.now())
      else detector.failure(name, clock.now())
      const bytes = res !== null && res.type === 'OBJECT' ? res.obj ?? undefined : undefined
      ;(call.ctx as ReplicaReplies).replicaReplied(call.tag, err, bytes)
    }
  }

  async readRecords (node: string, refs: RecordRef[], hintFor: string | null): Promise<Array<Buffer | undefined>> {
    const res = await this.request(node, { type: 'READ_RECORDS', keys: refs.map(r => r.skey), hintFor })
    if (res.objs.length !== refs.length) throw Object.assign(new Error('READ_RECORDS answered for other records'), { code: 'DYNAKV_PEER_PROTOCOL' })
    return res.objs.map(b => b.length === 0 ? undefined : b)
  }

  putRecords (node: string, refs: RecordRef[], bytes: Buffer[], hintFor: string | null): Promise<unknown> {
    return this.request(node, { type: 'PUT_RECORDS', keys: refs.map(r => r.skey), objs: bytes, hintFor })
  }

  async readRange (node: string, _key: RecordRef, range: RangeSpec, hintFor: string | null): Promise<RangePage> {
    const res = await this.request(node, { type: 'READ_RANGE', start: range.start, end: range.end ?? null, limit: range.limit, hintFor })
    return { rows: res.keys.map((k, i) => [k, decodeObject(res.objs[i])]), more: res.more }
  }

  /** Runs a client command on another node; resolves with its reply as CommandExecutor.execForwarded encoded it there. */
  async forward (node: string, proto: number, args: Buffer[]): Promise<Buffer> {
    this.stats.forwardedOut++
    // The remote coordinator's own requests may take a timeout each: allow for two rounds.
    const res = await this.request(node, { type: 'FORWARD', proto, args }, 3 * this.timeoutMs)
    return res.reply
  }

  /** The transport's request handler (the transports turn a throw into an ERROR answer). */
  readonly handle = (from: string, req: Request): Handled => {
    this.deps.detector.success(from, this.deps.clock.now())
    // The replica requests, most of a client command's, answer without an async frame of their own.
    // (resolving with nothing answers OK: checkResponse)
    if (req.type === 'PUT_REPLICA') return this.servePut(req.key, req.obj, req.hintFor) as Promise<unknown> as Promise<undefined>
    if (req.type === 'GET_REPLICA') {
      // A record in memory with no hint to merge is answered at once, without a promise.
      const stored = req.hintFor === null || req.hintFor === this.deps.self ? this.storedHere(req.key) : undefined
      if (stored !== undefined && !(stored instanceof Promise)) return objectResponse(stored)
      return this.readStored(req.key, req.hintFor).then(objectResponse)
    }
    return this.handleOther(from, req)
  }

  private async handleOther (from: string, req: Request): Promise<Response> {
    switch (req.type) {
      case 'READ_RECORDS':
        return { type: 'OBJECTS', keys: req.keys, objs: await Promise.all(req.keys.map(async k => (await this.readStored(k, req.hintFor)) ?? EMPTY_BYTES)) }
      case 'PUT_RECORDS':
        if (req.keys.length > RECORDS_MAX) throw Object.assign(new Error('too many records'), { code: 'DYNAKV_LIMIT' })
        await Promise.all(req.keys.map((k, i) => this.servePut(k, req.objs[i], req.hintFor)))
        return OK
      case 'READ_RANGE': {
        const page = await this.deps.localRange({ start: req.start, end: req.end ?? undefined, limit: Math.min(req.limit, RECORDS_MAX) }, req.hintFor === this.deps.self ? null : req.hintFor)
        return { type: 'ROWS', keys: page.rows.map(r => r[0]), objs: page.rows.map(r => encodeObject(r[1])), more: page.more }
      }
      case 'FORWARD':
        return await this.serveForward(req.proto, req.args)
      default: {
        const handler = this.handlers.get(req.type)
        if (handler === undefined) throw Object.assign(new Error(`no handler for ${req.type}`), { code: 'DYNAKV_UNSUPPORTED' })
        return await handler(from, req)
      }
    }
  }

  /** This replica's bytes of a record when it is in memory (null: none), else a promise of the entry. */
  private storedHere (skey: Buffer): Buffer | null | Promise<Entry | undefined> {
    const found = this.deps.local.readEntry(refOfStorageKey(skey, this.deps.partitionBits))
    if (found instanceof Promise) return found
    this.stats.replicaReadsServed++
    return found?.bytes ?? null
  }

  /** This replica's bytes of a record, merged with the hint held for `hintFor` if any. */
  private async readStored (skey: Buffer, hintFor: string | null): Promise<Buffer | null> {
    this.stats.replicaReadsServed++
    const ref = refOfStorageKey(skey, this.deps.partitionBits)
    const found = this.deps.local.readEntry(ref)
    const data = (found instanceof Promise ? await found : found)?.bytes
    const hint = hintFor !== null && hintFor !== this.deps.self ? await this.deps.local.readHint(hintFor, ref) : undefined
    // The stored bytes go out as they are, unless a hint has to be merged in.
    if (hint === undefined) return data ?? null
    return encodeObject(data === undefined ? hint : merge(decodeObject(data), hint))
  }

  /** A replica write (refused with NotReplicaError when this node does not store the record: see LocalReplica). */
  private servePut (skey: Buffer, bytes: Buffer, hintFor: string | null): Promise<void> {
    this.stats.replicaWritesServed++
    const ref = refOfStorageKey(skey, this.deps.partitionBits)
    if (hintFor !== null && hintFor !== this.deps.self) {
      // Decoding checks the bytes before they are stored (a malformed object throws DecodeError).
      return this.deps.local.storeHint(hintFor, ref, decodeObject(bytes)).then(() => this.deps.hintStored())
    }
    // Checked without building the object, which the usual write (it supersedes the copy here) never needs.
    validateObject(bytes)
    return this.deps.local.store(ref, null, bytes)
  }

  private async serveForward (proto: number, args: Buffer[]): Promise<Response> {
    this.stats.forwardedIn++
    if (this.executor === null || args.length === 0) throw Object.assign(new Error('this node does not run client commands'), { code: 'DYNAKV_UNSUPPORTED' })
    return { type: 'REPLY', reply: await this.executor.execForwarded(proto, args) }
  }
}
