import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, ok } from 'node:assert'
import {
  covers,
  emptyObject,
  merge,
  objectClock,
  put,
  sameVersions,
  type VObject
} from '../../lib/versioning/index.js'
import { ACTORS, clock, converge, dotKey, historyArb, makeObject, plain, simulate } from './fixtures/history.js'

const runs = { numRuns: 300 }

/** Three states drawn from one reachable history. */
const triple = fc.record({ ops: historyArb, i: fc.nat(), j: fc.nat(), k: fc.nat() }).map(({ ops, i, j, k }) => {
  const { states } = simulate(ops)
  return [states[i % states.length], states[j % states.length], states[k % states.length]] as const
})

const same = (a: VObject, b: VObject): void => deepStrictEqual(plain(a), plain(b))

t.test('merge laws on reachable states', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(triple, ([a, b]) => {
    same(merge(a, b), merge(b, a))
  }), runs), 'commutative')
  t.doesNotThrow(() => fc.assert(fc.property(triple, ([a, b, c]) => {
    same(merge(merge(a, b), c), merge(a, merge(b, c)))
  }), runs), 'associative')
  t.doesNotThrow(() => fc.assert(fc.property(triple, ([a]) => {
    same(merge(a, a), a)
    // a copy that shares no object with `a` (what two replicas hold after decoding)
    const copy = { siblings: a.siblings.map(s => ({ ...s, ctx: new Map(s.ctx), value: s.value === null ? null : Buffer.from(s.value) })) }
    same(merge(a, copy), a)
  }), runs), 'idempotent')
  t.doesNotThrow(() => fc.assert(fc.property(triple, ([a]) => {
    same(merge(a, emptyObject()), a)
    same(merge(emptyObject(), a), a)
  }), runs), 'the empty object is the identity')
  t.doesNotThrow(() => fc.assert(fc.property(triple, ([a, b]) => {
    const ab = merge(a, b)
    same(merge(ab, a), ab)
    same(merge(ab, b), ab)
  }), runs), 'absorbing: a merge already contains both sides')
  t.doesNotThrow(() => fc.assert(fc.property(triple, ([a, b]) => {
    // the merged clock is the join of both clocks: merging never forgets what was seen
    const ab = objectClock(merge(a, b))
    for (const side of [a, b]) {
      for (const [actor, e] of objectClock(side)) ok(covers(ab, actor, e.counter))
    }
  }), runs), 'the merged clock covers both clocks')
})

t.test('replicas converge and no acknowledged write is lost', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(historyArb, ops => {
    const { states, replicas, issued } = simulate(ops)
    // every replica, after receiving every state in any order, holds the same thing
    const all = converge(states)
    for (const r of replicas) same(converge([...states].reverse().concat(r)), all)
    // each version ever written is present, or superseded by a present version whose ctx covers it
    const present = new Set(all.siblings.map(dotKey))
    for (const s of issued) {
      if (present.has(dotKey(s))) continue
      ok(all.siblings.some(p => covers(p.ctx, s.actor, s.counter)), `${dotKey(s)} lost`)
    }
    // and nothing present is covered by another present sibling
    for (const s of all.siblings) {
      ok(!all.siblings.some(p => p !== s && covers(p.ctx, s.actor, s.counter)), `${dotKey(s)} should be gone`)
    }
  }), runs), 'converged state keeps every write or its superseder')
})

