import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, ok } from 'node:assert'
import {
  CounterOverflowError,
  InvalidActorError,
  InvalidArgumentError,
  LANES_MAX_DEFAULT,
  VCLOCK_MAX_DEFAULT,
  covers,
  emptyObject,
  laneActor,
  merge,
  objectClock,
  parseActorId,
  put,
  type Clock,
  type PutResult,
  type VObject
} from '../../lib/versioning/index.js'
import {
  ACTORS, REPLICAS, clock, clockArb, converge, dotKey, historyArb, plain, plainClock, simulate
} from './fixtures/history.js'

const runs = { numRuns: 300 }
const X = ACTORS[0]

/** A coordinator's current state from some history, and any context some client held. */
const scenario = fc.record({ ops: historyArb, r: fc.nat({ max: REPLICAS - 1 }), c: fc.nat(), tombstone: fc.boolean() })
  .map(({ ops, r, c, tombstone }) => {
    const h = simulate(ops)
    return { h, r, obj: h.replicas[r], context: h.contexts[c % h.contexts.length], value: tombstone ? null : Buffer.from('new') }
  })

t.test('a put supersedes exactly what its context covers', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(scenario, fc.nat({ max: 50 }), ({ obj, r, context, value }, floor) => {
    const before = plain(obj)
    const contextBefore = plainClock(context)
    const res = put(obj, { actor: ACTORS[r], context, value, nowMs: 9999, counterFloor: floor, vclockMax: 1000 })
    const kept = obj.siblings.filter(s => !covers(context, s.actor, s.counter)).map(dotKey)
    deepStrictEqual(res.obj.siblings.map(dotKey).sort(), [...kept, dotKey(res)].sort())
    const added = res.obj.siblings.find(s => dotKey(s) === dotKey(res))
    ok(added !== undefined && added.ts === 9999 && added.value === value)
    deepStrictEqual(plainClock(added.ctx), contextBefore, 'the new version records the context it was written with')
    // the new version supersedes, on merge, the same versions the put dropped locally
    deepStrictEqual(plain(merge(res.obj, obj)), plain(res.obj))
    // inputs are untouched
    deepStrictEqual(plain(obj), before)
    deepStrictEqual(plainClock(context), contextBefore)
  }), runs))
})

t.test('the new dot is fresh and the returned context covers exactly the context and the new dot', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(scenario, fc.nat({ max: 50 }), ({ obj, r, context, value }, floor) => {
    const res = put(obj, { actor: ACTORS[r], context, value, nowMs: 9999, counterFloor: floor, vclockMax: 1000 })
    const { node, epoch } = parseActorId(res.actor)
    ok(`${node}#${epoch}` === ACTORS[r], 'the dot belongs to the coordinator')
    ok(res.counter > floor && res.counter > (context.get(res.actor)?.counter ?? 0))
    for (const s of obj.siblings) {
      ok(!(s.actor === res.actor && s.counter >= res.counter), 'above every dot of its actor')
      ok(!covers(s.ctx, res.actor, res.counter), 'above every counter of its actor that was seen')
    }
    // exact: with the default lanes, every put in these histories gets a lane
    deepStrictEqual(plainClock(res.context), plainClock(new Map([...context, [res.actor, { counter: res.counter, ts: 9999 }]])))
    // it hides nothing: every version of obj it covers, the context covered already
    for (const s of obj.siblings) ok(!covers(res.context, s.actor, s.counter) || covers(context, s.actor, s.counter))
    ok(res.truncated === 0)
  }), runs))
})

