// After a claim step: remove conflicts with swaps, which keep every count.
//
//   w = 3     before: a b a c d b c d      a at 0 and 2 conflict
//             swap 2 <-> 7 (a <-> d):      a b d c d b c a    no conflict left
//
// 1. repair: for each conflicting partition, the swap that removes the most
//    conflicts, then moves the fewest partitions (a swap with a partition
//    that already moved in this step is cheaper). Each swap removes at least
//    one conflicting pair, so this ends.
// 2. rebuild: if conflicts remain although the counts allow none, lay the
//    ring out afresh with spreadLayout, rotated and labelled so that as many
//    partitions as possible keep their owner. Rare: it moves many partitions.
// 3. undo: swaps that give two moved partitions back to their owners from
//    before the step, when that adds no conflict.

import { NOBODY } from './board.js'
import { invariant } from './errors.js'
import { distinctFeasible, spreadLayout } from './layout.js'
import type { Step } from './rebalance.js'

// Work bound for repair, in partitions looked at (one per candidate swap, w
// more when its exact effect must be counted): for Q = 1024, a pass over up
// to about 250 conflicting partitions. When the counts
// cannot avoid conflicts (a node too heavy to spread), repair is best effort
// and gets an eighth of that.
const REPAIR_WORK_MAX = 1 << 18
const REPAIR_WORK_BEST_EFFORT = 1 << 15
// Candidates per conflicting partition: all of them up to this ring size,
// else this many, spread round the ring.
const REPAIR_CANDIDATES_MAX = 4096

/** Conflict pairs removed by swaps; false if some remain. */
export function repair (step: Step): boolean {
  const board = step.board
  const q = board.size
  const around = new Int32Array(step.quota.length)
  const neighbours: number[] = []
  const candidates = Math.min(q, REPAIR_CANDIDATES_MAX)
  const stride = Math.ceil(q / candidates)
  const workMax = conflictFree(step) ? REPAIR_WORK_MAX : REPAIR_WORK_BEST_EFFORT
  let work = 0
  for (let pass = 0; work < workMax && board.conflictPairs > 0; pass++) {
    let improved = false
    for (let i = 0; i < q && work < workMax; i++) {
      if (board.conflict[i] === 0) continue
      const a = board.owner[i]
      // around[b] = partitions of b near i
      neighbours.length = 0
      for (let d = 1; d <= board.ahead; d++) neighbours.push((i + d) % q)
      for (let d = 1; d <= board.behind; d++) neighbours.push((i - d + q) % q)
      for (const r of neighbours) if (board.owner[r] !== NOBODY) around[board.owner[r]]++
      let best = NOBODY
      let bestDelta = 0
      let bestCost = 0
      const window = board.window
      const conflictI = board.conflict[i]
      for (let t = 0; t < candidates; t++) {
        const j = (i + 1 + t * stride + pass) % q
        const b = board.owner[j]
        work++
        if (b === a || b === NOBODY) continue
        const apart = i > j ? i - j : j - i
        const near = (apart < q - apart ? apart : q - apart) < window ? 1 : 0
        // i's side is known; j's side is at least -conflict[j]
        const iSide = around[b] - near - conflictI
        if (iSide - board.conflict[j] >= (best === NOBODY ? 0 : bestDelta + 1)) continue
        work += window
        const delta = iSide + board.conflictsAt(j, a) - near - board.conflict[j]
        if (delta >= 0 || (best !== NOBODY && delta > bestDelta)) continue
        const cost = board.swapMoveCost(i, j)
        if (best === NOBODY || delta < bestDelta || cost < bestCost) {
          best = j
          bestDelta = delta
          bestCost = cost
        }
      }
      for (const r of neighbours) if (board.owner[r] !== NOBODY) around[board.owner[r]] = 0
      if (best !== NOBODY) {
        invariant(board.swapConflictDelta(i, best) === bestDelta, 'repair: fast and exact swap deltas differ')
        board.swap(i, best)
        improved = true
      }
    }
    if (!improved) break
  }
  return board.conflictPairs === 0
}

/** Whether the step's counts allow a ring without conflicts. */
export function conflictFree (step: Step): boolean {
  let countMax = 0
  for (const node of step.live) countMax = Math.max(countMax, step.board.count[node])
  return distinctFeasible(countMax, step.board.size, step.board.window)
}

