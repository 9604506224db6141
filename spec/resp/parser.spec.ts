import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual } from 'node:assert'
import {
  PROTOCOL_ERRORS as E,
  RequestParser,
  expectedDollar,
  protocolErrorReply
} from '../../lib/resp/parser.js'
import { splitInlineArgs } from '../../lib/resp/inline.js'
import { frame, parse, parseChunks, splitAt, type Limits } from './harness.js'

const ok = (...commands: string[][]): { commands: string[][], error: null } => ({ commands, error: null })
const bad = (error: string, ...commands: string[][]): { commands: string[][], error: string } => ({ commands, error })

t.test('multibulk requests', async t => {
  t.same(parse(frame('SET', 'key', 'value')), ok(['SET', 'key', 'value']))
  t.same(parse(frame('ECHO', '')), ok(['ECHO', '']), 'empty argument')
  const binary = Buffer.from([0, 13, 10, 255, 42, 36])
  t.same(parse(frame(Buffer.from('ECHO'), binary)), ok(['ECHO', binary.toString('latin1')]), 'binary-safe payload')
  t.same(parse(Buffer.concat([frame('PING'), frame('GET', 'a'), frame('GET', 'b')])), ok(['PING'], ['GET', 'a'], ['GET', 'b']))
  t.same(parse('*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n'), ok(['PING']), '*0 and negative counts are skipped')
  t.same(parse('*-9223372036854775808\r\n*1\r\n$1\r\nx\r\n'), ok(['x']), 'LLONG_MIN is a valid, skipped count')
  t.same(parse('*1\rX$4\rYPING\r\n'), ok(['PING']), 'the byte after a header CR is skipped unchecked, as in Redis')
  t.same(parse('*1\r\n$4\r\nPINGxy*1\r\n$1\r\nz\r\n'), ok(['PING'], ['z']), 'the two bytes after a payload are not checked')
  t.same(parse('*2\r\n$0\r\n\r\n$1\r\nx\r\n'), ok(['', 'x']))
  const args = parseChunks([frame('SET', 'k', 'v')]).commands
  t.equal(args.length, 1)
})

t.test('arguments are views of the chunk; no copy for a frame inside one chunk', async t => {
  const chunk = frame('SET', 'key', 'value')
  let got: Buffer[] = []
  const p = new RequestParser({ onCommand: a => { got = a }, onError: () => {} })
  p.feed(chunk)
  t.equal(got[2].buffer, chunk.buffer, 'same memory')
  t.equal(p.bufferedBytes, 0)
  // A chunk that starts inside its ArrayBuffer (a socket's read buffer, Node's pool): each view at its argument's bytes.
  const inner = Buffer.concat([Buffer.from('*1\r\n$4\r\nPING\r\n'), frame('SET', 'key', 'value'), frame('XSET', 'k2', '')]).subarray(14)
  const all: Buffer[][] = []
  new RequestParser({ onCommand: a => { all.push(a) }, onError: () => {} }).feed(inner)
  t.same(all.map(a => a.map(x => x.toString())), [['SET', 'key', 'value'], ['XSET', 'k2', '']])
  t.ok(all.every(a => a.every(x => Buffer.isBuffer(x) && x.buffer === inner.buffer)), 'Buffers, views of the chunk\'s memory')
  t.equal(all[0][1].byteOffset, inner.byteOffset + inner.indexOf('key'))
})

t.test('a whole GET is offered by its key\'s range first (onGet); declined or not whole, it is a command as any other', async t => {
  const offered: string[] = []
  const commands: string[][] = []
  let accept = true
  const p = new RequestParser({
    onCommand: a => { commands.push(a.map(x => x.toString('latin1'))) },
    onGet: (chunk, from, to) => { offered.push(chunk.toString('latin1', from, to)); return accept },
    onError: () => {}
  })
  const inner = Buffer.concat([Buffer.from('xx'), frame('GET', 'k1'), frame('get', 'key:2'), frame('GeT', ''), frame('SET', 'k', 'v'), frame('GET', 'a', 'b'), frame('GETX', 'k')]).subarray(2)
  p.feed(inner)
  t.same(offered, ['k1', 'key:2', ''], 'every spelling, an empty key; its bytes where they lie in the chunk')
  t.same(commands, [['SET', 'k', 'v'], ['GET', 'a', 'b'], ['GETX', 'k']], 'answered GETs are not delivered')
  accept = false
  offered.length = 0
  commands.length = 0
  p.feed(frame('GET', 'k3'))
  t.same(offered, ['k3'])
  t.same(commands, [['GET', 'k3']], 'a declined GET is delivered')
  offered.length = 0
  commands.length = 0
  accept = true
  const split = frame('GET', 'k4')
  p.feed(split.subarray(0, 10))
  p.feed(split.subarray(10))
  p.feed(Buffer.from('GET k5\r\n'))
  t.same(offered, [], 'a GET split across chunks, an inline GET: not offered')
  t.same(commands, [['GET', 'k4'], ['GET', 'k5']])
})

