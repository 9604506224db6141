// One claim step on a ring whose nodes can keep every window distinct:
// partitions of departed nodes go to nodes under quota, then nodes under
// quota take partitions from nodes over quota. Only those partitions move,
// so the step moves exactly sum(max(0, quota - count)) partitions; the
// choices avoid conflicts (see board.ts) and remove existing ones where they
// can. repair.ts then fixes what remains.
//
// A node that joins takes its partitions as a comb: q teeth evenly spaced
// round the ring, each allowed to slide a little to find a donor with
// partitions to spare without coming closer than w to its neighbours:
//
//   Q = 16, q = 4, w = 3      tooth:   0       1       2       3
//   ideal gaps 4, slack 0     ring:    X . . . X . . . X . . . X . . .

import { Board, NOBODY, NearbyCounts } from './board.js'
import { invariant } from './errors.js'
import { distinctFeasible } from './layout.js'

export interface Step {
  board: Board
  /** Node ids that own partitions after the step. */
  live: readonly number[]
  /** Target count per node id. */
  quota: Int32Array
  /** Tie-break order per node id (lower first). */
  rank: Int32Array
}

/** deficit[n] = max(0, quota - count), excess[n] = max(0, count - quota), per node id. */
function needs (step: Step): { deficit: Int32Array, excess: Int32Array } {
  const { board, live, quota } = step
  const deficit = new Int32Array(quota.length)
  const excess = new Int32Array(quota.length)
  for (const node of live) {
    const d = quota[node] - board.count[node]
    if (d > 0) deficit[node] = d
    else excess[node] = -d
  }
  return { deficit, excess }
}

export function rebalance (step: Step): void {
  const { deficit, excess } = needs(step)
  // Relaying chains only help when the counts allow no conflict at all.
  let countMax = 0
  for (const node of step.live) countMax = Math.max(countMax, step.quota[node])
  const chains = { left: distinctFeasible(countMax, step.board.size, step.board.window) ? CHAIN_SEARCHES_MAX : 0 }
  assignVacant(step, deficit)
  const receivers = step.live.filter((node) => deficit[node] > 0)
  receivers.sort((a, b) => deficit[b] - deficit[a] || step.rank[a] - step.rank[b])
  for (const node of receivers) {
    if (step.board.count[node] === 0 && deficit[node] > 1) comb(step, node, deficit, excess)
    fill(step, node, deficit, excess, chains)
  }
  for (const node of step.live) invariant(step.board.count[node] === step.quota[node], 'rebalance: a count misses its quota')
}

/**
 * Partitions whose owner left go to nodes under quota. A partition may go to
 * a node with no partition within the window: a bipartite matching with
 * capacities (augmenting paths), so that one choice does not starve a later
 * partition. What the matching cannot place is left to fill().
 */
function assignVacant (step: Step, deficit: Int32Array): void {
  const { board, live, rank } = step
  const vacant: number[] = []
  for (let p = 0; p < board.size; p++) if (board.owner[p] === NOBODY) vacant.push(p)
  if (vacant.length === 0) return
  const receivers = live.filter((node) => deficit[node] > 0)
  const eligible: number[][] = vacant.map((p) => {
    const fit = receivers.filter((node) => board.conflictsAt(p, node) === 0)
    return fit.sort((a, b) => deficit[b] - deficit[a] || rank[a] - rank[b])
  })
  const order = vacant.map((_, i) => i)
  order.sort((a, b) => eligible[a].length - eligible[b].length || a - b)
  const matched = new Int32Array(vacant.length).fill(NOBODY)
  const held = new Map<number, number[]>()
  for (const node of receivers) held.set(node, [])

  // Kuhn's augmenting path; `seen` bounds the search to each receiver once.
  const augment = (i: number, seen: Set<number>): boolean => {
    for (const node of eligible[i]) {
      if (seen.has(node)) continue
      seen.add(node)
      const mine = held.get(node) ?? []
      if (mine.length < deficit[node]) {
        mine.push(i)
        matched[i] = node
        return true
      }
      for (let k = 0; k < mine.length; k++) {
        if (augment(mine[k], seen)) {
          mine[k] = i
          matched[i] = node
          return true
        }
      }
    }
    return false
  }
  for (const i of order) augment(i, new Set())

  for (let i = 0; i < vacant.length; i++) {
    if (matched[i] === NOBODY) continue
    board.set(vacant[i], matched[i])
    deficit[matched[i]]--
  }
}

