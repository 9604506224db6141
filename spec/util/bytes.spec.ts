// lib/util/bytes: compareBytes reads four bytes a step through WordReaders
// that remember the last array each was given; its result is the byte loop's,
// whatever the lengths, offsets and arrays, and whatever was read before.
import t from 'tap'
import fc from 'fast-check'
import { Buffer } from 'node:buffer'
import { WORDS_FROM, WordReader, compareBytes } from '../../lib/util/bytes.js'
import { holds } from '../antientropy/fixtures/helpers.js'

/** The simple loop compareBytes replaces. */
function byteLoop (a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array, bFrom: number, bTo: number): number {
  const n = Math.min(aTo - aFrom, bTo - bFrom)
  for (let k = 0; k < n; k++) {
    const d = a[aFrom + k] - b[bFrom + k]
    if (d !== 0) return d
  }
  return (aTo - aFrom) - (bTo - bFrom)
}

// Views at an offset inside a larger ArrayBuffer (as Node's pool and the cache's slabs hand them out),
// the second often a near copy of the first (a long common prefix: the case the word loop is for).
const operands = fc.record({
  bytes: fc.uint8Array({ minLength: 0, maxLength: 48 }),
  padA: fc.nat(7),
  padB: fc.nat(7),
  cut: fc.nat(48),
  flip: fc.option(fc.tuple(fc.nat(47), fc.integer({ min: 1, max: 255 }))),
  extra: fc.uint8Array({ maxLength: 5 }),
  shared: fc.boolean()
})

function place (bytes: Uint8Array, pad: number, into?: Buffer): Buffer {
  const whole = into ?? Buffer.alloc(pad + bytes.length + 3, 0xee)
  whole.set(bytes, pad)
  return whole.subarray(pad, pad + bytes.length)
}

t.test('compareBytes is the byte loop: lengths of any remainder, unaligned offsets, one ArrayBuffer or two', async t => {
  holds(t, fc.property(fc.array(operands, { minLength: 1, maxLength: 6 }), runs => {
    // Several calls in a row: the readers' remembered arrays must never answer for another one.
    for (const o of runs) {
      const second = Uint8Array.from([...o.bytes.subarray(0, Math.min(o.cut, o.bytes.length)), ...o.extra])
      if (o.flip !== null && o.flip[0] < second.length) second[o.flip[0]] ^= o.flip[1]
      const a = place(o.bytes, o.padA)
      // Shared: both operands views of one ArrayBuffer, at different offsets.
      const b = o.shared ? place(second, 0, Buffer.from(Buffer.alloc(o.padB + second.length + o.padA + o.bytes.length + 8))) : place(second, o.padB)
      const got = compareBytes(a, 0, a.length, b, 0, b.length)
      if (got !== byteLoop(a, 0, a.length, b, 0, b.length)) return false
      if (compareBytes(b, 0, b.length, a, 0, a.length) !== byteLoop(b, 0, b.length, a, 0, a.length)) return false
      // Ranges inside the views.
      const from = Math.min(1, a.length)
      if (compareBytes(a, from, a.length, b, 0, Math.max(0, b.length - 1)) !== byteLoop(a, from, a.length, b, 0, Math.max(0, b.length - 1))) return false
    }
    return true
  }), { numRuns: 1000 })
})

t.test('the same array with new bytes, and a new array at the same place, are read as they are now', async t => {
  const ab = new ArrayBuffer(64)
  const a = Buffer.from(ab, 3, 20)
  const b = Buffer.from(Buffer.alloc(40)).subarray(5, 25)
  a.fill(7)
  b.fill(7)
  t.equal(compareBytes(a, 0, 20, b, 0, 20), 0)
  b[13] = 9
  t.equal(compareBytes(a, 0, 20, b, 0, 20), -2, 'a byte changed since the last call')
  const c = Buffer.from(ab, 4, 20) // same ArrayBuffer, one byte further
  c[19] = 1
  t.equal(compareBytes(c, 0, 20, b, 0, 20), byteLoop(c, 0, 20, b, 0, 20))
  t.equal(compareBytes(a, 0, 20, b, 0, 20), byteLoop(a, 0, 20, b, 0, 20))
  t.ok(WORDS_FROM >= 4)
  const r = new WordReader()
  const view = r.of(c)
  t.equal(view.buffer, ab)
  t.equal(r.offset, 4)
  t.equal(view.getUint8(r.offset + 19), 1)
})
