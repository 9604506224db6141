import t from 'tap'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import {
  CURSOR_LIMIT, CursorRangeError, PartitionCountError, PartitionRangeError,
  cursorFromHash, hashFloorFromCursor, isPowerOfTwo, keyHash, parseCursor,
  partitionBits, partitionEnd, partitionOf, partitionStart
} from '../../lib/ring/index.js'
import { md5Into } from '../../lib/ring/hash.js'

const partitionCounts = Array.from({ length: 17 }, (_, b) => 2 ** b)
const hashArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a))
const partitionsArb = fc.constantFrom(...partitionCounts)

const asBigInt = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b).toString('hex'))

t.test('keyHash is MD5', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (key) => {
    t.same(keyHash(key), createHash('md5').update(key).digest())
  }), { numRuns: 50 })
  t.equal(keyHash(Buffer.from('')).toString('hex'), 'd41d8cd98f00b204e9800998ecf8427e')
  t.equal(keyHash(Buffer.from('a')).length, 16)
})

t.test('md5Into writes the MD5 of a range where it is asked, and nothing else', async (t) => {
  // Lengths across the padding's edges (55/56 bytes: one block or two; 64: a whole block, then padding).
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), fc.nat({ max: 8 }), fc.uint8Array({ minLength: 40, maxLength: 40 }), (data, a, b, at, out0) => {
    const start = data.length === 0 ? 0 : a % (data.length + 1)
    const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1))
    const out = Buffer.from(out0)
    md5Into(data, start, end, out, at)
    const expected = Buffer.from(out0)
    createHash('md5').update(data.subarray(start, end)).digest().copy(expected, at)
    t.same(out, expected)
  }), { numRuns: 500 })
  for (let n = 50; n <= 130; n++) {
    const data = Buffer.alloc(n, n)
    const out = Buffer.alloc(16)
    md5Into(data, 0, n, out, 0)
    t.same(out, createHash('md5').update(data).digest(), `${n} bytes`)
  }
})

t.test('isPowerOfTwo', async (t) => {
  for (let b = 0; b < 53; b++) t.ok(isPowerOfTwo(2 ** b), `2^${b}`)
  for (const n of [0, -1, -2, 3, 6, 12, 1.5, 2 ** 53 + 2, 3 * 2 ** 32, NaN, Infinity, 2 ** 60]) {
    t.notOk(isPowerOfTwo(n), String(n))
  }
  fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (n) => {
    const expected = n.toString(2).replace(/^1/, '').replace(/0/g, '') === ''
    return isPowerOfTwo(n) === expected
  }))
})

t.test('partitionBits checks Q', async (t) => {
  partitionCounts.forEach((q, b) => t.equal(partitionBits(q), b))
  for (const q of [0, 3, 65536 * 2, 100, -4, 1.5]) {
    t.throws(() => partitionBits(q), { code: 'DYNAKV_RING_PARTITION_COUNT' }, String(q))
  }
  t.throws(() => partitionOf(Buffer.alloc(16), 12), PartitionCountError)
})

t.test('partitionOf is the top log2(Q) bits of the position', async (t) => {
  fc.assert(fc.property(hashArb, partitionsArb, (hash, q) => {
    const bits = BigInt(partitionBits(q))
    return partitionOf(hash, q) === Number(asBigInt(hash) >> (128n - bits))
  }), { numRuns: 500 })
  t.equal(partitionOf(Buffer.alloc(16, 0xff), 1024), 1023)
  t.equal(partitionOf(Buffer.alloc(16), 1024), 0)
  t.equal(partitionOf(Buffer.alloc(16, 0xff), 1), 0)
  t.throws(() => partitionOf(Buffer.alloc(1), 8), PartitionRangeError)
})