function take (board: Board, p: number, node: number, deficit: Int32Array, excess: Int32Array): void {
  const donor = board.owner[p]
  invariant((donor === NOBODY || excess[donor] > 0) && deficit[node] > 0, 'take: not from a node over quota to one under')
  board.set(p, node)
  if (donor !== NOBODY) excess[donor]--
  deficit[node]--
}

/** A new node's partitions, evenly spaced (see the diagram at the top). */
function comb (step: Step, node: number, deficit: Int32Array, excess: Int32Array): void {
  const board = step.board
  const q = board.size
  const teeth = deficit[node]
  const spacing = q / teeth
  const slack = Math.max(0, Math.floor((Math.floor(spacing) - board.window) / 2))
  const tooth = (offset: number, j: number): number => (offset + Math.floor(j * spacing)) % q
  // The offset whose teeth land on the most donors, then on the most conflicts.
  let bestOffset = 0
  let bestScore = -1
  const offsets = Math.min(q, Math.ceil(spacing))
  for (let offset = 0; offset < offsets; offset++) {
    let score = 0
    for (let j = 0; j < teeth; j++) {
      const p = tooth(offset, j)
      const donor = board.owner[p]
      if (donor !== NOBODY && excess[donor] > 0) score += 2 + (board.conflict[p] > 0 ? 1 : 0)
    }
    if (score > bestScore) {
      bestScore = score
      bestOffset = offset
    }
  }
  for (let j = 0; j < teeth && deficit[node] > 0; j++) {
    const center = tooth(bestOffset, j)
    let best = NOBODY
    for (let d = 0; d <= 2 * slack; d++) {
      // 0, +1, -1, +2, -2, ...
      const shift = d % 2 === 1 ? (d + 1) / 2 : -d / 2
      const p = (center + shift + q) % q
      const donor = board.owner[p]
      if (donor === NOBODY || donor === node || excess[donor] === 0) continue
      if (board.conflictsAt(p, node) > 0) continue
      if (best === NOBODY ||
        board.conflict[p] > board.conflict[best] ||
        (board.conflict[p] === board.conflict[best] && excess[donor] > excess[board.owner[best]])) best = p
    }
    if (best !== NOBODY) take(board, best, node, deficit, excess)
  }
}

/**
 * Remaining partitions one at a time, vacant ones or from nodes over quota:
 * the fewest conflicts for the taker, vacant first, then the most conflicts
 * removed from the giver, then undoing an earlier move of this step, then as
 * far as possible from the taker's other partitions, then the donor with
 * most to spare. When every such partition would conflict, a chain of moves
 * through nodes at quota may not (see chain()).
 */
function fill (step: Step, node: number, deficit: Int32Array, excess: Int32Array, chains: { left: number }): void {
  const board = step.board
  const q = board.size
  const distance = new Int32Array(q)
  nearestDistances(board, node, distance)
  // nodeNear[p] = partitions of node near p: kept up to date as node takes partitions
  const nodeNear = new NearbyCounts(board).of(node).slice()
  const took = (p: number): void => {
    for (let d = 1; d <= board.ahead; d++) nodeNear[(p + d) % q]++
    for (let d = 1; d <= board.behind; d++) nodeNear[(p - d + q) % q]++
    // distances shrink only out to where they were already shorter
    distance[p] = 0
    for (let d = 1; d <= q >> 1; d++) {
      const ahead = (p + d) % q
      const behind = (p - d + q) % q
      const shorter = distance[ahead] > d || distance[behind] > d
      if (distance[ahead] > d) distance[ahead] = d
      if (distance[behind] > d) distance[behind] = d
      if (!shorter) break
    }
  }
  for (let round = 0; round < q && deficit[node] > 0; round++) {
    let best = NOBODY
    // the key of best, field by field (see the comment above)
    let bConflicts = 0
    let bDonor = 0
    let bGain = 0
    let bCost = 0
    let bDistance = 0
    let bExcess = 0
    for (let p = 0; p < q; p++) {
      const donor = board.owner[p]
      if (donor === node || (donor !== NOBODY && excess[donor] === 0)) continue
      const conflicts = nodeNear[p]
      const fromDonor = donor === NOBODY ? 0 : 1
      const gain = board.conflict[p]
      const cost = board.moveCost(p, node)
      const spare = donor === NOBODY ? 0 : excess[donor]
      const better = best === NOBODY ||
        conflicts < bConflicts || (conflicts === bConflicts && (
          fromDonor < bDonor || (fromDonor === bDonor && (
            gain > bGain || (gain === bGain && (
              cost < bCost || (cost === bCost && (
                distance[p] > bDistance || (distance[p] === bDistance && spare > bExcess)))))))))
      if (!better) continue
      best = p
      bConflicts = conflicts
      bDonor = fromDonor
      bGain = gain
      bCost = cost
      bDistance = distance[p]
      bExcess = spare
    }
    invariant(best !== NOBODY, 'fill: a node under quota but nothing to take')
    if (bConflicts > 0 && chains.left > 0) {
      chains.left--
      if (chain(step, node, deficit, excess)) {
        nearestDistances(board, node, distance)
        nodeNear.set(new NearbyCounts(board).of(node))
        continue
      }
      chains.left = 0
    }
    take(board, best, node, deficit, excess)
    took(best)
  }
}

