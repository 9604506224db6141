// The two hot operations of a single-replica store, done on the encoded object
// (codec.ts's format) without decoding it: a blind write (SET) and the value a
// plain GET returns. Each gives exactly what the general path gives —
//   blindWrite(b, …).bytes  = encodeObject(put(decodeObject(b), { context: objectClock(…), … }).obj)
//   newestValue(b)          = the anchor's value and expiry (read.ts anchor)
// (spec/versioning/encoded.spec.ts checks both on random objects) — but
// allocates only its result, so a cache of encoded objects leaves the garbage
// collector almost nothing to do. Both handle plain strings only: an object with
// a counter contribution, a collection marker or a base answers COMPLEX, and
// the caller takes the general path.
//
// The input must be canonical bytes (what encodeObject wrote, or bytes that
// decodeObject accepted); anything malformed throws DecodeError, never loops.
import { Buffer } from 'node:buffer'
import { DecodeError, copyInto } from '../util/bytes.js'
import { FLAG_BASE, FLAG_EXPIRE, KIND_COUNTER, KIND_MARKER, KIND_VALUE, OBJECT_FORMAT_VERSION } from './codec.js'
import { CounterOverflowError } from './errors.js'

const EMPTY = Buffer.alloc(0)

// A parse cursor shared by the functions below (each runs to completion synchronously): the
// bytes read end at `limit` (a record inside a larger buffer is read in place, without a view).
let buf: Buffer = Buffer.alloc(0)
let at = 0
let limit = 0

// (Hot loops copy buf and at into locals: module-level bindings cost a check per access.)
function varint (): number {
  const bytes = buf
  const last = limit
  let pos = at
  let v = 0
  let scale = 1
  for (let i = 0; i < 8; i++) {
    if (pos >= last) throw new DecodeError('truncated input')
    const b = bytes[pos++]
    v += (b & 0x7f) * scale
    if (b < 0x80) {
      at = pos
      return v
    }
    scale *= 0x80
  }
  throw new DecodeError('varint too long')
}

/** A count that the bytes left could hold (every counted item takes at least one byte). */
function count (): number {
  const n = varint()
  if (n > limit - at) throw new DecodeError('count exceeds input')
  return n
}

function skip (n: number): void {
  at += n
  if (at > limit) throw new DecodeError('truncated input')
}

// Scratch space for the object clock of the input, indexed by actor-table position; grown as needed.
let actorStart = new Int32Array(16)
let actorEnd = new Int32Array(16)
let clockCounter = new Float64Array(16)
let clockTs = new Float64Array(16)
let dropped = new Uint8Array(16)

function scratch (n: number): void {
  if (n <= actorStart.length) return
  const size = Math.max(n, 2 * actorStart.length)
  actorStart = new Int32Array(size)
  actorEnd = new Int32Array(size)
  clockCounter = new Float64Array(size)
  clockTs = new Float64Array(size)
  dropped = new Uint8Array(size)
}

/** joinEntry on the scratch clock: the larger counter wins with its ts; equal counters keep the later ts. */
function join (i: number, counter: number, ts: number): void {
  if (counter > clockCounter[i] || (counter === clockCounter[i] && ts > clockTs[i])) {
    clockCounter[i] = counter
    clockTs[i] = ts
  }
}

/** The ts of the triple readJoined read last (a typed array: a number returned from a call would be boxed, ts being past the small-integer range). */
const joinedTs = new Float64Array(1)

/** Reads one (actor index, counter, ts) triple and joins it into the scratch clock; its ts in joinedTs[0]. */
function readJoined (tsBase: number, actors: number): void {
  const actor = varint()
  const counter = varint()
  const ts = tsBase + varint()
  if (actor >= actors) throw new DecodeError('actor index out of range')
  join(actor, counter, ts)
  joinedTs[0] = ts
}

