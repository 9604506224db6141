// A byte-bounded cache of stored values with second-chance eviction, kept out
// of the JavaScript heap: an entry is one record in a log of slabs (Buffers)
// and one slot of an open-addressing table in typed arrays. No object, string
// or Buffer view per cached key, so an entry costs about its bytes (~210 B for
// a 16-byte key and a 100-byte value, against ~700 B as a Map of slot objects
// with Buffer views: docs/performance.md, "A lean cache entry"), and the GC
// has nothing per entry to mark.
//
//   slabs (oldest first):  [ r1 r2 r3 ... ][ ... ][ ... rN ·····]   ← records appended at the head
//                            ▲ hand: where eviction resumes
//   record: hash i32 | key length u16 | skey length + 1 u16 | value length u32 | flags u8 | key | skey | value
//   table:  hashes Int32Array, positions Float64Array (slab sequence × 2^21 + offset; 0 = empty),
//           linear probing, deletion by backward shift (no tombstones); it doubles at a load of
//           0.7, its entries moving to the new table a few per set (both are probed meanwhile)
//
// An overwrite appends a new record and points the table at it; the old one is
// dead and stays until the hand passes it. Eviction advances the hand one record
// at a time: a dead record is skipped, a cold live one leaves the table, a hot
// one (read since the hand last passed it) is copied to the head with its bit
// cleared. While live records fill at most half the capacity (the rest is dead
// records: a working set that fits, overwritten), a cold one is copied too:
// evicting it would cost a store read at its next write, and such reads set
// off LevelDB's seek compactions (docs/performance.md, "storage"). So the live
// records are always ahead of the hand, oldest first, and each step is O(1). A
// record is never written again once appended (but its flags byte).
//
// A slab the hand has passed is reused for a later head (up to SPARE_SLABS of
// them are kept), unless a view of it may still be read: a SET-heavy load then
// drops no ArrayBuffer to the GC, whose external bytes set off V8's
// mark-compacts (docs/performance.md, "Session 17, slab17"). Who may hold a
// view of a slab, and until when:
// - get's CachedEntry (its value and storage-key views, and whatever a reader
//   derives from them: decoded objects, replies, peer frames, hints) for as long
//   as anyone keeps it: get pins the slab, and a pinned slab is never reused
//   (it goes to the GC when the hand passes it, as every slab did before).
// - getBytes' caller (a cached GET) copies a value into the reply writer's
//   slab at once, but keeps one of BY_REFERENCE_BYTES or more as a view until
//   the connection's flush (lib/resp/reply.ts `ref`; `take` copies it there,
//   so the socket never holds a view): later commands of the same read may
//   append to the cache meanwhile, so getBytes pins the slab of such a value.
// - getInPlace's SlabEntry (the owner's write reads it at once) and what the
//   owner's write keeps of it until it is durable: the storage-key view and the
//   slab (lib/storage/engine.ts' PendingWrite, read by the store's write and
//   the commit listeners). The owner counts epochs (`epoch`, one a batch of
//   writes) and says which have settled (`release`); a slab the hand passed in
//   epoch e is reused only once every epoch up to e has settled.
//
// sizeBytes is what the cache holds: every slab (spare ones too) and the
// table's arrays, dead records and a slab's unused tail included. It stays
// under the capacity.
import { BY_REFERENCE_BYTES, copyInto } from '../util/bytes.js'
import { Buffer } from 'node:buffer'

/**
 * A stored value: its bytes and the storage key it lives under (set by the
 * engine, so later writes of a cached key need no hashing). Treat as read-only.
 */
export interface Entry {
  readonly bytes: Buffer
  skey?: Buffer
  /** What readers derived from the bytes (the key's state), memoised by them; gone when the key is written (a new Entry). */
  derived?: unknown
}

/** Where getBytes found a value: slab[start, end). */
export interface ByteRange {
  start: number
  end: number
}

const HEADER = 13
const H_KEY_LEN = 4
const H_SKEY_LEN = 6
const H_VALUE_LEN = 8
const H_FLAGS = 12
const HOT = 1
const ABSENT = 2
/** The key starts with U+0100 (element records' engine keys), stored without it. */
const WIDE_PREFIX = 4

