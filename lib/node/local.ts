// This node's own replica of the data (and the hints it holds for others), on the
// engine. Every mutation is an engine update, so mutations of one key are
// serialized here and each sees the previous one's result.
//
// Replica writes are checked against the ring as they apply, not when they are
// sent or received: a write for a partition this node does not replicate (it
// handed it off, or is leaving), or a hint while this node is out of the ring,
// is refused with NotReplicaError. Once a ring change is seen here, nothing more
// lands in what it took away, so a hand-off that has drained a partition stays
// drained.
import { Engine, type Change, type CommittedWrite, type EngineKey, type Entry } from '../storage/engine.js'
import { pages, type Store } from '../storage/store.js'
import type { Clock as TimeSource } from '../runtime/clock.js'
import {
  blindWrite, decodeObject, isLive, encodeObject, liveValue, merge, newestValue, put, sameVersions,
  type Clock, type VObject
} from '../versioning/index.js'
import type { KeyRef } from './keys.js'
import type { CounterLease } from './identity.js'
import { Reader, Writer } from '../util/bytes.js'

/** Where this node stands in its current ring, asked as each replica write applies. */
export interface ReplicaPlacement {
  /** This node is one of the partition's primaries. */
  replicates (partition: number): boolean
  /** This node is in the ring (joining or valid), so it may stand in for a primary as a fallback. */
  takesHints (): boolean
}

export const NOT_REPLICA = 'DYNAKV_NOT_REPLICA'

/**
 * This node does not store the key: it is not one of the partition's primaries
 * in its ring, or (a hint) it is not in the ring. An answer, not a failure: the
 * coordinator asks the next node of the preference list instead.
 */
export class NotReplicaError extends Error {
  readonly code = NOT_REPLICA
}

/** A refusal from this node or, as an ERROR reply's code, from a peer. */
export function isNotReplica (e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === NOT_REPLICA
}

export interface LocalOptions {
  store: Store
  placement: ReplicaPlacement
  clock: TimeSource
  actor: string
  /** A one-time actor for a key this node holds no copy of (see identity.freshActor). */
  freshActor: () => { actor: string, release: Promise<void> | null }
  lease: CounterLease
  sync: boolean
  cacheBytes: number
  vclockMax: number
  onCommit?: (writes: readonly CommittedWrite[]) => void
}

export interface PutOutcome {
  /** The new object; null for a blind write (decode `bytes` if needed). */
  obj: VObject | null
  bytes: Buffer
  /** The context handed back to the writer (null for a blind write). */
  context: Clock | null
  /** Resolves when the new object is durable here. */
  durable: Promise<void>
  /** Resolves when the dot may be sent to other replicas (counter lease durable). */
  releasable: Promise<void>
}

const EMPTY: VObject = { siblings: [] }

export class LocalReplica {
  readonly engine: Engine
  truncations = 0
  /** Keys whose newest version here is a value (DBSIZE's estimate), kept up to date by every write. */
  liveKeys = 0
  /** Hints held per intended node. */
  private readonly hintCounts = new Map<string, number>()
  private readonly clock: TimeSource
  private readonly actor: string
  private readonly freshActor: LocalOptions['freshActor']
  private readonly lease: CounterLease
  private readonly vclockMax: number
  private readonly placement: ReplicaPlacement

  constructor (options: LocalOptions) {
    this.engine = new Engine({
      store: options.store,
      clock: options.clock,
      sync: options.sync,
      cacheBytes: options.cacheBytes,
      validate: decodeObject,
      onCommit: options.onCommit
    })
    this.clock = options.clock
    this.actor = options.actor
    this.freshActor = options.freshActor
    this.lease = options.lease
    this.vclockMax = options.vclockMax
    this.placement = options.placement
  }

  read (ref: KeyRef): VObject | undefined | Promise<VObject | undefined> {
    const found = this.engine.read('data', ref)
    if (found === undefined) return undefined
    if (found instanceof Promise) return found.then(objectOf)
    return decodeObject(found.bytes)
  }

  /** What a plain GET returns from this replica's copy (no decoding when it is in memory). */
  readValue (ref: KeyRef): Buffer | null | Promise<Buffer | null> {
    const found = this.engine.read('data', ref)
    if (found === undefined) return null
    if (found instanceof Promise) return found.then(e => e === undefined ? null : valueOf(e))
    return valueOf(found)
  }

  /** The stored bytes (use at once: a cached entry is updated in place by later writes). */
  readEntry (ref: KeyRef): Entry | undefined | Promise<Entry | undefined> {
    return this.engine.read('data', ref)
  }

  /**
   * A coordinated write. context null = blind write (SET/DEL): the context is
   * this replica's own merged clock, so the write supersedes every version held here.
   */
  put (ref: KeyRef, context: Clock | null, value: Buffer | null): Promise<PutOutcome> {
    // fn may run now (value in memory) or after a load: hand its outcome over either way
    // (null: refused, the ring changed under the coordinator).
    let built: Omit<PutOutcome, 'durable'> | null | undefined
    let deliver: ((o: Omit<PutOutcome, 'durable'> | null) => void) | null = null
    const durable = this.engine.update('data', ref, (cur) => {
      if (!this.placement.replicates(ref.partition)) {
        built = null
        deliver?.(built)
        return { result: undefined }
      }
      const v = this.newVersion(cur, context, value)
      built = { obj: v.obj, bytes: v.bytes, context: v.context, releasable: v.release ?? Promise.resolve() }
      deliver?.(built)
      return { next: { bytes: v.bytes }, result: undefined }
    })
    return new Promise((resolve, reject) => {
      deliver = (o) => {
        if (o === null) reject(notReplica(ref))
        else resolve({ ...o, durable })
      }
      if (built !== undefined) return deliver(built)
      durable.catch(reject)
    })
  }

