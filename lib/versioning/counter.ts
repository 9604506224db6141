// Counters inside a sibling set (docs/types.md): a PN-counter whose per-actor
// state is a chain of DVV siblings.
//
//   INCR at node X  →  a sibling on X's counter lane (X.99) holding X's running
//                      total; its ctx covers X's previous chain element only, so
//                      it supersedes nothing of anybody else's.
//   SET / DEL / EXPIRE (an anchor) cover what their writer saw, counter
//                      contributions included, and record in `base` the newest
//                      total they covered per counter actor.
//   value = anchor's value + Σ over live contributions c of
//           c.total − base[c.actor].total   (base entry missing: c.total)
//
// So concurrent increments on different coordinators, or on both sides of a
// partition, all count after merging (merge is the DVV merge), and a SET
// replaces exactly the counter state its coordinator had seen: an increment it
// did not see still counts on top of it.

import { onLane } from './actor.js'
import { CounterOverflowError, InvalidArgumentError } from './errors.js'
import { compareDots } from './object.js'
import { isCounter, type Base, type BaseEntry, type Clock, type Sibling, type Total, type VObject } from './types.js'

/** The lane of a node's actor on which its counter contributions are issued (put.ts uses lanes 0–7). */
export const COUNTER_LANE = 99

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

export function addTotals (a: Total, b: Total): Total {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b
  return Number(a) + Number(b)
}

function subTotals (a: Total, b: Total): Total {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a - b
  return Number(a) - Number(b)
}

export interface CounterSum {
  /** The sum of every live contribution net of the base (0n when all are integers). */
  total: Total
  /** Some contribution is not covered by the base: the key holds a counter even without a value. */
  effective: boolean
}

/**
 * The counter value an anchor with `base` leaves to the contributions: per
 * counter actor, the newest total anyone in the object knows of (a live
 * contribution, or the base of any anchor — a contribution another anchor
 * superseded is remembered there) minus what the anchor itself saw. null when
 * the object knows of no counter at all.
 */
export function counterSum (obj: VObject, base: Base | undefined): CounterSum | null {
  const heads = new Map<string, BaseEntry>()
  const note = (actor: string, counter: number, total: Total): void => {
    const prev = heads.get(actor)
    if (prev === undefined || counter > prev.counter) heads.set(actor, { counter, total })
  }
  for (const s of obj.siblings) {
    if (isCounter(s)) note(s.actor, s.counter, s.total as Total)
    if (s.base !== undefined) for (const [actor, e] of s.base) note(actor, e.counter, e.total)
  }
  if (heads.size === 0) return null
  let total: Total | null = null
  let effective = false
  // Canonical actor order: a float sum comes out the same on every replica.
  for (const actor of [...heads.keys()].sort()) {
    const head = heads.get(actor) as BaseEntry
    const b = base?.get(actor)
    let part: Total
    if (b === undefined) {
      part = head.total
      effective = true
    } else if (head.counter > b.counter) {
      part = subTotals(head.total, b.total)
      effective = true
    } else {
      part = typeof head.total === 'bigint' ? 0n : 0
    }
    total = total === null ? part : addTotals(total, part)
  }
  return { total: total as Total, effective }
}

/** The newest element of `actor`'s chain that the object knows of: a live contribution or a base entry. */
function chainHead (obj: VObject, actor: string): { counter: number, total: Total, ts: number } | null {
  let head: { counter: number, total: Total, ts: number } | null = null
  for (const s of obj.siblings) {
    if (s.actor === actor && isCounter(s) && (head === null || s.counter > head.counter)) head = { counter: s.counter, total: s.total as Total, ts: s.ts }
    const b = s.base?.get(actor)
    if (b !== undefined && (head === null || b.counter > head.counter)) head = { counter: b.counter, total: b.total, ts: s.ts }
  }
  return head
}

/** The highest counter of `actor` anywhere in the object: dots, contexts and bases. */
export function knownCounter (obj: VObject, actor: string): number {
  let known = 0
  for (const s of obj.siblings) {
    if (s.actor === actor && s.counter > known) known = s.counter
    const seen = s.ctx.get(actor)
    if (seen !== undefined && seen.counter > known) known = seen.counter
    const b = s.base?.get(actor)
    if (b !== undefined && b.counter > known) known = b.counter
  }
  return known
}

export interface IncrementOptions {
  /** The coordinating node's plain actor id; the contribution goes on its counter lane. */
  actor: string
  delta: Total
  nowMs: number
  counterFloor?: number
}

export interface IncrementResult {
  obj: VObject
  /** The new dot's counter (callers raise their counterFloor to it). */
  counter: number
}

/** Adds `delta` to this actor's chain: one new contribution superseding its previous one. */
export function increment (obj: VObject, o: IncrementOptions): IncrementResult {
  if (typeof o.delta === 'number' && !Number.isFinite(o.delta)) throw new InvalidArgumentError('delta must be finite')
  const actor = onLane(o.actor, COUNTER_LANE)
  const head = chainHead(obj, actor)
  const total = addTotals(head?.total ?? (typeof o.delta === 'bigint' ? 0n : 0), o.delta)
  if (typeof total === 'bigint' ? total < INT64_MIN || total > INT64_MAX : !Number.isFinite(total)) {
    throw new CounterOverflowError(`the counter total of ${actor} would leave its range`)
  }
  const known = knownCounter(obj, actor)
  const counterMax = Math.max(o.counterFloor ?? 0, known)
  if (counterMax >= Number.MAX_SAFE_INTEGER) throw new CounterOverflowError(`counter of ${actor} exhausted`)
  const counter = counterMax + 1
  const ctx: Clock = known > 0 ? new Map([[actor, { counter: known, ts: head?.ts ?? o.nowMs }]]) : new Map()
  const added: Sibling = { actor, counter, ctx, ts: o.nowMs, value: null, total }
  const siblings: Sibling[] = []
  let placed = false
  for (const s of obj.siblings) {
    if (s.actor === actor && s.counter <= known) continue // the chain's earlier elements
    if (!placed && compareDots(added, s) < 0) {
      siblings.push(added)
      placed = true
    }
    siblings.push(s)
  }
  if (!placed) siblings.push(added)
  return { obj: { siblings }, counter }
}

/**
 * The base of a new anchor whose context is `context`: per counter actor, the
 * newest total among the contributions the context covers and the bases of the
 * anchors it covers. undefined when empty.
 */
export function baseCovered (obj: VObject, covered: (s: Sibling) => boolean): Base | undefined {
  let base: Base | undefined
  const join = (actor: string, counter: number, total: Total): void => {
    const prev = base?.get(actor)
    if (prev === undefined || counter > prev.counter) (base ??= new Map()).set(actor, { counter, total })
  }
  for (const s of obj.siblings) {
    if (!covered(s)) continue
    if (isCounter(s)) join(s.actor, s.counter, s.total as Total)
    if (s.base !== undefined) for (const [actor, e] of s.base) join(actor, e.counter, e.total)
  }
  return base
}
