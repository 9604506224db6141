// MULTI / EXEC / DISCARD / WATCH / UNWATCH on one node: the exact bytes
// redis-server sends for the same sequences (one connection, or two when
// another client changes a watched key), sent one command at a time and as one
// pipeline; then the way applications use them through ioredis, node-redis,
// redis-py (its default transactional pipeline, for real and as its wire
// sequence) and redis-cli.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { Redis } from 'ioredis'
import { createClient, WatchError } from 'redis'
import { haveRedisServer, startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import { RawClient, cliScript, exchange, frame, missing, parseReplies, run, transcript } from '../helpers/clients.js'
import { TRANSACTIONS as SCRIPTS } from '../helpers/surface-cases.js'

let node: ServerProc
let redis: RedisProc | null = null

t.before(async () => {
  node = await startServer()
  redis = await startRedisServer()
})

const noRedis = !haveRedisServer() && 'no redis-server'

for (const [name, steps] of Object.entries(SCRIPTS)) {
  t.test(name, { skip: noRedis }, async tt => {
    const ref = (redis as RedisProc).port
    const flush: Array<[number, string[]]> = [[9, ['FLUSHALL']]]
    const [ours, theirs] = [await transcript(node.port, [...flush, ...steps]), await transcript(ref, [...flush, ...steps])]
    tt.same(ours, theirs, 'same bytes as redis-server, reply by reply')
  })
}

t.test('the same sequences as one pipeline (one write): same bytes as redis-server', { skip: noRedis }, async tt => {
  const ref = (redis as RedisProc).port
  for (const [name, steps] of Object.entries(SCRIPTS)) {
    if (steps.some(([n]) => n !== 1)) continue // several connections, or a step left out
    const input = Buffer.concat([frame('FLUSHALL'), ...steps.map(([, a]) => frame(...a))])
    const expected = steps.length + 1
    const until = (b: Buffer): boolean => parseReplies(b).length >= expected
    const [ours, theirs] = await Promise.all([exchange(node.port, input, { until, quietMs: 5000 }), exchange(ref, input, { until, quietMs: 5000 })])
    tt.equal(ours.out.toString('latin1'), theirs.out.toString('latin1'), name)
  }
})

t.test('a bad command in the middle of a long pipelined transaction', { skip: noRedis }, async tt => {
  const ref = (redis as RedisProc).port
  const cmds: string[][] = [['FLUSHALL'], ['MULTI']]
  for (let i = 0; i < 200; i++) cmds.push(i === 150 ? ['GET'] : ['INCR', `n${i % 7}`])
  cmds.push(['EXEC'], ['MULTI'])
  for (let i = 0; i < 200; i++) cmds.push(['INCR', `n${i % 7}`])
  cmds.push(['EXEC'], ['MGET', 'n0', 'n6'])
  const input = Buffer.concat(cmds.map(a => frame(...a)))
  const until = (b: Buffer): boolean => parseReplies(b).length >= cmds.length
  const [ours, theirs] = await Promise.all([exchange(node.port, input, { until, quietMs: 5000 }), exchange(ref, input, { until, quietMs: 5000 })])
  tt.equal(ours.out.toString('latin1'), theirs.out.toString('latin1'))
})

async function ioredis (port: number): Promise<Redis> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  r.on('error', () => {})
  await r.connect()
  return r
}

t.test('ioredis: multi() and a queue-time error', async tt => {
  const r = await ioredis(node.port)
  tt.teardown(() => { r.disconnect() })
  tt.same(await r.multi().set('io:a', '1').incr('io:a').incrby('io:a', 5).get('io:a').exec(), [[null, 'OK'], [null, 2], [null, 7], [null, '7']])
  const res = await r.multi().set('io:s', 'x').incr('io:s').get('io:s').exec() as Array<[Error | null, unknown]>
  tt.match(res[1][0]?.message, /not an integer/, 'a run-time error is in its slot')
  tt.equal(res[2][1], 'x', 'the command after it ran')
  await tt.rejects(r.multi().set('io:b', '1').call('NOSUCHCMD').exec(), /EXECABORT/, 'a queue-time error rejects exec()')
  tt.equal(await r.get('io:b'), null, 'nothing ran')
  // multi({ pipeline: false }): MULTI, each command and EXEC sent as they are called.
  tt.equal(await r.multi({ pipeline: false }), 'OK')
  tt.equal(await r.set('io:p', '1'), 'QUEUED')
  tt.equal(await r.incr('io:p'), 'QUEUED')
  tt.same(await r.exec(), [[null, 'OK'], [null, 2]])
})

t.test('ioredis: a WATCH-guarded update retried until it wins', async tt => {
  const r = await ioredis(node.port)
  const other = await ioredis(node.port)
  tt.teardown(() => { r.disconnect(); other.disconnect() })
  await r.set('io:balance', '100')
  let attempts = 0
  let result: unknown = null
  while (result === null && attempts < 5) {
    attempts++
    await r.watch('io:balance')
    const balance = Number(await r.get('io:balance'))
    if (attempts === 1) await other.incrby('io:balance', 50) // someone else's deposit lands in between
    result = await r.multi().set('io:balance', String(balance - 30)).exec()
  }
  tt.equal(attempts, 2, 'the first EXEC saw the change (null) and the retry won')
  tt.same(result, [[null, 'OK']])
  tt.equal(await r.get('io:balance'), '120', 'the deposit is kept')
})

