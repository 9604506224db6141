// A FIFO whose removal from the front is O(1): a ring of slots, its capacity
// a power of two, doubled when full (never shrunk). An array's shift() moves
// every element (a memmove of the whole backing store once it is in V8's
// large-object space): a connection's queue of unanswered requests drains
// from the front one reply at a time. The bound is its user's: the ring
// holds what it is given. Pure.

export class Fifo<T> {
  private slots: Array<T | undefined>
  private head = 0
  private size = 0

  constructor (capacity = 16) {
    let c = 1
    while (c < capacity) c *= 2
    this.slots = new Array<T | undefined>(c).fill(undefined)
  }

  get length (): number {
    return this.size
  }

  /** The first element, undefined when empty. */
  first (): T | undefined {
    return this.size === 0 ? undefined : this.slots[this.head]
  }

  push (v: T): void {
    if (this.size === this.slots.length) this.grow()
    this.slots[(this.head + this.size) & (this.slots.length - 1)] = v
    this.size++
  }

  /** Removes and returns the first element, undefined when empty. */
  shift (): T | undefined {
    if (this.size === 0) return undefined
    const v = this.slots[this.head]
    this.slots[this.head] = undefined // not kept alive by the ring
    this.head = (this.head + 1) & (this.slots.length - 1)
    this.size--
    return v
  }

  private grow (): void {
    const old = this.slots
    const slots = new Array<T | undefined>(old.length * 2).fill(undefined)
    for (let i = 0; i < this.size; i++) slots[i] = old[(this.head + i) & (old.length - 1)]
    this.slots = slots
    this.head = 0
  }
}