  /**
   * A write on a single node, acknowledged once durable with the writer's new
   * context (undefined for a blind write, whose writer has no use for one).
   * The only member replicates every partition: no ring to check.
   */
  write (ref: KeyRef, context: Clock | null, value: Buffer | null): Promise<Clock | undefined> {
    return this.engine.update('data', ref, (cur) => {
      const v = this.newVersion(cur, context, value)
      return { next: { bytes: v.bytes }, result: v.context ?? undefined }
    })
  }

  /**
   * The DVV put on this replica's copy; a key with no copy here gets a fresh
   * actor. A blind write works on the encoded object (no decoding, no context).
   */
  private newVersion (cur: Entry | undefined, context: Clock | null, value: Buffer | null): { bytes: Buffer, obj: VObject | null, context: Clock | null, release: Promise<void> | null } {
    const fresh = cur === undefined ? this.freshActor() : null
    const actor = fresh?.actor ?? this.actor
    if (context === null) {
      const res = blindWrite(cur?.bytes, { actor, value, nowMs: this.clock.now(), counterFloor: this.lease.floor, vclockMax: this.vclockMax })
      this.truncations += res.truncated
      this.liveKeys += (value === null ? 0 : 1) - (res.wasLive ? 1 : 0)
      return { bytes: res.bytes, obj: null, context: null, release: this.lease.issued(res.counter) ?? fresh?.release ?? null }
    }
    const res = put(cur === undefined ? EMPTY : decodeObject(cur.bytes), {
      actor,
      context,
      value,
      nowMs: this.clock.now(),
      counterFloor: this.lease.floor,
      vclockMax: this.vclockMax
    })
    this.truncations += res.truncated
    this.liveKeys += liveness(res.obj) - (cur !== undefined && isLive(cur.bytes) ? 1 : 0)
    return { bytes: encodeObject(res.obj), obj: res.obj, context: res.context, release: this.lease.issued(res.counter) ?? fresh?.release ?? null }
  }

  /** Merges versions from elsewhere (replication, read repair, anti-entropy, handoff). */
  merge (ref: KeyRef, incoming: VObject, incomingBytes?: Buffer): Promise<VObject> {
    return this.engine.update('data', ref, (cur): Change<VObject | null> => {
      if (!this.placement.replicates(ref.partition)) return { result: null }
      if (cur === undefined) {
        if (incoming.siblings.length === 0) return { result: incoming }
        this.liveKeys += liveness(incoming)
        return { next: { bytes: incomingBytes ?? encodeObject(incoming) }, result: incoming }
      }
      const current = decodeObject(cur.bytes)
      const merged = merge(current, incoming)
      if (sameVersions(merged, current)) return { result: current }
      this.liveKeys += liveness(merged) - liveness(current)
      // The usual replication case: the incoming set supersedes ours, and its bytes are canonical.
      const bytes = incomingBytes !== undefined && sameVersions(merged, incoming) ? incomingBytes : encodeObject(merged)
      return { next: { bytes }, result: merged }
    }).then(merged => merged ?? Promise.reject(notReplica(ref)))
  }

  /** Deletes the key if it still holds exactly `expected` (handoff drop, tombstone reaping). */
  dropIfUnchanged (ref: KeyRef, expected: Buffer): Promise<boolean> {
    return this.engine.update('data', ref, (cur) => {
      if (cur === undefined || !cur.bytes.equals(expected)) return { result: false }
      if (isLive(cur.bytes)) this.liveKeys--
      return { next: null, result: true }
    })
  }

  decode (bytes: Buffer): VObject {
    return decodeObject(bytes)
  }

  /** Stores versions meant for `target` (sloppy quorum), merged with any hint held for it. */
  storeHint (target: string, ref: KeyRef, incoming: VObject): Promise<void> {
    return this.engine.update('hints', engineKey(hintKey(target, ref.skey)), (cur) => {
      if (!this.placement.takesHints()) return { result: false }
      const held = cur === undefined ? undefined : decodeObject(cur.bytes)
      const next = held === undefined ? incoming : merge(held, incoming)
      if (held !== undefined && sameVersions(next, held)) return { result: true }
      if (cur === undefined) this.countHint(target, 1)
      return { next: { bytes: encodeObject(next) }, result: true }
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

  /** Forgets every count (FLUSHALL). */
  resetCounts (): void {
    this.hintCounts.clear()
    this.liveKeys = 0
  }

  /** The hint held for `target` and this key, if any. */
  readHint (target: string, ref: KeyRef): Promise<VObject | undefined> {
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

function notReplica (ref: KeyRef): NotReplicaError {
  return new NotReplicaError(`this node does not replicate partition ${ref.partition}`)
}

function liveness (obj: VObject | undefined): number {
  return obj !== undefined && liveValue(obj) !== null ? 1 : 0
}

/** The newest value of a stored entry, memoised on it (a repeated GET parses nothing). */
function valueOf (entry: Entry): Buffer | null {
  let value = entry.value
  if (value === undefined) {
    value = newestValue(entry.bytes)
    entry.value = value
  }
  return value
}

function objectOf (entry: Entry | undefined): VObject | undefined {
  return entry === undefined ? undefined : decodeObject(entry.bytes)
}

/** An engine key for a storage key used as it is (hints). */
function engineKey (skey: Buffer): EngineKey {
  return { ks: skey.toString('latin1'), skey }
}

/** hints: target ‖ md5(key) ‖ key, the target length-prefixed so one target is one key range. */
export function hintKey (target: string, skey: Buffer): Buffer {
  return new Writer(skey.length + target.length + 2).string(target).raw(skey).finish()
}

export function hintPrefix (target: string): Buffer {
  return new Writer(target.length + 2).string(target).finish()
}
