import t, { type Test } from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, ok } from 'node:assert'
import { DecodeError, Writer } from '../../lib/util/bytes.js'
import {
  OBJECT_FORMAT_VERSION,
  decodeObject,
  emptyObject,
  encodeObject,
  put,
  type Clock,
  type Sibling,
  type VObject
} from '../../lib/versioning/index.js'
import { anyObjectArb, makeObject, plain } from './fixtures/history.js'

const runs = { numRuns: 500 }

/** The same object rebuilt with every Map filled in another order and every Buffer copied. */
function rebuilt (obj: VObject, seed: number): VObject {
  return {
    siblings: obj.siblings.map(s => {
      const entries = [...s.ctx]
      const rotated = entries.slice(seed % (entries.length || 1)).concat(entries.slice(0, seed % (entries.length || 1))).reverse()
      return { ...s, ctx: new Map(rotated), value: s.value === null ? null : Buffer.from(s.value) }
    })
  }
}

// DecodeError (lib/util) sets no `name`, which t.throws(fn, Class) compares: check the class directly.
function throwsDecodeError (t: Test, fn: () => unknown, name: string): void {
  try {
    fn()
    t.fail(`${name}: decoded`)
  } catch (err) {
    t.ok(err instanceof DecodeError && err.code === 'DYNAKV_DECODE', name)
  }
}

function decodesOrRejects (bytes: Buffer): void {
  let obj: VObject
  try {
    obj = decodeObject(bytes)
  } catch (err) {
    ok(err instanceof DecodeError, `threw ${String(err)}`)
    return
  }
  // the decoder accepts canonical bytes only
  ok(encodeObject(obj).equals(bytes), 'accepted bytes re-encode to themselves')
}

t.test('round trip and canonical form', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(anyObjectArb, fc.nat(), (obj, seed) => {
    const bytes = encodeObject(obj)
    ok(bytes[0] === OBJECT_FORMAT_VERSION)
    const back = decodeObject(bytes)
    deepStrictEqual(plain(back), plain(obj))
    ok(encodeObject(back).equals(bytes), 're-encoding a decoded object gives the same bytes')
    ok(encodeObject(rebuilt(obj, seed)).equals(bytes), 'equal objects give equal bytes')
    // a decoded object is independent of the buffer it came from
    const copy = Buffer.from(bytes)
    const fromCopy = decodeObject(copy)
    copy.fill(0xff)
    deepStrictEqual(plain(fromCopy), plain(obj))
  }), runs))
  t.same(plain(decodeObject(encodeObject(emptyObject()))), [])
  t.equal(encodeObject(emptyObject()).length, 3)
})

t.test('wide objects: many actors, long clocks', async t => {
  const wide = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 3 })), { selector: ([a, c]) => `${a}:${c}`, minLength: 1, maxLength: 40 })
    .chain(dots => fc.tuple(fc.constant(dots), fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { minLength: dots.length % 2 === 0 ? 0 : 17, maxLength: 30 }), { minLength: dots.length, maxLength: dots.length })))
    .map(([dots, ctxs]) => makeObject(dots.map(([a, counter], i) => ({
      actor: `node-${a}#1`,
      counter,
      ctx: new Map(ctxs[i].map(c => [`node-${c}#1`, { counter: c + 1, ts: 1000 + c }])),
      ts: 1000 + i,
      value: i % 3 === 0 ? null : Buffer.from([i])
    }))))
  t.doesNotThrow(() => fc.assert(fc.property(wide, fc.nat(), (obj, seed) => {
    const bytes = encodeObject(obj)
    deepStrictEqual(plain(decodeObject(bytes)), plain(obj))
    ok(encodeObject(rebuilt(obj, seed)).equals(bytes))
  }), { numRuns: 200 }))
})

t.test('compact: each actor id is written once', async t => {
  const actor = 'some-long-node-name.example#0123456789abcdef'
  let obj = emptyObject()
  for (let i = 0; i < 5; i++) {
    // stale writers: each write keeps the earlier ones as siblings, and every ctx names the actor
    const context: Clock = new Map([['b#1', { counter: 9, ts: 1 }]])
    if (i > 0) context.set(actor, { counter: 1, ts: 1 })
    obj = put(obj, { actor, context, value: Buffer.from('v'), nowMs: 1_700_000_000_000 + i, counterFloor: 5, lanesMax: 1 }).obj
  }
  t.equal(obj.siblings.length, 5)
  const bytes = encodeObject(obj)
  const occurrences = bytes.toString('latin1').split(actor).length - 1
  t.equal(occurrences, 1)
  // the common case: one sibling, a 3-entry clock, a 100-byte value
  const ctx = new Map([['node-a#1f2e3d4c', { counter: 41, ts: 1_700_000_000_000 }], ['node-b#5a6b7c8d', { counter: 7, ts: 1_700_000_000_500 }]])
  const one = put(emptyObject(), { actor: 'node-c#9e8f7a6b', context: ctx, value: Buffer.alloc(100, 1), nowMs: 1_700_000_001_000 }).obj
  const actorBytes = 3 * 'node-a#1f2e3d4c'.length
  const size = encodeObject(one).length
  t.ok(size - 100 - actorBytes <= 32, `${size} bytes: 100 of value, ${actorBytes} of actor ids, ${size - 100 - actorBytes} of structure`)
})

