// Membership changes over TCP under a write load: a 4th node joins a 3-node
// cluster, then one of the original nodes leaves. Writes keep succeeding, every
// acknowledged write stays readable through every node, ownership moves to the
// claim's shares, and the leaver ends up removed and empty.
import t from 'tap'
import { startCluster, until, type TestCluster } from '../helpers/cluster.js'
import { sleep } from '../helpers/server.js'
import { unreadable } from '../helpers/load.js'

interface Load {
  acked: Map<string, string>
  failed: number
  stop (): Promise<void>
}

/** Writers putting unique keys through random running nodes until stopped (bounded). */
function writeLoad (c: TestCluster, nodes: () => string[], writers = 4): Load {
  const acked = new Map<string, string>()
  let running = true
  let failed = 0
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; running && i < 20_000; i++) {
      const at = nodes()[i % nodes().length]
      const key = `w${w}-${i}`
      try {
        await c.call(at, 'SET', key, `v${i}`)
        acked.set(key, `v${i}`)
      } catch {
        failed++
      }
    }
  })
  return { acked, get failed () { return failed }, stop: async () => { running = false; await Promise.all(loops) } }
}

t.test('join a 4th node and then leave another, under load', async (t) => {
  const c = await startCluster({ nodes: 3, t })
  let members = ['node1', 'node2', 'node3']
  const load = writeLoad(c, () => members)
  await sleep(1000)

  await c.add('node4')
  members = ['node1', 'node2', 'node3', 'node4']
  await c.converged(4)
  await until('the join transfers', async () => (await Promise.all(members.map(n => c.status(n)))).every(s => Number(s.transfers_pending) === 0))
  await sleep(500)

  t.equal(await c.call('node2', 'RING', 'LEAVE'), 'OK')
  members = ['node1', 'node3', 'node4']
  await until('node2 to hand off and leave', async () => {
    const nodes = await c.call('node1', 'RING', 'NODES') as string[]
    return nodes.some(l => l.startsWith('node2 ') && l.includes(' removed '))
  })
  t.equal(await c.info('node2', 'live_keys_local'), 0, 'the leaver holds nothing once it is removed')
  await sleep(500)
  await load.stop()
  t.ok(load.acked.size > 200, `a real load ran (${load.acked.size} acknowledged, ${load.failed} failed)`)

  // Every acknowledged write, read back through every remaining node.
  for (const n of members) t.same(await unreadable(c, n, load.acked), [], `every acknowledged write readable via ${n}`)

  // Ownership: the remaining members share the 32 partitions within one of 32/3; the leaver owns none and holds nothing.
  const rows = (await c.call('node1', 'RING', 'NODES') as string[]).map(l => l.split(' '))
  for (const [name, , , status, , partitions] of rows) {
    if (name === 'node2') {
      t.equal(status, 'removed')
      t.equal(Number(partitions), 0)
    } else {
      t.ok(Math.abs(Number(partitions) - 32 / 3) < 1, `${name} owns ${partitions} partitions`)
    }
  }
  t.equal(await c.info('node2', 'live_keys_local'), 0, 'the leaver handed everything off')
})
