// This node's own replica of the data (and the hints it holds for others), on the
// engine. Every mutation is an engine update, so mutations of one record are
// serialized here and each sees the previous one's result.
//
// Replica writes are checked against the ring as they apply, not when they are
// sent or received: a write for a partition this node does not replicate (it
// handed it off, or is leaving), or a hint while this node is out of the ring,
// is refused with NotReplicaError. Once a ring change is seen here, nothing more
// lands in what it took away, so a hand-off that has drained a partition stays
// drained.
//
// Counts kept up to date by every write of a key record (time-free, as Redis
// counts keys: an expired key counts until the sweep strips it):
//   liveKeys      key records holding a string or a collection marker (DBSIZE)
//   volatileKeys  those of them with an expiry (INFO keyspace expires=)
import { Engine, newEntry, type Change as EngineChange, type CommittedWrite, type EngineKey, type Entry } from '../storage/engine.js'
import { SlabEntry } from '../storage/cache.js'
import { pages, type Store } from '../storage/store.js'
import type { TimeSource } from '../runtime/clock.js'
import {
  COMPLEX, anchorRange, blindWrite, decodeObject, encodeObject, increment, keyState, merge, newestValue, newestValueRange, objectClock, put, strip, supersedes,
  BlindWriteResult, type BlindWriteOptions, type Clock, type KeyState, type Marker, type Total, type VObject
} from '../versioning/index.js'
import { isElement, type RecordRef } from './keys.js'
import type { CounterLease, FreshActor } from './identity.js'
import { Reader, Writer } from '../util/bytes.js'
import { Buffer } from 'node:buffer'

/** Where this node stands in its current ring, asked as each replica write applies. */
export interface ReplicaPlacement {
  /** This node is one of the partition's primaries. */
  replicates (partition: number): boolean
  /** This node is in the ring (joining or valid), so it may stand in for a primary as a fallback. */
  takesHints (): boolean
}

export const NOT_REPLICA = 'DYNAKV_NOT_REPLICA'

/**
 * This node does not store the record: it is not one of the partition's
 * primaries in its ring, or (a hint) it is not in the ring. An answer, not a
 * failure: the coordinator asks the next node of the preference list instead.
 */
export class NotReplicaError extends Error {
  readonly code = NOT_REPLICA
}

/** A refusal from this node or, as an ERROR reply's code, from a peer. */
export function isNotReplica (e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === NOT_REPLICA
}

function notReplica (ref: RecordRef): NotReplicaError {
  return new NotReplicaError(`this node does not replicate partition ${ref.partition}`)
}

export interface LocalOptions {
  store: Store
  placement: ReplicaPlacement
  clock: TimeSource
  actor: string
  /** A one-time actor for a key this node holds no copy of (see identity.FreshActor). */
  freshActor: () => FreshActor
  lease: CounterLease
  sync: boolean
  cacheBytes: number
  vclockMax: number
  /** The engine's cohort hold (ms; 0: none): see lib/storage/engine.ts. */
  holdMs?: number
  onCommit?: (writes: readonly CommittedWrite[]) => void
}

/**
 * A new version of one record. context: what the writer saw (null = everything
 * this replica holds, a blind write). Counter increments need no context.
 */
export type Change =
  | { op: 'value', context: Clock | null, value: Buffer, expireAt?: number, stringOnly?: boolean }
  | { op: 'tombstone', context: Clock | null, stringOnly?: boolean }
  | { op: 'marker', context: Clock | null, marker: Marker, expireAt?: number }
  | { op: 'increment', delta: Total }

export interface PutOutcome {
  /** The new object; null for a blind write (decode `bytes` if needed). */
  obj: VObject | null
  bytes: Buffer
  /** The context handed back to the writer (null for a blind write or an increment). */
  context: Clock | null
  /** Resolves when the new object is durable here. */
  durable: Promise<void>
  /** Resolves when the dot may be sent to other replicas (counter lease durable); null: at once. */
  releasable: Promise<void> | null
}

