import t from 'tap'
import fc from 'fast-check'
import {
  DIGEST_BYTES,
  hash64,
  hashFromBuffer,
  hashToBuffer,
  itemHash,
  objectItemHash,
  objectItemHashes,
  objectDigest
} from '../../lib/antientropy/index.js'
import { hash64Into, hashWordsInto } from '../../lib/antientropy/hash.js'
import { holds, mulberry32, popcount32 } from './fixtures/helpers.js'

// Produced by compiling the reference MurmurHash3_x86_128 of SMHasher
// (aappleby/smhasher src/MurmurHash3.cpp) and printing out[0], out[1] for the
// input bytes (i * 7 + 3) & 255, i = 0 .. length - 1.
const REFERENCE: Array<[lengthBytes: number, seed: number, hi: number, lo: number]> = [
  [0, 0x00000000, 0x00000000, 0x00000000],
  [1, 0x00000000, 0x70d159b2, 0x7643466f],
  [2, 0x00000000, 0x7e056b48, 0x813db2f7],
  [3, 0x00000000, 0xaeaf995a, 0x3c1e0d17],
  [4, 0x00000000, 0x96730a64, 0x2b5a744a],
  [5, 0x00000000, 0xbfa641bc, 0x477db736],
  [7, 0x00000000, 0xdddebacd, 0x88a781bc],
  [8, 0x00000000, 0x80255515, 0x9fc1af51],
  [9, 0x00000000, 0x83f87d3f, 0xf463af4e],
  [11, 0x00000000, 0x921c3d50, 0x7581b29a],
  [12, 0x00000000, 0x7505922e, 0xf7e2241a],
  [13, 0x00000000, 0x36d8233e, 0x618d9b67],
  [15, 0x00000000, 0xb186314c, 0xd83994c9],
  [16, 0x00000000, 0x66a18bf3, 0xee8386c0],
  [17, 0x00000000, 0x28f01ec4, 0x307455b2],
  [31, 0x00000000, 0x8cfefa9b, 0xd715c49d],
  [32, 0x00000000, 0xcceea8ac, 0xa6646299],
  [33, 0x00000000, 0x6be88ebd, 0xb03a4199],
  [150, 0x00000000, 0xbf1e05a2, 0x43e020fb],
  [0, 0x9747b28c, 0xf7bed5a1, 0x5b576a1c],
  [1, 0x9747b28c, 0xefa1a1a0, 0x3ff3be6c],
  [2, 0x9747b28c, 0xbdf6b407, 0xf7fb0d0d],
  [3, 0x9747b28c, 0x98e419e4, 0xe81d3be2],
  [4, 0x9747b28c, 0x6b7a69c4, 0x0860a831],
  [5, 0x9747b28c, 0xfcd32add, 0x5150bacf],
  [7, 0x9747b28c, 0xe7bc1eaf, 0x08e32456],
  [8, 0x9747b28c, 0xca18f8ca, 0xb19f31d2],
  [9, 0x9747b28c, 0x020039be, 0x2b8274f4],
  [11, 0x9747b28c, 0xfc7d4c52, 0xc34b8319],
  [12, 0x9747b28c, 0x6d4093e7, 0x0078dd10],
  [13, 0x9747b28c, 0xb00bb36f, 0x43b32169],
  [15, 0x9747b28c, 0x77d6e646, 0x8640fe5f],
  [16, 0x9747b28c, 0xaeffd1c3, 0x68561103],
  [17, 0x9747b28c, 0x3732ff79, 0xfe6b8f26],
  [31, 0x9747b28c, 0x6f3bf395, 0x2affa4af],
  [32, 0x9747b28c, 0x01eb9c0a, 0xf856cf24],
  [33, 0x9747b28c, 0x5ef84a3d, 0xf0cce286],
  [150, 0x9747b28c, 0x4e752a0f, 0x594b742b]
]

t.test('hash64 is MurmurHash3_x86_128 truncated to h1, h2 (reference vectors)', async t => {
  const input = new Uint8Array(256)
  for (let i = 0; i < input.length; i++) input[i] = (i * 7 + 3) & 255
  for (const [lengthBytes, seed, hi, lo] of REFERENCE) {
    t.same(hash64(input.subarray(0, lengthBytes), seed), { hi, lo }, `length ${lengthBytes} seed ${seed.toString(16)}`)
  }
  // The published x86_128 value of this sentence is 2f1583c3 ecee2c67 5d7bf66c e5e91d2c.
  t.same(hash64(Buffer.from('The quick brown fox jumps over the lazy dog')), { hi: 0x2f1583c3, lo: 0xecee2c67 })
  t.same(hash64(new Uint8Array(0)), hash64(new Uint8Array(0), 0), 'seed defaults to 0')
})

