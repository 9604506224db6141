// A write at a coordinator (docs/design.md#dotted-version-vectors): PUT with the client's context, SET
// with the coordinator's own object clock, DEL/DELCTX with a tombstone.
//
//   before:  obj = { s1, s2, s3 }          context C covers s1 and s3
//   after:   obj = { s2, new }             new = dot (A, n), ctx = C
//                                          (truncated to vclockMax entries)
//   returned context = new.ctx + {A: n}    (covers what the writer saw and
//                                          its own write, nothing else)
//
// Which actor A issues the dot. A version-vector entry {A: n} covers every
// dot (A, 1..n). For the returned context to cover nothing the writer has
// not seen, the writer must have seen every dot A issued for this key:
// known(A) <= C[A], where known(A) is the highest A counter in the object (in
// dots and in ctx entries; the coordinator holds every dot it issued for the
// key). With the node's plain actor id (lane 0) that holds for a single
// writer, for SET (C is the object clock) and for any writer that read after
// the last write through this node. When another writer's version from this
// node is missing from C, the next lane that C is up to date on issues the
// dot instead (lanes 1, 2, …: actor ids `${actor}.${lane}`). Without that, C
// + {A: n} would cover the other writer's version: the writer's next PUT
// would hide it, and the returned context would claim a version without its
// causal past, which breaks the merge laws (put.spec.ts has the history).
// Past `lanesMax` lanes the dot goes to lane 0 and the returned context is C
// itself: still exact, but the writer's next PUT will not supersede this one.
//
// The counter is 1 + max(C[A], known(A), counterFloor), so a dot is never
// re-issued; counters in between were never issued for this key.

import { isActorId, isPlainActorId, LANE_MAX, onLane } from './actor.js'
import { covers, truncateClock } from './clock.js'
import { compareDots } from './object.js'
import { baseCovered, knownCounter } from './counter.js'
import { CounterOverflowError, InvalidActorError, InvalidArgumentError } from './errors.js'
import type { Clock, Marker, Sibling, VObject } from './types.js'
import { Buffer } from 'node:buffer'

/** The paper's default threshold (`--vclock-max 10`). */
export const VCLOCK_MAX_DEFAULT = 10
/** Lanes a put may use by default (lanes 0–7). */
export const LANES_MAX_DEFAULT = 8

export interface PutOptions {
  /** The coordinating node's actor id (from actorId; the plain id, not a lane). */
  actor: string
  /** What the writer has seen: a decoded client token, or objectClock(obj) for a blind SET. */
  context: Clock
  /** The new value; null writes a tombstone (or, with `marker`, a collection marker). */
  value: Buffer | null
  /** A collection marker instead of a value (value must be null). */
  marker?: Marker
  /** Absolute expiry of the new version (ms); absent or 0: none. */
  expireAt?: number
  /** The write time in ms (the caller's clock). */
  nowMs: number
  /**
   * The highest counter this node has issued, on any key and lane: the new
   * counter is above it, so a dot is never re-issued even for a key whose
   * local state is gone. Default 0.
   */
  counterFloor?: number
  /** Context entries kept in the new sibling; the rest, updated longest ago, are dropped. Default 10. */
  vclockMax?: number
  /** How many lanes (0 … lanesMax − 1) the put may write on. Default 8, at most 100. */
  lanesMax?: number
}

export interface PutResult {
  obj: VObject
  /** The new dot's actor: `actor`, or one of its lanes. */
  actor: string
  /** The new dot's counter (callers raise their counterFloor to it). */
  counter: number
  /** The context to hand back to the writer: the new sibling's ctx plus its dot. */
  context: Clock
  /** How many context entries truncation dropped. */
  truncated: number
}

function isTime (n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0
}

function checkContext (context: Clock): void {
  if (!(context instanceof Map)) throw new InvalidArgumentError('context must be a Map')
  for (const [actor, entry] of context) {
    if (!isActorId(actor)) throw new InvalidArgumentError(`context has an invalid actor id: ${JSON.stringify(actor)}`)
    if (!Number.isSafeInteger(entry.counter) || entry.counter < 1 || !isTime(entry.ts)) {
      throw new InvalidArgumentError(`context entry of ${actor} out of range`)
    }
  }
}

export function put (obj: VObject, options: PutOptions): PutResult {
  const {
    actor, context, value, nowMs,
    counterFloor = 0, vclockMax = VCLOCK_MAX_DEFAULT, lanesMax = LANES_MAX_DEFAULT
  } = options
  if (!isPlainActorId(actor)) throw new InvalidActorError(`invalid actor id: ${JSON.stringify(actor)}`)
  if (!isTime(nowMs)) throw new InvalidArgumentError(`nowMs out of range: ${nowMs}`)
  if (!isTime(counterFloor)) throw new InvalidArgumentError(`counterFloor out of range: ${counterFloor}`)
  if (!Number.isSafeInteger(vclockMax) || vclockMax < 1) throw new InvalidArgumentError(`vclockMax out of range: ${vclockMax}`)
  if (!Number.isSafeInteger(lanesMax) || lanesMax < 1 || lanesMax > LANE_MAX + 1) {
    throw new InvalidArgumentError(`lanesMax out of range: ${lanesMax}`)
  }
  if (value !== null && !Buffer.isBuffer(value)) throw new InvalidArgumentError('value must be a Buffer or null')
  if (options.marker !== undefined && value !== null) throw new InvalidArgumentError('a marker has no value')
  const expireAt = options.expireAt ?? 0
  if (!isTime(expireAt)) throw new InvalidArgumentError(`expireAt out of range: ${expireAt}`)
  checkContext(context)

  // The first lane whose every dot for this key the writer has seen.
  let dotActor = actor
  let known = -1
  for (let lane = 0; lane < lanesMax; lane++) {
    const candidate = onLane(actor, lane)
    const k = knownCounter(obj, candidate)
    if (k <= (context.get(candidate)?.counter ?? 0)) {
      dotActor = candidate
      known = k
      break
    }
  }
  const exact = known >= 0
  if (!exact) known = knownCounter(obj, actor)

  const counterMax = Math.max(counterFloor, known, context.get(dotActor)?.counter ?? 0)
  if (counterMax >= Number.MAX_SAFE_INTEGER) throw new CounterOverflowError(`counter of ${dotActor} exhausted`)
  const counter = counterMax + 1

  const { clock: ctx, truncated } = truncateClock(context, vclockMax)
  const added: Sibling = { actor: dotActor, counter, ctx, ts: nowMs, value }
  if (options.marker !== undefined) added.marker = options.marker
  if (expireAt > 0) added.expireAt = expireAt
  // Counter contributions the context covers (and the bases of anchors it covers) become this version's base.
  const base = baseCovered(obj, s => covers(context, s.actor, s.counter))
  if (base !== undefined) added.base = base

  // Keep exactly the siblings the (whole) context does not cover, in canonical order.
  const siblings: Sibling[] = []
  let placed = false
  for (const s of obj.siblings) {
    if (covers(context, s.actor, s.counter)) continue
    if (!placed && compareDots(added, s) < 0) {
      siblings.push(added)
      placed = true
    }
    siblings.push(s)
  }
  if (!placed) siblings.push(added)

  const returned: Clock = new Map(ctx)
  if (exact) returned.set(dotActor, { counter, ts: nowMs })
  return { obj: { siblings }, actor: dotActor, counter, context: returned, truncated }
}
