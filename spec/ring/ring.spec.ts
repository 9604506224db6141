import t from 'tap'
import fc from 'fast-check'
import { Ring, claim, keyHash, partitionOf } from '../../lib/ring/index.js'
import { naivePreference, scenarioArb } from './helpers.js'

const ownersArb = fc.record({
  bits: fc.integer({ min: 0, max: 7 }),
  names: fc.integer({ min: 1, max: 9 }),
  n: fc.integer({ min: 1, max: 6 }),
  picks: fc.array(fc.nat(), { minLength: 128, maxLength: 128 })
}).map(({ bits, names, n, picks }) => ({
  n,
  owners: picks.slice(0, 2 ** bits).map((x) => `node-${x % names}`)
}))

t.test('preference lists: first min(N, k) distinct owners clockwise, then every other node', async (t) => {
  fc.assert(fc.property(ownersArb, ({ owners, n }) => {
    const ring = new Ring(owners, n)
    const nodes = [...new Set(owners)]
    for (let p = 0; p < owners.length; p++) {
      const walk = naivePreference(owners, p)
      const { primaries, fallbacks } = ring.preferenceList(p)
      const want = Math.min(n, nodes.length)
      if (primaries.length !== want) return false
      if (primaries.join() !== walk.slice(0, want).join()) return false
      if (fallbacks.join() !== walk.slice(want).join()) return false
      // every node exactly once
      const all = [...primaries, ...fallbacks]
      if (all.length !== nodes.length || new Set(all).size !== nodes.length) return false
      if (primaries[0] !== owners[p] || ring.ownerOf(p) !== owners[p]) return false
    }
    for (const node of nodes) {
      const owned = owners.flatMap((o, p) => (o === node ? [p] : []))
      const replicas = owners.flatMap((_, p) => (ring.preferenceList(p).primaries.includes(node) ? [p] : []))
      if (ring.partitionsOf(node).join() !== owned.join()) return false
      if (ring.replicaPartitions(node).join() !== replicas.join()) return false
    }
    return ring.nodes.join() === [...nodes].sort().join() && ring.partitions === owners.length && ring.n === n
  }), { numRuns: 300 })
})

t.test('on claimed rings: N distinct primaries once there are N nodes', async (t) => {
  fc.assert(fc.property(scenarioArb({ partitions: [8, 64, 256] }), ({ members, partitions, n }) => {
    if (!members.some((m) => m.leftAt === null)) return true
    const ring = new Ring(claim(members, partitions, n), n)
    const live = members.filter((m) => m.leftAt === null).length
    for (let p = 0; p < partitions; p++) {
      const { primaries, fallbacks } = ring.preferenceList(p)
      if (primaries.length !== Math.min(n, ring.nodes.length)) return false
      if (primaries.length + fallbacks.length !== ring.nodes.length) return false
    }
    return ring.nodes.length <= live
  }), { numRuns: 60 })
})

t.test('keys', async (t) => {
  const ring = new Ring(['a', 'b', 'c', 'a', 'd', 'b', 'c', 'd'], 3)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), (key) => {
    const hash = keyHash(key)
    const p = partitionOf(hash, 8)
    return ring.partitionOfKey(hash) === p &&
      ring.primariesForKey(hash) === ring.preferenceList(p).primaries &&
      ring.preferenceListForKey(hash) === ring.preferenceList(p)
  }), { numRuns: 200 })
  t.same(ring.preferenceList(2), { primaries: ['c', 'a', 'd'], fallbacks: ['b'] })
  t.same(ring.preferenceList(7), { primaries: ['d', 'a', 'b'], fallbacks: ['c'] })
  t.same(ring.partitionsOf('nobody'), [])
  t.same(ring.replicaPartitions('nobody'), [])
  // primaries: 0 abc, 1 bca, 2 cad, 3 adb, 4 dbc, 5 bcd, 6 cda, 7 dab
  t.same(ring.replicaPartitions('a'), [0, 1, 2, 3, 6, 7])
})

t.test('fewer nodes than N: every node is a primary', async (t) => {
  const ring = new Ring(['a', 'b', 'a', 'b'], 3)
  for (let p = 0; p < 4; p++) {
    t.same([...ring.preferenceList(p).primaries].sort(), ['a', 'b'])
    t.same(ring.preferenceList(p).fallbacks, [])
  }
  t.same(ring.replicaPartitions('a'), [0, 1, 2, 3])
  const single = new Ring(['solo'], 1)
  t.same(single.preferenceList(0), { primaries: ['solo'], fallbacks: [] })
})

t.test('a ring is immutable and checks its input', async (t) => {
  const owners = ['a', 'b', 'c', 'd']
  const ring = new Ring(owners, 2)
  owners[0] = 'z'
  t.equal(ring.ownerOf(0), 'a', 'the ring copied its owners')
  t.ok(Object.isFrozen(ring.owners) && Object.isFrozen(ring.preferenceList(0).primaries))
  t.throws(() => new Ring([], 3), { code: 'DYNAKV_RING_OWNERS' })
  t.throws(() => new Ring(['a', 'b', 'c'], 3), { code: 'DYNAKV_RING_PARTITION_COUNT' })
  t.throws(() => new Ring(['a', ''], 3), { code: 'DYNAKV_RING_OWNERS' })
  t.throws(() => new Ring(['a', 'b'], 0), { code: 'DYNAKV_RING_REPLICA_COUNT' })
  t.throws(() => ring.preferenceList(4), { code: 'DYNAKV_RING_PARTITION_RANGE' })
  t.throws(() => ring.ownerOf(-1), { code: 'DYNAKV_RING_PARTITION_RANGE' })
  t.throws(() => ring.preferenceList(0.5), { code: 'DYNAKV_RING_PARTITION_RANGE' })
})