const OFFSET_BITS = 2 ** 21
const MAX_SLAB_BYTES = 256 * 1024
/** Slabs the hand passed kept for reuse (waiting for their epoch to settle, or ready); one more is dropped to the GC. */
const SPARE_SLABS = 4
const MIN_TABLE = 16
const MAX_KEY_CHARS = 0xffff

/**
 * What the table and a record's header cost an entry beyond its key (a byte a
 * character), storage key and value bytes: 13 B of header and 12 B a table
 * slot at a load of 0.35–0.7. Only an estimate for sizing (bench/cache-cost):
 * sizeBytes counts the arrays and slabs themselves. Measured with
 * `node --expose-gc dist/bench/cache-cost.js` (see the header).
 */
export const ENTRY_OVERHEAD_BYTES = 40

/** What a cached key costs, estimated: the overhead, the key (a byte a character), the storage key and the value. */
export function entryCost (ks: string, entry: Entry | null): number {
  return ENTRY_OVERHEAD_BYTES + ks.length + (entry === null ? 0 : entry.bytes.length + (entry.skey?.length ?? 0))
}

/** An entry read from the cache: a view of its record's value; its storage key (just before the value) made on demand. */
class CachedEntry implements Entry {
  derived: unknown = undefined
  private storageKey: Buffer | undefined = undefined
  constructor (readonly bytes: Buffer, private readonly slab: Buffer, private readonly skeyLen: number) {}

  get skey (): Buffer | undefined {
    // Buffer#subarray of the slab (whose ArrayBuffer it starts): cheaper than Buffer.from(arrayBuffer, ...)'s checks.
    if (this.storageKey === undefined && this.skeyLen >= 0) this.storageKey = this.slab.subarray(this.bytes.byteOffset - this.skeyLen, this.bytes.byteOffset)
    return this.storageKey
  }

  set skey (skey: Buffer | undefined) {
    this.storageKey = skey
  }
}

/**
 * A cached record read in place, for a write that reads the old value once
 * (Engine.write): the slab that holds it, the value's range and the storage
 * key's length (just before the value; -1: none). No view is made unless
 * `bytes` or `skey` is asked for. The engine refills one per write: valid
 * only until the next (docs/performance.md, "Session 9, setjs9").
 */
export class SlabEntry implements Entry {
  derived: unknown = undefined
  slab: Buffer = Buffer.alloc(0)
  start = 0
  end = 0
  skeyLen = -1

  get bytes (): Buffer {
    return this.slab.subarray(this.start, this.end)
  }

  get skey (): Buffer | undefined {
    return this.skeyLen < 0 ? undefined : this.slab.subarray(this.start - this.skeyLen, this.start)
  }

  // (Entry's skey is writable; this one's is its record's, which the engine would set it to.)
  set skey (_: Buffer | undefined) {}
}

/** FNV-1a over a string's char codes, then murmur3's finaliser (the table indexes by the low bits). */
export function hashOf (ks: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < ks.length; i++) h = Math.imul(h ^ ks.charCodeAt(i), 0x01000193)
  return finish(h)
}

/** hashOf of the key's latin1 string, from its bytes (a byte is its char code): a byte load, not a char code, a character. */
export function hashOfBytes (key: Uint8Array, from = 0, to = key.length): number {
  let h = 0x811c9dc5
  for (let i = from; i < to; i++) h = Math.imul(h ^ key[i], 0x01000193)
  return finish(h)
}

function finish (h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return h ^ (h >>> 16)
}

function sameBytes (s: Buffer, at: number, key: Uint8Array, from: number, to: number): boolean {
  for (let c = from; c < to; c++) if (s[at + c - from] !== key[c]) return false
  return true
}

/** The size of the record at `at`: header, key, storage key, value. */
function recordBytes (s: Buffer, at: number): number {
  return HEADER + u16(s, at + H_KEY_LEN) + Math.max(u16(s, at + H_SKEY_LEN) - 1, 0) + u32(s, at + H_VALUE_LEN)
}

