// The engine sits between the node runtime and a Store and is where speed comes from:
//
//   update(k) ──► overlay (pending, readable at once) ──► batch (one per tick) ──► store.write(sync)
//   read(k)   ──► overlay ──► cache ──► store.mayHold? ──► getMany (one per tick per space)
//                                          └─ no: absent, no read
//
// - Group commit: every write of a tick joins one batch. Up to maxInflight
//   batches (default 1) are written at once, provided they touch disjoint keys
//   (two writes of one key reach the store in order); what arrives meanwhile
//   forms the next batch. A write's promise resolves only once its batch is
//   durable (fsynced when `sync`). One at a time: a second batch in flight
//   waits in LevelDB's writer queue for the first one's fsync anyway, and
//   costs its own commit (a pool thread's wake-up and wait, a WAL write, an
//   fsync) for fewer writes (docs/performance.md, "Cluster request cost" for a
//   cluster's nodes, "Session 11, turn" for a single node).
// - Cohort hold (holdMs, a single node's): after a commit of n writes, 2 ≤ n
//   ≤ HOLD_MAX_WRITES, with fewer than n queued behind it, the next batch
//   waits until the writes queued reach those queued at the commit's end plus
//   n (the clients it answered send again and join it), or holdMs passes (then
//   after the turn's I/O). So -P1's clients form one commit, not two that
//   alternate (docs/performance.md, "Session 12, cohort"). A commit of one
//   write holds nothing: a lone client never waits for the clock. A held
//   batch's commit holds the next only if nothing came during it: under
//   steady (open-loop) arrivals each hold would otherwise wait longer than
//   the last, up to the bound (the lead's note under "Session 12, cohort").
//   A hold the bound ended skips the next eligible commits' (1, 2, 4… 64).
// - Read coalescing: cache misses of one tick become one getMany (a few are
//   read synchronously instead: cheaper than a thread-pool round trip).
// - Proof of absence: a miss on a key the store proves absent (its filter of
//   every key it can hold, Store.mayHold) is answered without a read, unless
//   a load of that key is already queued (updates behind it keep their order).
// - Overlay: writes are readable before they are durable, so a pipelined
//   `SET a 1; GET a` reads its own write.
// - Per-key serialization: every mutation is update(key, fn), and fn always sees
//   the latest value, so read-modify-write needs no lock at this level.
// - Commit listeners see (key, bytes before, bytes after) for each durable write
//   (the Merkle trees are fed from there).
import type { TimeSource, Timer } from '../runtime/clock.js'
import type { Space, Store, WriteOp } from './store.js'
import { ByteCache, SlabEntry, hashOf, hashOfBytes, type ByteRange, type Entry } from './cache.js'
import { traced } from '../runtime/trace.js'
import { Buffer } from 'node:buffer'
import { FastBuffer, bufferOf, byteOffsetOf } from '../util/bytes.js'

export type { Entry }

/** How callers name a key: ks indexes the engine's maps; skey (possibly computed lazily) is the storage key. */
export interface EngineKey {
  readonly ks: string
  readonly skey: Buffer
  /**
   * ks as bytes (ks is their latin1 string: a key record's key), when the
   * caller has them at hand; undefined otherwise. Engine.write hashes them and
   * the cache compares them instead of ks's char codes (a byte load a
   * character). Read during the call only.
   */
  readonly ksBytes?: Uint8Array | undefined
}

/** What fn returns: next undefined = no change, null = delete. */
export interface Change<R> {
  next?: Entry | null
  result: R
}

/**
 * A durable write, as commit listeners see it: value null = deleted. key and
 * before may be views of the cache's slabs, reused once the listeners have
 * run: a listener copies what it keeps (the cache's rule: cache.ts' header).
 */
export interface CommittedWrite {
  readonly space: Space
  readonly key: Buffer
  readonly value: Buffer | null
  readonly before: Buffer | undefined
}

export interface EngineOptions {
  store: Store
  clock: TimeSource
  sync: boolean
  cacheBytes: number
  /** Checks bytes loaded from the store (throws if they are not a valid value). */
  validate?: (bytes: Buffer) => void
  maxBatchOps?: number
  /** Batches written at once (disjoint keys only). Default 1. */
  maxInflight?: number
  /** The cohort hold's bound (ms; 0, the default: no hold). See the header. */
  holdMs?: number
  onCommit?: (writes: readonly CommittedWrite[]) => void
}

