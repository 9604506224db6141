// How many partitions a membership change moves, measured over random
// memberships (seeded, so each run measures the same sample).
import t from 'tap'
import { distinctNodeCount, movedPartitions } from '../../lib/ring/index.js'
import { MOVEMENT_CASES, countsOf, history, lastTwo, naiveViolations, seeded } from './helpers.js'

const RATIO_MAX = 1.15

t.test(`a join to k nodes moves at most ${RATIO_MAX} × Q/(k+1) on average`, async (t) => {
  for (const [q, n, runs] of MOVEMENT_CASES) {
    const random = seeded(q * 31 + n)
    const ratios: string[] = []
    let violations = 0
    for (let k = 1; k <= 15; k++) {
      let sum = 0
      for (let run = 0; run < runs; run++) {
        const members = history(k, random)
        members.push({ name: `new-${run}`, weight: 1, joinedAt: 1000, leftAt: null })
        const [before, after] = lastTwo(members, q, n)
        sum += movedPartitions(before, after).length / (q / (k + 1))
        if (k + 1 >= distinctNodeCount(q, n)) violations += naiveViolations(after, n)
      }
      const mean = sum / runs
      ratios.push(`${k}:${mean.toFixed(3)}`)
      t.ok(mean <= RATIO_MAX, `Q=${q} N=${n} k=${k}: mean moved / (Q/(k+1)) = ${mean.toFixed(3)}`)
    }
    t.equal(violations, 0, `Q=${q} N=${n}: no violation after any join to k+1 >= M`)
    t.comment(`join ratios Q=${q} N=${n}: ${ratios.join(' ')}`)
  }
})

t.test('weighted joins: moved / the new node\'s quota (measured, not bounded)', async (t) => {
  for (const [q, n] of [[256, 3], [1024, 3]]) {
    const random = seeded(q + n + 7)
    const ratios: string[] = []
    for (let k = 1; k <= 15; k += 2) {
      let sum = 0
      const runs = 10
      for (let run = 0; run < runs; run++) {
        const members = history(k, random, true)
        members.push({ name: `new-${run}`, weight: 1 + Math.floor(random() * 4), joinedAt: 1000, leftAt: null })
        const [before, after] = lastTwo(members, q, n)
        const taken = countsOf(after).get(`new-${run}`) ?? 0
        sum += movedPartitions(before, after).length / Math.max(1, taken)
      }
      ratios.push(`${k}:${(sum / runs).toFixed(2)}`)
    }
    t.comment(`weighted join ratios Q=${q} N=${n}: ${ratios.join(' ')}`)
    t.pass(`Q=${q} N=${n} measured`)
  }
})