/** A write or read meant for a string met a key of another type. */
export class WrongTypeError extends Error {
  readonly code = 'DYNAKV_WRONGTYPE'
  constructor () {
    super('WRONGTYPE Operation against a key holding the wrong kind of value')
  }
}

/** A plain GET's answer: the value, none, or a key of another type. */
export const WRONGTYPE = Symbol('wrongtype')
export type StringRead = Buffer | null | typeof WRONGTYPE

const EMPTY: VObject = { siblings: [] }
/** EMPTY's bytes: the only valid encoding of an object without siblings. */
const EMPTY_BYTES = encodeObject(EMPTY)
const NO_STATE: KeyState = { type: 'none', value: null, expireAt: 0, counted: false }

export class LocalReplica {
  readonly engine: Engine
  truncations = 0
  /** Key records holding a string or a marker (DBSIZE's estimate), kept up to date by every write. */
  liveKeys = 0
  /** Those of them with an expiry. */
  volatileKeys = 0
  /** Hints held per intended node. */
  private readonly hintCounts = new Map<string, number>()
  private readonly clock: TimeSource
  private readonly actor: string
  private readonly freshActor: LocalOptions['freshActor']
  private readonly lease: CounterLease
  private readonly vclockMax: number
  private readonly placement: ReplicaPlacement
  /** blindWrite's options, filled in per write (it reads them synchronously): one object fewer per SET. */
  private readonly blind: BlindWriteOptions = { actor: '', oneTime: null, value: null, expireAt: 0, nowMs: 0, counterFloor: 0, vclockMax: 0 }
  /** blindWrite's result, refilled per write (read at once): one object fewer per SET. */
  private readonly blindOut = new BlindWriteResult()
  /**
   * The object an entry this replica wrote was encoded from, while that entry is
   * pending in the engine's overlay (once committed, the cache keeps bytes only and
   * the pending entry is garbage): a read-modify-write of a key just written, as a
   * txn staged right after another, reads it without decoding.
   */
  private readonly decoded = new WeakMap<Entry, VObject>()

  constructor (options: LocalOptions) {
    this.engine = new Engine({
      store: options.store,
      clock: options.clock,
      sync: options.sync,
      cacheBytes: options.cacheBytes,
      validate: decodeObject,
      holdMs: options.holdMs,
      onCommit: options.onCommit
    })
    this.clock = options.clock
    this.actor = options.actor
    this.freshActor = options.freshActor
    this.lease = options.lease
    this.vclockMax = options.vclockMax
    this.placement = options.placement
  }

  read (ref: RecordRef): VObject | undefined | Promise<VObject | undefined> {
    const found = this.engine.read('data', ref)
    if (found === undefined) return undefined
    if (found instanceof Promise) return found.then(e => e === undefined ? undefined : this.decodeEntry(e))
    return this.decodeEntry(found)
  }

  /** What a plain GET returns from this replica's copy at nowMs (no decoding for a plain string in memory). */
  readString (ref: RecordRef, nowMs: number): StringRead | Promise<StringRead> {
    const found = this.engine.read('data', ref)
    if (found === undefined) return null
    if (found instanceof Promise) return found.then(e => e === undefined ? null : stringOf(stateOf(e), nowMs))
    return stringOf(stateOf(found), nowMs)
  }

  /** The key's state at nowMs from this replica's copy. */
  readState (ref: RecordRef, nowMs: number): KeyState | Promise<KeyState> {
    const found = this.engine.read('data', ref)
    if (found === undefined) return NO_STATE
    if (found instanceof Promise) return found.then(e => e === undefined ? NO_STATE : atTime(stateOf(e), nowMs))
    return atTime(stateOf(found), nowMs)
  }

  /** The stored bytes (use at once: a cached entry is updated in place by later writes). */
  readEntry (ref: RecordRef): Entry | undefined | Promise<Entry | undefined> {
    return this.engine.read('data', ref)
  }

