// A byte-bounded cache of stored values with second-chance (CLOCK) eviction
// over a Map's insertion order: a hit only sets a bit, so the read path does no
// Map reordering. It keeps encoded bytes, not decoded objects, and updates a
// key's slot in place, so an overwrite leaves one dead Buffer behind and
// nothing else for the garbage collector. A slot is itself the Entry handed to
// readers (no allocation per hit).

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

class Slot implements Entry {
  hot = false
  constructor (public bytes: Buffer, public skey: Buffer | undefined, public absent: boolean, public size: number, public derived: unknown) {}
}

/** Estimated memory of a cached key: the Map entry, slot and string, plus the bytes. */
function sizeOf (ks: string, entry: Entry | null): number {
  return 120 + 2 * ks.length + (entry === null ? 0 : entry.bytes.length + (entry.skey?.length ?? 0))
}

export class ByteCache {
  private readonly map = new Map<string, Slot>()
  private used = 0

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
    const size = sizeOf(key, entry)
    const old = this.map.get(key)
    if (size > this.capacityBytes / 4) { // one value never takes a quarter of the cache
      if (old !== undefined) this.delete(key)
      return
    }
    if (old !== undefined) {
      // Updated in place: no Map reordering and no new slot on the write path.
      this.used += size - old.size
      old.bytes = entry === null ? NO_BYTES : entry.bytes
      old.skey = entry === null ? old.skey : entry.skey
      old.absent = entry === null
      old.derived = entry?.derived
      old.size = size
      old.hot = true
    } else {
      this.map.set(key, new Slot(entry === null ? NO_BYTES : entry.bytes, entry?.skey, entry === null, size, entry?.derived))
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
  }

  private evict (): void {
    // Each pass over a hot slot clears its bit, so this ends within 2 × size steps.
    let budget = 2 * this.map.size
    while (this.used > this.capacityBytes && budget-- > 0) {
      const first = this.map.keys().next()
      if (first.done === true) return
      const slot = this.map.get(first.value) as Slot
      this.map.delete(first.value)
      if (slot.hot) {
        slot.hot = false
        this.map.set(first.value, slot)
      } else {
        this.used -= slot.size
      }
    }
  }
}
