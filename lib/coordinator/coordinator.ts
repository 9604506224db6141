// The coordinator of a request (the paper's §4.5): it picks the first N reachable
// nodes of the key's preference list (a down primary replaced by the next
// reachable fallback, which keeps the write as a hint for it), fans the request
// out, and answers once R reads or W writes have succeeded. A read asks R of the
// N targets (itself first), and the rest when one of them fails or their copies
// differ, when a target failed a request lately (it may have missed writes), and
// for one read in READ_ALL_EVERY at random; it then waits briefly for the
// remaining replicas and repairs those that were behind.
//
// A replica that refuses a write (NotReplicaError: in its ring it does not store
// the key; one of the two rings is behind) answered, so it is not a failure: the
// write goes to the next node of the preference list as it stands now, as a
// primary if it is one, else as a fallback holding a hint.
//
// A request may touch several records of one key (a key record and element
// records, lib/node/keys.ts): they share the key's partition and so its
// replicas, and travel to each replica in one message.
import type { TimeSource } from '../runtime/clock.js'
import type { Random } from '../runtime/random.js'
import { QuorumTracker, noQuorumMessage } from './quorum.js'
import {
  decodeObject, emptyObject, encodeObject, increment, keyState, merge, objectClock, put, sameVersions, type Clock, type VObject
} from '../versioning/index.js'
import { elementRefOf, type KeyRef, type RecordRef } from '../node/keys.js'
import { WRONGTYPE, isNotReplica, stringAt, type Change, type LocalReplica, type PutOutcome, type StringRead } from '../node/local.js'
import type { CounterLease } from '../node/identity.js'
import { Buffer } from 'node:buffer'

export interface Target {
  readonly node: string
  readonly primary: boolean
  /** Set on a fallback: the primary it stands in for (its copy is a hint). */
  readonly hintFor: string | null
}

export interface RangeSpec {
  /** Storage-key bounds: [start, end). */
  start: Buffer
  end: Buffer | undefined
  /** Rows returned at most. */
  limit: number
}

export interface RangePage {
  rows: Array<[Buffer, VObject]>
  /** More rows lie in the range past the last one. */
  more: boolean
}

/**
 * Told once what a replica answered (a quorum round: tag is the target's
 * index): err null and, for a read, its encoded copy (undefined: it holds
 * none); else why it failed. Never told during the call that asked.
 */
export interface ReplicaReplies {
  replicaReplied (tag: number, err: unknown, bytes: Buffer | undefined): void
}

/** Remote replica operations (the peer protocol, or the simulator's network). */
export interface ReplicaClient {
  /** Asks for the replica's encoded copy; the answer goes to `to` (no promise per replica request). */
  getReplica (node: string, ref: RecordRef, hintFor: string | null, to: ReplicaReplies, tag: number): void
  /** Sends the versions; `to` is told once the replica stored them. */
  putReplica (node: string, ref: RecordRef, bytes: Buffer, hintFor: string | null, to: ReplicaReplies, tag: number): void
  readRecords (node: string, refs: RecordRef[], hintFor: string | null): Promise<Array<Buffer | undefined>>
  putRecords (node: string, refs: RecordRef[], bytes: Buffer[], hintFor: string | null): Promise<unknown>
  readRange (node: string, key: RecordRef, range: RangeSpec, hintFor: string | null): Promise<RangePage>
}

/** This node's own ranges (data, and hints held for another node). */
export interface LocalRanges {
  range (range: RangeSpec, hintFor: string | null): Promise<RangePage>
}

export interface Placement {
  /** This node is the only member: every key's one replica is here. */
  solo (): boolean
  /** Preference list of a partition: primaries then fallbacks. */
  preferenceList (partition: number): { primaries: readonly string[], fallbacks: readonly string[] }
  isUp (node: string): boolean
  /** The node failed a request lately: it may have missed writes, so reads ask every target. */
  suspect (node: string): boolean
}

export class QuorumError extends Error {
  readonly code = 'DYNAKV_NOQUORUM'
}

export interface CoordinatorOptions {
  self: string
  actor: string
  freshActor: () => { actor: string, release: Promise<void> | null }
  local: LocalReplica
  localRanges: LocalRanges
  remote: ReplicaClient
  placement: Placement
  clock: TimeSource
  /** Picks the reads that ask every target (READ_ALL_EVERY). */
  random: Pick<Random, 'next'>
  lease: CounterLease
  sloppy: boolean
  vclockMax: number
  readRepairWaitMs: number
}

export interface CoordinatorStats {
  reads: number
  writes: number
  readRepairs: number
  hintsWritten: number
  noQuorum: number
}

/** One record's change in a multi-record write; incoming = what the request's quorum read found. */
export interface RecordWrite {
  ref: RecordRef
  change: Change
  incoming?: VObject
}

const EMPTY = emptyObject()
/**
 * One quorum read in this many, at random, asks every target rather than R of
 * them (the rest are asked anyway when the first R differ or one fails, or a
 * target failed lately): read repair's reach over replicas that quietly missed
 * a write, which anti-entropy otherwise finds within --ae-interval-ms.
 */
const READ_ALL_EVERY = 10
/** Primary targets kept at once (Coordinator.primaryTarget). */
const PRIMARY_TARGETS_MAX = 4096
/** A read repair's answer: not waited for (anti-entropy catches up a replica that failed). */
const UNHEARD: ReplicaReplies = { replicaReplied () {} }

