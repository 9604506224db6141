import t from 'tap'
import fc from 'fast-check'
import {
  FANOUT_DEFAULT,
  LEAVES_DEFAULT,
  LEAVES_MAX,
  MerkleTree,
  NODES_PER_REQUEST_MAX,
  NodeRangeError,
  hash64,
  hashFromBuffer,
  hashToBuffer,
  itemHash
} from '../../lib/antientropy/index.js'
import { SEED_NODE } from '../../lib/antientropy/hash.js'
import { SHAPES, allNodes, buildTree, digestOf, holds, storageKey, write } from './fixtures/helpers.js'
import type { State } from './fixtures/helpers.js'

const shapeArb = fc.constantFrom(...SHAPES.filter(s => s.leaves <= 256))

t.test('shape: levels, widths and memory', async t => {
  const d = new MerkleTree()
  t.equal(d.leaves, LEAVES_DEFAULT)
  t.equal(d.fanout, FANOUT_DEFAULT)
  for (let leafBits = 0; leafBits <= 12; leafBits++) {
    for (let fanoutBits = 1; fanoutBits <= 8; fanoutBits++) {
      const tree = new MerkleTree({ leaves: 2 ** leafBits, fanout: 2 ** fanoutBits })
      t.equal(tree.depth, Math.ceil(leafBits / fanoutBits), `depth of ${2 ** leafBits}/${2 ** fanoutBits}`)
      t.equal(tree.leafBits, leafBits)
      t.equal(tree.width(0), 1)
      t.equal(tree.width(tree.depth), 2 ** leafBits)
      for (let level = 0; level < tree.depth; level++) {
        t.equal(tree.width(level), Math.ceil(tree.width(level + 1) / tree.fanout))
      }
    }
  }
  for (const fanout of [16, 32]) {
    const tree = new MerkleTree({ leaves: 1024, fanout })
    let nodes = 0
    for (let level = 0; level <= tree.depth; level++) nodes += tree.width(level)
    const innerNodes = nodes - 1024
    t.ok(tree.byteLength >= nodes * 8 + innerNodes, 'one 64-bit hash per node and a dirty byte per inner node')
    t.ok(tree.byteLength <= nodes * 8 + innerNodes + 64, `${tree.byteLength} bytes for 1024 leaves, fanout ${fanout}`)
    t.ok(tree.byteLength < 9 * 1024, 'under 9 KiB')
  }
})

t.test('constructor and argument checks', async t => {
  for (const leaves of [0, 3, 1.5, -2, LEAVES_MAX * 2, NaN]) {
    t.throws(() => new MerkleTree({ leaves, fanout: 16 }), RangeError, `leaves ${leaves}`)
  }
  for (const fanout of [0, 1, 3, 512, 2.5]) {
    t.throws(() => new MerkleTree({ leaves: 64, fanout }), RangeError, `fanout ${fanout}`)
  }
  t.ok(new MerkleTree({ leaves: LEAVES_MAX, fanout: 256 }))
  const tree = new MerkleTree({ leaves: 64, fanout: 4 })
  const item = hash64(Buffer.from('x'))
  t.throws(() => tree.replace(64, null, item), RangeError)
  t.throws(() => tree.replace(-1, null, item), RangeError)
  t.throws(() => tree.replace(0.5, null, item), RangeError)
  t.throws(() => tree.width(4), { code: 'DYNAKV_AE_NODE_RANGE' })
  t.throws(() => tree.nodesAt(-1, [0]), NodeRangeError)
  t.throws(() => tree.nodesAt(1.5, [0]), NodeRangeError)
  t.throws(() => tree.nodesAt(1, [4]), { code: 'DYNAKV_AE_NODE_RANGE' })
  t.throws(() => tree.nodesAt(3, [-1]), NodeRangeError)
  t.throws(() => tree.nodesAt(3, [Number.NaN]), NodeRangeError)
  t.throws(() => tree.nodesAt(3, new Array(NODES_PER_REQUEST_MAX + 1).fill(0)), NodeRangeError)
  t.equal(tree.nodesAt(3, new Array(NODES_PER_REQUEST_MAX).fill(0)).length, NODES_PER_REQUEST_MAX)
  t.same(tree.nodesAt(2, []), [])
  t.throws(() => tree.leafIndex(Buffer.alloc(16), 33), RangeError)
  t.throws(() => tree.leafIndex(Buffer.alloc(16), -1), RangeError)
  t.throws(() => tree.leafIndex(Buffer.alloc(1), 4), RangeError, 'key hash too short')
  t.throws(() => tree.leafRange(8, 0, 3), RangeError)
  t.throws(() => tree.leafRange(-1, 0, 3), RangeError)
  t.throws(() => tree.leafRange(0, 64, 3), RangeError)
  t.throws(() => tree.leafRange(0, 0, 40), RangeError)
  t.throws(() => tree.xorFrom(new MerkleTree({ leaves: 64, fanout: 2 })), RangeError)
  t.throws(() => tree.xorFrom(new MerkleTree({ leaves: 32, fanout: 4 })), RangeError)
})

