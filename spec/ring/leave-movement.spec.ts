// How many partitions a membership change moves, measured over random
// memberships (seeded, so each run measures the same sample).
import t from 'tap'
import { distinctNodeCount, movedPartitions } from '../../lib/ring/index.js'
import { MOVEMENT_CASES, countsOf, history, lastTwo, naiveViolations, seeded } from './helpers.js'

const RATIO_MAX = 1.15

t.test('a leave moves the leaving node\'s partitions, more only to keep windows distinct', async (t) => {
  for (const [q, n, runs] of MOVEMENT_CASES) {
    const random = seeded(q * 17 + n)
    const m = distinctNodeCount(q, n)
    const ratios: string[] = []
    for (let k = 2; k <= 15; k++) {
      let sum = 0
      let exact = 0
      let extraSum = 0
      for (let run = 0; run < runs; run++) {
        const members = history(k, random)
        const live = members.filter((x) => x.leftAt === null)
        const leaver = live[Math.floor(random() * live.length)]
        leaver.leftAt = 2000
        const [before, after] = lastTwo(members, q, n)
        const count = countsOf(before).get(leaver.name) ?? 0
        const moved = movedPartitions(before, after).length
        if (moved === count) exact++
        extraSum += moved - count
        sum += count === 0 ? 1 : moved / count
        t.equal(after.includes(leaver.name), false)
        if (k - 1 >= m && naiveViolations(after, n) !== 0) t.fail(`Q=${q} N=${n} k=${k}: violations after a leave`)
      }
      const mean = sum / runs
      ratios.push(`${k}:${mean.toFixed(2)}`)
      if (k - 1 < m) {
        // below M the ring only hands the node's partitions over
        t.equal(exact, runs, `Q=${q} N=${n} leave to k-1=${k - 1} < M: moves exactly the node's partitions`)
      } else if (k - 1 >= 2 * n) {
        // from 2N - 1 nodes on, some node has no partition near a vacant
        // one; one more leaves room for the counts as well. On small rings
        // a single extra move is a large ratio: allow one partition.
        const extra = extraSum / runs
        t.ok(mean <= RATIO_MAX || extra <= 1, `Q=${q} N=${n} leave from k=${k}: mean moved / count = ${mean.toFixed(3)}, extra ${extra.toFixed(2)}`)
      }
    }
    t.comment(`leave ratios (moved / leaving node's count) Q=${q} N=${n}: ${ratios.join(' ')}`)
  }
})