function u16 (s: Buffer, at: number): number { return s[at] | (s[at + 1] << 8) }
function u32 (s: Buffer, at: number): number { return (s[at] | (s[at + 1] << 8) | (s[at + 2] << 16)) + s[at + 3] * 0x1000000 }
function put16 (s: Buffer, at: number, v: number): void { s[at] = v; s[at + 1] = v >>> 8 }
function put32 (s: Buffer, at: number, v: number): void { s[at] = v; s[at + 1] = v >>> 8; s[at + 2] = v >>> 16; s[at + 3] = v >>> 24 }

/** An old table's slot whose entry left it (moved to the new table, overwritten or deleted): probing goes on past it. */
const MOVED = -1
/** Old slots a set moves to the new table while one is growing: the old one is empty before the new one is full (docs/performance.md, "getpath"). */
const MOVES_PER_SET = 4

export class ByteCache {
  private hashes: Int32Array
  private positions: Float64Array
  private mask: number
  /** While the table grows: the table before it, whose slots from `moved` on are still to move (null: not growing). Its slot j is found as -2 - j. */
  private oldHashes: Int32Array | null = null
  private oldPositions: Float64Array | null = null
  private moved = 0
  /** Entries in both tables. */
  private entries = 0
  /** The slabs held, oldest first; slabs[i] has sequence number firstSeq + i; ends[i] is where its records end. */
  private slabs: Buffer[] = []
  private ends: number[] = []
  /** pins[i]: slabs[i] handed out a view a reader may keep (see the header): never reused. */
  private pins: boolean[] = []
  /** Slabs the hand passed, to be reused: ready ones, and retired ones waiting for the epoch they were passed in (retiredIn) to settle. */
  private spares: Buffer[] = []
  private retired: Buffer[] = []
  private retiredIn: number[] = []
  /** The bytes of spares and retired slabs. */
  private spareTotal = 0
  /**
   * The owner's epoch: it advances it when it may start holding views of
   * getInPlace's records (a new batch of writes), and calls release(e) once
   * those of every epoch up to e are over (see the header).
   */
  epoch = 0
  private released = 0
  /** Slabs allocated (not taken from the spares), for the specs and benches. */
  slabsAllocated = 0
  private firstSeq = 1
  private slabTotal = 0
  /** The hand: the offset in the oldest slab of the next record to pass. */
  private hand = 0
  /** The bytes of the records the table points at (live ones): see evict. */
  private liveBytes = 0
  private keepCold = false
  private copiedBytes = 0
  private readonly slabBytes: number
  /** Spare slabs kept at most: SPARE_SLABS, or fewer in a cache of fewer than 64 slabs (at most a sixteenth of it). */
  private readonly spareSlabs: number
  /** The offset in its slab of the record `found` read last. */
  private foundAt = 0
  /** get's range for found (get makes a view of it). */
  private readonly range: ByteRange = { start: 0, end: 0 }

  constructor (private readonly capacityBytes: number) {
    const table = capacityBytes > 0 ? MIN_TABLE : 0
    this.hashes = new Int32Array(table)
    this.positions = new Float64Array(table)
    this.mask = table - 1
    this.slabBytes = Math.max(256, Math.min(MAX_SLAB_BYTES, Math.floor(capacityBytes / 64)))
    this.spareSlabs = Math.min(SPARE_SLABS, Math.floor(capacityBytes / this.slabBytes / 16))
  }

  /** The bytes held: every slab (spare ones too) and the table. */
  get sizeBytes (): number { return this.slabTotal + this.spareTotal + this.tableBytes }
  private get tableBytes (): number { return 12 * (this.positions.length + (this.oldPositions?.length ?? 0)) }
  get count (): number { return this.entries }

  /** The cached value; null when the key is known to be absent; undefined when not cached. hash: hashOf(key), when the caller has it. */
  get (key: string, hash = hashOf(key)): Entry | null | undefined {
    const range = this.range
    const i = this.find(hash, key)
    const slab = this.found(i, range)
    if (slab == null) return slab
    this.pin(i)
    return new CachedEntry(slab.subarray(range.start, range.end), slab, u16(slab, this.foundAt + H_SKEY_LEN) - 1)
  }