/**
 * A round's promise without an executor closure (a function and a context of
 * every variable it captured, per request): `new Promise(capture)` leaves its
 * settle functions here for the caller to take at once.
 */
let capturedResolve: (v: unknown) => void = () => {}
let capturedReject: (e: Error) => void = () => {}
function capture (resolve: (v: never) => void, reject: (e: Error) => void): void {
  // (the promise it is handed to fixes the value's type)
  capturedResolve = resolve as (v: unknown) => void
  capturedReject = reject
}

const mergeSome = (a: VObject | undefined, b: VObject | undefined): VObject | undefined =>
  a === undefined ? b : b === undefined ? a : sameVersions(a, b) ? a : merge(a, b)

/**
 * A record as a quorum read found it: the replicas' common bytes while every
 * reply so far held the same ones (the usual case: nothing decoded), else the
 * merge of the replies as an object. undefined: no replica holds the record.
 */
type Found = Buffer | VObject | undefined

/** A write round's versions: one record's alone (the usual SET: no one-item arrays), else one per record. */
type PerRecord<T> = T | T[]
const at = <T>(v: PerRecord<T>, i: number): T => Array.isArray(v) ? v[i] : v

const decodeSome = (b: Buffer | undefined): VObject | undefined => b === undefined ? undefined : decodeObject(b)
const isBytes = (f: Found): f is Buffer => f instanceof Uint8Array
const objectOf = (f: Found): VObject | undefined => isBytes(f) ? decodeObject(f) : f
const sameBytes = (a: Buffer | undefined, b: Buffer | undefined): boolean => a === b || (a !== undefined && b !== undefined && a.equals(b))

/** Moves a[to] to a[from], the ones in between one place right (a[from..to) to a[from+1..to]). */
function shiftRight<T> (a: T[], from: number, to: number): void {
  const moved = a[to]
  for (let i = to; i > from; i--) a[i] = a[i - 1]
  a[from] = moved
}

/** Moves a[from] to the end, the ones after it one place left. */
function shiftLeft<T> (a: T[], from: number): void {
  const moved = a[from]
  for (let i = from; i < a.length - 1; i++) a[i] = a[i + 1]
  a[a.length - 1] = moved
}

export class Coordinator {
  readonly stats: CoordinatorStats = { reads: 0, writes: 0, readRepairs: 0, hintsWritten: 0, noQuorum: 0 }
  private readonly o: CoordinatorOptions
  private readonly locks = new Map<string, Promise<unknown>>()
  /** Which of the other targets a read asks first (quorumRead). */
  private readTurn = 0
  /** The write promise WriteRounds wait on now, with which rounds and targets (awaitWrite). */
  private awaited: WriteWaiters | null = null
  /** A primary target per node (targets never change): three objects fewer per request. Bounded: PRIMARY_TARGETS_MAX. */
  private readonly primaryTargets = new Map<string, Target>()

  constructor (options: CoordinatorOptions) {
    this.o = options
  }

  /** The first N reachable nodes of the preference list. */
  targets (ref: RecordRef, sloppy = this.o.sloppy): Target[] {
    const { primaries, fallbacks } = this.o.placement.preferenceList(ref.partition)
    // At most one target per primary: sized for that at once (pushes onto [] grew it to 17 slots, ~150 B a request).
    const out: Target[] = new Array(primaries.length)
    let n = 0
    let f = 0
    // (indexed loops here and in replicate and fanOut: a for-of allocated an iterator per write)
    for (let i = 0; i < primaries.length; i++) {
      const p = primaries[i]
      if (p === this.o.self || this.o.placement.isUp(p)) {
        out[n++] = this.primaryTarget(p)
        continue
      }
      if (!sloppy) continue
      while (f < fallbacks.length && fallbacks[f] !== this.o.self && !this.o.placement.isUp(fallbacks[f])) f++
      if (f < fallbacks.length) out[n++] = { node: fallbacks[f++], primary: false, hintFor: p }
    }
    if (n < out.length) out.length = n
    return out
  }

  private primaryTarget (node: string): Target {
    let t = this.primaryTargets.get(node)
    if (t === undefined) {
      // (members that left are forgotten with the rest past PRIMARY_TARGETS_MAX)
      if (this.primaryTargets.size >= PRIMARY_TARGETS_MAX) this.primaryTargets.clear()
      t = Object.freeze({ node, primary: true, hintFor: null })
      this.primaryTargets.set(node, t)
    }
    return t
  }

  /**
   * In place of a target that refused: the first reachable node of the key's
   * preference list as it stands now that was not asked yet; a fallback keeps a
   * hint for a primary not asked (down), else for the node it replaces. null: none.
   */
  private replacement (ref: RecordRef, refused: Target, asked: Set<string>): Target | null {
    const { primaries, fallbacks } = this.o.placement.preferenceList(ref.partition)
    const reachable = (n: string): boolean => !asked.has(n) && (n === this.o.self || this.o.placement.isUp(n))
    const primary = primaries.find(reachable)
    if (primary !== undefined) return { node: primary, primary: true, hintFor: null }
    if (!this.o.sloppy) return null
    const fallback = fallbacks.find(reachable)
    if (fallback === undefined) return null
    return { node: fallback, primary: false, hintFor: primaries.find(n => !asked.has(n)) ?? refused.hintFor ?? refused.node }
  }