/** Compares actor i of the table with the id id[0, idLength) (byte order, as string order for ASCII ids). */
function compareActorTo (i: number, id: Buffer, idLength: number): number {
  const bytes = buf
  const start = actorStart[i]
  const length = actorEnd[i] - start
  const n = Math.min(length, idLength)
  for (let k = 0; k < n; k++) {
    const d = bytes[start + k] - id[k]
    if (d !== 0) return d
  }
  return length - idLength
}

// The writer's actor id is nearly always the node's own: its bytes are kept
// for the next write.
let lastActor = ''
let lastActorBytes: Buffer = EMPTY

function actorBytesOf (actor: string): Buffer {
  if (actor !== lastActor) {
    lastActor = actor
    lastActorBytes = Buffer.from(actor, 'utf8')
  }
  return lastActorBytes
}

/**
 * A one-time actor (a key the node held no copy of: identity.FreshActor), given
 * as bytes: its id is `prefix`'s bytes, then `counter` (a positive safe integer)
 * in lowercase hex without leading zeros — `${name}#${epoch}${counter.toString(16)}`
 * made without a string or a Buffer of its own: its digits are written
 * straight into the record.
 */
export interface OneTimeActor {
  readonly prefix: Buffer
  readonly counter: number
}

/** Hex digits of n >= 1 without leading zeros (n.toString(16).length). */
function hexDigits (n: number): number {
  let digits = 1
  for (let bound = 16; n >= bound && digits < 14; bound *= 16) digits++
  return digits
}

/** Writes n's `digits` hex digits (lowercase, as toString(16)) at out[pos]; the position after them. */
function putHex (out: Buffer, pos: number, n: number, digits: number): number {
  const end = pos + digits
  let p = end
  if (n < 0x80000000) {
    while (p > pos) {
      const d = n & 15
      out[--p] = d < 10 ? 48 + d : 87 + d
      n >>>= 4
    }
  } else {
    while (p > pos) {
      const q = Math.floor(n / 16)
      const d = n - q * 16
      out[--p] = d < 10 ? 48 + d : 87 + d
      n = q
    }
  }
  return end
}

/** A one-time actor's id written out, when it must be compared with a table's ids (an object held before). */
let oneTimeScratch = Buffer.alloc(64)

function oneTimeBytes (a: OneTimeActor, length: number): Buffer {
  if (oneTimeScratch.length < length) oneTimeScratch = Buffer.alloc(2 * length)
  copyInto.call(oneTimeScratch, a.prefix, 0)
  putHex(oneTimeScratch, a.prefix.length, a.counter, length - a.prefix.length)
  return oneTimeScratch
}

// The varint writers are two functions each: a one-byte case small enough that TurboFan inlines it
// into blindWrite whatever blindWrite's size (V8's small-function inlining), the rest in a call.

/** Bytes of a varint below 2^56 (every number here is a safe integer). */
function varintSize (v: number): number {
  return v < 0x80 ? 1 : longVarintSize(v)
}

/** Bytes of a varint of 2^7 to 2^56: comparisons only, no division. */
function longVarintSize (v: number): number {
  if (v < 0x4000) return 2
  if (v < 0x200000) return 3
  if (v < 0x10000000) return 4
  if (v < 0x800000000) return 5
  if (v < 0x40000000000) return 6
  if (v < 0x2000000000000) return 7
  return 8
}

/** Writes v as a varint at out[pos]; the position after it. */
function putVarint (out: Buffer, pos: number, v: number): number {
  if (v >= 0x80) return putLongVarint(out, pos, v)
  out[pos] = v
  return pos + 1
}

function putLongVarint (out: Buffer, pos: number, v: number): number {
  if (v >= 0x80000000) {
    // Larger (times in ms): the low 28 bits as four groups, then the rest (below 2^25), all with 32-bit operations
    // (the low bits by a subtraction: a float % is a call into the runtime, the dearest step of a SET's encoding).
    const high = Math.floor(v / 0x10000000)
    const low = v - high * 0x10000000
    out[pos++] = (low & 0x7f) | 0x80
    out[pos++] = ((low >>> 7) & 0x7f) | 0x80
    out[pos++] = ((low >>> 14) & 0x7f) | 0x80
    out[pos++] = (low >>> 21) | 0x80
    v = high
  }
  // Small enough for 32-bit operations (counters, indexes, ts differences, a time's high bits).
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  out[pos++] = v
  return pos
}