t.test('a transient chunk (a receive buffer\'s view) is copied before any of it is kept; whole GETs taken by onGet are read where they lie', async t => {
  // Every chunk is one reused buffer, overwritten after each feed: what the parser kept must be its own copy.
  const requests = [frame('GET', 'k1'), frame('SET', 'key', 'value'), frame('GET', 'k2'), Buffer.from('PING x\r\n'), frame('GET', 'a', 'b'), frame('MSET', 'x', '1', 'y', '22')]
  const stream = Buffer.concat(requests)
  const expected = [['SET', 'key', 'value'], ['PING', 'x'], ['GET', 'a', 'b'], ['MSET', 'x', '1', 'y', '22']]
  fc.assert(fc.property(fc.array(fc.nat(stream.length), { maxLength: 8 }), (cuts) => {
    const kept: Buffer[][] = []
    const offered: string[] = []
    const p = new RequestParser({
      onCommand: a => { kept.push(a) },
      onGet: (chunk, from, to) => { offered.push(chunk.toString('latin1', from, to)); return true },
      onError: (m) => { throw new Error(m) }
    })
    const receive = Buffer.alloc(stream.length)
    for (const part of splitAt(stream, cuts)) {
      part.copy(receive)
      p.feed(receive.subarray(0, part.length), true)
      receive.fill(0xaa)
    }
    // A GET split over reads is delivered as a command, a whole one offered: each once, in order.
    const got = kept.map(a => a.map(x => x.toString('latin1')))
    const gets = got.filter(a => a[0] === 'GET' && a.length === 2)
    deepStrictEqual(got.filter(a => !(a[0] === 'GET' && a.length === 2)), expected)
    deepStrictEqual([...offered, ...gets.map(a => a[1])].sort(), ['k1', 'k2'])
  }))
  // One read of whole GETs: offered in the chunk itself, no copy made.
  const reads = Buffer.concat([frame('GET', 'k1'), frame('get', 'k2')])
  const chunks: Buffer[] = []
  const p = new RequestParser({ onCommand: () => t.fail('no command'), onGet: (chunk) => { chunks.push(chunk); return true }, onError: () => {} })
  p.feed(reads, true)
  t.equal(chunks.length, 2)
  t.ok(chunks.every(c => c === reads), 'the chunk fed, not a copy')
  // A SET in the same read: its arguments are views of a copy, not of the transient chunk.
  let args: Buffer[] = []
  const q = new RequestParser({ onCommand: a => { args = a }, onGet: () => true, onError: () => {} })
  const mixed = Buffer.concat([frame('GET', 'k1'), frame('SET', 'key', 'value')])
  q.feed(mixed, true)
  t.ok(args[2].buffer !== mixed.buffer || args[2].byteOffset < mixed.byteOffset || args[2].byteOffset >= mixed.byteOffset + mixed.length, 'a copy\'s memory, not the chunk\'s')
  mixed.fill(0)
  t.same(args.map(x => x.toString()), ['SET', 'key', 'value'])
})

