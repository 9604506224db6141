// What readers see of a sibling set (docs/types.md):
//
//   anchor      the newest sibling that is not a counter contribution: the
//               version a plain reader sees. A live collection marker wins
//               over concurrent plain tombstones (a collection's adds win over
//               a DEL that did not see them); among the rest, newest wins.
//   key state   none | string (the anchor's value, plus the counter
//               contributions it did not supersede) | a collection type; an
//               anchor past its expiry makes the whole key none.
//   GETCTX      every live value (or, for a counter, its one computed value).
//
// "Newest" (newerThan): larger ts; then the larger expiry (none is smallest);
// then larger value bytes; then marker > value > tombstone; then the later dot.
// None of it depends on the time: the anchor is a function of the object, and
// the time only decides whether that anchor has expired. The sweep's strip (an
// expired value becomes a tombstone with the same dot and expiry) can change
// the winner only among siblings that share ts and expiry — all expired — so it
// never changes what anyone reads.

import { compareDots } from './object.js'
import { counterSum } from './counter.js'
import { formatHumanFloat, parseFloatStrict, parseInt64 } from '../util/numbers.js'
import { isCounter, isTombstone, type Marker, type Sibling, type Total, type VObject } from './types.js'
import { Buffer } from 'node:buffer'

/** Is the sibling past its expiry at nowMs? */
export function isExpired (s: Sibling, nowMs: number): boolean {
  return s.expireAt !== undefined && s.expireAt > 0 && s.expireAt <= nowMs
}

function rank (s: Sibling): number {
  return s.marker !== undefined ? 2 : s.value !== null ? 1 : 0
}

function newerThan (a: Sibling, b: Sibling): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts
  const ea = a.expireAt ?? 0
  const eb = b.expireAt ?? 0
  if (ea !== eb) return ea > eb
  if (a.value !== null && b.value !== null) {
    const order = Buffer.compare(a.value, b.value)
    if (order !== 0) return order > 0
  }
  const r = rank(a) - rank(b)
  if (r !== 0) return r > 0
  if (a.marker !== undefined && b.marker !== undefined && a.marker !== b.marker) return a.marker > b.marker
  return compareDots(a, b) > 0
}

/**
 * The anchor of an object (see the top of this file); undefined when it holds
 * only counters, or nothing. addWins (a collection's element): a plain
 * tombstone does not hide a concurrent value either — a remove removes only
 * the adds it saw.
 */
export function anchor (obj: VObject, addWins = false): Sibling | undefined {
  let adds = false
  for (const s of obj.siblings) if (s.marker !== undefined || (addWins && s.value !== null)) adds = true
  let best: Sibling | undefined
  for (const s of obj.siblings) {
    if (isCounter(s)) continue
    // A plain tombstone does not hide a concurrent marker (a stripped value, which has an expiry, still ranks).
    if (adds && isTombstone(s) && (s.expireAt ?? 0) === 0) continue
    if (best === undefined || newerThan(s, best)) best = s
  }
  return best
}

/** The anchor (the name readers used before there were counters and markers). */
export const newest = anchor

export type KeyType = 'none' | 'string' | Marker

export interface KeyState {
  type: KeyType
  /** A string's value (computed when counters contribute); null otherwise. */
  value: Buffer | null
  /** The anchor's expiry (ms); 0: none. For type none: the expiry that ended the key, or 0. */
  expireAt: number
  /** Counter contributions take part in the value (INCR made it). */
  counted: boolean
}

const NONE: KeyState = { type: 'none', value: null, expireAt: 0, counted: false }

function formatTotal (t: Total): string {
  return typeof t === 'bigint' ? t.toString() : formatHumanFloat(t)
}

/** A value plus counter contributions: numeric when the value parses as the contributions' kind, else the value as it is. */
function addToValue (value: Buffer, sum: Total): Buffer {
  if (typeof sum === 'bigint') {
    const v = parseInt64(value)
    return v === null ? value : Buffer.from((v + sum).toString())
  }
  const v = parseFloatStrict(value)
  return v === null ? value : Buffer.from(formatHumanFloat(v + sum))
}

/** What a key holds at nowMs (its key record's object; addWins for a collection's element record). */
export function keyState (obj: VObject, nowMs: number, addWins = false): KeyState {
  const a = anchor(obj, addWins)
  if (a !== undefined && isExpired(a, nowMs)) return { ...NONE, expireAt: a.expireAt as number }
  const expireAt = a?.expireAt ?? 0
  if (a?.marker !== undefined) return { type: a.marker, value: null, expireAt, counted: false }
  const sum = counterSum(obj, a?.base)
  if (a !== undefined && a.value !== null) {
    if (sum === null || !sum.effective) return { type: 'string', value: a.value, expireAt, counted: false }
    return { type: 'string', value: addToValue(a.value, sum.total), expireAt, counted: true }
  }
  if (sum === null || !sum.effective) return NONE
  return { type: 'string', value: Buffer.from(formatTotal(sum.total)), expireAt, counted: true }
}

/** What a plain GET returns (expiry ignored): the string value, or null. */
export function liveValue (obj: VObject): Buffer | null {
  return keyState(obj, 0).value
}

/**
 * What GETCTX returns at nowMs: every unexpired value in canonical sibling
 * order (concurrent versions, even those a newer delete hides from GET), or a
 * counter's one computed value.
 */
export function liveValues (obj: VObject, nowMs = 0): Buffer[] {
  const state = keyState(obj, nowMs)
  if (state.counted) return [state.value as Buffer]
  const out: Buffer[] = []
  for (const s of obj.siblings) if (s.value !== null && !isExpired(s, nowMs)) out.push(s.value)
  return out
}

/** What a collection's element record holds: a value (the newest write), counter contributions, or none. */
export function elementState (obj: VObject): KeyState {
  return keyState(obj, 0, true)
}

/** Nothing of the object is visible at nowMs (a candidate for reaping once old enough); addWins for an element. */
export function isDead (obj: VObject, nowMs: number, addWins = false): boolean {
  return obj.siblings.length > 0 && keyState(obj, nowMs, addWins).type === 'none'
}

/** At least one sibling, and every sibling a tombstone (nowMs given: or expired, or an unseen-free counter). */
export function isTombstoneOnly (obj: VObject, nowMs?: number): boolean {
  if (nowMs !== undefined) return isDead(obj, nowMs)
  return obj.siblings.length > 0 && obj.siblings.every(isTombstone)
}

/**
 * The sweep's rewrite of an object at nowMs: every expired value or marker
 * becomes a tombstone with the same dot and expiry, so its bytes are reclaimed
 * before the record is reaped and it stops counting as a key (readers see no
 * change; merge prefers the stripped version of a dot). Returns obj itself
 * when nothing changes.
 */
export function strip (obj: VObject, nowMs: number): VObject {
  let changed = false
  const siblings = obj.siblings.map((s) => {
    if ((s.value === null && s.marker === undefined) || !isExpired(s, nowMs)) return s
    changed = true
    const { marker: _, ...rest } = s
    return { ...rest, value: null }
  })
  return changed ? { siblings } : obj
}
