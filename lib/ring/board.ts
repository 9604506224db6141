// The mutable working state of one claim step: who owns each partition, how
// many partitions each node has, and, per partition, how many partitions of
// the same owner lie within the distinctness window (its conflicts). Nodes
// are small integer ids; -1 marks a partition whose owner has left.
//
//   window w = 3:   . a b a c . .      conflicts: a at 1 and 3 (distance 2 < 3)
//                     ^---^             conflict[1] = conflict[3] = 1
//
// `start` keeps the owners from before the step, so a move that undoes an
// earlier move of the same step costs nothing.

import { invariant } from './errors.js'

export const NOBODY = -1

export class Board {
  readonly size: number
  readonly window: number
  readonly owner: Int32Array
  readonly start: Int32Array
  readonly conflict: Int32Array
  readonly count: Int32Array
  /** Number of same-owner pairs closer than the window. */
  conflictPairs = 0
  /** Neighbours checked ahead of and behind a partition (distance 1 .. w-1, each once). */
  readonly ahead: number
  readonly behind: number

  constructor (owner: Int32Array, start: Int32Array, window: number, nodeIds: number) {
    invariant(owner.length === start.length && owner.length > 0, 'board: owner and start differ in size')
    this.size = owner.length
    this.window = Math.min(window, this.size)
    // neighbours at cyclic distance 1 .. w-1, each counted once even when the
    // window covers the whole ring
    this.ahead = Math.min(this.window - 1, this.size - 1)
    this.behind = Math.min(this.window - 1, this.size - 1 - this.ahead)
    this.owner = owner
    this.start = start
    this.count = new Int32Array(nodeIds)
    this.conflict = new Int32Array(this.size)
    for (let p = 0; p < this.size; p++) {
      const node = owner[p]
      if (node === NOBODY) continue
      this.count[node]++
      this.conflict[p] = this.conflictsAt(p, node)
      this.conflictPairs += this.conflict[p]
    }
    this.conflictPairs /= 2
  }

  /** Partitions of `node` at cyclic distance 1 .. w-1 from p (p itself excluded). */
  conflictsAt (p: number, node: number): number {
    if (node === NOBODY) return 0
    const q = this.size
    const owner = this.owner
    let found = 0
    for (let d = 1; d <= this.ahead; d++) if (owner[(p + d) % q] === node) found++
    for (let d = 1; d <= this.behind; d++) if (owner[(p - d + q) % q] === node) found++
    return found
  }

  /** Whether i and j are distinct partitions closer than the window. */
  near (i: number, j: number): boolean {
    const d = Math.abs(i - j)
    return d !== 0 && Math.min(d, this.size - d) < this.window
  }

  set (p: number, node: number): void {
    const old = this.owner[p]
    if (old === node) return
    const q = this.size
    const owner = this.owner
    const conflict = this.conflict
    if (old !== NOBODY) {
      this.count[old]--
      this.conflictPairs -= conflict[p]
    }
    for (let d = 1; d <= this.ahead + this.behind; d++) {
      const r = d <= this.ahead ? (p + d) % q : (p - (d - this.ahead) + q) % q
      if (owner[r] === NOBODY) continue
      if (owner[r] === old) conflict[r]--
      else if (owner[r] === node) conflict[r]++
    }
    owner[p] = node
    if (node === NOBODY) {
      conflict[p] = 0
      return
    }
    this.count[node]++
    conflict[p] = this.conflictsAt(p, node)
    this.conflictPairs += conflict[p]
  }

  swap (i: number, j: number): void {
    const a = this.owner[i]
    const b = this.owner[j]
    this.set(i, b)
    this.set(j, a)
  }

  /** Change in conflict pairs if the owners of i and j were swapped. */
  swapConflictDelta (i: number, j: number): number {
    const a = this.owner[i]
    const b = this.owner[j]
    if (a === b) return 0
    // conflictsAt(i, b) counts j itself (still b) when i and j are near; after
    // the swap j holds a, so that pair is not there.
    const nearBoth = this.near(i, j) ? 1 : 0
    const after = this.conflictsAt(i, b) - (b === NOBODY ? 0 : nearBoth) + this.conflictsAt(j, a) - (a === NOBODY ? 0 : nearBoth)
    return after - this.conflict[i] - this.conflict[j]
  }

  moved (p: number): boolean {
    return this.owner[p] !== this.start[p]
  }

  /** Change in the number of moved partitions if p were given to node. */
  moveCost (p: number, node: number): number {
    return (node !== this.start[p] ? 1 : 0) - (this.moved(p) ? 1 : 0)
  }

  /** Change in moved partitions if the owners of i and j were swapped. */
  swapMoveCost (i: number, j: number): number {
    return this.moveCost(i, this.owner[j]) + this.moveCost(j, this.owner[i])
  }
}

/**
 * Per node, for every partition p, how many of the node's partitions lie at
 * cyclic distance 1 .. w-1 from p: prefix sums over the ring, cached until
 * the node's partitions change.
 */
export class NearbyCounts {
  private readonly cache = new Map<number, Int32Array>()
  private readonly prefix: Int32Array

  constructor (private readonly board: Board) {
    this.prefix = new Int32Array(3 * board.size + 1)
  }

  of (node: number): Int32Array {
    const cached = this.cache.get(node)
    if (cached !== undefined) return cached
    const { board, prefix } = this
    const q = board.size
    // prefix[t + q] = partitions of node among the unrolled positions -q .. t-1
    for (let t = -q; t < 2 * q; t++) prefix[t + q + 1] = prefix[t + q] + (board.owner[(t + q) % q] === node ? 1 : 0)
    const counts = new Int32Array(q)
    for (let p = 0; p < q; p++) {
      counts[p] = prefix[p + q + board.ahead + 1] - prefix[p + q + 1] + prefix[p + q] - prefix[p + q - board.behind]
    }
    this.cache.set(node, counts)
    return counts
  }

  forget (node: number): void {
    this.cache.delete(node)
  }
}