t.test('garbage only ever throws DecodeError', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), bytes => {
    decodesOrRejects(Buffer.from(bytes))
    decodesOrRejects(Buffer.from([OBJECT_FORMAT_VERSION, ...bytes]))
  }), { numRuns: 3000 }))
  // mutations of valid encodings reach deep into the decoder
  const mutation = fc.record({ obj: anyObjectArb, at: fc.nat(), byte: fc.nat({ max: 255 }), cut: fc.nat(), kind: fc.nat({ max: 3 }) })
  t.doesNotThrow(() => fc.assert(fc.property(mutation, ({ obj, at, byte, cut, kind }) => {
    const bytes = Buffer.from(encodeObject(obj))
    const i = at % bytes.length
    if (kind === 0) bytes[i] = byte
    if (kind === 1) bytes[i] ^= 1 << (byte % 8)
    if (kind === 2) return decodesOrRejects(bytes.subarray(0, cut % bytes.length))
    if (kind === 3) return decodesOrRejects(Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]))
    decodesOrRejects(bytes)
  }), { numRuns: 3000 }))
  throwsDecodeError(t, () => decodeObject('not a buffer' as unknown as Buffer), 'not a buffer')
})

/** Hand-built encodings: [actor ids], then sibling tuples, written field by field. */
interface RawSibling { actor: number, counter: number, ts: number, ctx?: Array<[number, number, number]>, value?: string | null, head?: number[] }
function raw (actors: string[], siblings: RawSibling[], opts: { version?: number, tsBase?: number, trailing?: boolean } = {}): Buffer {
  const w = new Writer()
  w.u8(opts.version ?? OBJECT_FORMAT_VERSION)
  w.varint(actors.length)
  for (const a of actors) w.string(a)
  w.varint(siblings.length)
  if (siblings.length > 0) w.varint(opts.tsBase ?? 0)
  for (const s of siblings) {
    w.varint(s.actor).varint(s.counter).varint(s.ts)
    const ctx = s.ctx ?? []
    w.varint(ctx.length)
    for (const [i, c, ts] of ctx) w.varint(i).varint(c).varint(ts)
    if (s.head !== undefined) {
      w.raw(Buffer.from(s.head))
      continue
    }
    const v = s.value === undefined ? 'v' : s.value
    if (v === null) w.varint(0)
    else w.varint(1).varint(v.length).raw(Buffer.from(v))
  }
  if (opts.trailing === true) w.u8(0)
  return Buffer.from(w.finish())
}

