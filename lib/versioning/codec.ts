// Binary encoding of a sibling set: what the store keeps and peers exchange,
// and what Merkle anti-entropy hashes. Canonical: logically equal objects
// encode to identical bytes, and the decoder accepts only canonical bytes, so
// encodeObject(decodeObject(b)) equals b for every b that decodes.
//
// Format version 2 (every number an unsigned LEB128 varint unless noted):
//
//   u8      version = 2
//   varint  actorCount A          every actor id used in the object (dots,
//   A ×     varint length, ASCII  contexts, bases), once, strictly increasing
//   varint  siblingCount S        0 ⇒ A = 0 and nothing follows
//   varint  tsBase                the smallest ts of any sibling or ctx entry
//   S ×     sibling, dots strictly increasing (actor index, counter):
//     varint  actor index (< A)
//     varint  counter (≥ 1)
//     varint  ts − tsBase
//     varint  ctx entry count
//     n ×     varint actor index (strictly increasing), varint counter (≥ 1), varint ts − tsBase
//     varint  head: kind = head & 3, flags = head >> 2 (< 4)
//             kind 0 tombstone | 1 value: varint length, bytes
//                  2 counter: u8 numeric (0 int64, 1 double), 8 bytes big-endian
//                  3 marker: u8 type (1 set, 2 hash, 3 zset)
//     flags bit 0 (not on counters): varint expireAt (≥ 1, absolute ms)
//     flags bit 1 (not on counters): varint entry count (≥ 1), entries of
//             varint actor index (strictly increasing), varint counter (≥ 1),
//             u8 numeric, 8 bytes: the base (types.ts)
//
// A single sibling with a 3-entry object clock and a 100-byte value takes the
// value, the three actor ids once, and about 25 bytes of structure.

import { DecodeError, Reader, Writer } from '../util/bytes.js'
import { readActor, writeActor } from './actor.js'
import type { Base, Clock, ClockEntry, Marker, Sibling, Total, VObject } from './types.js'
import { readCount, readVarint } from './varint.js'
import { Buffer } from 'node:buffer'

export const OBJECT_FORMAT_VERSION = 2

export const KIND_TOMBSTONE = 0
export const KIND_VALUE = 1
export const KIND_COUNTER = 2
export const KIND_MARKER = 3
export const FLAG_EXPIRE = 1
export const FLAG_BASE = 2
export const MARKERS: readonly Marker[] = ['set', 'hash', 'zset']

// Smallest encodings, to bound counts read from the input by the bytes left.
export const ACTOR_BYTES_MIN = 4 // length, then at least 3 characters ("a#0")
export const SIBLING_BYTES_MIN = 5 // index, counter, ts, ctx count, head
export const BASE_BYTES_MIN = 11 // index, counter, numeric, 8 bytes
export const ENTRY_BYTES_MIN = 3 // index, counter, ts

// Up to this many items, insertion sorts and linear scans beat Map/sort.
const SMALL_MAX = 16

/** Inserts `actor` into the sorted table unless present; returns the bytes it adds. */
function addActor (actors: string[], actor: string): number {
  let i = actors.length
  while (i > 0 && actors[i - 1] > actor) i--
  if (i > 0 && actors[i - 1] === actor) return 0
  for (let k = actors.length; k > i; k--) actors[k] = actors[k - 1]
  actors[i] = actor
  return actor.length + 1
}

/** Every actor id of the object (dots, contexts, bases), sorted. */
function actorTable (siblings: Sibling[]): string[] {
  const actors: string[] = []
  for (const s of siblings) {
    addActor(actors, s.actor)
    for (const actor of s.ctx.keys()) addActor(actors, actor)
    if (s.base !== undefined) for (const actor of s.base.keys()) addActor(actors, actor)
    if (actors.length > SMALL_MAX) {
      const all = new Set<string>()
      for (const t of siblings) {
        all.add(t.actor)
        for (const actor of t.ctx.keys()) all.add(actor)
        if (t.base !== undefined) for (const actor of t.base.keys()) all.add(actor)
      }
      return [...all].sort()
    }
  }
  return actors
}

/**
 * Sorts [key, value] pairs by key (actor ids or actor indexes): an insertion
 * sort for the usual small clocks, Array.sort past SMALL_MAX.
 */
export function sortByKey<K extends string | number, V> (entries: Array<[K, V]>): void {
  if (entries.length > SMALL_MAX) {
    entries.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    return
  }
  for (let i = 1; i < entries.length; i++) {
    const item = entries[i]
    let k = i
    while (k > 0 && entries[k - 1][0] > item[0]) {
      entries[k] = entries[k - 1]
      k--
    }
    entries[k] = item
  }
}

