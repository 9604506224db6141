import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual } from 'node:assert'
import RedisParser from 'redis-parser'
import {
  EMPTY_ARRAY, NULL, NULL_ARRAY, OK, ONE, PONG, ReplyWriter, ZERO,
  array, bool, bulk, bulkOrNull, double, err, formatDouble, int, map, set, simple, verbatim,
  type Proto, type Reply
} from '../../lib/resp/reply.js'
import { replyArb } from './arbitraries.js'
import { decodeResp3 } from './resp3.js'

function encode (replies: Reply[], proto: Proto, writer = new ReplyWriter()): Buffer {
  for (const r of replies) writer.write(r, proto)
  return writer.take() ?? Buffer.alloc(0)
}

const text = (r: Reply, proto: Proto): string => encode([r], proto).toString('utf8')

t.test('constructors and shared replies', async t => {
  t.same(simple('OK'), { type: 'simple', value: 'OK' })
  t.same(err('ERR x'), { type: 'error', value: 'ERR x' })
  t.same(int(5), { type: 'int', value: 5 })
  t.same(int(-0), { type: 'int', value: 0 })
  t.same(int(2n ** 63n - 1n), { type: 'int', value: 2n ** 63n - 1n })
  t.throws(() => int(2 ** 53), RangeError)
  t.throws(() => int(1.5), RangeError)
  t.throws(() => int(2n ** 63n), RangeError)
  t.throws(() => int(-(2n ** 63n) - 1n), RangeError)
  t.same(bulkOrNull(null), NULL)
  t.same(bulkOrNull(undefined), NULL)
  t.same(bulkOrNull('x'), bulk('x'))
  for (const c of [OK, PONG, NULL, NULL_ARRAY, ZERO, ONE, EMPTY_ARRAY]) t.ok(Object.isFrozen(c))
  t.ok(Object.isFrozen(EMPTY_ARRAY.value))
  t.throws(() => { EMPTY_ARRAY.value.push(OK) }, TypeError, 'the shared empty array cannot grow')
})

t.test('RESP2 and RESP3 encodings', async t => {
  const cases: Array<[Reply, string, string]> = [
    [OK, '+OK\r\n', '+OK\r\n'],
    [simple('a\r\nb'), '+a  b\r\n', '+a  b\r\n'],
    [err('ERR bad\nthing'), '-ERR bad thing\r\n', '-ERR bad thing\r\n'],
    [int(-42), ':-42\r\n', ':-42\r\n'],
    [int(-(2n ** 63n)), ':-9223372036854775808\r\n', ':-9223372036854775808\r\n'],
    [bulk('é'), '$2\r\né\r\n', '$2\r\né\r\n'],
    [bulk(Buffer.from('')), '$0\r\n\r\n', '$0\r\n\r\n'],
    [NULL, '$-1\r\n', '_\r\n'],
    [NULL_ARRAY, '*-1\r\n', '_\r\n'],
    [EMPTY_ARRAY, '*0\r\n', '*0\r\n'],
    [array([ONE, array([bulk('x')])]), '*2\r\n:1\r\n*1\r\n$1\r\nx\r\n', '*2\r\n:1\r\n*1\r\n$1\r\nx\r\n'],
    [map([[bulk('a'), ONE], [simple('b'), NULL]]), '*4\r\n$1\r\na\r\n:1\r\n+b\r\n$-1\r\n', '%2\r\n$1\r\na\r\n:1\r\n+b\r\n_\r\n'],
    [set([bulk('a')]), '*1\r\n$1\r\na\r\n', '~1\r\n$1\r\na\r\n'],
    [double(1.1), '$18\r\n1.1000000000000001\r\n', ',1.1000000000000001\r\n'],
    [double(3), '$1\r\n3\r\n', ',3\r\n'],
    [double(Infinity), '$3\r\ninf\r\n', ',inf\r\n'],
    [double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    [double(NaN), '$3\r\nnan\r\n', ',nan\r\n'],
    [bool(true), ':1\r\n', '#t\r\n'],
    [bool(false), ':0\r\n', '#f\r\n'],
    [verbatim('héllo'), '$6\r\nhéllo\r\n', '=10\r\ntxt:héllo\r\n'],
    [array(Array.from({ length: 12 }, () => ZERO)), '*12\r\n' + ':0\r\n'.repeat(12), '*12\r\n' + ':0\r\n'.repeat(12)],
    [array(Array.from({ length: 100 }, () => ZERO)), '*100\r\n' + ':0\r\n'.repeat(100), '*100\r\n' + ':0\r\n'.repeat(100)]
  ]
  for (const [reply, resp2, resp3] of cases) {
    t.equal(text(reply, 2), resp2, `RESP2 ${JSON.stringify(resp2.slice(0, 40))}`)
    t.equal(text(reply, 3), resp3, `RESP3 ${JSON.stringify(resp3.slice(0, 40))}`)
  }
})

t.test('formatDouble is printf %.17g', async t => {
  const cases: Array<[number, string]> = [
    [0, '0'], [-0, '-0'], [1, '1'], [-2.5, '-2.5'], [1.1, '1.1000000000000001'], [0.1, '0.10000000000000001'],
    [1e20, '1e+20'], [1e17, '1e+17'], [1e16, '10000000000000000'], [123456789012345678, '1.2345678901234568e+17'],
    [1e-5, '1.0000000000000001e-05'], [0.0001, '0.0001'], [1e-300, '1e-300'], [1e-7, '9.9999999999999995e-08'],
    [5e-324, '4.9406564584124654e-324'], [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [2 ** 53, '9007199254740992'], [0.5, '0.5'], [100, '100'], [1.5e-7, '1.4999999999999999e-07'],
    // ties at the 17th digit round to even, as glibc does
    [2251799813685247.25, '2251799813685247.2'], [2251799813685247.75, '2251799813685247.8'],
    [99999999999999999, '1e+17'], [1e-305, '1e-305'], [1e-299, '9.9999999999999999e-300'], [9.999999999999999e22, '9.9999999999999992e+22']
  ]
  for (const [d, s] of cases) t.equal(formatDouble(d), s, String(d))
  t.doesNotThrow(() => fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), d => {
    const s = formatDouble(d)
    if (!Object.is(Number(s), d)) throw new Error(`${s} does not read back as ${d}`)
    if (!/^-?[0-9](\.[0-9]+)?e[-+][0-9]{2,3}$|^-?[0-9]+(\.[0-9]*[1-9])?$/.test(s)) throw new Error(`unexpected form ${s}`)
  }), { numRuns: 5000 }), '17 significant digits always read back')
})