  /**
   * A coordinated write: `incoming` (what a quorum read found, or undefined) is
   * merged into this replica's copy first, then the change applies to the result.
   * The outcome comes at once when the record is in memory (the usual case: no
   * promise), else once it is loaded. Refused (NotReplicaError, rejected) when
   * the ring changed under the coordinator; a WrongTypeError is thrown.
   */
  apply (ref: RecordRef, change: Change, incoming?: VObject): PutOutcome | Promise<PutOutcome> {
    // fn may run now (value in memory) or after a load: hand its outcome over either way
    // (null: refused, the ring changed under the coordinator).
    let built: PutOutcome | null | undefined
    let deliver: ((o: PutOutcome | null) => void) | null = null
    const durable = this.engine.update('data', ref, (cur) => {
      if (!this.placement.replicates(ref.partition)) {
        built = null
        deliver?.(built)
        return { result: undefined }
      }
      const v = this.newVersion(ref, cur, change, incoming)
      // durable is the update's own promise, known only once update returns: filled in below (no copy of the outcome)
      built = { obj: v.obj, bytes: v.bytes, context: v.context, releasable: v.release, durable: null as unknown as Promise<void> }
      deliver?.(built)
      return { next: this.entryOf(v.bytes, v.obj), result: undefined }
    })
    if (built === null) return Promise.reject(notReplica(ref))
    if (built !== undefined) {
      built.durable = durable
      return built
    }
    return new Promise((resolve, reject) => {
      deliver = (o) => {
        if (o === null) reject(notReplica(ref))
        else {
          o.durable = durable
          resolve(o)
        }
      }
      durable.catch(reject)
    })
  }

  /**
   * A write on a single node, acknowledged once durable with the writer's new
   * context (undefined for a blind write or an increment: then the batch's own
   * promise, no extra one per write). The only member replicates every
   * partition: no ring to check.
   */
  write (ref: RecordRef, change: Change): Promise<Clock | undefined> {
    // No context handed back: the engine's write, with no closure and no change object per write (a SET).
    if (change.op === 'increment' || change.context === null) return this.engine.write('data', ref, this.nextVersion, change) as Promise<undefined>
    return this.engine.update('data', ref, (cur) => {
      const v = this.newVersion(ref, cur, change, undefined)
      return { next: newEntry(v.bytes), result: v.context ?? undefined }
    })
  }

  /**
   * write of a value with no context and no expiry (a plain SET): the value
   * is the engine's argument, with no Change object a write.
   */
  writeValue (ref: RecordRef, value: Buffer): Promise<undefined> {
    return this.engine.write('data', ref, this.nextValue, value) as Promise<undefined>
  }

  /** writeValue's new bytes (nextVersion's, for a value). */
  private readonly nextValue = (cur: Entry | undefined, ref: RecordRef, value: Buffer): Buffer => {
    const fresh = cur === undefined ? this.freshActor() : null
    const bytes = this.blindVersion(ref, cur, value, 0, fresh, this.clock.now())
    if (bytes !== null) {
      this.lease.issued(this.blindOut.counter)
      return bytes
    }
    return this.newVersion(ref, cur, { op: 'value', context: null, value }, undefined, fresh).bytes
  }

  /** write's new bytes (one function for every write: the engine hands it the ref and the change). */
  private readonly nextVersion = (cur: Entry | undefined, ref: RecordRef, change: Change): Buffer => {
    const fresh = cur === undefined ? this.freshActor() : null
    if (change.op === 'value' || change.op === 'tombstone') {
      const bytes = this.blindVersion(ref, cur, change.op === 'value' ? change.value : null, change.op === 'value' ? change.expireAt ?? 0 : 0, fresh, this.clock.now())
      if (bytes !== null) {
        this.lease.issued(this.blindOut.counter)
        return bytes
      }
    }
    return this.newVersion(ref, cur, change, undefined, fresh).bytes
  }