export const NUMERIC_INT = 0
export const NUMERIC_DOUBLE = 1

function writeTotal (w: Writer, total: Total): void {
  const b = Buffer.allocUnsafe(9)
  if (typeof total === 'bigint') {
    b[0] = NUMERIC_INT
    b.writeBigInt64BE(total, 1)
  } else {
    b[0] = NUMERIC_DOUBLE
    b.writeDoubleBE(total, 1)
  }
  w.raw(b)
}

function readTotal (r: Reader): Total {
  const numeric = r.u8()
  const b = r.raw(8)
  if (numeric === NUMERIC_INT) return b.readBigInt64BE(0)
  if (numeric !== NUMERIC_DOUBLE) throw new DecodeError('unknown counter numeric type')
  const v = b.readDoubleBE(0)
  if (Number.isNaN(v)) throw new DecodeError('counter total is NaN')
  return v
}

/** The head varint of a sibling: kind in the low 2 bits, flags above. */
function headOf (s: Sibling): number {
  if (s.total !== undefined) return KIND_COUNTER
  const kind = s.value !== null ? KIND_VALUE : s.marker !== undefined ? KIND_MARKER : KIND_TOMBSTONE
  let flags = 0
  if (s.expireAt !== undefined && s.expireAt > 0) flags |= FLAG_EXPIRE
  if (s.base !== undefined && s.base.size > 0) flags |= FLAG_BASE
  return kind | (flags << 2)
}

export function encodeObject (obj: VObject): Buffer {
  const siblings = obj.siblings
  if (siblings.length === 0) return Buffer.from([OBJECT_FORMAT_VERSION, 0, 0])

  const actors = actorTable(siblings)
  let index: (actor: string) => number
  if (actors.length <= SMALL_MAX) {
    index = actor => actors.indexOf(actor)
  } else {
    const table = new Map(actors.map((actor, i) => [actor, i]))
    index = actor => table.get(actor) as number
  }
  let tsBase = Number.MAX_SAFE_INTEGER
  let sizeHint = 16
  for (const actor of actors) sizeHint += actor.length + 1
  for (const s of siblings) {
    if (s.ts < tsBase) tsBase = s.ts
    sizeHint += 32 + (s.value === null ? 0 : s.value.length) + 16 * s.ctx.size + 24 * (s.base?.size ?? 0)
    for (const entry of s.ctx.values()) if (entry.ts < tsBase) tsBase = entry.ts
  }

  const w = new Writer(sizeHint)
  w.u8(OBJECT_FORMAT_VERSION)
  w.varint(actors.length)
  for (const actor of actors) writeActor(w, actor)
  w.varint(siblings.length)
  w.varint(tsBase)
  const entries: Array<[number, ClockEntry]> = []
  for (const s of siblings) {
    w.varint(index(s.actor))
    w.varint(s.counter)
    w.varint(s.ts - tsBase)
    w.varint(s.ctx.size)
    entries.length = 0
    for (const [actor, entry] of s.ctx) entries.push([index(actor), entry])
    sortByKey(entries)
    for (const [at, entry] of entries) {
      w.varint(at)
      w.varint(entry.counter)
      w.varint(entry.ts - tsBase)
    }
    const head = headOf(s)
    w.varint(head)
    switch (head & 3) {
      case KIND_VALUE:
        w.varint((s.value as Buffer).length)
        w.raw(s.value as Buffer)
        break
      case KIND_COUNTER:
        writeTotal(w, s.total as Total)
        break
      case KIND_MARKER:
        w.u8(MARKERS.indexOf(s.marker as Marker) + 1)
        break
    }
    if ((head >> 2 & FLAG_EXPIRE) !== 0) w.varint(s.expireAt as number)
    if ((head >> 2 & FLAG_BASE) !== 0) {
      const base = [...(s.base as Base)].map(([actor, e]): [number, typeof e] => [index(actor), e])
      sortByKey(base)
      w.varint(base.length)
      for (const [at, e] of base) {
        w.varint(at)
        w.varint(e.counter)
        writeTotal(w, e.total)
      }
    }
  }
  return w.finish()
}

/** A sibling's head: kind in the low 2 bits, flags above (none on a counter). */
export function readHead (r: Reader): number {
  const head = readVarint(r)
  // checked before any bit operation: those truncate a varint to 32 bits
  if (head > 15) throw new DecodeError('invalid sibling head')
  if ((head & 3) === KIND_COUNTER && head >> 2 !== 0) throw new DecodeError('invalid sibling head')
  return head
}