t.test('ReplyWriter: slabs, takes and references', async t => {
  const w = new ReplyWriter({ slabSize: 64 })
  t.equal(w.take(), null, 'nothing written')
  w.write(OK, 2)
  t.equal(w.length, 5)
  const a = w.take() as Buffer
  t.equal(a.toString(), '+OK\r\n')
  w.write(PONG, 2)
  const b = w.take() as Buffer
  t.equal(b.buffer, a.buffer, 'the next reply goes after it in the same slab')
  t.equal(a.toString(), '+OK\r\n', 'a taken Buffer is never written over')
  for (let i = 0; i < 30; i++) w.bulk(`value-${i}`)
  const many = w.take() as Buffer
  t.equal(many.toString(), Array.from({ length: 30 }, (_, i) => `$${String(i).length + 6}\r\nvalue-${i}\r\n`).join(''), 'spans slabs, taken as one')
  t.equal(b.toString(), '+PONG\r\n')

  const big = Buffer.alloc(20000, 'b')
  w.bulk(big)
  w.raw(Buffer.from('+x\r\n'))
  w.raw(Buffer.alloc(17000, 'r'))
  const out = w.take() as Buffer
  t.equal(out.length, 8 + 20000 + 2 + 4 + 17000)
  t.ok(out.subarray(8, 20008).equals(big))
  w.bulk('s'.repeat(20000))
  t.equal((w.take() as Buffer).toString(), `$20000\r\n${'s'.repeat(20000)}\r\n`)
  w.write(verbatim('v'.repeat(20000)), 3)
  t.equal((w.take() as Buffer).toString(), `=20004\r\ntxt:${'v'.repeat(20000)}\r\n`)
  w.write(simple('x'.repeat(100)), 2)
  t.equal((w.take() as Buffer).toString(), `+${'x'.repeat(100)}\r\n`, 'a line longer than the slab')

  t.throws(() => new ReplyWriter({ slabSize: 10 }), RangeError)
})

t.test('ReplyWriter: a write that throws writes nothing', async t => {
  const w = new ReplyWriter({ slabSize: 64 })
  w.write(OK, 2)
  const deep: Reply = Array.from({ length: 70 }).reduce<Reply>(inner => array([inner]), ONE)
  const bad: Reply[] = [
    array([bulk('x'.repeat(50)), bulk(Buffer.alloc(20000)), { type: 'int', value: 1.5 }]),
    array([ONE, { type: 'int', value: 2n ** 64n }]),
    map([[ONE, { type: 'nope' } as unknown as Reply]]),
    deep,
    Array.from({ length: 70 }).reduce<Reply>(inner => map([[ONE, inner]]), ONE)
  ]
  for (const r of bad) t.throws(() => w.write(r, 3))
  t.throws(() => w.write(OK, 4 as Proto), RangeError)
  w.write(PONG, 3)
  t.equal((w.take() as Buffer).toString(), '+OK\r\n+PONG\r\n')
  const depth64: Reply = Array.from({ length: 63 }).reduce<Reply>(inner => array([inner]), ONE)
  t.doesNotThrow(() => w.write(depth64, 2), '64 levels are fine')
  // Slabs of their own ArrayBuffers (4 KB and more: not from Node's pool): the
  // failed write's new slab is dropped with the ArrayBuffer take() views.
  const big = new ReplyWriter({ slabSize: 4096 })
  big.write(OK, 2)
  t.throws(() => big.write(array([bulk('x'.repeat(4100)), { type: 'int', value: 1.5 }]), 3))
  big.write(PONG, 3)
  t.equal((big.take() as Buffer).toString(), '+OK\r\n+PONG\r\n')
})

