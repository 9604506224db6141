// Sets, hashes and sorted sets (docs/types.md "Collections") under partitions,
// crashes, a wiped replica, a lossy network and skewed clocks: SADD/SREM,
// HSET/HDEL, ZADD/ZREM/ZINCRBY through random nodes, reads along the way.
// After healing, the checker of spec/sim/collections.ts: no acknowledged add
// lost unless a remove that could have observed it ran, nothing seen that was
// never added, values and scores made of the writes, every acknowledged
// ZINCRBY counted unless a ZADD/ZREM could have replaced it, and every replica
// of a key holding the same bytes. DYNAKV_SEED=<n> replays one seed.
import t from 'tap'
import { SimCluster } from './harness.js'
import { divergentPartitions } from './checkers.js'
import { CollectionHistory } from './collections.js'
import { seedsFrom, shapeOf, underFaults } from './typed.js'

const seeds = seedsFrom([1, 2, 3])

async function scenario (seed: number): Promise<{ problems: string[], h: CollectionHistory, faults: string[] }> {
  const { nodes, r, w, wipe } = shapeOf(seed)
  const offsets = new Map<string, number>()
  const c = await SimCluster.create({ seed, nodes, r, w, partitions: 16, startMs: 1_000_000, clockOffsetMs: (name) => offsets.get(name) ?? 0 })
  try {
    const rnd = c.net.forkRandom()
    // Skewed clocks (±100 ms) from the start: they order concurrent writes (timestamps), nothing else.
    for (const n of c.names) offsets.set(n, rnd.int(201) - 100)
    const h = new CollectionHistory(['s0', 's1', 'h0', 'h1', 'z0', 'z1'], ['a', 'b', 'c', 'd', 'e'])
    const faults = await underFaults(c, rnd, { wipe, writers: 6, steps: 35, write: () => h.write(c, rnd), read: () => h.read(c, rnd) })
    const problems = [...h.problems, ...divergentPartitions(c), ...await h.checkFinal(c)]
    return { problems, h, faults }
  } finally {
    await c.stop()
  }
}

for (const seed of seeds) {
  t.test(`seed ${seed} (${JSON.stringify(shapeOf(seed))})`, async (t) => {
    const { problems, h, faults } = await scenario(seed)
    const writes = h.events.filter(e => e.op?.outcome === 'ok')
    t.ok(writes.length >= 100 && writes.some(e => !e.add), `enough acknowledged adds and removes to mean something (${h.log.summary()})`)
    t.ok(h.required >= 5, `the rule required elements to be present (${h.required} of ${h.keys.length * h.pool.length})`)
    t.same(problems, [], `no acknowledged add lost, nothing unwritten seen, replicas identical (replay with DYNAKV_SEED=${seed})`)
    if (problems.length > 0) t.comment([...faults, ...problems.slice(0, 30)].join('\n'))
    t.comment(`acknowledged ZINCRBYs the final scores had to count: ${h.increments}`)
  })
}
