// Binary encoding of a sibling set: what the store keeps and peers exchange,
// and what Merkle anti-entropy hashes. Canonical: logically equal objects
// encode to identical bytes, and the decoder accepts only canonical bytes, so
// encodeObject(decodeObject(b)) equals b for every b that decodes.
//
// Format version 1 (every number an unsigned LEB128 varint):
//
//   u8      version = 1
//   varint  actorCount A          every actor id used in the object, once
//   A ×     varint length, ASCII  strictly increasing; each used at least once
//   varint  siblingCount S        0 ⇒ A = 0 and nothing follows
//   varint  tsBase                the smallest ts anywhere in the object
//   S ×     sibling, dots strictly increasing (actor index, counter):
//     varint  actor index (< A)
//     varint  counter (≥ 1)
//     varint  ts − tsBase
//     varint  ctx entry count
//     n ×     varint actor index (strictly increasing), varint counter (≥ 1), varint ts − tsBase
//     varint  0 for a tombstone, else value length + 1, then the value bytes
//
// A single sibling with a 3-entry object clock and a 100-byte value takes the
// value, the three actor ids once, and about 25 bytes of structure.

import { DecodeError, Reader, Writer } from '../util/bytes.js'
import { readActor, writeActor } from './actor.js'
import type { Clock, ClockEntry, Sibling, VObject } from './types.js'
import { readCount, readVarint } from './varint.js'

export const OBJECT_FORMAT_VERSION = 1

// Smallest encodings, to bound counts read from the input by the bytes left.
const ACTOR_BYTES_MIN = 4 // length, then at least 3 characters ("a#0")
const SIBLING_BYTES_MIN = 5 // index, counter, ts, ctx count, value tag
const ENTRY_BYTES_MIN = 3 // index, counter, ts

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

/** Every actor id of the object, sorted. */
function actorTable (siblings: Sibling[]): string[] {
  const actors: string[] = []
  for (const s of siblings) {
    addActor(actors, s.actor)
    for (const actor of s.ctx.keys()) addActor(actors, actor)
    if (actors.length > SMALL_MAX) {
      const all = new Set<string>()
      for (const t of siblings) {
        all.add(t.actor)
        for (const actor of t.ctx.keys()) all.add(actor)
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
    sizeHint += 24 + (s.value === null ? 0 : s.value.length) + 16 * s.ctx.size
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
    if (s.value === null) {
      w.varint(0)
    } else {
      w.varint(s.value.length + 1)
      w.raw(s.value)
    }
  }
  return w.finish()
}

/** Decodes what encodeObject wrote; anything else throws DecodeError. Values are copied out of `buf`. */
export function decodeObject (buf: Buffer): VObject {
  if (!Buffer.isBuffer(buf)) throw new DecodeError('object must be a Buffer')
  const r = new Reader(buf)
  const version = r.u8()
  if (version !== OBJECT_FORMAT_VERSION) throw new DecodeError(`unknown object format version ${version}`)

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
    const tag = readVarint(r)
    const value = tag === 0 ? null : Buffer.from(r.raw(tag - 1))
    siblings[i] = { actor: actors[actorIndex], counter, ctx, ts, value }
  }
  r.expectEnd()
  if (!sawTsBase) throw new DecodeError('ts base is not the smallest ts')
  for (let i = 0; i < actorCount; i++) if (used[i] === 0) throw new DecodeError('unused actor')
  return { siblings }
}