export interface EngineStats {
  batches: number
  batchedWrites: number
  /** Time spent in store writes (ms, the clock's resolution): batch latency = writeMs / batches. */
  writeMs: number
  reads: number
  readBatches: number
  cacheHits: number
  cacheMisses: number
  /** Keys read from the store (a load each). */
  storeReads: number
  /** Misses answered as absent without a read: the store proved the key absent. */
  provedAbsent: number
  /** Cohort holds begun, and those the bound (holdMs) ended. */
  holds: number
  holdsAtBound: number
}

const MISS = Symbol('miss')
/** What a write that changes nothing, after nothing pending, resolves with. */
const RESOLVED = Promise.resolve()

/** Up to this many misses in a tick are read on the main thread (store.getSync), more with one getMany. */
const SYNC_READS_MAX = 8

/**
 * The cohort hold applies after commits of at most this many writes: a
 * commit's fixed cost (~150 µs of CPU: the pool's hand-off, the WAL write,
 * fdatasync's kernel path) is then several µs a write; past it, holding only
 * leaves the main thread idle during the next fsync (a deep pipeline's).
 */
const HOLD_MAX_WRITES = 128

/**
 * After a hold the bound ended (the writes it waited for did not come: an
 * open loop's arrivals, a client gone), the next eligible commits hold
 * nothing: 1, then 2, 4… up to this many after each further one; a hold its
 * target ends starts the count again at 1.
 */
const HOLD_BACKOFF_MAX = 64

/** An overlay's smallest table; one grown past OVERLAY_SHRINK_AT slots goes back to that once empty. */
const OVERLAY_MIN = 64
const OVERLAY_SHRINK_AT = 1 << 14

/**
 * One queued write: the store's op, the commit listeners' record and the
 * overlay's entry at once. A write of Engine.write is its own entry (bytes
 * its value, skey its key): one object a write instead of two.
 */
class PendingWrite implements WriteOp, CommittedWrite, Entry {
  /** Entry.derived, when the write is its own entry. */
  derived: unknown = undefined
  readonly entry: Entry | null

  constructor (
    readonly space: Space,
    readonly key: Buffer,
    readonly value: Buffer | null,
    /** The value this write replaces is old[oldStart, oldEnd) (a cached record's slab, read in place: no view until `before` is asked for; the cache finds the record again from them). */
    readonly old: Buffer | undefined,
    readonly oldStart: number,
    private readonly oldEnd: number,
    /** null for a write outside the overlay (meta records). */
    readonly ks: string | null,
    /** hashOf(ks) (0 without ks): the overlay and the cache take it, so a write hashes its key once. */
    readonly hash: number,
    /** SELF: this write (its value is not null). */
    entry: Entry | null | typeof SELF,
    readonly batch: Batch
  ) {
    this.entry = entry === SELF ? this : entry
  }

  /** WriteOp.replaces: the key had a value the writer read (`before`). A getter: a field is 8 B more a write. */
  get replaces (): boolean {
    return this.old !== undefined
  }

  /** The value this write replaces (commit listeners: the Merkle trees); a view made per call when it lies in a slab. */
  get before (): Buffer | undefined {
    const old = this.old
    if (old === undefined || (this.oldStart === 0 && this.oldEnd === old.length)) return old
    return old.subarray(this.oldStart, this.oldEnd)
  }

  get bytes (): Buffer {
    return this.value as Buffer
  }

  get skey (): Buffer {
    return this.key
  }

  // A writer's fn may return the entry it was given: its storage key is this one's already.
  set skey (_: Buffer | undefined) {}
}

const SELF = Symbol('self')

class Batch {
  readonly ops: PendingWrite[] = []
  /** Earlier batches writing a key this one writes: it starts only after they are written. */
  readonly after: Batch[] = []
  /** Holds a write without a key (meta): written only when nothing else is in flight. */
  barrier = false
  written = false
  /** Started when a cohort hold ended: its commit holds the next batch only if nothing came meanwhile. */
  held = false
  /** The cache's epoch this batch opened (see settle: a slab its writes read in place is reused only once it settles). */
  epoch = 0
  readonly done: Promise<void>
  resolve!: () => void
  reject!: (err: Error) => void

  constructor () {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.done.catch(() => {}) // observed by each waiter; never an unhandled rejection
  }
}

