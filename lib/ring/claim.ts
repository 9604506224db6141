// Claim: which node owns each partition, as a pure function of membership.
//
// Every node must compute the same ring from the same gossiped membership,
// and a membership change should move few partitions, which needs history.
// So the ring is a fold over the membership's join and leave events, in the
// canonical order (time, join before leave, name), from an empty ring:
//
//   events   a+ (t=1)   b+ (t=5)   c+ (t=9)   b- (t=12)   d+ (t=20)
//   ring     aaaa…  ->  abab…  ->  abcb…  ->  ac…      ->  acd…
//
// Each step fixes each live node's quota (quota.ts: largest remainder of
// Q·w/W; equal remainders go to the node holding more partitions now, then
// by name hash), then moves partitions only from nodes over quota (or gone)
// to nodes under quota: sum(max(0, quota - count)) partitions, the least any
// claim can move, plus what the distinctness repair below adds.
//
// Distinctness. With w = min(N, Q), "any N consecutive partitions on distinct
// nodes" fails in a window when two partitions of one node are closer than w
// (layout.ts). With equal weights a ring with no such window exists iff
// ceil(Q/k)·w <= Q, that is iff the node count k is at least
//
//   M = distinctNodeCount(Q, N)     N = 1: 1   N = 2: 2   N = 3: 4 (Q >= 8)
//                                   N = 5: 6 (Q >= 16; Q = 8: 8)
//
// (k = N = 3 with Q = 64 cannot: some node owns 22 partitions, 22·3 > 64.)
//
// - k >= M (rebalance.ts, repair.ts): a joining node takes evenly spaced
//   partitions (a comb); partitions of a leaving node go to nodes with no
//   partition nearby (a matching); a node under quota that can only take a
//   conflicting partition takes one through a chain of relaying nodes; then
//   swaps remove the conflicts left; then, only if some remain although the
//   counts allow none, the ring is laid out afresh (spreadLayout), rotated
//   and labelled to keep as many owners as it can (ClaimStep.rebuilt).
// - k < M (projection.ts): no equal-weight ring is distinct (and for k <= N
//   every node is a primary of every key anyway). The ring keeps instead a
//   conflict-free layout of M slots, real nodes holding some, phantoms the
//   rest, the phantoms' partitions lent evenly to real nodes. A joining node
//   takes a phantom's slot, so when the M-th node arrives the ring is the
//   conflict-free layout again, having moved no more than its quota.
//
// Guarantee: after every step with k >= M live nodes whose largest quota c
// has c·w <= Q (always so with equal weights), every window of N consecutive
// partitions is on N distinct nodes. Below M nothing is promised (with k < w
// nodes every window repeats a node, necessarily). With weights that leave
// some quota c with c·w > Q, conflicts are reduced by a bounded best-effort
// repair, with no bound beyond that.
//
// Movement (measured by spec/ring/*-movement.spec.ts, equal weights):
// - a join moves its quota, ~Q/(k+1) (mean ratio 0.81 .. 1.09 for k = 1..15);
// - a leave moves exactly the leaver's partitions when k - 1 < M, and about
//   that (mean <= 1.15×, or one partition more) from k - 1 >= 2N on. In
//   between, M <= k - 1 <= 2N - 2 (N = 2: 2 nodes; N = 3: 4; N = 5: 6 to 8),
//   the vacated partitions cannot all be handed out without conflicts, and
//   keeping windows distinct moves more: 1.3 to 2.5× on average for N = 2
//   and 3, 2 to 6× for N = 5 (there the ring is mostly laid out afresh).
//   Distinctness is the standing property, so it wins over a one-off move.

import { Board, NOBODY } from './board.js'
import { MemberError, NoMembersError, OwnersError } from './errors.js'
import { partitionBits } from './hash.js'
import { checkReplicaCount, distinctNodeCount, spreadLayout } from './layout.js'
import { type Slots, project, takeOwnSlot } from './projection.js'
import { checkWeight, compareNames, largestRemainder } from './quota.js'
import { type Step, rebalance } from './rebalance.js'
import { conflictFree, rebuild, repair, undoMoves } from './repair.js'

export interface ClaimMember {
  name: string
  weight: number
  /** When the node joined (any clock, as recorded in membership). */
  joinedAt: number
  /** When it started leaving or was removed; null while it is a member. */
  leftAt: number | null
}

export interface ClaimEvent {
  kind: 'join' | 'leave'
  name: string
  time: number
}

export interface ClaimStep {
  event: ClaimEvent
  /** Owner of each partition after the event; empty when no member is left. */
  owners: string[]
  /** Whether the step had to lay the ring out afresh to keep windows distinct (moves many partitions). */
  rebuilt: boolean
}

const KIND_ORDER = { join: 0, leave: 1 } as const

