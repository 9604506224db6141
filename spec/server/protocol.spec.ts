// Malformed, oversized and unusual client input on raw sockets. docs/design.md#errors:
// a malformed RESP frame gets `-ERR Protocol error: ...` and the connection is
// closed, as Redis does; no input crashes a node. Where the behaviour is
// Redis's, the same bytes also go to a live redis-server and the replies must
// match byte for byte (and whether the connection was closed). Throughout, a
// second client connected before each case must keep being served.

import t, { type Test } from 'tap'
import { startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import net from 'node:net'
import { once } from 'node:events'
import { RawClient, exchange, frame, parseReplies, type Exchange, type ExchangeOptions } from '../helpers/clients.js'

let node: ServerProc
let small: ServerProc
let redis: RedisProc | null = null
let redisSmall: RedisProc | null = null

t.before(async () => {
  ;[node, small, redis, redisSmall] = await Promise.all([
    startServer(),
    startServer(['--proto-max-bulk-len', '1mb']),
    startRedisServer(),
    startRedisServer(['--proto-max-bulk-len', '1mb'])
  ])
})

const show = (b: Buffer): string => JSON.stringify(b.toString('latin1').slice(0, 200))
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')

/** Runs fn while a bystander connection is open; it must still answer PING afterwards. */
async function withBystander (tt: Test, port: number, fn: () => Promise<void>): Promise<void> {
  const other = await RawClient.connect(port)
  try {
    tt.equal((await other.call('PING')).toString(), '+PONG\r\n', 'bystander served before')
    await fn()
    tt.equal((await other.call('ECHO', 'still here')).toString(), '$10\r\nstill here\r\n', 'bystander still served after')
  } finally {
    other.close()
  }
}

interface Case {
  name: string
  input: string | Buffer | Array<string | Buffer>
  /** The bytes Redis sends back (also checked against a live redis-server when `redis` is set). */
  reply: string | Buffer
  closed: boolean
  /** Compare with a live redis-server too. Default true. */
  redis?: boolean
  options?: ExchangeOptions
  /** Use the --proto-max-bulk-len 1mb node (and redis-server). */
  small?: boolean
}

async function check (tt: Test, c: Case): Promise<void> {
  const target = c.small === true ? small : node
  const ref = c.small === true ? redisSmall : redis
  const want = typeof c.reply === 'string' ? bytes(c.reply) : c.reply
  await withBystander(tt, target.port, async () => {
    // A reply that must come is waited for up to 5 s (quietMs alone is a window a loaded machine misses).
    const [ours, theirs] = await Promise.all([
      exchange(target.port, c.input, { ...c.options, firstByteMs: want.length > 0 ? 5000 : undefined }),
      c.redis !== false && ref !== null ? exchange(ref.port, c.input, c.options) : Promise.resolve<Exchange | null>(null)
    ])
    if (theirs !== null) {
      tt.equal(show(theirs.out), show(want), 'redis-server sends the expected bytes (the expectation is Redis\'s)')
      tt.equal(theirs.closed, c.closed, `redis-server ${c.closed ? 'closes' : 'keeps'} the connection`)
    }
    tt.equal(show(ours.out), show(want), `dynakv sends ${show(want)}`)
    tt.ok(ours.out.equals(want), 'byte for byte')
    tt.equal(ours.closed, c.closed, `dynakv ${c.closed ? 'closes' : 'keeps'} the connection`)
  })
}

const PE = (m: string): string => `-ERR Protocol error: ${m}\r\n`

const cases: Case[] = [
  { name: 'a truncated frame, then the client hangs up: no reply', input: '*2\r\n$3\r\nGET\r\n$5\r\nab', reply: '', closed: true, options: { end: true } },
  { name: 'a truncated frame, client waiting: no reply, connection open', input: '*2\r\n$3\r\nGET\r\n$5\r\nab', reply: '', closed: false },
  { name: '*abc', input: '*abc\r\n', reply: PE('invalid multibulk length'), closed: true },
  { name: '*+1', input: '*+1\r\n', reply: PE('invalid multibulk length'), closed: true },
  { name: '*2 then $x', input: '*2\r\n$x\r\n', reply: PE('invalid bulk length'), closed: true },
  { name: 'bulk length $-5', input: '*1\r\n$-5\r\n', reply: PE('invalid bulk length'), closed: true },
  { name: 'bulk length over 512 MB (default proto-max-bulk-len)', input: '*1\r\n$536870913\r\n', reply: PE('invalid bulk length'), closed: true },
  { name: "a non-bulk element: expected '$'", input: '*1\r\n:5\r\n', reply: PE("expected '$', got ':'"), closed: true },
  { name: '* count line over 64 KB', input: '*' + '1'.repeat(70_000), reply: PE('too big mbulk count string'), closed: true },
  { name: '$ length line over 64 KB', input: '*1\r\n$' + '1'.repeat(70_000), reply: PE('too big bulk count string'), closed: true },
  { name: '*0 and *-1 are skipped', input: '*0\r\n*-1\r\nPING\r\n', reply: '+PONG\r\n', closed: false },
  { name: 'pipelined valid commands before a bad frame are answered first, in order; nothing after it runs', input: Buffer.concat([frame('PING'), frame('ECHO', 'hi'), frame('ECHO', 'there'), bytes('*x\r\n'), frame('SET', 'proto:after-bad', '1'), frame('PING')]), reply: '+PONG\r\n$2\r\nhi\r\n$5\r\nthere\r\n' + PE('invalid multibulk length'), closed: true },
  { name: 'binary garbage with a NUL', input: Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a]), reply: '', closed: false },
  { name: 'inline PING', input: 'PING\r\n', reply: '+PONG\r\n', closed: false },
  { name: 'inline PING with a bare LF, and blank lines', input: '\r\n\r\nPING\nPING\r\n', reply: '+PONG\r\n+PONG\r\n', closed: false },
  { name: 'inline ECHO with double quotes and escapes', input: 'ECHO "a b\\x41\\n"\r\n', reply: '$5\r\na bA\n\r\n', closed: false },
  { name: "inline ECHO with single quotes and \\'", input: "ECHO 'it\\'s'\r\n", reply: "$4\r\nit's\r\n", closed: false },
  { name: 'inline command with unbalanced double quotes', input: 'SET a "b\r\n', reply: PE('unbalanced quotes in request'), closed: true },
  { name: 'inline command with unbalanced single quotes', input: "SET a 'b\r\n", reply: PE('unbalanced quotes in request'), closed: true },
  { name: 'a closing quote followed by a non-space', input: 'ECHO "a"b\r\n', reply: PE('unbalanced quotes in request'), closed: true },
  { name: 'an inline line over 64 KB (no newline)', input: 'A'.repeat(70_000), reply: PE('too big inline request'), closed: true },
  { name: 'inline unknown command', input: 'NOSUCH a "b c"\r\n', reply: "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b c' \r\n", closed: false },
  { name: 'QUIT: +OK, then the server closes', input: Buffer.concat([frame('QUIT'), frame('PING')]), reply: '+OK\r\n', closed: true },
  { name: 'a multibulk header at 1024 * 1024 arguments waits for them', input: '*1048576\r\n', reply: '', closed: false },
  { name: 'a * count over 1024 * 1024', input: '*1048577\r\n', reply: PE('invalid multibulk length'), closed: true, redis: false },
  { name: 'a bulk over --proto-max-bulk-len 1mb', input: '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n', reply: PE('invalid bulk length'), closed: true, small: true },
  // A 1 MB write with fsync can take longer than the default quiet window on a busy machine: wait for the reply.
  { name: 'a bulk of exactly --proto-max-bulk-len 1mb is accepted', input: frame('SET', 'proto:1mb', Buffer.alloc(1024 * 1024, 97)), reply: '+OK\r\n', closed: false, small: true, options: { until: b => b.length >= 5, quietMs: 5000 } },
  { name: 'a frame split into 1-byte chunks', input: [...frame('ECHO', 'split')].map(b => Buffer.from([b])), reply: '$5\r\nsplit\r\n', closed: false, options: { gapMs: 1 } },
  { name: 'a 300 KB argument in 4 KB chunks', input: chunk(frame('ECHO', Buffer.alloc(300_000, 98)), 4096), reply: Buffer.concat([bytes('$300000\r\n'), Buffer.alloc(300_000, 98), bytes('\r\n')]), closed: false, options: { gapMs: 1, until: b => b.length >= 300_010 } }
]

