// Read-modify-write over a key's records, for the commands of Redis's data types
// (docs/types.md). A transaction runs serialized per key on this coordinator: a
// quorum read of the key record and the element records it names, the
// command's decision, then one quorum write of every record it changes, each
// built on what the read found (so a remove covers exactly what was seen).
//
// A collection lives as a marker in its key record (type, expiry) and one
// record per element. Invariants kept here:
//   - every write that adds to a collection also rewrites its marker (a blind
//     write of the marker it saw, expiry kept), so an add concurrent with a DEL
//     that did not see it survives as a marker too (markers win over plain
//     tombstones, versioning/read.ts);
//   - a marker is only created over an element range cleaned of whatever an
//     earlier incarnation of the key left (expired, deleted, overwritten by a
//     string): those records are tombstoned first;
//   - DEL, and a string written over a collection, tombstone every element seen.
import type { TimeSource } from '../runtime/clock.js'
import { elementState, emptyObject, isTombstone, keyState, objectClock, type KeyState, type Marker, type VObject } from '../versioning/index.js'
import type { Coordinator, RecordWrite } from '../coordinator/coordinator.js'
import { WrongTypeError } from './local.js'
import { elementRefOf, prefixEnd, type ElementKind, type ElementRef, type KeyRef } from './keys.js'
import { Buffer } from 'node:buffer'

export { WrongTypeError }

/** What a transaction's function sees: the key record and the element records it asked for, as read. */
export interface TxnView {
  readonly key: KeyRef
  readonly obj: VObject | undefined
  /** The key's state now. */
  readonly state: KeyState
  readonly elements: ReadonlyArray<VObject | undefined>
  readonly nowMs: number
  /**
   * The key record holds the marker of a collection whose elements are all
   * removed: the key does not exist (state none), but a write must supersede
   * the marker (a value over its context, not an increment beside it).
   */
  readonly emptied?: boolean
}

export interface TxnOutcome<R> {
  /** incoming, when given, is what the change was built on (else what the txn read of that record). */
  writes: RecordWrite[]
  result: R
}

/** Element records read or written per request (a page). */
export const PAGE_RECORDS = 500
/** Pages one command may walk (10 million elements): every loop is bounded. */
const PAGES_MAX = 20_000

const EMPTY = emptyObject()

export class Records {
  constructor (
    private readonly coordinator: Coordinator,
    private readonly clock: TimeSource,
    private readonly quorum: () => { r: number, w: number }
  ) {}

  /**
   * Per key, the acknowledgement of its latest txn that wrote and is not
   * acknowledged yet (on a single node its writes are readable before they are
   * durable): the next txn's reply waits for it too.
   */
  private readonly unacked = new Map<string, Promise<void>>()

  now (): number {
    return this.clock.now()
  }

  /**
   * A read-modify-write of one key: reads the key record and `elements`,
   * runs fn (which may await further reads, e.g. a range), writes what it returns.
   * The key's next txn starts once these writes are staged (Coordinator.stageMany:
   * on a single node, as soon as they are readable here, so the txns of a tick
   * share one group commit); the result is returned once they are acknowledged,
   * and not before every earlier txn of the key whose writes it may have read:
   *
   *   txn 1  read ─ fn ─ stage ┬─────────── acked 1 ─► reply 1
   *   txn 2                    └ read ─ fn ─ stage ─── acked 1 ∧ acked 2 ─► reply 2
   */
  async txn<R> (key: KeyRef, elements: ElementRef[], fn: (view: TxnView) => TxnOutcome<R> | Promise<TxnOutcome<R>>): Promise<R> {
    const { acked, result } = await this.coordinator.serialized(key, async () => {
      const prior = this.unacked.get(key.ks)
      const { r, w } = this.quorum()
      const objs = await this.coordinator.getMany([key, ...elements], r)
      const nowMs = this.clock.now()
      const obj = objs[0]
      const view: TxnView = { key, obj, state: obj === undefined ? NONE : keyState(obj, nowMs), elements: objs.slice(1), nowMs }
      const { writes, result } = await this.typed(view, fn)
      // Nothing written, but what was read may be an earlier txn's staged write.
      if (writes.length === 0) return { acked: prior, result }
      const read = new Map<string, VObject | undefined>()
      read.set(key.ks, obj)
      elements.forEach((e, i) => read.set(e.ks, objs[i + 1]))
      const items: RecordWrite[] = writes.map(wr => ({ ...wr, incoming: wr.incoming ?? read.get(wr.ref.ks) }))
      const acks: Array<Promise<void>> = prior === undefined ? [] : [prior]
      for (let i = 0; i < items.length; i += PAGE_RECORDS) {
        const page = this.coordinator.stageMany(key, items.slice(i, i + PAGE_RECORDS), w)
        acks.push(page.acked)
        await page.staged
      }
      return { acked: this.unackedUntil(key, acks), result }
    })
    if (acked !== undefined) await acked
    return result
  }

