// The client libraries docs/design.md#client-handshakes names, unchanged, against one node:
// ioredis 6 (default RESP3 with HELLO 3, and protocol: 2) and node-redis 6
// (createClient({ url }), RESP3). Their handshakes (HELLO, INFO ready check,
// CLIENT SETINFO), plain commands, null replies, SCAN streams and pipelines.

import t, { type Test } from 'tap'
import { Redis, type RedisOptions } from 'ioredis'
import { createClient } from 'redis'
import { startServer, type ServerProc } from '../helpers/server.js'
import { exchange, frame } from '../helpers/clients.js'

let node: ServerProc
t.before(async () => { node = await startServer() })

async function ioredis (tt: Test, options: RedisOptions = {}): Promise<Redis> {
  const r = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, ...options })
  const errors: string[] = []
  r.on('error', (e: Error) => errors.push(e.message))
  tt.teardown(() => { r.disconnect() })
  await r.connect()
  tt.equal(r.status, 'ready', `ioredis reaches ready (errors: ${errors.join('; ')})`)
  return r
}

for (const [label, options] of [['ioredis default (RESP3)', {}], ['ioredis protocol: 2', { protocol: 2 }]] as Array<[string, RedisOptions]>) {
  const proto = options.protocol === 2 ? 2 : 3
  t.test(`${label}: handshake and ready check`, async tt => {
    const r = await ioredis(tt, options)
    const info = String(await r.call('CLIENT', 'INFO'))
    tt.match(info, new RegExp(`\\bresp=${proto}\\b`), `the connection speaks RESP${proto}`)
    const infoText = await r.info()
    tt.match(infoText, /^# Server\r?\n/m, 'INFO has sections')
    tt.match(infoText, /^loading:0\r?$/m, 'INFO says loading:0 (the ready check)')
  })

  t.test(`${label}: GET/SET/MGET/INCR/DEL, nulls are null`, async tt => {
    const r = await ioredis(tt, options)
    const k = `io${proto}:`
    tt.equal(await r.get(`${k}none`), null, 'GET of a missing key is null')
    tt.equal(await r.set(`${k}a`, 'v1'), 'OK')
    tt.equal(await r.get(`${k}a`), 'v1')
    tt.equal(await r.set(`${k}a`, 'v2', 'NX'), null, 'SET NX on an existing key is null')
    tt.equal(await r.set(`${k}a`, 'v3', 'GET'), 'v1', 'SET GET returns the old value')
    tt.same(await r.mget(`${k}a`, `${k}none`, `${k}a`), ['v3', null, 'v3'], 'MGET holds nulls')
    tt.equal(await r.incr(`${k}n`), 1)
    tt.equal(await r.incrby(`${k}n`, 41), 42)
    tt.equal(typeof await r.incr(`${k}n`), 'number', 'integers are numbers')
    tt.equal(await r.exists(`${k}a`, `${k}n`, `${k}none`), 2)
    tt.equal(await r.del(`${k}a`, `${k}none`), 1)
    tt.equal(await r.get(`${k}a`), null, 'GET after DEL is null')
    tt.equal(await r.getdel(`${k}n`), '43')
    tt.equal(await r.getdel(`${k}n`), null)
    const big = Buffer.alloc(300_000, 7)
    tt.equal(await r.set(`${k}big`, big), 'OK')
    tt.ok((await r.getBuffer(`${k}big`))?.equals(big), 'a 300 KB binary value round-trips')
    tt.equal(await r.del(`${k}big`), 1)
    await tt.rejects(r.call('NOSUCHCOMMAND'), /unknown command/, 'errors reject')
    tt.equal(await r.ping(), 'PONG', 'the connection survives an error')
  })

  t.test(`${label}: scanStream visits every key`, async tt => {
    const r = await ioredis(tt, options)
    const prefix = `scan${proto}:`
    const want = Array.from({ length: 250 }, (_, i) => `${prefix}${i}`)
    await r.mset(...want.flatMap(k => [k, 'x']))
    const seen = new Set<string>()
    await new Promise<void>((resolve, reject) => {
      const s = r.scanStream({ match: `${prefix}*`, count: 20 })
      s.on('data', (keys: string[]) => { for (const k of keys) seen.add(k) })
      s.on('end', () => resolve())
      s.on('error', reject)
    })
    tt.same(want.filter(k => !seen.has(k)), [], 'every key at least once')
    tt.same([...seen].filter(k => !k.startsWith(prefix)), [], 'only matching keys')
  })

  t.test(`${label}: a pipeline of 1000 commands answers in order`, async tt => {
    const r = await ioredis(tt, options)
    const p = r.pipeline()
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) p.echo(`e${i}`)
      else p.ping(`p${i}`)
    }
    const out = await p.exec()
    tt.equal(out?.length, 1000)
    tt.same(out?.map(([e]) => e), new Array(1000).fill(null), 'no errors')
    tt.same(out?.map(([, v]) => v), Array.from({ length: 1000 }, (_, i) => i % 2 === 0 ? `e${i}` : `p${i}`), 'replies in request order')
  })

  t.test(`${label}: pipelined writes are seen by the reads after them`, async tt => {
    const r = await ioredis(tt, options)
    const k = `ryw${proto}:`
    const first = await r.pipeline().set(`${k}a`, '1').get(`${k}a`).exec()
    tt.same(first, [[null, 'OK'], [null, '1']], 'SET a 1; GET a in one pipeline reads its own write')

    const p = r.pipeline()
    for (let i = 0; i < 250; i++) p.set(`${k}${i}`, `v${i}`).get(`${k}${i}`).incr(`${k}counter`).echo(`e${i}`)
    const out = await p.exec()
    tt.equal(out?.length, 1000)
    const want: unknown[] = []
    for (let i = 0; i < 250; i++) want.push('OK', `v${i}`, i + 1, `e${i}`)
    tt.same(out?.map(([, v]) => v), want, '1000 pipelined commands: each GET sees the SET before it, INCR counts up')

    const q = await r.pipeline().set(`${k}x`, 'old').exec()
    tt.same(q, [[null, 'OK']])
    const upd = await r.pipeline().set(`${k}x`, 'new').get(`${k}x`).del(`${k}x`).get(`${k}x`).exec()
    tt.same(upd?.map(([, v]) => v), ['OK', 'new', 1, null], 'SET, GET, DEL, GET of an existing key in one pipeline')
  })
}

