// What readers see of a sibling set: plain GET returns one value (the newest
// write), GETCTX returns every live value.

import { compareDots } from './object.js'
import type { Sibling, VObject } from './types.js'

/**
 * Is `a` newer than `b`? Larger ts; then larger value bytes (Buffer.compare);
 * then a value beats a tombstone; then the later dot in canonical order.
 */
function newerThan (a: Sibling, b: Sibling): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts
  if (a.value !== null && b.value !== null) {
    const order = Buffer.compare(a.value, b.value)
    if (order !== 0) return order > 0
  } else if (a.value !== b.value) {
    return a.value !== null
  }
  return compareDots(a, b) > 0
}

/** The sibling with the newest write (see newerThan for ties); undefined for an empty object. */
export function newest (obj: VObject): Sibling | undefined {
  let best: Sibling | undefined
  for (const s of obj.siblings) if (best === undefined || newerThan(s, best)) best = s
  return best
}

/** What plain GET returns: the newest sibling's value; null when it is a tombstone or there is none. */
export function liveValue (obj: VObject): Buffer | null {
  return newest(obj)?.value ?? null
}

/** What GETCTX returns: every non-tombstone value, in canonical sibling order. */
export function liveValues (obj: VObject): Buffer[] {
  const out: Buffer[] = []
  for (const s of obj.siblings) if (s.value !== null) out.push(s.value)
  return out
}

/** At least one sibling, and every sibling a tombstone (a candidate for reaping). */
export function isTombstoneOnly (obj: VObject): boolean {
  return obj.siblings.length > 0 && obj.siblings.every(s => s.value === null)
}