t.test('writes with the same stale context through one node become siblings', async t => {
  const stale: Clock = new Map()
  let obj: VObject = emptyObject()
  const results: PutResult[] = []
  for (let i = 0; i < LANES_MAX_DEFAULT; i++) {
    const res = put(obj, { actor: X, context: stale, value: Buffer.from(`w${i}`), nowMs: 100 + i })
    results.push(res)
    obj = res.obj
  }
  t.same(results.map(r => r.actor), results.map((_, i) => laneActor(X, i)), 'each on the next free lane')
  t.equal(obj.siblings.length, LANES_MAX_DEFAULT, 'all kept')
  results.forEach((res, i) => t.same(plainClock(res.context), [[res.actor, res.counter, 100 + i]], 'each writer\'s context covers its own write only'))

  // a writer that keeps its returned context supersedes only its own earlier write
  const again = put(obj, { actor: X, context: results[3].context, value: Buffer.from('w3b'), nowMs: 200 })
  t.equal(again.actor, results[3].actor, 'back on the lane it is up to date on')
  t.same(again.obj.siblings.map(dotKey).sort(), [...obj.siblings.map(dotKey).filter(d => d !== dotKey(results[3])), dotKey(again)].sort())

  // every lane busy: the write is kept, and the writer gets back its own context
  const busy = put(obj, { actor: X, context: stale, value: Buffer.from('late'), nowMs: 300 })
  t.equal(busy.actor, X, 'lane 0')
  t.same(plainClock(busy.context), plainClock(stale), 'a context that does not claim the hidden-lane versions')
  t.equal(busy.obj.siblings.length, LANES_MAX_DEFAULT + 1)
  const single = put(obj, { actor: X, context: stale, value: Buffer.from('late'), nowMs: 300, lanesMax: 1 })
  t.equal(single.actor, X)
  t.same(plainClock(single.context), [])

  // the merged context resolves them all
  const resolved = put(busy.obj, { actor: ACTORS[1], context: objectClock(busy.obj), value: Buffer.from('resolved'), nowMs: 400 })
  t.same(resolved.obj.siblings.map(dotKey), [dotKey(resolved)])
  t.ok(resolved.context.size > 1, 'the resolving version remembers every lane it superseded')
})

t.test('regression: a writer without context, through a node that holds another writer\'s version', async t => {
  // Found by merge.spec.ts. With `returned context = ctx + {X: counter}` on the plain actor,
  // the context of step 3 covered step 2's version (X:1 <= X:2): step 4 hid it, and merging
  // the states in two groupings gave two different results.
  const [X, Y] = ACTORS
  const s1 = put(emptyObject(), { actor: Y, context: new Map(), value: Buffer.from('1'), nowMs: 1 }) // writer A via Y
  const s2 = put(emptyObject(), { actor: X, context: s1.context, value: Buffer.from('2'), nowMs: 2 }) // writer A via X
  const s3 = put(s2.obj, { actor: X, context: new Map(), value: Buffer.from('3'), nowMs: 3 }) // writer B, no context, via X
  t.notOk(covers(s3.context, s2.actor, s2.counter), 'B\'s context does not claim A\'s version')
  t.ok(covers(s3.context, s3.actor, s3.counter), 'but covers B\'s own')
  const s4 = put(s3.obj, { actor: X, context: s3.context, value: Buffer.from('4'), nowMs: 4 }) // B again
  t.same(s4.obj.siblings.map(dotKey).sort(), [dotKey(s2), dotKey(s4)].sort(), 'A\'s version stays; B\'s first is replaced')
  t.same(plain(merge(merge(s4.obj, s2.obj), s1.obj)), plain(merge(s4.obj, merge(s2.obj, s1.obj))))
})

t.test('a single writer that always writes with its last context never sees siblings', async t => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('put' as const), r: fc.nat({ max: REPLICAS - 1 }), tombstone: fc.boolean(), floor: fc.nat({ max: 3 }) }),
    fc.record({ kind: fc.constant('sync' as const), from: fc.nat({ max: REPLICAS - 1 }), to: fc.nat({ max: REPLICAS - 1 }) }),
    fc.record({ kind: fc.constant('deliver' as const), state: fc.nat(), to: fc.nat({ max: REPLICAS - 1 }) })
  )
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(step, { maxLength: 60 }), steps => {
    const replicas: VObject[] = Array.from({ length: REPLICAS }, emptyObject)
    const floors = new Array<number>(REPLICAS).fill(0)
    const states: VObject[] = [emptyObject()]
    let context: Clock = new Map()
    let last = ''
    let nowMs = 0
    for (const s of steps) {
      if (s.kind === 'put') {
        floors[s.r] += s.floor
        const res = put(replicas[s.r], { actor: ACTORS[s.r], context, value: s.tombstone ? null : Buffer.from(`${nowMs}`), nowMs: nowMs++, counterFloor: floors[s.r] })
        floors[s.r] = res.counter
        ok(res.actor === ACTORS[s.r], 'never needs a lane')
        context = res.context
        last = dotKey(res)
        replicas[s.r] = res.obj
        states.push(res.obj)
      } else {
        const from = s.kind === 'sync' ? replicas[s.from] : states[s.state % states.length]
        replicas[s.to] = merge(replicas[s.to], from)
        states.push(replicas[s.to])
      }
      for (const st of states.slice(-1)) ok(st.siblings.length <= 1, `siblings: ${st.siblings.map(dotKey).join(' ')}`)
    }
    const all = converge(states)
    deepStrictEqual(all.siblings.map(dotKey), last === '' ? [] : [last])
  }), runs))
})