t.test('inline requests', async t => {
  t.same(parse('PING\r\n'), ok(['PING']))
  t.same(parse('PING\n'), ok(['PING']), 'bare LF')
  t.same(parse('\r\n\n   \r\n\t\r\nPING\r\n'), ok(['PING']), 'empty and blank lines are skipped')
  t.same(parse('SET  a\tb \r\n'), ok(['SET', 'a', 'b']))
  t.same(parse('ECHO a\rb\n'), ok(['ECHO', 'a', 'b']), 'a CR inside the line separates arguments')
  t.same(parse('ECHO a\r\r\n'), ok(['ECHO', 'a']), 'only one CR is stripped, the other is a blank')
  t.same(parse('PING\r\n*1\r\n$4\r\nPING\r\nPING\n'), ok(['PING'], ['PING'], ['PING']), 'mixed with multibulk')
  t.same(parse('PING'), ok(), 'waits for the newline')
})

t.test('inline quoting (sdssplitargs)', async t => {
  const cases: Array<[string, string[] | null]> = [
    ['a b c', ['a', 'b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ["'a b' c", ['a b', 'c']],
    ['"\\n\\r\\t\\b\\a\\\\\\"\\q"', ['\n\r\t\b\x07\\"q']],
    ['"\\x41\\x4a\\x4B\\x00\\xff"', ['AJK\x00\xff']],
    ['"\\x4"', ['x4']],
    ['"\\xZZ"', ['xZZ']],
    ["'a\\'b'", ["a'b"]],
    ["'a\\nb'", ['a\\nb']],
    ["'a\\\\'", null],
    ['foo"bar baz"', ['foobar baz']],
    ["foo'bar baz'", ['foobar baz']],
    ['""', ['']],
    ["''", ['']],
    ['"" ""', ['', '']],
    ['"a"\tb', ['a', 'b']],
    ['"a"\vb', ['a', 'b']],
    ['a\vb', ['a\vb']],
    ['a\fb', ['a\fb']],
    ['\va', ['a']],
    ['"a"b', null],
    ["'a'b", null],
    ['"abc', null],
    ["'abc", null],
    ['"abc\\"', null],
    ['"abc\\', null],
    ["'abc\\'", null],
    ['"a""b"', null],
    ['\xe9 "\xe9"', ['\xe9', '\xe9']]
  ]
  for (const [line, want] of cases) {
    const got = splitInlineArgs(Buffer.from(line, 'latin1'))
    t.same(got === null ? null : got.map(b => b.toString('latin1')), want, JSON.stringify(line))
  }
  t.same(parse('ECHO "a\r\n'), bad(E.unbalancedQuotes))
  t.same(parse('PING\r\nECHO "a\r\nPING\r\n'), bad(E.unbalancedQuotes, ['PING']), 'commands before it run, nothing after')
})

t.test('protocol errors, with what came before them', async t => {
  const before = 'PING\r\n*1\r\n$4\r\nPING\r\n'
  const cases: Array<[string, string]> = [
    ['*x\r\n', E.invalidMultibulkLength],
    ['*\r\n', E.invalidMultibulkLength],
    ['*-0\r\n', E.invalidMultibulkLength],
    ['*01\r\n', E.invalidMultibulkLength],
    ['*+1\r\n', E.invalidMultibulkLength],
    ['* 1\r\n', E.invalidMultibulkLength],
    ['*1 \r\n', E.invalidMultibulkLength],
    ['*-\r\n', E.invalidMultibulkLength],
    ['*1-\r\n', E.invalidMultibulkLength],
    ['*1048577\r\n', E.invalidMultibulkLength],
    ['*9223372036854775807\r\n', E.invalidMultibulkLength],
    ['*-9223372036854775809\r\n', E.invalidMultibulkLength],
    ['*12345678901234567890\r\n', E.invalidMultibulkLength],
    ['*123456789012345678901\r\n', E.invalidMultibulkLength],
    ['*1\r\n$-1\r\n', E.invalidBulkLength],
    ['*1\r\n$\r\n', E.invalidBulkLength],
    ['*1\r\n$01\r\n', E.invalidBulkLength],
    ['*1\r\n$1x\r\n', E.invalidBulkLength],
    ['*1\r\n$536870913\r\n', E.invalidBulkLength],
    ['*1\r\n$99999999999999999999\r\n', E.invalidBulkLength],
    ['*1\r\nx\r\n', expectedDollar(120)],
    ['*1\r\n:1\r\n', "Protocol error: expected '$', got ':'"],
    ['*1\r\n*1\r\n', "Protocol error: expected '$', got '*'"],
    ['*1\r\n\r\nx', "Protocol error: expected '$', got ' '"],
    ['*1\r\n\nb\r\nx', "Protocol error: expected '$', got ' '"],
    ['*1\r\n\xff3\r\n', "Protocol error: expected '$', got '\xff'"],
    ['*2\r\n$1\r\na\r\n+OK\r\n', "Protocol error: expected '$', got '+'"]
  ]
  for (const [input, error] of cases) {
    t.same(parse(before + input + 'PING\r\n'), bad(error, ['PING'], ['PING']), JSON.stringify(input))
  }
  t.same(parse('*1\r\n$536870912\r\n'), ok(), 'exactly proto-max-bulk-len is accepted')
  t.same(protocolErrorReply(expectedDollar(0xff)), Buffer.from("-ERR Protocol error: expected '$', got '\xff'\r\n", 'latin1'))
})

t.test('too big header and inline lines (64 KB)', async t => {
  const big = 64 * 1024
  t.same(parse('*' + '1'.repeat(big - 1)), ok(), 'a 64 KB count line without CR waits')
  t.same(parse('*' + '1'.repeat(big)), bad(E.tooBigMbulkCount), 'one byte more is too big')
  t.same(parse('*' + '1'.repeat(big - 1) + '\r\n'), bad(E.invalidMultibulkLength), '64 KB with its CR: judged on its value')
  t.same(parse('*1\r\n$' + '1'.repeat(big - 1)), ok())
  t.same(parse('*1\r\n$' + '1'.repeat(big)), bad(E.tooBigBulkCount))
  t.same(parse('*1\r\n' + 'X'.repeat(70000)), bad(E.tooBigBulkCount), 'the cap applies before the $ is checked')
  t.same(parse('x'.repeat(big)), ok(), 'a 64 KB inline line without LF waits')
  t.same(parse('x'.repeat(big + 1)), bad(E.tooBigInline))
  t.same(parse('ECHO ' + 'x'.repeat(big - 6) + '\r\n'), ok(['ECHO', 'x'.repeat(big - 6)]), '64 KB before the LF is fine')
  t.same(parse('PING\r\n' + 'x'.repeat(big + 1) + '\n'), bad(E.tooBigInline, ['PING']), 'more before the LF is too big')
  const lines = parseChunks(['PING\r\n', 'x'.repeat(40000), 'x'.repeat(30000), '\n'].map(s => Buffer.from(s)))
  t.same({ commands: lines.commands, error: lines.error }, bad(E.tooBigInline, ['PING']), 'counted across chunks')
})

t.test('a NUL before the terminator: Redis never sees the line end', async t => {
  t.same(parse('ECHO \x00\r\nPING\r\n'), ok(), 'waits, and nothing after runs')
  t.same(parse('ECHO \x00\r\n' + 'x'.repeat(64 * 1024)), bad(E.tooBigInline), 'until 64 KB follow the line start')
  t.same(parse('ECHO \x00\r\n' + 'x'.repeat(64 * 1024 - 8)), ok())
  t.same(parse('\x00'), ok())
  t.same(parse('*1\x00\r\n$4\r\nPING\r\n'), ok())
  t.same(parse('*1\x00' + 'y'.repeat(64 * 1024 - 3)), ok(), 'exactly 64 KB from the line start')
  t.same(parse('*1\x00' + 'y'.repeat(64 * 1024 - 2)), bad(E.tooBigMbulkCount))
  t.same(parse('*1\r\n$1\x00\r\nx\r\n' + 'y'.repeat(64 * 1024)), bad(E.tooBigBulkCount))
  const r = parseChunks([Buffer.from('*1\r\n\x00'), Buffer.alloc(40000), Buffer.alloc(30000)])
  t.same({ commands: r.commands, error: r.error }, bad(E.tooBigBulkCount), 'counted across chunks')
  t.equal(r.parser.bufferedBytes, 0, 'nothing is kept meanwhile')
})

t.test('limits', async t => {
  const limits: Limits = { maxBulkLen: 10, maxMultibulkLen: 3, maxInlineLen: 20 }
  t.same(parse(frame('a', 'b', 'c'), limits), ok(['a', 'b', 'c']))
  t.same(parse(frame('a', 'b', 'c', 'd'), limits), bad(E.invalidMultibulkLength))
  t.same(parse(frame('0123456789'), limits), ok(['0123456789']))
  t.same(parse(frame('0123456789x'), limits), bad(E.invalidBulkLength))
  t.same(parse('x'.repeat(20) + '\n', limits), ok(['x'.repeat(20)]))
  t.same(parse('x'.repeat(21) + '\n', limits), bad(E.tooBigInline))
  t.same(parse('*' + '0'.repeat(21), limits), bad(E.tooBigMbulkCount))
  t.same(parse('*' + '0'.repeat(19) + '\r', limits), ok(), '20 bytes before the CR: waits for the byte after it')

  t.same(parse(frame('x'.repeat(29)), { maxRequestLen: 40 }), ok(['x'.repeat(29)]), 'request of 40 bytes')
  t.same(parse(frame('x'.repeat(30)), { maxRequestLen: 40 }), bad(E.tooBigRequest))
  t.same(parse('*2\r\n$1\r\na\r\n$100\r\n', { maxRequestLen: 100 }), bad(E.tooBigRequest), 'refused at the header, before the payload')
  t.throws(() => new RequestParser({ onCommand: () => {}, onError: () => {} }, { maxBulkLen: -1 }), RangeError)
  t.throws(() => new RequestParser({ onCommand: () => {}, onError: () => {} }, { maxInlineLen: 1.5 }), RangeError)
})

t.test('unauthenticated limits follow isAuthenticated, frame by frame', async t => {
  let authed = false
  const commands: string[][] = []
  const errors: string[] = []
  const make = (): RequestParser => new RequestParser({
    isAuthenticated: () => authed,
    onCommand: a => {
      commands.push(a.map(String))
      if (a[0].toString() === 'AUTH') authed = true
      if (a[0].toString() === 'RESET') authed = false
    },
    onError: m => errors.push(m)
  })
  const eleven = frame(...Array.from({ length: 11 }, (_, i) => String(i)))
  const ten = frame(...Array.from({ length: 10 }, (_, i) => String(i)))
  make().feed(ten)
  t.same(errors, [], '10 arguments are allowed')
  make().feed(eleven)
  t.same(errors, [E.unauthMultibulkLength])
  errors.length = 0
  make().feed(frame('SET', 'k', 'x'.repeat(16384)))
  t.same(errors, [], '16384 bytes are allowed')
  make().feed(frame('SET', 'k', 'x'.repeat(16385)))
  t.same(errors, [E.unauthBulkLength])
  errors.length = 0
  commands.length = 0
  make().feed(Buffer.concat([frame('AUTH', 'pw'), eleven, frame('SET', 'k', 'x'.repeat(20000)), frame('RESET'), eleven]))
  t.same(commands.map(c => c[0]), ['AUTH', '0', 'SET', 'RESET'], 'AUTH earlier in the pipeline lifts the limits for what follows')
  t.same(errors, [E.unauthMultibulkLength], 'RESET brings them back')
  authed = false
  errors.length = 0
  make().feed(Buffer.from('*11x\r\n'))
  t.same(errors, [E.invalidMultibulkLength], 'an invalid count is invalid first')
})

t.test('nothing after an error; stop(); callbacks that throw', async t => {
  const seen: string[] = []
  const p = new RequestParser({
    onCommand: a => {
      seen.push(a[0].toString())
      if (a[0].toString() === 'QUIT') p.stop()
    },
    onError: m => seen.push('error: ' + m)
  })
  p.feed(Buffer.from('PING\r\nQUIT\r\nPING\r\n*x\r\n'))
  p.feed(Buffer.from('PING\r\n'))
  t.same(seen, ['PING', 'QUIT'])
  t.ok(p.stopped)

  // The same with multibulk frames, which reach onCommand in batches.
  const eleven = frame(...Array.from({ length: 11 }, (_, i) => String(i)))
  for (const [name, tail] of [['frames', frame('PING')], ['an inline command', Buffer.from('PING\r\n')], ['a frame checked against the auth state', eleven], ['a bad frame', Buffer.from('*x\r\n')]] as const) {
    const got: string[] = []
    const quitter: RequestParser = new RequestParser({
      isAuthenticated: () => true,
      onCommand: a => {
        got.push(a[0].toString())
        if (a[0].toString() === 'QUIT') quitter.stop()
      },
      onError: m => got.push('error: ' + m)
    })
    quitter.feed(Buffer.concat([frame('PING'), frame('QUIT'), frame('PING'), tail]))
    t.same(got, ['PING', 'QUIT'], `stop() in onCommand, followed by ${name}`)
  }

  const q = new RequestParser({ onCommand: () => { throw new Error('boom') }, onError: () => {} })
  t.throws(() => q.feed(Buffer.from('PING\r\nPING\r\n')), /boom/)
  t.ok(q.stopped, 'a throwing callback stops the parser')
  t.doesNotThrow(() => q.feed(Buffer.from('PING\r\n')))

  const r: RequestParser = new RequestParser({ onCommand: () => r.feed(Buffer.from('PING\r\n')), onError: () => {} })
  t.throws(() => r.feed(Buffer.from('PING\r\n')), /callbacks/, 'feed is not reentrant')

  const errors: string[] = []
  const s = new RequestParser({ onCommand: () => {}, onError: m => errors.push(m) })
  s.feed(Buffer.from('*x\r\n*y\r\n'))
  s.feed(Buffer.from('*z\r\n'))
  t.same(errors, [E.invalidMultibulkLength], 'one error, once')
})

t.test('a request split across chunks', async t => {
  const timers = (): number => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length
  const timersBefore = timers()
  const value = Buffer.alloc(1 << 20, 'v')
  const input = Buffer.concat([frame(Buffer.from('SET'), Buffer.from('k'), value), frame('GET', 'k')])
  const chunks = splitAt(input, Array.from({ length: Math.ceil(input.length / 65536) }, (_, i) => i * 65536 + 7))
  const got: Buffer[][] = []
  const p = new RequestParser({ onCommand: a => got.push(a), onError: m => t.fail(m) })
  let maxBuffered = 0
  for (const c of chunks) {
    p.feed(c)
    maxBuffered = Math.max(maxBuffered, p.bufferedBytes)
  }
  t.equal(got.length, 2)
  t.ok(got[0][2].equals(value))
  t.equal(got[0][2].buffer.byteLength, frame(Buffer.from('SET'), Buffer.from('k'), value).length, 'assembled in one buffer of the frame\'s size')
  t.equal(p.bufferedBytes, 0)
  t.ok(maxBuffered < input.length)
  t.equal(timers(), timersBefore, 'redis-parser never started its pool timer')

  const bytes = parseChunks([...Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPI')].map(b => Buffer.from([b])))
  t.same(bytes.commands, [['GET', 'k']], 'one byte at a time')
  t.equal(bytes.parser.bufferedBytes, 2, 'the unfinished inline line is kept')
  t.ok(bytes.parser.pending)
  bytes.parser.feed(Buffer.from('NG\r\n'))
  t.notOk(bytes.parser.pending, 'between requests')
  t.same(bytes.commands, [['GET', 'k'], ['PING']])
})

// Inputs made of pieces that exercise every path: valid frames, inline
// lines with quotes, skipped counts, corrupt headers, NULs, raw bytes.
const argArb = fc.oneof(
  fc.constantFrom('', 'a', 'PING', 'x y', '\r\n', '"', "'"),
  fc.uint8Array({ maxLength: 40 }).map(a => Buffer.from(a).toString('latin1'))
)
const inlineArb = fc.array(fc.oneof(
  fc.constantFrom('a', 'bc', ' ', '  ', '\t', '"', "'", '\\', '\\x4', '\\x41', '\\n', '"q w"', "'e r'", '\v', '\r', '\x00', 'é'),
  fc.string({ maxLength: 4 })
), { maxLength: 8 }).chain(parts => fc.constantFrom('\n', '\r\n').map(end => parts.join('').replace(/\n/g, '') + end))
const pieceArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(argArb, { minLength: 1, maxLength: 5 }).map(args => frame(...args).toString('latin1')) },
  { weight: 3, arbitrary: inlineArb },
  { weight: 1, arbitrary: fc.constantFrom('*0\r\n', '*-1\r\n', '*-3\r\n', '\r\n', '\n') },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('*', '$', '*1\r\n$', '*2\r\n$1\r\na\r\n$'), fc.string({ maxLength: 6 }), fc.constantFrom('\r\n', '\r', '\n', ''))
      .map(([a, b, c]) => a + b + c)
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map(a => Buffer.from(a).toString('latin1')) }
)
const inputArb = fc.array(pieceArb, { maxLength: 12 }).map(ps => Buffer.from(ps.join(''), 'latin1'))
// Small limits, so that every limit is reached often.
const small: Limits = { maxBulkLen: 30, maxMultibulkLen: 4, maxInlineLen: 24, maxRequestLen: 90 }

