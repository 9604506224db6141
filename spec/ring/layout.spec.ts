import t from 'tap'
import fc from 'fast-check'
import { distinctNodeCount, distinctnessViolations } from '../../lib/ring/index.js'
import { distinctFeasible, spreadLayout, windowSize } from '../../lib/ring/layout.js'
import { naiveDistinctNodeCount, naiveViolations } from './helpers.js'

t.test('distinctnessViolations counts windows with a repeated node', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { minLength: 1, maxLength: 40 }),
    fc.integer({ min: 1, max: 45 }),
    (owners, n) => distinctnessViolations(owners, n) === naiveViolations(owners, n)
  ), { numRuns: 1000 })
  t.equal(distinctnessViolations([], 3), 0)
  t.equal(distinctnessViolations(['a', 'b', 'c', 'a', 'b', 'c'], 3), 0)
  t.equal(distinctnessViolations(['a', 'b', 'a', 'b'], 3), 4)
  t.equal(distinctnessViolations(['a', 'b', 'c', 'a'], 3), 2)
  t.throws(() => distinctnessViolations(['a'], 0), { code: 'DYNAKV_RING_REPLICA_COUNT' })
})

t.test('distinctNodeCount: the fewest equal-weight nodes that allow distinct windows', async (t) => {
  for (let b = 0; b <= 12; b++) {
    for (let n = 1; n <= 9; n++) {
      const q = 2 ** b
      t.equal(distinctNodeCount(q, n), naiveDistinctNodeCount(q, n), `Q=${q} N=${n}`)
    }
  }
  // the values the claim documentation quotes
  t.equal(distinctNodeCount(64, 3), 4)
  t.equal(distinctNodeCount(1024, 2), 2)
  t.equal(distinctNodeCount(1024, 1), 1)
  t.equal(distinctNodeCount(256, 5), 6)
  t.equal(distinctNodeCount(8, 5), 8)
  t.equal(windowSize(4, 5), 4)
  t.ok(distinctFeasible(16, 64, 3))
  t.notOk(distinctFeasible(22, 64, 3), 'k = N = 3, Q = 64: 22 partitions cannot be 3 apart')
})

t.test('spreadLayout: counts kept, and distinct windows whenever max count · w <= Q', async (t) => {
  const countsArb = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 })
    .map((c) => c.sort((a, b) => b - a))
  fc.assert(fc.property(countsArb, (counts) => {
    const ring = spreadLayout(counts)
    const q = counts.reduce((a, b) => a + b, 0)
    const owners = Array.from(ring, (s) => String(s))
    const got = counts.map((_, s) => owners.filter((o) => o === String(s)).length)
    const w = Math.floor(q / counts[0]) // the largest window the counts allow
    return ring.length === q && got.every((c, s) => c === counts[s]) && naiveViolations(owners, w) === 0
  }), { numRuns: 500 })
  // the example drawn in layout.ts
  t.same(Array.from(spreadLayout([3, 3, 2, 2, 2])), [0, 1, 2, 3, 0, 1, 2, 4, 0, 1, 3, 4])
  t.same(Array.from(spreadLayout([])), [])
})