  /**
   * The new version on this replica's copy (merged with `incoming`); a record with
   * no copy here gets a fresh actor. A blind write of a plain string works on the
   * encoded object (no decoding, no context).
   */
  private newVersion (ref: RecordRef, cur: Entry | undefined, change: Change, incoming: VObject | undefined, fresh = cur === undefined ? this.freshActor() : null): { bytes: Buffer, obj: VObject | null, context: Clock | null, release: Promise<void> | null } {
    const nowMs = this.clock.now()
    const isKey = !isElement(ref)
    if (incoming === undefined && (change.op === 'value' || change.op === 'tombstone') && change.context === null) {
      const bytes = this.blindVersion(ref, cur, change.op === 'value' ? change.value : null, change.op === 'value' ? change.expireAt ?? 0 : 0, fresh, nowMs)
      if (bytes !== null) return { bytes, obj: null, context: null, release: this.lease.issued(this.blindOut.counter) ?? fresh?.release ?? null }
    }
    const actor = fresh?.actor ?? this.actor
    const before = cur === undefined ? EMPTY : this.decodeEntry(cur)
    const base = incoming === undefined ? before : merge(before, incoming)
    let obj: VObject
    let counter: number
    let context: Clock | null = null
    if (change.op !== 'increment' && change.op !== 'marker' && change.stringOnly === true && isKey) {
      const type = keyState(base, nowMs).type
      if (type !== 'none' && type !== 'string') throw new WrongTypeError()
    }
    if (change.op === 'increment') {
      const res = increment(base, { actor, delta: change.delta, nowMs, counterFloor: this.lease.floor })
      obj = res.obj
      counter = res.counter
    } else {
      const res = put(base, {
        actor,
        context: change.context ?? objectClock(base),
        // The object is kept while pending (decoded): its value must not be a view of a parser's buffer.
        value: change.op === 'value' ? Buffer.from(change.value) : null,
        marker: change.op === 'marker' ? change.marker : undefined,
        expireAt: change.op === 'tombstone' ? 0 : change.expireAt ?? 0,
        nowMs,
        counterFloor: this.lease.floor,
        vclockMax: this.vclockMax
      })
      this.truncations += res.truncated
      obj = res.obj
      counter = res.counter
      context = change.context === null ? null : res.context
    }
    if (isKey) this.countObjects(before, obj)
    return { bytes: encodeObject(obj), obj, context, release: this.lease.issued(counter) ?? fresh?.release ?? null }
  }

  /**
   * A blind write of a string or a tombstone on the encoded object: the new
   * bytes (its counter in blindOut), or null when the record is not a plain
   * string (take the general path). Counts the key's change.
   */
  private blindVersion (ref: RecordRef, cur: Entry | undefined, value: Buffer | null, expireAt: number, fresh: FreshActor | null, nowMs: number): Buffer | null {
    const o = this.blind
    o.actor = this.actor
    o.oneTime = fresh
    o.value = value
    o.expireAt = expireAt
    o.nowMs = nowMs
    o.counterFloor = this.lease.floor
    o.vclockMax = this.vclockMax
    // Engine.write's cached value comes read in place (SlabEntry): the record in its slab, no view.
    const res = cur instanceof SlabEntry ? blindWrite(cur.slab, o, this.blindOut, cur.start, cur.end) : blindWrite(cur?.bytes, o, this.blindOut)
    if (res === null) return null
    this.truncations += res.truncated
    if (!isElement(ref)) this.count(res.oldLive, res.oldExpireAt, value !== null, expireAt)
    return res.bytes
  }

  private count (wasLive: boolean, wasExpireAt: number, isLive: boolean, expireAt: number): void {
    this.liveKeys += (isLive ? 1 : 0) - (wasLive ? 1 : 0)
    this.volatileKeys += (isLive && expireAt > 0 ? 1 : 0) - (wasLive && wasExpireAt > 0 ? 1 : 0)
  }

