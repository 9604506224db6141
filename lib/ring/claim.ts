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
import { keyHash, partitionBits } from './hash.js'
import { checkReplicaCount, distinctNodeCount, spreadLayout } from './layout.js'
import { type Slots, project, takeOwnSlot } from './projection.js'
import { checkWeight, largestRemainder } from './quota.js'
import { type Step, rebalance } from './rebalance.js'
import { conflictFree, rebuild, repair, undoMoves } from './repair.js'
import { Ring } from './ring.js'
import { Buffer } from 'node:buffer'

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
  return checkOwners(fold(members, partitions, n, null, null).owners)
}

/** The ring after each event of the fold, in event order. */
export function claimSteps (members: readonly ClaimMember[], partitions: number, n: number): ClaimStep[] {
  const steps: ClaimStep[] = []
  fold(members, partitions, n, steps, null)
  return steps
}

/**
 * claim() with a memory, for a node that recomputes its ring on every
 * membership change: when the new membership's events extend the events
 * folded last time (the usual join or leave, stamped with the current time),
 * only the new events are folded, from the state the last fold ended in.
 * Otherwise (an event sorted in among old ones, a weight changed) it folds
 * from the start. Same owners as claim() for any membership, in any sequence
 * of calls (spec/ring/claim-cache.spec.ts).
 */
export class ClaimCache {
  private last: FoldState | null = null
  /** The members of the last call, as given (a node passes them in the same order every time). */
  private lastMembers: ClaimMember[] = []
  private lastRing: Ring | null = null

  constructor (readonly partitions: number, readonly n: number) {}

  owners (members: readonly ClaimMember[]): string[] {
    if (this.last === null || !sameMembers(members, this.lastMembers)) {
      this.last = fold(members, this.partitions, this.n, null, this.last)
      this.lastMembers = members.map((m) => ({ ...m }))
    }
    return checkOwners([...this.last.owners])
  }

  /** The ring for this membership: the same Ring object as last time when no partition changed owner. */
  ring (members: readonly ClaimMember[]): Ring {
    const owners = this.owners(members)
    const last = this.lastRing
    if (last !== null && last.owners.every((o, p) => o === owners[p])) return last
    this.lastRing = new Ring(owners, this.n)
    return this.lastRing
  }
}

function sameMembers (a: readonly ClaimMember[], b: readonly ClaimMember[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    if (x.name !== y.name || x.weight !== y.weight || x.joinedAt !== y.joinedAt || x.leftAt !== y.leftAt) return false
  }
  return true
}

function checkOwners (owners: string[]): string[] {
  if (owners.length === 0) throw new NoMembersError('no live member to own the partitions')
  return owners
}

/**
 * Where a fold ended, in names (node ids depend on the whole member list):
 * the events folded with each one's member weight, and the ring, slots and
 * live nodes after the last one. Nothing else carries from step to step
 * (node ids are ranks in compareNames order: a new member shifts them, but
 * every choice of the fold depends on their order only).
 */
interface FoldState {
  partitions: number
  n: number
  events: Array<ClaimEvent & { weight: number }>
  owners: string[]
  slots: { slot: Int32Array, node: Array<string | null> } | null
  live: string[]
  /** MD5 of every member's name, for the next fold's sort. */
  hashes: Map<string, Buffer>
}

/** How many leading events of `events` the state has folded already (0: fold from the start). */
function resumable (state: FoldState | null, events: ReadonlyArray<ClaimEvent & { weight: number }>, partitions: number, n: number): number {
  if (state === null || state.partitions !== partitions || state.n !== n || state.events.length > events.length) return 0
  for (let i = 0; i < state.events.length; i++) {
    const a = state.events[i]
    const b = events[i]
    if (a.kind !== b.kind || a.name !== b.name || a.time !== b.time || a.weight !== b.weight) return 0
  }
  return state.events.length
}

/**
 * Runs the fold, from `from` when the membership extends what it folded;
 * returns where it ended, and records every step into `steps` when given.
 */
function fold (members: readonly ClaimMember[], partitions: number, n: number, steps: ClaimStep[] | null, from: FoldState | null): FoldState {
  partitionBits(partitions)
  checkReplicaCount(n)
  const weightOf = new Map(members.map((m) => [m.name, m.weight]))
  const events = claimEvents(members).map((e) => ({ ...e, weight: weightOf.get(e.name) as number }))
  const skip = resumable(from, events, partitions, n)
  if (from !== null && skip > 0 && skip === events.length) return from
  const hashes = nameHashes(members, from?.hashes)
  const byName = [...members].sort((a, b) => Buffer.compare(hashes.get(a.name) as Buffer, hashes.get(b.name) as Buffer) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const id = new Map(byName.map((m, i) => [m.name, i]))
  const names = byName.map((m) => m.name)
  const weight = byName.map((m) => m.weight)
  const rank = new Int32Array(byName.length).map((_, i) => i)
  const slotsMax = distinctNodeCount(partitions, n)
  const ownerNames = (board: Board | null): string[] => board === null ? [] : Array.from(board.owner, (x) => names[x])
  const idOf = (name: string | null): number => name === null ? NOBODY : id.get(name) as number

  // one board for the whole fold: board.start is the ring before each step
  let board: Board | null = null
  let slots: Slots | null = null
  const live: number[] = []
  const quota = new Int32Array(names.length)
  if (from !== null && skip > 0) {
    if (from.owners.length > 0) {
      const owner = Int32Array.from(from.owners, idOf)
      board = new Board(owner, owner.slice(), n, names.length)
    }
    slots = from.slots === null ? null : { slot: from.slots.slot.slice(), node: Int32Array.from(from.slots.node, idOf) }
    for (const name of from.live) live.push(idOf(name))
  }
  for (const event of events.slice(skip)) {
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
    steps?.push({ event: { kind: event.kind, name: event.name, time: event.time }, owners: ownerNames(board), rebuilt })
  }
  return {
    partitions,
    n,
    events,
    owners: ownerNames(board),
    slots: slots === null ? null : { slot: slots.slot, node: Array.from(slots.node, (x) => x === NOBODY ? null : names[x]) },
    live: live.map((x) => names[x]),
    hashes
  }
}

/** MD5 of each member's name (compareNames' order), taken from `known` where it has them. */
function nameHashes (members: readonly ClaimMember[], known: ReadonlyMap<string, Buffer> | undefined): Map<string, Buffer> {
  return new Map(members.map((m) => [m.name, known?.get(m.name) ?? keyHash(Buffer.from(m.name, 'utf8'))]))
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
