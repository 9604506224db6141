// The clocks against the truth: the simulator tracks, with plain sets of dots,
// what each replica state and each client has causally seen and what each
// write superseded. Clocks must say exactly the same thing.

import t from 'tap'
import fc from 'fast-check'
import { ok } from 'node:assert'
import { covers, objectClock, type Clock } from '../../lib/versioning/index.js'
import { dotKey, historyArb, simulate, type History } from './fixtures/history.js'

const runs = { numRuns: 300 }

function coverage (clock: Clock, h: History): string[] {
  return h.issued.filter(d => covers(clock, d.actor, d.counter)).map(dotKey).sort()
}

function check (h: History): void {
  // a context covers exactly the versions its holder has seen: never one it has not (no hiding)
  h.contexts.forEach((ctx, i) => {
    const known = [...h.knowledge[i]].sort()
    ok(JSON.stringify(coverage(ctx, h)) === JSON.stringify(known), `context ${i} covers ${coverage(ctx, h)} but its holder saw ${known}`)
  })
  h.states.forEach((state, i) => {
    // a state's clock covers exactly its causal past
    const past = [...h.pasts[i]].sort()
    ok(JSON.stringify(coverage(objectClock(state), h)) === JSON.stringify(past), `state ${i} clock`)
    // and its siblings are exactly the versions of that past that no version of that past superseded
    const live = past.filter(d => ![...h.pasts[i]].some(e => h.supersedes.get(e)?.has(d) === true))
    ok(JSON.stringify(state.siblings.map(dotKey).sort()) === JSON.stringify(live), `state ${i} siblings`)
  })
}

t.test('clocks, contexts and sibling sets match the causal history', async t => {
  let inexact = 0
  t.doesNotThrow(() => fc.assert(fc.property(historyArb, ops => {
    const h = simulate(ops)
    inexact += h.inexact
    check(h)
  }), runs), 'with lanes')
  t.comment(`puts that found every lane busy: ${inexact} (put.spec.ts tests that case on purpose)`)

  t.doesNotThrow(() => fc.assert(fc.property(historyArb, ops => check(simulate(ops, { lanesMax: 1 }))), runs),
    'with a single lane: a writer whose context missed a version of the node gets its own context back')
  t.doesNotThrow(() => fc.assert(fc.property(historyArb, ops => check(simulate(ops, { lanesMax: 2 }))), runs),
    'with two lanes')
})
