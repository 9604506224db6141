// The sweep and the shrinker on a scenario whose failures are known: it fails
// when knob a >= 3 and bit 2 of the mask is set, on even seeds only.
import t from 'tap'
import { shrink, sweep } from './sweep.js'
import { shrinkKnobs, type Scenario } from './scenarios/scenario.js'

const known: Scenario = {
  name: 'known',
  about: 'a: a count; m: a mask',
  defaults: { a: 20, m: 15 },
  run: async (seed, p) => ({ problems: seed % 2 === 0 && p.a >= 3 && (p.m & 4) !== 0 ? [`a=${p.a} m=${p.m}`] : [], stats: {} }),
  smaller: (p) => shrinkKnobs(p, { a: 0 }, ['m'])
}

t.test('a sweep reports each failing seed with its replay command, and its smallest failing knobs', async (t) => {
  const lines: string[] = []
  const r = await sweep({ scenarios: [known], seeds: [1, 2, 3, 4], log: (l) => lines.push(l) })
  t.equal(r.seeds, 4)
  t.same(r.failures.map(f => f.seed), [2, 4])
  t.equal(r.failures[0].replay, 'npm run sim -- --scenario known --seed 2')
  t.same(r.failures[0].shrunk?.params, { a: 3, m: 4 }, 'shrunk to the boundary')
  t.equal(r.failures[0].shrunk?.replay, 'npm run sim -- --scenario known --seed 2 --param a=3 --param m=4')
  t.ok(lines.some(l => l.includes('replay: npm run sim -- --scenario known --seed 4')))
})

t.test('shrinking stops at its replay budget and never returns a passing run', async (t) => {
  const failed = { scenario: 'known', seed: 2, params: known.defaults, problems: ['x'], failed: [], plant: null, schedule: null, replay: '' }
  const small = await shrink(known, failed, 3)
  t.equal(small.runs, 3)
  t.ok(small.params.a >= 3 && (small.params.m & 4) !== 0, JSON.stringify(small.params))
  t.same((await known.run(2, small.params)).problems.length, 1)
})

t.test('shrinking keeps a reduction only while the same checker fails', async (t) => {
  // Checker 'big' fails while a >= 3; below that another checker ('small') fails instead.
  const two: Scenario = { ...known, name: 'two', run: async (_seed, p) => ({ problems: [`a=${p.a}`], failed: [p.a >= 3 ? 'big' : 'small'], stats: {} }) }
  const r = await sweep({ scenarios: [two], seeds: [1] })
  t.same(r.failures[0].failed, ['big'])
  t.equal(r.failures[0].shrunk?.params.a, 3, 'not below 3, where only another checker fails')
  t.same(r.failures[0].shrunk?.failed, ['big'])
})

t.test('a scenario that throws has failed, and the sweep goes on', async (t) => {
  const throwing: Scenario = { ...known, name: 'throwing', run: async (seed) => { if (seed === 1) throw new Error('boom'); return { problems: [], stats: {} } } }
  const r = await sweep({ scenarios: [throwing], seeds: [1, 2], shrink: false })
  t.equal(r.runs, 2)
  t.match(r.failures[0].problems[0], /threw: Error: boom/)
})

t.test('a time budget ends the sweep', async (t) => {
  const r = await sweep({ scenarios: [known], seeds: [1, 2, 3], timeBudgetMs: 0 })
  t.equal(r.seeds, 0)
})
