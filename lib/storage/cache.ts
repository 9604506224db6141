// A byte-bounded object cache with second-chance (CLOCK) eviction over a Map's
// insertion order: a hit only sets a bit, so the read path does no Map reordering.

interface Slot<V> {
  value: V
  bytes: number
  hot: boolean
}

export class ObjectCache<V> {
  private readonly map = new Map<string, Slot<V>>()
  private used = 0

  constructor (private readonly capacityBytes: number) {}

  get sizeBytes (): number { return this.used }
  get count (): number { return this.map.size }

  get (key: string): V | undefined {
    const slot = this.map.get(key)
    if (slot === undefined) return undefined
    slot.hot = true
    return slot.value
  }

  set (key: string, value: V, bytes: number): void {
    if (this.capacityBytes <= 0) return
    const old = this.map.get(key)
    if (bytes > this.capacityBytes / 4) { // one object never takes a quarter of the cache
      if (old !== undefined) this.delete(key)
      return
    }
    if (old !== undefined) {
      // Updated in place: no Map reordering on the write path.
      this.used += bytes - old.bytes
      old.value = value
      old.bytes = bytes
      old.hot = true
    } else {
      this.map.set(key, { value, bytes, hot: false })
      this.used += bytes
    }
    if (this.used > this.capacityBytes) this.evict()
  }

  delete (key: string): void {
    const slot = this.map.get(key)
    if (slot === undefined) return
    this.used -= slot.bytes
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
      const slot = this.map.get(first.value) as Slot<V>
      this.map.delete(first.value)
      if (slot.hot) {
        slot.hot = false
        this.map.set(first.value, slot)
      } else {
        this.used -= slot.bytes
      }
    }
  }
}