/**
 * A new entry for a writer's fn (or one read from the store): every field
 * there from the start, so that apply setting skey and a reader memoising
 * `derived` store into the object as it is (no new shape, no property array
 * per write), and the loads on the write path see one shape.
 */
export function newEntry (bytes: Buffer, skey?: Buffer): Entry {
  return { bytes, skey, derived: undefined }
}

interface ReadQueue {
  keys: Buffer[]
  keyStrs: string[]
  waiters: Array<{ resolve: (e: Entry | undefined) => void, reject: (err: Error) => void }>
}

export class Engine {
  readonly stats: EngineStats = { batches: 0, batchedWrites: 0, writeMs: 0, reads: 0, readBatches: 0, cacheHits: 0, cacheMisses: 0, storeReads: 0, provedAbsent: 0, holds: 0, holdsAtBound: 0 }
  private readonly store: Store
  private readonly clock: TimeSource
  private readonly sync: boolean
  private readonly validate?: (bytes: Buffer) => void
  private readonly maxBatchOps: number
  private readonly onCommit?: (writes: readonly CommittedWrite[]) => void
  private readonly cache: ByteCache
  /** write's cached current value, read in place (refilled per write). */
  private readonly inPlace = new SlabEntry()
  /** Per space, the latest write of each key not written yet (readable before it is durable). */
  private readonly overlay: Record<Space, Overlay> = { data: new Overlay(), hints: new Overlay(), meta: new Overlay() }
  /** Keys of the data overlay whose latest write is not written yet. */
  private unwrittenData = 0
  private readonly loads: Record<Space, Map<string, Promise<Entry | undefined>>> = { data: new Map(), hints: new Map(), meta: new Map() }
  private readonly readQueues = new Map<Space, ReadQueue>()
  private readQueued = false
  /** Batches not yet handed to the store, in order; and those being written. */
  private readonly pending: Batch[] = []
  private readonly writing = new Set<Batch>()
  private readonly maxInflight: number
  private flushQueued = false
  private readonly holdMs: number
  /** While > 0, the next batch is held until this many writes are queued (or the timer ends the hold). */
  private holdTarget = 0
  private holdTimer: Timer | null = null
  /** A hold began: the next batch started is the held one. */
  private nextHeld = false
  /** Commits that hold nothing after a hold the bound ended; that many again, to HOLD_BACKOFF_MAX, after the next. */
  private holdSkip = 0
  private holdBackoff = 1
  /**
   * The bound, after the turn's I/O: Node runs expired timers before it polls,
   * so writes read in this turn still join (and may end the hold themselves).
   */
  private readonly holdExpired = (): void => {
    this.holdTimer = null
    this.clock.defer(this.endHold)
  }

  private readonly endHold = (): void => {
    if (this.holdTarget === 0 || this.holdTimer !== null) return // ended by its target meanwhile (and perhaps held again)
    this.stats.holdsAtBound++
    this.holdTarget = 0
    this.holdSkip = this.holdBackoff
    this.holdBackoff = Math.min(this.holdBackoff * 2, HOLD_BACKOFF_MAX)
    this.flush()
  }
  private boundaryTasks: Array<() => void> = []
  private failure: Error | null = null

  constructor (options: EngineOptions) {
    this.store = options.store
    this.clock = options.clock
    this.sync = options.sync
    this.validate = options.validate
    this.maxBatchOps = options.maxBatchOps ?? 4096
    this.maxInflight = options.maxInflight ?? 1
    this.holdMs = options.holdMs ?? 0
    this.onCommit = options.onCommit
    this.cache = new ByteCache(options.cacheBytes)
  }

  get cacheBytes (): number { return this.cache.sizeBytes }
  get cacheCount (): number { return this.cache.count }
  get pendingWrites (): number {
    let n = 0
    for (const b of this.writing) n += b.ops.length
    return n + this.queuedWrites()
  }

  /** Writes not yet handed to the store. */
  private queuedWrites (): number {
    let n = 0
    for (const b of this.pending) n += b.ops.length
    return n
  }

