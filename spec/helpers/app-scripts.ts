// The application scripts of spec/helpers/apps.ts: what a web application does
// with Redis, written the way its code calls ioredis and node-redis. Step i of
// a script uses node i mod k, so on a cluster every request of a session, a
// cache entry or a leaderboard goes through another node than the one before.
import type { Test } from 'tap'
import type { Redis } from 'ioredis'
import { cliFormatted, cliRaw, redisBenchmark, redisCli } from './clients.js'
import { ttlWithin, unordered, type AppClients, type NodeRedis, type Script } from './apps.js'

const NODES = [0, 1, 2]

async function ioredisAll (c: AppClients, options = {}): Promise<Redis[]> {
  return await Promise.all(NODES.map(async i => await c.ioredis(i, options)))
}

async function nodeRedisAll (c: AppClients): Promise<NodeRedis[]> {
  return await Promise.all(NODES.map(async i => await c.nodeRedis(i)))
}

/** A session store (ioredis, RESP3 with its legacy reply shapes): a hash per session, a sliding expiry, logout. */
export const sessionStore: Script = async (c, log) => {
  const io = await ioredisAll(c)
  const id = 'session:7f3a9c'
  await log.step('login: HSET the session fields', async () => await io[0].hset(id, { user: 'alice', role: 'admin', cart: '0' }))
  await log.step('login: EXPIRE 1800', async () => await io[0].expire(id, 1800))
  await log.step('next request: HGETALL', async () => await io[1].hgetall(id))
  await log.step('TTL', async () => await io[2].ttl(id), ttlWithin(0, 1800))
  await log.step('HINCRBY cart 2', async () => await io[1].hincrby(id, 'cart', 2))
  await log.step('HSET lastPage', async () => await io[2].hset(id, 'lastPage', '/checkout'))
  await log.step('HMGET', async () => await io[0].hmget(id, 'user', 'cart', 'missing'))
  await log.step('refresh: EXPIRE 3600', async () => await io[1].expire(id, 3600))
  await log.step('TTL after the refresh', async () => await io[2].ttl(id), ttlWithin(1800, 3600))
  await log.step('EXPIRE 600 GT (shorter: refused)', async () => await io[0].expire(id, 600, 'GT'))
  await log.step('EXPIRE 7200 XX', async () => await io[0].expire(id, 7200, 'XX'))
  await log.step('PTTL', async () => await io[1].pttl(id), ttlWithin(3600_000, 7200_000))
  await log.step('GET on the hash (an application bug)', async () => await io[2].get(id))
  await log.step('HEXISTS role', async () => await io[0].hexists(id, 'role'))
  await log.step('HDEL role', async () => await io[1].hdel(id, 'role', 'missing'))
  await log.step('HLEN', async () => await io[2].hlen(id))
  await log.step('HKEYS', async () => await io[0].hkeys(id), unordered)
  await log.step('TYPE', async () => await io[1].type(id))
  await log.step('logout: DEL', async () => await io[2].del(id))
  await log.step('HGETALL after logout', async () => await io[0].hgetall(id))
  await log.step('TTL after logout', async () => await io[1].ttl(id))
  await log.step('EXISTS after logout', async () => await io[2].exists(id))
  await log.step('EXPIRE a logged-out session', async () => await io[0].expire(id, 10))
  const other = 'session:remember-me'
  await log.step('a session without expiry: HSET', async () => await io[1].hset(other, 'user', 'bob'))
  await log.step('its TTL', async () => await io[2].ttl(other))
  await log.step('PERSIST without expiry', async () => await io[0].persist(other))
  await log.step('EXPIRE 100', async () => await io[1].expire(other, 100))
  await log.step('PERSIST', async () => await io[2].persist(other))
  await log.step('TTL after PERSIST', async () => await io[0].ttl(other))
}

