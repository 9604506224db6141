// What the set, hash and sorted-set commands share (docs/types.md): reading a
// collection's live elements, element records for a transaction, the stateless
// *SCAN cursor, random picks, and writing a whole collection (*STORE).
import { elementState, keyState, objectClock, type Marker, type VObject } from '../../versioning/index.js'
import { ELEMENT_HASH_BYTES, refOfStorageKey, type ElementRef, type KeyRef } from '../../node/keys.js'
import { WrongTypeError, type TxnView } from '../../node/records.js'
import type { RecordWrite } from '../../coordinator/coordinator.js'
import type { Change } from '../../node/local.js'
import { array, bulk, int, type Reply } from '../reply.js'
import type { Call } from './types.js'
import { E, fail, globMatcher, intArg, lower } from './util.js'
import { deleteKey, liveState } from './keys.js'
import { Buffer } from 'node:buffer'

/** A live element: its bytes and its record as read. */
export interface Element {
  element: Buffer
  obj: VObject
}

/** Throws WRONGTYPE unless the view's key is absent or a collection of `type`. */
export function expectType (view: { state: { type: string } }, type: Marker): boolean {
  if (view.state.type === 'none') return false
  if (view.state.type !== type) throw new WrongTypeError()
  return true
}

/**
 * One quorum read of the key record of c.args[1] and the elements asked; null
 * when the key holds no collection of `type` (WRONGTYPE: it holds something else).
 */
export async function readElements (c: Call, type: Marker, elements: Buffer[]): Promise<Array<VObject | undefined> | null> {
  const key = c.node.ref(c.args[1])
  const objs = await c.node.coordinator.getMany([key, ...elementRefs(key, type, elements)], c.node.config.r)
  const state = objs[0] === undefined ? 'none' : keyState(objs[0], c.node.clock.now()).type
  if (state === type) return objs.slice(1)
  if (state !== 'none' && await c.node.records.existing(key)) throw new WrongTypeError()
  return null
}

/** Element refs of a key for a transaction. */
export function elementRefs (key: KeyRef, type: Marker, elements: Buffer[]): ElementRef[] {
  return elements.map(e => key.element(type, e))
}

/** Is an element record live (a value, or counter contributions)? */
export function isLive (obj: VObject | undefined): obj is VObject {
  return obj !== undefined && elementState(obj).type !== 'none'
}

/** A value write of one element over what was read of it. */
export function writeElement (ref: ElementRef, obj: VObject | undefined, value: Buffer): RecordWrite {
  return { ref, change: { op: 'value', context: objectClock(obj ?? { siblings: [] }), value } }
}

/** A remove of one element: a tombstone covering exactly what was read of it. */
export function removeElement (ref: ElementRef, obj: VObject): RecordWrite {
  return { ref, change: { op: 'tombstone', context: objectClock(obj) } }
}

/** SREM / HDEL / ZREM: each live element named is removed as it was read; replies how many were. */
export function removeElements (c: Call, type: Marker): Promise<Reply> {
  const key = c.node.ref(c.args[1])
  const refs = elementRefs(key, type, c.args.slice(2))
  return c.node.records.txn(key, refs, (view) => {
    if (!expectType(view, type)) return { writes: [], result: int(0) }
    const writes: RecordWrite[] = []
    const seen = new Set<string>()
    for (let i = 0; i < refs.length; i++) {
      const obj = view.elements[i]
      if (seen.has(refs[i].ks) || !isLive(obj)) continue
      seen.add(refs[i].ks)
      writes.push(removeElement(refs[i], obj))
    }
    return { writes, result: int(writes.length) }
  })
}

export function incrementElement (ref: ElementRef, delta: bigint | number): RecordWrite {
  const change: Change = { op: 'increment', delta }
  return { ref, change }
}

/**
 * Every live element of a collection, in element order (null: the key holds no
 * such collection now; WRONGTYPE: another type).
 */
export async function readAll (c: Call, key: KeyRef, type: Marker): Promise<Element[] | null> {
  const { state } = await c.node.records.state(key, type)
  if (state.type === 'none') return null
  if (state.type !== type) throw new WrongTypeError()
  const out: Element[] = []
  await c.node.records.walk(key, type, (rows) => {
    for (const [skey, obj] of rows) {
      if (isLive(obj)) out.push({ element: (refOfStorageKey(skey, key.bits) as ElementRef).element, obj })
    }
    return true
  })
  return out
}

/** The elements of a view's key, for a transaction that rewrites the whole collection. */
export async function readAllIn (c: Call, view: TxnView, type: Marker): Promise<Element[]> {
  if (!expectType(view, type)) return []
  return await readAll(c, view.key, type) ?? []
}

// ---------------------------------------------------------------- *SCAN

// A collection is stored in the order of its elements' hashes (lib/node/keys.ts):
// a cursor is a position in the top 62 bits of that order, plus one (0 is the
// start and the end). Elements sharing the top 62 bits of their hash stay on one
// page, so a cursor never splits them.

/** The storage position (8 bytes) a cursor resumes at; null: the start. */
function cursorPosition (cursor: bigint): Buffer | null {
  if (cursor === 0n) return null
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE((cursor - 1n) << 2n)
  return b
}

/** The cursor of the first position past every element whose hash shares h8's top 62 bits (0: none left). */
function cursorAfter (h8: Buffer): bigint {
  const group = h8.readBigUInt64BE(0) >> 2n
  return group + 1n >= 1n << 62n ? 0n : group + 2n
}

