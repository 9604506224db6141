// The operator's views, run as the operator runs them (`dynakv admin ...` as a
// process) against a real cluster: `ring` draws each partition's owner and
// replicas as the ring has them, `top` shows every member with its load, and
// `ping` is a readiness probe. The ring drawing's transfer marks are checked
// on the renderer directly (a transfer in flight is too brief to catch).
import t from 'tap'
import { runDynakv } from '../helpers/server.js'
import { startCluster } from '../helpers/cluster.js'
import { renderRing, parsePartitions } from '../../lib/cli/ring-map.js'
import type { Member } from '../../lib/cli/cluster-view.js'

const Q = 16

/** The map rows of `admin ring` output: member name → one character per partition. */
function mapRows (out: string, names: string[]): Map<string, string> {
  const rows = new Map<string, string>()
  for (const line of out.split('\n')) {
    const [name, cells] = line.split(/\s+/)
    if (names.includes(name) && cells !== undefined && /^[Oo>.]+$/.test(cells)) rows.set(name, (rows.get(name) ?? '') + cells)
  }
  return rows
}

t.test('admin ring, top and ping against a running cluster', async (t) => {
  // No failure detection needed (top reports node3 unreachable by asking it): generous timers, as under load FAST's
  // 500 ms request timeout can fail the loader's W=2 SETs and its 600 ms down-after can show a live member down.
  const c = await startCluster({ nodes: 3, t, partitions: Q, args: ['--metrics-port', '0', '--request-timeout-ms', '2000', '--down-after-ms', '3000'] })
  const names = ['node1', 'node2', 'node3']
  const port = String(c.node('node1').port)

  const ring = await runDynakv(['admin', 'ring', '--port', port], { timeoutMs: 60_000 })
  t.equal(ring.code, 0, 'admin ring exits 0')
  const rows = mapRows(ring.output, names)
  t.same([...rows.keys()].sort(), names, 'a map row per member')
  const owners = await c.call('node1', 'RING', 'PARTITIONS') as string[]
  const primaries = parsePartitions(owners)
  t.equal(primaries.length, Q)
  for (let p = 0; p < Q; p++) {
    const drawn = names.map(n => (rows.get(n) as string)[p]).join('')
    const expected = names.map(n => primaries[p][0] === n ? 'O' : primaries[p].includes(n) ? 'o' : '.').join('')
    if (drawn !== expected) t.fail(`partition ${p}: drawn ${drawn}, the ring has ${primaries[p].join(',')}`)
  }
  t.pass('every partition drawn with its owner and replicas as RING PARTITIONS has them')
  for (const n of names) {
    const owned = (rows.get(n) as string).split('').filter(x => x === 'O').length
    t.match(ring.output, new RegExp(`^${n}\\s+127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.1:\\d+\\s+valid\\s+1\\s+${owned}\\s+up$`, 'm'), `${n}: the table counts the ${owned} partitions it owns`)
  }
  t.match(ring.output, /^transfers in flight: none$/m)

  // top while node2 serves a load: its row shows requests per second and a p99.
  let load = true
  const loader = (async () => {
    for (let i = 0; load && i < 5000; i++) await c.call('node2', 'SET', `top${i % 50}`, 'v')
  })()
  const top = await runDynakv(['admin', 'top', '--port', port, '--count', '2', '--interval-ms', '400'], { timeoutMs: 60_000 })
  load = false
  await loader
  t.equal(top.code, 0, 'admin top --count 2 exits 0')
  const frames = top.output.split(/^dynakv top: /m).filter(f => f.trim() !== '')
  t.equal(frames.length, 2, 'two frames')
  const last = frames[1]
  t.match(last, /^3 members \(3 reachable and up\) via 127\.0\.0\.1:\d+, ring converged: yes/)
  const row = (n: string): string[] => (last.split('\n').find(l => l.startsWith(n + ' ')) ?? '').split(/\s{2,}/)
  for (const n of names) t.same(row(n).slice(0, 3), [n, 'valid', 'up'], `${n}: a row, valid and up`)
  const [, , , owned, ops, p99, hints, xfers] = row('node2')
  t.equal(Number(owned), (rows.get('node2') as string).split('').filter(x => x === 'O').length, 'partitions owned')
  t.ok(Number(ops) > 0, `node2 serves ${ops} requests/s`)
  t.ok(Number(p99) > 0, `with a p99 of ${p99} ms`)
  t.same([hints, xfers], ['0', '0'], 'no hints, no transfers')
  t.match(row('node1')[8] ?? '', /^\d+\/\d+ trees/, 'anti-entropy status')

  t.equal((await runDynakv(['admin', 'ping', '--port', port])).code, 0, 'ping: the node answers')
  await c.node('node3').stop()
  const down = await runDynakv(['admin', 'ping', '--port', String(c.node('node3').port)], { timeoutMs: 10_000 })
  t.not(down.code, 0, 'ping of a stopped node fails')
  const after = await runDynakv(['admin', 'top', '--port', port, '--count', '1', '--interval-ms', '200'], { timeoutMs: 60_000 })
  t.match(after.output, /^node3\s+valid\s+\S+\s+\d+\s+-\s+-\s+-\s+-\s+unreachable: /m, 'top shows a stopped member as unreachable')
})

t.test('the ring drawing marks transfers in flight and members that could not be asked', async (t) => {
  const members: Member[] = [
    { name: 'a', peer: 'h:1', client: 'h:2', status: 'valid', weight: 1, partitions: 2, state: 'up' },
    { name: 'b', peer: 'h:3', client: 'h:4', status: 'valid', weight: 1, partitions: 2, state: 'up' },
    { name: 'c', peer: 'h:5', client: 'h:6', status: 'leaving', weight: 1, partitions: 0, state: 'down' }
  ]
  const primaries = parsePartitions(['0 a,b', '1 b,a', '2 a,b', '3 b,a'])
  const out = renderRing(members, primaries, new Map([['a', []], ['b', [] as number[]]]))
  t.match(out, /^a\s+OoOo$/m)
  t.match(out, /^b\s+oOoO$/m)
  t.match(out, /^c\s+\.\.\.\.$/m)
  t.match(out, /c: could not be asked/)
  const moving = renderRing(members, primaries, new Map([['a', []], ['b', []], ['c', [1, 3]]]))
  t.match(moving, /^c\s+\.>\.>$/m, 'c is handing partitions 1 and 3 off')
  t.match(moving, /c → p1 \(to b,a\), p3 \(to b,a\)/)
  t.match(renderRing(members, parsePartitions(Array.from({ length: 2048 }, (_, p) => `${p} a,b`)), new Map()), /2048 partitions: too many to draw/)
})