/** A page cache (node-redis, RESP3): SET EX, GET, TTL, GETEX, cache-aside with SET NX, invalidation. */
export const pageCache: Script = async (c, log) => {
  const nr = await nodeRedisAll(c)
  const home = 'cache:/home'
  const html = '<html>home</html>'
  await log.step('miss: GET', async () => await nr[0].get(home))
  await log.step('fill: SET EX 300', async () => await nr[0].set(home, html, { expiration: { type: 'EX', value: 300 } }))
  await log.step('hit: GET', async () => await nr[1].get(home))
  await log.step('TTL', async () => await nr[2].ttl(home), ttlWithin(0, 300))
  await log.step('a racing filler: SET NX EX', async () => await nr[1].set(home, 'stale', { condition: 'NX', expiration: { type: 'EX', value: 300 } }))
  await log.step('GETEX EX 600 (extend on read)', async () => await nr[2].getEx(home, { type: 'EX', value: 600 }))
  await log.step('TTL after GETEX', async () => await nr[0].ttl(home), ttlWithin(300, 600))
  await log.step('PTTL', async () => await nr[1].pTTL(home), ttlWithin(300_000, 600_000))
  await log.step('GETEX PERSIST', async () => await nr[2].getEx(home, { type: 'PERSIST' }))
  await log.step('TTL after PERSIST', async () => await nr[0].ttl(home))
  await log.step('SET EX 100', async () => await nr[1].set(home, html, { expiration: { type: 'EX', value: 100 } }))
  await log.step('SET KEEPTTL (content update)', async () => await nr[2].set(home, '<html>v2</html>', { expiration: 'KEEPTTL' }))
  await log.step('TTL kept', async () => await nr[0].ttl(home), ttlWithin(0, 100))
  await log.step('SET GET (swap)', async () => await nr[1].set(home, '<html>v3</html>', { GET: true, expiration: 'KEEPTTL' }))
  const about = 'cache:/about'
  await log.step('SETEX 60', async () => await nr[2].setEx(about, 60, 'about'))
  await log.step('PSETEX 90000', async () => await nr[0].pSetEx('cache:/faq', 90_000, 'faq'))
  await log.step('MGET several pages', async () => await nr[1].mGet([home, about, 'cache:/faq', 'cache:/none']))
  await log.step('invalidate: DEL', async () => await nr[2].del([about, 'cache:/none']))
  await log.step('GET after DEL', async () => await nr[0].get(about))
  await log.step('GETEX of a missing page', async () => await nr[1].getEx(about, { type: 'EX', value: 10 }))
  await log.step('SET EX 0 (bad ttl)', async () => await nr[2].set(about, 'x', { expiration: { type: 'EX', value: 0 } }))
  await log.step('GETDEL', async () => await nr[0].getDel('cache:/faq'))
  await log.step('TYPE', async () => await nr[1].type(home))
}