  /** The latest value if it is in memory (hash: hashOf(ks)); MISS when it must be loaded. A cached one is read into `inPlace` when given (no CachedEntry, no view). */
  private peek (space: Space, ks: string, hash: number, inPlace?: SlabEntry, ksBytes?: Uint8Array): Entry | undefined | typeof MISS {
    const pending = this.pendingOf(space, ks, hash)
    if (pending !== undefined) return pending.entry ?? undefined
    if (space !== 'data') return MISS
    const cached = inPlace === undefined ? this.cache.get(ks, hash) : this.cache.getInPlace(ks, inPlace, hash, ksBytes)
    if (cached === undefined) return MISS
    return cached ?? undefined
  }

  /**
   * read('data', k)'s bytes for a key record named by its key's bytes (no
   * string, no Entry, no view), when the cache answers it: the cache's slab
   * that holds them, their range in it left in `range`; null when known
   * absent; undefined when not cached or a write of it is pending (use read).
   * Not counted: a caller that answers from it counts a read and a hit in
   * stats. docs/performance.md, "getpath".
   */
  cachedBytes (key: Buffer, range: ByteRange, from = 0, to = key.length): Buffer | null | undefined {
    if (this.unwrittenData > 0) {
      const ks = key.toString('latin1', from, to)
      if (this.pendingOf('data', ks, hashOf(ks)) !== undefined) return undefined
    }
    return this.cache.getBytes(key, range, from, to)
  }

  /** The latest value of a key, synchronously when it is in memory. */
  read (space: Space, k: EngineKey): Entry | undefined | Promise<Entry | undefined> {
    this.stats.reads++
    const ks = k.ks
    const hash = hashOf(ks)
    const found = this.peek(space, ks, hash)
    if (found !== MISS) {
      this.stats.cacheHits++
      return found
    }
    this.stats.cacheMisses++
    if (this.provedAbsent(space, k)) {
      this.stats.provedAbsent++
      // Known absent from now on, as after a load that found nothing: the next read is a hit (a cached GET's).
      if (space === 'data') this.cache.set(ks, null, hash)
      return undefined
    }
    // Updates queued on the same load run first (in arrival order): read what they left.
    return this.load(space, k.skey, ks).then((loaded) => this.latest(space, ks, hash, loaded))
  }

  /**
   * Applies fn to the latest value of a key and stores what it returns. Updates of
   * one key run in arrival order, each seeing the previous one's result. Resolves
   * with fn's result once the write (or the pending write fn saw) is durable.
   */
  update<R> (space: Space, k: EngineKey, fn: (current: Entry | undefined) => Change<R>): Promise<R> {
    const hash = hashOf(k.ks)
    const current = this.current(space, k, hash)
    if (current !== MISS) return this.apply(space, k, hash, current, fn)
    return this.load(space, k.skey, k.ks).then((loaded) => this.apply(space, k, hash, this.latest(space, k.ks, hash, loaded), fn))
  }

  /**
   * update without a result, for the hottest writes (a blind SET): next returns
   * the new value's bytes (undefined: no change, null: delete) and gets k and
   * arg from here, so a write needs no closure, no Change object and no Entry
   * (the write is its own). Resolves once the write (or the pending write next
   * saw) is durable.
   */
  write<K extends EngineKey, A> (space: Space, k: K, next: (current: Entry | undefined, k: K, arg: A) => Buffer | null | undefined, arg: A): Promise<void> {
    // A cached value comes as the engine's SlabEntry, refilled per write: next reads it at once and keeps nothing of it.
    // The key hashed once: the overlay's lookups and the cache's, here and when the write commits (PendingWrite.hash);
    // from its bytes when the caller has them (the same hash), which the cache then compares too.
    const ksBytes = k.ksBytes
    const hash = ksBytes === undefined ? hashOf(k.ks) : hashOfBytes(ksBytes)
    const current = this.current(space, k, hash, this.inPlace, ksBytes)
    if (current !== MISS) return this.queue(space, k, hash, current, next(current, k, arg), SELF)
    return this.load(space, k.skey, k.ks).then((loaded) => {
      const c = this.latest(space, k.ks, hash, loaded)
      return this.queue(space, k, hash, c, next(c, k, arg), SELF)
    })
  }

  /** The latest value for an update when it is in memory or proved absent; MISS: load it. */
  private current (space: Space, k: EngineKey, hash: number, inPlace?: SlabEntry, ksBytes?: Uint8Array): Entry | undefined | typeof MISS {
    const found = this.peek(space, k.ks, hash, inPlace, ksBytes)
    if (found !== MISS || !this.provedAbsent(space, k)) return found
    this.stats.provedAbsent++
    return undefined
  }

