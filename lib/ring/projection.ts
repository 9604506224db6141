// Claim below M nodes (see claim.ts): the ring keeps the layout of M "slots",
// some held by real nodes and the rest by placeholders, the phantoms. A
// phantom's partitions are lent to the real nodes, spread evenly so that the
// node that later takes the phantom's slot takes a fair share from each:
//
//   N = 3, M = 4     slots:  0 1 2 3 0 1 2 3 0 1 2 3 …    (a conflict-free layout)
//   a, b real        slot 0 = a, slot 1 = b, slots 2 and 3 phantoms
//                    owners: a b a b a b b a a b a b …    (phantom partitions lent)
//   c joins          slot 2 = c: c takes its slot's partitions, and a third
//                    of slot 3's, from a and b
//
// Every step moves only partitions from nodes over quota (or gone) to nodes
// under quota. Below M nodes no ring can have every N-window distinct with
// equal weights, so conflicts are not looked at here.

import { NOBODY } from './board.js'
import { invariant } from './errors.js'
import type { Step } from './rebalance.js'

export interface Slots {
  /** slot[p] = the slot that partition p belongs to in the layout. */
  slot: Int32Array
  /** node[s] = the node id holding slot s, or NOBODY for a phantom. */
  node: Int32Array
}

export function project (step: Step, slots: Slots): void {
  const { board, live, quota, rank } = step
  const q = board.size
  const slotCount = slots.node.length
  const nodeIds = quota.length
  const deficit = new Int32Array(nodeIds)
  const excess = new Int32Array(nodeIds)
  for (const node of live) {
    const d = quota[node] - board.count[node]
    if (d > 0) deficit[node] = d
    else excess[node] = -d
  }
  // holdings[node * slotCount + s] = partitions of slot s that node owns now
  const holdings = new Int32Array(nodeIds * slotCount)
  const members: number[][] = Array.from({ length: slotCount }, () => [])
  for (let p = 0; p < q; p++) {
    members[slots.slot[p]].push(p)
    if (board.owner[p] !== NOBODY) holdings[board.owner[p] * slotCount + slots.slot[p]]++
  }
  const move = (p: number, node: number): void => {
    const donor = board.owner[p]
    if (donor !== NOBODY) {
      invariant(excess[donor] > 0, 'project: taking from a node not over quota')
      excess[donor]--
      holdings[donor * slotCount + slots.slot[p]]--
    }
    invariant(deficit[node] > 0, 'project: giving to a node not under quota')
    board.set(p, node)
    deficit[node]--
    holdings[node * slotCount + slots.slot[p]]++
  }
  const receivers = live.filter((node) => deficit[node] > 0)
  receivers.sort((a, b) => deficit[b] - deficit[a] || rank[a] - rank[b])

  // A: a node takes back its own slot's partitions, vacant ones first.
  for (const node of receivers) {
    const own = slots.node.indexOf(node)
    if (own === -1) continue
    for (const vacantOnly of [true, false]) {
      for (const p of members[own]) {
        if (deficit[node] === 0) break
        const holder = board.owner[p]
        if (holder === node) continue
        if (vacantOnly ? holder === NOBODY : holder !== NOBODY && excess[holder] > 0) move(p, node)
      }
    }
  }

  // B: other vacant partitions go to the node holding least of their slot,
  // relative to its quota.
  for (let p = 0; p < q; p++) {
    if (board.owner[p] !== NOBODY) continue
    const s = slots.slot[p]
    let best = NOBODY
    for (const node of receivers) {
      if (deficit[node] === 0) continue
      if (best === NOBODY || lessShare(holdings, slotCount, quota, rank, s, node, best)) best = node
    }
    invariant(best !== NOBODY, 'project: more vacant partitions than room under quota')
    move(p, best)
  }

  // C: nodes still under quota take from nodes over quota, from the slot
  // where the donor is most ahead of the taker, phantom or foreign slots
  // before the donor's own.
  for (const node of receivers) {
    for (let round = 0; round < q && deficit[node] > 0; round++) {
      let bestSlot = -1
      let bestDonor = NOBODY
      let bestScore = 0
      let bestOwn = true
      for (const donor of live) {
        if (excess[donor] === 0) continue
        for (let s = 0; s < slotCount; s++) {
          const held = holdings[donor * slotCount + s]
          if (held === 0) continue
          const own = slots.node[s] === donor
          const score = held / quota[donor] - holdings[node * slotCount + s] / quota[node]
          if (bestSlot === -1 || (bestOwn && !own) || (own === bestOwn && score > bestScore)) {
            bestSlot = s
            bestDonor = donor
            bestScore = score
            bestOwn = own
          }
        }
      }
      invariant(bestSlot !== -1, 'project: a node under quota but nobody over quota')
      const p = members[bestSlot].find((r) => board.owner[r] === bestDonor)
      invariant(p !== undefined, 'project: holdings out of step with the board')
      move(p, node)
    }
  }
  for (const node of live) invariant(board.count[node] === quota[node], 'project: a count misses its quota')
}

/** Whether `a` holds less of slot s than `b`, relative to their quotas (ties: more room, then rank). */
function lessShare (holdings: Int32Array, slotCount: number, quota: Int32Array, rank: Int32Array, s: number, a: number, b: number): boolean {
  // compare holdings[a]/quota[a] with holdings[b]/quota[b] without dividing
  const left = holdings[a * slotCount + s] * quota[b]
  const right = holdings[b * slotCount + s] * quota[a]
  if (left !== right) return left < right
  return rank[a] < rank[b]
}

/**
 * When the M-th node joins: it takes its slot's partitions, up to its quota,
 * whoever holds them, which leaves the ring as the slots' conflict-free
 * layout (with equal weights); rebalance() then settles the counts, which
 * differ from the slot sizes by at most one.
 */
export function takeOwnSlot (step: Step, slots: Slots, node: number): void {
  const { board, quota } = step
  const own = slots.node.indexOf(node)
  if (own === -1) return
  for (let p = 0; p < board.size && board.count[node] < quota[node]; p++) {
    if (slots.slot[p] === own) board.set(p, node)
  }
}
