// The data model of dotted version vectors (docs/design.md#versioning), with the typed
// payloads that Redis's data types need (docs/types.md).
//
//   VObject.siblings, canonical order: by actor, then counter
//   ┌───────────────────────────────────────────────────────────────────────────┐
//   │ Sibling  dot (actor, counter)   ctx: Clock   ts   payload   [expireAt] [base] │
//   └───────────────────────────────────────────────────────────────────────────┘
//   payload: value (bytes) | tombstone | counter total | collection marker
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

/** A counter's running total: an int64 (bigint) or a double. */
export type Total = bigint | number

/** What a write that superseded counter contributions had seen of each counter actor's chain. */
export interface BaseEntry {
  counter: number
  total: Total
}

/** counter actor id → the newest chain element the anchor covered. */
export type Base = Map<string, BaseEntry>

/** The type a collection marker announces (its members live in records of their own). */
export type Marker = 'set' | 'hash' | 'zset'

/**
 * One concurrent version of a key. Exactly one payload:
 *   value !== null                  a value (bytes)
 *   total !== undefined             a counter contribution: this actor's running
 *                                   total (value is null)
 *   marker !== undefined            a collection marker (value is null)
 *   otherwise (value === null)      a tombstone
 * Values, tombstones and markers are "anchors"; an anchor may carry an
 * absolute expiry time and the base of the counter chains it superseded.
 */
export interface Sibling {
  actor: string
  counter: number
  ctx: Clock
  ts: number
  value: Buffer | null
  total?: Total
  marker?: Marker
  /** Absolute expiry (ms since the epoch); absent or 0: none. Anchors only. */
  expireAt?: number
  /** Anchors only: counter totals this version superseded (absent: none). */
  base?: Base
}

/** The stored state of a key: its concurrent versions in canonical order (actor, then counter). */
export interface VObject {
  siblings: Sibling[]
}

/** Is the sibling a counter contribution? */
export function isCounter (s: Sibling): boolean {
  return s.total !== undefined
}

/** Is the sibling a tombstone (no value, no counter, no marker)? */
export function isTombstone (s: Sibling): boolean {
  return s.value === null && s.total === undefined && s.marker === undefined
}