  /**
   * The latest value once a load is done: earlier updates queued on the same
   * load ran first (in arrival order, each in its own reaction) and left their
   * result in the overlay.
   */
  private latest (space: Space, ks: string, hash: number, loaded: Entry | undefined): Entry | undefined {
    const now = this.peek(space, ks, hash)
    return now === MISS ? loaded : now
  }

  // By name, not this.overlay[space]: a keyed load that sees several names is megamorphic.
  private overlayOf (space: Space): Overlay {
    return space === 'data' ? this.overlay.data : space === 'hints' ? this.overlay.hints : this.overlay.meta
  }

  /** The key's write not written yet, if any (hash: hashOf(ks)). */
  private pendingOf (space: Space, ks: string, hash: number): PendingWrite | undefined {
    return this.overlayOf(space).get(ks, hash)
  }

  private loadsOf (space: Space): Map<string, Promise<Entry | undefined>> {
    return space === 'data' ? this.loads.data : space === 'hints' ? this.loads.hints : this.loads.meta
  }

  /**
   * A key neither in memory nor being loaded that the store proves absent
   * (Store.mayHold): read as absent without a load. A load in flight is
   * waited for even so: updates queued on it must run before this one.
   */
  private provedAbsent (space: Space, k: EngineKey): boolean {
    const loads = this.loadsOf(space)
    // (No load in flight, the common case: the key's string is not hashed for the Map.)
    return (loads.size === 0 || !loads.has(k.ks)) && !this.store.mayHold(space, k.skey)
  }

  private apply<R> (space: Space, k: EngineKey, hash: number, current: Entry | undefined, fn: (current: Entry | undefined) => Change<R>): Promise<R> {
    const change = fn(current)
    const done = this.applyNext(space, k, hash, current, change.next)
    // The common case needs no result: the batch's own promise, no extra one per write.
    if (change.result === undefined) return done as Promise<R>
    return done === RESOLVED ? Promise.resolve(change.result) : done.then(() => change.result)
  }

  /** Queues the key's next entry (undefined: no change, null: delete); resolves once it, or the pending write it follows, is durable. */
  private applyNext (space: Space, k: EngineKey, hash: number, current: Entry | undefined, next: Entry | null | undefined): Promise<void> {
    return this.queue(space, k, hash, current, next === undefined ? undefined : next === null ? null : next.bytes, next ?? null)
  }

  /** applyNext with the new bytes (undefined: no change, null: delete) and the entry readers see them in (SELF: the write). */
  private queue (space: Space, k: EngineKey, hash: number, current: Entry | undefined, value: Buffer | null | undefined, entry: Entry | null | typeof SELF): Promise<void> {
    const ks = k.ks
    const pending = this.pendingOf(space, ks, hash)
    if (value === undefined || (value === null && current === undefined && pending === undefined)) {
      // Nothing to write, but what fn saw may not be durable yet: wait for it.
      return pending === undefined ? RESOLVED : pending.batch.done
    }
    // The storage key: the old record's (no hashing), else the caller's. A cached record's is read from
    // the SlabEntry's fields, not through `current.skey`: that load sees every kind of Entry (megamorphic).
    let key: Buffer
    let old: Buffer | undefined
    let oldStart = 0
    let oldEnd = 0
    if (current instanceof SlabEntry) {
      old = current.slab
      oldStart = current.start
      oldEnd = current.end
      const skeyLen = current.skeyLen
      // (A view made from the slab's ArrayBuffer: Buffer#subarray's generic loads cost ~250–350 instructions a view more.)
      key = skeyLen < 0 ? k.skey : new FastBuffer(bufferOf.call(old), byteOffsetOf.call(old) + oldStart - skeyLen, skeyLen)
    } else if (current !== undefined) {
      old = current.bytes
      oldEnd = old.length
      // Not a pending write's storage key that is a view of a cache slab read in place (its oldStart > 0: a
      // record's value never starts a slab): that slab may be reused once the pending write settles (settle).
      key = current instanceof PendingWrite && current.oldStart > 0 ? k.skey : current.skey ?? k.skey
    } else key = k.skey
    if (value === null) entry = null
    else if (entry !== SELF && entry !== null) entry.skey = key
    const batch = this.openBatch()
    // (One construction site: V8 inlines the constructor there.)
    const write = new PendingWrite(space, key, value, old, oldStart, oldEnd, ks, hash, entry, batch)
    if (pending !== undefined && pending.batch !== batch && !pending.batch.written && !batch.after.includes(pending.batch)) batch.after.push(pending.batch)
    batch.ops.push(write)
    this.overlayOf(space).set(ks, write, hash)
    if (pending === undefined && space === 'data') this.unwrittenData++
    this.scheduleFlush()
    return batch.done
  }

