// blindWrite and newestValue work on encoded objects; they must agree exactly
// with the general path (decode, put with the object clock, encode; liveValue).
import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, ok } from 'node:assert'
import { DecodeError } from '../../lib/util/bytes.js'
import {
  CounterOverflowError,
  blindWrite,
  decodeObject,
  encodeObject,
  isLive,
  liveValue,
  newestValue,
  objectClock,
  put,
  type VObject
} from '../../lib/versioning/index.js'
import { ACTORS, anyObjectArb, tsArb } from './fixtures/history.js'

const runs = { numRuns: 1000 }


/** The writer: an actor of the object, one sorting before or after all, or a lane-free history actor. */
const writerArb = fc.constantFrom(...ACTORS, 'a#1', 'zz#ff', 'm#0')

t.test('blindWrite = encode(put(obj, context = objectClock(obj)))', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.option(anyObjectArb, { freq: 8 }), writerArb, tsArb, fc.nat({ max: 40 }), fc.integer({ min: 1, max: 12 }), fc.option(fc.uint8Array({ maxLength: 40 }), { freq: 4 }),
    (obj: VObject | null, actor, nowMs, counterFloor, vclockMax, raw) => {
      const value = raw === null ? null : Buffer.from(raw)
      const base = obj ?? { siblings: [] }
      const expected = put(base, { actor, context: objectClock(base), nowMs, counterFloor, vclockMax, value })
      const got = blindWrite(obj === null ? undefined : encodeObject(obj), { actor, nowMs, counterFloor, vclockMax, value })
      deepStrictEqual(got.bytes, encodeObject(expected.obj))
      ok(got.counter === expected.counter && got.truncated === expected.truncated && expected.actor === actor)
      ok(got.wasLive === (obj !== null && liveValue(obj) !== null))
    }), runs))
})

t.test('newestValue = liveValue(decode(bytes))', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(anyObjectArb, (obj) => {
    const got = newestValue(encodeObject(obj))
    deepStrictEqual(got, liveValue(obj))
    ok(isLive(encodeObject(obj)) === (got !== null))
  }), runs))
})

t.test('malformed input: DecodeError, never a hang or a crash', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(anyObjectArb, fc.nat(), fc.nat({ max: 255 }), fc.nat(), (obj, at, byte, cut) => {
    const bytes = Buffer.from(encodeObject(obj))
    const mutated = Buffer.concat([bytes.subarray(0, cut % (bytes.length + 1))])
    if (mutated.length > 0) mutated[at % mutated.length] = byte
    for (const f of [() => newestValue(mutated), () => blindWrite(mutated, { actor: 'a#1', nowMs: 1, counterFloor: 0, vclockMax: 10, value: null })]) {
      try {
        f()
      } catch (e) {
        ok(e instanceof DecodeError, String(e))
      }
    }
  }), runs))
  t.throws(() => newestValue(Buffer.from([2, 0, 0])), DecodeError)
  t.throws(() => newestValue(Buffer.concat([encodeObject({ siblings: [] }), Buffer.from([0])])), DecodeError)
})

t.test('a counter at its end is refused, not wrapped', async t => {
  const at = blindWrite(undefined, { actor: 'a#1', nowMs: 5, counterFloor: Number.MAX_SAFE_INTEGER - 1, vclockMax: 10, value: Buffer.from('v') })
  t.equal(at.counter, Number.MAX_SAFE_INTEGER)
  t.same(decodeObject(at.bytes).siblings.map(s => [s.actor, s.counter]), [['a#1', Number.MAX_SAFE_INTEGER]])
  t.throws(() => blindWrite(at.bytes, { actor: 'a#1', nowMs: 6, counterFloor: 0, vclockMax: 10, value: null }), CounterOverflowError)
})