t.test('partition ranges tile the ring and agree with partitionOf', async (t) => {
  fc.assert(fc.property(hashArb, partitionsArb, fc.uint8Array({ maxLength: 8 }), (hash, q, key) => {
    const p = partitionOf(hash, q)
    const start = partitionStart(p, q)
    const end = partitionEnd(p, q)
    const stored = Buffer.concat([hash, key]) // storage layout md5(key) ‖ key
    const inside = Buffer.compare(start, stored) <= 0 && (end === null || Buffer.compare(stored, end) < 0)
    return start.length === 16 && inside && Buffer.compare(start, hash) <= 0
  }), { numRuns: 500 })
  for (const q of [1, 2, 8, 1024, 65536]) {
    t.same(partitionStart(0, q), Buffer.alloc(16), `Q=${q} starts at 0`)
    t.equal(partitionEnd(q - 1, q), null, `Q=${q}: last partition is open-ended`)
    for (const p of [0, Math.floor(q / 3), q - 2].filter((x) => x >= 0 && x < q - 1)) {
      const end = partitionEnd(p, q)
      t.same(end, partitionStart(p + 1, q), `Q=${q}: end(${p}) = start(${p + 1})`)
      t.equal(partitionOf(partitionStart(p, q), q), p)
      t.equal(asBigInt(partitionStart(p, q)), BigInt(p) << (128n - BigInt(partitionBits(q))))
    }
  }
  t.throws(() => partitionStart(8, 8), { code: 'DYNAKV_RING_PARTITION_RANGE' })
  t.throws(() => partitionStart(-1, 8), PartitionRangeError)
  t.throws(() => partitionEnd(1.5, 8), PartitionRangeError)
  t.throws(() => partitionStart(0, 7), PartitionCountError)
})

t.test('SCAN cursors: the top 63 bits of a position', async (t) => {
  fc.assert(fc.property(hashArb, (hash) => {
    const cursor = cursorFromHash(hash)
    const floor = hashFloorFromCursor(cursor)
    return cursor === asBigInt(hash) >> 65n &&
      cursor >= 0n && cursor < CURSOR_LIMIT &&
      floor.length === 16 &&
      // a key's own cursor resumes at or before the key
      Buffer.compare(floor, hash) <= 0 &&
      cursorFromHash(floor) === cursor &&
      // the floor is the smallest position with that cursor
      asBigInt(floor) === cursor << 65n &&
      parseCursor(cursor.toString()) === cursor
  }), { numRuns: 1000 })
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: CURSOR_LIMIT - 1n }), (cursor) => {
    return cursorFromHash(hashFloorFromCursor(cursor)) === cursor
  }))
  // monotone: a later position never has a smaller cursor
  fc.assert(fc.property(hashArb, hashArb, (a, b) => {
    const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a]
    return cursorFromHash(lo) <= cursorFromHash(hi)
  }))
  t.equal(cursorFromHash(Buffer.alloc(16, 0xff)), CURSOR_LIMIT - 1n)
  t.equal(cursorFromHash(Buffer.alloc(16)), 0n)
  // a view into a larger buffer reads its own bytes
  const big = Buffer.alloc(32)
  big.fill(0xff, 16)
  t.equal(cursorFromHash(big.subarray(16)), CURSOR_LIMIT - 1n)
  t.throws(() => cursorFromHash(Buffer.alloc(7)), PartitionRangeError)
  t.throws(() => hashFloorFromCursor(-1n), CursorRangeError)
  t.throws(() => hashFloorFromCursor(CURSOR_LIMIT), { code: 'DYNAKV_RING_CURSOR_RANGE' })
})

t.test('parseCursor accepts decimal 0 <= c < 2^63 only', async (t) => {
  t.equal(parseCursor('0'), 0n)
  t.equal(parseCursor('007'), 7n)
  t.equal(parseCursor('9223372036854775807'), CURSOR_LIMIT - 1n)
  for (const bad of ['', '-1', '-0', '+1', ' 1', '1 ', '1.0', '1e3', '0x10', 'abc', '١٢', '9223372036854775808',
    '18446744073709551616', '1'.repeat(100), '0'.repeat(65)]) {
    t.equal(parseCursor(bad), null, JSON.stringify(bad))
  }
  fc.assert(fc.property(fc.string(), (s) => {
    const parsed = parseCursor(s)
    if (parsed === null) return !/^[0-9]{1,64}$/.test(s) || BigInt(s) >= CURSOR_LIMIT
    return /^[0-9]+$/.test(s) && parsed === BigInt(s) && parsed < CURSOR_LIMIT
  }), { numRuns: 500 })
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (c) => {
    const parsed = parseCursor(c.toString())
    return c >= 0n && c < CURSOR_LIMIT ? parsed === c : parsed === null
  }))
})
