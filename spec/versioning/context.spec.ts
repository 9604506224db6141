import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, ok } from 'node:assert'
import { crc32 } from 'node:zlib'
import { Writer } from '../../lib/util/bytes.js'
import {
  CONTEXT_FORMAT_VERSION,
  CONTEXT_TOKEN_LENGTH_MAX,
  InvalidContextError,
  decodeContext,
  encodeContext,
  objectClock,
  type Clock
} from '../../lib/versioning/index.js'
import { clock, clockArb, historyArb, plainClock, simulate } from './fixtures/history.js'

const runs = { numRuns: 500 }
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Clocks that clients really hold, and arbitrary ones. */
const anyClock = fc.oneof(clockArb, fc.record({ ops: historyArb, i: fc.nat() }).map(({ ops, i }) => {
  const { contexts, states } = simulate(ops)
  return i % 2 === 0 ? contexts[i % contexts.length] : objectClock(states[i % states.length])
}))

function rejects (token: string): boolean {
  try {
    decodeContext(token)
    return false
  } catch (err) {
    ok(err instanceof InvalidContextError && err.code === 'DYNAKV_INVALID_CONTEXT', `threw ${String(err)}`)
    return true
  }
}

function throwsInvalid (fn: () => unknown): boolean {
  try {
    fn()
    return false
  } catch (err) {
    return err instanceof InvalidContextError
  }
}

function decodesOrRejects (token: string): void {
  if (rejects(token)) return
  ok(encodeContext(decodeContext(token)) === token, 'an accepted token re-encodes to itself')
}

/** A token from hand-written bytes, with a correct checksum. */
function sealed (body: Buffer): string {
  const w = new Writer().raw(body)
  return Buffer.from(w.u32(crc32(body)).finish()).toString('base64url')
}

t.test('round trip, printable, canonical', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(anyClock, c => {
    const token = encodeContext(c)
    ok(/^[A-Za-z0-9_-]*$/.test(token), 'printable base64url without padding')
    deepStrictEqual(plainClock(decodeContext(token)), plainClock(c))
    ok(encodeContext(new Map([...c].reverse())) === token, 'independent of the map order')
    ok(token.length <= CONTEXT_TOKEN_LENGTH_MAX)
  }), runs))
  const wide: Clock = new Map(Array.from({ length: 40 }, (_, i) => [`node-${(i * 7) % 40}#1`, { counter: i + 1, ts: 5000 - i }]))
  const token = encodeContext(wide)
  t.same(plainClock(decodeContext(token)), plainClock(wide), 'a 40-entry clock')
  t.equal(encodeContext(new Map([...wide].reverse())), token)
  t.equal(encodeContext(new Map()), '', 'the empty context is the empty token')
  t.same(plainClock(decodeContext('')), [])
})

t.test('tokens bound to a key', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(anyClock.filter(c => c.size > 0), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (c, k1, k2) => {
    const key = Buffer.from(k1)
    const token = encodeContext(c, key)
    deepStrictEqual(plainClock(decodeContext(token, key)), plainClock(c))
    ok(encodeContext(c, key.toString('latin1')) === token || key.some(b => b > 0x7f), 'a string key is its UTF-8 bytes')
    if (!key.equals(Buffer.from(k2))) ok(throwsInvalid(() => decodeContext(token, Buffer.from(k2))), 'another key')
  }), runs))
  const c = clock({ 'a#1': [3, 7] })
  t.ok(throwsInvalid(() => decodeContext(encodeContext(c, 'k1'), 'k2')), 'a token of another key')
  t.ok(throwsInvalid(() => decodeContext(encodeContext(c, 'k1'))), 'a bound token where none is expected')
  t.ok(throwsInvalid(() => decodeContext(encodeContext(c), 'k1')), 'an unbound token where a bound one is expected')
  t.same(plainClock(decodeContext('', 'k1')), [], 'the empty context is the empty token for every key')
})

t.test('a damaged token is always rejected, never misread', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(anyClock.filter(c => c.size > 0), fc.nat(), fc.constantFrom(...BASE64URL), (c, at, ch) => {
    const token = encodeContext(c)
    const i = at % token.length
    fc.pre(token[i] !== ch)
    ok(rejects(token.slice(0, i) + ch + token.slice(i + 1)), 'one character changed')
    ok(rejects(token.slice(0, i) + token.slice(i + 1)), 'one character dropped')
    ok(rejects(token.slice(0, i) + ch + token.slice(i)), 'one character added')
  }), runs))
})

