// blindWrite and newestValue work on encoded objects; they must agree exactly
// with the general path (decode, put with the object clock, encode; liveValue).
import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, ok, throws } from 'node:assert'
import { DecodeError } from '../../lib/util/bytes.js'
import {
  COMPLEX,
  CounterOverflowError,
  anchorRange,
  blindWrite,
  decodeObject,
  encodeObject,
  keyState,
  merge,
  newestValue,
  newestValueRange,
  objectClock,
  put,
  supersedes,
  type Clock,
  type OneTimeActor,
  type VObject
} from '../../lib/versioning/index.js'
import { ACTORS, anyObjectArb, tsArb } from './fixtures/history.js'
import { typedObjectArb } from './fixtures/typed.js'

/** Plain strings (values and tombstones, maybe with expiries) and typed objects (counters, markers, bases). */
const objArb = fc.oneof(anyObjectArb, typedObjectArb)

/** Holds only values and tombstones (what the fast paths handle). */
function plainString (obj: VObject): boolean {
  return obj.siblings.every(s => s.total === undefined && s.marker === undefined && (s.base === undefined || s.base.size === 0))
}

const runs = { numRuns: 1000 }


/** The writer: an actor of the object, one sorting before or after all, or a lane-free history actor. */
const writerArb = fc.constantFrom(...ACTORS, 'a#1', 'zz#ff', 'm#0')

/**
 * A one-time actor as bytes (identity.FreshActor): a prefix (`${name}#${epoch}`; some make ids equal to,
 * or sorting between, the objects' actors: ACTORS are `n<i>#e1`) and a counter, small, at the hex digits'
 * and the 32-bit paths' edges, or any safe integer.
 */
const oneTimeArb = fc.record({
  prefix: fc.constantFrom('n0#e', 'n1#e', 'n1#e1', 'a#', 'zz#', 'm#0123456789ab', 'node-7#0123456789ab').map(p => Buffer.from(p, 'utf8')),
  counter: fc.oneof(
    fc.integer({ min: 1, max: 300 }),
    fc.constantFrom(15, 16, 255, 256, 0xfffff, 0x100000, 0x7fffffff, 0x80000000, 2 ** 32 - 1, 2 ** 32, 16 ** 12 - 1, 16 ** 12, 16 ** 13, Number.MAX_SAFE_INTEGER),
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
  )
})

/** The id of a one-time actor given as bytes: what identity.FreshActor's `actor` is. */
function oneTimeId (a: OneTimeActor): string {
  return a.prefix.toString('utf8') + a.counter.toString(16)
}

t.test('blindWrite = encode(put(obj, context = objectClock(obj))), or null for what is not a plain string', async t => {
  // A one-time actor given as bytes writes the bytes the general path writes for its id as a string, whatever came before.
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.option(objArb, { freq: 8 }), writerArb, fc.option(oneTimeArb, { freq: 2 }), tsArb, fc.nat({ max: 40 }), fc.integer({ min: 1, max: 12 }), fc.option(fc.uint8Array({ maxLength: 40 }), { freq: 4 }), fc.option(tsArb),
    (obj: VObject | null, writer, oneTime, nowMs, counterFloor, vclockMax, raw, expiry) => {
      const value = raw === null ? null : Buffer.from(raw)
      const expireAt = value === null || expiry === null || expiry === 0 ? 0 : expiry
      const base = obj ?? { siblings: [] }
      const actor = oneTime === null ? writer : oneTimeId(oneTime)
      // With a one-time actor, `actor` is not read: a wrong one shows if it were.
      const write = (): ReturnType<typeof blindWrite> => blindWrite(obj === null ? undefined : encodeObject(obj), { actor: oneTime === null ? actor : 'x', oneTime, nowMs, counterFloor, vclockMax, value, expireAt })
      const putBase = (): ReturnType<typeof put> => put(base, { actor, context: objectClock(base), nowMs, counterFloor, vclockMax, value, expireAt })
      if (plainString(base)) {
        // A context holding the actor's last counter (2^53 - 1, seed -440827051): both refuse the same way.
        let overflow: unknown = null
        try { putBase() } catch (e) { overflow = e }
        if (overflow !== null) {
          ok(overflow instanceof CounterOverflowError)
          throws(write, CounterOverflowError)
          return
        }
      }
      const got = write()
      if (!plainString(base)) {
        ok(got === null, 'a typed object takes the general path')
        return
      }
      const expected = putBase()
      ok(got !== null)
      deepStrictEqual(got.bytes, encodeObject(expected.obj))
      ok(got.counter === expected.counter && got.truncated === expected.truncated && expected.actor === actor)
      const before = keyState(base, 0)
      deepStrictEqual([got.oldValue, got.oldExpireAt], [before.value, before.value === null ? 0 : before.expireAt])
    }), runs))
})

