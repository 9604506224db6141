// --requirepass (docs/design.md#client-handshakes): Redis's AUTH, HELLO AUTH,
// NOAUTH and WRONGPASS replies, RESET, and the real clients connecting with a
// password. Wording is compared with a redis-server run with requirepass too.

import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import { RawClient, cliRaw, exchange, frame, missing, redisCli } from '../helpers/clients.js'

const PASS = 's3cret pass'
const NOAUTH = '-NOAUTH Authentication required.\r\n'
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n'

let node: ServerProc
let redis: RedisProc | null = null
t.before(async () => {
  ;[node, redis] = await Promise.all([startServer(['--requirepass', PASS]), startRedisServer(['--requirepass', PASS])])
})

/** One round on a fresh connection: the exact reply bytes of each command, in order. */
async function rounds (port: number, commands: Array<Array<string | Buffer>>): Promise<string[]> {
  const c = await RawClient.connect(port)
  try {
    const out: string[] = []
    for (const cmd of commands) out.push((await c.call(...cmd)).toString('latin1'))
    return out
  } finally {
    c.close()
  }
}

async function same (tt: Test, commands: Array<Array<string | Buffer>>, want: string[]): Promise<void> {
  if (redis !== null) tt.same(await rounds(redis.port, commands), want, 'redis-server replies so (the expectation is Redis\'s)')
  tt.same(await rounds(node.port, commands), want, 'dynakv replies so')
}

t.test('commands before AUTH: -NOAUTH; the connection stays open', async tt => {
  await same(tt, [['GET', 'k'], ['SET', 'k', 'v'], ['PING'], ['NOSUCHCMD']], [NOAUTH, NOAUTH, NOAUTH, "-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n"])
})

t.test('a wrong password: -WRONGPASS; the right one: +OK and commands work', async tt => {
  await same(tt, [['AUTH', 'nope'], ['GET', 'k'], ['AUTH', PASS], ['PING'], ['SET', 'auth:k', 'v'], ['GET', 'auth:k']],
    [WRONGPASS, NOAUTH, '+OK\r\n', '+PONG\r\n', '+OK\r\n', '$1\r\nv\r\n'])
})

t.test('AUTH default <pass> and AUTH <other user> <pass>', async tt => {
  await same(tt, [['AUTH', 'default', 'nope'], ['AUTH', 'someone', PASS], ['AUTH', 'default', PASS], ['PING']],
    [WRONGPASS, WRONGPASS, '+OK\r\n', '+PONG\r\n'])
})

t.test('HELLO 3 AUTH default <pass> authenticates and switches to RESP3', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => { c.close() })
  c.write(frame('HELLO', '3', 'AUTH', 'default', PASS))
  const hello = (await c.readUntil(b => b.toString('latin1').includes('modules'))).toString('latin1')
  tt.match(hello, /^%\d+\r\n/, 'a RESP3 map')
  tt.match(hello, /\$5\r\nproto\r\n:3\r\n/, 'proto 3, an integer')
  c.write(frame('GET', 'auth:none'))
  tt.equal((await c.readUntil(b => b.length >= 3)).toString(), '_\r\n', 'authenticated, and a RESP3 null')
})

t.test('HELLO 3 AUTH with a wrong password: -WRONGPASS; HELLO without AUTH: -NOAUTH', async tt => {
  const [wrong] = await rounds(node.port, [['HELLO', '3', 'AUTH', 'default', 'nope']])
  tt.equal(wrong, WRONGPASS)
  const [bare] = await rounds(node.port, [['HELLO', '3']])
  tt.match(bare, /^-NOAUTH HELLO must be called with the client already authenticated/)
  const [ping] = await rounds(node.port, [['HELLO', '3', 'AUTH', 'default', 'nope'], ['PING']]).then(r => r.slice(1))
  tt.equal(ping, NOAUTH, 'still not authenticated')
})

t.test('RESET drops authentication', async tt => {
  await same(tt, [['AUTH', PASS], ['PING'], ['RESET'], ['GET', 'k'], ['AUTH', PASS], ['PING']],
    ['+OK\r\n', '+PONG\r\n', '+RESET\r\n', NOAUTH, '+OK\r\n', '+PONG\r\n'])
})

