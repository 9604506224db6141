import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, ok } from 'node:assert'
import { covers, joinClocks, objectClock, truncateClock, type Clock } from '../../lib/versioning/index.js'
import { clock, clockArb, objectArb, plainClock } from './fixtures/history.js'

const runs = { numRuns: 500 }
const same = (a: Clock, b: Clock): void => deepStrictEqual(plainClock(a), plainClock(b))

/** Clocks over few actors with small counters and times, so that entries collide often. */
const denseClockArb: fc.Arbitrary<Clock> = fc.array(
  fc.tuple(fc.constantFrom('a#1', 'b#1', 'c#1', 'd#1'), fc.integer({ min: 1, max: 4 }), fc.nat({ max: 3 })), { maxLength: 4 }
).map(entries => new Map(entries.map(([actor, counter, ts]) => [actor, { counter, ts }])))
const anyClock = fc.oneof(clockArb, denseClockArb)

t.test('covers', async t => {
  const c = clock({ 'a#1': 3 })
  t.ok(covers(c, 'a#1', 1))
  t.ok(covers(c, 'a#1', 3))
  t.notOk(covers(c, 'a#1', 4))
  t.notOk(covers(c, 'b#1', 1))
})

t.test('joinClocks is a join: commutative, associative, idempotent, an upper bound', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(anyClock, anyClock, anyClock, (a, b, c) => {
    same(joinClocks(a, b), joinClocks(b, a))
    same(joinClocks(joinClocks(a, b), c), joinClocks(a, joinClocks(b, c)))
    same(joinClocks(a, a), a)
    same(joinClocks(a, new Map()), a)
    const ab = joinClocks(a, b)
    for (const side of [a, b]) for (const [actor, e] of side) ok(covers(ab, actor, e.counter))
    // the least upper bound: every entry comes from one side, the larger counter, then the later ts
    for (const [actor, e] of ab) {
      const ea = a.get(actor)
      const eb = b.get(actor)
      ok(e === ea || e === eb)
      for (const other of [ea, eb]) ok(other === undefined || other.counter < e.counter || (other.counter === e.counter && other.ts <= e.ts))
    }
  }), runs))
  const a = clock({ 'a#1': [1, 5] })
  t.not(joinClocks(a, new Map()), a, 'a fresh map')
})

t.test('truncateClock drops the entries updated longest ago, ties by actor id', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(anyClock, fc.integer({ min: 1, max: 13 }), (c, max) => {
    const before = plainClock(c)
    const { clock: kept, truncated } = truncateClock(c, max)
    ok(kept.size === Math.min(c.size, max) && truncated === c.size - kept.size)
    for (const [actor, e] of kept) ok(c.get(actor) === e)
    for (const [ka, ke] of kept) {
      for (const [da, de] of c) {
        if (kept.has(da)) continue
        ok(de.ts < ke.ts || (de.ts === ke.ts && da < ka))
      }
    }
    deepStrictEqual(plainClock(c), before, 'input untouched')
    ok(kept !== c)
  }), runs))
  const c = clock({ 'b#1': [1, 10], 'a#1': [9, 10], 'c#1': [1, 5], 'd#1': [1, 20] })
  const { clock: kept, truncated } = truncateClock(c, 2)
  t.equal(truncated, 2)
  t.same([...kept.keys()].sort(), ['b#1', 'd#1'], 'c is oldest; a and b tie on ts and a sorts first')
})

t.test('objectClock joins every sibling context and dot', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(objectArb, obj => {
    const oc = objectClock(obj)
    let expected: Clock = new Map()
    for (const s of obj.siblings) {
      expected = joinClocks(expected, s.ctx)
      expected = joinClocks(expected, new Map([[s.actor, { counter: s.counter, ts: s.ts }]]))
    }
    same(oc, expected)
  }), runs))
  t.same(plainClock(objectClock({ siblings: [] })), [])
})