function chunk (b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size))
  return out
}

for (const c of cases) {
  t.test(c.name, async tt => { await check(tt, c) })
}

t.test('nothing after a bad frame ran', async tt => {
  const { out } = await exchange(node.port, frame('EXISTS', 'proto:after-bad'), { until: b => b.length >= 4 })
  tt.equal(out.toString(), ':0\r\n', 'the SET after the bad frame was not executed')
})

t.test('the 1 MB value stored on the small node reads back', async tt => {
  const { out } = await exchange(small.port, frame('STRLEN', 'proto:1mb'), { until: b => b.length >= 10 })
  tt.equal(out.toString(), ':1048576\r\n', 'STRLEN 1048576')
})

t.test('RESP3 (HELLO 3) then a bad frame: the same -ERR Protocol error and a close', async tt => {
  await withBystander(tt, node.port, async () => {
    const { out, closed } = await exchange(node.port, [frame('HELLO', '3'), bytes('*2\r\n$x\r\n')])
    tt.ok(out.toString('latin1').endsWith(PE('invalid bulk length')), `ends with the error: ${show(out)}`)
    tt.ok(closed, 'closed')
  })
})

t.test('inline SET with a quoted value, read back', async tt => {
  await withBystander(tt, node.port, async () => {
    const set = await exchange(node.port, 'SET proto:inline "b c"\r\n', { until: b => b.length >= 5 })
    tt.equal(set.out.toString(), '+OK\r\n')
    const get = await exchange(node.port, 'GET proto:inline\r\n', { until: b => b.length >= 9 })
    tt.equal(get.out.toString(), '$3\r\nb c\r\n')
  })
})

