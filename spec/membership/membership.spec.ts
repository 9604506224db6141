// The membership view keeps its sorted records, digest and encoding between
// changes (gossip asks for them on every message). After any sequence of
// applies they must equal what is computed afresh from the records: the
// digest as FNV-1a over each record's encoding in name order (its definition,
// written out here), the encoding as encodeMembership of the records.
import t from 'tap'
import fc from 'fast-check'
import {
  Membership, decodeMembership, encodeMembership, encodeRecord, supersedes, type MemberRecord
} from '../../lib/membership/membership.js'

const settings = { name: 'c', partitions: 64, n: 3 }

const recordArb: fc.Arbitrary<MemberRecord> = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'node-10', 'node-9'),
  peerHost: fc.constantFrom('h1', 'h2'),
  peerPort: fc.integer({ min: 1, max: 3 }),
  clientHost: fc.constantFrom('h1', 'h2'),
  clientPort: fc.integer({ min: 1, max: 3 }),
  weight: fc.integer({ min: 1, max: 2 }),
  status: fc.constantFrom('joining', 'valid', 'leaving', 'removed'),
  version: fc.integer({ min: 0, max: 3 }),
  epoch: fc.constantFrom('e1', 'e2'),
  joinedAt: fc.integer({ min: 0, max: 3 }),
  leftAt: fc.option(fc.integer({ min: 0, max: 3 }))
})

function referenceDigest (records: readonly MemberRecord[]): string {
  let h = 0x811c9dc5
  for (const r of [...records].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) {
    for (const b of encodeRecord(r).finish()) h = Math.imul(h ^ b, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0')
}

t.test('cached view, digest and encoding equal fresh ones after every apply', async (t) => {
  let changes = 0
  fc.assert(fc.property(fc.array(fc.tuple(recordArb, fc.boolean()), { maxLength: 40 }), (steps) => {
    const m = new Membership(settings)
    for (const [r, ask] of steps) {
      // asking between changes fills the caches, which the next change must drop
      if (ask) m.digest()
      if (m.apply(r, 0)) changes++
      const fresh = new Membership(settings, m.all())
      const all = m.all()
      if (JSON.stringify(all) !== JSON.stringify([...all].sort((a, b) => a.name < b.name ? -1 : 1))) return false
      if (m.digest() !== referenceDigest(all) || fresh.digest() !== m.digest()) return false
      if (!m.encoded().equals(encodeMembership(settings, all))) return false
      if (JSON.stringify(decodeMembership(m.encoded()).records) !== JSON.stringify(all)) return false
    }
    return true
  }), { numRuns: 300 })
  // 300 random runs make 976-1 203 changes (200 repetitions measured, median 1 094): the bound is far below any of them.
  t.ok(changes > 800, `${changes} changes checked`)
})

t.test('records handed out cannot be changed behind the cache', async (t) => {
  const m = new Membership(settings)
  m.apply({ name: 'a', peerHost: 'h', peerPort: 1, clientHost: 'h', clientPort: 2, weight: 1, status: 'valid', version: 1, epoch: 'e', joinedAt: 0, leftAt: null }, 0)
  const before = m.digest()
  t.throws(() => { (m.get('a') as MemberRecord).version = 9 }, TypeError)
  t.throws(() => { (m.all() as MemberRecord[]).pop() }, TypeError)
  t.equal(m.digest(), before)
})

t.test('supersedes: identical records never replace each other; others by version, status, then encoding', async (t) => {
  fc.assert(fc.property(recordArb, recordArb, (a, b) => {
    if (supersedes(a, { ...a })) return false
    const ab = supersedes(a, b)
    const ba = supersedes(b, a)
    const same = Buffer.compare(encodeRecord(a).finish(), encodeRecord(b).finish()) === 0
    // a strict order: exactly one of two different records supersedes the other
    return same ? !ab && !ba : ab !== ba
  }), { numRuns: 2000 })
})
