import t from 'tap'
import { SentCalls } from '../../lib/peer/connection.js'
import type { Call } from '../../lib/peer/transport.js'

const call = (n: number): Call => ({ n } as unknown as Call)

t.test('a sent call is found by its id until deleted; a reused slot answers only its new id', async t => {
  const table = new SentCalls(4)
  const a = call(1)
  const b = call(2)
  const idA = table.add(a)
  const idB = table.add(b)
  t.not(idA, idB)
  t.ok(idA > 0 && idB > 0, 'no id is 0 (the id of frames that answer no request)')
  t.equal(table.get(idA), a)
  t.equal(table.get(idB), b)
  t.equal(table.size, 2)
  table.delete(idA)
  t.equal(table.get(idA), undefined, 'a late answer to a settled call finds nothing')
  const c = call(3)
  const idC = table.add(c)
  t.equal(idC % 4, idA % 4, 'the freed slot is reused')
  t.not(idC, idA, 'under another id')
  t.equal(table.get(idA), undefined, 'the old id does not reach the call that took its slot')
  t.equal(table.get(idC), c)
  table.delete(idA) // a stale id deletes nothing
  t.equal(table.get(idC), c)
  t.equal(table.size, 2)
  t.same(table.clear().sort((x, y) => (x as unknown as { n: number }).n - (y as unknown as { n: number }).n), [b, c])
  t.equal(table.size, 0)
  t.equal(table.get(idB), undefined)
  t.equal(table.get(0xffffffff), undefined, 'an id never given finds nothing')
})

t.test('ids stay 32-bit and distinct for a slot over many reuses', async t => {
  const table = new SentCalls(1024)
  const seen = new Set<number>()
  let outOfRange = 0
  for (let i = 0; i < 5000; i++) {
    const id = table.add(call(i))
    if (!(id > 0 && id <= 0xffffffff)) outOfRange++
    seen.add(id)
    table.delete(id)
  }
  t.equal(outOfRange, 0, 'every id in [1, 2^32)')
  t.equal(seen.size, 5000, 'one slot, 5000 distinct ids')
  t.throws(() => new SentCalls(2 ** 33), RangeError, 'a bound whose slots leave no bits for uses is refused')
})
