// Merging two replicas' sibling sets (replication, read repair, anti-entropy,
// hints). docs/design.md#dotted-version-vectors:
//
//   union of a and b by dot (a dot in both is one version, kept once)
//   drop s  if another sibling of the union has a ctx covering s's dot
//   drop s  if s is in only one side and the other side's object clock
//           covers s's dot (that side saw s and superseded it)
//
// On reachable states this is the join of a semilattice: it is the causal
// join of (dot store, causal context) pairs, with the causal context of a
// state represented by its object clock. See merge.spec.ts for the laws.

import { covers, sortedActors } from './clock.js'
import { compareDots, objectClock } from './object.js'
import type { Clock, Sibling, VObject } from './types.js'
import { Buffer } from 'node:buffer'

const IN_A = 1
const IN_B = 2

function compareValues (a: Buffer | null, b: Buffer | null): number {
  if (a === b) return 0
  if (a === null) return -1
  if (b === null) return 1
  return Buffer.compare(a, b)
}

function compareClocks (a: Clock, b: Clock): number {
  if (a === b) return 0
  if (a.size !== b.size) return a.size - b.size
  const actorsA = sortedActors(a)
  const actorsB = sortedActors(b)
  for (let i = 0; i < actorsA.length; i++) {
    if (actorsA[i] !== actorsB[i]) return actorsA[i] < actorsB[i] ? -1 : 1
    const ea = a.get(actorsA[i]) as { counter: number, ts: number }
    const eb = b.get(actorsB[i]) as { counter: number, ts: number }
    if (ea.counter !== eb.counter) return ea.counter - eb.counter
    if (ea.ts !== eb.ts) return ea.ts - eb.ts
  }
  return 0
}

function compareTotals (a: Sibling, b: Sibling): number {
  if (a.total === b.total) return 0
  if (a.total === undefined) return -1
  if (b.total === undefined) return 1
  return a.total < b.total ? -1 : a.total > b.total ? 1 : typeof a.total < typeof b.total ? -1 : 1
}

function compareBases (a: Sibling, b: Sibling): number {
  const ea = a.base === undefined ? [] : [...a.base].sort((x, y) => x[0] < y[0] ? -1 : 1)
  const eb = b.base === undefined ? [] : [...b.base].sort((x, y) => x[0] < y[0] ? -1 : 1)
  if (ea.length !== eb.length) return ea.length - eb.length
  for (let i = 0; i < ea.length; i++) {
    if (ea[i][0] !== eb[i][0]) return ea[i][0] < eb[i][0] ? -1 : 1
    if (ea[i][1].counter !== eb[i][1].counter) return ea[i][1].counter - eb[i][1].counter
    const ta = ea[i][1].total
    const tb = eb[i][1].total
    if (ta !== tb) return ta < tb ? -1 : ta > tb ? 1 : typeof ta < typeof tb ? -1 : 1
  }
  return 0
}

/** The sweep's stripped form of an expired anchor: a tombstone keeping the dot and the expiry. */
function isStrippedOf (stripped: Sibling, live: Sibling): boolean {
  return stripped.value === null && stripped.marker === undefined && stripped.total === undefined && (live.value !== null || live.marker !== undefined) &&
    stripped.expireAt !== undefined && stripped.expireAt === live.expireAt
}

/**
 * Two siblings with the same dot are the same version, except that the sweep
 * may have stripped an expired one here and not there: the stripped form wins.
 * Otherwise they differ only after a dot was re-issued (a data directory
 * restored from a backup with its epoch): pick one deterministically so that
 * replicas still converge.
 */
function pickSame (a: Sibling, b: Sibling): Sibling {
  if (a === b) return a
  if (isStrippedOf(a, b)) return a
  if (isStrippedOf(b, a)) return b
  const order = a.ts - b.ts || compareValues(a.value, b.value) || compareClocks(a.ctx, b.ctx) ||
    compareTotals(a, b) || (a.marker ?? '').localeCompare(b.marker ?? '') || (a.expireAt ?? 0) - (b.expireAt ?? 0) || compareBases(a, b)
  return order >= 0 ? a : b
}

function coveredByAnother (union: Sibling[], k: number): boolean {
  const s = union[k]
  for (let m = 0; m < union.length; m++) {
    if (m !== k && covers(union[m].ctx, s.actor, s.counter)) return true
  }
  return false
}

function sameSiblings (a: Sibling[], b: Sibling[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function merge (a: VObject, b: VObject): VObject {
  if (a === b || b.siblings.length === 0) return a
  if (a.siblings.length === 0) return b
  const as = a.siblings
  const bs = b.siblings

  // Union by dot; both inputs are in canonical order.
  const union: Sibling[] = []
  const origin: number[] = []
  let i = 0
  let j = 0
  while (i < as.length || j < bs.length) {
    const order = i === as.length ? 1 : j === bs.length ? -1 : compareDots(as[i], bs[j])
    if (order < 0) {
      union.push(as[i++])
      origin.push(IN_A)
    } else if (order > 0) {
      union.push(bs[j++])
      origin.push(IN_B)
    } else {
      union.push(pickSame(as[i++], bs[j++]))
      origin.push(IN_A | IN_B)
    }
  }

  let clockA: Clock | undefined
  let clockB: Clock | undefined
  const kept: Sibling[] = []
  for (let k = 0; k < union.length; k++) {
    const s = union[k]
    if (origin[k] === IN_A) {
      clockB ??= objectClock(b)
      if (covers(clockB, s.actor, s.counter)) continue
    } else if (origin[k] === IN_B) {
      clockA ??= objectClock(a)
      if (covers(clockA, s.actor, s.counter)) continue
    }
    if (coveredByAnother(union, k)) continue
    kept.push(s)
  }

  // Hand back an input unchanged when it already is the result (cheap, and keeps identity).
  if (sameSiblings(kept, as)) return a
  if (sameSiblings(kept, bs)) return b
  return { siblings: kept }
}
