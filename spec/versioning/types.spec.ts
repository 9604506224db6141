// One property suite, run on every convergent type (riak_dt's habit): strings
// (a newest-wins register with expiry), integer and float counters, observed-
// remove set members, and a key whose type conflicts (markers vs values vs
// deletes). For each type, random replicated histories (writes at three
// replicas, arbitrary delivery of any earlier state, the sweep's strip) are run
// and checked:
//   - merge is commutative, associative and idempotent on every reachable state,
//     and any merge order converges to the same bytes;
//   - the converged value equals what the history's ground truth (which writes
//     saw which, tracked as sets) says it must be;
//   - stripping expired versions never changes what a reader sees;
//   - every state survives the codec unchanged.
import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, equal, ok } from 'node:assert'
import {
  anchor, decodeObject, elementState, encodeObject, keyState, merge, strip, type Sibling, type VObject
} from '../../lib/versioning/index.js'
import { dotKey } from './fixtures/history.js'
import {
  convergeAll, historyOf, incrOp, markerOp, setOp, simulateTyped, stripOp, type TypedHistory, type Written
} from './fixtures/typed.js'

interface TypeModel {
  name: string
  history: fc.Arbitrary<Parameters<typeof simulateTyped>[0]>
  /** What the converged object reads as, as the ground truth says. */
  expected (h: TypedHistory): string | null
  /** What it reads as. */
  actual (final: VObject, nowMs: number): string | null
}

const written = (h: TypedHistory, s: Sibling): Written => {
  const id = h.idOf.get(dotKey(s))
  if (id === undefined) throw new Error(`a sibling no write made: ${dotKey(s)}`)
  return h.writes.get(id) as Written
}

/** Writes no other write had seen: what survives once everything is merged. */
function maximal (h: TypedHistory, kinds: ReadonlyArray<Written['op']['kind']>): Written[] {
  const all = [...h.writes.values()]
  const seenByAny = new Set<string>()
  for (const w of all) for (const id of w.seen) seenByAny.add(id)
  return all.filter(w => kinds.includes(w.op.kind) && !seenByAny.has(w.id))
}

/** The sum of the counter writes the anchor's writer had not seen (all of them without an anchor). */
function unseenSum (h: TypedHistory, a: Sibling | undefined): { sum: number, any: boolean } {
  const seen = a === undefined ? new Set<string>() : written(h, a).seen
  let sum = 0
  let any = false
  for (const w of h.writes.values()) {
    if (w.op.kind !== 'incr' || seen.has(w.id)) continue
    sum += w.delta
    any = true
  }
  return { sum, any }
}

const str = (b: Buffer | null): string | null => b === null ? null : b.toString()