  /** An unconditional write (meta records); ordered with every other write. */
  put (space: Space, key: Buffer, value: Buffer | null): Promise<void> {
    const batch = this.openBatch()
    batch.ops.push(new PendingWrite(space, key, value, undefined, 0, 0, null, 0, null, batch))
    batch.barrier = true
    this.scheduleFlush()
    return batch.done
  }

  /** Runs fn when no batch is in flight (at once, or as soon as the ones in flight commit; none starts meanwhile). */
  atBoundary (fn: () => void): void {
    if (this.writing.size === 0) fn()
    else this.boundaryTasks.push(fn)
  }

  /** Resolves once every write queued so far is durable (a cohort hold ends at once: the caller waits for these, not more). */
  async flushed (): Promise<void> {
    if (this.holdTarget > 0) {
      this.unhold()
      this.flush()
    }
    await Promise.all([...this.writing, ...this.pending].map(b => b.done.catch(() => {})))
  }

  /** A simulated crash: nothing more reaches the store. */
  halt (): void {
    this.failure ??= new Error('engine halted')
  }

  /** Forgets every cached and pending-free value (after FLUSHALL). */
  dropCache (): void {
    this.cache.clear()
  }

  /** The batch new writes join (a failed engine hands out batches that are already rejected). */
  private openBatch (): Batch {
    if (this.failure !== null) {
      const b = new Batch()
      b.reject(this.failure)
      return b
    }
    // Never pending[-1]: a negative index sends the load down V8's megamorphic path.
    let batch = this.pending.length === 0 ? undefined : this.pending[this.pending.length - 1]
    if (batch === undefined || batch.ops.length >= this.maxBatchOps) {
      batch = new Batch()
      batch.epoch = ++this.cache.epoch
      this.pending.push(batch)
    }
    return batch
  }

  /** Ends a cohort hold before its bound (the caller flushes). */
  private unhold (): void {
    this.holdTimer?.cancel()
    this.holdTimer = null
    this.holdTarget = 0
  }

  private scheduleFlush (): void {
    if (this.writing.size >= this.maxInflight || this.flushQueued) return
    if (this.holdTarget > 0) {
      if (this.queuedWrites() < this.holdTarget) return
      this.unhold()
      this.holdBackoff = 1
    }
    this.flushQueued = true
    this.clock.defer(() => {
      this.flushQueued = false
      this.flush()
    })
  }

  private flush (): void {
    if (this.failure !== null) {
      for (const b of this.pending.splice(0)) b.reject(this.failure)
      return
    }
    if (this.holdTarget > 0) return
    while (this.pending.length > 0 && this.writing.size < this.maxInflight && this.boundaryTasks.length === 0) {
      const batch = this.pending[0]
      // Writes of one key reach the store in order: a batch waits for the earlier ones writing its keys.
      if (this.writing.size > 0 && (batch.barrier || batch.after.some(b => !b.written))) return
      this.pending.shift()
      this.start(batch)
    }
  }

  private start (batch: Batch): void {
    batch.held = this.nextHeld
    this.nextHeld = false
    this.writing.add(batch)
    this.stats.batches++
    this.stats.batchedWrites += batch.ops.length
    const began = this.clock.now()
    traced('store.write', () => this.store.write(batch.ops, this.sync)).then(() => {
      this.stats.writeMs += this.clock.now() - began
      this.settle(batch, null)
    }, (err: Error) => {
      this.settle(batch, err)
    })
  }