  /**
   * get(key) without a CachedEntry or a view: `into` refilled with the record
   * (SlabEntry), null when known absent, undefined when not cached. bytes: a
   * key record's key as bytes (key is their latin1 string), when the caller
   * has them: compared instead of key's char codes.
   */
  getInPlace (key: string, into: SlabEntry, hash = hashOf(key), bytes?: Uint8Array): SlabEntry | null | undefined {
    const slab = this.found(this.find(hash, bytes ?? key), into)
    if (slab == null) return slab
    into.derived = undefined
    into.slab = slab
    into.skeyLen = u16(slab, this.foundAt + H_SKEY_LEN) - 1
    return into
  }

  /**
   * get(key.toString('latin1'))'s bytes, from the key's bytes, key[from, to) (no string, no
   * Entry, no view): the slab holding the cached value, whose range in it is
   * left in `range`; null when the key is known absent, undefined when not
   * cached. A key record's (a client's key) only: an element record's key
   * starts with U+0100, which no byte is.
   */
  getBytes (key: Uint8Array, range: ByteRange, from = 0, to = key.length): Buffer | null | undefined {
    const i = this.find(hashOfBytes(key, from, to), key, undefined, 0, from, to)
    const slab = this.found(i, range)
    if (slab != null && range.end - range.start >= BY_REFERENCE_BYTES) this.pin(i)
    return slab
  }

  /** The slab of slot i's record hands out a view a reader may keep: it is never reused. */
  private pin (i: number): void {
    this.pins[Math.floor(this.positionAt(i) / OFFSET_BITS) - this.firstSeq] = true
  }

  /**
   * Every epoch up to e has settled: no view of getInPlace's records handed
   * out in them is read any more. Retired slabs passed in them become spares.
   */
  release (e: number): void {
    this.released = e
    while (this.retired.length > 0 && this.retiredIn[0] <= e) {
      this.spares.push(this.retired.shift() as Buffer)
      this.retiredIn.shift()
    }
  }

  /** The slot i's record was read (-1: none): its slab, the value's range left in `range` (its record's offset in foundAt). */
  private found (i: number, range: ByteRange): Buffer | null | undefined {
    if (i === -1) return undefined
    const pos = this.positionAt(i)
    const slab = this.slabOf(pos)
    const at = pos % OFFSET_BITS
    const valueAt = this.hit(slab, at)
    if (valueAt < 0) return null
    this.foundAt = at
    range.start = valueAt
    range.end = valueAt + u32(slab, at + H_VALUE_LEN)
    return slab
  }

  /** The record at slab[at] was read (its hot bit set): where its value starts, -1 for a key known absent. */
  private hit (slab: Buffer, at: number): number {
    const flags = slab[at + H_FLAGS] |= HOT
    if ((flags & ABSENT) !== 0) return -1
    return at + HEADER + u16(slab, at + H_KEY_LEN) + Math.max(u16(slab, at + H_SKEY_LEN) - 1, 0)
  }

  /**
   * Caches a value (null: known absent). hash: hashOf(key), when the caller has
   * it. read, start: where the writer read the key's value before (a slab and
   * the value's offset, as getInPlace left them): while the table still points
   * at that record, the key is found without comparing it (a record is never
   * rewritten, and a slab read in place is not reused before the epoch of the
   * write that read it has settled: a slot at that record is the key's).
   */
  set (key: string, entry: Entry | null, hash = hashOf(key), read?: Buffer, start = 0): void {
    if (this.capacityBytes <= 0) return
    const skeyLen = entry?.skey?.length ?? -1
    const size = HEADER + key.length + Math.max(skeyLen, 0) + (entry === null ? 0 : entry.bytes.length)
    // One value never takes a quarter of the cache; a key that is not latin1 (but for a leading U+0100) is not kept.
    if (size > this.capacityBytes / 4 || key.length > MAX_KEY_CHARS || skeyLen >= MAX_KEY_CHARS) {
      this.delete(key, hash)
      return
    }
    if (this.oldPositions !== null) this.moveOld(MOVES_PER_SET)
    const i = this.find(hash, key, read, start)
    const known = i !== -1
    if (!known && this.entries + 1 > (this.mask + 1) * 0.7) {
      // Tables that would take half the capacity (the new one and the old while its entries move) do
      // not grow: the oldest entries make room instead.
      if (36 * (this.mask + 1) <= this.capacityBytes / 2) this.grow()
      else {
        this.keepCold = false // entries must go, not bytes
        while (this.entries + 1 > (this.mask + 1) * 0.7 && this.step());
      }
    }
    const pos = this.append(hash, key, entry, skeyLen, size, known ? HOT : 0)
    if (pos < 0) {
      if (known) this.remove(i)
      return
    }
    if (known) this.liveBytes -= this.recordBytesAt(this.positionAt(i))
    this.liveBytes += this.recordBytesAt(pos)
    if (i >= 0) this.positions[i] = pos
    else {
      // New, or in the old table: it goes to the new one.
      if (known) (this.oldPositions as Float64Array)[-2 - i] = MOVED
      else this.entries++
      this.insert(hash, pos)
    }
    this.evict()
  }

