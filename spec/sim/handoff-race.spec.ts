// Ownership hand-off racing replica writes (Riak's lost writes during handoff),
// made to happen on purpose with held frames instead of by machine load:
//
//   leave  node1 coordinates a write of K (partition p) on the old ring: its
//          replica write to the leaver is held until the leaver has handed p off
//          and is busy with a later partition (that batch held too); the write to
//          the third primary is held for good, so W=2 needs a second copy besides
//          node1's. The leaver must not store K there and then report itself
//          removed: the operator stops it as soon as it does.
//   join   the old owner of a partition the joiner took gets, after its transfer,
//          a replica write node3 sent on the old ring (held until then; the one
//          to the third primary held for good). It must refuse it, and node3
//          must take that as an answer and write to the new owner instead.
//
// Anti-entropy is off: once hand-offs and hints finish, every acknowledged write
// must already have W copies on the key's current primaries.
import t from 'tap'
import { SimCluster } from './harness.js'
import { History } from './checkers.js'
import { covers } from '../../lib/versioning/index.js'
import { partitionEnd, partitionStart } from '../../lib/ring/hash.js'
import { Ring, claim } from '../../lib/ring/index.js'
import type { DynakvNode } from '../../lib/node/node.js'

const W = 2
const ARGS = ['--ae-interval-ms', '0', '--request-timeout-ms', '2000']

/** The first key named prefix<i> that falls in partition p. */
function keyIn (node: DynakvNode, p: number, prefix: string): string {
  for (let i = 0; i < 100_000; i++) {
    if (node.ref(Buffer.from(`${prefix}${i}`)).partition === p) return `${prefix}${i}`
  }
  throw new Error(`no key in partition ${p}`)
}

/** Runs virtual time in small steps until cond holds (bounded). */
async function until (c: SimCluster, what: string, cond: () => boolean, maxMs = 30_000): Promise<void> {
  for (let ms = 0; ms < maxMs; ms += 5) {
    if (cond()) return
    await c.run(5)
  }
  throw new Error(`${what} did not happen within ${maxMs} ms`)
}

/** Keys this node's store holds in partition p (after its queued writes are durable). */
async function heldIn (c: SimCluster, name: string, p: number): Promise<number> {
  const node = c.node(name)
  await c.settle(node.local.engine.flushed())
  const q = node.config.partitions
  return (await c.settle(node.store.range('data', { gte: partitionStart(p, q), lt: partitionEnd(p, q) ?? undefined, limit: 10_000 }))).length
}

async function holdsNothing (c: SimCluster, name: string): Promise<boolean> {
  const node = c.node(name)
  await c.settle(node.local.engine.flushed())
  const data = await c.settle(node.store.range('data', { limit: 1 }))
  const hints = await c.settle(node.store.range('hints', { limit: 1 }))
  return data.length === 0 && hints.length === 0 && node.local.hintsPendingTotal() === 0
}

/** Runs time until no running node has a transfer or a hint pending (bounded). */
async function handoffsDone (c: SimCluster): Promise<void> {
  await until(c, 'hand-offs', () => c.running().every(n => c.node(n).handoff.stats.transfersPending === 0 && c.node(n).local.hintsPendingTotal() === 0))
  // one more round everywhere, so that what the last one counted is also what it left
  for (const n of c.running()) await c.settle(c.node(n).handoff.round())
}

/** Acknowledged writes with fewer than W copies (present, or superseded knowingly) on their current primaries. */
async function underReplicated (c: SimCluster, h: History): Promise<string[]> {
  const ring = c.node(c.running()[0]).currentRing()
  const out: string[] = []
  for (const a of h.acks) {
    const ref = c.node(c.running()[0]).ref(Buffer.from(a.key))
    const owners = ring.preferenceList(ref.partition).primaries
    let copies = 0
    for (const n of owners) {
      const obj = await c.settle(Promise.resolve(c.node(n).local.read(ref)))
      if (obj?.siblings.some(s => (s.actor === a.actor && s.counter === a.counter) || covers(s.ctx, a.actor, a.counter)) === true) copies++
    }
    if (copies < W) out.push(`${a.key} (${a.actor}:${a.counter}): ${copies} copies on ${owners.join(',')}`)
  }
  return out
}

function aeRounds (c: SimCluster): number {
  return c.running().reduce((n, name) => n + c.node(name).antiEntropy.stats.rounds, 0)
}