  isPrimary (ref: RecordRef): boolean {
    return this.o.placement.preferenceList(ref.partition).primaries.includes(this.o.self)
  }

  /** The solo fast path applies: this node holds every key's only replica. */
  private solo (r: number): boolean {
    return r === 1 && this.o.placement.solo()
  }

  // ------------------------------------------------------------------ reads

  /** One replica's encoded copies of refs (undefined: it holds none). */
  private readFrom (t: Target, refs: RecordRef[]): Promise<Array<Buffer | undefined>> {
    if (t.node !== this.o.self) return this.o.remote.readRecords(t.node, refs, t.hintFor)
    const local = this.o.local
    const hintFor = t.hintFor
    return Promise.all(refs.map(async (ref) => {
      const found = local.readEntry(ref)
      // (a cached entry's bytes are never changed: a write gives the slot new bytes)
      const own = (found instanceof Promise ? await found : found)?.bytes
      if (hintFor === null) return own
      // A fallback answers with its own data merged with what it holds as a hint.
      const hint = await local.readHint(hintFor, ref)
      return hint === undefined ? own : encodeObject(mergeSome(decodeSome(own), hint) as VObject)
    }))
  }

  /** Sends merged versions to one replica (a record at a time for itself, one message otherwise). */
  private repairTo (t: Target, refs: RecordRef[], objs: VObject[]): Promise<unknown> {
    this.stats.readRepairs += refs.length
    if (t.node !== this.o.self) {
      const bytes = objs.map(encodeObject)
      if (refs.length > 1) return this.o.remote.putRecords(t.node, refs, bytes, t.hintFor)
      this.o.remote.putReplica(t.node, refs[0], bytes[0], t.hintFor, UNHEARD, 0)
      return Promise.resolve()
    }
    return Promise.all(refs.map((ref, i) => this.storeHere(t, ref, objs[i])))
  }

  private storeHere (t: Target, ref: RecordRef, obj: VObject, bytes?: Buffer): Promise<unknown> {
    if (t.hintFor !== null) {
      this.stats.hintsWritten++
      return this.o.local.storeHint(t.hintFor, ref, obj)
    }
    return this.o.local.merge(ref, obj, bytes)
  }

  /** What a plain GET returns at nowMs: the string value of a quorum read (no decoding on a single node). */
  value (ref: KeyRef, r: number, nowMs: number): StringRead | Promise<StringRead> {
    this.stats.reads++
    if (this.solo(r)) return this.o.local.readString(ref, nowMs)
    // (the round answers the string itself: no reaction, closure and array of records per GET)
    return this.quorumRead<StringRead>([ref], r, this.targets(ref), nowMs)
  }

  /** A quorum read: the merge of the first R replies (undefined: no replica holds the record). */
  get (ref: RecordRef, r: number): VObject | undefined | Promise<VObject | undefined> {
    this.stats.reads++
    // The only replica is this node: the fast path of a single node (no hashing, no fan-out).
    if (this.solo(r)) return this.o.local.read(ref)
    return this.quorumRead<Found[]>([ref], r, this.targets(ref), null).then(found => objectOf(found[0]))
  }

  /** A quorum read of several records of one key, in one request per replica. */
  getMany (refs: RecordRef[], r: number): Promise<Array<VObject | undefined>> {
    this.stats.reads++
    if (this.solo(r)) return Promise.all(refs.map(ref => this.o.local.read(ref)))
    return this.quorumRead<Found[]>(refs, r, this.targets(refs[0]), null).then(found => found.map(objectOf))
  }

  /**
   * Asks R targets (this node first, the others in turn), answers once R
   * replied, then repairs the replicas found behind (ReadRound, which asks the
   * rest when it needs them). A record this node holds in memory is read at
   * once, without a promise. Resolves with the records as found (valueAtMs
   * null), else with the first one's string value at valueAtMs (a plain GET).
   */
  private quorumRead<T extends Found[] | StringRead> (refs: RecordRef[], r: number, targets: Target[], valueAtMs: number | null): Promise<T> {
    let all = targets.length <= r || this.o.random.next() * READ_ALL_EVERY < 1
    let self = -1
    for (let i = 0; i < targets.length; i++) {
      const node = targets[i].node
      if (node === this.o.self) self = i
      else if (!all && this.o.placement.suspect(node)) all = true
    }
    if (!all) {
      // This node's copy first (no peer request), then the others from a rotating start, so each is read in turn.
      // (moved in place: targets is this read's own array, and splices made two arrays per read)
      if (self > 0) shiftRight(targets, 0, self)
      const from = self >= 0 ? 1 : 0
      const m = targets.length - from
      const turn = this.readTurn++ % m
      for (let k = 0; k < turn; k++) shiftLeft(targets, from)
    }
    const found = new Promise<T>(capture)
    const reject = capturedReject
    const round = new ReadRound(this, refs, r, targets, all, valueAtMs, capturedResolve, reject)
    try {
      round.start()
    } catch (e) {
      // (as an executor's throw would: the read fails unless already answered)
      reject(e as Error)
    }
    return found
  }