// Work bound for rebuild, in partitions compared: every rotation of the fresh
// layout is tried up to Q = 256, fewer (at least 16) on larger rings.
const REBUILD_WORK_MAX = 1 << 17
const REBUILD_ROTATIONS_MIN = 16

/** Lays the ring out afresh without conflicts (the counts must allow it). */
export function rebuild (step: Step): void {
  const { board, rank } = step
  const q = board.size
  const nodes = step.live.filter((node) => board.count[node] > 0)
  nodes.sort((a, b) => board.count[b] - board.count[a] || rank[a] - rank[b])
  const counts = nodes.map((node) => board.count[node])
  const layout = spreadLayout(counts)
  // Slots of equal count are interchangeable: per rotation, give each slot
  // the node that already owns most of its partitions (greedy assignment).
  const slotOfNode = new Map(nodes.map((node, s) => [node, s]))
  const k = nodes.length
  const agree = new Int32Array(k * k)
  const rotations = Math.min(q, Math.max(REBUILD_ROTATIONS_MIN, Math.floor(REBUILD_WORK_MAX / q)))
  let bestAgreement = -1
  let bestRotation = 0
  let bestLabel: Int32Array = new Int32Array(k)
  for (let t = 0; t < rotations; t++) {
    const rotation = Math.floor(t * q / rotations)
    agree.fill(0)
    for (let p = 0; p < q; p++) {
      const was = slotOfNode.get(board.start[p])
      if (was !== undefined) agree[layout[(p - rotation + q) % q] * k + was]++
    }
    const label = labelSlots(counts, agree, k)
    let agreement = 0
    for (let s = 0; s < k; s++) agreement += agree[s * k + label[s]]
    if (agreement > bestAgreement) {
      bestAgreement = agreement
      bestRotation = rotation
      bestLabel = label
    }
  }
  for (let p = 0; p < q; p++) board.set(p, nodes[bestLabel[layout[(p - bestRotation + q) % q]]])
  invariant(board.conflictPairs === 0, 'rebuild: the fresh layout has conflicts')
}

/** label[slot] = index of the node for that slot; only slots of equal count swap nodes. */
function labelSlots (counts: readonly number[], agree: Int32Array, k: number): Int32Array {
  const label = new Int32Array(k).fill(-1)
  let from = 0
  while (from < k) {
    let to = from
    while (to < k && counts[to] === counts[from]) to++
    // group [from, to): slots and nodes with the same count
    const pairs: Array<[number, number, number]> = []
    for (let s = from; s < to; s++) for (let n = from; n < to; n++) pairs.push([agree[s * k + n], s, n])
    pairs.sort((x, y) => y[0] - x[0] || x[1] - y[1] || x[2] - y[2])
    const used = new Uint8Array(k)
    for (const [, s, n] of pairs) {
      if (label[s] !== -1 || used[n] === 1) continue
      label[s] = n
      used[n] = 1
    }
    from = to
  }
  return label
}

// Partners tried per moved partition by undoMoves.
const UNDO_TRIES_MAX = 16

/** Swaps pairs of moved partitions back to their owners when no conflict is added. */
export function undoMoves (step: Step): void {
  const board = step.board
  const q = board.size
  const ids = step.quota.length
  // moved[now * ids + before] = partitions now of `now`, before the step of `before`
  const moved = new Map<number, number[]>()
  for (let p = 0; p < q; p++) {
    if (!board.moved(p) || board.start[p] === NOBODY) continue
    const key = board.owner[p] * ids + board.start[p]
    const list = moved.get(key)
    if (list === undefined) moved.set(key, [p])
    else list.push(p)
  }
  for (let i = 0; i < q; i++) {
    if (!board.moved(i) || board.start[i] === NOBODY) continue
    // a partner is now of i's old owner and was i's owner's: swapping undoes both
    const partners = moved.get(board.start[i] * ids + board.owner[i])
    if (partners === undefined) continue
    let tries = 0
    for (let k = 0; k < partners.length && tries < UNDO_TRIES_MAX; k++) {
      const j = partners[k]
      if (board.owner[j] !== board.start[i] || board.start[j] !== board.owner[i]) continue
      tries++
      if (board.swapConflictDelta(i, j) > 0) continue
      board.swap(i, j)
      partners[k] = partners[partners.length - 1]
      partners.pop()
      break
    }
  }
}