t.test('a replica write reaching the leaver after its hand-off is not kept there: the leaver ends empty, the write has W copies', async (t) => {
  const c = await SimCluster.create({ seed: 31, nodes: 4, partitions: 16, args: ARGS })
  t.teardown(() => c.stop())
  const n1 = c.node('node1')
  const ring = n1.currentRing()
  // p: a partition of node1 and node2 with a later partition q of node2's (handed off after p).
  const mine = ring.replicaPartitions('node2')
  const p = mine.find(x => ring.preferenceList(x).primaries.includes('node1') && mine.some(y => y > x))
  if (p === undefined) throw new Error('no partition fits this seed')
  const q = mine.find(y => y > p) as number
  const third = ring.preferenceList(p).primaries.find(n => n !== 'node1' && n !== 'node2') as string
  const K = Buffer.from(keyIn(n1, p, 'k'))
  const fillerP = keyIn(n1, p, 'fp')
  const fillerQ = keyIn(n1, q, 'fq')

  const h = new History()
  for (const key of [fillerP, fillerQ]) t.type(await c.settle(h.put(c, 'node1', key, '', 'filler')), 'string', `${key} written`)

  const toLeaver = c.net.hold((from, to, m) => from === 'node1' && to === 'node2' && m.type === 'PUT_REPLICA' && m.key.equals(n1.ref(K).skey))
  const toThird = c.net.hold((from, to, m) => from === 'node1' && to === third && m.type === 'PUT_REPLICA' && m.key.equals(n1.ref(K).skey))
  const write = h.put(c, 'node1', K.toString(), '', 'racing')
  await c.run(10)
  t.equal(toLeaver.count + toThird.count, 2, 'both replica writes of K are held')

  const batchQ = c.net.hold((from, _to, m) => from === 'node2' && m.type === 'HANDOFF_BATCH' && m.keys.some(k => n1.recordRef(k).key.toString() === fillerQ))
  t.same(await c.exec('node2', 'RING', 'LEAVE'), { type: 'simple', value: 'OK' })
  await until(c, 'the leaver reaching partition q', () => batchQ.count > 0)
  t.equal(c.node('node2').membership.get('node2')?.status, 'leaving', 'node2 is leaving')
  t.equal(await heldIn(c, 'node2', p), 0, 'the leaver has handed partition p off')

  // The race: the old ring's replica write reaches the leaver now.
  toLeaver.release()
  await c.run(20)
  batchQ.release()
  await until(c, 'the leaver to report itself removed', () => c.node('node2').membership.get('node2')?.status === 'removed')
  t.ok(await holdsNothing(c, 'node2'), 'the leaver holds no data and no hints when it reports itself removed')
  c.crash('node2') // the operator stops it: it said it holds nothing

  t.type(await c.settle(write), 'string', 'the racing write was acknowledged')
  await handoffsDone(c)
  t.equal(aeRounds(c), 0, 'no anti-entropy round ran')
  t.same(await underReplicated(c, h), [], `every acknowledged write has ${W} copies on its current primaries`)
  t.equal(h.acks.length, 3, 'three writes acknowledged')
  toThird.release()
})

t.test('the old owner, after its transfer, refuses a replica write of the old ring; the coordinator asks the new owner and does not mark it down', async (t) => {
  const c = await SimCluster.create({ seed: 32, nodes: 3, partitions: 16, args: ARGS })
  t.teardown(() => c.stop())
  const n3 = c.node('node3')
  const before = n3.currentRing()
  // The ring once node4 has joined (the claim folds joins in time order: it comes last).
  const after = new Ring(claim([...n3.membership.claimMembers(), { name: 'node4', weight: 1, joinedAt: c.clock.now() + 1, leftAt: null }], 16, 3), 3)
  const moved = (x: number): string | undefined => before.preferenceList(x).primaries.find(n => !after.preferenceList(x).primaries.includes(n))
  // p: a partition node4 takes from node1 or node2; node3, a primary before and after, coordinates.
  const p = after.replicaPartitions('node4').find(x => moved(x) !== undefined && moved(x) !== 'node3')
  if (p === undefined) throw new Error('no partition fits this seed')
  const oldOwner = moved(p) as string
  const third = before.preferenceList(p).primaries.find(n => n !== 'node3' && n !== oldOwner) as string
  const K = Buffer.from(keyIn(n3, p, 'k'))

  const h = new History()
  t.type(await c.settle(h.put(c, 'node3', keyIn(n3, p, 'fp'), '', 'filler')), 'string', 'a key of partition p written')
  const toOldOwner = c.net.hold((from, to, m) => from === 'node3' && to === oldOwner && m.type === 'PUT_REPLICA' && m.key.equals(n3.ref(K).skey))
  const toThird = c.net.hold((from, to, m) => from === 'node3' && to === third && m.type === 'PUT_REPLICA' && m.key.equals(n3.ref(K).skey))
  const write = h.put(c, 'node3', K.toString(), '', 'racing')
  await c.run(10)
  t.equal(toOldOwner.count + toThird.count, 2, 'both replica writes of K are held')

  await c.add('node4')
  t.same(c.node('node4').currentRing().preferenceList(p).primaries, after.preferenceList(p).primaries, 'the ring came out as predicted')
  await until(c, `${oldOwner} handing partition ${p} off`, () => c.node(oldOwner).handoff.stats.objectsDropped > 0)
  t.equal(await heldIn(c, oldOwner, p), 0, `${oldOwner} has handed partition ${p} off`)

  const failures = n3.detector.state(oldOwner)?.failures ?? 0
  toOldOwner.release()
  t.type(await c.settle(write), 'string', 'the racing write was acknowledged')
  t.equal(await heldIn(c, oldOwner, p), 0, `${oldOwner} did not keep it`)
  t.equal(n3.detector.state(oldOwner)?.failures ?? 0, failures, 'a refusal is an answer, not a failure')
  t.ok(n3.detector.isUp(oldOwner), `${oldOwner} is up for node3`)

  await c.converge()
  await handoffsDone(c)
  t.equal(aeRounds(c), 0, 'no anti-entropy round ran')
  t.same(await underReplicated(c, h), [], `every acknowledged write has ${W} copies on its current primaries`)
  toThird.release()
})
