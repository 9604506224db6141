// Applications against a real 3-node cluster (N=3 R=2 W=2), written as with
// ioredis and node-redis (spec/helpers/app-scripts.ts), every step through
// another node than the one before: each script's transcript must be
// redis-server's; counters incremented at once through every node count every
// acknowledged increment (3 × 100 INCR once gave 195); a key given a time to
// live through one node is gone through every node after it; redis-cli and
// redis-benchmark through every node.
import t from 'tap'
import type { Redis } from 'ioredis'
import { haveRedisServer, sleep, startRedisServer, type RedisProc } from '../helpers/server.js'
import { startCluster, type TestCluster } from '../helpers/cluster.js'
import { AppClients, plain, sameAsRedis } from '../helpers/apps.js'
import { SCRIPTS, benchmarkTypes, cliOneShots, countersEverywhere, incrementConcurrently } from '../helpers/app-scripts.js'
import { missing } from '../helpers/clients.js'

let cluster: TestCluster
let ports: number[] = []
let redis: RedisProc | null = null

t.before(async () => {
  // Failure detection is not under test here: timeouts a busy machine cannot trip.
  cluster = await startCluster({ nodes: 3, t, args: ['--request-timeout-ms', '2000', '--down-after-ms', '3000'] })
  ports = cluster.nodes.map(n => n.port)
  redis = await startRedisServer()
})

const skip = !haveRedisServer() && 'no redis-server'

for (const [name, script] of SCRIPTS) {
  t.test(`${name}, through every node`, { skip }, async t => { await sameAsRedis(t, script, ports, [(redis as RedisProc).port]) })
}

t.test('3 clients × 200 INCR, HINCRBY and ZINCRBY at once, one client per node: every acknowledged increment counts', async t => {
  await countersEverywhere(t, new AppClients(ports, t), 3, 200)
})

t.test('a counter that was deleted or expired, then incremented at once through every node (a rate limiter\'s next window)', async t => {
  const c = new AppClients(ports, t)
  for (const [label, end] of [
    ['deleted', async (r: Redis, k: string) => { await r.set(k, '7'); await r.del(k) }],
    ['expired', async (r: Redis, k: string) => { await r.set(k, '7', 'PX', 50); await sleep(300) }],
    ['emptied', async (r: Redis, k: string) => { await r.sadd(k, 'm'); await r.srem(k, 'm') }]
  ] as const) {
    const key = `window:${label}`
    await end(await c.ioredis(0), key)
    const counted = await incrementConcurrently(3, 20, async (w) => { const r = await c.ownIoredis(w); return async () => await r.incr(key) })
    t.same(counted.errors, [], `${label}: every increment acknowledged`)
    for (let i = 0; i < ports.length; i++) {
      const read = Number(await (await c.ioredis(i)).get(key))
      t.equal(read, counted.acked, `${label}: node ${i} reads the ${counted.acked} acknowledged increments (it reads ${read})`)
    }
  }
})

t.test('a time to live set through one node: gone through every node after it, and a new life starts empty', async t => {
  const c = new AppClients(ports, t)
  const [a, b, d] = await Promise.all([c.ioredis(0), c.ioredis(1), c.ioredis(2)])
  const nr = await c.nodeRedis(1)
  t.equal(await a.set('ttl:page', 'html', 'PX', 300), 'OK', 'SET PX 300 through node 0')
  t.equal(await a.set('ttl:kept', 'html', 'PX', 600_000), 'OK', 'SET PX 600000 through node 0')
  t.equal(await b.hset('ttl:session', 'user', 'ann', 'cart', '3'), 2)
  t.equal(await b.pexpire('ttl:session', 300), 1, 'HSET + PEXPIRE 300 through node 1')
  t.equal(await d.sadd('ttl:online', 'ann', 'ben'), 2)
  t.equal(await d.pexpire('ttl:online', 300), 1, 'SADD + PEXPIRE 300 through node 2')
  t.equal(await nr.incrBy('ttl:hits', 5), 5)
  t.equal(await nr.pExpire('ttl:hits', 300), 1, 'INCRBY + PEXPIRE 300 through node 1 (node-redis)')
  t.equal(await a.zadd('ttl:board', 10, 'ann'), 1)
  t.equal(await a.pexpire('ttl:board', 300), 1, 'ZADD + PEXPIRE 300 through node 0')
  await sleep(1000)
  for (let i = 0; i < ports.length; i++) {
    const r = await c.ioredis(i)
    const n = await c.nodeRedis(i)
    t.equal(await r.get('ttl:page'), null, `node ${i}: GET of the expired page is nil`)
    t.equal(await r.get('ttl:kept'), 'html', `node ${i}: the page with 10 minutes left is there`)
    t.strictSame(plain(await n.hGetAll('ttl:session')), plain(new Map()), `node ${i}: HGETALL of the expired session is an empty map`)
    t.strictSame(plain(await n.sMembers('ttl:online')), plain(new Set()), `node ${i}: SMEMBERS of the expired set is an empty set`)
    t.equal(await r.get('ttl:hits'), null, `node ${i}: the expired counter is nil`)
    t.equal(await r.zscore('ttl:board', 'ann'), null, `node ${i}: ZSCORE in the expired sorted set is nil`)
    t.equal(await r.exists('ttl:page', 'ttl:session', 'ttl:online', 'ttl:hits', 'ttl:board'), 0, `node ${i}: EXISTS counts none of them`)
    t.equal(await r.pttl('ttl:session'), -2, `node ${i}: PTTL says no such key`)
  }
  t.equal(await b.incr('ttl:hits'), 1, 'INCR after the expiry starts from 0')
  t.equal(await d.sadd('ttl:online', 'cal'), 1, 'SADD after the expiry')
  t.equal(await a.hset('ttl:session', 'user', 'cal'), 1, 'HSET after the expiry')
  for (let i = 0; i < ports.length; i++) {
    const n = await c.nodeRedis(i)
    t.strictSame(plain(await n.sMembers('ttl:online')), plain(new Set(['cal'])), `node ${i}: the new set holds only the new member`)
    t.strictSame(plain(await n.hGetAll('ttl:session')), plain(new Map([['user', 'cal']])), `node ${i}: the new session holds only the new field`)
    t.equal(await n.get('ttl:hits'), '1', `node ${i}: the new counter is 1`)
    t.equal(await n.ttl('ttl:online'), -1, `node ${i}: the new set has no time to live`)
  }
})

t.test('redis-cli one-shot commands through every node print as against redis-server', { skip: skip || missing('redis-cli') }, async t => {
  await cliOneShots(t, ports, (redis as RedisProc).port)
})

t.test('redis-benchmark through every node at once: -t lpush the clear error, -t sadd,hset,incr no error', { skip: missing('redis-benchmark') || missing('redis-cli') }, async t => {
  await benchmarkTypes(t, ports, 100)
})
