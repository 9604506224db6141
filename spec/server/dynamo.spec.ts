// Dynamo semantics through the wire (docs/design.md#resp-layer and #versioning) on one node: the
// lib/client helpers over ioredis, and raw GETCTX / PUT / DELCTX.

import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { dynamo, type DynamoClient } from '../../lib/client/index.js'
import { startServer, type ServerProc } from '../helpers/server.js'
import { cliRaw, exchange, frame, missing } from '../helpers/clients.js'

let node: ServerProc
t.before(async () => { node = await startServer() })

/** docs/design.md#dotted-version-vectors: the context is printable ASCII (base64url), so redis-cli users can copy it. */
const PRINTABLE = /^[A-Za-z0-9_-]+={0,2}$/

async function client (tt: Test): Promise<{ kv: DynamoClient, redis: Redis }> {
  const redis = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 })
  tt.teardown(() => { redis.disconnect() })
  await redis.connect()
  return { kv: dynamo(redis), redis }
}

const sorted = (v: string[]): string[] => [...v].sort()

t.test('a fresh key reads { values: [], context: "" }', async tt => {
  const { kv } = await client(tt)
  tt.same(await kv.getWithContext('dy:fresh'), { values: [], context: '' })
  const raw = await exchange(node.port, frame('GETCTX', 'dy:fresh'), { until: b => b.length >= 11 })
  tt.equal(raw.out.toString('latin1'), '*2\r\n$0\r\n\r\n*0\r\n', 'raw RESP2: [empty context, empty array]')
})

t.test('put with "" then read: the value and a printable context', async tt => {
  const { kv, redis } = await client(tt)
  const ctx = await kv.put('dy:one', '', 'v1')
  tt.match(ctx, PRINTABLE, 'PUT returns a printable context')
  const read = await kv.getWithContext('dy:one')
  tt.same(read.values, ['v1'])
  tt.match(read.context, PRINTABLE, 'GETCTX context is printable')
  tt.not(read.context, '', 'and not empty')
  tt.equal(await redis.get('dy:one'), 'v1', 'plain GET sees the PUT')
  tt.equal(await redis.exists('dy:one'), 1)
})

t.test('two PUTs with the same stale context both survive as siblings; GET returns the newest', async tt => {
  const { kv, redis } = await client(tt)
  const stale = await kv.put('dy:sib', '', 'base')
  await kv.put('dy:sib', stale, 'a')
  await new Promise(resolve => setTimeout(resolve, 5)) // distinct write timestamps
  await kv.put('dy:sib', stale, 'b')
  const read = await kv.getWithContext('dy:sib')
  tt.same(sorted(read.values), ['a', 'b'], 'GETCTX shows both siblings ("base" is superseded by both)')
  tt.equal(await redis.get('dy:sib'), 'b', 'GET returns one of them: the newest write')
  tt.same(await redis.mget('dy:sib'), ['b'], 'MGET too')
  tt.equal(await redis.strlen('dy:sib'), 1)

  const merged = await kv.put('dy:sib', read.context, 'a+b')
  tt.match(merged, PRINTABLE)
  tt.same((await kv.getWithContext('dy:sib')).values, ['a+b'], 'a PUT with the merged context replaces them: one value')
  tt.equal(await redis.get('dy:sib'), 'a+b')
})

t.test('a PUT supersedes exactly what its context covers (never hides an unseen sibling)', async tt => {
  const { kv } = await client(tt)
  const ctxA = await kv.put('dy:exact', '', 'a')
  await kv.put('dy:exact', '', 'b') // a writer that has seen nothing
  tt.same(sorted((await kv.getWithContext('dy:exact')).values), ['a', 'b'], 'an empty context supersedes nothing')
  await kv.put('dy:exact', ctxA, 'a2')
  tt.same(sorted((await kv.getWithContext('dy:exact')).values), ['a2', 'b'], "a2 replaces a, and b (not in a's context) stays")
})

t.test('DELCTX with the context removes the value', async tt => {
  const { kv, redis } = await client(tt)
  await kv.put('dy:del', '', 'x')
  const { context } = await kv.getWithContext('dy:del')
  const after = await kv.del('dy:del', context)
  tt.match(after, PRINTABLE, 'DELCTX returns a context')
  tt.equal(await redis.get('dy:del'), null, 'GET is nil')
  tt.same((await kv.getWithContext('dy:del')).values, [], 'GETCTX values are empty')
  tt.equal(await redis.exists('dy:del'), 0, 'EXISTS 0')
  tt.equal(await redis.dbsize() >= 0, true)
})

t.test('DELCTX with a stale context leaves concurrent siblings alive', async tt => {
  const { kv, redis } = await client(tt)
  const c0 = await kv.put('dy:del2', '', 'old')
  await kv.put('dy:del2', '', 'concurrent')
  await new Promise(resolve => setTimeout(resolve, 5)) // the tombstone is newer by the clock, not just by order
  await kv.del('dy:del2', c0)
  const read = await kv.getWithContext('dy:del2')
  tt.same(read.values, ['concurrent'], 'only what the context covered is deleted')
  tt.equal(await redis.get('dy:del2'), null, 'GET is nil: the newest sibling is the tombstone (docs/semantics.md)')
  await kv.put('dy:del2', read.context, 'resolved')
  tt.same((await kv.getWithContext('dy:del2')).values, ['resolved'], 'a PUT with the read context supersedes value and tombstone')
  tt.equal(await redis.get('dy:del2'), 'resolved')
})

