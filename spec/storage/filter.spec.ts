// The store's key filter: a superset of the keys added, whatever their form,
// and one that proves most other keys absent — key records' storage keys by
// their MD5's bytes, element records' and other keys by FNV-1a.
import t from 'tap'
import { KeyFilter } from '../../lib/storage/filter.js'
import { keyRef } from '../../lib/node/keys.js'

const ADDED = 20_000
const ASKED = 20_000

/** A key record's storage key (md5 ‖ 0 ‖ key), an element record's (md5 ‖ 1 ‖ …: one MD5 for all of a key's), a short key. */
const forms: Array<[string, (i: number) => Buffer]> = [
  ['key records', i => keyRef(Buffer.from(`key:${i}`), 10).skey],
  ['element records of one key', i => keyRef(Buffer.from('set'), 10).element('set', Buffer.from(`member:${i}`)).skey],
  ['short keys', i => Buffer.from(`k${i}`)]
]

for (const [form, keyOf] of forms) {
  t.test(`${form}: every key added is held; most keys never added are proved absent`, async t => {
    const filter = new KeyFilter()
    for (let i = 0; i < ADDED; i++) filter.add(keyOf(i))
    let held = 0
    for (let i = 0; i < ADDED; i++) if (filter.has(keyOf(i))) held++
    t.equal(held, ADDED, 'no false negative')
    let falsePositives = 0
    for (let i = ADDED; i < ADDED + ASKED; i++) if (filter.has(keyOf(i))) falsePositives++
    // 3 bits a key in 2^23: ~0.0004 % expected at 20 000 keys; a hash that spread keys badly (the MD5's
    // bytes misread, an element record's shared MD5 taken for its hash) would hold far more.
    t.ok(falsePositives <= ASKED / 1000, `${falsePositives} of ${ASKED} keys never added held (at most 0.1 %)`)
  })
}

t.test('a key record is found by its MD5\'s bytes: keys that share them share their bits', async t => {
  const a = keyRef(Buffer.from('a'), 10).skey
  const twin = Buffer.from(a)
  twin[twin.length - 1] ^= 1 // another key under the same MD5's bytes: held (FNV-1a of the whole key would almost surely prove it absent)
  const filter = new KeyFilter()
  filter.add(a)
  t.ok(filter.has(a))
  t.ok(filter.has(twin), 'the same eight bytes, the same bits')
})
