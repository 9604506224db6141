// Sibling sets: canonical order, the object clock, and the invariants that
// put and merge rely on.
//
// Canonical order of siblings: by actor id, then counter (dots are unique).
// The object clock joins every sibling's ctx and its own dot; it is the
// context handed to GETCTX clients and the "what this replica has seen"
// summary used by merge.

import { compareActors } from './actor.js'
import { joinEntry } from './clock.js'
import type { Clock, Sibling, VObject } from './types.js'

/** The object of a key that has never been written. */
export function emptyObject (): VObject {
  return { siblings: [] }
}

/** Canonical dot order: actor id, then counter. */
export function compareDots (a: Sibling, b: Sibling): number {
  return compareActors(a.actor, b.actor) || a.counter - b.counter
}

/** The join of every sibling's ctx and its own dot (a dot's entry carries the sibling's ts). */
export function objectClock (obj: VObject): Clock {
  const out: Clock = new Map()
  for (const s of obj.siblings) {
    for (const [actor, entry] of s.ctx) joinEntry(out, actor, entry)
    joinEntry(out, s.actor, { counter: s.counter, ts: s.ts })
  }
  return out
}

/** Do the two objects hold the same versions (the same set of dots)? */
export function sameVersions (a: VObject, b: VObject): boolean {
  const as = a.siblings
  const bs = b.siblings
  if (as.length !== bs.length) return false
  for (let i = 0; i < as.length; i++) {
    if (as[i].actor !== bs[i].actor || as[i].counter !== bs[i].counter) return false
  }
  return true
}
