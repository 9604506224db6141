// RequestParser against a live redis-server 7: the same bytes go to both.
// redis-server's reply to the raw input must equal its replies to the
// commands our parser extracted (sent again, well formed, on a fresh
// connection in the same auth state), followed by `-ERR <our message>` and
// a close when we report an error. That checks the arguments (through ECHO),
// the ordering, the error text byte for byte, and that both wait for more
// input in the same cases.

import t from 'tap'
import fc from 'fast-check'
import RedisParser from 'redis-parser'
import { PROTOCOL_ERRORS as E, RequestParser, protocolErrorReply } from '../../lib/resp/parser.js'
import { frame, parseChunks, type Limits, type Outcome } from './harness.js'
import { REDIS_SERVER, exchange, startRedis, type Exchange } from './redis-server.js'

/** Redis 7.0 accepts up to 2^31 - 1 arguments; dynakv defaults to 1024 * 1024. */
const REDIS7: Limits = { maxMultibulkLen: 2 ** 31 - 1 }

function countReplies (out: Buffer): number {
  let n = 0
  const p = new RedisParser({ returnReply: () => { n++ }, returnError: () => { n++ }, returnBuffers: true })
  p.execute(out)
  return n
}

/** Our outcome for input; AUTH secret / RESET switch the unauthenticated limits as in Redis. */
function ours (input: Buffer, requirePass: boolean): Outcome & { pending: boolean } {
  const commands: string[][] = []
  let error: string | null = null
  let authed = !requirePass
  const p = new RequestParser({
    isAuthenticated: () => authed,
    onCommand: a => {
      commands.push(a.map(b => b.toString('latin1')))
      const name = a[0].toString().toUpperCase()
      if (requirePass && name === 'AUTH' && a.length === 2 && a[1].toString() === 'secret') authed = true
      if (requirePass && name === 'RESET') authed = false
    },
    onError: m => { error = m }
  }, REDIS7)
  p.feed(input)
  return { commands, error, pending: p.pending }
}

async function expected (port: number, o: Outcome): Promise<Exchange> {
  let out: Buffer = Buffer.alloc(0)
  if (o.commands.length > 0) {
    const k = o.commands.length
    const res = await exchange(port, Buffer.concat(o.commands.map(c => frame(...c.map(a => Buffer.from(a, 'latin1'))))), {
      until: b => countReplies(b) >= k,
      quietAfter: () => false
    })
    out = res.out
  }
  if (o.error !== null) out = Buffer.concat([out, protocolErrorReply(o.error)])
  return { out, closed: o.error !== null }
}

async function reference (port: number, input: Buffer, o: Outcome & { pending: boolean }): Promise<Exchange> {
  const k = o.commands.length
  const replied = (b: Buffer): boolean => countReplies(b) >= k
  // An error: wait for the close. A clean end: for the k-th reply. Waiting
  // for more input: for the k-th reply, then for silence.
  if (o.error !== null) return await exchange(port, input, { quietAfter: () => false })
  if (!o.pending) return await exchange(port, input, k > 0 ? { until: replied } : {})
  return await exchange(port, input, { quietAfter: replied, quietMs: 200 })
}

async function checkOnce (port: number, input: Buffer, requirePass: boolean): Promise<{ ok: boolean, detail: string }> {
  const o = ours(input, requirePass)
  const [want, got] = await Promise.all([expected(port, o), reference(port, input, o)])
  const ok = want.closed === got.closed && want.out.equals(got.out)
  return {
    ok,
    detail: ok
      ? ''
      : `input ${JSON.stringify(input.toString('latin1').slice(0, 200))}\n  ours  ${JSON.stringify(want.out.toString('latin1').slice(0, 300))} closed=${String(want.closed)}\n  redis ${JSON.stringify(got.out.toString('latin1').slice(0, 300))} closed=${String(got.closed)}`
  }
}

/** A real difference shows every time; on a loaded machine a slow reply
 * can look like one once, so a mismatch is tried twice more. */
async function check (port: number, input: Buffer, requirePass: boolean): Promise<{ ok: boolean, detail: string }> {
  const first = await checkOnce(port, input, requirePass)
  if (first.ok) return first
  for (let i = 0; i < 2; i++) {
    const again = await checkOnce(port, input, requirePass)
    if (again.ok) {
      t.comment(`passed on retry ${i + 1}; first attempt: ${first.detail}`)
      return again
    }
  }
  return first
}

