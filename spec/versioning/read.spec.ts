import t from 'tap'
import fc from 'fast-check'
import { ok } from 'node:assert'
import {
  compareDots,
  emptyObject,
  isTombstoneOnly,
  liveValue,
  liveValues,
  newest,
  sameVersions,
  type Sibling
} from '../../lib/versioning/index.js'
import { makeObject, objectArb } from './fixtures/history.js'

const runs = { numRuns: 500 }

function sib (actor: string, counter: number, ts: number, value: string | null): Sibling {
  return { actor, counter, ctx: new Map(), ts, value: value === null ? null : Buffer.from(value) }
}

/** Objects whose siblings often tie on ts and on value. */
const tieArb = fc.uniqueArray(fc.record({
  actor: fc.constantFrom('a#1', 'b#1', 'c#1'),
  counter: fc.integer({ min: 1, max: 3 }),
  ts: fc.integer({ min: 1, max: 3 }),
  value: fc.option(fc.constantFrom('', 'x', 'y', 'yy'), { freq: 3 })
}), { selector: s => `${s.actor}:${s.counter}`, maxLength: 6 })
  .map(xs => makeObject(xs.map(x => sib(x.actor, x.counter, x.ts, x.value))))

t.test('newest: largest ts, then larger value bytes, then a value over a tombstone, then dot order', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.oneof(objectArb, tieArb), obj => {
    const n = newest(obj)
    if (obj.siblings.length === 0) return ok(n === undefined)
    ok(n !== undefined)
    const top = Math.max(...obj.siblings.map(s => s.ts))
    ok(n.ts === top)
    const tied = obj.siblings.filter(s => s.ts === top)
    const values = tied.filter(s => s.value !== null)
    if (values.length > 0) {
      ok(n.value !== null, 'a value beats a tombstone')
      for (const s of values) ok(Buffer.compare(n.value, s.value as Buffer) >= 0, 'largest bytes')
      for (const s of values) if (Buffer.compare(n.value, s.value as Buffer) === 0) ok(compareDots(n, s) >= 0, 'then the later dot')
    } else {
      for (const s of tied) ok(compareDots(n, s) >= 0)
    }
    // a total order: the answer does not depend on the order it is looked for in
    ok(newest({ siblings: [...obj.siblings].reverse() }) === n)
    ok(liveValue(obj) === n.value)
  }), runs))

  t.equal(newest(emptyObject()), undefined)
  t.equal(liveValue(emptyObject()), null, 'absent key')
  const obj = makeObject([sib('a#1', 1, 10, 'old'), sib('b#1', 1, 20, null)])
  t.equal(liveValue(obj), null, 'a newer delete hides an older value')
  t.same(liveValues(obj), [Buffer.from('old')], 'GETCTX still shows it')
  const tie = makeObject([sib('a#1', 1, 5, 'b'), sib('b#1', 1, 5, 'a'), sib('c#1', 1, 5, null)])
  t.same(liveValue(tie), Buffer.from('b'), 'equal ts: larger bytes')
  const same = makeObject([sib('a#1', 1, 5, 'v'), sib('b#1', 1, 5, 'v')])
  t.equal(newest(same), same.siblings[1], 'equal ts and bytes: later dot')
  const tombs = makeObject([sib('a#1', 2, 5, null), sib('a#1', 1, 5, null)])
  t.equal(newest(tombs), tombs.siblings[1])
  t.equal(liveValue(tombs), null)
})

t.test('liveValues, isTombstoneOnly, sameVersions', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(objectArb, obj => {
    const live = liveValues(obj)
    const expected = obj.siblings.filter(s => s.value !== null).map(s => s.value)
    ok(live.length === expected.length && live.every((v, i) => v === expected[i]))
    ok(isTombstoneOnly(obj) === (obj.siblings.length > 0 && live.length === 0))
    ok(sameVersions(obj, { siblings: obj.siblings.map(s => ({ ...s, value: null })) }))
  }), runs))
  const a = makeObject([sib('a#1', 1, 1, 'x'), sib('b#1', 1, 1, 'y')])
  t.ok(sameVersions(a, a))
  t.notOk(sameVersions(a, makeObject([sib('a#1', 1, 1, 'x')])))
  t.notOk(sameVersions(a, makeObject([sib('a#1', 1, 1, 'x'), sib('b#1', 2, 1, 'y')])))
  t.notOk(sameVersions(a, makeObject([sib('a#1', 1, 1, 'x'), sib('c#1', 1, 1, 'y')])))
  t.notOk(isTombstoneOnly(emptyObject()), 'an absent key is not a tombstone')
  t.ok(isTombstoneOnly(makeObject([sib('a#1', 1, 1, null)])))
  t.same(liveValues(emptyObject()), [])
})