// Where the newest value seen so far lies: start (-1 for a tombstone or none) and end, and its expiry.
let valueStart = -1
let valueEnd = -1
let valueExpireAt = 0
/** Set by walkAnchor when the object holds more than plain values and tombstones. */
let complex = false

/**
 * read.ts newerThan for sibling s (a value from `start` to `end`, or a
 * tombstone, with its expiry) against the newest so far: larger ts; then the
 * larger expiry; then larger value bytes; a value beats a tombstone; then the
 * later dot, which is s (siblings are in dot order).
 */
function newerSibling (s: number, ts: number, bestTs: number, expireAt: number, start: number, end: number): boolean {
  if (s === 0 || ts !== bestTs) return s === 0 || ts > bestTs
  if (expireAt !== valueExpireAt) return expireAt > valueExpireAt
  if (start >= 0 && valueStart >= 0) return buf.compare(buf, valueStart, valueEnd, start, end) >= 0
  return start >= 0 || valueStart < 0
}

/**
 * Reads sibling s's payload (head, value, expiry) and keeps the newest anchor
 * so far in valueStart/valueEnd/valueExpireAt; returns the newest ts so far. A
 * counter, a marker or a base sets `complex` instead.
 */
function walkAnchor (s: number, ts: number, bestTs: number): number {
  const head = varint()
  const kind = head & 3
  const flags = head >> 2
  if (kind === KIND_COUNTER || kind === KIND_MARKER || (flags & FLAG_BASE) !== 0 || flags > 3) {
    complex = true
    return bestTs
  }
  let start = -1
  let end = -1
  if (kind === KIND_VALUE) {
    const length = varint()
    start = at
    skip(length)
    end = at
  }
  const expireAt = (flags & FLAG_EXPIRE) !== 0 ? varint() : 0
  if (!newerSibling(s, ts, bestTs, expireAt, start, end)) return bestTs
  valueStart = start
  valueEnd = end
  valueExpireAt = expireAt
  return ts
}

export interface BlindWriteOptions {
  /** The writing node's plain actor id (lane 0); not read when `oneTime` is given. */
  actor: string
  /** The writer is this one-time actor instead (identity.FreshActor), given as bytes. */
  oneTime?: OneTimeActor | null
  nowMs: number
  counterFloor: number
  vclockMax: number
  /** The new value; null writes a tombstone. */
  value: Buffer | null
  /** Absolute expiry of the new value (ms); 0 or absent: none. */
  expireAt?: number
}

/**
 * What blindWrite made, and what `old` held (the old value is cut out of `old`
 * only when asked for). A caller may hand blindWrite one to refill per write.
 */
export class BlindWriteResult {
  bytes: Buffer = EMPTY
  counter = 0
  truncated = 0
  private old: Buffer | undefined = undefined
  private oldStart = -1
  private oldEnd = -1
  /** The expiry of the anchor `old` held (0: none, or no value). */
  oldExpireAt = 0

  fill (bytes: Buffer, counter: number, truncated: number, old: Buffer | undefined, oldStart: number, oldEnd: number, oldExpireAt: number): this {
    this.bytes = bytes
    this.counter = counter
    this.truncated = truncated
    this.old = old
    this.oldStart = oldStart
    this.oldEnd = oldEnd
    this.oldExpireAt = oldExpireAt
    return this
  }

  /** `old`'s anchor held a value (not a tombstone, not empty). */
  get oldLive (): boolean {
    return this.oldStart >= 0
  }

  /** The anchor `old` held: its value (null: none, or a tombstone), a view into `old`. */
  get oldValue (): Buffer | null {
    return this.old === undefined || this.oldStart < 0 ? null : this.old.subarray(this.oldStart, this.oldEnd)
  }
}