const MODELS: TypeModel[] = [
  {
    name: 'integer counter (INCR, SET, DEL)',
    history: historyOf(incrOp(), incrOp(), setOp(fc.oneof(fc.integer({ min: -50, max: 50 }).map(String), fc.constant(null)))),
    expected (h) {
      const final = convergeAll(h.states)
      const a = anchor(final)
      const { sum, any } = unseenSum(h, a)
      if (a !== undefined && a.value !== null) return String(BigInt(a.value.toString()) + BigInt(sum))
      return any ? String(sum) : null
    },
    actual: (final, now) => str(keyState(final, now).value)
  },
  {
    name: 'float counter (ZINCRBY over ZADD scores)',
    history: historyOf(incrOp(true), setOp(fc.integer({ min: -40, max: 40 }).map(n => String(n / 4)))),
    expected (h) {
      const final = convergeAll(h.states)
      const a = anchor(final)
      const { sum, any } = unseenSum(h, a)
      if (a !== undefined && a.value !== null) return String(Number(a.value.toString()) + sum)
      return any ? String(sum) : null
    },
    actual: (final, now) => {
      const v = keyState(final, now).value
      return v === null ? null : String(Number(v.toString()))
    }
  },
  {
    name: 'observed-remove set member (SADD, SREM)',
    history: historyOf(setOp(fc.constant('')), setOp(fc.constant(null))),
    expected (h) {
      // Live iff some add was seen by no remove.
      const all = [...h.writes.values()]
      const removes = all.filter(w => w.op.kind === 'set' && w.op.value === null)
      const live = all.some(w => w.op.kind === 'set' && w.op.value !== null && !removes.some(r => r.seen.has(w.id)))
      return live ? '' : null
    },
    actual: (final) => str(elementState(final).value)
  },
  {
    name: 'string register with expiry (SET, SET EX, DEL, the sweep)',
    history: historyOf(setOp(fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.constant(null)), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 }))), stripOp),
    expected (h) {
      // The newest of the writes nobody saw: ts, then the larger expiry, then bytes, a value over a delete, then dot.
      const candidates = maximal(h, ['set']).map(w => {
        const op = w.op as Extract<Written['op'], { kind: 'set' }>
        return { w, value: op.value, expireAt: op.ttl > 0 && op.value !== null ? w.ts + op.ttl : 0, dot: h.dotOf.get(w.id) as string }
      })
      candidates.sort((x, y) => x.w.ts - y.w.ts || x.expireAt - y.expireAt ||
        (x.value !== null && y.value !== null ? Buffer.compare(Buffer.from(x.value), Buffer.from(y.value)) : (x.value === null ? 0 : 1) - (y.value === null ? 0 : 1)) ||
        (x.dot < y.dot ? -1 : 1))
      const best = candidates[candidates.length - 1]
      if (best === undefined || best.value === null) return null
      return best.expireAt > 0 && best.expireAt <= h.nowMs ? null : best.value
    },
    actual: (final, now) => str(keyState(final, now).value)
  },
  {
    name: 'type conflict (collection markers, values, deletes)',
    history: historyOf(markerOp, setOp(fc.oneof(fc.constant('v'), fc.constant(null))), stripOp),
    expected (h) {
      // A marker nobody saw wins over deletes; among markers and values, the newest.
      const top = maximal(h, ['set', 'marker']).map(w => {
        const op = w.op as Extract<Written['op'], { kind: 'set' | 'marker' }>
        const isMarker = op.kind === 'marker'
        const isValue = op.kind === 'set' && op.value !== null
        const expireAt = op.ttl > 0 && (isMarker || isValue) ? w.ts + op.ttl : 0
        return { w, type: isMarker ? op.marker : isValue ? 'string' : 'none', expireAt, dot: h.dotOf.get(w.id) as string }
      })
      const markers = top.some(x => x.type !== 'string' && x.type !== 'none')
      const pool = markers ? top.filter(x => x.type !== 'none' || x.expireAt > 0) : top
      const rank = (x: typeof pool[number]): number => x.type === 'none' ? 0 : x.type === 'string' ? 1 : 2
      pool.sort((x, y) => x.w.ts - y.w.ts || x.expireAt - y.expireAt || rank(x) - rank(y) ||
        (x.type < y.type ? -1 : x.type > y.type ? 1 : 0) || (x.dot < y.dot ? -1 : 1))
      const best = pool[pool.length - 1]
      if (best === undefined || (best.expireAt > 0 && best.expireAt <= h.nowMs)) return 'none'
      return best.type
    },
    actual: (final, now) => keyState(final, now).type
  }
]

const runs = { numRuns: 300 }

for (const model of MODELS) {
  t.test(model.name, async t => {
    t.doesNotThrow(() => fc.assert(fc.property(model.history, fc.nat(), fc.nat(), fc.nat(), (ops, i, j, k) => {
      const h = simulateTyped(ops)
      const { states } = h
      const a = states[i % states.length]
      const b = states[j % states.length]
      const c = states[k % states.length]
      const bytes = (o: VObject): Buffer => encodeObject(o)
      deepStrictEqual(bytes(merge(a, b)), bytes(merge(b, a)), 'commutative')
      deepStrictEqual(bytes(merge(merge(a, b), c)), bytes(merge(a, merge(b, c))), 'associative')
      deepStrictEqual(bytes(merge(a, a)), bytes(a), 'idempotent')
      for (const s of [a, b, c]) deepStrictEqual(bytes(decodeObject(bytes(s))), bytes(s), 'the codec round trip')
      // Any order of merging converges to the same bytes.
      const forward = convergeAll(states)
      const backward = convergeAll(states.slice().reverse())
      deepStrictEqual(bytes(forward), bytes(backward), 'order-independent convergence')
      equal(model.actual(forward, h.nowMs), model.expected(h), 'the value the ground truth says')
      // The sweep's strip at any time up to now changes nothing a reader sees, then or later.
      const at = h.nowMs - (i % 30)
      const stripped = strip(forward, at)
      equal(model.actual(stripped, h.nowMs), model.actual(forward, h.nowMs), 'strip is invisible')
      ok(keyState(stripped, at).type === keyState(forward, at).type)
    }), runs))
  })
}

t.test('a mutated merge is caught: the suite can fail', async t => {
  // Dropping one replica's state before converging loses writes; the counter model must notice.
  const model = MODELS[0]
  const failed = fc.check(fc.property(model.history, (ops) => {
    const h = simulateTyped(ops)
    const lossy = convergeAll(h.states.filter(s => !s.siblings.some(x => x.total !== undefined)))
    return model.actual(lossy, h.nowMs) === model.expected(h)
  }), { numRuns: 300 })
  t.ok(failed.failed, 'losing the states that hold increments is detected')
})
