// A real 3-node cluster (N=3 R=2 W=2) over TCP: every node serves the same data
// to ioredis and redis-cli, each key is stored on its three primaries, per-request
// R and W are honoured, and a node outside a key's preference list forwards.
import t from 'tap'
import { startCluster, until } from '../helpers/cluster.js'
import { redisCli } from '../helpers/clients.js'
import { sleep } from '../helpers/server.js'

t.test('3 nodes: same data everywhere, N replicas on the primaries, R and W per request', async (t) => {
  const c = await startCluster({ nodes: 3, t })
  const names = ['node1', 'node2', 'node3']
  for (let i = 0; i < 30; i++) t.equal(await c.call(names[i % 3], 'SET', `k${i}`, `v${i}`), 'OK')
  for (const n of names) {
    t.same(await c.client(n).mget('k0', 'k1', 'k29', 'nope'), ['v0', 'v1', 'v29', null], `ioredis MGET via ${n}`)
    const cli = await redisCli(c.node(n).port, ['GET', 'k7'])
    t.equal(cli.stdout.trim(), 'v7', `redis-cli GET via ${n}`)
  }
  // The replica beyond W=2 is written after the reply: waited for (a 200 ms sleep is a window a loaded machine misses), then checked.
  await until('every replica of k3', async () => (await Promise.all(names.map(async n => (await c.call(n, 'DEBUG', 'REPLICA', 'k3') as unknown[] | null)?.[1]))).every(v => JSON.stringify(v) === '["v3"]'), 10_000).catch(() => {})
  for (const n of names) {
    const replica = await c.call(n, 'DEBUG', 'REPLICA', 'k3') as unknown[]
    t.same(replica?.[1], ['v3'], `${n} holds its own replica of k3`)
  }
  t.equal(await c.call('node2', 'DBSIZE'), 30, 'DBSIZE estimates the cluster-wide count')
  const scanned = new Set<string>()
  let cursor = '0'
  for (let i = 0; i < 100; i++) {
    const [next, keys] = await c.call(names[i % 3], 'SCAN', cursor, 'COUNT', 7) as [string, string[]]
    for (const k of keys) scanned.add(k)
    cursor = next
    if (cursor === '0') break
  }
  t.equal(scanned.size, 30, 'SCAN through alternating nodes finds every key once the cursor returns to 0')

  t.match(await c.call('node1', 'PUT', 'strict', '', 'x', 'W', 3), /^[A-Za-z0-9_-]+$/, 'W 3 with all three up')
  await c.node('node3').kill9()
  await sleep(900) // past --down-after-ms
  await t.rejects(c.call('node1', 'PUT', 'strict', '', 'y', 'W', 3), /^NOQUORUM write needed 3 replicas, 2 answered/, 'W 3 cannot be met')
  await t.rejects(c.call('node1', 'GETCTX', 'strict', 'R', 3), /^NOQUORUM read needed 3 replicas, 2 answered/, 'R 3 cannot be met')
  const ok = await c.call('node1', 'GETCTX', 'strict', 'R', 2) as [string, string[]]
  t.ok(ok[1].includes('x'), 'R 2 still answers')
  t.match(await c.call('node2', 'PUT', 'strict', ok[0], 'z', 'W', 2), /^[A-Za-z0-9_-]+$/, 'W 2 still succeeds')
  await t.rejects(c.call('node1', 'GETCTX', 'strict', 'R', 4), /R\/W must be between 1 and N/)
})

// The next two need no failure detection: generous timers, as FAST's 500 ms request timeout can fail a W=2 write on a loaded machine.
const GENEROUS = ['--request-timeout-ms', '2000', '--down-after-ms', '3000']