// The definition, checked independently of how the tree computes it:
// leaf = XOR of the item hashes of its keys; inner node = hash64 over the
// children's (hi, lo) words written little-endian, with SEED_NODE.
function checkDefinition (tree: MerkleTree, state: State, partitionBits = 0): boolean {
  const leafValues = new Map<number, { hi: number, lo: number }>()
  for (const [keyHex, digest] of state) {
    const key = Buffer.from(keyHex, 'hex')
    const leaf = tree.leafIndex(key, partitionBits)
    const h = itemHash(key, digest)
    const v = leafValues.get(leaf) ?? { hi: 0, lo: 0 }
    leafValues.set(leaf, { hi: (v.hi ^ h.hi) >>> 0, lo: (v.lo ^ h.lo) >>> 0 })
  }
  const nodes = allNodes(tree)
  for (let leaf = 0; leaf < tree.leaves; leaf++) {
    const v = leafValues.get(leaf) ?? { hi: 0, lo: 0 }
    if (nodes[tree.depth][leaf] !== hashToBuffer(v).toString('hex')) return false
  }
  for (let level = tree.depth - 1; level >= 0; level--) {
    for (let i = 0; i < tree.width(level); i++) {
      const children = nodes[level + 1].slice(i * tree.fanout, (i + 1) * tree.fanout)
      const bytes = Buffer.alloc(children.length * 8)
      children.forEach((hex, c) => {
        const h = hashFromBuffer(Buffer.from(hex, 'hex'))
        bytes.writeUInt32LE(h.hi, c * 8)
        bytes.writeUInt32LE(h.lo, c * 8 + 4)
      })
      if (nodes[level][i] !== hashToBuffer(hash64(bytes, SEED_NODE)).toString('hex')) return false
    }
  }
  return true
}

// A write sequence over a small key pool, so keys are re-written and
// deleted, and leaves hold several keys; `read` points force the lazy
// recomputation in the middle of the sequence.
const opArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(39), version: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: fc.nat(39) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), level: fc.nat(3) }) }
)
const pool = Array.from({ length: 40 }, (_, i) => storageKey(`k${i}`).toString('hex'))

t.test('incremental updates in any order equal a from-scratch build of the same key set', async t => {
  holds(t, fc.property(shapeArb, fc.array(opArb, { maxLength: 120 }), fc.infiniteStream(fc.nat()), (shape, ops, coins) => {
    const tree = new MerkleTree(shape)
    const state: State = new Map()
    for (const op of ops) {
      if (op.kind === 'put') write(tree, state, pool[op.key], digestOf(op.version))
      else if (op.kind === 'del') write(tree, state, pool[op.key], null)
      else tree.nodesAt(Math.min(op.level, tree.depth), [0])
    }
    // From scratch, in a random order.
    const order = [...state.keys()]
    const it = coins[Symbol.iterator]()
    for (let i = order.length - 1; i > 0; i--) {
      const j = (it.next().value as number) % (i + 1)
      const swap = order[i]
      order[i] = order[j]
      order[j] = swap
    }
    const fresh = buildTree(state, shape, 0, order)
    if (JSON.stringify(allNodes(tree)) !== JSON.stringify(allNodes(fresh))) return false
    if (tree.itemCount !== state.size || fresh.itemCount !== state.size) return false
    return checkDefinition(tree, state)
  }), { numRuns: 300 })
})

