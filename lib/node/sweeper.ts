// The sweep: expired data is reclaimed without anybody reading it, and old
// tombstones go (docs/semantics.md "Expiry"). Every round walks a bounded slice
// of the partitions this node replicates, resuming where the last one stopped:
//
//   an expired key record      its values (or marker) become tombstones with the
//                              same dots (versioning strip: no reader sees a change,
//                              and replicas converge on the stripped bytes); an
//                              expired collection's elements are tombstoned first
//   an element nobody owns     (its key expired, was deleted or became another
//                              type) is tombstoned, as a DEL would have
//   a dead record past grace   reaped once every other primary holds nothing or a
//                              dead version of it (so it cannot come back); a key
//                              record only after its elements are gone
//
// Writes that cover other replicas (an expired collection's elements) are made
// by the first reachable primary of the partition only; strips and reaps are each
// replica's own business. The sweep also samples the time to live of volatile
// keys for INFO's avg_ttl.
//
// A partition is walked only while it may hold work: one whose last complete
// walk saw nothing but plain strings without expiry (liveForever) stays clean
// until a committed write (onCommit) puts anything else in it. At start-up
// every partition is dirty. Pages are PAGE_ROWS rows, each visited in its own
// event-loop turn, so a round never blocks the loop for long nor holds a
// thread-pool thread (which group-commit fsyncs share) for a large read
// (docs/performance.md, "The open-loop tail").
import { partitionEnd, partitionOfHash, partitionStart } from '../ring/hash.js'
import { every, type TimeSource, type Timer } from '../runtime/clock.js'
import type { Logger } from '../runtime/log.js'
import { traced } from '../runtime/trace.js'
import type { CommittedWrite } from '../storage/engine.js'
import type { Store } from '../storage/store.js'
import { keyAfter } from '../storage/store.js'
import { anchorRange, decodeObject, isDead, keyState, newestValueRange, type VObject } from '../versioning/index.js'
import type { Ring } from '../ring/index.js'
import { isKeyRecord, prefixEnd, refOfStorageKey, type KeyRef, type RecordRef } from './keys.js'
import type { LocalReplica } from './local.js'
import type { Records } from './records.js'

/** Rows looked at per round, and per-round caps on the costlier work. */
const ROWS_PER_ROUND = 2000
/** Rows read and visited per turn. */
const PAGE_ROWS = 250
const CLEANUPS_PER_ROUND = 10
const REAPS_PER_ROUND = 200

export interface SweeperStats {
  rounds: number
  /** Rows read. */
  rows: number
  stripped: number
  cleanups: number
  reaped: number
  failures: number
}

/** What the sweep needs of the node: narrow, as Coordinator's seams are. */
export interface SweeperDeps {
  self: string
  clock: TimeSource
  log: Logger
  store: Store
  local: LocalReplica
  records: Records
  partitions: number
  partitionBits: number
  tombstoneGraceMs: () => number
  ring: () => Ring
  isUp: (node: string) => boolean
  /** Another primary's copy of a record (undefined: it holds none). */
  fetch: (node: string, skey: Buffer) => Promise<VObject | undefined>
}

/**
 * A record with nothing visible for longer than the grace period: reapable, and
 * never copied by anti-entropy (a reaped delete must not come back).
 */
export function reapable (skey: Buffer, obj: VObject, nowMs: number, graceMs: number): boolean {
  if (!isDead(obj, nowMs, !isKeyRecord(skey))) return false
  let since = 0
  for (const s of obj.siblings) since = Math.max(since, s.ts, s.expireAt ?? 0)
  return since + graceMs <= nowMs
}

/** A key's element prefix and the kind of element it holds now (null: none). */
interface Owner { prefix: Buffer, kind: string | null }

function ownerOf (key: KeyRef, state: { type: string }): Owner {
  return { prefix: key.elementsPrefix(), kind: state.type === 'none' || state.type === 'string' ? null : state.type }
}

const STRING = { type: 'string' }

/** A plain string value with no expiry (the encoded fast path: no decoding, no view of the value): nothing for the sweep to do. */
function liveForever (bytes: Buffer): boolean {
  return newestValueRange(bytes, 0, bytes.length) && anchorRange.start >= 0 && anchorRange.expireAt === 0
}

