// The storage seam. Exactly two implementations sit behind it, both on
// abstract-level: classic-level (LevelDB on disk) and memory-level (tests and
// the simulator). Both pass spec/storage/store.spec.ts, one compliance suite.
//
// Key spaces are abstract-level sublevels:
//   data   md5(key) ‖ key            → encoded sibling set (a partition is one key range)
//   hints  target ‖ md5(key) ‖ key   → encoded sibling set meant for `target`
//   meta   utf8 name                 → node identity, membership, counter lease
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import type { AbstractLevel, AbstractSublevel, AbstractSnapshot } from 'abstract-level'
import { copyInto } from '../util/bytes.js'
import { KeyFilter } from './filter.js'
import { Buffer } from 'node:buffer'
import { readdir } from 'node:fs/promises'
import type { TimeSource, Timer } from '../runtime/clock.js'

export type Space = 'data' | 'hints' | 'meta'
export const SPACES: readonly Space[] = ['data', 'hints', 'meta']

/** A write: value null deletes the key. */
export interface WriteOp {
  space: Space
  key: Buffer
  value: Buffer | null
  /**
   * The value this write replaces, when the writer read it (the engine's
   * writes): the key was stored, or written, before, so the filter behind
   * mayHold holds it already.
   */
  before?: Buffer | undefined
  /** Whether there is a `before`, when the writer can say so without making it (the engine's writes). */
  replaces?: boolean
}

export interface RangeOptions {
  gte?: Buffer
  lt?: Buffer
  /** Entries returned at most; a page. Required: every scan is bounded. */
  limit: number
  snapshot?: Snapshot
}

export interface Snapshot {
  close (): Promise<void>
}

export interface Store {
  readonly kind: 'classic-level' | 'memory-level'
  open (): Promise<void>
  close (): Promise<void>
  get (space: Space, key: Buffer): Promise<Buffer | undefined>
  /**
   * A read on the calling thread: no thread-pool round trip, which costs more
   * than the read itself for a few keys (classic-level: ~5 µs vs ~15 µs per
   * getMany call, measured); for many keys getMany is cheaper per key.
   */
  getSync (space: Space, key: Buffer): Buffer | undefined
  getMany (space: Space, keys: Buffer[]): Promise<Array<Buffer | undefined>>
  /**
   * false: the key is certainly absent (no read needed); true: it may be there.
   * The data space keeps a filter of every key written since open and of every
   * key found at open (a background scan: until it ends, always true).
   */
  mayHold (space: Space, key: Buffer): boolean
  /** Resolves once the scan behind mayHold has ended: true if mayHold can answer false now. */
  filterBuilt (): Promise<boolean>
  /** Applies all ops atomically; with sync, durable (fsynced) when it resolves. */
  write (ops: readonly WriteOp[], sync: boolean): Promise<void>
  /** One page of a key range, in key order. */
  range (space: Space, options: RangeOptions): Promise<Array<[Buffer, Buffer]>>
  /** A point-in-time view for consistent paged scans; taken synchronously. */
  snapshot (): Snapshot
  /** Deletes every key of a space (FLUSHALL). */
  clear (space: Space): Promise<void>
}

/** The smallest key after k (where the next page of a range starts). */
export function keyAfter (k: Buffer): Buffer {
  return Buffer.concat([k, Buffer.from([0])])
}

export const PAGE_ROWS = 1000

/**
 * Every row of a range, a page at a time (at most pagesMax pages: every scan is
 * bounded). Break out of the loop to stop early.
 */
export async function * pages (store: Store, space: Space, range: { gte?: Buffer, lt?: Buffer, snapshot?: Snapshot } = {}, pagesMax = 10_000_000): AsyncGenerator<Array<[Buffer, Buffer]>> {
  let gte = range.gte
  for (let n = 0; n < pagesMax; n++) {
    const rows = await store.range(space, { gte, lt: range.lt, snapshot: range.snapshot, limit: PAGE_ROWS })
    if (rows.length > 0) yield rows
    if (rows.length < PAGE_ROWS) return
    gte = keyAfter(rows[rows.length - 1][0])
  }
}