// Longest chain of moves tried: the taker and up to two relaying nodes.
const CHAIN_NODES_MAX = 3
// Chain searches per step (each costs up to k·Q·w); the first failure ends them.
const CHAIN_SEARCHES_MAX = 16

/**
 * A chain of moves that gives `node` one more partition without a conflict:
 * node takes p1 from x1, x1 takes p2 from x2, ..., the last takes a vacant
 * partition or one from a node over quota. Relaying nodes keep their count.
 * Breadth first, so the shortest chain wins. Returns false if none exists.
 *
 *   w = 5, Q = 64, e needs one more, a has one to spare (ring end ‖ start):
 *   before  … a b c d e f | a b c d e | a b c d f ‖ a b c d e f …
 *   e takes f's partition, f takes a's:
 *   after   … a b c d e f | a b c d e | a b c d e ‖ f b c d e f …
 */
function chain (step: Step, node: number, deficit: Int32Array, excess: Int32Array): boolean {
  const board = step.board
  const q = board.size
  const ids = step.quota.length
  // via[x] = the node that takes x's partition `gives[x]`; depth in the chain
  const via = new Int32Array(ids).fill(NOBODY)
  const gives = new Int32Array(ids).fill(NOBODY)
  const depth = new Int32Array(ids).fill(-1)
  depth[node] = 0
  const queue = [node]
  for (let head = 0; head < queue.length; head++) {
    const taker = queue[head]
    const lost = gives[taker]
    let source = NOBODY
    for (let p = 0; p < q; p++) {
      const holder = board.owner[p]
      if (holder === taker || p === lost) continue
      const conflicts = board.conflictsAt(p, taker) - (lost !== NOBODY && board.near(lost, p) ? 1 : 0)
      if (conflicts > 0) continue
      if (holder === NOBODY || excess[holder] > 0) {
        if (source === NOBODY || holder === NOBODY) source = p
        if (holder === NOBODY) break
        continue
      }
      if (depth[holder] === -1 && depth[taker] + 1 < CHAIN_NODES_MAX) {
        depth[holder] = depth[taker] + 1
        via[holder] = taker
        gives[holder] = p
        queue.push(holder)
      }
    }
    if (source === NOBODY) continue
    // apply from the source back to node
    const donor = board.owner[source]
    board.set(source, taker)
    if (donor !== NOBODY) excess[donor]--
    let x = taker
    for (let hop = 0; hop < CHAIN_NODES_MAX && x !== node; hop++) {
      board.set(gives[x], via[x])
      x = via[x]
    }
    invariant(x === node, 'chain: broken path')
    deficit[node]--
    return true
  }
  return false
}

/** distance[p] = cyclic distance from p to the nearest partition of node (q when none). */
export function nearestDistances (board: Board, node: number, distance: Int32Array): void {
  const q = board.size
  distance.fill(q)
  // two sweeps round the ring twice cover the wrap-around
  let last = -1
  for (let i = 0; i < 2 * q; i++) {
    const p = i % q
    if (board.owner[p] === node) last = i
    if (last >= 0) distance[p] = Math.min(distance[p], i - last)
  }
  last = -1
  for (let i = 2 * q - 1; i >= 0; i--) {
    const p = i % q
    if (board.owner[p] === node) last = i
    if (last >= 0) distance[p] = Math.min(distance[p], last - i)
  }
}