  private countObjects (before: VObject | undefined, after: VObject | undefined): void {
    this.countStates(before === undefined ? NO_STATE : keyState(before, 0), after === undefined ? NO_STATE : keyState(after, 0))
  }

  /**
   * Counts a key record's change from entry a to entry b (a replica write that
   * supersedes): from a memoised state, else read in place (newestValueRange),
   * so a plain string makes no state object and no view of its value.
   */
  private countEntries (a: Entry, b: Entry): void {
    const wasLive = liveAt(a)
    const wasExpireAt = entryExpireAt
    this.count(wasLive, wasExpireAt, liveAt(b), entryExpireAt)
  }

  /** Counts a key record's change from one time-free state to another. */
  private countStates (a: KeyState, b: KeyState): void {
    this.count(a.type !== 'none', a.expireAt, b.type !== 'none', b.expireAt)
  }

  /** Merges versions from elsewhere (replication, read repair, anti-entropy, handoff). */
  merge (ref: RecordRef, incoming: VObject, incomingBytes?: Buffer): Promise<VObject> {
    return this.mergeInto(ref, incoming, incomingBytes, true) as Promise<VObject>
  }

  /**
   * A replica write: merge without the result, so that its promise is its batch's own (no extra one per write).
   * `incoming` null: the bytes are valid (validateObject) and decoded only if the write does not supersede the copy here.
   */
  store (ref: RecordRef, incoming: VObject | null, incomingBytes: Buffer): Promise<void> {
    return this.mergeInto(ref, incoming, incomingBytes, false) as Promise<unknown> as Promise<void>
  }

  /** merge (result: true) or store; a refusal (NotReplicaError) is thrown by the update, so it rejects. */
  private mergeInto (ref: RecordRef, incoming: VObject | null, incomingBytes: Buffer | undefined, result: boolean): Promise<VObject | undefined> {
    const isKey = !isElement(ref)
    const answer = (obj: VObject | null): VObject | undefined => result && obj !== null ? obj : undefined
    try {
      return this.engine.update('data', ref, (cur): EngineChange<VObject | undefined> => {
        if (!this.placement.replicates(ref.partition)) throw notReplica(ref)
        if (cur === undefined) {
          if (incoming === null) {
            // store's bytes (valid: validateObject), a record new here: stored as they came and counted in
            // place, no object (a replica's usual write of a key it did not hold; decoding made ~0.8 kB)
            const bytes = incomingBytes as Buffer
            if (bytes.equals(EMPTY_BYTES)) return { result: undefined }
            const next = newEntry(bytes)
            if (isKey) this.count(false, 0, liveAt(next), entryExpireAt)
            return { next, result: undefined }
          }
          if (incoming.siblings.length === 0) return { result: answer(incoming) }
          if (isKey) this.countObjects(undefined, incoming)
          return { next: newEntry(incomingBytes ?? encodeObject(incoming)), result: answer(incoming) }
        }
        // The usual replica write supersedes what is stored: keep its bytes, decode and merge nothing.
        if (incomingBytes !== undefined && supersedes(cur.bytes, incomingBytes)) {
          const next = this.entryOf(incomingBytes, incoming)
          if (isKey) this.countEntries(cur, next)
          return { next, result: answer(incoming) }
        }
        incoming ??= decodeObject(incomingBytes as Buffer)
        const current = this.decodeEntry(cur)
        const merged = merge(current, incoming)
        if (merged === current) return { result: answer(current) }
        // The incoming set supersedes ours (a case supersedes leaves to here), and its bytes are canonical.
        const bytes = incomingBytes !== undefined && merged === incoming ? incomingBytes : encodeObject(merged)
        if (bytes.equals(cur.bytes)) return { result: answer(current) }
        if (isKey) this.countObjects(current, merged)
        return { next: this.entryOf(bytes, merged), result: answer(merged) }
      })
    } catch (e) {
      // thrown at once when the record was in memory
      return Promise.reject(e)
    }
  }