export class StoreError extends Error {
  constructor (readonly code: 'DYNAKV_STORE_LOCKED' | 'DYNAKV_STORE_CORRUPT' | 'DYNAKV_STORE_OPEN', message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

type Db = AbstractLevel<string | Buffer | Uint8Array, Buffer, Buffer>
type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, Buffer, Buffer>

/**
 * classic-level's ChainedBatch, below abstract-level's checks: straight to the
 * native batch (a LevelDB WriteBatch), written and cleared for reuse.
 */
interface NativeBatch {
  _put: (key: Buffer, value: Buffer) => void
  _del: (key: Buffer) => void
  _write: (options: { sync: boolean }) => Promise<void>
  _clear: () => void
}

/** Native batches kept for reuse (LevelStore.write): one per group commit in flight, and one to spare. */
const SPARE_BATCHES = 4
const SYNC = { sync: true } as const
const NO_SYNC = { sync: false } as const

/** Prefixed keys shorter than this are built in the store's scratch buffer (scratchKey). */
const SCRATCH_KEY_BYTES = 1024

/** prefix ‖ k written into key (exactly their length). */
function prefixInto (key: Buffer, prefix: Buffer, k: Buffer): Buffer {
  copyInto.call(key, prefix, 0) // TypedArray#set: Buffer#copy validates its arguments at a cost per call
  copyInto.call(key, k, prefix.length)
  return key
}

/** Keys per page of the open-time scan that fills the filter. */
const SCAN_PAGE_KEYS = 1000

/** How often an open classic-level store looks for tables a compaction replaced and LevelDB kept (LevelStore.releaseReplacedTables). */
const TABLE_CHECK_MS = 1000

/** A table's number in LevelDB's 'leveldb.sstables' property (` 19:29039['k1' @ … ]`, one line a table). */
const LIVE_TABLE = /^ (\d+):/gm
/** A table file's number in the store's directory (LevelDB names new tables .ldb, and reads old .sst ones). */
const TABLE_FILE = /^(\d+)\.(?:ldb|sst)$/

const FORMAT = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const

class LevelStore implements Store {
  private readonly subs: Record<Space, Sub>
  private readonly prefixes: Record<Space, Buffer>
  /** Every data key written since open or present at open (once the scan has run): see mayHold. */
  private readonly filter = new KeyFilter()
  private filterReady = false
  private filterScan: Promise<boolean> = Promise.resolve(false)
  private closing = false
  /** See releaseReplacedTables: the next check's timer, the check in flight (null: none), the table list the last check found nothing replaced in, the replaced tables it found. */
  private tableTimer: Timer | null = null
  private tableCheck: Promise<boolean> | null = null
  private tablesChecked = ''
  private replacedBefore = new Set<number>()
  /** See scratchKey. */
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_KEY_BYTES)
  private readonly scratchViews = new Array<Buffer | undefined>(SCRATCH_KEY_BYTES).fill(undefined)
  /** The prefix the scratch starts with now. */
  private scratchPrefix: Buffer | null = null
  /** classic-level: native batches written and cleared, for the next writes (at most SPARE_BATCHES; dropped at close). */
  private readonly spareBatches: NativeBatch[] = []

  constructor (readonly kind: Store['kind'], private readonly db: Db, private readonly location: string, private readonly clock: TimeSource | null) {
    this.subs = {
      data: db.sublevel<Buffer, Buffer>('d', FORMAT),
      hints: db.sublevel<Buffer, Buffer>('h', FORMAT),
      meta: db.sublevel<Buffer, Buffer>('m', FORMAT)
    }
    const prefix = (s: Space): Buffer => Buffer.from(this.subs[s].prefixKey(Buffer.alloc(0), 'buffer', false) as Uint8Array)
    this.prefixes = { data: prefix('data'), hints: prefix('hints'), meta: prefix('meta') }
  }

  async open (): Promise<void> {
    try {
      await this.db.open({ passive: false })
    } catch (err) {
      throw translateOpenError(err, this.location)
    }
    this.closing = false
    this.filterScan = this.scanKeys().catch(() => false)
    this.scheduleTableCheck()
  }

  /** The next releaseReplacedTables, TABLE_CHECK_MS after the last one ended (a flush can wait behind a compaction). */
  private scheduleTableCheck (): void {
    this.tableTimer = this.clock?.after(TABLE_CHECK_MS, () => {
      this.tableCheck = this.releaseReplacedTables().catch(() => false).finally(() => {
        this.tableCheck = null
        if (!this.closing) this.scheduleTableCheck()
      })
    }) ?? null
  }

  /**
   * Adds every data key present to the filter, a page at a time, without
   * delaying the open. Writes add their keys before they reach the store, and
   * they do from the open on, so keys written during the scan are in the
   * filter whether the iterator sees them or not: once the scan has ended the
   * filter holds every key the store can hold.
   */
  private async scanKeys (): Promise<boolean> {
    let after: Buffer | undefined
    for (;;) {
      if (this.closing) return false
      // A fresh iterator a page: an iterator holds the tables of its moment,
      // so between pages none of the scan's does, and the tables a compaction
      // replaced meanwhile can go (releaseReplacedTables).
      const keys = await this.subs.data.keys(after === undefined ? { limit: SCAN_PAGE_KEYS } : { gt: after, limit: SCAN_PAGE_KEYS }).all()
      for (let i = 0; i < keys.length; i++) this.filter.add(keys[i])
      if (keys.length < SCAN_PAGE_KEYS) break
      after = keys[keys.length - 1]
    }
    this.filterReady = true
    return true
  }

  /**
   * LevelDB deletes, and unmaps, the tables a compaction replaced when the
   * compaction ends, but not those a read or an iterator still holds then
   * (its Version): those stay, their pages in RSS, until the next compaction
   * or memtable flush ends, which on a node that only reads may be never. The
   * first open after a bulk load compacts most of the database while the
   * filter's scan and the first reads run: 165 against 56 MB of tables at
   * 1 000 000 keys when only the scan's end released them, and once in four
   * memory runs 108 against 54 MB after 200 000 GETs when the scan released
   * them as it saw the list change (docs/performance.md, "RSS at 1 000 000
   * keys", "Session 17, mem17"). So TABLE_CHECK_MS after the last check, once the list has
   * changed since a check found nothing: a table file in the directory that
   * is not live and older than a live one was replaced (a running
   * compaction's outputs are newer than every live table, but for a memtable
   * flush in its middle). One the check before found too is held: a node
   * taking writes flushes or compacts often enough to delete it meanwhile.
   * compactRange of a range no key reaches flushes the memtable, and the
   * flush's end deletes them. Returns whether it flushed.
   */
  async releaseReplacedTables (): Promise<boolean> {
    const db = this.db as unknown as { getProperty: (property: string) => string, compactRange: (start: Buffer, end: Buffer) => Promise<void> }
    if (this.closing) return false
    const live = db.getProperty('leveldb.sstables')
    if (live === this.tablesChecked) return false
    const liveNumbers = new Set<number>()
    let newest = 0
    for (const m of live.matchAll(LIVE_TABLE)) {
      const n = Number(m[1])
      liveNumbers.add(n)
      if (n > newest) newest = n
    }
    const replaced = new Set<number>()
    for (const name of await readdir(this.location)) {
      const n = Number(TABLE_FILE.exec(name)?.[1] ?? newest)
      if (n < newest && !liveNumbers.has(n)) replaced.add(n)
    }
    const before = this.replacedBefore
    this.replacedBefore = replaced
    if (replaced.size === 0) this.tablesChecked = live
    let held = false
    for (const n of replaced) held ||= before.has(n)
    if (!held || this.closing) return false
    const past = Buffer.from([0xff]) // beyond every sublevel's prefix ('!d!', '!h!', '!m!')
    await db.compactRange(past, past)
    return true
  }

  async close (): Promise<void> {
    this.closing = true
    this.spareBatches.length = 0
    this.tableTimer?.cancel()
    await this.tableCheck
    await this.filterScan
    this.filterReady = false
    await this.db.close()
  }

  mayHold (space: Space, key: Buffer): boolean {
    return space !== 'data' || !this.filterReady || this.filter.has(key)
  }

  async filterBuilt (): Promise<boolean> {
    return await this.filterScan
  }

  async get (space: Space, key: Buffer): Promise<Buffer | undefined> {
    return await this.subs[space].get(key)
  }

  getSync (space: Space, key: Buffer): Buffer | undefined {
    // Read at once, before anything else fills the scratch key.
    return this.db.getSync(this.scratchKey(space, key))
  }

  async getMany (space: Space, keys: Buffer[]): Promise<Array<Buffer | undefined>> {
    // Prefixed here for the same reason as in write().
    const prefixed = new Array<Buffer>(keys.length)
    for (let i = 0; i < keys.length; i++) prefixed[i] = this.prefixed(space, keys[i])
    return await this.db.getMany(prefixed)
  }

  private prefixed (space: Space, k: Buffer): Buffer {
    return prefixInto(Buffer.allocUnsafe(this.prefixOf(space).length + k.length), this.prefixOf(space), k)
  }

  /**
   * The prefixed key in a view of one scratch buffer, for a native call that
   * copies it before returning (the chained batch's `_put`/`_del`, getSync):
   * no Buffer per put. One view per key length, made once; a key longer than
   * the scratch gets a Buffer of its own. Valid until the next call.
   */
  private scratchKey (space: Space, k: Buffer): Buffer {
    const prefix = this.prefixOf(space)
    const n = prefix.length + k.length
    if (n >= SCRATCH_KEY_BYTES) return this.prefixed(space, k)
    let view = this.scratchViews[n]
    if (view === undefined) {
      view = this.scratch.subarray(0, n)
      this.scratchViews[n] = view
    }
    // The prefix stays in the scratch while keys of one space follow each other (a batch's ops): only the key is written.
    if (this.scratchPrefix !== prefix) {
      copyInto.call(this.scratch, prefix, 0)
      this.scratchPrefix = prefix
    }
    copyInto.call(view, k, prefix.length)
    return view
  }

  // By name, not this.prefixes[space]: a keyed load that sees several names is megamorphic.
  private prefixOf (space: Space): Buffer {
    return space === 'data' ? this.prefixes.data : space === 'hints' ? this.prefixes.hints : this.prefixes.meta
  }

  write (ops: readonly WriteOp[], sync: boolean): Promise<void> {
    // A group commit at -P1 holds ~17 writes: what a batch costs once weighs
    // on each. On classic-level the ops go straight into a native batch
    // through the private API abstract-level defines for implementations
    // (`_put(key, value)`, `_del(key)`, `_write(options)`, `_clear()`:
    // encoded, prefixed keys; no hooks or 'write' listeners are used here),
    // and the batch is cleared and kept for a later commit: no ChainedBatch,
    // native WriteBatch and close promise per commit, none of abstract-level's
    // per-op checks (its put() ~10.9k instructions an op, `_put` ~4.6k) or
    // per-write status, resource and promise bookkeeping
    // (docs/performance.md, "Session 8, commit"). memory-level's batch
    // collects ops in the public put(), and a store not open takes the
    // public path too (it throws abstract-level's error).
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]
      // Before the store holds it, so mayHold never misses a key. A key with a value before this write is
      // in the filter already: added by the write that stored that value (in an earlier batch, or earlier
      // in this one), or at open by the scan of the keys present (docs/performance.md, "Session 7, setjs").
      if (op.space === 'data' && op.value !== null && !(op.replaces ?? op.before !== undefined)) this.filter.add(op.key)
    }
    if (this.kind !== 'classic-level' || this.db.status !== 'open') return this.writePublic(ops, sync)
    const batch = this.spareBatches.pop() ?? this.nativeBatch()
    try {
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]
        // The native batch copies the key at once: a scratch view will do.
        const key = this.scratchKey(op.space, op.key)
        if (op.value === null) batch._del(key)
        else batch._put(key, op.value)
      }
    } catch (err) {
      return Promise.reject(err)
    }
    return batch._write(sync ? SYNC : NO_SYNC).then(() => {
      batch._clear()
      if (this.spareBatches.length < SPARE_BATCHES && !this.closing) this.spareBatches.push(batch)
    })
  }

  /** A new native batch of the open database, not tracked by it (its resources are what db.close() closes; this store drops its batches at close). */
  private nativeBatch (): NativeBatch {
    const batch = this.db.batch()
    this.db.detachResource(batch)
    return batch as unknown as NativeBatch
  }

  /**
   * write() through abstract-level's public chained batch (memory-level, or a
   * store not open). On the root database with the sublevel prefixes applied
   * here: measured 3-8x faster than db.batch(array), and 4x faster than the
   * chained batch's own `sublevel` option, on classic-level 3.
   */
  private async writePublic (ops: readonly WriteOp[], sync: boolean): Promise<void> {
    const batch = this.db.batch()
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]
      const key = this.prefixed(op.space, op.key)
      if (op.value === null) batch.del(key)
      else batch.put(key, op.value)
    }
    await batch.write({ sync })
  }

  async range (space: Space, options: RangeOptions): Promise<Array<[Buffer, Buffer]>> {
    // abstract-level reads an explicitly undefined bound as a key: set only what is given.
    const o: { gte?: Buffer, lt?: Buffer, limit: number, snapshot?: AbstractSnapshot } = { limit: options.limit }
    if (options.gte !== undefined) o.gte = options.gte
    if (options.lt !== undefined) o.lt = options.lt
    if (options.snapshot !== undefined) o.snapshot = options.snapshot as AbstractSnapshot
    const it = this.subs[space].iterator(o)
    try {
      // nextv may return fewer than asked (classic-level stops near 16 KB): a short page is not the end.
      const rows: Array<[Buffer, Buffer]> = []
      while (rows.length < options.limit) {
        const more = await it.nextv(options.limit - rows.length)
        if (more.length === 0) break
        for (const row of more) rows.push(row)
      }
      return rows
    } finally {
      await it.close()
    }
  }

  snapshot (): Snapshot {
    return this.db.snapshot()
  }

  async clear (space: Space): Promise<void> {
    await this.subs[space].clear()
  }
}