  /** For ReadRound: asks targets[i] for refs; the answer goes to round.replied or round.failed (at once for a record in memory here). */
  readTarget (round: ReadRound, refs: RecordRef[], t: Target, i: number): void {
    if (t.node === this.o.self && t.hintFor === null && refs.length === 1) {
      const found = this.o.local.readEntry(refs[0])
      if (!(found instanceof Promise)) {
        // (a cached entry's bytes are never changed: a write gives the slot new bytes)
        round.replied(i, [found?.bytes])
        return
      }
    }
    if (t.node !== this.o.self && refs.length === 1) {
      // (the usual remote read: the reply goes straight to the round, no promise)
      this.o.remote.getReplica(t.node, refs[0], t.hintFor, round, i)
      return
    }
    this.readFrom(t, refs).then(got => round.replied(i, got), () => round.failed(i))
  }

  /** For ReadRound: after a read that found replicas behind, the short wait before repairing them. */
  readRepairAfter (fn: () => void): void {
    this.o.clock.after(this.o.readRepairWaitMs, fn)
  }

  /** For ReadRound: a read that could not reach its quorum. */
  readLost (r: number, ok: number): QuorumError {
    this.stats.noQuorum++
    return new QuorumError(noQuorumMessage('read', r, ok))
  }

  /** For ReadRound: merged versions to a replica found behind (errors are ignored: anti-entropy catches up). */
  repairReplica (t: Target, refs: RecordRef[], objs: VObject[]): void {
    this.repairTo(t, refs, objs).catch(() => {})
  }

  /**
   * A quorum read of a range of one key's records (a collection's elements): the
   * union of R replies, merged per record, up to the smallest last row of a
   * replica that had more (so no record present on a replica is skipped).
   * Replicas behind on a row are repaired.
   */
  async readRange (key: RecordRef, range: RangeSpec, r: number): Promise<RangePage> {
    this.stats.reads++
    const targets = this.solo(r) ? [{ node: this.o.self, primary: true, hintFor: null }] : this.targets(key)
    const tracker = new QuorumTracker(r, targets.length)
    const pages = await new Promise<Array<{ t: Target, page: RangePage }>>((resolve, reject) => {
      const got: Array<{ t: Target, page: RangePage }> = []
      let settled = 0
      const finish = (): void => {
        if (tracker.state === 'won') resolve(got)
        else if (tracker.state === 'lost' && settled === targets.length) {
          this.stats.noQuorum++
          reject(new QuorumError(noQuorumMessage('read', r, tracker.ok)))
        }
      }
      if (targets.length === 0) return finish()
      for (const t of targets) {
        const read = t.node === this.o.self ? this.o.localRanges.range(range, t.hintFor) : this.o.remote.readRange(t.node, key, range, t.hintFor)
        read.then((page) => {
          settled++
          if (tracker.state === 'pending') got.push({ t, page })
          tracker.success(t.primary)
          finish()
        }, () => {
          settled++
          tracker.failure(t.primary)
          finish()
        })
      }
    })
    let cutoff: Buffer | null = null
    for (const { page } of pages) {
      if (!page.more || page.rows.length === 0) continue
      const last = page.rows[page.rows.length - 1][0]
      if (cutoff === null || Buffer.compare(last, cutoff) < 0) cutoff = last
    }
    const byKey = new Map<string, [Buffer, VObject]>()
    for (const { page } of pages) {
      for (const [skey, obj] of page.rows) {
        if (cutoff !== null && Buffer.compare(skey, cutoff) > 0) continue
        const ks = skey.toString('latin1')
        const prev = byKey.get(ks)
        byKey.set(ks, prev === undefined ? [skey, obj] : [skey, mergeSome(prev[1], obj) as VObject])
      }
    }
    const rows = [...byKey.values()].sort((a, b) => Buffer.compare(a[0], b[0]))
    if (pages.length > 1) this.repairRange(key, pages, rows, cutoff)
    return { rows, more: cutoff !== null }
  }

  /** Read repair of a range: each replica gets the merged rows it lacks or holds less of. */
  private repairRange (key: RecordRef, pages: Array<{ t: Target, page: RangePage }>, rows: Array<[Buffer, VObject]>, cutoff: Buffer | null): void {
    for (const { t, page } of pages) {
      const held = new Map<string, VObject>()
      for (const [skey, obj] of page.rows) held.set(skey.toString('latin1'), obj)
      const refs: RecordRef[] = []
      const objs: VObject[] = []
      for (const [skey, obj] of rows) {
        if (cutoff !== null && Buffer.compare(skey, cutoff) > 0) continue
        const mine = held.get(skey.toString('latin1'))
        if (mine !== undefined && sameVersions(mine, obj)) continue
        refs.push(elementRefOf(key, skey))
        objs.push(obj)
      }
      if (refs.length > 0) this.repairTo(t, refs, objs).catch(() => {})
    }
  }

  // ------------------------------------------------------------------ writes

  /**
   * A coordinated write of a new version of a key record. context null = blind
   * write (SET, DEL): supersede every version this node knows of. Resolves with
   * the writer's new context (undefined after a blind write) once W replicas
   * (PW of them primaries) have stored it.
   */
  put (ref: RecordRef, context: Clock | null, value: Buffer | null, w: number, pw = 0, expireAt = 0): Promise<Clock | undefined> {
    this.stats.writes++
    // value may be a view of a socket chunk: fine, since only encoded copies are kept.
    // The only replica is this node: one engine update, acknowledged when durable
    // (a plain SET's with no Change object).
    const solo = w === 1 && pw <= 1 && this.o.placement.solo()
    if (solo && context === null && value !== null && expireAt === 0) return this.o.local.writeValue(ref, value)
    // A client context (PUT, DELCTX) is for strings only.
    const stringOnly = context !== null
    const change: Change = value === null ? { op: 'tombstone', context, stringOnly } : { op: 'value', context, value, expireAt, stringOnly }
    if (solo) return this.o.local.write(ref, change)
    return this.replicate(ref, [{ ref, change }], w, pw)
  }