t.test('SET is a blind overwrite: it supersedes every sibling', async tt => {
  const { kv, redis } = await client(tt)
  await kv.put('dy:blind', '', 'a')
  await kv.put('dy:blind', '', 'b')
  tt.equal((await kv.getWithContext('dy:blind')).values.length, 2)
  tt.equal(await redis.set('dy:blind', 'c'), 'OK')
  tt.same((await kv.getWithContext('dy:blind')).values, ['c'])
  tt.equal(await redis.del('dy:blind'), 1)
  tt.same((await kv.getWithContext('dy:blind')).values, [], 'DEL removes every sibling')
})

t.test('update() merges siblings through the callback', async tt => {
  const { kv } = await client(tt)
  await kv.put('dy:upd', '', 'x')
  await kv.put('dy:upd', '', 'y')
  let seen: string[] = []
  const res = await kv.update('dy:upd', (values) => {
    seen = values
    return sorted(values).join('+')
  })
  tt.same(sorted(seen), ['x', 'y'], 'the callback gets every sibling')
  tt.equal(res.value, 'x+y')
  tt.match(res.context, PRINTABLE)
  tt.same((await kv.getWithContext('dy:upd')).values, ['x+y'], 'one merged value remains')
  const gone = await kv.update('dy:upd', () => null)
  tt.equal(gone.value, null)
  tt.same((await kv.getWithContext('dy:upd')).values, [], 'returning null deletes')
  const fresh = await kv.update('dy:upd-new', (values) => `n=${values.length}`)
  tt.equal(fresh.value, 'n=0', 'update of a missing key sees no values')
})

t.test('binary values round-trip with encoding: buffer', async tt => {
  const { kv } = await client(tt)
  const bytes = Buffer.from([0, 255, 13, 10, 128, 1])
  await kv.put('dy:bin', '', bytes)
  const read = await kv.getWithContext('dy:bin', { encoding: 'buffer' })
  tt.equal(read.values.length, 1)
  tt.ok(read.values[0].equals(bytes))
  tt.match(read.context, PRINTABLE)
})

t.test('a writer that always reuses its last context never sees siblings (50 writes)', async tt => {
  const { kv, redis } = await client(tt)
  let ctx = ''
  for (let i = 0; i < 50; i++) {
    ctx = await kv.put('dy:single', ctx, `v${i}`)
    const read = await kv.getWithContext('dy:single')
    if (read.values.length !== 1 || read.values[0] !== `v${i}`) {
      tt.fail(`write ${i}: expected [v${i}], got ${JSON.stringify(read.values)}`)
      return
    }
  }
  tt.pass('one value after each of 50 writes')
  tt.equal(await redis.get('dy:single'), 'v49')
})

t.test('errors: invalid context, R/W out of range, syntax', async tt => {
  const cases: Array<[Buffer, string]> = [
    [frame('PUT', 'dy:e', 'garbage', 'v'), '-ERR invalid context\r\n'],
    [frame('PUT', 'dy:e', 'AQH!!!!', 'v'), '-ERR invalid context\r\n'],
    [frame('DELCTX', 'dy:e', 'garbage'), '-ERR invalid context\r\n'],
    [frame('GETCTX', 'dy:e', 'R', '2'), '-ERR R/W must be between 1 and N\r\n'],
    [frame('GETCTX', 'dy:e', 'R', '0'), '-ERR R/W must be between 1 and N\r\n'],
    [frame('PUT', 'dy:e', '', 'v', 'W', '2'), '-ERR R/W must be between 1 and N\r\n'],
    [frame('DELCTX', 'dy:e', '', 'W', '2'), '-ERR R/W must be between 1 and N\r\n'],
    [frame('GETCTX'), "-ERR wrong number of arguments for 'getctx' command\r\n"],
    [frame('PUT', 'dy:e', ''), "-ERR wrong number of arguments for 'put' command\r\n"],
    [frame('DELCTX', 'dy:e'), "-ERR wrong number of arguments for 'delctx' command\r\n"]
  ]
  for (const [input, want] of cases) {
    const { out, closed } = await exchange(node.port, input, { until: b => b.includes('\r\n') })
    tt.equal(out.toString('latin1'), want, JSON.stringify(input.toString('latin1')))
    tt.notOk(closed, 'the connection stays open')
  }
  const { out } = await exchange(node.port, [frame('GETCTX', 'dy:e', 'R', '1'), frame('PING')], { until: b => b.toString().endsWith('+PONG\r\n') })
  tt.equal(out.toString('latin1'), '*2\r\n$0\r\n\r\n*0\r\n+PONG\r\n', 'R 1 is accepted on N=1')
  tt.equal(await cliRaw(node.port, 'EXISTS', 'dy:e'), '0', 'no failed write stored anything')
})

t.test('a context copied from redis-cli works (printable, one argument)', { skip: missing('redis-cli') }, async tt => {
  tt.match(await cliRaw(node.port, 'PUT', 'dy:cli', '', 'first'), PRINTABLE)
  const [ctx, ...values] = (await cliRaw(node.port, 'GETCTX', 'dy:cli')).split('\n')
  tt.same(values, ['first'])
  tt.match(await cliRaw(node.port, 'PUT', 'dy:cli', ctx, 'second'), PRINTABLE)
  tt.same((await cliRaw(node.port, 'GETCTX', 'dy:cli')).split('\n').slice(1), ['second'], 'the copied context superseded the first value')
})