t.test('newestValue = the anchor of keyState(decode(bytes)), or COMPLEX', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(objArb, (obj) => {
    const got = newestValue(encodeObject(obj))
    if (!plainString(obj)) {
      ok(got === COMPLEX)
      return
    }
    ok(got !== COMPLEX)
    const state = keyState(obj, 0)
    deepStrictEqual([got.value, got.expireAt], [state.value, state.type === 'none' ? 0 : state.expireAt])
  }), runs))
})

/** What a read of the anchor gave: its value and expiry, COMPLEX, or the error's name. */
function outcome (read: () => { value: Buffer | null, expireAt: number } | typeof COMPLEX): unknown {
  try {
    const got = read()
    return got === COMPLEX ? 'complex' : [got.value === null ? null : Buffer.from(got.value), got.expireAt]
  } catch (e) {
    ok(e instanceof DecodeError, String(e))
    return 'DecodeError'
  }
}

t.test('newestValueRange of bytes[start, end) inside a larger buffer = newestValue of those bytes alone, whole or cut', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(objArb, fc.nat(), fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (obj, cutAt, before, after) => {
    const bytes = Buffer.from(encodeObject(obj))
    const cut = cutAt % (bytes.length + 2) > bytes.length ? bytes.length : cutAt % (bytes.length + 2)
    // What lies past the range is the rest of the object: a read past `end` would find it.
    const held = Buffer.concat([before, bytes, after])
    const start = before.length
    const alone = outcome(() => newestValue(Buffer.from(bytes.subarray(0, cut))))
    const inPlace = outcome(() => {
      if (!newestValueRange(held, start, start + cut)) return COMPLEX
      ok(anchorRange.start < 0 || (start <= anchorRange.start && anchorRange.end <= start + cut), 'the range lies in the object')
      return { value: anchorRange.start < 0 ? null : held.subarray(anchorRange.start, anchorRange.end), expireAt: anchorRange.expireAt }
    })
    deepStrictEqual(inPlace, alone)
  }), runs))
})

t.test('a tombstone anchor with an expiry: newestValueRange answers no expiry, as newestValue does', async t => {
  // (fast-check found it once in 1 000 runs: anchorRange kept the tombstone's expiry)
  const bytes = Buffer.from(encodeObject({ siblings: [{ actor: 'a', counter: 1, ctx: new Map(), ts: 128, value: null, expireAt: 2 ** 42 }] }))
  t.same(newestValue(bytes), { value: null, expireAt: 0 })
  t.equal(newestValueRange(bytes, 0, bytes.length), true)
  t.same([anchorRange.start, anchorRange.expireAt], [-1, 0])
})

/** What a blind write gave: its bytes, counter, truncation and the old anchor (value, expiry), COMPLEX, or the error's name. */
function written (write: () => ReturnType<typeof blindWrite>): unknown {
  try {
    const got = write()
    return got === null ? 'complex' : [Buffer.from(got.bytes), got.counter, got.truncated, got.oldLive, got.oldValue === null ? null : Buffer.from(got.oldValue), got.oldExpireAt]
  } catch (e) {
    ok(e instanceof DecodeError || e instanceof CounterOverflowError, String(e))
    return e instanceof DecodeError ? 'DecodeError' : 'CounterOverflowError'
  }
}

t.test('blindWrite of bytes[start, end) inside a larger buffer = blindWrite of those bytes alone, whole or cut', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(
    objArb, fc.nat(), fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), writerArb, fc.option(oneTimeArb, { freq: 3 }), tsArb, fc.nat({ max: 40 }), fc.integer({ min: 1, max: 12 }), fc.option(fc.uint8Array({ maxLength: 40 }), { freq: 4 }),
    (obj, cutAt, before, after, actor, oneTime, nowMs, counterFloor, vclockMax, raw) => {
      const o = { actor, oneTime, nowMs, counterFloor, vclockMax, value: raw === null ? null : Buffer.from(raw) }
      const bytes = Buffer.from(encodeObject(obj))
      const cut = cutAt % (bytes.length + 2) > bytes.length ? bytes.length : cutAt % (bytes.length + 2)
      // What lies past the range is the rest of the object: a read past `end` would find it.
      const held = Buffer.concat([before, bytes, after])
      const start = before.length
      const alone = written(() => blindWrite(Buffer.from(bytes.subarray(0, cut)), o))
      deepStrictEqual(written(() => blindWrite(held, o, undefined, start, start + cut)), alone)
    }), runs))
})

