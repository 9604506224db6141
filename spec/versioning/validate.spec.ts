// validateObject is decodeObject's twin without the object: it must throw
// (DecodeError) on exactly the bytes decodeObject rejects.
import t from 'tap'
import fc from 'fast-check'
import { ok } from 'node:assert'
import { DecodeError, Writer } from '../../lib/util/bytes.js'
import { decodeObject, encodeObject } from '../../lib/versioning/index.js'
import { validateObject } from '../../lib/versioning/validate.js'
import { anyObjectArb } from './fixtures/history.js'
import { typedObjectArb } from './fixtures/typed.js'

const objArb = fc.oneof(anyObjectArb, typedObjectArb)

/** The DecodeError a call throws, null when it returns (anything else thrown fails). */
function rejection (fn: () => unknown): DecodeError | null {
  try {
    fn()
    return null
  } catch (e) {
    ok(e instanceof DecodeError, `threw ${String(e)}`)
    return e
  }
}

function agree (bytes: Buffer): void {
  const decoded = rejection(() => decodeObject(bytes))
  const validated = rejection(() => validateObject(bytes))
  ok((decoded === null) === (validated === null), `decodeObject ${decoded?.message ?? 'accepts'}, validateObject ${validated?.message ?? 'accepts'}: ${bytes.toString('hex')}`)
}

t.test('every encoded object is valid', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(objArb, obj => { validateObject(encodeObject(obj)) }), { numRuns: 1000 }))
})

t.test('mutated encodings and garbage: rejected exactly when decodeObject rejects them', async t => {
  const mutation = fc.record({ obj: objArb, at: fc.nat(), byte: fc.nat({ max: 255 }), cut: fc.nat(), kind: fc.nat({ max: 3 }) })
  t.doesNotThrow(() => fc.assert(fc.property(mutation, ({ obj, at, byte, cut, kind }) => {
    const bytes = Buffer.from(encodeObject(obj))
    const i = at % bytes.length
    if (kind === 0) bytes[i] = byte
    if (kind === 1) bytes[i] ^= 1 << (byte % 8)
    if (kind === 2) return agree(bytes.subarray(0, cut % bytes.length))
    if (kind === 3) return agree(Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]))
    agree(bytes)
  }), { numRuns: 5000 }))
  t.doesNotThrow(() => fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), bytes => {
    agree(Buffer.from(bytes))
    agree(Buffer.from([2, ...bytes]))
  }), { numRuns: 3000 }))
})

t.test('the cases random mutations rarely reach', async t => {
  // version 2, actor "a#1", one sibling (index 0, counter 1, ts 0, no ctx), then `tail` from the head on
  const one = (tail: number[]): Buffer => Buffer.concat([new Writer().u8(2).varint(1).string('a#1').varint(1).varint(0).varint(0).varint(1).varint(0).varint(0).finish(), Buffer.from(tail)])
  const cases: Record<string, Buffer> = {
    'a value': one([1, 1, 0x76]),
    'a NaN total': one([2, 1, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]),
    'a double total': one([2, 1, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
    'an int total': one([2, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    'unknown numeric type': one([2, 7, 0, 0, 0, 0, 0, 0, 0, 1]),
    'truncated total': one([2, 0, 0, 0]),
    'head past 32 bits': one([0x81, 0x80, 0x80, 0x80, 0x80, 0x01, 0]),
    'a counter with flags': one([2 | 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5]),
    'a set marker': one([3, 1]),
    'unknown marker': one([3, 4]),
    'zero expiry': one([0 | 4, 0]),
    'an expiry': one([0 | 4, 9]),
    'empty base': one([0 | 8, 0]),
    'a base': one([0 | 8, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    'a base with a zero counter': one([0 | 8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    'ts out of range': Buffer.concat([new Writer().u8(2).varint(2).string('a#1').string('b#1').varint(1).varint(Number.MAX_SAFE_INTEGER).varint(0).varint(1).varint(0).varint(1).varint(1).varint(1).varint(5).finish(), Buffer.from([1, 1, 0x76])]),
    'ts at the limit': Buffer.concat([new Writer().u8(2).varint(2).string('a#1').string('b#1').varint(1).varint(Number.MAX_SAFE_INTEGER - 5).varint(0).varint(1).varint(0).varint(1).varint(1).varint(1).varint(5).finish(), Buffer.from([1, 1, 0x76])]),
    'not a buffer': 'x' as unknown as Buffer
  }
  for (const [name, bytes] of Object.entries(cases)) t.doesNotThrow(() => agree(bytes), name)
  t.throws(() => validateObject(one([2, 1, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])), DecodeError)
  t.doesNotThrow(() => validateObject(one([2, 1, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0])))
  t.throws(() => validateObject(cases['ts out of range']), DecodeError)
  t.doesNotThrow(() => validateObject(cases['ts at the limit']))
})