t.test('the tree matches its definition on a larger key set, default shape, with a partition prefix', async t => {
  const partitionBits = 6
  const tree = new MerkleTree()
  const state: State = new Map()
  // Keys of partition 0b101101 only, as a replica's tree holds.
  for (let i = 0; state.size < 3000 && i < 400_000; i++) {
    const key = storageKey(`user:${i}`)
    if (key[0] >>> 2 !== 0b101101) continue
    write(tree, state, key.toString('hex'), digestOf(i), partitionBits)
  }
  t.equal(state.size, 3000)
  t.ok(checkDefinition(tree, state, partitionBits))
  let i = 0
  for (const keyHex of [...state.keys()]) {
    if (i++ % 3 === 0) write(tree, state, keyHex, null, partitionBits)
    else if (i % 3 === 1) write(tree, state, keyHex, digestOf(`again-${i}`), partitionBits)
  }
  t.ok(checkDefinition(tree, state, partitionBits), 'after deletes and re-writes')
  t.equal(tree.itemCount, state.size)
})

t.test('empty trees, replace no-ops, clear and clone', async t => {
  const shape = { leaves: 64, fanout: 4 }
  const empty = new MerkleTree(shape).root()
  const tree = new MerkleTree(shape)
  t.same(tree.root(), empty, 'two empty trees agree')
  t.equal(tree.itemCount, 0)
  const item = itemHash(storageKey('a'), digestOf(1))
  tree.replace(5, item, item)
  t.same(tree.root(), empty, 'replacing an item by itself changes nothing')
  tree.replace(5, null, null)
  t.same(tree.root(), empty)
  tree.replace(5, null, item)
  const one = tree.root()
  t.not(one.toString('hex'), empty.toString('hex'))
  const copy = tree.clone()
  t.same(copy.root(), one)
  t.equal(copy.itemCount, 1)
  copy.replace(5, item, null)
  t.same(copy.root(), empty, 'removing the only item gives the empty tree back')
  t.same(tree.root(), one, 'the clone is independent')
  tree.replace(7, null, item)
  tree.clear()
  t.same(tree.root(), empty, 'clear gives the empty tree')
  t.equal(tree.itemCount, 0)
  t.same(allNodes(tree), allNodes(new MerkleTree(shape)))
})

t.test('leafIndex: the leafBits bits of the md5 after the partition bits', async t => {
  holds(t, fc.property(
    fc.uint8Array({ minLength: 16, maxLength: 40 }), fc.integer({ min: 0, max: 32 }), fc.constantFrom(...SHAPES),
    (key, partitionBits, shape) => {
      const tree = new MerkleTree(shape)
      const md5 = BigInt('0x' + Buffer.from(key.subarray(0, 16)).toString('hex'))
      const expected = Number((md5 >> BigInt(128 - partitionBits - tree.leafBits)) & BigInt(tree.leaves - 1))
      return tree.leafIndex(key, partitionBits) === expected && tree.leafIndex(key.subarray(0, 16), partitionBits) === expected
    }
  ), { numRuns: 1000 })
})

t.test('leafRange: a leaf of a partition is exactly one contiguous range of storage keys', async t => {
  const rangeHolds = (range: { gte: Buffer, lt: Buffer | null }, key: Buffer): boolean =>
    Buffer.compare(range.gte, key) <= 0 && (range.lt === null || Buffer.compare(key, range.lt) < 0)
  holds(t, fc.property(
    fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 8 }), fc.integer({ min: 0, max: 12 }),
    fc.constantFrom(...SHAPES), fc.nat(), fc.nat(), fc.boolean(),
    (md5, suffix, partitionBits, shape, p, l, nearby) => {
      const tree = new MerkleTree(shape)
      const key = Buffer.concat([md5, suffix])
      const partition = Number(BigInt('0x' + Buffer.from(md5).toString('hex')) >> BigInt(128 - partitionBits))
      const leaf = tree.leafIndex(key, partitionBits)
      if (!rangeHolds(tree.leafRange(partition, leaf, partitionBits), key)) return false
      // Any other (partition, leaf) range excludes the key; try neighbours often.
      const otherP = nearby ? Math.min(2 ** partitionBits - 1, partition + (p % 2)) : p % 2 ** partitionBits
      const otherL = nearby ? (leaf + 1 + (l % 2)) % tree.leaves : l % tree.leaves
      const same = otherP === partition && otherL === leaf
      return rangeHolds(tree.leafRange(otherP, otherL, partitionBits), key) === same
    }
  ), { numRuns: 1000 })
})

