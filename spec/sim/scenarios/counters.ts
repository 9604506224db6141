// Counters under faults (spec/sim/counters.spec.ts), as a sweepable scenario:
// INCR/DECR/INCRBY/DECRBY (and DELs) through random nodes on the seed's
// cluster shape (shapeOf: 3 or 5 nodes with W=R=2 and a wiped replica, or 4
// nodes with W=R=1), while six fault episodes run; after healing, every
// acknowledged increment no DEL could have seen counted exactly once.
//
// Knobs: writers (concurrent incrementing clients), steps (increments each at most).
import { SimCluster } from '../harness.js'
import { divergentPartitions } from '../checkers.js'
import { CounterHistory } from '../counters.js'
import type { Schedule } from '../schedule.js'
import { scheduleOf, shapeOf, typedPlan, underFaults } from '../typed.js'
import { failedCheckers, shrinkKnobs, type Outcome, type Params, type Scenario } from './scenario.js'

export interface CounterRun {
  problems: string[]
  /** The checkers that found them. */
  failed: string[]
  h: CounterHistory
  faults: string[]
  schedule: Schedule
}

export async function runCounters (seed: number, params: Params, onCluster: (c: SimCluster) => void = () => {}, schedule?: Schedule): Promise<CounterRun> {
  const { nodes, r, w, wipe } = shapeOf(seed)
  const c = await SimCluster.create({ seed, nodes, r, w, partitions: 16 })
  try {
    onCluster(c)
    const rnd = c.net.forkRandom()
    const h = new CounterHistory(['c0', 'c1', 'c2', 'c3'])
    const plan = schedule ?? scheduleOf(seed, typedPlan(c.names, { wipe, writers: params.writers, steps: params.steps }))
    const ran = await underFaults(c, rnd, { schedule: plan, writers: params.writers, steps: params.steps, write: () => h.randomIncrement(c, rnd), read: () => h.read(c, rnd), more: () => h.free().length > 0 })
    const found = { replies: h.problems, divergence: divergentPartitions(c), counts: await h.checkFinal(c) }
    return { problems: Object.values(found).flat(), failed: failedCheckers(found), h, faults: ran.faults, schedule: ran.schedule }
  } finally {
    await c.stop()
  }
}

async function run (seed: number, params: Params, given?: Schedule): Promise<Outcome> {
  const { problems, failed, h, faults, schedule } = await runCounters(seed, params, () => {}, given)
  return { problems: problems.length === 0 ? [] : [...problems, ...faults.map(f => `fault: ${f}`)], failed, schedule, stats: { acks: h.acknowledged(), required: h.required } }
}

export const counters: Scenario = {
  name: 'counters',
  about: 'writers: concurrent incrementing clients; steps: increments per client at most',
  defaults: { writers: 5, steps: 30 },
  run,
  smaller: (p) => shrinkKnobs(p, { writers: 1, steps: 1 })
}