  private settle (batch: Batch, err: Error | null): void {
    this.writing.delete(batch)
    batch.written = true
    batch.after.length = 0
    for (const op of batch.ops) {
      if (op.ks === null) continue
      // A later write of the key replaced it: that one is cached when it is written.
      if (!this.overlayOf(op.space).remove(op.ks, op, op.hash)) continue
      if (op.space !== 'data') continue
      this.unwrittenData--
      if (err === null) this.cache.set(op.ks, op.entry, op.hash, op.old, op.oldStart)
      else this.cache.delete(op.ks, op.hash)
    }
    if (err === null) {
      this.onCommit?.(batch.ops)
      batch.resolve()
    } else {
      // A failed write leaves the store in an unknown state: refuse further writes
      // (the node reports it) rather than acknowledge anything on top of it.
      this.failure ??= err
      batch.reject(err)
      for (const b of this.pending.splice(0)) b.reject(err)
    }
    this.releaseSlabs()
    if (this.writing.size === 0) {
      const tasks = this.boundaryTasks
      this.boundaryTasks = []
      for (const task of tasks) task()
    }
    // The cohort hold: the clients this commit answers send again and join the next one (bounded by holdMs).
    const queued = this.holdMs > 0 ? this.queuedWrites() : 0
    const holdable = err === null && this.holdMs > 0 && batch.ops.length >= 2 && batch.ops.length <= HOLD_MAX_WRITES && queued < batch.ops.length && (!batch.held || queued === 0) && this.writing.size === 0 && this.failure === null
    if (holdable && this.holdSkip > 0) this.holdSkip--
    else if (holdable) {
      this.stats.holds++
      this.nextHeld = true
      this.holdTarget = Math.min(queued + batch.ops.length, this.maxBatchOps)
      this.holdTimer = this.clock.after(this.holdMs, this.holdExpired)
      return
    }
    this.flush()
  }

  /**
   * The cache's slabs a settled write read in place may be reused: a write
   * holds a view of the slab its old value lay in (its storage key, `old`)
   * from queue until its batch's commit listeners have run, and the writes of
   * every epoch before the oldest batch not settled have settled (failed
   * ones' views are never read: no store write, no listener, and queue takes
   * no storage key from them). lib/storage/cache.ts' header has the rule.
   */
  private releaseSlabs (): void {
    let oldest = this.cache.epoch + 1
    for (const b of this.writing) if (b.epoch < oldest) oldest = b.epoch
    if (this.pending.length > 0 && this.pending[0].epoch < oldest) oldest = this.pending[0].epoch
    this.cache.release(oldest - 1)
  }

  private load (space: Space, key: Buffer, ks: string): Promise<Entry | undefined> {
    const loads = this.loadsOf(space)
    const inflight = loads.get(ks)
    if (inflight !== undefined) return inflight
    let queue = this.readQueues.get(space)
    if (queue === undefined) {
      queue = { keys: [], keyStrs: [], waiters: [] }
      this.readQueues.set(space, queue)
    }
    const q = queue
    const promise = new Promise<Entry | undefined>((resolve, reject) => {
      q.keys.push(key)
      q.keyStrs.push(ks)
      q.waiters.push({ resolve, reject })
    })
    loads.set(ks, promise)
    if (!this.readQueued) {
      this.readQueued = true
      this.clock.defer(() => this.flushReads())
    }
    return promise
  }

  private flushReads (): void {
    this.readQueued = false
    for (const [space, q] of this.readQueues) {
      this.readQueues.delete(space)
      this.stats.readBatches++
      this.stats.storeReads += q.keys.length
      if (q.keys.length <= SYNC_READS_MAX) {
        for (let i = 0; i < q.keys.length; i++) {
          let bytes: Buffer | undefined
          try {
            bytes = this.store.getSync(space, q.keys[i])
          } catch (err) {
            this.loadsOf(space).delete(q.keyStrs[i])
            q.waiters[i].reject(err as Error)
            continue
          }
          this.settleRead(space, q.keys[i], q.keyStrs[i], bytes, q.waiters[i])
        }
        continue
      }
      this.store.getMany(space, q.keys).then((values) => {
        for (let i = 0; i < values.length; i++) this.settleRead(space, q.keys[i], q.keyStrs[i], values[i], q.waiters[i])
      }, (err: Error) => {
        for (let i = 0; i < q.keys.length; i++) {
          this.loadsOf(space).delete(q.keyStrs[i])
          q.waiters[i].reject(err)
        }
      })
    }
  }

