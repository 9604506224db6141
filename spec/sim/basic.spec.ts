import t from 'tap'
import { SimCluster } from './harness.js'
import { liveValues } from '../../lib/versioning/index.js'

t.test('a 3-node simulated cluster stores, replicates and serves through any node', async (t) => {
  const seed = Number(process.env.DYNAKV_SEED ?? 1)
  const c = await SimCluster.create({ seed, nodes: 3 })
  t.teardown(() => c.stop())
  t.same(await c.exec('node1', 'SET', 'k', 'v'), { type: 'simple', value: 'OK' })
  for (const n of c.names) t.same(await c.exec(n, 'GET', 'k'), { type: 'bulk', value: Buffer.from('v') }, `GET at ${n}`)
  await c.run(100)
  for (const n of c.names) {
    const obj = await c.node(n).local.read(c.node(n).ref(Buffer.from('k')))
    t.same(obj?.siblings.map(s => s.value?.toString()), ['v'], `${n} holds a replica of exactly the value written`)
    t.same(obj === undefined ? [] : liveValues(obj).map(v => v.toString()), ['v'], `${n}: its live value is v`)
  }
  // An overwrite through another node supersedes it on every replica (one sibling, the new value).
  t.same(await c.exec('node2', 'SET', 'k', 'w'), { type: 'simple', value: 'OK' })
  await c.run(100)
  for (const n of c.names) {
    const obj = await c.node(n).local.read(c.node(n).ref(Buffer.from('k')))
    t.same(obj?.siblings.map(s => s.value?.toString()), ['w'], `${n}: the overwrite replaced the value, no sibling left`)
  }
  // Two writes from the same context through different nodes are concurrent: every
  // replica keeps both, as siblings with exactly the two values written.
  const ctx = await c.exec('node1', 'PUT', 'c', '', 'base')
  t.equal(ctx.type, 'bulk', 'PUT answers a context')
  const token = ctx.type === 'bulk' ? ctx.value.toString() : ''
  await c.run(100)
  for (const [at, value] of [['node2', 'left'], ['node3', 'right']]) t.equal((await c.exec(at, 'PUT', 'c', token, value)).type, 'bulk', `PUT ${value} at ${at}`)
  await c.run(100)
  for (const n of c.names) {
    const obj = await c.node(n).local.read(c.node(n).ref(Buffer.from('c')))
    t.same(obj?.siblings.map(s => s.value?.toString()).sort(), ['left', 'right'], `${n} holds both concurrent values as siblings, and not the one they replaced`)
  }
})
