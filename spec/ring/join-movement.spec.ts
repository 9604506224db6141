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

// Weighted joins: the new node takes its weighted share of Q (Q·w/W, within
// one partition), every old node ends within one of its own new share and
// none gains a partition, and the join moves little more than what it takes. As with leaves, keeping N-windows
// distinct costs extra moves while k is small (k ≤ 2N−1 here: up to 1.51×);
// from 2N nodes on a join moves what the new node takes (measured ≤ 1.02×).
const WEIGHTED_RATIO_MAX = 1.6
const WEIGHTED_RATIO_MAX_LARGE = 1.1

t.test('weighted joins: the new node takes its weighted share and moves little more than that', async (t) => {
  for (const [q, n] of [[256, 3], [1024, 3]]) {
    const random = seeded(q + n + 7)
    const ratios: string[] = []
    for (let k = 1; k <= 15; k += 2) {
      let sum = 0
      let offShare = 0
      const gained: string[] = []
      const offOldShare: string[] = []
      const runs = 10
      for (let run = 0; run < runs; run++) {
        const members = history(k, random, true)
        const weight = 1 + Math.floor(random() * 4)
        members.push({ name: `new-${run}`, weight, joinedAt: 1000, leftAt: null })
        const [before, after] = lastTwo(members, q, n)
        const taken = countsOf(after).get(`new-${run}`) ?? 0
        const share = q * weight / members.filter(m => m.leftAt === null).reduce((w, m) => w + m.weight, 0)
        if (Math.abs(taken - share) >= 1) offShare++
        const moved = movedPartitions(before, after).length
        if (moved < taken) t.fail(`Q=${q} k=${k}: ${moved} moved, fewer than the ${taken} the new node took`)
        // Only what had to move moved: no old node gains a partition (a join only takes
        // away) beyond its new share rounded up (rounding may hand it one), and each old
        // node keeps its own new weighted share, within one.
        const [countsBefore, countsAfter] = [countsOf(before), countsOf(after)]
        const totalWeight = members.filter(m => m.leftAt === null).reduce((w, m) => w + m.weight, 0)
        for (const m of members.filter(m => m.leftAt === null && m.name !== `new-${run}`)) {
          const [had, has] = [countsBefore.get(m.name) ?? 0, countsAfter.get(m.name) ?? 0]
          if (has > had && has > Math.ceil(q * m.weight / totalWeight)) gained.push(`Q=${q} k=${k} run ${run}: ${m.name} went from ${had} to ${has}`)
          if (Math.abs(has - q * m.weight / totalWeight) >= 1) offOldShare.push(`Q=${q} k=${k} run ${run}: ${m.name} (weight ${m.weight} of ${totalWeight}) holds ${has}`)
        }
        sum += moved / Math.max(1, taken)
      }
      const mean = sum / runs
      ratios.push(`${k}:${mean.toFixed(2)}`)
      t.equal(offShare, 0, `Q=${q} N=${n} k=${k}: the new node takes Q·w/W rounded, in every run`)
      t.same(gained, [], `Q=${q} N=${n} k=${k}: no old node gains a partition beyond its new share rounded up`)
      t.same(offOldShare, [], `Q=${q} N=${n} k=${k}: every old node keeps Q·w/W of the new weights, within one`)
      t.ok(mean <= (k >= 2 * n ? WEIGHTED_RATIO_MAX_LARGE : WEIGHTED_RATIO_MAX), `Q=${q} N=${n} k=${k}: mean moved / taken = ${mean.toFixed(2)}`)
    }
    t.comment(`weighted join ratios Q=${q} N=${n}: ${ratios.join(' ')}`)
  }
})