  /** One promise for `acks`, the key's latest unacknowledged txn until it settles. */
  private unackedUntil (key: KeyRef, acks: Array<Promise<void>>): Promise<void> {
    const acked = acks.length === 1 ? acks[0] : Promise.all(acks).then(() => {})
    this.unacked.set(key.ks, acked)
    const forget = (): void => {
      if (this.unacked.get(key.ks) === acked) this.unacked.delete(key.ks)
    }
    acked.then(forget, forget)
    return acked
  }

  /**
   * fn over the view; when it finds the key of the wrong type and that is a
   * collection emptied of its elements (Redis deleted it), fn again over a view
   * of no key. Checked only on that path, as it costs a range read; fn has
   * written nothing when it throws WRONGTYPE.
   */
  private async typed<R> (view: TxnView, fn: (view: TxnView) => TxnOutcome<R> | Promise<TxnOutcome<R>>): Promise<TxnOutcome<R>> {
    try {
      return await fn(view)
    } catch (e) {
      if (!(e instanceof WrongTypeError) || !(await this.emptied(view.key, view.state))) throw e
      return await fn({ ...view, state: NONE, emptied: true })
    }
  }

  /**
   * The key's state (a quorum read of its key record). For a command on `expect`,
   * a collection of another type emptied of its elements is none.
   */
  async state (key: KeyRef, expect?: KeyState['type']): Promise<{ obj: VObject | undefined, state: KeyState }> {
    const obj = await this.coordinator.get(key, this.quorum().r)
    const state = obj === undefined ? NONE : keyState(obj, this.clock.now())
    if (expect === undefined || state.type === expect || !(await this.emptied(key, state))) return { obj, state }
    return { obj, state: NONE }
  }

  /** Is the key a collection whose elements are all removed (a marker lending the key nothing)? */
  private async emptied (key: KeyRef, state: KeyState): Promise<boolean> {
    return state.type !== 'none' && state.type !== 'string' && !(await this.hasElements(key, state.type))
  }

  /** Does the key exist (a string, or a collection with a live element)? */
  async existing (key: KeyRef): Promise<boolean> {
    const { state } = await this.state(key)
    return state.type !== 'none' && !(await this.emptied(key, state))
  }

  /**
   * Pages of a key's element records of one kind (all kinds: null), in element
   * order, from a quorum read; `from` starts at the first element ≥ it. Stops
   * when `visit` returns false.
   */
  async walk (key: KeyRef, kind: ElementKind | null, visit: (rows: Array<[Buffer, VObject]>) => boolean | Promise<boolean>, from?: Buffer, pageRecords = PAGE_RECORDS): Promise<void> {
    const prefix = kind === null ? key.elementsPrefix() : key.kindPrefix(kind)
    const end = prefixEnd(prefix)
    let start = from === undefined ? prefix : Buffer.concat([prefix, from])
    for (let n = 0; n < PAGES_MAX; n++) {
      const page = await this.coordinator.readRange(key, { start, end, limit: pageRecords }, this.quorum().r)
      if (page.rows.length > 0 && !(await visit(page.rows))) return
      if (!page.more || page.rows.length === 0) return
      start = Buffer.concat([page.rows[page.rows.length - 1][0], Buffer.from([0])])
    }
    throw new Error(`a collection larger than ${PAGES_MAX * pageRecords} records`)
  }