t.test('4 nodes: a node outside the preference list forwards to a primary', async (t) => {
  const c = await startCluster({ nodes: 4, t, args: GENEROUS })
  let key = ''
  let outsider = ''
  for (let i = 0; i < 200 && outsider === ''; i++) {
    const owners = await c.call('node1', 'RING', 'OWNERS', `fw${i}`) as string[]
    t.equal(owners.length, 4, 'one line per node')
    const fallback = owners.find(l => l.includes(' fallback '))
    if (fallback !== undefined) {
      key = `fw${i}`
      outsider = fallback.split(' ')[0]
    }
  }
  t.not(outsider, '', 'found a key with a fallback node')
  const before = await c.info(outsider, 'forwarded_out')
  t.equal(await c.call(outsider, 'SET', key, 'forwarded'), 'OK')
  t.equal(await c.call(outsider, 'GET', key), 'forwarded')
  t.ok(await c.info(outsider, 'forwarded_out') >= before + 2, 'both commands went to a primary')
  t.equal(await c.call(outsider, 'DEBUG', 'REPLICA', key), null, 'the outsider keeps no copy')
  const owners = (await c.call(outsider, 'RING', 'OWNERS', key) as string[]).filter(l => l.includes(' primary ')).map(l => l.split(' ')[0])
  // Waited for, then checked (see above).
  await until('every primary of the key', async () => (await Promise.all(owners.map(async o => (await c.call(o, 'DEBUG', 'REPLICA', key) as unknown[] | null)?.[1]))).every(v => JSON.stringify(v) === '["forwarded"]'), 10_000).catch(() => {})
  for (const o of owners) t.same((await c.call(o, 'DEBUG', 'REPLICA', key) as unknown[])[1], ['forwarded'], `primary ${o} holds it`)
})

t.test('key counts follow replica writes: new keys, and writes that supersede (an expiry dropped, a key deleted) (INFO keyspace)', async (t) => {
  const c = await startCluster({ nodes: 3, t, args: GENEROUS })
  const keyspace = async (): Promise<string> => /db0:keys=\d+,expires=\d+/.exec(String(await c.call('node2', 'INFO', 'keyspace')))?.[0] ?? 'db0: none'
  // node2's copy may be the replica written after a W=2 reply: its count is waited for (a 200 ms sleep under load is not enough), then checked.
  const settled = async (want: string): Promise<void> => { await until(`node2 at ${want}`, async () => await keyspace() === want, 10_000).catch(() => {}) }
  // node1 coordinates the first writes, node2 and node3 the later ones: on the other two nodes each is a replica's superseding write.
  for (let i = 0; i < 6; i++) t.equal(await c.call('node1', 'SET', `kc${i}`, 'a', 'EX', 1000), 'OK')
  await settled('db0:keys=6,expires=6')
  t.equal(await keyspace(), 'db0:keys=6,expires=6', 'six keys, each with an expiry')
  for (let i = 0; i < 6; i++) t.equal(await c.call('node2', 'SET', `kc${i}`, 'b'), 'OK')
  await settled('db0:keys=6,expires=0')
  t.equal(await keyspace(), 'db0:keys=6,expires=0', 'overwritten without one')
  for (let i = 0; i < 3; i++) t.equal(await c.call('node3', 'DEL', `kc${i}`), 1)
  for (let i = 3; i < 6; i++) t.equal(await c.call('node3', 'SET', `kc${i}`, 'c', 'PX', 900000), 'OK')
  await settled('db0:keys=3,expires=3')
  t.equal(await keyspace(), 'db0:keys=3,expires=3', 'three deleted, three given an expiry again')
  // A key node2 never held, coordinated by node1: node2 stores the record as it came, counted without decoding it.
  t.equal(await c.call('node1', 'HSET', 'kch', 'f', 'v'), 1)
  t.equal(await c.call('node1', 'SET', 'kcx', 'x', 'EX', 1000), 'OK')
  await settled('db0:keys=5,expires=4')
  t.equal(await keyspace(), 'db0:keys=5,expires=4', 'a new hash and a new string with an expiry counted')
})