/** What redis-parser (returnBuffers, stringNumbers) yields for a reply written in RESP2. */
function resp2View (r: Reply): unknown {
  const clean = (s: string): string => s.replace(/[\r\n]/g, ' ')
  switch (r.type) {
    case 'simple': return Buffer.from(clean(r.value))
    case 'error': return { error: Buffer.from(clean(r.value), 'latin1').toString() }
    case 'int': return String(r.value)
    case 'bulk': return Buffer.from(r.value)
    case 'null': case 'nullarray': return null
    case 'array': case 'set': return r.value.map(resp2View)
    case 'map': return r.value.flatMap(([k, v]) => [resp2View(k), resp2View(v)])
    case 'double': return Buffer.from(formatDouble(r.value))
    case 'bool': return r.value ? '1' : '0'
    case 'verbatim': return Buffer.from(r.value)
  }
}

function fromRedisParser (v: unknown): unknown {
  if (v instanceof Error) return { error: v.message }
  if (Array.isArray(v)) return v.map(fromRedisParser)
  return v
}

/** What the RESP3 decoder yields for a reply written in RESP3. */
function resp3View (r: Reply): Reply {
  const clean = (s: string): string => Buffer.from(s.replace(/[\r\n]/g, ' ')).toString()
  switch (r.type) {
    case 'simple': return simple(clean(r.value))
    case 'error': return err(Buffer.from(r.value.replace(/[\r\n]/g, ' '), 'latin1').toString())
    case 'int': return { type: 'int', value: BigInt(r.value) }
    case 'bulk': return bulk(Buffer.from(r.value))
    case 'nullarray': return NULL
    case 'array': return array(r.value.map(resp3View))
    case 'set': return set(r.value.map(resp3View))
    case 'map': return map(r.value.map(([k, v]) => [resp3View(k), resp3View(v)]))
    case 'verbatim': return verbatim(Buffer.from(r.value).toString())
    default: return { ...r }
  }
}

t.test('property: RESP2 output decodes with redis-parser to the same tree', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(replyArb, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 4 }), fc.integer({ min: 64, max: 512 }), (replies, takes, slabSize) => {
    const w = new ReplyWriter({ slabSize })
    const parts: Buffer[] = []
    replies.forEach((r, i) => {
      w.write(r, 2)
      if (takes.includes(i)) parts.push(w.take() ?? Buffer.alloc(0))
    })
    parts.push(w.take() ?? Buffer.alloc(0))
    const got: unknown[] = []
    const p = new RedisParser({ returnBuffers: true, stringNumbers: true, returnReply: r => got.push(r), returnError: e => got.push(e) })
    p.execute(Buffer.concat(parts))
    deepStrictEqual(got.map(fromRedisParser), replies.map(resp2View))
  }), { numRuns: 1000 }))
})

t.test('property: RESP3 output decodes to the same tree', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(replyArb, { maxLength: 6 }), fc.integer({ min: 64, max: 512 }), (replies, slabSize) => {
    const out = encode(replies, 3, new ReplyWriter({ slabSize }))
    deepStrictEqual(decodeResp3(out), replies.map(resp3View))
  }), { numRuns: 1000 }))
})

t.test('bulkOf: a range of a buffer, short (byte by byte) or long (through a view), at any offset', async t => {
  // A source inside a larger ArrayBuffer (as a cache slab or a pooled Buffer is), random bytes.
  const outer = Buffer.alloc(5000)
  for (let i = 0; i < outer.length; i++) outer[i] = (i * 131 + 7) & 0xff
  const src = outer.subarray(17, 4017)
  const w = new ReplyWriter({ slabSize: 256 })
  for (const n of [0, 1, 23, 24, 25, 100, 255, 300, 3000]) {
    for (const start of [0, 1, 999, src.length - n]) {
      w.bulkOf(src, start, start + n)
      const out = w.take() as Buffer
      const want = Buffer.concat([Buffer.from(`$${n}\r\n`), src.subarray(start, start + n), Buffer.from('\r\n')])
      t.ok(out.equals(want), `${n} bytes from ${start}`)
    }
  }
  w.bulkOf(src, 0, src.length)
  t.ok((w.take() as Buffer).subarray(7, 4007).equals(src), 'the whole source')
})
