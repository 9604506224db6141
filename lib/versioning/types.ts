// The data model of dotted version vectors (DESIGN.md §3).
//
//   VObject.siblings, canonical order: by actor, then counter
//   ┌────────────────────────────────────────────────────────────────┐
//   │ Sibling  dot (actor, counter)   ctx: Clock   ts   value|null   │
//   │ Sibling  dot (actor, counter)   ctx: Clock   ts   value|null   │
//   └────────────────────────────────────────────────────────────────┘
//   Clock: actor → { counter, ts }   (a version vector with the time of
//   each entry's last update, used only by truncation)
//
// A dot names one version; the version's ctx is what its writer had seen.
// Every value here is immutable once built: functions return new objects
// and never modify their arguments.

/** One version-vector entry: the highest counter seen, and when (ms) that entry last changed. */
export interface ClockEntry {
  counter: number
  ts: number
}

/** actor id → entry. Treated as immutable; iteration order carries no meaning. */
export type Clock = Map<string, ClockEntry>

/** One concurrent version of a key. `value === null` is a tombstone. */
export interface Sibling {
  actor: string
  counter: number
  ctx: Clock
  ts: number
  value: Buffer | null
}

/** The stored state of a key: its concurrent versions in canonical order (actor, then counter). */
export interface VObject {
  siblings: Sibling[]
}