/** A reader past the format version of an encoded object (decodeObject, validateObject). */
export function objectReader (buf: Buffer): Reader {
  if (!Buffer.isBuffer(buf)) throw new DecodeError('object must be a Buffer')
  const r = new Reader(buf)
  const version = r.u8()
  if (version !== OBJECT_FORMAT_VERSION) throw new DecodeError(`unknown object format version ${version}`)
  return r
}

/** Decodes what encodeObject wrote; anything else throws DecodeError. Values are copied out of `buf`. */
export function decodeObject (buf: Buffer): VObject {
  const r = objectReader(buf)
  const actorCount = readCount(r, Math.floor(r.remaining / ACTOR_BYTES_MIN))
  const actors: string[] = new Array(actorCount)
  for (let i = 0; i < actorCount; i++) {
    actors[i] = readActor(r)
    if (i > 0 && actors[i - 1] >= actors[i]) throw new DecodeError('actor table out of order')
  }

  const siblingCount = readCount(r, Math.floor(r.remaining / SIBLING_BYTES_MIN))
  if (siblingCount === 0) {
    if (actorCount !== 0) throw new DecodeError('unused actors')
    r.expectEnd()
    return { siblings: [] }
  }
  const tsBase = readVarint(r)
  let sawTsBase = false
  const used = new Uint8Array(actorCount)
  const readTs = (): number => {
    const delta = readVarint(r)
    const ts = tsBase + delta
    if (!Number.isSafeInteger(ts)) throw new DecodeError('ts out of range')
    if (delta === 0) sawTsBase = true
    return ts
  }
  const readIndex = (): number => {
    const i = readVarint(r)
    if (i >= actorCount) throw new DecodeError('actor index out of range')
    used[i] = 1
    return i
  }
  const readCounter = (): number => {
    const counter = readVarint(r)
    if (counter === 0) throw new DecodeError('zero counter')
    return counter
  }

  const siblings: Sibling[] = new Array(siblingCount)
  let prevActor = -1
  let prevCounter = 0
  for (let i = 0; i < siblingCount; i++) {
    const actorIndex = readIndex()
    const counter = readCounter()
    if (actorIndex < prevActor || (actorIndex === prevActor && counter <= prevCounter)) {
      throw new DecodeError('siblings out of order')
    }
    prevActor = actorIndex
    prevCounter = counter
    const ts = readTs()
    const entryCount = readCount(r, Math.floor(r.remaining / ENTRY_BYTES_MIN))
    const ctx: Clock = new Map()
    let prevEntry = -1
    for (let k = 0; k < entryCount; k++) {
      const entryIndex = readIndex()
      if (entryIndex <= prevEntry) throw new DecodeError('clock entries out of order')
      prevEntry = entryIndex
      const entryCounter = readCounter()
      ctx.set(actors[entryIndex], { counter: entryCounter, ts: readTs() })
    }
    const s: Sibling = { actor: actors[actorIndex], counter, ctx, ts, value: null }
    const head = readHead(r)
    const kind = head & 3
    const flags = head >> 2
    if (kind === KIND_VALUE) {
      s.value = Buffer.from(r.raw(readVarint(r)))
    } else if (kind === KIND_COUNTER) {
      s.total = readTotal(r)
    } else if (kind === KIND_MARKER) {
      const marker = MARKERS[r.u8() - 1]
      if (marker === undefined) throw new DecodeError('unknown marker type')
      s.marker = marker
    }
    if ((flags & FLAG_EXPIRE) !== 0) {
      const expireAt = readVarint(r)
      if (expireAt === 0) throw new DecodeError('zero expiry')
      s.expireAt = expireAt
    }
    if ((flags & FLAG_BASE) !== 0) {
      const n = readCount(r, Math.floor(r.remaining / BASE_BYTES_MIN))
      if (n === 0) throw new DecodeError('empty base')
      const base: Base = new Map()
      let prevBase = -1
      for (let k = 0; k < n; k++) {
        const at = readIndex()
        if (at <= prevBase) throw new DecodeError('base entries out of order')
        prevBase = at
        base.set(actors[at], { counter: readCounter(), total: readTotal(r) })
      }
      s.base = base
    }
    siblings[i] = s
  }
  r.expectEnd()
  if (!sawTsBase) throw new DecodeError('ts base is not the smallest ts')
  for (let i = 0; i < actorCount; i++) if (used[i] === 0) throw new DecodeError('unused actor')
  return { siblings }
}
