import t from 'tap'
import { CounterLease, EPOCH_HEX_DIGITS, freshActor, LEASE_SIZE, loadIdentity } from '../../lib/node/identity.js'
import { memoryLevelStore } from '../../lib/storage/store.js'
import { seededRandom } from '../../lib/runtime/random.js'
import { actorId, isPlainActorId } from '../../lib/versioning/actor.js'
import { decodeObject, encodeObject } from '../../lib/versioning/codec.js'

t.test('a one-time actor: the epoch, then the lease counter in hex without leading zeros', async t => {
  const store = memoryLevelStore()
  await store.open()
  const { identity } = await loadIdentity(store, 'n1', seededRandom(1), 1000)
  t.equal(identity.epoch.length, EPOCH_HEX_DIGITS)
  const lease = await CounterLease.open(store)
  const { actor } = freshActor(identity.name, identity.epoch, lease)
  t.equal(actor, `n1#${identity.epoch}1`)
  t.ok(isPlainActorId(actor), 'an actor id of the plain grammar: old nodes read it')
  lease.issued(0x2ab)
  t.equal(freshActor(identity.name, identity.epoch, lease).actor, `n1#${identity.epoch}2ac`)
  await store.close()
})

t.test('one-time actors stay unique across restarts (the counter lease) and incarnations (the epoch)', async t => {
  const store = memoryLevelStore()
  await store.open()
  const { identity } = await loadIdentity(store, 'n1', seededRandom(2), 1000)
  const seen = new Set<string>([actorId(identity.name, identity.epoch)])
  const issue = (lease: CounterLease, count: number, epoch = identity.epoch): void => {
    for (let i = 0; i < count; i++) {
      const { actor } = freshActor(identity.name, epoch, lease)
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
  const { actor } = freshActor('n1', '0123456789ab', lease)
  t.equal(actor, 'n1#0123456789ab2a')
  t.not(actor, old)
  await store.close()
})