/**
 * A write whose context is the object's own clock (SET, DEL on the only
 * replica): one sibling by `actor`, which supersedes every version in `old`.
 * null when `old` is not a plain string (COMPLEX): take the general path.
 * The result is `out`, refilled (read it before the next call that is given it).
 * The object is old[start, end) (default: all of old), read in place: a record
 * in a larger buffer (the cache's slab) needs no view; the old value's range
 * in `out` is a range of `old`.
 */
export function blindWrite (old: Buffer | undefined, o: BlindWriteOptions, out: BlindWriteResult = new BlindWriteResult(), start = 0, end = old === undefined ? 0 : old.length): BlindWriteResult | null {
  const oneTime = o.oneTime ?? null
  // The writer's id: self[0, selfLength), or for a one-time actor its prefix and then its counter's hex digits.
  let self = oneTime === null ? actorBytesOf(o.actor) : oneTime.prefix
  const selfLength = oneTime === null ? self.length : self.length + hexDigits(oneTime.counter)
  let actors = 0
  let selfIndex = -1 // position of the actor in the input's table, if there
  let selfAt = 0 // otherwise: how many table actors sort before it
  if (old !== undefined) {
    buf = old
    at = start
    limit = end
    if (at >= limit || buf[at++] !== OBJECT_FORMAT_VERSION) throw new DecodeError('unknown object format version')
    actors = count()
    if (actors > actorStart.length) scratch(actors)
    if (oneTime !== null && actors > 0) self = oneTimeBytes(oneTime, selfLength)
    for (let i = 0; i < actors; i++) {
      const length = varint()
      actorStart[i] = at
      skip(length)
      actorEnd[i] = at
      clockCounter[i] = 0
      clockTs[i] = 0
      dropped[i] = 0
      // The table is strictly increasing: once an actor sorts at or after `actor`, every later one sorts after it.
      if (selfAt === i && selfIndex < 0) {
        const order = compareActorTo(i, self, selfLength)
        if (order === 0) selfIndex = i
        else if (order < 0) selfAt = i + 1
      }
    }
    const siblings = count()
    const tsBase = siblings === 0 ? 0 : varint()
    valueStart = -1
    valueExpireAt = 0
    complex = false
    let bestTs = -1
    for (let s = 0; s < siblings; s++) {
      readJoined(tsBase, actors) // the sibling's dot
      const ts = joinedTs[0]
      const entries = count()
      for (let e = 0; e < entries; e++) readJoined(tsBase, actors) // its ctx
      bestTs = walkAnchor(s, ts, bestTs)
      if (complex) {
        buf = EMPTY
        return null
      }
    }
    if (at !== limit) throw new DecodeError('trailing bytes')
  }
  const oldStart = old !== undefined ? valueStart : -1
  const oldEnd = valueEnd
  const oldExpireAt = oldStart >= 0 ? valueExpireAt : 0

  // The new dot: one past everything this actor issued for the key, and past the floor.
  const known = selfIndex >= 0 ? clockCounter[selfIndex] : 0
  const counterMax = Math.max(o.counterFloor, known)
  if (counterMax >= Number.MAX_SAFE_INTEGER) throw new CounterOverflowError(`counter of ${oneTime === null ? o.actor : oneTime.prefix.toString('utf8') + oneTime.counter.toString(16)} exhausted`)
  const counter = counterMax + 1

  // Truncation (clock.ts truncateClock): drop the entries updated longest ago, smaller actor first on ties.
  // Every actor of a canonical table has an entry in the object clock.
  const truncated = Math.max(0, actors - o.vclockMax)
  for (let d = 0; d < truncated; d++) {
    let victim = -1
    for (let i = 0; i < actors; i++) {
      if (dropped[i] === 0 && (victim < 0 || clockTs[i] < clockTs[victim])) victim = i
    }
    dropped[victim] = 1
  }

  // Layout of the result: the kept actors plus `actor`, which goes at position selfAt of the input table.
  const kept = actors - truncated
  const selfKept = selfIndex >= 0 && dropped[selfIndex] === 0
  const inserted = selfKept ? 0 : 1
  let tsBase = o.nowMs
  let selfNewIndex = 0
  for (let i = 0; i < actors; i++) {
    if (dropped[i] !== 0) continue
    if (clockTs[i] < tsBase) tsBase = clockTs[i]
    if (i < selfAt) selfNewIndex++
  }
  let tableBytes = inserted * (varintSize(selfLength) + selfLength)
  let entryBytes = 0
  let index = 0
  for (let i = 0; i < actors; i++) {
    if (dropped[i] !== 0) continue
    const length = actorEnd[i] - actorStart[i]
    tableBytes += varintSize(length) + length
    entryBytes += varintSize(index + (i >= selfAt ? inserted : 0)) + varintSize(clockCounter[i]) + varintSize(clockTs[i] - tsBase)
    index++
  }
  const value = o.value
  const expireAt = o.expireAt ?? 0
  const head = (value === null ? 0 : KIND_VALUE) | (expireAt > 0 ? FLAG_EXPIRE << 2 : 0)
  const size = 1 + varintSize(kept + inserted) + tableBytes + 1 + varintSize(tsBase) +
    varintSize(selfNewIndex) + varintSize(counter) + varintSize(o.nowMs - tsBase) + varintSize(kept) + entryBytes +
    1 + (value === null ? 0 : varintSize(value.length) + value.length) + (expireAt > 0 ? varintSize(expireAt) : 0)

  const bytes = Buffer.allocUnsafe(size)
  let p = 0
  bytes[p++] = OBJECT_FORMAT_VERSION
  p = putVarint(bytes, p, kept + inserted)
  // Kept actors are copied as they are encoded in the input (length and bytes), a run of neighbours at a time.
  let runStart = -1
  let runEnd = -1
  for (let i = 0; i <= actors; i++) {
    if (i === actors || dropped[i] !== 0 || (inserted === 1 && i === selfAt)) {
      // Byte by byte: a few dozen bytes, and Buffer#copy of a range allocates a view (measured: ~900
      // instructions fewer per call, ~80 B more per SET). From a local: the module-level binding
      // cost a load and a check per byte (a quarter of blindWrite's time).
      if (runStart >= 0) {
        const src = buf
        for (let k = runStart; k < runEnd; k++) bytes[p++] = src[k]
      }
      runStart = -1
    }
    if (inserted === 1 && i === selfAt) {
      p = putVarint(bytes, p, selfLength)
      if (oneTime === null) {
        copyInto.call(bytes, self, p)
        p += selfLength
      } else {
        copyInto.call(bytes, oneTime.prefix, p)
        p = putHex(bytes, p + oneTime.prefix.length, oneTime.counter, selfLength - oneTime.prefix.length)
      }
    }
    if (i === actors) break
    if (dropped[i] !== 0) continue
    if (runStart < 0) runStart = actorStart[i] - varintSize(actorEnd[i] - actorStart[i])
    runEnd = actorEnd[i]
  }
  p = putVarint(bytes, p, 1)
  p = putVarint(bytes, p, tsBase)
  p = putVarint(bytes, p, selfNewIndex)
  p = putVarint(bytes, p, counter)
  p = putVarint(bytes, p, o.nowMs - tsBase)
  p = putVarint(bytes, p, kept)
  index = 0
  for (let i = 0; i < actors; i++) {
    if (dropped[i] !== 0) continue
    p = putVarint(bytes, p, index + (i >= selfAt ? inserted : 0))
    p = putVarint(bytes, p, clockCounter[i])
    p = putVarint(bytes, p, clockTs[i] - tsBase)
    index++
  }
  bytes[p++] = head
  if (value !== null) {
    p = putVarint(bytes, p, value.length)
    copyInto.call(bytes, value, p)
    p += value.length
  }
  if (expireAt > 0) p = putVarint(bytes, p, expireAt)
  if (p !== size) throw new Error(`blindWrite: wrote ${p} of ${size} bytes`)
  buf = EMPTY
  return out.fill(bytes, counter, truncated, old, oldStart, oldEnd, oldExpireAt)
}