t.test('truncation keeps the most recently updated entries of the context', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(clockArb, fc.integer({ min: 1, max: 12 }), (context, vclockMax) => {
    const res = put(emptyObject(), { actor: X, context, value: null, nowMs: 1, vclockMax })
    const ctx = res.obj.siblings[0].ctx
    ok(ctx.size === Math.min(context.size, vclockMax))
    ok(res.truncated === context.size - ctx.size)
    for (const [actor, e] of ctx) ok(context.get(actor) === e)
    const rank = (a: string): [number, string] => [(context.get(a) as { ts: number }).ts, a]
    for (const kept of ctx.keys()) {
      for (const dropped of [...context.keys()].filter(a => !ctx.has(a))) {
        const [tk, ak] = rank(kept)
        const [td, ad] = rank(dropped)
        ok(td < tk || (td === tk && ad < ak), `${dropped} dropped before ${kept}`)
      }
    }
    // the returned context is the truncated one plus the new dot
    deepStrictEqual(plainClock(res.context), plainClock(new Map([...ctx, [res.actor, { counter: res.counter, ts: 1 }]])))
  }), runs))

  const wide = clock(Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`n${i}#1`, [1, 100 + i]])))
  const res = put(emptyObject(), { actor: X, context: wide, value: null, nowMs: 1000 })
  t.equal(res.truncated, 15 - VCLOCK_MAX_DEFAULT, 'the default threshold is 10')
  t.same([...res.obj.siblings[0].ctx.keys()].sort(), Array.from({ length: 10 }, (_, i) => `n${i + 5}#1`).sort())
  const ctxRes = put(emptyObject(), { actor: X, context: wide, value: null, nowMs: 1000, vclockMax: 100 })
  t.equal(ctxRes.truncated, 0)
})

t.test('puts write tombstones and keep canonical order', async t => {
  const a = put(emptyObject(), { actor: 'b#1', context: new Map(), value: Buffer.from('x'), nowMs: 1 })
  const b = put(a.obj, { actor: 'a#1', context: new Map(), value: null, nowMs: 2 })
  const c = put(b.obj, { actor: 'c#1', context: new Map(), value: null, nowMs: 3 })
  t.same(c.obj.siblings.map(dotKey), ['a#1:1', 'b#1:1', 'c#1:1'])
  t.equal(c.obj.siblings[0].value, null)
  const d = put(c.obj, { actor: 'b#1', context: objectClock(c.obj), value: null, nowMs: 4 })
  t.same(d.obj.siblings.map(dotKey), ['b#1:2'], 'a DEL with the object clock leaves one tombstone')
})

t.test('put rejects what breaks its contract', async t => {
  const ok = { actor: X, context: new Map(), value: null, nowMs: 1 }
  const obj = emptyObject()
  t.throws(() => put(obj, { ...ok, actor: 'nope' }), InvalidActorError)
  t.throws(() => put(obj, { ...ok, actor: `${X}.1` }), InvalidActorError, 'a lane is not a coordinator')
  t.throws(() => put(obj, { ...ok, nowMs: -1 }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, nowMs: 1.5 }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, counterFloor: -1 }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, vclockMax: 0 }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, lanesMax: 0 }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, lanesMax: 101 }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, value: 'str' as unknown as Buffer }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, context: {} as unknown as Clock }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, context: clock({ 'bad actor': 1 }) }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, context: clock({ 'a#1': 0 }) }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, context: clock({ 'a#1': [1, -5] }) }), InvalidArgumentError)
  t.throws(() => put(obj, { ...ok, context: clock({ [X]: Number.MAX_SAFE_INTEGER }) }), CounterOverflowError)
  t.throws(() => put(obj, { ...ok, counterFloor: Number.MAX_SAFE_INTEGER }), { code: 'DYNAKV_COUNTER_OVERFLOW' })
  const top = put(obj, { ...ok, counterFloor: Number.MAX_SAFE_INTEGER - 1 })
  t.equal(top.counter, Number.MAX_SAFE_INTEGER, 'the last counter is usable')
})
