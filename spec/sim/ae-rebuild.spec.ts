// Anti-entropy trees rebuilt while writes continue (lib/node/antientropy.ts):
// trees wait for their scan one at a time, and the writes committed while a
// tree waits are in its snapshot, so the tree must not take them too; once
// every tree is ready again, every replica's root agrees.
import t from 'tap'
import { SimCluster } from './harness.js'
import { divergentPartitions } from './checkers.js'

t.test('trees rebuilt under writes agree with the replicas once built', async (t) => {
  const seed = Number(process.env.DYNAKV_SEED ?? 1)
  const c = await SimCluster.create({ seed, nodes: 3 })
  t.teardown(() => c.stop())
  for (let i = 0; i < 300; i++) await c.exec(`node${1 + (i % 3)}`, 'SET', `k${i}`, 'v0')
  await c.run(500)
  t.same(divergentPartitions(c), [], 'the trees agree before')
  const ae = c.node('node1').antiEntropy
  // Hold the batch boundary the first scan waits for, so every rebuilt tree is still
  // waiting for its snapshot while the overwrites below commit.
  const engine = c.node('node1').local.engine
  const held: Array<() => void> = []
  const atBoundary = engine.atBoundary.bind(engine)
  engine.atBoundary = (fn: () => void): void => { held.push(fn) }
  ae.rebuildAll()
  t.equal(ae.readyTrees, 0, 'the rebuilt trees wait for their scans')
  for (let i = 0; i < 300; i++) await c.exec(`node${1 + (i % 3)}`, 'SET', `k${i}`, 'v1')
  await c.run(500)
  t.equal(held.length, 1, 'one scan at a time: one waits for the boundary, the others in the queue')
  engine.atBoundary = atBoundary
  for (const fn of held) atBoundary(fn)
  for (let i = 0; i < 200 && ae.readyTrees < ae.treeCount; i++) await c.run(50)
  await c.run(500)
  t.equal(ae.readyTrees, ae.treeCount, 'every tree is built again')
  t.same(divergentPartitions(c), [], 'and every replica\'s root agrees')
})