/** The anchor of a plain string (read.ts anchor), or COMPLEX: decode and use read.ts. */
export const COMPLEX = Symbol('complex')

export interface NewestValue {
  /** The anchor's value (a view into the bytes); null for a tombstone or an empty object. */
  value: Buffer | null
  /** Its expiry (ms); 0: none. */
  expireAt: number
}

/**
 * Finds the anchor of the object held in bytes[start, end) and leaves its
 * range in valueStart/valueEnd (positions in `bytes`) and valueExpireAt; false
 * when complex.
 */
function newestRange (bytes: Buffer, start: number, end: number): boolean {
  buf = bytes
  at = start
  limit = end
  valueStart = -1
  valueExpireAt = 0
  complex = false
  if (buf[at++] !== OBJECT_FORMAT_VERSION) throw new DecodeError('unknown object format version')
  const actors = count()
  for (let i = 0; i < actors; i++) skip(varint())
  const siblings = count()
  if (siblings > 0) varint() // tsBase: only differences matter here
  let bestTs = -1
  for (let s = 0; s < siblings; s++) {
    varint()
    varint()
    const ts = varint()
    const entries = count()
    for (let e = 0; e < 3 * entries; e++) varint()
    bestTs = walkAnchor(s, ts, bestTs)
    if (complex) {
      buf = EMPTY
      return false
    }
  }
  if (at !== limit) throw new DecodeError('trailing bytes')
  buf = EMPTY
  return true
}