  private settleRead (space: Space, key: Buffer, ks: string, bytes: Buffer | undefined, waiter: ReadQueue['waiters'][number]): void {
    this.loadsOf(space).delete(ks)
    if (bytes !== undefined && this.validate !== undefined) {
      try {
        this.validate(bytes)
      } catch (err) {
        waiter.reject(err as Error)
        return
      }
    }
    const entry: Entry | undefined = bytes === undefined ? undefined : newEntry(bytes, key)
    // A pending write is newer than what was read: the overlay keeps precedence.
    if (space === 'data') {
      const hash = hashOf(ks)
      if (this.pendingOf('data', ks, hash) === undefined) this.cache.set(ks, entry ?? null, hash)
    }
    waiter.resolve(entry)
  }
}

/**
 * A space's pending writes: the latest write of each key whose batch is not
 * written yet, removed once it is. An open-addressed table (linear probing,
 * removal by backward shift) that keeps its size while writes come and go, so
 * a write allocates nothing here: a Map shrank as written keys left it and
 * grew again with the next batch's (~60-150 B a write; docs/performance.md,
 * "Session 7, setalloc" and "Session 8, setbytes"), and keeping written keys
 * in it instead (setalloc's WRITTEN) kept their strings alive long enough to
 * be promoted. Holds at most four times as many slots as writes were pending
 * at its busiest; past OVERLAY_SHRINK_AT slots it is given back once empty.
 */
export class Overlay {
  size = 0
  private keys: Array<string | undefined> = emptySlots(OVERLAY_MIN)
  /** hashOf of each slot's key (what the caller hashed once): probes compare it first, removal and resizing need no hashing. */
  private hashes = new Int32Array(OVERLAY_MIN)
  private writes: Array<PendingWrite | undefined> = emptySlots(OVERLAY_MIN)
  private mask = OVERLAY_MIN - 1
  /** The key of the last get and the slot it ended at (its write's, or the empty one it would go in); undefined once the table changes. */
  private lastKs: string | undefined = undefined
  private lastSlot = 0

  /** The key's write (hash: hashOf(ks)). */
  get (ks: string, hash = hashOf(ks)): PendingWrite | undefined {
    if (ks === this.lastKs) return this.writes[this.lastSlot]
    const keys = this.keys
    const hashes = this.hashes
    const mask = this.mask
    let i = hash & mask
    for (let k = keys[i]; k !== undefined && (hashes[i] !== hash || k !== ks); k = keys[i]) i = (i + 1) & mask
    this.lastKs = ks
    this.lastSlot = i
    return this.writes[i]
  }

  /** Makes w the key's pending write. */
  set (ks: string, w: PendingWrite, hash = hashOf(ks)): void {
    this.get(ks, hash)
    const i = this.lastSlot
    this.lastKs = undefined
    if (this.keys[i] !== undefined) {
      this.writes[i] = w
      return
    }
    this.keys[i] = ks
    this.hashes[i] = hash
    this.writes[i] = w
    if (++this.size * 2 > this.keys.length) this.resize(this.keys.length * 2)
  }

  /** Removes the key's write if it is w; false (nothing changed) if the key has none or a later one. */
  remove (ks: string, w: unknown, hash = hashOf(ks)): boolean {
    const found = this.get(ks, hash)
    if (found === undefined || found !== w) return false
    this.lastKs = undefined
    const keys = this.keys
    const hashes = this.hashes
    const writes = this.writes
    const mask = this.mask
    let i = this.lastSlot
    // Backward shift: each later key of the run moves into the hole if its home slot is not between the hole and it.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j]
      if (k === undefined) break
      const home = hashes[j] & mask
      if (((j - home) & mask) < ((j - i) & mask)) continue
      keys[i] = k
      hashes[i] = hashes[j]
      writes[i] = writes[j]
      i = j
    }
    keys[i] = undefined
    writes[i] = undefined
    if (--this.size === 0 && keys.length > OVERLAY_SHRINK_AT) this.resize(OVERLAY_MIN)
    return true
  }

  /** The table's slots (what it holds in memory). */
  get slots (): number {
    return this.keys.length
  }

  private resize (slots: number): void {
    const keys = this.keys
    const hashes = this.hashes
    const writes = this.writes
    this.keys = emptySlots(slots)
    this.hashes = new Int32Array(slots)
    this.writes = emptySlots(slots)
    this.mask = slots - 1
    this.size = 0
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]
      if (k !== undefined) this.set(k, writes[i] as PendingWrite, hashes[i])
    }
  }
}

function emptySlots<T> (n: number): Array<T | undefined> {
  return new Array<T | undefined>(n).fill(undefined)
}
