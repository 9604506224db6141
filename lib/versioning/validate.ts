// validateObject: does decodeObject accept these bytes? Answered by the same
// walk over codec.ts's format, without building the object: a replica checks
// every incoming write before storing its bytes, and the usual one is stored
// as it came (LocalReplica: it supersedes the stored copy), so decoding it
// only to check it made ~0.8 kB of garbage per replica write
// (docs/performance.md "Cluster request cost, session 4").
//
// The twin of decodeObject: spec/versioning/validate.spec.ts checks on random
// objects, their mutations and the codec spec's malformed cases that this
// throws exactly when decodeObject throws. A change of the format changes both.
import { DecodeError, type Reader } from '../util/bytes.js'
import { skipActor } from './actor.js'
import {
  ACTOR_BYTES_MIN, BASE_BYTES_MIN, ENTRY_BYTES_MIN, FLAG_BASE, FLAG_EXPIRE, KIND_COUNTER, KIND_MARKER, KIND_VALUE, MARKERS, NUMERIC_DOUBLE, NUMERIC_INT,
  SIBLING_BYTES_MIN, objectReader, readHead
} from './codec.js'
import { readCount, readVarint } from './varint.js'

// The walk's state (it runs to completion synchronously): which actors the
// object uses (grown as needed), its ts base and whether a ts equals it.
let used = new Uint8Array(16)
let tsBase = 0
let sawTsBase = false

function skip (r: Reader, n: number): void {
  if (n > r.remaining) throw new DecodeError('truncated input')
  r.pos += n
}

function readIndex (r: Reader, actorCount: number): number {
  const i = readVarint(r)
  if (i >= actorCount) throw new DecodeError('actor index out of range')
  used[i] = 1
  return i
}

function readTs (r: Reader): void {
  const delta = readVarint(r)
  if (!Number.isSafeInteger(tsBase + delta)) throw new DecodeError('ts out of range')
  if (delta === 0) sawTsBase = true
}

function readCounter (r: Reader): void {
  if (readVarint(r) === 0) throw new DecodeError('zero counter')
}

function readTotal (r: Reader): void {
  const numeric = r.u8()
  if (numeric !== NUMERIC_INT && numeric !== NUMERIC_DOUBLE) {
    skip(r, 8)
    throw new DecodeError('unknown counter numeric type')
  }
  const at = r.pos
  skip(r, 8)
  if (numeric === NUMERIC_DOUBLE && Number.isNaN(r.buf.readDoubleBE(at))) throw new DecodeError('counter total is NaN')
}

/** Whether buf[a, aEnd) sorts strictly before buf[b, bEnd), byte by byte (a prefix first). */
function bytesBefore (buf: Buffer, a: number, aEnd: number, b: number, bEnd: number): boolean {
  for (; a < aEnd && b < bEnd; a++, b++) if (buf[a] !== buf[b]) return buf[a] < buf[b]
  return a === aEnd && b < bEnd
}

/** Throws DecodeError unless decodeObject(buf) would decode `buf` (canonical bytes of an object). */
export function validateObject (buf: Buffer): void {
  const r = objectReader(buf)
  const actorCount = readCount(r, Math.floor(r.remaining / ACTOR_BYTES_MIN))
  // the ids' bytes compared in place (ASCII: byte order is decodeObject's string order)
  let prevStart = 0
  let prevEnd = 0
  for (let i = 0; i < actorCount; i++) {
    const start = skipActor(r)
    if (i > 0 && !bytesBefore(r.buf, prevStart, prevEnd, start, r.pos)) throw new DecodeError('actor table out of order')
    prevStart = start
    prevEnd = r.pos
  }

  const siblingCount = readCount(r, Math.floor(r.remaining / SIBLING_BYTES_MIN))
  if (siblingCount === 0) {
    if (actorCount !== 0) throw new DecodeError('unused actors')
    r.expectEnd()
    return
  }
  tsBase = readVarint(r)
  sawTsBase = false
  if (used.length < actorCount) used = new Uint8Array(Math.max(actorCount, 2 * used.length))
  used.fill(0, 0, actorCount)

  let prevActor = -1
  let prevCounter = 0
  for (let i = 0; i < siblingCount; i++) {
    const actorIndex = readIndex(r, actorCount)
    const counter = readVarint(r)
    if (counter === 0) throw new DecodeError('zero counter')
    if (actorIndex < prevActor || (actorIndex === prevActor && counter <= prevCounter)) {
      throw new DecodeError('siblings out of order')
    }
    prevActor = actorIndex
    prevCounter = counter
    readTs(r)
    const entryCount = readCount(r, Math.floor(r.remaining / ENTRY_BYTES_MIN))
    let prevEntry = -1
    for (let k = 0; k < entryCount; k++) {
      const entryIndex = readIndex(r, actorCount)
      if (entryIndex <= prevEntry) throw new DecodeError('clock entries out of order')
      prevEntry = entryIndex
      readCounter(r)
      readTs(r)
    }
    const head = readHead(r)
    const kind = head & 3
    const flags = head >> 2
    if (kind === KIND_VALUE) {
      skip(r, readVarint(r))
    } else if (kind === KIND_COUNTER) {
      readTotal(r)
    } else if (kind === KIND_MARKER) {
      if (MARKERS[r.u8() - 1] === undefined) throw new DecodeError('unknown marker type')
    }
    if ((flags & FLAG_EXPIRE) !== 0) {
      if (readVarint(r) === 0) throw new DecodeError('zero expiry')
    }
    if ((flags & FLAG_BASE) !== 0) {
      const n = readCount(r, Math.floor(r.remaining / BASE_BYTES_MIN))
      if (n === 0) throw new DecodeError('empty base')
      let prevBase = -1
      for (let k = 0; k < n; k++) {
        const at = readIndex(r, actorCount)
        if (at <= prevBase) throw new DecodeError('base entries out of order')
        prevBase = at
        readCounter(r)
        readTotal(r)
      }
    }
  }
  r.expectEnd()
  if (!sawTsBase) throw new DecodeError('ts base is not the smallest ts')
  for (let i = 0; i < actorCount; i++) if (used[i] === 0) throw new DecodeError('unused actor')
}