  delete (key: string, hash = hashOf(key)): void {
    const i = this.find(hash, key)
    if (i !== -1) this.remove(i)
  }

  clear (): void {
    this.hashes = new Int32Array(MIN_TABLE)
    this.positions = new Float64Array(MIN_TABLE)
    this.mask = MIN_TABLE - 1
    this.oldHashes = null
    this.oldPositions = null
    this.entries = 0
    // (FLUSHALL, rare: its slabs go to the GC; the spares stay)
    this.firstSeq += this.slabs.length
    this.slabs = []
    this.ends = []
    this.pins = []
    this.slabTotal = 0
    this.hand = 0
    this.liveBytes = 0
  }

  private slabOf (pos: number): Buffer {
    return this.slabs[Math.floor(pos / OFFSET_BITS) - this.firstSeq]
  }

  /**
   * The slot holding key (a string, or a key record's key as bytes,
   * key[from, to)): i in the table, -2 - j in the old one, -1 none. read,
   * start: a record the key had (set's), matched without comparing the key.
   */
  private find (hash: number, key: string | Uint8Array, read?: Buffer, start = 0, from = 0, to = key.length): number {
    if (this.entries === 0) return -1
    const positions = this.positions
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const pos = positions[i]
      if (pos === 0) break
      if (this.hashes[i] === hash && (this.isRecord(pos, read, start) || this.keyAt(pos, key, from, to))) return i
    }
    const old = this.oldPositions
    if (old === null) return -1
    const hashes = this.oldHashes as Int32Array
    const mask = old.length - 1
    for (let j = hash & mask; ; j = (j + 1) & mask) {
      const pos = old[j]
      if (pos === 0) return -1
      if (pos !== MOVED && hashes[j] === hash && (this.isRecord(pos, read, start) || this.keyAt(pos, key, from, to))) return -2 - j
    }
  }

  /** Is the record at pos the one whose value starts at read[start]? */
  private isRecord (pos: number, read: Buffer | undefined, start: number): boolean {
    if (read === undefined) return false
    const slab = this.slabOf(pos)
    if (slab !== read) return false
    const at = pos % OFFSET_BITS
    return (slab[at + H_FLAGS] & ABSENT) === 0 && at + HEADER + u16(slab, at + H_KEY_LEN) + Math.max(u16(slab, at + H_SKEY_LEN) - 1, 0) === start
  }

  private positionAt (i: number): number {
    return i >= 0 ? this.positions[i] : (this.oldPositions as Float64Array)[-2 - i]
  }

  private recordBytesAt (pos: number): number {
    return recordBytes(this.slabOf(pos), pos % OFFSET_BITS)
  }

  private keyAt (pos: number, key: string | Uint8Array, keyFrom: number, keyTo: number): boolean {
    if (typeof key !== 'string') {
      const slab = this.slabOf(pos)
      const at = pos % OFFSET_BITS
      return u16(slab, at + H_KEY_LEN) === keyTo - keyFrom && (slab[at + H_FLAGS] & WIDE_PREFIX) === 0 && sameBytes(slab, at + HEADER, key, keyFrom, keyTo)
    }
    const slab = this.slabOf(pos)
    const at = pos % OFFSET_BITS
    const wide = (slab[at + H_FLAGS] & WIDE_PREFIX) !== 0 ? 1 : 0
    const length = u16(slab, at + H_KEY_LEN)
    if (key.length !== length + wide || (wide === 1 && key.charCodeAt(0) !== 0x100)) return false
    const from = at + HEADER - wide
    for (let c = wide; c < key.length; c++) if (slab[from + c] !== key.charCodeAt(c)) return false
    return true
  }

  /** Writes a record at the head; its position, or -1 when the key is not latin1 (it is not cached). */
  private append (hash: number, key: string, entry: Entry | null, skeyLen: number, size: number, flags: number): number {
    const wide = key.length > 0 && key.charCodeAt(0) === 0x100 ? 1 : 0
    const need = size - wide
    const at = this.room(need)
    const slab = this.slabs[this.slabs.length - 1]
    const from = at + HEADER - wide
    for (let c = wide; c < key.length; c++) {
      const code = key.charCodeAt(c)
      if (code > 0xff) return -1 // the room is left unused (the next record takes it)
      slab[from + c] = code
    }
    put32(slab, at, hash)
    put16(slab, at + H_KEY_LEN, key.length - wide)
    put16(slab, at + H_SKEY_LEN, skeyLen + 1)
    put32(slab, at + H_VALUE_LEN, entry === null ? 0 : entry.bytes.length)
    slab[at + H_FLAGS] = flags | (entry === null ? ABSENT : 0) | (wide === 1 ? WIDE_PREFIX : 0)
    let to = at + HEADER + key.length - wide
    if (entry !== null) {
      // TypedArray#set: Buffer#copy validates its arguments at a cost per call.
      if (skeyLen >= 0) {
        copyInto.call(slab, entry.skey as Buffer, to)
        to += skeyLen
      }
      copyInto.call(slab, entry.bytes, to)
    }
    this.ends[this.ends.length - 1] = at + need
    return (this.firstSeq + this.slabs.length - 1) * OFFSET_BITS + at
  }

  /** need bytes at the head: their offset in the last slab (its tail, or a new slab: of one record, if it is larger than a slab). */
  private room (need: number): number {
    const last = this.slabs.length - 1
    if (last >= 0 && this.slabs[last].length - this.ends[last] >= need) return this.ends[last]
    let slab: Buffer
    if (need <= this.slabBytes && this.spares.length > 0) {
      slab = this.spares.pop() as Buffer
      this.spareTotal -= slab.length
    } else {
      slab = Buffer.allocUnsafeSlow(Math.max(need, this.slabBytes))
      this.slabsAllocated++
    }
    this.slabs.push(slab)
    this.ends.push(0)
    this.pins.push(false)
    this.slabTotal += slab.length
    return 0
  }

  /** The oldest slab, which the hand has passed, leaves the log: kept for reuse (see the header) or dropped to the GC. */
  private dropOldest (): void {
    const slab = this.slabs.shift() as Buffer
    this.ends.shift()
    const pinned = this.pins.shift() as boolean
    this.slabTotal -= slab.length
    this.firstSeq++
    this.hand = 0
    if (pinned || slab.length !== this.slabBytes || this.spares.length + this.retired.length >= this.spareSlabs) return
    this.spareTotal += slab.length
    if (this.epoch <= this.released) this.spares.push(slab)
    else {
      this.retired.push(slab)
      this.retiredIn.push(this.epoch)
    }
  }

  /** Empties slot i (of either table; the table's: shifting back the slots after it that probed past it). */
  private remove (i: number): void {
    this.liveBytes -= this.recordBytesAt(this.positionAt(i))
    if (i < 0) {
      (this.oldPositions as Float64Array)[-2 - i] = MOVED
      this.entries--
      return
    }
    const { hashes, positions, mask } = this
    for (let j = (i + 1) & mask; positions[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[j] & mask
      // j stays if its home lies cyclically in (i, j].
      if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) continue
      hashes[i] = hashes[j]
      positions[i] = positions[j]
      i = j
    }
    positions[i] = 0
    this.entries--
  }

  /** A new entry's slot in the table. */
  private insert (hash: number, pos: number): void {
    const positions = this.positions
    let i = hash & this.mask
    while (positions[i] !== 0) i = (i + 1) & this.mask
    this.hashes[i] = hash
    positions[i] = pos
  }

  /**
   * A table twice the size; the entries move to it a few per set (moveOld),
   * not all at once: rehashing a million entries in one go paused the node
   * for 100-200 ms. Until they have, a lookup probes both tables. An old slot
   * left is marked MOVED, not emptied, so the probes of the old table still
   * reach what is after it.
   */
  private grow (): void {
    if (this.oldPositions !== null) this.moveOld(this.oldPositions.length) // the last growth is done first
    this.oldHashes = this.hashes
    this.oldPositions = this.positions
    this.moved = 0
    const size = 2 * this.positions.length
    this.hashes = new Int32Array(size)
    this.positions = new Float64Array(size)
    this.mask = size - 1
  }

  /** Moves up to n old slots to the table; drops the old one once every slot is passed. */
  private moveOld (n: number): void {
    const old = this.oldPositions as Float64Array
    const hashes = this.oldHashes as Int32Array
    const end = Math.min(old.length, this.moved + n)
    for (let j = this.moved; j < end; j++) {
      const pos = old[j]
      if (pos !== 0 && pos !== MOVED) {
        this.insert(hashes[j], pos)
        old[j] = MOVED
      }
    }
    this.moved = end
    if (end === old.length) {
      this.oldHashes = null
      this.oldPositions = null
    }
  }

  /** The slot pointing at the record at pos (as find numbers them), or -1 (a dead record). */
  private slotOf (hash: number, pos: number): number {
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const p = this.positions[i]
      if (p === 0) break
      if (p === pos) return i
    }
    const old = this.oldPositions
    if (old === null) return -1
    const mask = old.length - 1
    for (let j = hash & mask; ; j = (j + 1) & mask) {
      const p = old[j]
      if (p === 0) return -1
      if (p === pos) return -2 - j
    }
  }

  /**
   * Advances the hand until the log and the tables, less the part of the
   * oldest slab already passed, leave room under the capacity for one more
   * slab and the spares: so the next slab never takes the cache over it. Each step passes one record
   * and a record moved is cold, so this ends within 2 × the records ahead steps
   * (with live records at most half the capacity, within one pass: what is
   * ahead of the hand then is live records, under the bound).
   */
  private evict (): void {
    // Cold records are kept only while the live ones and the table take at most half the capacity,
    // and for at most half the capacity's bytes copied in one call: then the hand evicts as before.
    // (the tables' bytes read once: step changes the slabs and the hand, not the tables)
    const tableBytes = this.tableBytes
    this.keepCold = 2 * (this.liveBytes + tableBytes) <= this.capacityBytes
    this.copiedBytes = 0
    // The spares' room is kept free for them: a slab the hand passes may become one (a spare taken as the
    // head counts as a slab again), so the spares neither trigger eviction nor take the cache over its capacity.
    while (this.slabTotal + tableBytes - this.hand > this.capacityBytes - (1 + this.spareSlabs) * this.slabBytes && this.step());
  }

  /** Passes the record under the hand (or drops the slab it has passed); false when nothing is left. */
  private step (): boolean {
    if (this.slabs.length === 0) return false
    const slab = this.slabs[0]
    const at = this.hand
    if (at >= this.ends[0]) {
      this.dropOldest()
      return this.slabs.length > 0
    }
    const size = recordBytes(slab, at)
    this.hand += size
    const i = this.slotOf(slab[at] | (slab[at + 1] << 8) | (slab[at + 2] << 16) | (slab[at + 3] << 24), this.firstSeq * OFFSET_BITS + at)
    if (i === -1) return true // dead: overwritten or deleted since
    // A cold record is kept while evict allows (keepCold): the hand then passes more dead
    // bytes than it copies, and the loop in evict still ends.
    if ((slab[at + H_FLAGS] & HOT) === 0 && (!this.keepCold || (this.copiedBytes += size) > this.capacityBytes / 2)) {
      this.remove(i)
      return true
    }
    const toAt = this.room(size)
    const to = this.slabs[this.slabs.length - 1]
    slab.copy(to, toAt, at, at + size)
    to[toAt + H_FLAGS] &= ~HOT
    this.ends[this.ends.length - 1] = toAt + size
    const moved = (this.firstSeq + this.slabs.length - 1) * OFFSET_BITS + toAt
    if (i >= 0) this.positions[i] = moved
    else (this.oldPositions as Float64Array)[-2 - i] = moved
    return true
  }
}