t.test('hash64 reads views at any byte offset and ignores bytes outside the view', async t => {
  holds(t, fc.property(
    fc.uint8Array({ maxLength: 200 }), fc.nat(7), fc.integer({ min: 0, max: 0xffffffff }),
    (bytes, shift, seed) => {
      const backing = new Uint8Array(bytes.length + shift + 8).fill(0xa5)
      backing.set(bytes, shift)
      const view = backing.subarray(shift, shift + bytes.length)
      const expected = hash64(Uint8Array.from(bytes), seed)
      if (hash64(view, seed).hi !== expected.hi || hash64(view, seed).lo !== expected.lo) return false
      const out = new Uint32Array(5)
      hash64Into(view, seed, out, 3)
      return out[3] === expected.hi && out[4] === expected.lo
    }
  ), { numRuns: 300 })
})

t.test('hashWordsInto equals hash64 over the words written little-endian', async t => {
  holds(t, fc.property(
    fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }), fc.nat(5), fc.integer({ min: 0, max: 0xffffffff }),
    (values, start, seed) => {
      const words = new Uint32Array(start + values.length)
      words.set(values, start)
      const bytes = Buffer.alloc(values.length * 4)
      values.forEach((v, i) => bytes.writeUInt32LE(v, i * 4))
      const out = new Uint32Array(2)
      hashWordsInto(words, start, values.length, seed, out, 0)
      const expected = hash64(bytes, seed)
      return out[0] === expected.hi && out[1] === expected.lo
    }
  ), { numRuns: 300 })
})

t.test('no collisions on 100k distinct inputs, and the low bits are uniform', async t => {
  const seen = new Set<bigint>()
  const bucketCount = 1024
  const buckets = new Int32Array(bucketCount)
  const inputCount = 100_000
  const counter = Buffer.alloc(4)
  const rand = mulberry32(7)
  const long = Buffer.alloc(150)
  for (let i = 0; i < long.length; i++) long[i] = rand() & 255
  for (let i = 0; i < inputCount; i++) {
    // Half structured (a little-endian counter), half 150-byte records that
    // differ only in a counter embedded in the middle.
    let h
    if ((i & 1) === 0) {
      counter.writeUInt32LE(i, 0)
      h = hash64(counter)
    } else {
      long.writeUInt32BE(i, 70)
      h = hash64(long)
    }
    seen.add(BigInt(h.hi) << 32n | BigInt(h.lo))
    buckets[h.lo & (bucketCount - 1)]++
  }
  t.equal(seen.size, inputCount, 'all 64-bit hashes distinct')
  const expected = inputCount / bucketCount
  let chiSquare = 0
  for (const n of buckets) chiSquare += (n - expected) ** 2 / expected
  // 1023 degrees of freedom: mean 1023, standard deviation ~45.
  t.ok(chiSquare < 1023 + 6 * 45, `chi-square ${chiSquare.toFixed(0)} of lo & 1023`)
})

t.test('avalanche: one flipped input bit flips each output bit with probability ~1/2', async t => {
  const rand = mulberry32(42)
  for (const lengthBytes of [4, 13, 16, 150]) {
    const trials = 20_000
    const flipsPerOutputBit = new Int32Array(64)
    let flippedTotal = 0
    const input = new Uint8Array(lengthBytes)
    for (let trial = 0; trial < trials; trial++) {
      for (let i = 0; i < lengthBytes; i++) input[i] = rand() & 255
      const before = hash64(input)
      const bit = Math.floor(rand() / 2 ** 32 * lengthBytes * 8)
      input[bit >> 3] ^= 1 << (bit & 7)
      const after = hash64(input)
      const dHi = before.hi ^ after.hi
      const dLo = before.lo ^ after.lo
      flippedTotal += popcount32(dHi) + popcount32(dLo)
      for (let b = 0; b < 32; b++) {
        flipsPerOutputBit[b] += (dHi >>> b) & 1
        flipsPerOutputBit[32 + b] += (dLo >>> b) & 1
      }
    }
    const mean = flippedTotal / trials
    // Binomial(64, 1/2) per trial: the mean over 20k trials has sd ~0.03.
    t.ok(Math.abs(mean - 32) < 0.5, `${lengthBytes} bytes: ${mean.toFixed(2)} of 64 bits flip on average`)
    const worst = Math.max(...Array.from(flipsPerOutputBit, n => Math.abs(n / trials - 0.5)))
    // Each output bit: sd ~0.0035; 0.05 is > 10 sd.
    t.ok(worst < 0.05, `${lengthBytes} bytes: worst output bit bias ${worst.toFixed(4)}`)
  }
})

t.test('strict avalanche criterion on 16-byte inputs: every input bit x output bit pair near 1/2', async t => {
  const rand = mulberry32(1234)
  const samples = 1500
  const inputBits = 128
  const counts = new Int32Array(inputBits * 64)
  const input = new Uint8Array(16)
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < 16; i++) input[i] = rand() & 255
    const base = hash64(input)
    for (let bit = 0; bit < inputBits; bit++) {
      input[bit >> 3] ^= 1 << (bit & 7)
      const h = hash64(input)
      input[bit >> 3] ^= 1 << (bit & 7)
      const dHi = base.hi ^ h.hi
      const dLo = base.lo ^ h.lo
      for (let b = 0; b < 32; b++) {
        counts[bit * 64 + b] += (dHi >>> b) & 1
        counts[bit * 64 + 32 + b] += (dLo >>> b) & 1
      }
    }
  }
  // sd per cell ~0.013; 8192 cells; 0.075 is ~5.8 sd.
  const worst = Math.max(...Array.from(counts, n => Math.abs(n / samples - 0.5)))
  t.ok(worst < 0.075, `worst cell bias ${worst.toFixed(4)}`)
})