/** The anchor of a plain string held in `bytes`, without decoding (COMPLEX: not a plain string). */
export function newestValue (bytes: Buffer): NewestValue | typeof COMPLEX {
  if (!newestRange(bytes, 0, bytes.length)) return COMPLEX
  return valueStart < 0 ? { value: null, expireAt: 0 } : { value: bytes.subarray(valueStart, valueEnd), expireAt: valueExpireAt }
}

/** Where newestValueRange left the anchor: its value's range in the bytes (start -1: none) and its expiry (0: none). */
export const anchorRange = { start: -1, end: -1, expireAt: 0 }

/**
 * newestValue of the object held in bytes[start, end), without an object or a
 * view (a GET answered from the cache's slab): the answer in `anchorRange`, its
 * positions in `bytes`; false when complex.
 */
export function newestValueRange (bytes: Buffer, start: number, end: number): boolean {
  if (!newestRange(bytes, start, end)) return false
  anchorRange.start = valueStart
  anchorRange.end = valueEnd
  anchorRange.expireAt = valueStart < 0 ? 0 : valueExpireAt // (as newestValue: a tombstone's expiry is none)
  return true
}

// Scratch for supersedes: the incoming object's actor table and object clock.
let inStart = new Int32Array(16)
let inEnd = new Int32Array(16)
let inClock = new Float64Array(16)

/**
 * Does `incoming` supersede `current`: is merge(decode(current), decode(incoming))
 * exactly decode(incoming), so that a replica may store the incoming bytes as they
 * are (merge.ts's rules, on bytes)? true when incoming holds one version, its dot
 * is new to current (current's object clock does not cover it) and incoming's
 * object clock covers every dot current holds: the usual replica write, whose
 * writer read this record (or a newer one) first. false: not so, or not decided
 * here (several incoming siblings): take the general path. Payloads play no
 * part in the merge, so any kind of record qualifies.
 *
 * Both inputs must be canonical bytes (what encodeObject wrote, or bytes that
 * decodeObject accepted); anything malformed throws DecodeError, never loops.
 */