async function compare (openPort: number, lockedPort: number): Promise<void> {
  const before = 'PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n'
  const malformed: string[] = [
    '*x\r\n', '*\r\n', '*-0\r\n', '*01\r\n', '*+1\r\n', '* 1\r\n', '*1 \r\n', '*-\r\n',
    '*2147483648\r\n', '*9223372036854775808\r\n', '*-9223372036854775809\r\n', '*123456789012345678901\r\n',
    '*1\r\n$-1\r\n', '*1\r\n$\r\n', '*1\r\n$01\r\n', '*1\r\n$1x\r\n', '*1\r\n$536870913\r\n',
    '*1\r\n$99999999999999999999\r\n', '*1\r\n$ 1\r\n',
    '*1\r\nx\r\n', '*1\r\n:1\r\n', '*1\r\n*1\r\n', '*1\r\n\r\nx', '*1\r\n\nb\r\nx', '*1\r\n\xff3\r\n',
    '*2\r\n$4\r\nECHO\r\n+OK\r\n', '*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n$1\r\ny\r\n',
    'ECHO "a"b\r\n', "ECHO 'a'b\r\n", 'ECHO "abc\r\n', "ECHO 'abc\r\n", 'ECHO "x\r\r\n', 'ECHO "abc\\"\r\n',
    "ECHO 'a\\\\'\r\n", 'ECHO "a""b"\r\n',
    // skipped and waiting cases
    '*0\r\n*-1\r\n*-5\r\nPING\r\n', '*-9223372036854775808\r\nPING\r\n', '*1\rX$4\rYPING\r\n', '*1\r\n$4\r\nPINGxy',
    '*2\r\n$4\r\nECHO\r\n$3\r\nab', '*1\r\n$4\r\n', '*3', 'ECHO abc', 'ECHO \x00\r\nPING\r\n', '*1\x00\r\n$4\r\nPING\r\n',
    '*1\r\n$4\x00\r\nPING\r\n', '\x00PING\r\n',
    // 64 KB lines where redis-server does not depend on how reads split
    '*1\r\n' + 'X'.repeat(70000), '*' + '1'.repeat(70000), '*2\r\n$4\r\nECHO\r\n$' + '1'.repeat(70000),
    'x'.repeat(70000), 'ECHO ' + 'x'.repeat(65000) + '\r\n', 'ECHO \x00\r\n' + 'x'.repeat(70000),
    '*1\x00' + 'y'.repeat(70000), '*1\r\n$1\x00\r\nx\r\n' + 'y'.repeat(70000)
  ]
  await t.test('malformed and edge-case requests, byte for byte', async t => {
    const results = await Promise.all(malformed.map(async m => await check(openPort, Buffer.from(before + m, 'latin1'), false)))
    results.forEach((r, i) => t.ok(r.ok, JSON.stringify(malformed[i].slice(0, 60)), { diagnostic: !r.ok, detail: r.detail }))
  })

  await t.test('dynakv refuses more than 1024 * 1024 arguments by default; Redis 7 waits for them', async t => {
    const input = Buffer.from('*1048577\r\n')
    const o = parseChunks([input])
    t.equal(o.error, E.invalidMultibulkLength)
    const got = await exchange(openPort, input)
    t.same(got, { out: Buffer.alloc(0), closed: false })
  })

  const inline: string[] = [
    'ECHO "a\\x41\\n\\t\\\\\\"z"', "ECHO 'a\\'b\\n'", 'ECHO a\vb', 'ECHO "a"\vb', '\vECHO x', 'ECHO foo"bar baz"',
    'ECHO ""', "ECHO ''", 'ECHO "\\x4"', 'ECHO "\\xZZ"', 'ECHO "\\x00\\xff\\xfF"', 'ECHO a\rb', 'ECHO "\xe9"', 'ECHO \xe9',
    '   ECHO    spaced   ', 'ECHO "a b" c', 'ECHO \'\'\'', 'ECHO "\\q\\b\\a"', 'ECHO \'"\'', 'ECHO "\'"', 'PING', 'PING "x y"'
  ]
  await t.test('inline quoting: what ECHO returns', async t => {
    const results = await Promise.all(inline.flatMap(line => [line + '\r\n', line + '\n'].map(async l => await check(openPort, Buffer.from(l, 'latin1'), false))))
    results.forEach((r, i) => t.ok(r.ok, JSON.stringify(inline[i >> 1]), { diagnostic: !r.ok, detail: r.detail }))
  })

  const eleven = frame('ECHO', ...Array.from({ length: 10 }, (_, i) => String(i))).toString('latin1')
  const locked: string[] = [
    '*11\r\n', '*10\r\n', '*1\r\n$16385\r\n', '*1\r\n$16384\r\n', '*11x\r\n', '*1\r\n$99999999999\r\n',
    eleven, 'PING\r\n' + eleven,
    frame('AUTH', 'secret').toString('latin1') + eleven + frame('ECHO', 'x'.repeat(20000)).toString('latin1'),
    frame('AUTH', 'wrong').toString('latin1') + eleven,
    frame('AUTH', 'secret').toString('latin1') + frame('RESET').toString('latin1') + eleven
  ]
  await t.test('unauthenticated limits (requirepass)', async t => {
    const results = await Promise.all(locked.map(async m => await check(lockedPort, Buffer.from(m, 'latin1'), true)))
    results.forEach((r, i) => t.ok(r.ok, JSON.stringify(locked[i].slice(0, 60)), { diagnostic: !r.ok, detail: r.detail }))
  })

  await t.test('random near-valid inputs', async t => {
    const names = await commandNames(openPort)
    const safe = new Set(['echo', 'ping'])
    const argArb = fc.oneof(
      fc.constantFrom('', 'a', 'x y', '\r\n', '"', "'", '*1', '$2'),
      fc.uint8Array({ maxLength: 12 }).map(a => Buffer.from(a).toString('latin1'))
    )
    const piece = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom('ECHO', 'PING', 'echo'), fc.array(argArb, { maxLength: 2 })).map(([c, args]) => frame(c, ...args).toString('latin1')) },
      {
        weight: 3,
        arbitrary: fc.tuple(fc.constantFrom('ECHO ', 'PING ', 'ECHO'), fc.array(fc.constantFrom('a', ' ', '"', "'", '\\', '\\x4', '\\x41', '\\n', '\t', '\v', 'é', 'q w', '\r'), { maxLength: 6 }), fc.constantFrom('\n', '\r\n'))
          .map(([c, parts, end]) => c + parts.join('') + end)
      },
      { weight: 1, arbitrary: fc.constantFrom('*0\r\n', '*-1\r\n', '\r\n', '\n') },
      {
        weight: 2,
        arbitrary: fc.tuple(fc.constantFrom('*', '$', '*1\r\n$', '*2\r\n$4\r\nECHO\r\n$', '*2\r\n$4\r\nECHO\r\n'), fc.stringMatching(/^[-+0-9x \r\n$*]{0,5}$/), fc.constantFrom('\r\n', '\r', '\n', ''))
          .map(([a, b, c]) => a + b + c)
      }
    )
    // A byte changed here and there, a tail cut off.
    const input = fc.tuple(fc.array(piece, { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 2 }), fc.boolean(), fc.nat())
      .map(([ps, edits, cut, at]) => {
        const b = Buffer.from(ps.join(''), 'latin1')
        for (const [i, v] of edits) b[i % b.length] = v
        return cut ? b.subarray(0, at % (b.length + 1)) : b
      })
    const inputs = fc.sample(input, { numRuns: 400, seed: 20260112 }).filter(b => {
      const o = ours(b, false)
      return o.commands.every(c => safe.has(c[0].toLowerCase()) || !names.has(c[0].toLowerCase()))
    })
    let failures = 0
    for (let i = 0; i < inputs.length; i += 40) {
      const batch = await Promise.all(inputs.slice(i, i + 40).map(async b => await check(openPort, b, false)))
      for (const r of batch) {
        if (!r.ok) {
          failures++
          if (failures <= 5) t.fail('differs from redis-server', { detail: r.detail })
        }
      }
    }
    t.equal(failures, 0, `${inputs.length} random inputs agree with redis-server`)
  })
}

async function commandNames (port: number): Promise<Set<string>> {
  const res = await exchange(port, frame('COMMAND', 'LIST'), { until: b => countReplies(b) >= 1, quietAfter: () => false })
  const names = new Set<string>()
  const p = new RedisParser({
    returnReply: (r: unknown) => { for (const n of r as Buffer[]) names.add(n.toString().toLowerCase()) },
    returnError: () => {},
    returnBuffers: true
  })
  p.execute(res.out)
  if (names.size < 100) throw new Error('COMMAND LIST gave too few names')
  return names
}

const open = await startRedis()
const locked = open === null ? null : await startRedis(['--requirepass', 'secret'])
if (open === null || locked === null) {
  t.plan(0, `${REDIS_SERVER} is not installed: no comparison with the reference server`)
} else {
  t.teardown(async () => {
    await open.stop()
    await locked.stop()
  })
  await compare(open.port, locked.port)
}
