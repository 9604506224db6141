import t from 'tap'
import fc from 'fast-check'
import { CounterLease, EPOCH_HEX_DIGITS, FreshActor, freshActors, LEASE_SIZE, loadIdentity } from '../../lib/node/identity.js'
import { memoryLevelStore } from '../../lib/storage/store.js'
import { seededRandom } from '../../lib/runtime/random.js'
import { actorId, isPlainActorId } from '../../lib/versioning/actor.js'
import { decodeObject, encodeObject } from '../../lib/versioning/codec.js'
import { blindWrite } from '../../lib/versioning/encoded.js'

t.test('a one-time actor: the epoch, then the lease counter in hex without leading zeros', async t => {
  const store = memoryLevelStore()
  await store.open()
  const { identity } = await loadIdentity(store, 'n1', seededRandom(1), 1000)
  t.equal(identity.epoch.length, EPOCH_HEX_DIGITS)
  const lease = await CounterLease.open(store)
  const fresh = freshActors(identity.name, identity.epoch, lease)
  const { actor } = fresh()
  t.equal(actor, `n1#${identity.epoch}1`)
  t.ok(isPlainActorId(actor), 'an actor id of the plain grammar: old nodes read it')
  lease.issued(0x2ab)
  t.equal(fresh().actor, `n1#${identity.epoch}2ac`)
  await store.close()
})

t.test('one-time actors stay unique across restarts (the counter lease) and incarnations (the epoch)', async t => {
  const store = memoryLevelStore()
  await store.open()
  const { identity } = await loadIdentity(store, 'n1', seededRandom(2), 1000)
  const seen = new Set<string>([actorId(identity.name, identity.epoch)])
  const issue = (lease: CounterLease, count: number, epoch = identity.epoch): void => {
    const fresh = freshActors(identity.name, epoch, lease)
    for (let i = 0; i < count; i++) {
      const { actor } = fresh()
      t.notOk(seen.has(actor), `${actor} issued once`)
      seen.add(actor)
    }
  }
  const first = await CounterLease.open(store)
  issue(first, 20)
  // a restart: the lease resumes above its durable end, so the ids are longer, never repeated
  const second = await CounterLease.open(store)
  t.equal(second.floor, LEASE_SIZE)
  issue(second, 20)
  for (let i = 0; i < 3; i++) issue(await CounterLease.open(store), 5)
  // a wiped directory: a new epoch, the lease from 0 again
  const wiped = memoryLevelStore()
  await wiped.open()
  const again = await loadIdentity(wiped, 'n1', seededRandom(3), 2000)
  t.not(again.identity.epoch, identity.epoch)
  issue(await CounterLease.open(wiped), 20, again.identity.epoch)
  t.equal(seen.size, 1 + 20 + 20 + 15 + 20)
  await store.close()
  await wiped.close()
})

t.test('a record of the earlier form (the counter padded to 12 digits) is read as it is', async t => {
  const old = 'n1#0123456789ab00000000002a'
  const bytes = encodeObject({ siblings: [{ actor: old, counter: 43, ts: 1000, ctx: new Map(), value: Buffer.from('v') }] })
  const obj = decodeObject(bytes)
  t.equal(obj.siblings[0].actor, old)
  t.ok(encodeObject(obj).equals(bytes))
  // the new form of the same counter differs from it
  const store = memoryLevelStore()
  await store.open()
  const lease = await CounterLease.open(store)
  lease.issued(0x29)
  const { actor } = freshActors('n1', '0123456789ab', lease)()
  t.equal(actor, 'n1#0123456789ab2a')
  t.not(actor, old)
  await store.close()
})

t.test('a one-time actor as bytes: its prefix, then its counter in hex, are its id\'s bytes, and a blind write under it writes what one under its id does', async t => {
  const store = memoryLevelStore()
  await store.open()
  const lease = await CounterLease.open(store)
  const fresh = freshActors('n1', '0123456789ab', lease)
  const first = fresh()
  t.ok(first instanceof FreshActor)
  t.equal(first.counter, 1)
  t.equal(first.prefix.toString('latin1'), 'n1#0123456789ab')
  t.equal(first.actor, 'n1#0123456789ab1')
  t.equal(first.actor, first.actor, 'the id is built once')
  t.equal(fresh().counter, 2, 'each call issues the next counter')
  t.equal(lease.floor, 2)
  await store.close()
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.constantFrom('n1', 'node-7', 'a'),
    fc.oneof(fc.integer({ min: 1, max: 0xffff }), fc.constantFrom(15, 16, 0x7fffffff, 0x80000000, 2 ** 32, 16 ** 11, 16 ** 12, Number.MAX_SAFE_INTEGER - 1), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 1 })),
    fc.option(fc.constantFrom('n1#0123456789ab', 'n1#0123456789ab1', 'n0#ffffffffffff', 'z#0')),
    (name, counter, other) => {
      const a = new FreshActor(Buffer.from(`${name}#0123456789ab`, 'utf8'), `${name}#0123456789ab`, counter, null)
      const id = `${name}#0123456789ab${counter.toString(16)}`
      if (a.actor !== id) throw new Error(`${a.actor} is not ${id}`)
      // An object held before: a table where the id sorts first, last, or is already there.
      const old = other === null ? undefined : encodeObject({ siblings: [{ actor: other, counter: 3, ts: 1000, ctx: new Map(), value: Buffer.from('v') }] })
      const o = { nowMs: 2000, counterFloor: 5, vclockMax: 10, value: Buffer.from('w') }
      const asBytes = blindWrite(old, { ...o, actor: 'unused', oneTime: a })
      const asString = blindWrite(old, { ...o, actor: id })
      if (asBytes === null || asString === null || !asBytes.bytes.equals(asString.bytes)) throw new Error(`${id}: the bytes differ`)
      if (!decodeObject(asBytes.bytes).siblings.some(s => s.actor === id)) throw new Error(`${id} not written`)
    }), { numRuns: 2000 }))
})