  /**
   * A write of several records of one key, in one message per replica, acknowledged
   * once W replicas stored all of them.
   */
  writeMany (key: RecordRef, writes: RecordWrite[], w: number): Promise<void> {
    return this.stageMany(key, writes, w).acked
  }

  /**
   * A write of several records of one key, in two steps:
   *
   *   staged ─ the writes are in place for the key's next read-modify-write to
   *            build on (Records.txn releases the key's lock here);
   *   acked  ─ the write is acknowledged: W replicas stored it (durable with --sync).
   *
   * On a single node (W = 1) staged is as soon as every record's new version is
   * in the engine's overlay, readable here and part of one group commit with
   * whatever else this tick writes; acked is when that commit is durable. In a
   * cluster staged is acked: the next quorum read may be answered by replicas
   * this write has not reached yet, so the next run must wait for W of them.
   */
  stageMany (key: RecordRef, writes: RecordWrite[], w: number): { staged: Promise<void>, acked: Promise<void> } {
    this.stats.writes++
    let staged: Promise<void>
    let acked: Promise<void>
    if (w === 1 && this.o.placement.solo()) {
      // What a solo node read came from this replica: nothing to merge in.
      const outcomes = Promise.all(writes.map(wr => this.o.local.apply(wr.ref, wr.change)))
      staged = outcomes.then(() => {})
      acked = outcomes.then(async (os) => { await Promise.all(os.flatMap(o => [o.durable, o.releasable])) })
    } else {
      acked = this.replicate(key, writes, w, 0).then(() => {})
      staged = acked
    }
    // The caller awaits one, then the other: neither is an unhandled rejection meanwhile.
    staged.catch(() => {})
    acked.catch(() => {})
    return { staged, acked }
  }

  /**
   * Builds the new versions (on this node's copy when it is a primary target,
   * else under a one-time actor) and sends them to every target; resolves with
   * the writer's context once W of them (PW primaries) stored them. The usual
   * SET (one record in memory here, its dot releasable at once) goes from the
   * local write to the replica requests without a promise in between.
   */
  private replicate (key: RecordRef, writes: RecordWrite[], w: number, pw: number, retried = false): Promise<Clock | undefined> {
    const targets = this.targets(key)
    let selfTarget: Target | undefined
    for (let i = 0; i < targets.length; i++) if (targets[i].node === this.o.self) selfTarget = targets[i]
    if (selfTarget === undefined || selfTarget.hintFor !== null) return this.replicateFresh(key, targets, selfTarget, writes, w, pw)
    const self = selfTarget
    let first: PutOutcome | Promise<PutOutcome>
    let applied: Array<PutOutcome | Promise<PutOutcome>> | null = null
    try {
      // (one write, the usual SET: no array of outcomes)
      if (writes.length === 1) first = this.o.local.apply(writes[0].ref, writes[0].change, writes[0].incoming)
      else first = (applied = writes.map(wr => this.o.local.apply(wr.ref, wr.change, wr.incoming)))[0]
    } catch (e) {
      return Promise.reject(e)
    }
    if (applied === null && !(first instanceof Promise) && first.releasable === null) {
      return this.fanOut(key, targets, self, writes, first.obj, first.bytes, first.context ?? undefined, first.durable, w, pw)
    }
    return Promise.all(applied ?? [first]).then(async (outcomes) => {
      await Promise.all(outcomes.map(o => o.releasable))
      const durable = outcomes.length === 1 ? outcomes[0].durable : Promise.all(outcomes.map(o => o.durable))
      return await this.fanOut(key, targets, self, writes, outcomes.map(o => o.obj), outcomes.map(o => o.bytes), outcomes[0].context ?? undefined, durable, w, pw)
    }, async (e) => {
      // The ring changed before the local write applied: coordinate again on the new one.
      if (!isNotReplica(e) || retried) throw e
      return await this.replicate(key, writes, w, pw, true)
    })
  }

  /**
   * Not a primary here: build each version from what the read found (or the
   * context) alone. Replicas merging it drop exactly what the context covers,
   * as a local put would. No local history of this key here: a one-time actor
   * (see identity.FreshActor).
   */
  private async replicateFresh (key: RecordRef, targets: Target[], selfTarget: Target | undefined, writes: RecordWrite[], w: number, pw: number): Promise<Clock | undefined> {
    const objs: VObject[] = []
    const bytes: Buffer[] = []
    let context: Clock | undefined
    for (const wr of writes) {
      let base = wr.incoming ?? EMPTY
      if (wr.incoming === undefined && wr.change.op !== 'increment' && wr.change.context === null) base = (await this.get(wr.ref, 1)) ?? EMPTY
      const built = await this.buildFresh(base, wr.change)
      objs.push(built.obj)
      bytes.push(encodeObject(built.obj))
      context ??= built.context
    }
    return await this.fanOut(key, targets, selfTarget, writes, objs, bytes, context, null, w, pw)
  }

