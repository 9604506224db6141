// Sets, hashes and sorted sets under faults (spec/sim/collections.spec.ts), as
// a sweepable scenario: SADD/SREM, HSET/HDEL, ZADD/ZREM/ZINCRBY through random
// nodes with clocks skewed by ±100 ms on the seed's cluster shape; after
// healing, no acknowledged add lost unless a remove could have observed it.
// Then one contested member (contested): an add and a remove of the same set
// member on the two sides of a partition, the remove replying before the add
// is invoked, so observed-remove must keep the add. Random faults make that
// shape on few seeds (a remove-wins merge was found on 1 of 6); this makes it
// on every seed whose cluster can acknowledge a write on both sides (5 nodes,
// W=2; 4 nodes, W=1 — with 3 nodes and W=2 the lone side cannot).
//
// Knobs: writers (concurrent writing clients), steps (writes each at most). The
// contested member is the schedule's operation 'contested' (schedule.ts).
import { SimCluster } from '../harness.js'
import { divergentPartitions } from '../checkers.js'
import { CollectionHistory } from '../collections.js'
import type { Schedule } from '../schedule.js'
import { healAll, pick, primariesOf, scheduleOf, shapeOf, typedPlan, underFaults } from '../typed.js'
import type { Random } from '../../../lib/runtime/random.js'
import { failedCheckers, shrinkKnobs, type Outcome, type Params, type Scenario } from './scenario.js'

export interface CollectionRun {
  problems: string[]
  /** The checkers that found them. */
  failed: string[]
  h: CollectionHistory
  faults: string[]
  schedule: Schedule
}

export async function runCollections (seed: number, params: Params, schedule?: Schedule): Promise<CollectionRun> {
  const { nodes, r, w, wipe } = shapeOf(seed)
  const offsets = new Map<string, number>()
  const c = await SimCluster.create({ seed, nodes, r, w, partitions: 16, startMs: 1_000_000, clockOffsetMs: (name) => offsets.get(name) ?? 0 })
  try {
    const rnd = c.net.forkRandom()
    // Skewed clocks (±100 ms, the schedule's) from the start: they order concurrent writes (timestamps), nothing else.
    const plan = schedule ?? scheduleOf(seed, typedPlan(c.names, { wipe, writers: params.writers, steps: params.steps, skewMs: 100, scripted: ['contested'] }))
    for (const [n, ms] of Object.entries(plan.clockOffsetsMs)) offsets.set(n, ms)
    const h = new CollectionHistory(['s0', 's1', 'h0', 'h1', 'z0', 'z1'], ['a', 'b', 'c', 'd', 'e'])
    const ran = await underFaults(c, rnd, { schedule: plan, writers: params.writers, steps: params.steps, write: () => h.write(c, rnd), read: () => h.read(c, rnd) })
    const faults = [...ran.faults, ...plan.ops.includes('contested') ? await contested(c, h, rnd) : []]
    const found = { replies: h.problems, divergence: divergentPartitions(c), final: await h.checkFinal(c) }
    return { problems: Object.values(found).flat(), failed: failedCheckers(found), h, faults, schedule: ran.schedule }
  } finally {
    await c.stop()
  }
}

/**
 * Adds a member of s0 everywhere, cuts the cluster into {p1, p2} and {p3, the
 * rest} (the key's primaries), removes the member through p1, then adds it
 * through p3 once the remove has replied; heals. Returns what it did.
 */
async function contested (c: SimCluster, h: CollectionHistory, rnd: Random): Promise<string[]> {
  const key = 's0'
  const element = pick(rnd, h.pool)
  const p = primariesOf(c, key)
  const rest = c.running().filter(n => !p.includes(n))
  const done: string[] = []
  const member = async (node: string, add: boolean): Promise<void> => {
    const op = await c.settle(h.member(c, node, key, element, add))
    done.push(`${c.clock.now()} contested ${op.args.join(' ')} via ${node}: ${op.outcome}`)
  }
  await member(p[0], true)
  await c.run(200)
  c.net.partition([p[0], p[1]], [p[2], ...rest])
  done.push(`${c.clock.now()} partition ${p[0]},${p[1]} | ${[p[2], ...rest].join(',')}`)
  await c.run(1000) // each side sees the other down
  await member(p[0], false)
  await member(p[2], true)
  await healAll(c)
  return done
}

async function run (seed: number, params: Params, given?: Schedule): Promise<Outcome> {
  const { problems, failed, h, faults, schedule } = await runCollections(seed, params, given)
  return { problems: problems.length === 0 ? [] : [...problems, ...faults.map(f => `fault: ${f}`)], failed, schedule, stats: { required: h.required, increments: h.increments } }
}

export const collections: Scenario = {
  name: 'collections',
  about: 'writers: concurrent writing clients; steps: writes per client at most',
  defaults: { writers: 6, steps: 35 },
  run,
  smaller: (p) => shrinkKnobs(p, { writers: 1, steps: 1 })
}