/** A game leaderboard: ZADD/ZINCRBY through ioredis (RESP3 doubles as numbers), reads through node-redis and ioredis. */
export const leaderboard: Script = async (c, log) => {
  const io = await ioredisAll(c, { replyMapping: 'resp3' })
  const legacy = await ioredisAll(c)
  const nr = await nodeRedisAll(c)
  const lb = 'leaderboard:season-3'
  await log.step('ZADD four players', async () => await io[0].zadd(lb, 1200, 'alice', 950, 'bob', 1800, 'carol', 1200, 'dave'))
  await log.step('ZINCRBY bob 300', async () => await io[1].zincrby(lb, 300, 'bob'))
  await log.step('ZADD GT lower score', async () => await io[2].zadd(lb, 'GT', 1100, 'alice'))
  await log.step('ZADD GT CH higher score', async () => await io[0].zadd(lb, 'GT', 'CH', 1500, 'alice'))
  await log.step('ZADD NX a new player and an existing one', async () => await io[1].zadd(lb, 'NX', 10, 'erin', 99, 'carol'))
  await log.step('top 3: ZRANGE REV WITHSCORES (node-redis)', async () => await nr[2].zRangeWithScores(lb, 0, 2, { REV: true }))
  await log.step('everyone: ZRANGE REV WITHSCORES (ioredis legacy)', async () => await legacy[0].zrange(lb, 0, '-1', 'REV', 'WITHSCORES'))
  await log.step('everyone: ZRANGE WITHSCORES (ioredis resp3)', async () => await io[1].zrange(lb, 0, '-1', 'WITHSCORES'))
  await log.step('ZSCORE carol (node-redis double)', async () => await nr[1].zScore(lb, 'carol'))
  await log.step('ZSCORE missing', async () => await nr[2].zScore(lb, 'zed'))
  await log.step('ZSCORE bob (ioredis resp3)', async () => await io[2].zscore(lb, 'bob'))
  await log.step('ZSCORE bob (ioredis legacy)', async () => await legacy[0].zscore(lb, 'bob'))
  await log.step('ZRANK bob', async () => await nr[0].zRank(lb, 'bob'))
  await log.step('ZREVRANK carol', async () => await nr[1].zRevRank(lb, 'carol'))
  await log.step('ZRANK missing', async () => await nr[2].zRank(lb, 'zed'))
  await log.step('ZCARD', async () => await nr[0].zCard(lb))
  await log.step('ZINCRBY erin 0.25', async () => await nr[1].zIncrBy(lb, 0.25, 'erin'))
  await log.step('ZMSCORE', async () => await nr[2].zmScore(lb, ['erin', 'zed', 'alice']))
  await log.step('ZRANGE BYSCORE LIMIT', async () => await legacy[1].zrange(lb, 1000, '+inf', 'BYSCORE', 'LIMIT', 0, 2, 'WITHSCORES'))
  await log.step('ZCOUNT', async () => await legacy[2].zcount(lb, 1000, 2000))
  await log.step('ZREM erin', async () => await io[0].zrem(lb, 'erin', 'zed'))
  await log.step('ZRANGE after ZREM', async () => await nr[1].zRange(lb, 0, -1))
  await log.step('ZINCRBY on a string key', async () => { await io[2].set('leaderboard:name', 'x'); return await io[2].zincrby('leaderboard:name', 1, 'a') })
}

/** Group membership (node-redis RESP3 sets as Set, ioredis for the rest). */
export const membership: Script = async (c, log) => {
  const nr = await nodeRedisAll(c)
  const io = await ioredisAll(c, { protocol: 2 })
  const admins = 'group:admins'
  const devs = 'group:devs'
  await log.step('SADD admins', async () => await nr[0].sAdd(admins, ['alice', 'bob']))
  await log.step('SADD admins again', async () => await nr[1].sAdd(admins, ['bob', 'carol']))
  await log.step('SADD devs', async () => await nr[2].sAdd(devs, ['bob', 'carol', 'dave']))
  await log.step('SISMEMBER alice', async () => await nr[0].sIsMember(admins, 'alice'))
  await log.step('SISMEMBER zed', async () => await nr[1].sIsMember(admins, 'zed'))
  await log.step('SMISMEMBER', async () => await nr[2].smIsMember(admins, ['alice', 'zed', 'carol']))
  await log.step('SMEMBERS (a RESP3 set)', async () => await nr[0].sMembers(admins))
  await log.step('SMEMBERS (ioredis RESP2 array)', async () => await io[1].smembers(admins), unordered)
  await log.step('SCARD', async () => await nr[1].sCard(admins))
  await log.step('SINTER admins devs', async () => await nr[2].sInter([admins, devs]))
  await log.step('SUNION (ioredis)', async () => await io[0].sunion(admins, devs), unordered)
  await log.step('SDIFF devs admins', async () => await nr[1].sDiff([devs, admins]))
  await log.step('SINTERCARD', async () => await nr[2].sInterCard([admins, devs]))
  await log.step('SREM alice and a stranger', async () => await nr[0].sRem(admins, ['alice', 'zed']))
  await log.step('SMEMBERS after SREM', async () => await nr[1].sMembers(admins))
  await log.step('EXPIRE the group 600', async () => await nr[2].expire(admins, 600))
  await log.step('SREM the rest', async () => await nr[2].sRem(admins, ['bob', 'carol']))
  await log.step('EXISTS after the last SREM', async () => await nr[0].exists(admins))
  await log.step('SMEMBERS of the empty group', async () => await nr[1].sMembers(admins))
  await log.step('SISMEMBER of the empty group', async () => await io[2].sismember(admins, 'bob'))
  await log.step('SADD to the emptied group', async () => await nr[0].sAdd(admins, 'erin'))
  await log.step('TTL of the new group (the old one was deleted)', async () => await io[1].ttl(admins))
  await log.step('SADD to a hash key', async () => { await io[0].hset('group:meta', 'owner', 'alice'); return await io[0].sadd('group:meta', 'x') })
}

