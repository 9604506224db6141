// A rolling restart as the README tells operators to do it: one node at a
// time, SIGTERM (a clean stop), start it again on its data, and wait until
// the ring has converged with it and no hints are pending before the next.
// Under a read/write load throughout: no acknowledged write is lost, and no
// request fails except with -NOQUORUM or because its node was the one
// restarting (the client moves on to another node).
import t from 'tap'
import { startCluster, until, type TestCluster } from '../helpers/cluster.js'
import { startLoad, unreadable } from '../helpers/load.js'

/** Every node up in every other's view, and no hint waiting anywhere. */
async function healthy (c: TestCluster): Promise<boolean> {
  for (const p of c.nodes) {
    const s = await c.status(p.name)
    if ((s.down_peers as unknown[]).length > 0 || Number(s.hints_pending) > 0 || s.converged !== 'yes') return false
  }
  return true
}

t.test('restarting every node in turn under load loses nothing', async (t) => {
  const c = await startCluster({ nodes: 3, t, partitions: 16 })
  const load = startLoad(c, () => c.nodes.filter(p => p.running).map(p => p.name))
  await until('some writes', async () => load.report.acked.size >= 50, 30_000)
  for (const name of ['node1', 'node2', 'node3']) {
    const before = load.report.acked.size
    const i = c.nodes.findIndex(p => p.name === name)
    t.equal(await c.nodes[i].stop('SIGTERM'), 0, `${name} stopped cleanly`)
    c.nodes[i] = await c.nodes[i].restart()
    await c.converged(3)
    await until(`${name} back in every view with no hint pending`, async () => await healthy(c), 60_000)
    await until('writes after the restart', async () => load.report.acked.size > before + 20, 30_000)
    t.pass(`${name} restarted; ${load.report.acked.size - before} writes acknowledged meanwhile`)
  }
  const r = await load.stop()
  t.same(r.other, [], `no request failed otherwise (${r.acked.size} writes acknowledged, ${r.reads} reads, ${r.noQuorum} NOQUORUM, ${r.unavailable} at a restarting node)`)
  for (const p of c.nodes) t.same(await unreadable(c, p.name, r.acked), [], `every acknowledged write readable through ${p.name}`)
})