t.test('leaf ranges tile the key space in order', async t => {
  const tree = new MerkleTree({ leaves: 8, fanout: 2 })
  const partitionBits = 3
  let previousLt: Buffer | null = Buffer.alloc(16)
  for (let p = 0; p < 8; p++) {
    for (let l = 0; l < 8; l++) {
      const { gte, lt } = tree.leafRange(p, l, partitionBits)
      t.same(gte, previousLt, `(${p}, ${l}) starts where the previous range ended`)
      t.equal(gte[0], (p << 5) | (l << 2))
      previousLt = lt
    }
  }
  t.equal(previousLt, null, 'the last range runs to the end of the key space')
  const whole = new MerkleTree({ leaves: 1, fanout: 2 }).leafRange(0, 0, 0)
  t.same(whole, { gte: Buffer.alloc(16), lt: null }, 'one leaf, one partition: everything')
  const wide = tree.leafRange(2 ** 32 - 1, 7, 32)
  t.same(wide.gte, Buffer.concat([Buffer.from('ffffffffe0', 'hex'), Buffer.alloc(11)]), '32 partition bits')
  t.equal(wide.lt, null)
})

// The runtime rebuilds a tree from a range scan (a snapshot) while writes go
// on: scan into a fresh tree, record the writes made after the snapshot into a
// delta tree, then XOR the delta in. The result must equal the final state.
t.test('rebuild while writing: scanned tree XOR deltas equals the final state tree', async t => {
  const writeArb = fc.record({ key: fc.nat(39), version: fc.option(fc.nat(5), { freq: 4 }) })
  holds(t, fc.property(
    shapeArb, fc.array(writeArb, { maxLength: 40 }), fc.array(writeArb, { maxLength: 60 }), fc.array(fc.boolean(), { maxLength: 120 }),
    (shape, initialWrites, laterWrites, interleave) => {
      const live = new MerkleTree(shape)
      const state: State = new Map()
      for (const w of initialWrites) write(live, state, pool[w.key], w.version === null ? null : digestOf(w.version))
      const snapshot = new Map(state)
      const scanned = new MerkleTree(shape)
      const delta = new MerkleTree(shape)
      const scanQueue = [...snapshot.entries()]
      let s = 0
      let w = 0
      // Interleave scan steps and later writes in an arbitrary order.
      for (let step = 0; s < scanQueue.length || w < laterWrites.length; step++) {
        const scanNext = w >= laterWrites.length || (s < scanQueue.length && (interleave[step % Math.max(1, interleave.length)] ?? true))
        if (scanNext) {
          const [keyHex, digest] = scanQueue[s++]
          const key = Buffer.from(keyHex, 'hex')
          scanned.replace(scanned.leafIndex(key, 0), null, itemHash(key, digest))
          if (s % 7 === 0) scanned.root()
        } else {
          const { key, version } = laterWrites[w++]
          const keyHex = pool[key]
          const before = new Map(state)
          write(live, state, keyHex, version === null ? null : digestOf(version))
          // The delta tree sees the same replace(old, new) as the live tree.
          write(delta, before, keyHex, version === null ? null : digestOf(version))
        }
      }
      scanned.xorFrom(delta)
      const expected = allNodes(buildTree(state, shape))
      return JSON.stringify(allNodes(scanned)) === JSON.stringify(expected) &&
        JSON.stringify(allNodes(live)) === JSON.stringify(expected) &&
        scanned.itemCount === state.size
    }
  ), { numRuns: 300 })
})
