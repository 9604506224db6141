// Applications against one dynakv node, as they are written with ioredis and
// node-redis (spec/helpers/app-scripts.ts): each script's transcript must be
// redis-server's, counters incremented by several clients at once count every
// acknowledged increment, redis-cli one-shots print what they print against
// Redis, and redis-benchmark runs the type commands without an error.
import t from 'tap'
import { haveRedisServer, startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import { AppClients, sameAsRedis } from '../helpers/apps.js'
import { SCRIPTS, benchmarkTypes, cliOneShots, countersEverywhere } from '../helpers/app-scripts.js'
import { missing } from '../helpers/clients.js'

let node: ServerProc
let redis: RedisProc | null = null

t.before(async () => {
  node = await startServer()
  redis = await startRedisServer()
})

const skip = !haveRedisServer() && 'no redis-server'

for (const [name, script] of SCRIPTS) {
  t.test(name, { skip }, async t => { await sameAsRedis(t, script, [node.port], [(redis as RedisProc).port]) })
}

t.test('3 clients × 100 INCR, HINCRBY and ZINCRBY at once: every acknowledged increment counts', async t => {
  await countersEverywhere(t, new AppClients([node.port], t), 3, 100)
})

t.test('redis-cli one-shot commands print as against redis-server', { skip: skip || missing('redis-cli') }, async t => {
  await cliOneShots(t, [node.port], (redis as RedisProc).port)
})

t.test('redis-benchmark -t lpush: the clear error; -t sadd,hset,incr: no error', { skip: missing('redis-benchmark') || missing('redis-cli') }, async t => {
  await benchmarkTypes(t, [node.port], 300)
})