  /**
   * Sends the versions to every target (the local one's write already made:
   * `localWrite`, or null) and counts the stores in a WriteRound. objs[i] null:
   * not at hand (a blind write on bytes), decoded only if a hint needs it.
   */
  private fanOut (key: RecordRef, targets: Target[], selfTarget: Target | undefined, writes: RecordWrite[], objs: PerRecord<VObject | null>, bytes: PerRecord<Buffer>, context: Clock | undefined, localWrite: Promise<unknown> | null, w: number, pw: number): Promise<Clock | undefined> {
    if (targets.length === 0) {
      this.stats.noQuorum++
      return Promise.reject(new QuorumError(noQuorumMessage('write', w, 0, { needed: pw, answered: 0 })))
    }
    let primariesAsked = 0
    for (let i = 0; i < targets.length; i++) if (targets[i].primary) primariesAsked++
    const written = new Promise<Clock | undefined>(capture)
    const reject = capturedReject
    const round = new WriteRound(this, key, writes, objs, bytes, context,
      w, pw, primariesAsked, targets, capturedResolve, reject)
    try {
      const n = targets.length
      for (let i = 0; i < n; i++) round.send(i, targets[i] === selfTarget ? localWrite : null)
    } catch (e) {
      // (as an executor's throw would: the write fails unless already answered)
      reject(e as Error)
    }
    return written
  }

  /**
   * For WriteRound: one target's copy of the versions (a hint on a fallback, a
   * merge on a primary). A single record to another node is answered to
   * `round` (null returned); else the promise of the write.
   */
  writeTarget (t: Target, writes: RecordWrite[], objs: PerRecord<VObject | null>, bytes: PerRecord<Buffer>, round: ReplicaReplies, tag: number): Promise<unknown> | null {
    if (t.node !== this.o.self) {
      if (writes.length > 1) return this.o.remote.putRecords(t.node, writes.map(wr => wr.ref), bytes as Buffer[], t.hintFor)
      this.o.remote.putReplica(t.node, writes[0].ref, at(bytes, 0), t.hintFor, round, tag)
      return null
    }
    return Promise.all(writes.map((wr, i) => this.storeHere(t, wr.ref, at(objs, i) ?? decodeObject(at(bytes, i)), at(bytes, i))))
  }

  /**
   * For WriteRound: tells round how target i's write ends. The rounds handed
   * one promise (the engine gives every write of a turn its group commit's)
   * share one reaction, not two closures and a promise each; the group is
   * closed once it settles, so a round handed that promise later starts another.
   */
  awaitWrite (write: Promise<unknown>, round: WriteRound, i: number): void {
    const awaited = this.awaited
    if (awaited !== null && awaited.write === write) {
      awaited.add(round, i)
      return
    }
    const waiters = new WriteWaiters(write, round, i)
    this.awaited = waiters
    write.then(() => this.wrote(waiters, false, null), (e: unknown) => this.wrote(waiters, true, e))
  }

  private wrote (waiters: WriteWaiters, failed: boolean, err: unknown): void {
    if (this.awaited === waiters) this.awaited = null
    waiters.tell(failed, err)
  }

  /** For WriteRound: in place of a target that refused, the next node of the preference list (null: none). */
  replacementFor (key: RecordRef, refused: Target, asked: Set<string>): Target | null {
    return this.replacement(key, refused, asked)
  }

  /** For WriteRound: a write that could not reach its quorum. */
  writeLost (tracker: QuorumTracker): QuorumError {
    this.stats.noQuorum++
    return new QuorumError(noQuorumMessage('write', tracker.needed, tracker.ok, { needed: tracker.primariesNeeded, answered: tracker.okPrimaries }))
  }

  /** A version built under a one-time actor on `base` (a coordinator holding no copy). */
  private async buildFresh (base: VObject, change: Change): Promise<{ obj: VObject, context: Clock | undefined }> {
    const fresh = this.o.freshActor()
    const nowMs = this.o.clock.now()
    let obj: VObject
    let counter: number
    let context: Clock | undefined
    if (change.op === 'increment') {
      const res = increment(base, { actor: fresh.actor, delta: change.delta, nowMs, counterFloor: this.o.lease.floor })
      obj = res.obj
      counter = res.counter
    } else {
      const res = put(base, {
        actor: fresh.actor,
        context: change.context ?? objectClock(base),
        value: change.op === 'value' ? change.value : null,
        marker: change.op === 'marker' ? change.marker : undefined,
        expireAt: change.op === 'tombstone' ? 0 : change.expireAt ?? 0,
        nowMs,
        counterFloor: this.o.lease.floor,
        vclockMax: this.o.vclockMax
      })
      this.o.local.truncations += res.truncated
      obj = res.obj
      counter = res.counter
      context = change.context === null ? undefined : res.context
    }
    const wait = this.o.lease.issued(counter) ?? fresh.release
    if (wait !== null) await wait
    return { obj, context }
  }

  /**
   * Runs fn serialized per key on this coordinator (read-modify-write commands):
   * what one run reads, the next run sees written. Not atomic cluster-wide.
   */
  serialized<R> (key: KeyRef, fn: () => Promise<R>): Promise<R> {
    const prev = this.locks.get(key.ks) ?? Promise.resolve()
    const run = prev.catch(() => {}).then(fn)
    this.locks.set(key.ks, run)
    const release = (): void => {
      if (this.locks.get(key.ks) === run) this.locks.delete(key.ks)
    }
    run.then(release, release)
    return run
  }
}