t.test('RESP3 nulls are _\\r\\n on the wire (docs/design.md#resp-layer)', async tt => {
  const { out } = await exchange(node.port, Buffer.concat([frame('HELLO', '3'), frame('GET', 'resp3:none'), frame('MGET', 'resp3:none')]), { until: b => b.toString('latin1').endsWith('*1\r\n_\r\n') })
  tt.ok(out.toString('latin1').endsWith('\r\n_\r\n*1\r\n_\r\n'), `GET and MGET nulls are _ in RESP3: ${JSON.stringify(out.toString('latin1').slice(-20))}`)
})

t.test('HELLO: a RESP3 map, a RESP2 flat array, -NOPROTO for other versions (docs/design.md#client-handshakes)', async tt => {
  const fields = ['server', 'version', 'proto', 'id', 'mode', 'role', 'modules']
  const three = (await exchange(node.port, frame('HELLO', '3'), { until: b => b.toString('latin1').includes('modules') && b.toString('latin1').endsWith('\r\n') })).out.toString('latin1')
  tt.match(three, /^%\d+\r\n/, 'HELLO 3: a map')
  for (const f of fields) tt.match(three, `$${f.length}\r\n${f}\r\n`, `HELLO 3 has ${f}`)
  tt.match(three, /\$5\r\nproto\r\n:3\r\n/, 'proto is the integer 3')
  tt.match(three, /\$2\r\nid\r\n:\d+\r\n/, 'id is an integer')
  tt.match(three, /\$7\r\nmodules\r\n\*0\r\n/, 'modules is an array')
  const two = (await exchange(node.port, frame('HELLO', '2'), { until: b => b.toString('latin1').includes('modules') && b.toString('latin1').endsWith('\r\n') })).out.toString('latin1')
  tt.match(two, /^\*\d+\r\n/, 'HELLO 2: a flat array')
  tt.match(two, /\$5\r\nproto\r\n:2\r\n/, 'proto is the integer 2')
  const bad = await exchange(node.port, Buffer.concat([frame('HELLO', '4'), frame('PING')]), { until: b => b.toString().endsWith('+PONG\r\n') })
  tt.equal(bad.out.toString(), '-NOPROTO unsupported protocol version\r\n+PONG\r\n', 'HELLO 4: -NOPROTO, connection still usable')
})

t.test('node-redis createClient({ url }) (RESP3)', async tt => {
  const c = createClient({ url: `redis://127.0.0.1:${node.port}` })
  const errors: string[] = []
  c.on('error', (e: Error) => errors.push(e.message))
  tt.teardown(async () => { if (c.isOpen) c.destroy() })
  await c.connect()
  tt.ok(c.isReady, `node-redis is ready (errors: ${errors.join('; ')})`)
  tt.match(String(await c.sendCommand(['CLIENT', 'INFO'])), /\bresp=3\b/, 'the connection speaks RESP3')
  tt.equal(await c.get('nr:none'), null)
  tt.equal(await c.set('nr:a', 'v'), 'OK')
  tt.equal(await c.get('nr:a'), 'v')
  tt.same(await c.mGet(['nr:a', 'nr:none']), ['v', null])
  tt.equal(await c.incr('nr:n'), 1)
  tt.equal(await c.incrBy('nr:n', 9), 10)
  tt.equal(await c.del(['nr:a', 'nr:n', 'nr:none']), 2)
  tt.equal(await c.exists('nr:a'), 0)
  await c.mSet(Array.from({ length: 120 }, (_, i) => [`nrscan:${i}`, 'x'] as [string, string]))
  const seen = new Set<string>()
  let rounds = 0
  for await (const keys of c.scanIterator({ MATCH: 'nrscan:*', COUNT: 25 })) {
    for (const k of keys) seen.add(k)
    if (++rounds > 10000) break
  }
  tt.equal(seen.size, 120, 'scanIterator visits every key')
  const same = await Promise.all([c.set('nr:tick', '1'), c.get('nr:tick'), c.incr('nr:tick'), c.get('nr:tick')])
  tt.same(same, ['OK', '1', 2, '2'], 'commands sent in one tick (auto-pipelined) read their own writes')
  await c.close()
})