  /** The sweep: rewrites expired values and markers of a record as tombstones (see versioning strip). */
  stripExpired (ref: RecordRef, nowMs: number): Promise<boolean> {
    const isKey = !isElement(ref)
    return this.engine.update('data', ref, (cur) => {
      if (cur === undefined) return { result: false }
      const current = decodeObject(cur.bytes)
      const stripped = strip(current, nowMs)
      if (stripped === current) return { result: false }
      if (isKey) this.countObjects(current, stripped)
      return { next: newEntry(encodeObject(stripped)), result: true }
    })
  }

  /** Deletes the record if it still holds exactly `expected` (handoff drop, tombstone reaping). */
  dropIfUnchanged (ref: RecordRef, expected: Buffer): Promise<boolean> {
    const isKey = !isElement(ref)
    return this.engine.update('data', ref, (cur) => {
      if (cur === undefined || !cur.bytes.equals(expected)) return { result: false }
      if (isKey) {
        const state = stateOf(cur)
        this.count(state.type !== 'none', state.expireAt, false, 0)
      }
      return { next: null, result: true }
    })
  }

  decode (bytes: Buffer): VObject {
    return decodeObject(bytes)
  }

  /** The entry's object: the one it was encoded from while it is pending, else decoded. */
  private decodeEntry (entry: Entry): VObject {
    return this.decoded.get(entry) ?? decodeObject(entry.bytes)
  }

  /** A new entry for the engine, its object remembered while it is pending (obj null: none at hand). */
  private entryOf (bytes: Buffer, obj: VObject | null): Entry {
    const entry = newEntry(bytes)
    if (obj !== null) this.decoded.set(entry, obj)
    return entry
  }

  /** Stores versions meant for `target` (sloppy quorum), merged with any hint held for it. */
  storeHint (target: string, ref: RecordRef, incoming: VObject): Promise<void> {
    return this.engine.update('hints', engineKey(hintKey(target, ref.skey)), (cur) => {
      if (!this.placement.takesHints()) return { result: false }
      const held = cur === undefined ? undefined : decodeObject(cur.bytes)
      const next = held === undefined ? incoming : merge(held, incoming)
      if (held !== undefined && next === held) return { result: true }
      if (cur === undefined) this.countHint(target, 1)
      return { next: newEntry(encodeObject(next)), result: true }
    }).then((stored) => {
      if (!stored) throw new NotReplicaError('this node is not in the ring: it takes no hints')
    })
  }

  private countHint (target: string, delta: number): void {
    const n = (this.hintCounts.get(target) ?? 0) + delta
    if (n <= 0) this.hintCounts.delete(target)
    else this.hintCounts.set(target, n)
  }

  /** Hints pending per intended node. */
  hintsPending (): ReadonlyMap<string, number> {
    return this.hintCounts
  }

  hintTargets (): Iterable<string> {
    return this.hintCounts.keys()
  }

  hintsPendingTotal (): number {
    let n = 0
    for (const c of this.hintCounts.values()) n += c
    return n
  }

  /** Counts the hints on disk (start-up). */
  async countHints (store: Store): Promise<void> {
    this.hintCounts.clear()
    for await (const rows of pages(store, 'hints')) {
      for (const [hkey] of rows) this.countHint(new Reader(hkey).string(), 1)
    }
  }

  /** Counts the live keys on disk (start-up, before any client is served). */
  async countKeys (store: Store, isKeyRecord: (skey: Buffer) => boolean): Promise<void> {
    for await (const rows of pages(store, 'data')) {
      for (const [skey, bytes] of rows) {
        if (!isKeyRecord(skey)) continue
        const state = stateOf({ bytes })
        this.count(false, 0, state.type !== 'none', state.expireAt)
      }
    }
  }

