// Issue 9's commands on a real 3-node cluster (N=2, R=1, W=2: a third of the
// keys are forwarded by any given node), through ioredis, node-redis and
// redis-cli as applications use them: MULTI/EXEC across keys that live on
// different nodes, a WATCH-guarded update raced by a client of another node,
// RENAME/COPY/BITOP across coordinators, RANDOMKEY, CONFIG and COMMAND.
import t from 'tap'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { startCluster, type TestCluster } from '../helpers/cluster.js'
import { missing, redisCli } from '../helpers/clients.js'

let c: TestCluster
const NAMES = ['node1', 'node2', 'node3']

// No failures here: timers generous enough that a loaded machine's slow turn is
// not a timed-out replica (500 ms failed a MULTI's write once under load ~15).
t.before(async () => {
  c = await startCluster({ nodes: 3, n: 2, r: 1, w: 2, args: ['--request-timeout-ms', '2000', '--down-after-ms', '3000'] })
})
t.teardown(async () => { await c.close() })

/** Keys that node owns a replica of and keys it must forward, among k0..k39. */
async function split (name: string): Promise<{ here: string[], elsewhere: string[] }> {
  const here: string[] = []
  const elsewhere: string[] = []
  for (let i = 0; i < 40; i++) {
    const owners = await c.call(name, 'RING', 'OWNERS', `k${i}`) as string[]
    const primary = owners.filter(o => o.includes(' primary ')).some(o => o.startsWith(`${name} `))
    ;(primary ? here : elsewhere).push(`k${i}`)
  }
  return { here, elsewhere }
}