t.test('property: any split of the input parses as the whole', async t => {
  for (const limits of [{}, small]) {
    t.doesNotThrow(() => fc.assert(fc.property(inputArb, fc.array(fc.nat(), { maxLength: 8 }), (input, cuts) => {
      const whole = parse(input, limits)
      const split = parseChunks(splitAt(input, cuts), limits)
      deepStrictEqual({ commands: split.commands, error: split.error }, whole)
    }), { numRuns: 2000 }), `random splits, limits ${JSON.stringify(limits)}`)
    t.doesNotThrow(() => fc.assert(fc.property(inputArb, input => {
      const whole = parse(input, limits)
      const bytes = parseChunks([...input].map(b => Buffer.from([b])), limits)
      deepStrictEqual({ commands: bytes.commands, error: bytes.error }, whole)
      for (let i = 0; i <= input.length; i++) {
        const two = parseChunks([input.subarray(0, i), input.subarray(i)], limits)
        deepStrictEqual({ commands: two.commands, error: two.error }, whole)
      }
    }), { numRuns: 300 }), `every byte boundary, limits ${JSON.stringify(limits)}`)
  }
})

t.test('property: with auth-dependent limits, any split parses as the whole', async t => {
  const authPiece = fc.oneof(
    { weight: 3, arbitrary: pieceArb },
    { weight: 2, arbitrary: fc.constantFrom(frame('AUTH', 'pw'), frame('RESET'), Buffer.from('AUTH pw\r\n')).map(b => b.toString('latin1')) },
    { weight: 2, arbitrary: fc.integer({ min: 9, max: 12 }).map(n => frame(...Array.from({ length: n }, () => 'a')).toString('latin1')) },
    { weight: 1, arbitrary: fc.integer({ min: 16383, max: 16386 }).map(n => frame('SET', Buffer.alloc(n, 'b')).toString('latin1')) }
  )
  const input = fc.array(authPiece, { maxLength: 8 }).map(ps => Buffer.from(ps.join(''), 'latin1'))
  const limits: Limits = { requirePass: true }
  t.doesNotThrow(() => fc.assert(fc.property(input, fc.array(fc.nat(), { maxLength: 12 }), (bytes, cuts) => {
    const whole = parse(bytes, limits)
    const split = parseChunks(splitAt(bytes, cuts), limits)
    deepStrictEqual({ commands: split.commands, error: split.error }, whole)
  }), { numRuns: 1000 }))
})

t.test('property: what a well-formed pipeline holds comes out, in order', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(fc.array(argArb, { minLength: 1, maxLength: 6 }), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 6 }), (cmds, cuts) => {
    const input = Buffer.concat(cmds.map(c => frame(...c)))
    const got = parseChunks(splitAt(input, cuts))
    deepStrictEqual({ commands: got.commands, error: got.error }, { commands: cmds, error: null })
  }), { numRuns: 1000 }))
})

t.test('fuzz: random bytes never throw out of feed', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (bytes, cuts, useSmall) => {
    parseChunks(splitAt(Buffer.from(bytes), cuts), useSmall ? small : {})
  }), { numRuns: 5000 }))
  t.doesNotThrow(() => fc.assert(fc.property(inputArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.array(fc.nat(), { maxLength: 6 }), (input, at, byte, cuts) => {
    if (input.length > 0) input[at % input.length] = byte
    parseChunks(splitAt(input, cuts), small)
  }), { numRuns: 5000 }), 'near-valid input with one byte changed')
})
