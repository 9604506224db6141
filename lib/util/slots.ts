// A table of values by slot: add takes a freed slot (else a new one at the
// end) and says which, delete frees it. Its array grows to the most values
// held at once and is then reused: a Map or Set with a set and a delete per
// value allocates a new hash table as its deleted entries fill it and as it
// shrinks while emptying (~70–120 B a clustered SET in the heap profile,
// docs/performance.md, "Session 8, replica"). The bound is its user's: the
// table holds what it is given. Pure.

export class SlotTable<T> {
  private readonly values: Array<T | null> = []
  private readonly free: number[] = []
  size = 0

  /** Every slot made so far is below this. */
  get extent (): number {
    return this.values.length
  }

  /** Holds v in a free slot; returns the slot. */
  add (v: T): number {
    const slot = this.free.length > 0 ? this.free.pop() as number : this.values.length
    if (slot === this.values.length) this.values.push(v)
    else this.values[slot] = v
    this.size++
    return slot
  }

  /** What slot holds, null for a free or unknown slot. */
  at (slot: number): T | null {
    return slot >= 0 && slot < this.values.length ? this.values[slot] : null
  }

  /** Frees slot (nothing if it holds nothing). */
  delete (slot: number): void {
    if (this.at(slot) === null) return
    this.values[slot] = null
    this.free.push(slot)
    this.size--
  }

  /** A copy of the values held now. */
  all (): T[] {
    const out: T[] = []
    // bounded: the table's extent, the most values its user held at once
    for (let slot = 0; slot < this.values.length; slot++) {
      const v = this.values[slot]
      if (v !== null) out.push(v)
    }
    return out
  }

  /** Empties the table; returns what it held. */
  clear (): T[] {
    const out = this.all()
    for (let slot = 0; slot < this.values.length; slot++) {
      if (this.values[slot] !== null) {
        this.values[slot] = null
        this.free.push(slot)
      }
    }
    this.size = 0
    return out
  }
}
