// The checkers of the typed simulator specs catch real bugs. Each case runs a
// short, fixed history twice: on the real code, where the checker finds
// nothing, and with one bug planted (spec-side, in every node: spec/sim/plants.ts),
// where the checker must report the loss it causes. sweep-finds.spec.ts plants
// the same bugs in random histories of a seed sweep.
//   - collections: a merge where a remove wins over a concurrent add
//     (breaks observed-remove: an SADD after an SREM, on the other side of
//     a partition, is lost once the two meet);
//   - counters: a merge that keeps one coordinator's counter chain and drops
//     the others' (an acknowledged INCR on the other side is lost);
//   - expiry: a node whose clock is 800 ms behind while the checker is told
//     it is on time (a read after the expiry it must not answer).
import t from 'tap'
import { SimCluster } from './harness.js'
import { CollectionHistory } from './collections.js'
import { CounterHistory } from './counters.js'
import { ExpiryHistory } from './expiry.js'
import { healAll, primariesOf } from './typed.js'
import { replyText } from './checkers.js'
import { breakMerges, oneChain, removeWins, type Rewrite } from './plants.js'

/** 4 nodes (N=3, R=2, W=2): the key's primaries p1..p3 and the fourth node. */
async function cluster (key: string, rewrite: Rewrite | null): Promise<{ c: SimCluster, p: readonly string[], other: string }> {
  const c = await SimCluster.create({ seed: 7, nodes: 4, partitions: 16, onBoot: (_n, node) => { if (rewrite !== null) breakMerges(node, rewrite) } })
  const p = primariesOf(c, key)
  return { c, p, other: c.names.find(n => !p.includes(n)) as string }
}

/** Cuts {p1, p2} from {p3, other} and waits until each side has seen the other go down. */
async function split (c: SimCluster, p: readonly string[], other: string): Promise<void> {
  c.net.partition([p[0], p[1]], [p[2], other])
  await c.run(1000)
}

async function setHistory (rewrite: Rewrite | null): Promise<{ problems: string[], acks: string[] }> {
  const { c, p, other } = await cluster('s0', rewrite)
  try {
    const h = new CollectionHistory(['s0'], ['a'])
    const acks: string[] = []
    const ack = async (node: string, add: boolean): Promise<void> => { acks.push(`${add ? 'SADD' : 'SREM'} via ${node}: ${(await c.settle(h.member(c, node, 's0', 'a', add))).outcome}`) }
    await ack(p[0], true)
    await c.run(200)
    await split(c, p, other)
    await ack(p[0], false) // removes the add it saw, on one side
    await ack(p[2], true) // adds again on the other, after the remove replied: no remove saw this add
    await healAll(c)
    return { problems: await h.checkFinal(c), acks }
  } finally {
    await c.stop()
  }
}

async function counterHistory (rewrite: Rewrite | null): Promise<{ problems: string[], acks: string[] }> {
  const { c, p, other } = await cluster('k', rewrite)
  try {
    const h = new CounterHistory(['k'])
    const acks: string[] = []
    const ack = async (node: string): Promise<void> => { acks.push(`increment via ${node}: ${(await c.settle(h.increment(c, node, 'k', 1))).outcome}`) }
    await ack(p[0])
    await split(c, p, other)
    await ack(p[0])
    await ack(p[2])
    await healAll(c)
    return { problems: await h.checkFinal(c), acks }
  } finally {
    await c.stop()
  }
}

async function expiryHistory (lie: boolean): Promise<{ problems: string[], read: string }> {
  const offsets: Record<string, number> = { node1: 0, node2: 0, node3: -800 }
  const h = new ExpiryHistory(['x0'], lie ? () => 0 : undefined)
  const c = await SimCluster.create({ seed: 7, nodes: 3, partitions: 16, startMs: 1_000_000, clockOffsetMs: n => offsets[n], onBoot: (_n, node) => h.watch(node) })
  h.cluster = c
  try {
    await c.settle(h.set(c, 'node1', 'x0', 300))
    await c.run(500)
    // node3 replicates x0 (3 nodes, N=3), so it answers itself, by its own clock.
    const read = await c.settle(h.run(c, 'node3', 'GET', 'x0'))
    return { problems: h.check(), read: replyText(read.reply) }
  } finally {
    await c.stop()
  }
}

t.test('collections: a remove winning over an add it did not see is reported as a lost add', async (t) => {
  const real = await setHistory(null)
  t.same(real.acks.map(a => a.replace(/node\d/, 'n')), ['SADD via n: ok', 'SREM via n: ok', 'SADD via n: ok'], 'the history ran as designed: every write acknowledged')
  t.same(real.problems, [], 'the real merge keeps the add')
  const broken = await setHistory(removeWins)
  t.match(broken.problems, [/^s0: a is lost: SADD s0 a via node\d was acknowledged/], 'the checker reports the lost add')
})

t.test('counters: a merge dropping another coordinator\'s chain is reported as an uncounted increment', async (t) => {
  const real = await counterHistory(null)
  t.same(real.acks.map(a => a.replace(/node\d/, 'n')), Array(3).fill('increment via n: ok'), 'the history ran as designed: every increment acknowledged')
  t.same(real.problems, [], 'the real merge counts every increment')
  const broken = await counterHistory(oneChain)
  t.ok(broken.problems.some(p => /^k: increment #\d \(INCR(BY)? k.* via node\d, ok\) counted 0 times/.test(p)), `the checker reports the lost increment: ${broken.problems.join('; ')}`)
})

t.test('expiry: a read answered after the expiry by a clock the checker does not allow for is reported', async (t) => {
  const real = await expiryHistory(false)
  t.equal(real.read, 'x0-v0', 'node3, 800 ms behind, still answers with the value 200 ms after its expiry')
  t.same(real.problems, [], 'the checker knows node3\'s offset: the late answer is within its skew')
  const lied = await expiryHistory(true)
  t.match(lied.problems, [/^GET x0 via node3 .*: returned x0-v0, which expired at \d+ ≤ \d+/], 'told the clocks agree, the checker reports the expired read')
})
