// Sets, hashes and sorted sets (docs/types.md "Collections") under partitions,
// crashes, a wiped replica, a lossy network and skewed clocks: SADD/SREM,
// HSET/HDEL, ZADD/ZREM/ZINCRBY through random nodes, reads along the way.
// After healing, the checker of spec/sim/collections.ts: no acknowledged add
// lost unless a remove that could have observed it ran, nothing seen that was
// never added, values and scores made of the writes, every acknowledged
// ZINCRBY counted unless a ZADD/ZREM could have replaced it, and every replica
// of a key holding the same bytes. DYNAKV_SEED=<n> replays one seed.
import t from 'tap'
import { collections, runCollections } from './scenarios/collections.js'
import { seedsFrom, shapeOf } from './typed.js'

const seeds = seedsFrom([1, 2, 3])

for (const seed of seeds) {
  t.test(`seed ${seed} (${JSON.stringify(shapeOf(seed))})`, async (t) => {
    const { problems, h, faults } = await runCollections(seed, collections.defaults)
    const writes = h.events.filter(e => e.op?.outcome === 'ok')
    t.ok(writes.length >= 100 && writes.some(e => !e.add), `enough acknowledged adds and removes to mean something (${h.log.summary()})`)
    t.ok(h.required >= 5, `the rule required elements to be present (${h.required} of ${h.keys.length * h.pool.length})`)
    t.same(problems, [], `no acknowledged add lost, nothing unwritten seen, replicas identical (replay with DYNAKV_SEED=${seed})`)
    if (problems.length > 0) t.comment([...faults, ...problems.slice(0, 30)].join('\n'))
    t.comment(`acknowledged ZINCRBYs the final scores had to count: ${h.increments}`)
  })
}
