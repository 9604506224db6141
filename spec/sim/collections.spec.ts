// Sets, hashes and sorted sets (docs/types.md "Collections") under partitions,
// crashes, a wiped replica, a lossy network and skewed clocks: SADD/SREM,
// HSET/HDEL, ZADD/ZREM/ZINCRBY through random nodes, reads along the way.
// After healing, the checker of spec/sim/collections.ts: no acknowledged add
// lost unless a remove that could have observed it ran, nothing seen that was
// never added, values and scores made of the writes, every acknowledged
// ZINCRBY counted unless a ZADD/ZREM could have replaced it, and every replica
// of a key holding the same bytes. DYNAKV_SEED=<n> replays one seed.
import t from 'tap'
import type { Reply } from '../../lib/resp/reply.js'
import { CollectionHistory } from './collections.js'
import { collections, runCollections } from './scenarios/collections.js'
import { outcomeOf, seedsFrom, shapeOf } from './typed.js'

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

// The checker's order rule on a hand-made history whose events share one
// millisecond: a read may show an element only if an add of it was invoked
// before the read replied, in the log's order of events.
t.test('collections checker: an element seen is explained by an add invoked before the read replied, not by equal milliseconds', async (t) => {
  const history = (addBeforeReply: boolean): string[] => {
    const h = new CollectionHistory(['s0'], ['a', 'b'])
    let seq = 0
    const add = (element: string): void => {
      const invokedSeq = ++seq
      const reply: Reply = { type: 'int', value: 1 }
      h.events.push({ key: 's0', element, add: true, invokedMs: 12, op: { node: 'node1', args: ['SADD', 's0', element], invokedMs: 12, doneMs: 12, invokedSeq, doneSeq: ++seq, outcome: outcomeOf(reply), reply } })
    }
    add('a')
    const readInvoked = ++seq
    if (addBeforeReply) add('b') // concurrent with the read: it may show b
    const readDone = ++seq
    if (!addBeforeReply) add('b') // invoked in the same millisecond, after the read replied
    t.ok(readInvoked < readDone)
    h.observe('s0', { type: 'array', value: [{ type: 'bulk', value: 'a' }, { type: 'bulk', value: 'b' }] }, readDone, 'SMEMBERS s0 via node1 at 12')
    return h.checkSeen()
  }
  t.same(history(true), [], 'valid: b was added concurrently with the read')
  t.same(history(false), ['SMEMBERS s0 via node1 at 12: b is there, but no add of it could have happened'], 'invalid: b shown by a read that replied before any add of b was invoked')
})