t.test('malformed input: DecodeError, never a hang or a crash', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(objArb, fc.nat(), fc.nat({ max: 255 }), fc.nat(), (obj, at, byte, cut) => {
    const bytes = Buffer.from(encodeObject(obj))
    const mutated = Buffer.concat([bytes.subarray(0, cut % (bytes.length + 1))])
    if (mutated.length > 0) mutated[at % mutated.length] = byte
    const valid = Buffer.from(bytes)
    for (const f of [
      () => newestValue(mutated),
      () => blindWrite(mutated, { actor: 'a#1', nowMs: 1, counterFloor: 0, vclockMax: 10, value: null }),
      () => supersedes(mutated, valid),
      () => supersedes(valid, mutated)
    ]) {
      try {
        f()
      } catch (e) {
        ok(e instanceof DecodeError, String(e))
      }
    }
  }), runs))
  t.throws(() => newestValue(Buffer.from([1, 0, 0])), DecodeError)
  t.throws(() => newestValue(Buffer.concat([encodeObject({ siblings: [] }), Buffer.from([0])])), DecodeError)
})

/** A clock missing its entry for one actor (a writer that had not seen everything). */
function without (clock: Clock, drop: number): Clock {
  const actors = [...clock.keys()].sort()
  if (actors.length === 0) return clock
  const out = new Map(clock)
  out.delete(actors[drop % actors.length])
  return out
}

t.test('supersedes(a, b) only when merge(a, b) is exactly b, and then in the usual replica write', async t => {
  let superseding = 0
  let usual = 0
  fc.assert(fc.property(
    objArb, objArb, writerArb, tsArb, fc.nat({ max: 40 }), fc.nat({ max: 5 }), fc.nat(),
    (a: VObject, b: VObject, actor, nowMs, counterFloor, kind, drop) => {
      let truncated = 0
      const write = (base: VObject, context: Clock): VObject => {
        const res = put(base, { actor, context, nowMs, counterFloor, vclockMax: 12, value: Buffer.from('v'), expireAt: 0 })
        truncated += res.truncated
        return res.obj
      }
      // Incoming versions: another replica's copy, a write over a (what a replica usually gets), a write
      // over b or over both, and a write whose writer had not seen all of a.
      const both = merge(a, b)
      // A dot at the end of its counter cannot be written over (put refuses: CounterOverflowError).
      fc.pre([a, b].every(o => o.siblings.every(x => x.counter < Number.MAX_SAFE_INTEGER) && [...objectClock(o).values()].every(e => e.counter < Number.MAX_SAFE_INTEGER)))
      const incoming = [b, write(a, objectClock(a)), write(b, objectClock(b)), write(both, objectClock(both)), write(a, without(objectClock(a), drop)), write(b, objectClock(a))][kind]
      for (const [cur, inc] of [[a, incoming], [incoming, a]]) {
        const got = supersedes(encodeObject(cur), encodeObject(inc))
        if (got) {
          superseding++
          deepStrictEqual(encodeObject(merge(cur, inc)), encodeObject(inc))
        }
      }
      if (kind === 1 && truncated === 0) {
        // The usual replica write: the writer read this replica's copy (or a newer one) first
        // (a truncated context may leave versions it does not cover: then the general path).
        ok(supersedes(encodeObject(a), encodeObject(incoming)), 'a write over the stored copy supersedes it')
        usual++
      }
    }), runs)
  t.ok(superseding > runs.numRuns / 6, `${superseding} of ${2 * runs.numRuns} pairs superseded`)
  t.ok(usual > 0)
  t.notOk(supersedes(encodeObject(write1('a#1', 1)), encodeObject({ siblings: [] })), 'an empty object supersedes nothing')
  t.ok(supersedes(encodeObject({ siblings: [] }), encodeObject(write1('a#1', 1))), 'anything supersedes an empty object')
  t.notOk(supersedes(encodeObject(write1('a#1', 1)), encodeObject(write1('a#1', 1))), 'not itself')
})

function write1 (actor: string, nowMs: number): VObject {
  return put({ siblings: [] }, { actor, context: new Map(), nowMs, counterFloor: 0, vclockMax: 10, value: Buffer.from('x'), expireAt: 0 }).obj
}

t.test('a counter at its end is refused, not wrapped', async t => {
  const at = blindWrite(undefined, { actor: 'a#1', nowMs: 5, counterFloor: Number.MAX_SAFE_INTEGER - 1, vclockMax: 10, value: Buffer.from('v') })
  if (at === null) throw new Error('a new key is a plain string')
  t.equal(at.counter, Number.MAX_SAFE_INTEGER)
  t.same(decodeObject(at.bytes).siblings.map(s => [s.actor, s.counter]), [['a#1', Number.MAX_SAFE_INTEGER]])
  t.throws(() => blindWrite(at.bytes, { actor: 'a#1', nowMs: 6, counterFloor: 0, vclockMax: 10, value: null }), CounterOverflowError)
  // a one-time actor's error names its id
  const oneTime = { prefix: Buffer.from('a#'), counter: 1 }
  t.throws(() => blindWrite(at.bytes, { actor: 'x', oneTime, nowMs: 6, counterFloor: 0, vclockMax: 10, value: null }), { message: 'counter of a#1 exhausted' })
})