t.test('the seed separates hash domains', async t => {
  holds(t, fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }),
    (bytes, a, b) => {
      fc.pre(a !== b)
      const x = hash64(bytes, a)
      const y = hash64(bytes, b)
      return x.hi !== y.hi || x.lo !== y.lo
    }), { numRuns: 500 })
})

t.test('hashToBuffer / hashFromBuffer: 8 bytes big-endian, inverse of each other', async t => {
  holds(t, fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (hi, lo) => {
    const b = hashToBuffer({ hi, lo })
    const back = hashFromBuffer(b)
    return b.length === DIGEST_BYTES && b.readUInt32BE(0) === hi && b.readUInt32BE(4) === lo && back.hi === hi && back.lo === lo
  }))
  t.throws(() => hashFromBuffer(Buffer.alloc(7)), RangeError)
  t.throws(() => hashFromBuffer(Buffer.alloc(9)), RangeError)
})

t.test('objectDigest: 8 bytes, a function of the content only', async t => {
  holds(t, fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
    const da = objectDigest(Buffer.from(a))
    const copy = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(a)]).subarray(3)
    if (da.length !== DIGEST_BYTES || !da.equals(objectDigest(copy))) return false
    return Buffer.from(a).equals(Buffer.from(b)) === da.equals(objectDigest(Buffer.from(b)))
  }), { numRuns: 500 })
  t.not(objectDigest(Buffer.from('x')).toString('hex'), hashToBuffer(hash64(Buffer.from('x'))).toString('hex'),
    'digests live in their own seed domain')
})

t.test('itemHash changes with the key and with the digest', async t => {
  const keys = Array.from({ length: 200 }, (_, i) => Buffer.from(`key-${i}`))
  const digests = Array.from({ length: 50 }, (_, i) => objectDigest(Buffer.from(`value-${i}`)))
  const seen = new Set<string>()
  let allUint32 = true
  for (const k of keys) {
    for (const d of digests) {
      const h = itemHash(k, d)
      seen.add(`${h.hi}:${h.lo}`)
      allUint32 &&= h.hi === h.hi >>> 0 && h.lo === h.lo >>> 0
    }
  }
  t.ok(allUint32, 'hi and lo are uint32')
  t.equal(seen.size, keys.length * digests.length, 'all (key, digest) pairs distinct')
  const k = Buffer.from('k')
  const d = objectDigest(Buffer.from('v'))
  t.same(itemHash(k, d), itemHash(Buffer.from('k'), Buffer.from(d)), 'deterministic')
  t.throws(() => itemHash(k, Buffer.alloc(4)), RangeError, 'a digest is 8 bytes')
})

t.test('throughput on 150-byte inputs (reported, loose floor)', async t => {
  const inputs = Array.from({ length: 256 }, (_, i) => {
    const b = Buffer.alloc(150)
    for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j * 17) & 255
    return b
  })
  const runs = 300_000
  let sink = 0
  let best = Infinity
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < runs; i++) sink ^= hash64(inputs[i & 255]).hi
    const elapsedNs = Number(process.hrtime.bigint() - start)
    best = Math.min(best, elapsedNs / runs)
  }
  const mibPerS = 150 / best * 1e9 / 2 ** 20
  t.comment(`hash64: ${best.toFixed(0)} ns per 150-byte input, ${mibPerS.toFixed(0)} MiB/s (sink ${sink & 1})`)
  t.ok(mibPerS > 20, 'not catastrophically slow')
})

t.test('objectItemHash is itemHash of the objectDigest, without the digest between', async t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 300 }), (key, obj) => {
    const fast = objectItemHash(key, obj)
    const reference = itemHash(key, objectDigest(obj))
    return fast.hi === reference.hi && fast.lo === reference.lo
  }), { numRuns: 1000 })
  t.pass('equal on 1000 random keys and objects')
})

t.test('objectItemHashes is objectItemHash of each object, the key hashed once', async t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.option(fc.uint8Array({ maxLength: 300 })), fc.option(fc.uint8Array({ maxLength: 300 })), (key, before, after) => {
    const b = { hi: 1, lo: 2 }
    const a = { hi: 3, lo: 4 }
    objectItemHashes(key, before, after, b, a)
    const same = (out: { hi: number, lo: number }, obj: Uint8Array | null, untouched: { hi: number, lo: number }): boolean => {
      const want = obj === null ? untouched : objectItemHash(key, obj)
      return out.hi === want.hi && out.lo === want.lo
    }
    return same(b, before, { hi: 1, lo: 2 }) && same(a, after, { hi: 3, lo: 4 })
  }), { numRuns: 1000 })
  t.pass('equal on 1000 random keys and pairs of objects (either one absent)')
})