/** A fixed-window rate limiter without MULTI: INCR, then EXPIRE NX (so a crash between them cannot leave a window without end). */
export const rateLimiter: Script = async (c, log) => {
  const io = await ioredisAll(c, { protocol: 2 })
  const key = 'ratelimit:api:user42'
  const limit = 10
  for (let i = 0; i < 12; i++) {
    const n = await log.step(`request ${i}: INCR`, async () => await io[i % io.length].incr(key))
    await log.step(`request ${i}: EXPIRE 60 NX`, async () => await io[(i + 1) % io.length].expire(key, 60, 'NX'))
    log.note(`request ${i}: verdict`, typeof n === 'number' && n <= limit ? 'allowed' : 'limited')
  }
  await log.step('window TTL', async () => await io[2].ttl(key), ttlWithin(0, 60))
  await log.step('GET the count', async () => await io[0].get(key))
  await log.step('DECRBY (refund 2)', async () => await io[1].decrby(key, 2))
  await log.step('INCRBY past int64', async () => { await io[2].set('ratelimit:big', '9223372036854775806'); return await io[2].incrby('ratelimit:big', 5) })
  await log.step('INCR on a non-integer', async () => { await io[0].set('ratelimit:text', 'abc'); return await io[0].incr('ratelimit:text') })
}

/**
 * A sliding-window rate limiter (ioredis MULTI: ZREMRANGEBYSCORE the old
 * requests, ZADD this one, ZCARD, PEXPIRE), then weekly leaderboards summed
 * with ZUNIONSTORE and read with ZREVRANGE (node-redis). Request times are
 * fixed numbers, so both servers see the same windows.
 */
export const slidingWindow: Script = async (c, log) => {
  const io = await ioredisAll(c, { protocol: 2 })
  const nr = await nodeRedisAll(c)
  const key = 'ratelimit:sliding:user42'
  const windowMs = 1000
  for (let i = 0; i < 8; i++) {
    const now = 10_000 + i * 300
    await log.step(`request ${i} at ${now}: MULTI ZREMRANGEBYSCORE ZADD ZCARD PEXPIRE`, async () =>
      await io[i % io.length].multi().zremrangebyscore(key, 0, now - windowMs).zadd(key, now, `req-${i}`).zcard(key).pexpire(key, windowMs).exec())
  }
  await log.step('the window: ZRANGE WITHSCORES', async () => await io[1].zrange(key, 0, '-1', 'WITHSCORES'))
  await log.step('ZREMRANGEBYRANK keeps the newest 2', async () => await io[2].zremrangebyrank(key, 0, -3))
  await log.step('ZRANGE after', async () => await io[0].zrange(key, 0, '-1'))
  await log.step('ZADD week 1', async () => await nr[0].zAdd('scores:w1', [{ score: 10, value: 'alice' }, { score: 7, value: 'bob' }]))
  await log.step('ZADD week 2', async () => await nr[1].zAdd('scores:w2', [{ score: 3, value: 'bob' }, { score: 12, value: 'carol' }]))
  await log.step('ZUNIONSTORE the month', async () => await nr[2].zUnionStore('scores:month', ['scores:w1', 'scores:w2']))
  await log.step('ZREVRANGE WITHSCORES of the month', async () => await nr[0].zRangeWithScores('scores:month', 0, -1, { REV: true }))
  await log.step('ZINTER WITHSCORES AGGREGATE MAX', async () => await nr[1].zInterWithScores(['scores:w1', 'scores:w2'], { AGGREGATE: 'MAX' }))
  await log.step('ZDIFF', async () => await nr[2].zDiff(['scores:w1', 'scores:w2']))
  await log.step('ZMPOP MAX', async () => await nr[0].zmPop(['scores:none', 'scores:month'], 'MAX'))
}