  /** Takes the counts a clean stop saved (start-up, instead of countKeys). */
  restoreCounts (counts: { liveKeys: number, volatileKeys: number }): void {
    this.liveKeys = counts.liveKeys
    this.volatileKeys = counts.volatileKeys
  }

  /** Forgets every count (FLUSHALL). */
  resetCounts (): void {
    this.hintCounts.clear()
    this.liveKeys = 0
    this.volatileKeys = 0
  }

  /** The hint held for `target` and this record, if any. */
  readHint (target: string, ref: RecordRef): Promise<VObject | undefined> {
    return Promise.resolve(this.engine.read('hints', engineKey(hintKey(target, ref.skey)))).then(objectOf)
  }

  /** Deletes a hint if it still holds exactly `expected` (after delivery). */
  dropHintIfUnchanged (target: string, hkey: Buffer, expected: Buffer): Promise<boolean> {
    return this.engine.update('hints', engineKey(hkey), (cur) => {
      if (cur === undefined || !cur.bytes.equals(expected)) return { result: false }
      this.countHint(target, -1)
      return { next: null, result: true }
    })
  }
}

/** The key's time-free state (keyState at time 0), memoised on the entry: a repeated GET parses nothing. */
export function stateOf (entry: Entry): KeyState {
  let state = entry.derived as KeyState | undefined
  if (state === undefined) {
    const fast = newestValue(entry.bytes)
    state = fast === COMPLEX
      ? keyState(decodeObject(entry.bytes), 0)
      : { type: fast.value === null ? 'none' : 'string', value: fast.value, expireAt: fast.expireAt, counted: false }
    entry.derived = state
  }
  return state
}

/** liveAt's expiry of the entry it was last given (0 when not live). */
let entryExpireAt = 0

/**
 * Whether the key's time-free state is not none, its expiry left in
 * entryExpireAt: stateOf's answer without building the state of a plain
 * string (its memoised one used when there is one).
 */
function liveAt (entry: Entry): boolean {
  let state = entry.derived as KeyState | undefined
  if (state === undefined) {
    const plain = entry instanceof SlabEntry
      ? newestValueRange(entry.slab, entry.start, entry.end)
      : newestValueRange(entry.bytes, 0, entry.bytes.length)
    if (plain) {
      const live = anchorRange.start >= 0
      entryExpireAt = live ? anchorRange.expireAt : 0
      return live
    }
    state = stateOf(entry)
  }
  entryExpireAt = state.type === 'none' ? 0 : state.expireAt
  return state.type !== 'none'
}

/** A time-free state at nowMs: none once its expiry has passed. */
export function atTime (state: KeyState, nowMs: number): KeyState {
  return state.expireAt > 0 && state.expireAt <= nowMs ? { ...NO_STATE, expireAt: state.expireAt } : state
}

/** What a plain GET returns at nowMs from a record's encoded bytes (no decoding for a plain string). */
export function stringAt (bytes: Buffer, nowMs: number): StringRead {
  return stringOf(stateOf({ bytes }), nowMs)
}

function stringOf (state: KeyState, nowMs: number): StringRead {
  if (state.type === 'none' || (state.expireAt > 0 && state.expireAt <= nowMs)) return null
  return state.type === 'string' ? state.value : WRONGTYPE
}

function objectOf (entry: Entry | undefined): VObject | undefined {
  return entry === undefined ? undefined : decodeObject(entry.bytes)
}

/** An engine key for a storage key used as it is (hints). */
function engineKey (skey: Buffer): EngineKey {
  return { ks: skey.toString('latin1'), skey }
}

/** hints: target ‖ storage key, the target length-prefixed so one target is one key range. */
export function hintKey (target: string, skey: Buffer): Buffer {
  return new Writer(skey.length + target.length + 2).string(target).raw(skey).finish()
}

export function hintPrefix (target: string): Buffer {
  return new Writer(target.length + 2).string(target).finish()
}