function translateOpenError (err: unknown, location: string): Error {
  const cause = (err as { cause?: { code?: string } }).cause
  const code = cause?.code ?? (err as { code?: string }).code
  const detail = (cause as Error | undefined)?.message ?? (err as Error).message
  if (code === 'LEVEL_LOCKED') {
    return new StoreError('DYNAKV_STORE_LOCKED', `data directory ${location} is locked: another dynakv process is using it`, { cause: err })
  }
  if (code === 'LEVEL_CORRUPTION') {
    return new StoreError('DYNAKV_STORE_CORRUPT', `data directory ${location} is corrupt: ${detail}`, { cause: err })
  }
  return new StoreError('DYNAKV_STORE_OPEN', `cannot open data directory ${location}: ${detail}`, { cause: err })
}

/**
 * LevelDB's memory: up to two write buffers (the memtable being filled and the
 * one being flushed) and the block cache, all outside V8's heap, plus the log
 * replayed into a memtable at every open (written out as a table before the
 * open ends). 64 MB each cost ~130-190 MB of RSS and a start-up that replays
 * up to 64 MB of log (bench/memory, docs/performance.md). The object cache
 * above the store keeps the hot values; the block cache holds only data
 * blocks LevelDB decompressed (index and filter blocks live with each open
 * table), which random reads of cold keys seldom hit again: 2 MB instead of
 * LevelDB's 8 takes ~6 MB off RSS at 1 000 000 keys at the same CPU per
 * uncached GET ("RSS at 1 000 000 keys").
 *
 * The write buffer is LevelDB's 4 MB. A larger memtable means fewer flushes
 * and compactions, but every insert searches a larger skiplist (cache misses),
 * on the thread that commits the batch: with 16 MB, SET -P16's compaction
 * thread spent ~1 µs a SET less and the group commit's thread ~1 µs more
 * (bench/profile-threads), the same in all, and the bulk load's peak RSS was
 * ~24 MB higher (up to two memtables). docs/performance.md, "Session 7, storage".
 *
 * Table blocks of 8 KB, not LevelDB's 4: a durable SET -P16's background
 * thread spends about a tenth less (snappy compresses whole blocks, and a
 * record compresses against the one before it: ~7 % fewer bytes flushed and
 * compacted a SET, fewer blocks, index entries and checksums), and a GET of a
 * key the object cache does not hold costs the same; with 16 KB it cost ~5 µs
 * more (a read decompresses a whole block). docs/performance.md, "Session 12,
 * threads16".
 */
const LEVELDB_OPTIONS = { writeBufferSize: 4 * 1024 * 1024, cacheSize: 2 * 1024 * 1024, maxFileSize: 8 * 1024 * 1024, blockSize: 8 * 1024 }

/** A LevelDB store in dir; clock times its checks for replaced tables (LevelStore.releaseReplacedTables). */
export function classicLevelStore (dir: string, clock: TimeSource): Store {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { ...FORMAT, ...LEVELDB_OPTIONS }) as unknown as Db
  return new LevelStore('classic-level', db, dir, clock)
}

export function memoryLevelStore (): Store {
  const db = new MemoryLevel<Buffer, Buffer>(FORMAT) as unknown as Db
  return new LevelStore('memory-level', db, 'memory', null)
}