t.test('garbage only ever throws InvalidContextError', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.string({ maxLength: 80 }), decodesOrRejects), { numRuns: 2000 }))
  t.doesNotThrow(() => fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 80 }), decodesOrRejects), { numRuns: 2000 }))
  // past the checksum: random bodies reach the structural decoder
  t.doesNotThrow(() => fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), body => {
    decodesOrRejects(sealed(Buffer.from(body)))
    decodesOrRejects(sealed(Buffer.from([CONTEXT_FORMAT_VERSION, ...body])))
  }), { numRuns: 3000 }))
  t.ok(rejects(undefined as unknown as string), 'not a string')
  t.ok(rejects(Buffer.from('x') as unknown as string), 'a Buffer is not a token')
})

function body (entries: Array<[string, number, number]>, opts: { version?: number, count?: number, tsBase?: number } = {}): Buffer {
  const w = new Writer()
  w.u8(opts.version ?? CONTEXT_FORMAT_VERSION).varint(opts.count ?? entries.length)
  if ((opts.count ?? entries.length) > 0) w.varint(opts.tsBase ?? 0)
  for (const [actor, counter, ts] of entries) w.string(actor).varint(counter).varint(ts)
  return Buffer.from(w.finish())
}

t.test('what is rejected', async t => {
  const good = sealed(body([['a#1', 3, 0], ['b#2', 1, 7]], { tsBase: 1000 }))
  t.same(plainClock(decodeContext(good)), [['a#1', 3, 1000], ['b#2', 1, 1007]], 'the documented layout')
  t.equal(encodeContext(decodeContext(good)), good)

  const bad: Record<string, string> = {
    'too long': 'A'.repeat(CONTEXT_TOKEN_LENGTH_MAX + 1),
    'padding': `${good}=`,
    'standard base64 alphabet': good.replace(/-/g, '+').replace(/_/g, '/') + (good.includes('-') || good.includes('_') ? '' : '+'),
    'white space': ` ${good}`,
    'non-canonical last character': encodeContext(clock({ 'a#1': 1 })).replace(/.$/, ch => BASE64URL[BASE64URL.indexOf(ch) ^ 1]),
    'too short': Buffer.from([1, 2, 3]).toString('base64url'),
    'bad checksum': (() => { const b = Buffer.from(good, 'base64url'); b[b.length - 1] ^= 1; return b.toString('base64url') })(),
    'unknown version': sealed(body([['a#1', 1, 0]], { version: 2 })),
    'an empty context spelled out': sealed(body([])),
    'count beyond the bytes': sealed(body([['a#1', 1, 0]], { count: 2 ** 40 })),
    'count below the entries': sealed(body([['a#1', 1, 0], ['b#1', 1, 0]], { count: 1 })),
    'out of order': sealed(body([['b#1', 1, 0], ['a#1', 1, 0]])),
    'duplicate actor': sealed(body([['a#1', 1, 0], ['a#1', 2, 0]])),
    'zero counter': sealed(body([['a#1', 0, 0]])),
    'ts base is not the smallest ts': sealed(body([['a#1', 1, 4]])),
    'ts beyond 2^53': sealed(body([['a#1', 1, 0], ['b#1', 1, 2 ** 52]], { tsBase: 2 ** 52 })),
    'invalid actor id': sealed(body([['a b', 1, 0]])),
    'over-long varint': sealed(Buffer.from([1, 1, 0, 3, 0x61, 0x23, 0x31, 0x81, 0x00, 0])),
    'trailing bytes': sealed(Buffer.concat([body([['a#1', 1, 0]]), Buffer.from([0])]))
  }
  for (const [name, token] of Object.entries(bad)) t.ok(rejects(token), name)
  t.ok(!rejects(sealed(Buffer.from([1, 1, 0, 3, 0x61, 0x23, 0x31, 0x01, 0]))), 'the shortest form of the same bytes decodes')
  const long: Clock = new Map(Array.from({ length: 3000 }, (_, i) => [`node-${i}#abcdef01`, { counter: i + 1, ts: i }]))
  t.ok(encodeContext(long).length > CONTEXT_TOKEN_LENGTH_MAX && rejects(encodeContext(long)), 'a clock too large for a token is refused on the way in')
})