t.test('unknown commands echo the bytes they were sent (non-ASCII, invalid UTF-8)', async tt => {
  const inputs = [
    Buffer.from([0xff, 0xfe, 0x80, 0x0d, 0x0a]),
    Buffer.from('FOO é\r\n', 'utf8'),
    Buffer.concat([bytes('*2\r\n$3\r\nBAR\r\n$2\r\n'), Buffer.from([0xc3, 0x28]), bytes('\r\n')])
  ]
  for (const input of inputs) {
    const ours = await exchange(node.port, input)
    const reply = /^FOO/.test(input.toString('latin1'))
      ? Buffer.concat([bytes("-ERR unknown command 'FOO', with args beginning with: '"), Buffer.from('é', 'utf8'), bytes("' \r\n")])
      : input[0] === 0xff
        ? Buffer.concat([bytes("-ERR unknown command '"), Buffer.from([0xff, 0xfe, 0x80]), bytes("', with args beginning with: \r\n")])
        : Buffer.concat([bytes("-ERR unknown command 'BAR', with args beginning with: '"), Buffer.from([0xc3, 0x28]), bytes("' \r\n")])
    if (redis !== null) {
      const theirs = await exchange(redis.port, input)
      tt.equal(theirs.out.toString('hex'), reply.toString('hex'), `redis-server: ${show(input)}`)
    }
    tt.equal(ours.out.toString('hex'), reply.toString('hex'), `the offending bytes as sent, not re-encoded: ${show(input)}`)
  }
})

