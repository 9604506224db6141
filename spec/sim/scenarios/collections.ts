// Sets, hashes and sorted sets under faults (spec/sim/collections.spec.ts), as
// a sweepable scenario: SADD/SREM, HSET/HDEL, ZADD/ZREM/ZINCRBY through random
// nodes with clocks skewed by ±100 ms on the seed's cluster shape; after
// healing, no acknowledged add lost unless a remove could have observed it.
//
// Knobs: writers (concurrent writing clients), steps (writes each at most).
import { SimCluster } from '../harness.js'
import { divergentPartitions } from '../checkers.js'
import { CollectionHistory } from '../collections.js'
import { shapeOf, underFaults } from '../typed.js'
import { shrinkKnobs, type Outcome, type Params, type Scenario } from './scenario.js'

export interface CollectionRun {
  problems: string[]
  h: CollectionHistory
  faults: string[]
}

export async function runCollections (seed: number, params: Params): Promise<CollectionRun> {
  const { nodes, r, w, wipe } = shapeOf(seed)
  const offsets = new Map<string, number>()
  const c = await SimCluster.create({ seed, nodes, r, w, partitions: 16, startMs: 1_000_000, clockOffsetMs: (name) => offsets.get(name) ?? 0 })
  try {
    const rnd = c.net.forkRandom()
    // Skewed clocks (±100 ms) from the start: they order concurrent writes (timestamps), nothing else.
    for (const n of c.names) offsets.set(n, rnd.int(201) - 100)
    const h = new CollectionHistory(['s0', 's1', 'h0', 'h1', 'z0', 'z1'], ['a', 'b', 'c', 'd', 'e'])
    const faults = await underFaults(c, rnd, { wipe, writers: params.writers, steps: params.steps, write: () => h.write(c, rnd), read: () => h.read(c, rnd) })
    return { problems: [...h.problems, ...divergentPartitions(c), ...await h.checkFinal(c)], h, faults }
  } finally {
    await c.stop()
  }
}

async function run (seed: number, params: Params): Promise<Outcome> {
  const { problems, h, faults } = await runCollections(seed, params)
  return { problems: problems.length === 0 ? [] : [...problems, ...faults.map(f => `fault: ${f}`)], stats: { required: h.required, increments: h.increments } }
}

export const collections: Scenario = {
  name: 'collections',
  about: 'writers: concurrent writing clients; steps: writes per client at most',
  defaults: { writers: 6, steps: 35 },
  run,
  smaller: (p) => shrinkKnobs(p, { writers: 1, steps: 1 })
}