/**
 * One quorum read: targets asked, replies in, the answer out once R replied,
 * then read repair. R targets are asked at first (all of them when `all`);
 * a failure asks the next, and replies that differ ask every target left, so
 * that each replica is compared and repaired:
 *
 *   targets  [ asked: replied or in flight | not asked yet ]
 *                                           ^ asked
 *
 * The replies are compared as bytes: while they are equal (the usual case)
 * nothing is decoded and nothing needs repair, so no wait for the last replies
 * is armed (a late reply that differs is repaired with the others when it
 * arrives). One object per read instead of a closure per step.
 */
export class ReadRound implements ReplicaReplies {
  private readonly tracker: QuorumTracker
  private readonly replies: Array<Array<Buffer | undefined> | null>
  /** Per record: the common bytes while mixed[k] is false (valid once a reply came), else the merged object. */
  private readonly common: Array<Buffer | undefined>
  /** mixed, merged and repaired: made once replies differ (the usual read never needs them). */
  private mixed: boolean[] | null = null
  private merged: Array<VObject | undefined> | null = null
  private repaired: boolean[] | null = null
  private anyMixed = false
  private count = 0
  private settled = 0
  /** Targets asked so far: targets[0..asked). */
  private asked = 0
  /** In the loop of more(): a reply told during an ask leaves the next asks to that loop. */
  private asking = false
  private answered = false
  private repairing = false

  constructor (
    private readonly c: Coordinator,
    private readonly refs: RecordRef[],
    private readonly r: number,
    private readonly targets: Target[],
    private readonly all: boolean,
    /** null: answer the records as found; else the first record's string value at this time (a plain GET). */
    private readonly valueAtMs: number | null,
    private readonly resolve: (answer: Found[] | StringRead) => void,
    private readonly reject: (e: Error) => void
  ) {
    this.tracker = new QuorumTracker(r, targets.length)
    const n = targets.length
    this.replies = new Array(n).fill(null)
    this.common = new Array(refs.length).fill(undefined)
  }

  start (): void {
    this.more()
    this.finish()
  }

  /**
   * Asks targets until the replies in flight can still make R (or every target
   * when `all`, or once replies differ). Bounded: each turn asks one more target.
   */
  private more (): void {
    if (this.asking) return
    this.asking = true
    while (this.asked < this.targets.length && (this.all || this.anyMixed || this.asked - this.settled < this.r - this.tracker.ok)) {
      const i = this.asked++
      this.c.readTarget(this, this.refs, this.targets[i], i)
    }
    this.asking = false
  }

  replied (i: number, got: Array<Buffer | undefined>): void {
    try {
      this.add(got)
    } catch {
      // undecodable bytes: this replica failed (what it merged so far was valid)
      this.failed(i)
      return
    }
    this.replies[i] = got
    this.settled++
    this.tracker.success(this.targets[i].primary)
    this.more()
    this.finish()
  }

  replicaReplied (i: number, err: unknown, bytes: Buffer | undefined): void {
    if (err === null) this.replied(i, [bytes])
    else this.failed(i)
  }

  failed (i: number): void {
    this.settled++
    this.tracker.failure(this.targets[i].primary)
    this.more()
    this.finish()
  }

  private add (got: Array<Buffer | undefined>): void {
    const { refs, common } = this
    for (let k = 0; k < refs.length; k++) {
      if (this.count === 0) common[k] = got[k]
      else if (this.mixed !== null && this.mixed[k]) {
        const merged = this.merged as Array<VObject | undefined>
        merged[k] = mergeSome(merged[k], decodeSome(got[k]))
      } else if (!sameBytes(common[k], got[k])) {
        const m = mergeSome(decodeSome(common[k]), decodeSome(got[k]))
        this.mixed ??= new Array(refs.length).fill(false)
        this.merged ??= new Array(refs.length).fill(undefined)
        this.merged[k] = m
        this.mixed[k] = true
        this.anyMixed = true
      }
    }
    this.count++
  }

  private foundAt (k: number): Found {
    const { mixed, merged } = this
    return mixed?.[k] === true ? (merged as Array<VObject | undefined>)[k] : this.common[k]
  }

  /** The answer once R replied: the records as found, or the string value of the first (valueAtMs). */
  private answer (): void {
    const nowMs = this.valueAtMs
    if (nowMs === null) return this.resolve(this.refs.map((_, k) => this.foundAt(k)))
    let value: StringRead
    try {
      const found = this.foundAt(0)
      value = found === undefined ? null : isBytes(found) ? stringAt(found, nowMs) : readString(found, nowMs)
    } catch (e) {
      // (undecodable bytes: the read fails, as a throw in a reaction would make it)
      return this.reject(e as Error)
    }
    this.resolve(value)
  }

  /** Replies equal to the common bytes are never behind; a mixed record's replies are compared by versions. */
  private behindOf (reply: Array<Buffer | undefined>): number[] {
    const behind: number[] = []
    const { mixed, merged } = this
    if (mixed === null || merged === null) return behind
    for (let k = 0; k < this.refs.length; k++) {
      const m = merged[k]
      if (!mixed[k] || m === undefined) continue
      const mine = reply[k]
      if (mine === undefined || !sameVersions(decodeObject(mine), m)) behind.push(k)
    }
    return behind
  }