export class Sweeper {
  readonly stats: SweeperStats = { rounds: 0, rows: 0, stripped: 0, cleanups: 0, reaped: 0, failures: 0 }
  /** Remaining time to live of sampled volatile keys (ms), a moving average. */
  avgTtlMs = 0
  private timer: Timer | null = null
  private running = false
  private cursor: { partition: number, after: Buffer | null } = { partition: 0, after: null }
  /** 1: the partition may hold something to sweep (see the header). */
  private readonly dirty: Uint8Array
  /**
   * The walk of the cursor's partition saw (or a commit put) something to
   * sweep: the partition stays dirty when the walk ends. The partition is
   * marked clean only then, so INFO never reads a walk in progress as clean.
   */
  private walkDirty = false

  constructor (private readonly d: SweeperDeps) {
    this.dirty = new Uint8Array(d.partitions).fill(1)
  }

  /** The engine's commit listener: a record that is not a plain string without expiry makes its partition dirty. */
  readonly onCommit = (writes: readonly CommittedWrite[]): void => {
    // (indexed: a for-of made an iterator and a result a write here)
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]
      if (w.space !== 'data' || w.value === null) continue
      const p = partitionOfHash(w.key, this.d.partitionBits)
      if ((this.dirty[p] === 0 || p === this.cursor.partition) && !(isKeyRecord(w.key) && liveForever(w.value))) {
        this.dirty[p] = 1
        if (p === this.cursor.partition) this.walkDirty = true
      }
    }
  }

  /** Partitions that may hold something to sweep. */
  get dirtyPartitions (): number {
    let n = 0
    for (const d of this.dirty) n += d
    return n
  }

  start (intervalMs: number): void {
    if (intervalMs > 0) this.timer = every(this.d.clock, intervalMs, () => { traced('sweep.round', async () => { await this.round() }).catch(() => {}) })
  }

  stop (): void {
    this.timer?.cancel()
  }

  /** One bounded round. */
  async round (): Promise<void> {
    if (this.running) return
    this.running = true
    this.stats.rounds++
    try {
      await this.sweep()
    } catch (e) {
      this.stats.failures++
      this.d.log.debug(`sweep round: ${(e as Error).message}`)
    } finally {
      this.running = false
    }
  }

  private async sweep (): Promise<void> {
    const ring = this.d.ring()
    const q = this.d.partitions
    const mine = new Set(ring.replicaPartitions(this.d.self))
    const budget = { rows: ROWS_PER_ROUND, cleanups: CLEANUPS_PER_ROUND, reaps: REAPS_PER_ROUND }
    for (let step = 0; step < q && budget.rows > 0; step++) {
      const p = this.cursor.partition
      if (!mine.has(p) || (this.cursor.after === null && this.dirty[p] === 0)) {
        if (this.cursor.after !== null) this.dirty[p] = 1 // a walk left unfinished (the ring changed)
        this.cursor = { partition: (p + 1) % q, after: null }
        continue
      }
      // A walk from the partition's start: clean unless a row it visits or a commit meanwhile says otherwise.
      if (this.cursor.after === null) this.walkDirty = false
      const limit = Math.min(budget.rows, PAGE_ROWS)
      const rows = await this.d.store.range('data', {
        gte: this.cursor.after ?? partitionStart(p, q),
        lt: partitionEnd(p, q) ?? undefined,
        limit
      })
      budget.rows -= rows.length
      this.stats.rows += rows.length
      await traced('sweep.visit', async () => { await this.visit(p, rows, budget) })
      if (rows.length === limit) {
        this.cursor = { partition: p, after: keyAfter(rows[rows.length - 1][0]) }
      } else {
        if (!this.walkDirty) this.dirty[p] = 0
        this.cursor = { partition: (p + 1) % q, after: null }
      }
    }
  }

  private async visit (p: number, rows: Array<[Buffer, Buffer]>, budget: { cleanups: number, reaps: number }): Promise<void> {
    const now = this.d.clock.now()
    const grace = this.d.tombstoneGraceMs()
    const primaries = this.d.ring().preferenceList(p).primaries
    const first = primaries.find(n => n === this.d.self || this.d.isUp(n)) === this.d.self
    const others = primaries.filter(n => n !== this.d.self)
    // The key record last seen (elements follow theirs): its element prefix, and whether it owns them now.
    let owner: Owner | null = null
    const cleaned = new Set<string>()
    for (const [skey, bytes] of rows) {
      const ref = refOfStorageKey(skey, this.d.partitionBits)
      if (isKeyRecord(skey) && liveForever(bytes)) {
        // Most records: a plain string with no expiry, neither expired nor dead. Only its ownership matters.
        owner = ownerOf(ref as KeyRef, STRING)
        continue
      }
      this.walkDirty = true
      const obj = decodeObject(bytes)
      if (isKeyRecord(skey)) {
        const key = ref as KeyRef
        const timeless = keyState(obj, 0)
        const state = keyState(obj, now)
        if (state.type !== 'none' && state.expireAt > 0) this.sampleTtl(state.expireAt - now)
        owner = ownerOf(key, state)
        if (timeless.type !== 'none' && state.type === 'none') {
          // Expired: an expired collection's elements go first (by the first primary), then the strip.
          if (timeless.type !== 'string' && first && budget.cleanups > 0) {
            budget.cleanups--
            await this.cleanup(key, cleaned)
          }
          if (await this.d.local.stripExpired(ref, now)) this.stats.stripped++
          continue
        }
        if (budget.reaps > 0 && reapable(skey, obj, now, grace) && await this.noElementsHere(key)) {
          budget.reaps--
          await this.reap(ref, skey, bytes, others, now)
        }
        continue
      }
      const parentKey = (ref as { parent: KeyRef }).parent
      // A page that starts inside a collection has not seen its key record: read it here
      // (else every round resuming mid-collection would walk all of it as an orphan's cleanup).
      if (owner === null || !skey.subarray(0, owner.prefix.length).equals(owner.prefix)) owner = await this.localOwner(parentKey, now)
      const owned = owner.kind === (ref as { kind: string }).kind
      if (!owned && first && budget.cleanups > 0 && !isDead(obj, now, true) && !cleaned.has(parentKey.ks)) {
        // An element whose key does not hold it any more: tombstoned as the key's DEL would have.
        budget.cleanups--
        await this.cleanup(parentKey, cleaned)
        continue
      }
      if (budget.reaps > 0 && reapable(skey, obj, now, grace)) {
        budget.reaps--
        await this.reap(ref, skey, bytes, others, now)
      }
    }
  }

  private sampleTtl (ms: number): void {
    this.avgTtlMs = this.avgTtlMs === 0 ? ms : Math.round(this.avgTtlMs * 0.9 + ms * 0.1)
  }

  /** Tombstones every live element of a key whose key record does not hold them (expired, deleted, retyped). */
  private async cleanup (key: KeyRef, cleaned: Set<string>): Promise<void> {
    cleaned.add(key.ks)
    try {
      await this.d.records.cleanupOrphans(key)
      this.stats.cleanups++
    } catch (e) {
      this.stats.failures++
      this.d.log.debug(`sweep cleanup: ${(e as Error).message}`)
    }
  }

  /** What this replica's own key record says the key holds. */
  private async localOwner (key: KeyRef, now: number): Promise<Owner> {
    const bytes = await this.d.store.get('data', key.skey)
    return ownerOf(key, bytes === undefined ? { type: 'none' } : keyState(decodeObject(bytes), now))
  }

  private async noElementsHere (key: KeyRef): Promise<boolean> {
    const prefix = key.elementsPrefix()
    const rows = await this.d.store.range('data', { gte: prefix, lt: prefixEnd(prefix), limit: 1 })
    return rows.length === 0
  }

  /** Drops a dead record once every other primary holds nothing or a dead version of it. */
  private async reap (ref: RecordRef, skey: Buffer, bytes: Buffer, others: string[], now: number): Promise<void> {
    if (!others.every(n => this.d.isUp(n))) return
    try {
      const theirs = await Promise.all(others.map(n => this.d.fetch(n, skey)))
      if (!theirs.every(o => o === undefined || isDead(o, now, !isKeyRecord(skey)))) return
    } catch {
      return
    }
    if (await this.d.local.dropIfUnchanged(ref, bytes)) this.stats.reaped++
  }
}