t.test('before AUTH, requests over 10 arguments or 16 KB bulks are protocol errors (Redis 7)', async tt => {
  for (const [input, message] of [
    ['*11\r\n', 'unauthenticated multibulk length'],
    ['*1\r\n$16385\r\n', 'unauthenticated bulk length']
  ]) {
    const want = `-ERR Protocol error: ${message}\r\n`
    if (redis !== null) {
      const theirs = await exchange(redis.port, input)
      tt.equal(theirs.out.toString(), want, `redis-server: ${message}`)
    }
    const ours = await exchange(node.port, input)
    tt.equal(ours.out.toString(), want, message)
    tt.ok(ours.closed, 'connection closed')
  }
  const big = await exchange(node.port, Buffer.concat([frame('AUTH', PASS), frame('ECHO', Buffer.alloc(20000, 120))]), { until: b => b.length >= 20000 })
  tt.equal(big.out.length, 5 + 8 + 20000 + 2, 'after AUTH in the same pipeline, a 20 KB bulk is fine')
})

t.test('ioredis with the password option (HELLO 3 AUTH) connects', async tt => {
  const r = new Redis({ host: '127.0.0.1', port: node.port, password: PASS, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  r.on('error', () => {})
  tt.teardown(() => { r.disconnect() })
  await r.connect()
  tt.equal(r.status, 'ready')
  tt.equal(await r.set('auth:io', 'x'), 'OK')
  tt.equal(await r.get('auth:io'), 'x')
  tt.match(String(await r.call('CLIENT', 'INFO')), /\bresp=3\b/, 'RESP3')
})

t.test('ioredis with protocol 2 and a password (AUTH) connects', async tt => {
  const r = new Redis({ host: '127.0.0.1', port: node.port, password: PASS, protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  r.on('error', () => {})
  tt.teardown(() => { r.disconnect() })
  await r.connect()
  tt.equal(r.status, 'ready')
  tt.equal(await r.get('auth:io'), 'x')
})

t.test('ioredis with a wrong password fails to connect', async tt => {
  const r = new Redis({ host: '127.0.0.1', port: node.port, password: 'wrong', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  const errors: string[] = []
  r.on('error', (e: Error) => errors.push(e.message))
  tt.teardown(() => { r.disconnect() })
  await tt.rejects(r.connect(), 'connect() rejects')
  tt.match(errors.join('\n'), /^WRONGPASS /m, 'with a WRONGPASS error')
})

t.test('node-redis with a password in the URL connects', async tt => {
  const c = createClient({ url: `redis://default:${encodeURIComponent(PASS)}@127.0.0.1:${node.port}` })
  c.on('error', () => {})
  tt.teardown(() => { if (c.isOpen) c.destroy() })
  await c.connect()
  tt.equal(await c.get('auth:io'), 'x')
  await c.close()
})

t.test('redis-cli -a / --user --pass', { skip: missing('redis-cli') }, async tt => {
  tt.equal((await redisCli(node.port, ['--no-auth-warning', '-a', PASS, 'GET', 'auth:io'])).stdout, 'x\n')
  tt.equal((await redisCli(node.port, ['--no-auth-warning', '--user', 'default', '--pass', PASS, 'PING'])).stdout, 'PONG\n')
  tt.match(await cliRaw(node.port, 'GET', 'auth:io'), /NOAUTH/, 'no password: NOAUTH')
})

t.test('without --requirepass: AUTH as in Redis (the default user takes any password)', async tt => {
  const open = await startServer([], { t: tt })
  const ref = await startRedisServer([], { t: tt })
  const commands = [['AUTH', 'whatever'], ['AUTH', 'default', 'whatever'], ['AUTH', 'someone', 'whatever'], ['PING']]
  const want = [
    '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n',
    '+OK\r\n',
    WRONGPASS,
    '+PONG\r\n'
  ]
  if (ref !== null) tt.same(await rounds(ref.port, commands), want, 'redis-server replies so')
  tt.same(await rounds(open.port, commands), want, 'dynakv replies so')
  const c = await RawClient.connect(open.port)
  tt.teardown(() => { c.close() })
  c.write(frame('HELLO', '3', 'AUTH', 'default', 'whatever'))
  tt.match((await c.readUntil(b => b.length > 0)).toString('latin1'), /^%\d+\r\n/, 'HELLO 3 AUTH default <any> succeeds with a map')
})

t.test('without --requirepass: node-redis with credentials in the URL connects (as to Redis)', async tt => {
  const open = await startServer([], { t: tt })
  const c = createClient({ url: `redis://default:whatever@127.0.0.1:${open.port}`, socket: { reconnectStrategy: false, connectTimeout: 3000 } })
  const errors: string[] = []
  c.on('error', (e: Error) => errors.push(e.message))
  tt.teardown(() => { if (c.isOpen) c.destroy() })
  const connected = await Promise.race([c.connect().then(() => true, () => false), new Promise<boolean>(resolve => setTimeout(() => resolve(false), 5000))])
  tt.ok(connected, `connects (errors: ${errors.join('; ')})`)
  if (connected) tt.equal(await c.ping(), 'PONG')
})