export const SCRIPTS: Array<[string, Script]> = [
  ['session store (ioredis)', sessionStore],
  ['page cache (node-redis)', pageCache],
  ['leaderboard (ioredis + node-redis)', leaderboard],
  ['set membership (node-redis + ioredis)', membership],
  ['rate limiter (ioredis, INCR + EXPIRE NX)', rateLimiter],
  ['sliding-window limiter and summed leaderboards (ioredis MULTI + node-redis)', slidingWindow]
]

// ---------------------------------------------------------------- concurrent increments

export interface Counted {
  issued: number
  /** Increments the server acknowledged. */
  acked: number
  errors: string[]
  /** Workers whose replies did not strictly increase (each worker's commands share one connection and one coordinator). */
  notIncreasing: number[]
}

/**
 * `workers` workers, worker w on node w, each sending `each` increments by 1
 * at once (pipelined on its own connection); inc(w) opens worker w's
 * connection and returns its increment call.
 */
export async function incrementConcurrently (workers: number, each: number, inc: (w: number) => Promise<() => Promise<number | string>>): Promise<Counted> {
  const calls = await Promise.all(Array.from({ length: workers }, async (_, w) => await inc(w)))
  const out: Counted = { issued: workers * each, acked: 0, errors: [], notIncreasing: [] }
  await Promise.all(calls.map(async (call, w) => {
    const replies = await Promise.allSettled(Array.from({ length: each }, async () => Number(await call())))
    let last = -Infinity
    for (const r of replies) {
      if (r.status === 'rejected') {
        out.errors.push((r.reason as Error).message)
        continue
      }
      out.acked++
      if (!(r.value > last) && !out.notIncreasing.includes(w)) out.notIncreasing.push(w)
      last = r.value
    }
  }))
  return out
}

/**
 * Counters incremented at once by one worker per node (INCR through ioredis,
 * HINCRBY through node-redis, ZINCRBY through ioredis with RESP3 doubles):
 * every node then reads exactly the acknowledged increments.
 */
export async function countersEverywhere (t: Test, c: AppClients, workers: number, each: number): Promise<void> {
  const kinds: Array<[string, (w: number) => Promise<() => Promise<number | string>>, (i: number) => Promise<unknown>]> = [
    ['INCR', async (w) => { const r = await c.ownIoredis(w); return async () => await r.incr('counter:pageviews') },
      async i => await (await c.ioredis(i)).get('counter:pageviews')],
    ['HINCRBY', async (w) => { const r = await c.ownNodeRedis(w); return async () => await r.hIncrBy('stats:page:/home', 'views', 1) },
      async i => await (await c.nodeRedis(i)).hGet('stats:page:/home', 'views')],
    ['ZINCRBY', async (w) => { const r = await c.ownIoredis(w, { replyMapping: 'resp3' }); return async () => await r.zincrby('trending', 1, 'post:42') as unknown as number },
      async i => await (await c.nodeRedis(i)).zScore('trending', 'post:42')]
  ]
  // The three counters at once, as an application bumps several counters per request.
  const counted = await Promise.all(kinds.map(async ([, inc]) => await incrementConcurrently(workers, each, inc)))
  for (let k = 0; k < kinds.length; k++) {
    const [name, , read] = kinds[k]
    const { errors, issued, acked, notIncreasing } = counted[k]
    t.same(errors, [], `${name}: every one of ${issued} increments acknowledged`)
    t.same(notIncreasing, [], `${name}: each worker's replies strictly increase`)
    for (let i = 0; i < c.ports.length; i++) {
      t.equal(Number(await read(i)), acked, `${name}: node ${i} reads the ${acked} acknowledged increments`)
    }
  }
}

/**
 * redis-cli one-shot commands, each through the next node, printed exactly as
 * redis-cli prints the same commands against redis-server (RESP2 and -3). The
 * chains touch distinct keys and run side by side; each runs in order.
 */