t.test('non-canonical and malformed encodings are rejected', async t => {
  const good = raw(['a#1', 'b#1'], [{ actor: 0, counter: 1, ts: 0, ctx: [[1, 2, 3]] }, { actor: 1, counter: 2, ts: 5, value: null }], { tsBase: 1000 })
  const obj = decodeObject(good)
  t.same(plain(obj), plain(makeObject([
    { actor: 'a#1', counter: 1, ts: 1000, ctx: new Map([['b#1', { counter: 2, ts: 1003 }]]), value: Buffer.from('v') } as Sibling,
    { actor: 'b#1', counter: 2, ts: 1005, ctx: new Map(), value: null }
  ])), 'the documented layout')
  t.ok(encodeObject(obj).equals(good))

  const bad: Record<string, Buffer> = {
    'unknown version': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0 }], { version: 1 }),
    'actor table out of order': raw(['b#1', 'a#1'], [{ actor: 0, counter: 1, ts: 0 }, { actor: 1, counter: 1, ts: 0 }]),
    'duplicate actor': raw(['a#1', 'a#1'], [{ actor: 0, counter: 1, ts: 0 }, { actor: 1, counter: 1, ts: 0 }]),
    'unused actor': raw(['a#1', 'b#1'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actors without siblings': raw(['a#1'], []),
    'invalid actor id': raw(['a b#1'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id without epoch': raw(['abc'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id with empty epoch': raw(['abc#'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id with upper-case epoch': raw(['a#F'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id with a zero lane': raw(['a#1.0'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id with a 3-digit lane': raw(['a#1.100'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id with a non-digit lane': raw(['a#1.x'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id with an empty lane': raw(['a#1.'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id too short': raw(['a#'], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor id too long': raw([`${'n'.repeat(65)}#1`], [{ actor: 0, counter: 1, ts: 0 }]),
    'actor index out of range': raw(['a#1'], [{ actor: 1, counter: 1, ts: 0 }]),
    'zero counter': raw(['a#1'], [{ actor: 0, counter: 0, ts: 0 }]),
    'zero counter in a ctx': raw(['a#1', 'b#1'], [{ actor: 0, counter: 1, ts: 0, ctx: [[1, 0, 0]] }]),
    'siblings out of order': raw(['a#1', 'b#1'], [{ actor: 1, counter: 1, ts: 0 }, { actor: 0, counter: 1, ts: 0 }]),
    'duplicate dot': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0 }, { actor: 0, counter: 1, ts: 0 }]),
    'counters out of order': raw(['a#1'], [{ actor: 0, counter: 2, ts: 0 }, { actor: 0, counter: 1, ts: 0 }]),
    'ctx out of order': raw(['a#1', 'b#1', 'c#1'], [{ actor: 0, counter: 1, ts: 0, ctx: [[2, 1, 0], [1, 1, 0]] }]),
    'ctx duplicate actor': raw(['a#1', 'b#1'], [{ actor: 0, counter: 1, ts: 0, ctx: [[1, 1, 0], [1, 2, 0]] }]),
    'ts base is not the smallest ts': raw(['a#1'], [{ actor: 0, counter: 1, ts: 1 }]),
    'ts beyond 2^53': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0 }, { actor: 0, counter: 2, ts: 2 ** 52 }], { tsBase: 2 ** 52 }),
    'trailing bytes': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0 }], { trailing: true }),
    'over-long varint': Buffer.from([2, 1, 3, 0x61, 0x23, 0x31, 1, 0, 0, 0x81, 0x00, 0, 0, 1, 1, 0x76]),
    'over-long actor length': Buffer.from([2, 1, 0x83, 0x00, 0x61, 0x23, 0x31, 1, 0, 0, 1, 0, 0, 1, 1, 0x76]),
    'head flags out of range': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [16] }]),
    // a value head with 2^35 added: 32-bit bit operations would read it as a plain value (fast-check found it)
    'head past 32 bits': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [0x81, 0x80, 0x80, 0x80, 0x80, 0x01, 0] }]),
    'a counter with flags': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [2 | 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5] }]),
    'unknown numeric type': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [2, 7, 0, 0, 0, 0, 0, 0, 0, 1] }]),
    'a NaN total': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [2, 1, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0] }]),
    'unknown marker': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [3, 4] }]),
    'zero expiry': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [0 | 4, 0] }]),
    'empty base': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [0 | 8, 0] }]),
    'base entries out of order': raw(['a#1', 'b#1'], [{ actor: 0, counter: 1, ts: 0, head: [0 | 8, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1] }]),
    'truncated total': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0, head: [2, 0, 0, 0] }]),
    'truncated value': raw(['a#1'], [{ actor: 0, counter: 1, ts: 0 }]).subarray(0, -1),
    'empty input': Buffer.alloc(0)
  }
  for (const [name, bytes] of Object.entries(bad)) throwsDecodeError(t, () => decodeObject(bytes), name)
  t.ok(decodeObject(Buffer.from([2, 1, 3, 0x61, 0x23, 0x31, 1, 0, 0, 1, 0, 0, 1, 1, 0x76])), 'the shortest form of the same bytes decodes')
  t.ok(decodeObject(raw(['a#1.7', 'a#1.99'], [{ actor: 0, counter: 1, ts: 0 }, { actor: 1, counter: 1, ts: 0 }])), 'lanes are actor ids')
})

t.test('counts are bounded by the input before anything is allocated', async t => {
  const huge = 2 ** 40
  const cases: Record<string, Buffer> = {
    actors: new Writer().u8(2).varint(huge).finish(),
    siblings: new Writer().u8(2).varint(0).varint(huge).finish(),
    'ctx entries': new Writer().u8(2).varint(1).string('a#1').varint(1).varint(0).varint(0).varint(1).varint(0).varint(huge).finish(),
    'value length': new Writer().u8(2).varint(1).string('a#1').varint(1).varint(0).varint(0).varint(1).varint(0).varint(0).varint(1).varint(huge).finish(),
    'base entries': new Writer().u8(2).varint(1).string('a#1').varint(1).varint(0).varint(0).varint(1).varint(0).varint(0).varint(8).varint(huge).finish(),
    'actor length': new Writer().u8(2).varint(1).varint(huge).finish()
  }
  for (const [name, bytes] of Object.entries(cases)) throwsDecodeError(t, () => decodeObject(Buffer.from(bytes)), name)
})