/** The membership as events in canonical order: time, join before leave, name. */
export function claimEvents (members: readonly ClaimMember[]): ClaimEvent[] {
  const names = new Set<string>()
  const events: ClaimEvent[] = []
  for (const m of members) {
    if (typeof m.name !== 'string' || m.name.length === 0) throw new MemberError('a member needs a non-empty name')
    if (names.has(m.name)) throw new MemberError(`duplicate member ${JSON.stringify(m.name)}`)
    names.add(m.name)
    checkWeight(m.name, m.weight)
    if (!Number.isFinite(m.joinedAt)) throw new MemberError(`joinedAt of ${JSON.stringify(m.name)} must be a finite number`)
    events.push({ kind: 'join', name: m.name, time: m.joinedAt })
    if (m.leftAt !== null) {
      if (!Number.isFinite(m.leftAt) || m.leftAt < m.joinedAt) {
        throw new MemberError(`leftAt of ${JSON.stringify(m.name)} must be a finite number not before joinedAt`)
      }
      events.push({ kind: 'leave', name: m.name, time: m.leftAt })
    }
  }
  events.sort((x, y) => x.time - y.time || KIND_ORDER[x.kind] - KIND_ORDER[y.kind] || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
  return events
}

/** Owner of each partition for this membership. Members with leftAt set own nothing. */
export function claim (members: readonly ClaimMember[], partitions: number, n: number): string[] {
  const owners = fold(members, partitions, n, null)
  if (owners.length === 0) throw new NoMembersError('no live member to own the partitions')
  return owners
}

/** The ring after each event of the fold, in event order. */
export function claimSteps (members: readonly ClaimMember[], partitions: number, n: number): ClaimStep[] {
  const steps: ClaimStep[] = []
  fold(members, partitions, n, steps)
  return steps
}

/** Runs the fold; returns the final owners, and records every step into `steps` when given. */
function fold (members: readonly ClaimMember[], partitions: number, n: number, steps: ClaimStep[] | null): string[] {
  partitionBits(partitions)
  checkReplicaCount(n)
  const events = claimEvents(members)
  const byName = [...members].sort((a, b) => compareNames(a.name, b.name))
  const id = new Map(byName.map((m, i) => [m.name, i]))
  const names = byName.map((m) => m.name)
  const weight = byName.map((m) => m.weight)
  const rank = new Int32Array(byName.length).map((_, i) => i)
  const slotsMax = distinctNodeCount(partitions, n)
  const ownerNames = (board: Board | null): string[] => board === null ? [] : Array.from(board.owner, (x) => names[x])

  // one board for the whole fold: board.start is the ring before each step
  let board: Board | null = null
  let slots: Slots | null = null
  const live: number[] = []
  const quota = new Int32Array(names.length)
  for (const event of events) {
    const node = id.get(event.name) as number
    let rebuilt = false
    let changed = board !== null
    if (board !== null) board.start.set(board.owner)
    if (event.kind === 'join') {
      live.push(node)
      if (board === null) {
        const owner = new Int32Array(partitions).fill(node)
        board = new Board(owner, owner.slice(), n, names.length)
        slots = live.length < slotsMax ? firstSlots(partitions, slotsMax, node) : null
      } else if (slots !== null) {
        const phantom = slots.node.indexOf(NOBODY)
        if (phantom !== -1) slots.node[phantom] = node
      }
    } else {
      live.splice(live.indexOf(node), 1)
      if (live.length === 0) {
        board = null
        slots = null
        changed = false
      } else if (board !== null) {
        if (slots === null && live.length < slotsMax) slots = slotsFrom(board.owner)
        if (slots !== null) {
          const own = slots.node.indexOf(node)
          if (own !== -1) slots.node[own] = NOBODY
        }
        for (let p = 0; p < partitions; p++) if (board.owner[p] === node) board.set(p, NOBODY)
      }
    }
    if (changed && board !== null) {
      const counted = board
      const settle = (): void => {
        const counts = largestRemainder(live.map((x) => weight[x]), live.map((x) => rank[x]), partitions, live.map((x) => counted.count[x]))
        live.forEach((x, i) => { quota[x] = counts[i] })
      }
      settle()
      const step: Step = { board, live, quota, rank }
      if (slots !== null && live.length < slotsMax) {
        project(step, slots)
      } else {
        if (slots !== null) {
          // the M-th node: back to the slots' layout, then quotas that fit it
          takeOwnSlot(step, slots, node)
          settle()
        }
        slots = null
        rebalance(step)
      }
      if (slots === null && board.conflictPairs > 0) {
        const fixed = repair(step)
        if (!fixed && conflictFree(step)) {
          rebuild(step)
          rebuilt = true
        }
        undoMoves(step)
      }
    }
    steps?.push({ event, owners: ownerNames(board), rebuilt })
  }
  return ownerNames(board)
}

/** The first node's slots: a conflict-free layout of M equal slots, the node in slot 0. */
function firstSlots (partitions: number, slotCount: number, node: number): Slots {
  const counts = new Array<number>(slotCount).fill(0).map((_, s) => Math.floor(partitions / slotCount) + (s < partitions % slotCount ? 1 : 0))
  const holder = new Int32Array(slotCount).fill(NOBODY)
  holder[0] = node
  return { slot: spreadLayout(counts), node: holder }
}

/** Slots from a ring: one slot per node, numbered in ring order. */
function slotsFrom (owner: Int32Array): Slots {
  const slotOf = new Map<number, number>()
  const slot = new Int32Array(owner.length)
  for (let p = 0; p < owner.length; p++) {
    let s = slotOf.get(owner[p])
    if (s === undefined) {
      s = slotOf.size
      slotOf.set(owner[p], s)
    }
    slot[p] = s
  }
  const node = new Int32Array(slotOf.size)
  for (const [holder, s] of slotOf) node[s] = holder
  return { slot, node }
}

/** Partitions whose owner differs between two rings of the same size. */
export function movedPartitions (before: readonly string[], after: readonly string[]): number[] {
  if (before.length !== after.length) throw new OwnersError(`rings of different sizes: ${before.length} and ${after.length}`)
  const moved: number[] = []
  for (let p = 0; p < before.length; p++) if (before[p] !== after[p]) moved.push(p)
  return moved
}