export async function cliOneShots (t: Test, ports: number[], reference: number): Promise<void> {
  const chains: string[][][] = [
    [['ZADD', 'cli:lb', '10', 'ann', '20.5', 'ben', '15', 'cal'], ['ZRANGE', 'cli:lb', '0', '-1', 'REV', 'WITHSCORES'],
      ['-3', 'ZRANGE', 'cli:lb', '0', '1', 'WITHSCORES'], ['ZSCORE', 'cli:lb', 'ben'], ['-3', 'ZSCORE', 'cli:lb', 'ben'], ['ZINCRBY', 'cli:lb', '1.5', 'ann']],
    [['HSET', 'cli:sess', 'user', 'ann', 'visits', '1'], ['HINCRBY', 'cli:sess', 'visits', '2'], ['HMGET', 'cli:sess', 'user', 'visits', 'none'],
      ['-3', 'HMGET', 'cli:sess', 'user'], ['TYPE', 'cli:sess'], ['GET', 'cli:sess'], ['DEL', 'cli:sess', 'cli:none'], ['EXISTS', 'cli:sess']],
    [['SADD', 'cli:tags', 'red'], ['SISMEMBER', 'cli:tags', 'red'], ['-3', 'SMEMBERS', 'cli:tags'], ['SCARD', 'cli:tags']],
    [['SET', 'cli:token', 'abc', 'EXAT', '4102444800'], ['EXPIRETIME', 'cli:token'], ['PERSIST', 'cli:token'], ['TTL', 'cli:token']],
    [['INCR', 'cli:hits'], ['INCRBY', 'cli:hits', '41'], ['GET', 'cli:hits']]
  ]
  await Promise.all(chains.map(async (chain, k) => {
    for (let i = 0; i < chain.length; i++) {
      const [got, want] = await Promise.all([cliFormatted(ports[(k + i) % ports.length], ...chain[i]), cliFormatted(reference, ...chain[i])])
      t.equal(got, want, `redis-cli ${chain[i].join(' ')}`)
    }
  }))
  const lpush = await redisCli(ports[0], ['--no-raw', 'LPUSH', 'cli:list', 'a'])
  t.match(lpush.stdout + lpush.stderr, /^\(error\) ERR lists are not supported by dynakv/m, 'redis-cli LPUSH prints the clear error')
}

/**
 * redis-benchmark through every node at once: `-t lpush` stops with the clear
 * error; `-t sadd,hset,incr` completes without an error, and its counter (one
 * key, INCRed by every client of every run) holds exactly what was acknowledged.
 */
export async function benchmarkTypes (t: Test, ports: number[], requests: number): Promise<void> {
  const lpush = await redisBenchmark(ports[0], ['-t', 'lpush', '-n', '50', '-c', '2'], { timeoutMs: 30_000 })
  t.not(lpush.code, 0, 'redis-benchmark -t lpush fails')
  t.match(lpush.stderr, /^Error from server: ERR lists are not supported by dynakv/m, `it prints the clear error (stderr: ${lpush.stderr.trim().slice(0, 200)})`)
  t.same(lpush.rows, [], 'and no LPUSH row in its CSV')

  const runs = await Promise.all(ports.map(async port => await redisBenchmark(port, ['-t', 'sadd,hset,incr', '-n', String(requests), '-c', '10'], { timeoutMs: 90_000 })))
  runs.forEach((r, i) => {
    t.equal(r.code, 0, `node ${i}: redis-benchmark exits 0 (stderr: ${r.stderr.trim().slice(0, 200)})`)
    t.notMatch(r.stdout + r.stderr, /error/i, `node ${i}: no error reported`)
    t.same(r.rows.map(row => row.test).sort(), ['HSET', 'INCR', 'SADD'], `node ${i}: one CSV row per test`)
    for (const row of r.rows) t.ok(row.rps > 0, `node ${i}: ${row.test} ${row.rps} requests/s`)
  })
  for (let i = 0; i < ports.length; i++) {
    t.equal(await cliRaw(ports[i], 'GET', 'counter:__rand_int__'), String(requests * ports.length), `node ${i}: INCR counted every request of every run`)
    t.equal(await cliRaw(ports[i], 'SCARD', 'myset'), '1', `node ${i}: SADD myset holds its one member`)
    t.equal(await cliRaw(ports[i], 'HLEN', 'myhash'), '1', `node ${i}: HSET myhash holds its one field`)
  }
}