  /**
   * Tombstones of every live element record of the key a quorum read finds
   * (except those of kind `keep`): DEL's and a new marker's cleanup.
   */
  async cleanupWrites (key: KeyRef, keep: ElementKind | null = null): Promise<RecordWrite[]> {
    const writes: RecordWrite[] = []
    const kept = keep === null ? null : key.kindPrefix(keep)
    await this.walk(key, null, (rows) => {
      for (const [skey, obj] of rows) {
        if (elementState(obj).type === 'none') continue
        if (kept !== null && skey.subarray(0, kept.length).equals(kept)) continue
        writes.push({ ref: elementRefOf(key, skey), change: { op: 'tombstone', context: objectClock(obj) }, incoming: obj })
      }
      return true
    })
    return writes
  }

  /** The sweep's cleanup: tombstones the key's elements that its key record does not hold now. */
  cleanupOrphans (key: KeyRef): Promise<void> {
    return this.coordinator.serialized(key, async () => {
      const { state } = await this.state(key)
      const keep = state.type === 'none' || state.type === 'string' ? null : state.type
      await this.writeAll(key, await this.cleanupWrites(key, keep))
    })
  }

  /** Writes prepared outside a txn's function (a cleanup), in pages. */
  async writeAll (key: KeyRef, writes: RecordWrite[]): Promise<void> {
    const { w } = this.quorum()
    for (let i = 0; i < writes.length; i += PAGE_RECORDS) await this.coordinator.writeMany(key, writes.slice(i, i + PAGE_RECORDS), w)
  }

  /**
   * The writes that make `view.key` a collection of `type` before adding to it:
   * the marker rewritten (expiry kept), and when the key held no such
   * collection, its leftover elements tombstoned first. Throws WRONGTYPE when
   * the key holds something else.
   */
  async ensureCollection (view: TxnView, type: Marker): Promise<RecordWrite[]> {
    const { state, obj, key } = view
    // A collection whose last element was removed does not exist (Redis deletes
    // the key): its marker lends the key neither its type nor its expiry. Checked
    // only when either would matter, as it costs a range read.
    const emptied = state.type !== 'none' && state.type !== 'string' && (state.type !== type || state.expireAt !== 0) &&
      !(await this.hasElements(key, state.type))
    if (!emptied && state.type !== 'none' && state.type !== type) throw new WrongTypeError()
    const marker: RecordWrite = {
      ref: key,
      change: { op: 'marker', marker: type, context: objectClock(obj ?? EMPTY), expireAt: !emptied && state.type === type ? state.expireAt : 0 }
    }
    if (emptied) return [marker]
    // A new incarnation of an expired key: what the old one left must not come back.
    // (A deleted key's elements were each tombstoned by its DEL; one that survived
    // it was added concurrently, and its add wins. Elements a SET left behind are
    // the sweep's: cleaning on a read that may be stale could remove an add nobody
    // removed. An expired key the sweep has stripped is a tombstone that kept its
    // expiry: still an expiry's end, though its elements may not be cleaned yet.)
    if (state.type === type || obj === undefined || !endedByExpiry(obj)) return [marker]
    await this.writeAll(key, await this.cleanupWrites(key))
    return [marker]
  }

  /** Does the key have at least one live element of `kind` (a quorum read, stopping at the first)? */
  async hasElements (key: KeyRef, kind: ElementKind): Promise<boolean> {
    let found = false
    await this.walk(key, kind, (rows) => {
      found = rows.some(([, obj]) => elementState(obj).type !== 'none')
      return !found
    }, undefined, 16)
    return found
  }
}

const NONE: KeyState = { type: 'none', value: null, expireAt: 0, counted: false }

/** Did the key end by expiring: an expired value or marker, or one the sweep stripped to a tombstone (which keeps its expiry)? */
function endedByExpiry (obj: VObject): boolean {
  return keyState(obj, 0).type !== 'none' || obj.siblings.some(s => isTombstone(s) && (s.expireAt ?? 0) > 0)
}
