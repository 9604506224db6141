// lib/util/fifo: a FIFO with O(1) removal from the front; it keeps order
// across wrap-around and growth, and lets go of what it removed.
import t from 'tap'
import { Fifo } from '../../lib/util/fifo.js'

t.test('first in, first out across wrap-around and growth', async t => {
  const r = new Fifo<number>(4)
  t.equal(r.length, 0)
  t.equal(r.first(), undefined)
  t.equal(r.shift(), undefined)
  // Interleave pushes and shifts so the head wraps before the ring grows, then grows while wrapped.
  const expect: number[] = []
  let next = 0
  for (let round = 0; round < 50; round++) {
    const pushes = (round * 7) % 11 + 1
    const shifts = (round * 5) % 9
    for (let i = 0; i < pushes; i++) { r.push(next); expect.push(next++) }
    for (let i = 0; i < shifts && expect.length > 0; i++) t.equal(r.shift(), expect.shift())
    t.equal(r.length, expect.length)
    t.equal(r.first(), expect[0])
  }
  while (expect.length > 0) t.equal(r.shift(), expect.shift())
  t.equal(r.length, 0)
  t.equal(r.shift(), undefined)
})

t.test('a capacity is rounded up to a power of two and the ring grows past it', async t => {
  const r = new Fifo<string>(3)
  for (let i = 0; i < 100; i++) r.push(String(i))
  t.equal(r.length, 100)
  for (let i = 0; i < 100; i++) t.equal(r.shift(), String(i))
})

t.test('a removed element is not held by the ring', async t => {
  const r = new Fifo<object>(2)
  const o = {}
  r.push(o)
  r.shift()
  // The slot it sat in is cleared: nothing of the ring's refers to it.
  t.notOk(((r as unknown as { slots: unknown[] }).slots).includes(o))
})
