import t from 'tap'
import { keyRef, refOfStorageKey } from '../../lib/node/keys.js'

t.test('a key ref\'s ksBytes: the key\'s bytes, whose latin1 string is ks (Engine.write hashes and compares them); none for an element', async t => {
  const keys = [Buffer.from('key:000000012345'), Buffer.from([0, 0x7f, 0x80, 0xc4, 0xff]), Buffer.alloc(0), Buffer.from('ключ')]
  for (const key of keys) {
    const ref = keyRef(key, 6)
    t.equal(ref.ksBytes, key, `made from its key: those bytes (${key.toString('hex')})`)
    t.equal(ref.ksBytes?.toString('latin1'), ref.ks, 'whose latin1 string is ks')
    const back = refOfStorageKey(ref.skey, 6)
    t.equal(back.ks, ref.ks)
    t.equal((back as { ksBytes?: Buffer }).ksBytes, undefined, 'made from its storage key: none until its key is asked for')
    t.same((back as { key: Buffer }).key, key)
    t.same((back as { ksBytes?: Buffer }).ksBytes, key, 'then the key\'s view')
    const el = ref.element('set', Buffer.from([1, 0xfe, 0x41]))
    t.equal((el as { ksBytes?: unknown }).ksBytes, undefined, 'an element record has none (its ks is not a key\'s)')
  }
})