t.test('ioredis: rate limiter, INCR and EXPIRE in MULTI', async tt => {
  const r = await ioredis(node.port)
  tt.teardown(() => { r.disconnect() })
  const hits: number[] = []
  for (let i = 0; i < 4; i++) {
    const res = await r.multi().incr('rl:user1').expire('rl:user1', 60).exec() as Array<[Error | null, unknown]>
    tt.equal(res[1][0], null, 'EXPIRE ran')
    hits.push(Number(res[0][1]))
  }
  tt.same(hits, [1, 2, 3, 4])
  tt.ok(Number(await r.ttl('rl:user1')) > 0, 'the window expires')
})

t.test('node-redis: multi(), watch() and WatchError', async tt => {
  const c = createClient({ url: `redis://127.0.0.1:${node.port}` })
  const other = createClient({ url: `redis://127.0.0.1:${node.port}` })
  c.on('error', () => {})
  other.on('error', () => {})
  await c.connect()
  await other.connect()
  tt.teardown(async () => { await c.quit(); await other.quit() })
  tt.same(await c.multi().set('nr:a', '1').incr('nr:a').get('nr:a').exec(), ['OK', 2, '2'])
  await c.set('nr:w', 'v1')
  await c.watch('nr:w')
  await other.set('nr:w', 'v2')
  await tt.rejects(c.multi().set('nr:w', 'mine').exec(), { message: new WatchError().message }, 'a watched change: WatchError')
  tt.equal(await c.get('nr:w'), 'v2')
  await c.watch('nr:w')
  tt.same(await c.multi().set('nr:w', 'mine').exec(), ['OK'], 'unchanged: the transaction runs')
  tt.equal(await c.get('nr:w'), 'mine')
})

/** redis-py's pipeline(transaction=True).execute(): MULTI, the commands, EXEC in one write, replies parsed in order. */
function pyPipeline (cmds: string[][]): Buffer {
  return Buffer.concat([frame('MULTI'), ...cmds.map(c => frame(...c)), frame('EXEC')])
}

t.test('redis-py\'s default pipeline, as its wire sequence: same bytes as redis-server', { skip: noRedis }, async tt => {
  const ref = (redis as RedisProc).port
  const batches: string[][][] = [
    [['SET', 'py:a', '1'], ['INCR', 'py:a'], ['GET', 'py:a']],
    [['SET', 'py:s', 'x'], ['INCR', 'py:s'], ['GET', 'py:s']],
    [['SET', 'py:b', '1'], ['NOSUCH'], ['GET', 'py:b']]
  ]
  for (const cmds of batches) {
    const until = (b: Buffer): boolean => parseReplies(b).length >= cmds.length + 2
    const [ours, theirs] = await Promise.all([exchange(node.port, pyPipeline(cmds), { until, quietMs: 5000 }), exchange(ref, pyPipeline(cmds), { until, quietMs: 5000 })])
    tt.equal(ours.out.toString('latin1'), theirs.out.toString('latin1'), cmds.map(c => c[0]).join(' '))
  }
})

const PYTHON = ['/usr/bin/python3', 'python3'].find(p => p === 'python3' || existsSync(p)) ?? 'python3'
const redisPy = spawnSync(PYTHON, ['-c', 'import redis'], { stdio: 'ignore' }).status === 0

t.test('redis-py itself: pipeline() (transaction=True) and transaction() with WATCH', { skip: !redisPy && 'redis-py is not installed (Debian: python3-redis)' }, async tt => {
  const script = `
import redis, sys
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]), decode_responses=True)
other = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]), decode_responses=True)
p = r.pipeline()
p.set('rp:a', 1).incr('rp:a').incrby('rp:a', 10).get('rp:a')
print(p.execute())
try:
    r.pipeline().set('rp:b', 1).execute_command('NOSUCH').execute()
except redis.exceptions.ResponseError as e:
    print('error', str(e).split(' ')[0])
print(r.get('rp:b'))
r.set('rp:n', 10)
tries = []
def update(pipe):
    n = int(pipe.get('rp:n'))
    tries.append(n)
    if len(tries) == 1:
        other.incr('rp:n')
    pipe.multi()
    pipe.set('rp:n', n * 2)
print(r.transaction(update, 'rp:n'), tries, r.get('rp:n'))
`
  const res = await run(PYTHON, ['-c', script, String(node.port)])
  tt.equal(res.code, 0, res.stderr)
  tt.equal(res.stdout, "[True, 2, 12, '12']\nerror Command\nNone\n[True] [10, 11] 22\n", 'results, EXECABORT, and a retried WATCH transaction')
})

t.test('redis-cli: a transaction typed line by line', { skip: missing('redis-cli') || noRedis }, async tt => {
  const ref = (redis as RedisProc).port
  const lines = ['FLUSHALL', 'MULTI', 'SET cli:a 1', 'INCR cli:a', 'GET cli:a', 'EXEC', 'EXEC', 'MULTI', 'NOSUCH', 'EXEC']
  const [ours, theirs] = await Promise.all([cliScript(node.port, lines, ['--no-raw']), cliScript(ref, lines, ['--no-raw'])])
  tt.equal(ours, theirs)
})

t.test('CLIENT LIST shows a connection inside MULTI (flags=x, multi=queued count)', async tt => {
  const c = await RawClient.connect(node.port)
  const observer = await RawClient.connect(node.port)
  tt.teardown(() => { c.close(); observer.close() })
  const id = (await c.call('CLIENT', 'ID')).toString('latin1').slice(1, -2)
  const line = async (): Promise<string> => (await observer.call('CLIENT', 'LIST', 'ID', id)).toString('latin1')
  await c.call('MULTI')
  await c.call('SET', 'cl:a', '1')
  await c.call('SET', 'cl:b', '1')
  tt.match(await line(), /flags=x .*multi=2 /, 'in MULTI with two queued')
  await c.call('DISCARD')
  tt.match(await line(), /flags=N .*multi=-1 /, 'out of it')
})