export interface ScanArgs {
  cursor: bigint
  count: number
  match: ((b: Buffer) => boolean) | null
  novalues: boolean
}

/** SSCAN/HSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count] (NOVALUES for HSCAN). */
export function scanArgs (c: Call, novalues = false): ScanArgs {
  const text = c.args[2].toString('latin1')
  if (!/^[0-9]{1,20}$/.test(text) || BigInt(text) >= 1n << 63n) fail(E.invalidCursor)
  const out: ScanArgs = { cursor: BigInt(text), count: 10, match: null, novalues: false }
  for (let i = 3; i < c.args.length; i++) {
    const opt = lower(c.args[i])
    if (opt === 'novalues' && novalues) {
      out.novalues = true
      continue
    }
    if (i + 1 >= c.args.length) fail(E.syntax)
    if (opt === 'count') {
      out.count = intArg(c.args[++i])
      if (out.count < 1) fail(E.syntax)
    } else if (opt === 'match') {
      out.match = globMatcher(c.args[++i])
    } else {
      fail(E.syntax)
    }
  }
  return out
}

/**
 * One *SCAN page: about `count` elements from the cursor's position, in hash
 * order. Stateless: any node resumes any cursor; every element present for the
 * whole scan is returned at least once.
 */
export async function scanPage (c: Call, key: KeyRef, type: Marker, a: ScanArgs): Promise<{ cursor: bigint, elements: Element[] } | null> {
  const { state } = await c.node.records.state(key, type)
  if (state.type === 'none') return null
  if (state.type !== type) throw new WrongTypeError()
  const out: Element[] = []
  let cursor = 0n
  const count = Math.min(a.count, 100_000)
  const start = cursorPosition(a.cursor)
  await c.node.records.walk(key, type, (rows) => {
    for (const [skey, obj] of rows) {
      const ref = refOfStorageKey(skey, key.bits) as ElementRef
      const h8 = ref.skey.subarray(ref.skey.length - ref.element.length - ELEMENT_HASH_BYTES, ref.skey.length - ref.element.length)
      if (cursor !== 0n) {
        if (cursorAfter(h8) !== cursor) return false // past the last page's group: stop here
      } else if (out.length >= count) {
        cursor = cursorAfter(h8)
        if (cursor === 0n) return false
      }
      if (isLive(obj)) out.push({ element: ref.element, obj })
    }
    return true
  }, start ?? undefined, Math.min(count + 16, 1000))
  return { cursor, elements: a.match === null ? out : out.filter(e => (a.match as (b: Buffer) => boolean)(e.element)) }
}

export function scanReply (cursor: bigint, items: Reply[]): Reply {
  return array([bulk(cursor.toString()), array(items)])
}

// ---------------------------------------------------------------- random picks and counts

/** SRANDMEMBER/HRANDFIELD/ZRANDMEMBER count: distinct picks for count ≥ 0, |count| picks with repeats for count < 0. */
export function randomPicks<T> (c: Call, items: T[], count: number): T[] {
  if (count >= 0) {
    if (count >= items.length) return items.slice()
    const copy = items.slice()
    for (let i = 0; i < count; i++) {
      const j = i + c.node.random.int(copy.length - i)
      const t = copy[i]
      copy[i] = copy[j]
      copy[j] = t
    }
    return copy.slice(0, count)
  }
  const out: T[] = []
  if (items.length === 0) return out
  for (let i = 0; i < -count; i++) out.push(items[c.node.random.int(items.length)])
  return out
}

/** Redis's count argument of the random commands: an integer within ±2^62 or so. */
export function countArg (b: Buffer): number {
  const n = intArg(b, 'ERR value is out of range')
  if (Math.abs(n) > 2 ** 52) fail('ERR value is out of range')
  return n
}

/**
 * Replaces `dest` with a collection of `type` holding `entries` (element →
 * value): whatever dest held is deleted (an element kept gets its new value over
 * what was read of it), then the new marker and elements are written. An empty
 * result leaves dest deleted. Not atomic: readers may see it half written.
 */
export function storeCollection (c: Call, dest: KeyRef, type: Marker, entries: Array<[Buffer, Buffer]>): Promise<number> {
  return c.node.records.txn(dest, [], async (view) => {
    const removed = await deleteKey(c, view)
    if (entries.length === 0) return { writes: removed, result: 0 }
    const old = new Map(removed.map(w => [w.ref.ks, w]))
    const writes: RecordWrite[] = []
    for (const [element, value] of entries) {
      const ref = dest.element(type, element)
      const prev = old.get(ref.ks)
      old.delete(ref.ks)
      writes.push({ ...writeElement(ref, prev?.incoming, value), incoming: prev?.incoming })
    }
    old.delete(dest.ks)
    // The marker covers what dest held (its DEL) and starts a new incarnation.
    const marker: RecordWrite = { ref: dest, change: { op: 'marker', marker: type, context: objectClock(view.obj ?? { siblings: [] }) } }
    return { writes: [...old.values(), marker, ...writes], result: entries.length }
  })
}

/** Does the key exist now (for commands that only need a yes or no)? */
export async function exists (c: Call, key: KeyRef): Promise<boolean> {
  const { obj, state } = await c.node.records.state(key)
  return await liveState(c, { key, obj, state, elements: [], nowMs: c.node.clock.now() }) !== null
}