export function supersedes (current: Buffer, incoming: Buffer): boolean {
  // incoming: its actor table, its one sibling's dot and context.
  buf = incoming
  at = 0
  limit = incoming.length
  if (buf[at++] !== OBJECT_FORMAT_VERSION) throw new DecodeError('unknown object format version')
  const inActors = count()
  if (inActors > inStart.length) {
    const size = Math.max(inActors, 2 * inStart.length)
    inStart = new Int32Array(size)
    inEnd = new Int32Array(size)
    inClock = new Float64Array(size)
  }
  for (let i = 0; i < inActors; i++) {
    const length = varint()
    inStart[i] = at
    skip(length)
    inEnd[i] = at
    inClock[i] = 0
  }
  if (count() !== 1) {
    buf = EMPTY
    return false
  }
  varint() // tsBase
  const dotActor = varint()
  const dotCounter = varint()
  varint() // ts
  if (dotActor >= inActors) throw new DecodeError('actor index out of range')
  inClock[dotActor] = dotCounter
  const entries = count()
  for (let e = 0; e < entries; e++) {
    const actor = varint()
    const counter = varint()
    varint() // ts
    if (actor >= inActors) throw new DecodeError('actor index out of range')
    if (counter > inClock[actor]) inClock[actor] = counter
  }

  // current: map its actor table onto incoming's (both sorted), then check every dot and entry.
  buf = current
  at = 0
  limit = current.length
  if (buf[at++] !== OBJECT_FORMAT_VERSION) throw new DecodeError('unknown object format version')
  const actors = count()
  scratch(actors)
  let j = 0
  for (let i = 0; i < actors; i++) {
    const length = varint()
    const start = at
    skip(length)
    // actorStart holds the matching incoming index (-1: none) for actor i.
    actorStart[i] = -1
    while (j < inActors) {
      const order = compareRanges(incoming, inStart[j], inEnd[j], current, start, at)
      if (order < 0) j++
      else {
        if (order === 0) actorStart[i] = j
        break
      }
    }
  }
  const siblings = count()
  if (siblings > 0) varint() // tsBase
  let result = true
  for (let s = 0; s < siblings && result; s++) {
    const actor = varint()
    const counter = varint()
    varint() // ts
    if (actor >= actors) throw new DecodeError('actor index out of range')
    const mapped = actorStart[actor]
    // This dot must be covered by incoming's clock, and must not cover incoming's dot.
    if (mapped < 0 || inClock[mapped] < counter || (mapped === dotActor && counter >= dotCounter)) result = false
    const n = count()
    for (let e = 0; e < n; e++) {
      const ctxActor = varint()
      const ctxCounter = varint()
      varint() // ts
      if (ctxActor >= actors) throw new DecodeError('actor index out of range')
      if (actorStart[ctxActor] === dotActor && ctxCounter >= dotCounter) result = false
    }
    skipPayload(actors)
  }
  if (result && at !== limit) throw new DecodeError('trailing bytes')
  buf = EMPTY
  return result
}

/** Byte order of a[aStart, aEnd) against b[bStart, bEnd) (string order, for ASCII actor ids). */
function compareRanges (a: Buffer, aStart: number, aEnd: number, b: Buffer, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart)
  for (let k = 0; k < n; k++) {
    const d = a[aStart + k] - b[bStart + k]
    if (d !== 0) return d
  }
  return (aEnd - aStart) - (bEnd - bStart)
}

/** Skips a sibling's payload: head, value, counter total or marker, expiry, base. */
function skipPayload (actors: number): void {
  const head = varint()
  if (head > 15) throw new DecodeError('invalid sibling head')
  const kind = head & 3
  const flags = head >> 2
  if (kind === KIND_VALUE) skip(varint())
  else if (kind === KIND_COUNTER) skip(9)
  else if (kind === KIND_MARKER) skip(1)
  if ((flags & FLAG_EXPIRE) !== 0) varint()
  if ((flags & FLAG_BASE) !== 0) {
    const n = count()
    for (let k = 0; k < n; k++) {
      if (varint() >= actors) throw new DecodeError('actor index out of range')
      varint()
      skip(9)
    }
  }
}