async function client (name: string): Promise<Redis> {
  const r = new Redis({ host: '127.0.0.1', port: c.node(name).port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  r.on('error', () => {})
  await r.connect()
  return r
}

t.test('MULTI/EXEC with keys on other nodes: every command runs on its coordinator, replies in order', async tt => {
  const { here, elsewhere } = await split('node1')
  tt.ok(here.length > 0 && elsewhere.length > 0, `node1 owns ${here.length} of the keys, forwards ${elsewhere.length}`)
  const keys = [here[0], elsewhere[0], here[1], elsewhere[1]]
  const r = await client('node1')
  tt.teardown(() => { r.disconnect() })
  const m = r.multi()
  for (const k of keys) m.set(k, `v-${k}`).incr(`${k}:n`).append(k, '!')
  m.mget(...keys)
  const res = await m.exec() as Array<[Error | null, unknown]>
  tt.same(res.slice(0, 3).map(x => x[1]), ['OK', 1, `v-${keys[0]}!`.length])
  tt.same(res[res.length - 1][1], keys.map(k => `v-${k}!`), 'MGET inside the transaction sees its writes')
  for (const name of NAMES) {
    tt.same(await c.client(name).mget(...keys), keys.map(k => `v-${k}!`), `visible through ${name}`)
  }
  await tt.rejects(r.multi().set(elsewhere[2], 'x').call('NOSUCH').exec(), /EXECABORT/, 'a queue-time error aborts')
  tt.equal(await c.client('node3').get(elsewhere[2]), null, 'and nothing ran')
})

t.test('a WATCH-guarded update through node1, raced by a client of node2', async tt => {
  const { elsewhere } = await split('node1')
  const key = elsewhere[3] // its coordinator is another node: the watch token comes from a quorum read
  const r = await client('node1')
  const other = await client('node2')
  tt.teardown(() => { r.disconnect(); other.disconnect() })
  await r.set(key, '100')
  let attempts = 0
  let result: unknown = null
  while (result === null && attempts < 5) {
    attempts++
    await r.watch(key)
    const v = Number(await r.get(key))
    if (attempts === 1) tt.equal(await other.incrby(key, 50), 150, 'the other client\'s write is acknowledged (W=2)')
    result = await r.multi().set(key, String(v - 30)).exec()
  }
  tt.equal(attempts, 2, 'the first EXEC returned nil, the retry won')
  tt.equal(await other.get(key), '120', 'no update lost')
})

t.test('node-redis: multi() through node3', async tt => {
  const nr = createClient({ url: `redis://127.0.0.1:${c.node('node3').port}` })
  nr.on('error', () => {})
  await nr.connect()
  tt.teardown(async () => { await nr.quit() })
  tt.same(await nr.multi().set('nr:x', '1').incrBy('nr:x', 9).get('nr:x').exec(), ['OK', 10, '10'])
  tt.equal(await c.client('node1').get('nr:x'), '10')
})

t.test('RENAME, RENAMENX, COPY, BITOP across coordinators', async tt => {
  const { here, elsewhere } = await split('node2')
  const [a, b] = [here[4], elsewhere[4]]
  tt.equal(await c.call('node1', 'SET', a, 'payload'), 'OK')
  tt.equal(await c.call('node2', 'RENAME', a, b), 'OK', 'RENAME from a key node2 owns to one it does not')
  for (const name of NAMES) {
    tt.same(await c.client(name).mget(a, b), [null, 'payload'], `${name}: the old name is gone, the new one holds the value`)
  }
  tt.equal(await c.call('node3', 'COPY', b, a), 1)
  tt.equal(await c.call('node3', 'COPY', b, a), 0, 'COPY without REPLACE does not overwrite')
  tt.equal(await c.call('node1', 'RENAMENX', b, a), 0)
  tt.equal(await c.call('node1', 'SET', 'bits:1', 'abc'), 'OK')
  tt.equal(await c.call('node2', 'BITOP', 'NOT', 'bits:2', 'bits:1'), 3)
  tt.equal(await c.call('node3', 'BITCOUNT', 'bits:2'), 14, 'the NOT of "abc" has 14 bits set')
})

t.test('RANDOMKEY through every node: only live keys, nil once none has a value', async tt => {
  await c.call('node1', 'FLUSHALL')
  for (const name of NAMES) tt.equal(await c.call(name, 'RANDOMKEY'), null, `${name}: empty cluster, nil`)
  for (let i = 0; i < 30; i++) await c.call(NAMES[i % 3], 'SET', `rk${i}`, 'v')
  for (let i = 0; i < 25; i++) await c.call('node1', 'DEL', `rk${i}`)
  const live = new Set(['rk25', 'rk26', 'rk27', 'rk28', 'rk29'])
  for (let i = 0; i < 30; i++) {
    const k = await c.call(NAMES[i % 3], 'RANDOMKEY') as string
    tt.ok(live.has(k), `a live key (${k})`)
  }
})

t.test('redis-cli one-shot against each node', { skip: missing('redis-cli') }, async tt => {
  for (const name of NAMES) {
    const port = c.node(name).port
    const cli = async (...args: string[]): Promise<string> => (await redisCli(port, args)).stdout.trim()
    tt.equal(await cli('SET', `cli:${name}`, '12345'), 'OK')
    tt.equal(await cli('OBJECT', 'ENCODING', `cli:${name}`), 'int')
    tt.equal(await cli('SETBIT', `cli:${name}:b`, '7', '1'), '0')
    tt.equal(await cli('GETBIT', `cli:${name}:b`, '7'), '1')
    tt.equal(await cli('COPY', `cli:${name}`, `cli:${name}:copy`), '1')
    tt.equal(await cli('GET', `cli:${name}:copy`), '12345')
    tt.equal(await cli('CONFIG', 'SET', 'hash-max-listpack-entries', '64'), 'OK')
    tt.equal(await cli('CONFIG', 'GET', 'hash-max-listpack-entries'), 'hash-max-listpack-entries\n64')
    tt.match(await cli('COMMAND', 'GETKEYS', 'RENAME', 'x', 'y'), /^x\ny$/)
    tt.match(await cli('INFO', 'replication'), /role:master/)
  }
})
