// Version vectors with per-entry update times. Pure functions; every result is
// a fresh Map and no argument is modified.

import { compareActors } from './actor.js'
import type { Clock, ClockEntry } from './types.js'

/** Does `clock` cover the dot (actor, counter), i.e. clock[actor].counter >= counter? */
export function covers (clock: Clock, actor: string, counter: number): boolean {
  const entry = clock.get(actor)
  return entry !== undefined && entry.counter >= counter
}

/**
 * Joins `next` into `into` (in place; only for maps this module is building):
 * the larger counter wins and brings its ts; equal counters keep the later ts.
 */
export function joinEntry (into: Clock, actor: string, next: ClockEntry): void {
  const prev = into.get(actor)
  if (prev === undefined || next.counter > prev.counter || (next.counter === prev.counter && next.ts > prev.ts)) {
    into.set(actor, next)
  }
}

/** Per actor: the larger counter, with its ts (the later ts when counters are equal). */
export function joinClocks (a: Clock, b: Clock): Clock {
  const out: Clock = new Map(a)
  for (const [actor, entry] of b) joinEntry(out, actor, entry)
  return out
}

/**
 * Drops the entries updated longest ago until at most `vclockMax` remain (the
 * paper's truncation). Order of dropping: lowest ts first; among equal ts, the
 * smaller actor id first, so the result is deterministic.
 */
export function truncateClock (clock: Clock, vclockMax: number): { clock: Clock, truncated: number } {
  const excess = clock.size - vclockMax
  if (excess <= 0) return { clock: new Map(clock), truncated: 0 }
  const entries = [...clock].sort(([actorA, a], [actorB, b]) => a.ts - b.ts || compareActors(actorA, actorB))
  return { clock: new Map(entries.slice(excess)), truncated: excess }
}

/** Actor ids of a clock in canonical order. */
export function sortedActors (clock: Clock): string[] {
  return [...clock.keys()].sort(compareActors)
}
