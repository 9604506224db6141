// Counters (docs/types.md "Counters") under partitions, crashes, a wiped
// replica and a lossy network: INCR/DECR/INCRBY/DECRBY (and DELs on one key) through
// random nodes, GETs along the way. After healing, the checker of
// spec/sim/counters.ts: every acknowledged increment no DEL could have seen
// counted exactly once, every other one at most once, nothing else, and every
// replica holding the same bytes.
// DYNAKV_SEED=<n> replays one seed; DYNAKV_SEEDS=a-b sweeps a range.
import t from 'tap'
import { SimCluster } from './harness.js'
import { divergentPartitions } from './checkers.js'
import { CounterHistory } from './counters.js'
import { seedsFrom, shapeOf, underFaults } from './typed.js'

const seeds = seedsFrom([1, 2, 3])

async function scenario (seed: number): Promise<{ problems: string[], h: CounterHistory, faults: string[] }> {
  const { nodes, r, w, wipe } = shapeOf(seed)
  const c = await SimCluster.create({ seed, nodes, r, w, partitions: 16 })
  try {
    const rnd = c.net.forkRandom()
    const h = new CounterHistory(['c0', 'c1', 'c2', 'c3'])
    const faults = await underFaults(c, rnd, { wipe, writers: 5, steps: 30, write: () => h.randomIncrement(c, rnd), read: () => h.read(c, rnd), more: () => h.free().length > 0 })
    return { problems: [...h.problems, ...divergentPartitions(c), ...await h.checkFinal(c)], h, faults }
  } finally {
    await c.stop()
  }
}

for (const seed of seeds) {
  t.test(`seed ${seed} (${JSON.stringify(shapeOf(seed))})`, async (t) => {
    const { problems, h, faults } = await scenario(seed)
    t.ok(h.acknowledged() >= 50 && h.required >= 40, `enough acknowledged increments to mean something (${h.log.summary()}; ${h.required} had to count exactly once)`)
    t.same(problems, [], `every acknowledged increment counted exactly once (replay with DYNAKV_SEED=${seed})`)
    if (problems.length > 0) t.comment([...faults, ...problems.slice(0, 30)].join('\n'))
  })
}