  /** Read repair starts once every replica answered or the short wait is over; a reply that comes later is repaired as it arrives. */
  private repair (): void {
    if (!this.repairing || !this.anyMixed) return
    const repaired = this.repaired ??= []
    for (let i = 0; i < this.targets.length; i++) {
      const reply = this.replies[i]
      if (reply === null || repaired[i] === true) continue // no answer (yet): a later reply, anti-entropy or handoff catches it up
      repaired[i] = true
      const behind = this.behindOf(reply)
      const merged = this.merged as Array<VObject | undefined>
      if (behind.length > 0) this.c.repairReplica(this.targets[i], behind.map(k => this.refs[k]), behind.map(k => merged[k] as VObject))
    }
  }

  finish (): void {
    if (this.asking) return // the ask in progress finishes
    const state = this.tracker.state
    const everyReply = this.settled === this.targets.length
    if (!this.answered && state === 'won') {
      this.answered = true
      this.answer()
      if (!everyReply && this.anyMixed) {
        this.c.readRepairAfter(() => {
          this.repairing = true
          this.repair()
        })
      }
    } else if (!this.answered && state === 'lost' && this.settled === this.asked) {
      // Lost: say so once every replica asked has answered or failed, with the true count.
      this.answered = true
      this.reject(this.c.readLost(this.r, this.tracker.ok))
    }
    if (everyReply) this.repairing = true
    this.repair()
  }
}

/**
 * The rounds waiting for one local write promise (the engine gives every write
 * of a turn its group commit's), told together when it settles. The first
 * round is held in fields, so a write alone in its commit (small batches, an
 * open loop) makes no arrays.
 */
class WriteWaiters {
  private more: Array<WriteRound | number> | null = null

  constructor (readonly write: Promise<unknown>, private readonly round: WriteRound, private readonly tag: number) {}

  add (round: WriteRound, tag: number): void {
    // bounded: the writes of one group commit
    if (this.more === null) this.more = [round, tag]
    else this.more.push(round, tag)
  }

  tell (failed: boolean, err: unknown): void {
    tellRound(this.round, this.tag, failed, err)
    const more = this.more
    if (more === null) return
    for (let k = 0; k < more.length; k += 2) tellRound(more[k] as WriteRound, more[k + 1] as number, failed, err)
  }
}

function tellRound (round: WriteRound, tag: number, failed: boolean, err: unknown): void {
  if (failed) round.writeFailed(tag, err)
  else round.replicaReplied(tag, null)
}

/**
 * One replicated write: W stores (PW of them primaries) win it; a target that
 * refuses (not a replica in its ring) is replaced by the next node of the
 * preference list as it stands now; lost is reported once every replica asked
 * has answered or failed. One object per write instead of a closure per step:
 * the round is its own QuorumTracker (one object fewer per write).
 */
export class WriteRound extends QuorumTracker implements ReplicaReplies {
  private answered = false
  /** Nodes asked so far: only needed once a target refuses. */
  private asked: Set<string> | null = null

  constructor (
    private readonly c: Coordinator,
    private readonly key: RecordRef,
    private readonly writes: RecordWrite[],
    private readonly objs: PerRecord<VObject | null>,
    private readonly bytes: PerRecord<Buffer>,
    private readonly context: Clock | undefined,
    w: number,
    pw: number,
    primariesAsked: number,
    private readonly targets: Target[],
    private readonly resolve: (context: Clock | undefined) => void,
    private readonly reject: (e: Error) => void
  ) {
    super(w, targets.length, pw, primariesAsked)
  }

  /**
   * Sends the versions to targets[i] (its write already made: `write`, else
   * null), counting its answer. A replacement target is appended to targets,
   * so i names the target in every answer.
   */
  send (i: number, write: Promise<unknown> | null): void {
    write ??= this.c.writeTarget(this.targets[i], this.writes, this.objs, this.bytes, this, i)
    if (write !== null) this.c.awaitWrite(write, this, i)
  }

  /** Target i's write failed (its promise rejected with err). */
  writeFailed (i: number, err: unknown): void {
    this.refused(this.targets[i], err)
  }

  replicaReplied (i: number, err: unknown): void {
    if (err !== null) return this.refused(this.targets[i], err)
    this.success(this.targets[i].primary)
    this.finish()
  }

  private refused (t: Target, e: unknown): void {
    let next: Target | null = null
    if (isNotReplica(e)) {
      this.asked ??= new Set(this.targets.map(x => x.node))
      next = this.c.replacementFor(this.key, t, this.asked)
    }
    if (next === null) {
      this.failure(t.primary)
      return this.finish()
    }
    this.asked?.add(next.node)
    this.reassign(t.primary, next.primary)
    this.targets.push(next)
    this.send(this.targets.length - 1, null)
  }

  private finish (): void {
    if (this.answered) return
    const state = this.state
    if (state === 'won') {
      this.answered = true
      this.resolve(this.context)
    } else if (state === 'lost' && this.outstanding === 0) {
      // Every replica asked has answered or failed: the write is stored on this.ok of them.
      this.answered = true
      this.reject(this.c.writeLost(this))
    }
  }
}

/** A plain GET's answer from an object read at nowMs. */
export function readString (obj: VObject, nowMs: number): StringRead {
  const state = keyState(obj, nowMs)
  if (state.type === 'none') return null
  return state.type === 'string' ? state.value : WRONGTYPE
}
