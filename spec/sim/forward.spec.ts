// The coordinator rule when the primary's answer is lost: the forwarded command
// may have run there, so a write must not run a second time here (that would
// store a second version with the writer's context, a sibling the writer never
// saw); the client hears -NOQUORUM instead. A read may be retried here safely.
import t from 'tap'
import { SimCluster } from './harness.js'
import { quiesce } from './checkers.js'
import type { Reply } from '../../lib/resp/reply.js'

const KEY = 'fwd'

/** A node outside the key's primaries (4 nodes, N=3: exactly one) and the primary it forwards to. */
function roles (c: SimCluster): { outsider: string, primary: string } {
  const node = c.node('node1')
  const { primaries } = node.currentRing().preferenceList(node.ref(Buffer.from(KEY)).partition)
  const outsider = c.names.find(n => !primaries.includes(n))
  if (outsider === undefined) throw new Error('every node is a primary')
  return { outsider, primary: primaries[0] }
}

/** Sends a command through the outsider and cuts it off from the primary once the request is there. */
async function forwardAndLoseTheAnswer (c: SimCluster, ...args: string[]): Promise<Reply> {
  const { outsider, primary } = roles(c)
  const reply = c.send(outsider, ...args)
  await c.run(6) // the FORWARD (5 ms) has arrived; the answer has not left
  c.net.partition([outsider], [primary])
  const r = await c.settle(reply)
  c.net.heal()
  return r
}

t.test('a forwarded write whose answer is lost is not run again: -NOQUORUM, one version', async (t) => {
  const c = await SimCluster.create({ seed: 7, nodes: 4, partitions: 16, delayMsMin: 5, delayMsMax: 5 })
  t.teardown(() => c.stop())
  const r = await forwardAndLoseTheAnswer(c, 'PUT', KEY, '', 'once')
  t.equal(r.type, 'error')
  t.match((r as { value: string }).value, /^NOQUORUM write .*may still have been stored.*forwarded to node\d, which did not answer/)
  await quiesce(c)
  const read = await c.exec('node1', 'GETCTX', KEY)
  t.same(read.type === 'array' && read.value[1].type === 'array' ? read.value[1].value : null, [{ type: 'bulk', value: Buffer.from('once') }], 'the write ran once: one version')
})

t.test('a forwarded read whose answer is lost is answered here', async (t) => {
  const c = await SimCluster.create({ seed: 7, nodes: 4, partitions: 16, delayMsMin: 5, delayMsMax: 5 })
  t.teardown(() => c.stop())
  t.same(await c.exec('node1', 'SET', KEY, 'v'), { type: 'simple', value: 'OK' })
  t.same(await forwardAndLoseTheAnswer(c, 'GET', KEY), { type: 'bulk', value: Buffer.from('v') })
})