/** A small deterministic PRNG (mulberry32) for reproducible garbage. */
function mulberry32 (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6D2B79F5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

t.test('7-bit garbage (30 seeds): the same bytes back as redis-server, bystanders served', async tt => {
  if (redis === null) return tt.plan(0, 'redis-server is not installed')
  const ref = redis
  const alphabet = bytes('*$\r\n0123456789-+:abcXYZ "\'\\\t\x00\x7f')
  await withBystander(tt, node.port, async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = mulberry32(seed)
      const n = 64 + Math.floor(rnd() * 512)
      const input = Buffer.alloc(n)
      for (let i = 0; i < n; i++) input[i] = rnd() < 0.7 ? alphabet[Math.floor(rnd() * alphabet.length)] : Math.floor(rnd() * 128)
      // Redis first, then dynakv, given 5 s for a first byte when Redis replied: in parallel with
      // 200 ms of quiet, seed 8 once got no reply at all (a window a loaded machine can miss).
      const theirs = await exchange(ref.port, input, { quietMs: 200 })
      const ours = await exchange(node.port, input, { quietMs: 200, firstByteMs: theirs.out.length > 0 ? 5000 : undefined })
      tt.equal(show(ours.out), show(theirs.out), `seed ${seed}: same reply`)
      tt.equal(ours.closed, theirs.closed, `seed ${seed}: same close`)
    }
  })
})

t.test('high-bit garbage (30 seeds): the node survives and keeps serving', async tt => {
  await withBystander(tt, node.port, async () => {
    for (let seed = 100; seed < 130; seed++) {
      const rnd = mulberry32(seed)
      const input = Buffer.alloc(256 + Math.floor(rnd() * 2048))
      for (let i = 0; i < input.length; i++) input[i] = Math.floor(rnd() * 256)
      await exchange(node.port, input, { quietMs: 100 })
    }
  })
  tt.ok(node.running, 'the node process is still running')
})

/**
 * Sends bad input, reads the error, then keeps writing 16 KB every few ms (at
 * most 2 s): does the server cut the writer off (a reset: the descriptor is
 * closed), or keep reading from a half-closed socket?
 */
async function keepWriting (port: number, bad: Buffer): Promise<{ reply: string, cutOff: boolean }> {
  // Half-open allowed: the server's FIN alone does not end our side, only a reset does.
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await once(socket, 'connect')
  let reply = ''
  let cutOff = false
  socket.on('data', (d: Buffer) => { reply += d.toString('latin1') })
  socket.on('error', () => { cutOff = true })
  socket.on('close', () => { cutOff = true })
  socket.write(bad)
  const chunk = Buffer.alloc(16 * 1024, 0x41)
  for (let i = 0; i < 400 && !cutOff; i++) {
    await new Promise(resolve => setTimeout(resolve, 5))
    if (reply.length > 0 && !socket.destroyed) socket.write(chunk)
  }
  socket.destroy()
  return { reply, cutOff }
}

t.test('after a protocol error the connection is closed for real: a client that keeps writing is cut off, as by redis-server', async tt => {
  const clients = async (): Promise<number> => {
    const c = await RawClient.connect(node.port)
    const text = (parseReplies(await c.call('INFO', 'clients'))[0] as Buffer).toString()
    c.close()
    return Number(/connected_clients:(\d+)/.exec(text)?.[1])
  }
  const before = await clients()
  for (const bad of [bytes('*abc\r\n'), bytes('*1\r\n$-5\r\n'), bytes('A'.repeat(70_000))]) {
    const ours = await keepWriting(node.port, bad)
    tt.match(ours.reply, /^-ERR Protocol error: /, `dynakv answers the error (${show(bad.subarray(0, 12))})`)
    tt.ok(ours.cutOff, 'and cuts the writer off')
    if (redis !== null) {
      const theirs = await keepWriting(redis.port, bad)
      tt.equal(theirs.reply, ours.reply, 'the same error as redis-server')
      tt.equal(theirs.cutOff, ours.cutOff, 'which cuts it off too')
    }
  }
  let after = await clients()
  for (let i = 0; i < 50 && after > before; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    after = await clients()
  }
  tt.equal(after, before, 'the connections are gone from connected_clients')
})

t.test('no input crashed a node or logged an internal error', async tt => {
  tt.ok(node.running, 'default node running')
  tt.ok(small.running, '1mb node running')
  tt.notMatch(node.output(), /internal error|command failed|uncaught/i, 'no internal error logged')
  tt.notMatch(small.output(), /internal error|command failed|uncaught/i, 'no internal error logged')
})