t.test('merge rules on small cases', async t => {
  const a1 = { actor: 'a#1', counter: 1, ctx: clock({}), ts: 1, value: Buffer.from('x') }
  const b1 = { actor: 'b#1', counter: 1, ctx: clock({}), ts: 2, value: Buffer.from('y') }
  const b2 = { actor: 'b#1', counter: 2, ctx: clock({ 'a#1': 1, 'b#1': 1 }), ts: 3, value: Buffer.from('z') }

  t.same(plain(merge(makeObject([a1]), makeObject([b1]))), plain(makeObject([a1, b1])), 'concurrent versions are both kept')
  t.same(plain(merge(makeObject([a1, b1]), makeObject([b2]))), plain(makeObject([b2])), 'a version whose ctx covers others supersedes them')
  t.same(plain(merge(makeObject([b2]), makeObject([a1, b1]))), plain(makeObject([b2])), 'in either order')

  // b saw a1 (its clock covers it) and holds b2, which does not cover a1 itself: a1 was superseded in b's history
  const c1 = { actor: 'c#1', counter: 1, ctx: clock({ 'a#1': 1 }), ts: 4, value: null }
  const bSide = makeObject([c1])
  t.same(plain(merge(makeObject([a1]), bSide)), plain(bSide), 'a sibling the other side has seen and dropped is dropped')

  // not a reachable state (b2 supersedes a1 and b1), but merge still applies its rules
  t.same(plain(merge(makeObject([a1, b1, b2]), makeObject([a1, b1]))), plain(makeObject([b2])), 'a sibling covered by another sibling\'s ctx is dropped even when both sides hold it')

  const obj = makeObject([a1, b1])
  t.equal(merge(obj, obj), obj, 'merging an object with itself returns it')
  t.equal(merge(obj, makeObject([a1])), obj, 'merging a subset returns the superset unchanged')
  t.equal(merge(makeObject([a1]), obj), obj, 'in either order')
  const e = emptyObject()
  t.equal(merge(obj, e), obj)
  t.equal(merge(e, obj), obj)
})

t.test('one dot with two different contents is resolved the same way on every replica', async t => {
  // only possible if a dot was re-issued (a data directory restored from a backup with its epoch)
  const base = { actor: 'a#1', counter: 1, ctx: clock({ 'b#1': [1, 5] }), ts: 10, value: Buffer.from('x') }
  const variants = [
    { ...base, ts: 11 },
    { ...base, value: Buffer.from('y') },
    { ...base, value: null },
    { ...base, ctx: clock({ 'b#1': [2, 5] }) },
    { ...base, ctx: clock({ 'b#1': [1, 6] }) },
    { ...base, ctx: clock({ 'c#1': [1, 5] }) },
    { ...base, ctx: clock({ 'b#1': [1, 5], 'c#1': [1, 5] }) },
    { ...base, ctx: clock({}) }
  ]
  for (const v of variants) {
    const x = makeObject([base])
    const y = makeObject([v])
    t.same(plain(merge(x, y)), plain(merge(y, x)), `differing in ${JSON.stringify(plain(y)[0])}`)
    t.ok(sameVersions(merge(x, y), x))
  }
  for (const twin of [{ ...base }, { ...base, ctx: clock({ 'b#1': [1, 5] }), value: Buffer.from('x') }]) {
    t.same(plain(merge(makeObject([base]), makeObject([twin]))), plain(makeObject([base])), 'equal contents')
  }
})

t.test('two writes with the same stale context through one node are both kept', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(historyArb, fc.nat(), fc.nat({ max: 2 }), (ops, c, r) => {
    const { replicas, contexts } = simulate(ops)
    const stale = contexts[c % contexts.length]
    const actor = ACTORS[r]
    const first = put(replicas[r], { actor, context: stale, value: Buffer.from('one'), nowMs: 5000, vclockMax: 1000 })
    const second = put(first.obj, { actor, context: stale, value: Buffer.from('two'), nowMs: 5001, vclockMax: 1000 })
    const both = [dotKey(first), dotKey(second)]
    ok(both.every(d => second.obj.siblings.map(dotKey).includes(d)))
    // the same on a replica that merges both results separately
    const elsewhere = merge(merge(replicas[(r + 1) % replicas.length], first.obj), second.obj)
    ok(both.every(d => elsewhere.siblings.map(dotKey).includes(d)))
    // a write with the merged context replaces both, and everything else the context covered
    const other = ACTORS[(r + 1) % ACTORS.length]
    const third = put(elsewhere, { actor: other, context: objectClock(elsewhere), value: Buffer.from('three'), nowMs: 5002, vclockMax: 1000 })
    deepStrictEqual(third.obj.siblings.map(dotKey), [dotKey(third)])
  }), runs), 'siblings, then resolved')
})
