// A byte-bounded cache of stored values with second-chance eviction. It keeps
// encoded bytes, not decoded objects, and updates a key's slot in place, so an
// overwrite leaves one dead Buffer behind and nothing else for the garbage
// collector. A slot is itself the Entry handed to readers (no allocation per
// hit); a hit only sets a bit, so the read path never reorders the Map.
//
//   map (insertion order):  [holes] s1 s2* s3 s4* ... sN   ← new slots go last
//                                   ▲ hand: a live iterator over the map
//   evict: the slot under the hand is cold → delete it;
//          hot (*) → clear its bit and move it last (delete + set); step on.
//
// Everything the hand has passed is gone from where it was, so the live slots
// are always ahead of it, oldest first. The hand is one Map iterator kept
// across evictions, so each step is O(1): a fresh `keys().next()` per eviction
// (the earlier code) walked over every hole left by the entries deleted since
// V8 last rehashed the table, which made eviction quadratic (385–740 µs per
// set under eviction at ~1M entries, measured). A hand that wrapped around
// instead of moving hot slots would chase the slots appended just ahead of it
// and never come back to the old ones (spec/storage/cache.spec.ts).
//
// What an entry costs is measured, not estimated from its bytes alone: see
// ENTRY_OVERHEAD_BYTES.

/**
 * A stored value: its bytes and the storage key it lives under (set by the
 * engine, so later writes of a cached key need no hashing). Treat as read-only:
 * what the engine's read() returns may be the cache's own slot.
 */
export interface Entry {
  readonly bytes: Buffer
  skey?: Buffer
  /** What readers derived from the bytes (the key's state), memoised by them; gone when the key is written (a new Entry). */
  derived?: unknown
}

const NO_BYTES = Buffer.alloc(0)

/**
 * The heap cost of a cached key beyond its key string and its Buffers' bytes:
 * the Map entry and table slack, the slot, the two Buffer objects (bytes,
 * skey) with their ArrayBuffers and backing stores, and the state a GET
 * memoises on the slot (derived: an object and a view of the value).
 * Measured with `node --expose-gc dist/bench/cache-cost.js` (heap + external
 * after a forced GC, per entry; 200 000 keys of 16 bytes, 100-byte values,
 * 113 bytes encoded, 33-byte storage keys): 792 B an entry read from
 * classic-level and then by a GET (614 B beyond key and bytes), 539 B an
 * entry a SET cached. Counted: this + 2 × 16 + 113 + 33 = 798 B. Since values
 * are copied into slabs (copied() below): 712 B and 529 B; kept at 620, as
 * V8's old space and malloc hold more than the live bytes (docs/performance.md).
 */
export const ENTRY_OVERHEAD_BYTES = 620

/** Values up to this size are copied into the cache's slabs; larger ones keep their own allocation. */
const SLAB_VALUE_MAX = 1024
const SLAB_BYTES = 16 * 1024

class Slot implements Entry {
  hot = false
  constructor (readonly key: string, public bytes: Buffer, public skey: Buffer | undefined, public absent: boolean, public size: number, public derived: unknown) {}
}

/** What a cached key costs: the measured overhead, the key string (2 bytes a character at most) and the Buffers' bytes. */
export function entryCost (ks: string, entry: Entry | null): number {
  return ENTRY_OVERHEAD_BYTES + 2 * ks.length + (entry === null ? 0 : entry.bytes.length + (entry.skey?.length ?? 0))
}

export class ByteCache {
  private readonly map = new Map<string, Slot>()
  private used = 0
  /** The hand: where eviction resumes (null: from the oldest). */
  private hand: Iterator<Slot> | null = null
  /** The slab small values are copied into, and how much of it is taken. */
  private slab: Buffer = Buffer.alloc(0)
  private slabUsed = 0

  constructor (private readonly capacityBytes: number) {}

  get sizeBytes (): number { return this.used }
  get count (): number { return this.map.size }

  /** The cached value; null when the key is known to be absent; undefined when not cached. */
  get (key: string): Entry | null | undefined {
    const slot = this.map.get(key)
    if (slot === undefined) return undefined
    slot.hot = true
    return slot.absent ? null : slot
  }

  /** Caches a value (null: known absent). */
  set (key: string, entry: Entry | null): void {
    if (this.capacityBytes <= 0) return
    const size = entryCost(key, entry)
    const old = this.map.get(key)
    if (size > this.capacityBytes / 4) { // one value never takes a quarter of the cache
      if (old !== undefined) this.delete(key)
      return
    }
    if (old !== undefined) {
      // Updated in place: no Map reordering and no new slot on the write path.
      this.used += size - old.size
      old.bytes = entry === null ? NO_BYTES : this.copied(entry.bytes)
      old.skey = entry === null ? old.skey : entry.skey
      old.absent = entry === null
      old.derived = entry === null || old.bytes === entry.bytes ? entry?.derived : undefined
      old.size = size
      old.hot = true
    } else {
      const bytes = entry === null ? NO_BYTES : this.copied(entry.bytes)
      this.map.set(key, new Slot(key, bytes, entry?.skey, entry === null, size, entry === null || bytes === entry.bytes ? entry?.derived : undefined))
      this.used += size
    }
    if (this.used > this.capacityBytes) this.evict()
  }

  delete (key: string): void {
    const slot = this.map.get(key)
    if (slot === undefined) return
    this.used -= slot.size
    this.map.delete(key)
  }

  clear (): void {
    this.map.clear()
    this.used = 0
    this.hand = null
    this.slab = Buffer.alloc(0)
    this.slabUsed = 0
  }

  /**
   * A small value copied into the current slab. A Buffer of its own costs a
   * V8 ArrayBuffer, a backing store and a malloc'd block (classic-level's
   * values arrive so), and a slice of Node's shared pool keeps alive the 8 KB
   * of request garbage it was allocated among (a SET's bytes): either way the
   * process held about twice what the cache counted (docs/performance.md,
   * "Bulk load, memory, start-up"). Slots enter the map in slab order and the
   * hand passes them in that order, deleting each or copying it again, so a
   * slab is garbage once the hand has passed its last slot (or its keys were
   * overwritten). A slab outlives its slots only while a reader holds one of
   * its values; the worst case, every slot of a slab overwritten but one, is
   * one slab per cached key.
   */
  private copied (bytes: Buffer): Buffer {
    if (bytes.length > SLAB_VALUE_MAX || bytes.length === 0) return bytes
    if (this.slabUsed + bytes.length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
      this.slabUsed = 0
    }
    const copy = this.slab.subarray(this.slabUsed, this.slabUsed + bytes.length)
    copy.set(bytes)
    this.slabUsed += (bytes.length + 7) & ~7
    return copy
  }

  private evict (): void {
    // Each step deletes or moves one slot, and a moved slot is cold: this ends within 2 × size steps.
    let budget = 2 * this.map.size + 2
    while (this.used > this.capacityBytes && budget-- > 0) {
      let step = this.hand?.next()
      if (step === undefined || step.done === true) {
        this.hand = this.map.values()
        step = this.hand.next()
        if (step.done === true) return
      }
      const slot = step.value
      this.map.delete(slot.key)
      if (slot.hot) {
        slot.hot = false
        // Its bytes move to the newest slab too, so no slot behind the hand
        // keeps an old slab alive (what a reader memoised pointed into them).
        if (!slot.absent && slot.bytes.length <= SLAB_VALUE_MAX) {
          slot.bytes = this.copied(slot.bytes)
          slot.derived = undefined
        }
        this.map.set(slot.key, slot)
      } else {
        this.used -= slot.size
      }
    }
  }
}
