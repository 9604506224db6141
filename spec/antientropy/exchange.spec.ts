import t from 'tap'
import fc from 'fast-check'
import {
  MerkleTree,
  NODES_PER_REQUEST_MAX,
  RemoteReplyError,
  UnsortedDigestsError,
  addExchangeStats,
  compareTrees,
  diffDigests,
  emptyExchangeStats
} from '../../lib/antientropy/index.js'
import type { ExchangeStats, KeyDigest, RemoteNodes } from '../../lib/antientropy/index.js'
import { buildTree, digestOf, holds, storageKey, write } from './fixtures/helpers.js'
import type { State } from './fixtures/helpers.js'

interface Recorded {
  remote: RemoteNodes
  requests: Array<{ level: number, count: number }>
}

// The remote side as a function reading another tree, recording each request.
function remoteOf (tree: MerkleTree): Recorded {
  const requests: Array<{ level: number, count: number }> = []
  const remote: RemoteNodes = async (level, indices) => {
    requests.push({ level, count: indices.length })
    return tree.nodesAt(level, indices)
  }
  return { remote, requests }
}

// n distinct storage keys (hex), deterministic.
function keys (n: number, prefix = 'user'): string[] {
  return Array.from({ length: n }, (_, i) => storageKey(`${prefix}:${i}`).toString('hex'))
}

function stateOf (keyHexes: string[], version: string | number = 0): State {
  return new Map(keyHexes.map(k => [k, digestOf(`${k}:${version}`)]))
}

// The sum over levels of the hashes a descent may fetch when `k` keys
// differ: the root, then at most min(k, width(l - 1)) parents' children.
function nodesBound (tree: MerkleTree, k: number): number {
  let bound = 1
  for (let level = 1; level <= tree.depth; level++) bound += Math.min(k, tree.width(level - 1)) * tree.fanout
  return bound
}

t.test('trees of the same key->digest map have equal roots, and the exchange stops at the root', async t => {
  const base = keys(2000)
  const state = stateOf(base)
  const shape = { leaves: 1024, fanout: 16 }
  const a = buildTree(state, shape)
  const b = buildTree(state, shape, 0, [...base].reverse())
  t.same(a.root(), b.root())
  const { remote, requests } = remoteOf(b)
  const stats = emptyExchangeStats()
  t.same(await compareTrees(a, remote, { maxNodesPerRequest: 64, stats }), [])
  t.same(requests, [{ level: 0, count: 1 }])
  t.same(stats, { exchanges: 1, requests: 1, nodesCompared: 1, leavesDiffering: 0, keysDiffering: 0 })
})

// Replicas differing in k keys: changed digests, keys missing on either side.
const caseArb = fc.record({
  shape: fc.constantFrom({ leaves: 64, fanout: 4 }, { leaves: 256, fanout: 16 }, { leaves: 1024, fanout: 16 }, { leaves: 1024, fanout: 32 }, { leaves: 8, fanout: 2 }),
  keyCount: fc.integer({ min: 0, max: 1500 }),
  changes: fc.array(fc.record({ pick: fc.nat(), kind: fc.constantFrom('digest', 'onlyLocal', 'onlyRemote') }), { maxLength: 25 }),
  maxNodesPerRequest: fc.integer({ min: 1, max: 100 })
})

t.test('differing in k keys => exactly the leaves holding them, with hashes fetched bounded by k x fanout x depth', async t => {
  await holds(t, fc.asyncProperty(caseArb, async ({ shape, keyCount, changes, maxNodesPerRequest }) => {
    const base = keys(keyCount)
    const local = stateOf(base)
    const remoteState = new Map(local)
    const changed = new Set<string>()
    const localTree = buildTree(local, shape)
    const remoteTree = buildTree(remoteState, shape)
    for (const [i, { pick, kind }] of changes.entries()) {
      if (kind === 'onlyRemote' || base.length === 0) {
        const k = storageKey(`extra:${i}`).toString('hex')
        write(remoteTree, remoteState, k, digestOf(`extra:${i}`))
        changed.add(k)
        continue
      }
      const k = base[pick % base.length]
      if (changed.has(k)) continue
      changed.add(k)
      if (kind === 'digest') write(remoteTree, remoteState, k, digestOf(`${k}:changed`))
      else write(remoteTree, remoteState, k, null)
    }
    const expectedLeaves = [...new Set([...changed].map(k => localTree.leafIndex(Buffer.from(k, 'hex'), 0)))].sort((x, y) => x - y)
    const { remote, requests } = remoteOf(remoteTree)
    const stats = emptyExchangeStats()
    const leaves = await compareTrees(localTree, remote, { maxNodesPerRequest, stats })
    const fetched = requests.reduce((n, r) => n + r.count, 0)
    return JSON.stringify(leaves) === JSON.stringify(expectedLeaves) &&
      requests.every(r => r.count >= 1 && r.count <= maxNodesPerRequest) &&
      fetched <= nodesBound(localTree, changed.size) &&
      fetched <= 1 + changed.size * localTree.fanout * localTree.depth &&
      stats.nodesCompared === fetched && stats.requests === requests.length &&
      stats.leavesDiffering === leaves.length && stats.exchanges === 1
  }), { numRuns: 120 })
})

t.test('hashes fetched grow with the differing keys, not with the key count', async t => {
  const shape = { leaves: 1024, fanout: 16 }
  const fetchedFor = async (keyCount: number, differing: number): Promise<number> => {
    const base = keys(keyCount)
    const local = stateOf(base)
    const remoteState = new Map(local)
    const localTree = buildTree(local, shape)
    const remoteTree = buildTree(remoteState, shape)
    for (let i = 0; i < differing; i++) write(remoteTree, remoteState, base[i * 7], digestOf(`new:${i}`))
    const stats = emptyExchangeStats()
    await compareTrees(localTree, remoteOf(remoteTree).remote, { maxNodesPerRequest: 256, stats })
    return stats.nodesCompared
  }
  const tree = new MerkleTree(shape)
  for (const differing of [1, 4]) {
    const small = await fetchedFor(1000, differing)
    const large = await fetchedFor(30_000, differing)
    t.ok(small <= 1 + differing * tree.fanout * tree.depth, `${differing} differing of 1000 keys: ${small} hashes`)
    t.ok(large <= 1 + differing * tree.fanout * tree.depth, `${differing} differing of 30000 keys: ${large} hashes`)
  }
  // One differing key: one path, all children of each node on it.
  t.equal(await fetchedFor(30_000, 1), 1 + tree.width(1) + 2 * tree.fanout)
})

t.test('replicas converge: differing leaves -> digest lists -> diffDigests -> repair both ways', async t => {
  await holds(t, fc.asyncProperty(caseArb, fc.integer({ min: 0, max: 4 }), async ({ shape, keyCount, changes, maxNodesPerRequest }, partitionBits) => {
    // Keys of partition 0 only.
    const base = keys(keyCount * 2).filter(k => partitionBits === 0 || (parseInt(k.slice(0, 2), 16) >>> (8 - partitionBits)) === 0)
    const local = stateOf(base)
    const remoteState = new Map(local)
    const localTree = buildTree(local, shape, partitionBits)
    const remoteTree = buildTree(remoteState, shape, partitionBits)
    for (const [i, { pick, kind }] of changes.entries()) {
      const k = base.length === 0 ? undefined : base[pick % base.length]
      if (kind === 'onlyRemote' || k === undefined) {
        const extra = keys(40, `extra${i}`).find(e => partitionBits === 0 || (parseInt(e.slice(0, 2), 16) >>> (8 - partitionBits)) === 0)
        if (extra !== undefined) write(remoteTree, remoteState, extra, digestOf(`extra:${i}`), partitionBits)
      } else if (kind === 'onlyLocal') {
        write(remoteTree, remoteState, k, null, partitionBits)
      } else {
        write(localTree, local, k, digestOf(`${k}:local:${i}`), partitionBits)
      }
    }
    const { remote } = remoteOf(remoteTree)
    const leaves = await compareTrees(localTree, remote, { maxNodesPerRequest })
    // What KEY_DIGESTS returns for a leaf: that leaf's range of the store, sorted.
    const digestsIn = (state: State, leaf: number): KeyDigest[] => {
      const { gte, lt } = localTree.leafRange(0, leaf, partitionBits)
      return [...state.entries()]
        .map(([k, d]): KeyDigest => [Buffer.from(k, 'hex'), d])
        .filter(([k]) => Buffer.compare(gte, k) <= 0 && (lt === null || Buffer.compare(k, lt) < 0))
        .sort((x, y) => Buffer.compare(x[0], y[0]))
    }
    for (const leaf of leaves) {
      const diff = diffDigests(digestsIn(local, leaf), digestsIn(remoteState, leaf))
      for (const k of diff.onlyLocal) write(remoteTree, remoteState, k.toString('hex'), local.get(k.toString('hex')) ?? null, partitionBits)
      for (const k of diff.onlyRemote) write(localTree, local, k.toString('hex'), remoteState.get(k.toString('hex')) ?? null, partitionBits)
      for (const k of diff.differ) {
        // Stand-in for the sibling merge: any deterministic choice of both.
        const hex = k.toString('hex')
        const merged = digestOf(`merge:${[local.get(hex)?.toString('hex'), remoteState.get(hex)?.toString('hex')].sort().join()}`)
        write(localTree, local, hex, merged, partitionBits)
        write(remoteTree, remoteState, hex, merged, partitionBits)
      }
    }
    const sameMaps = JSON.stringify([...local.entries()].sort()) === JSON.stringify([...remoteState.entries()].sort())
    return sameMaps && localTree.root().equals(remoteTree.root()) &&
      (await compareTrees(localTree, remoteOf(remoteTree).remote, { maxNodesPerRequest })).length === 0
  }), { numRuns: 80 })
})

t.test('writes to the local tree during an exchange do not break it', async t => {
  const shape = { leaves: 256, fanout: 4 }
  const base = keys(500)
  const local = stateOf(base)
  const remoteState = new Map(local)
  const localTree = buildTree(local, shape)
  const remoteTree = buildTree(remoteState, shape)
  for (let i = 0; i < 10; i++) write(remoteTree, remoteState, base[i], digestOf(`r${i}`))
  let writes = 0
  const remote: RemoteNodes = async (level, indices) => {
    write(localTree, local, base[100 + writes], digestOf(`l${writes}`))
    writes++
    return remoteTree.nodesAt(level, indices)
  }
  const leaves = await compareTrees(localTree, remote, { maxNodesPerRequest: 3 })
  t.ok(writes > 1)
  t.ok(leaves.every((leaf, i) => Number.isInteger(leaf) && leaf >= 0 && leaf < 256 && (i === 0 || leaves[i - 1] < leaf)), 'ascending leaf indices')
  const settled = await compareTrees(localTree, remoteOf(remoteTree).remote, { maxNodesPerRequest: 3 })
  const expected = [...new Set([...base.slice(0, 10), ...base.slice(100, 100 + writes)].map(k => localTree.leafIndex(Buffer.from(k, 'hex'), 0)))].sort((x, y) => x - y)
  t.same(settled, expected, 'once writes stop, the next exchange finds every difference')
})

t.test('one-leaf trees compare their single node', async t => {
  const shape = { leaves: 1, fanout: 2 }
  const a = buildTree(stateOf(keys(10)), shape)
  const b = buildTree(stateOf(keys(11)), shape)
  t.same(await compareTrees(a, remoteOf(b).remote, { maxNodesPerRequest: 1 }), [0])
  t.same(await compareTrees(a, remoteOf(a.clone()).remote, { maxNodesPerRequest: 1 }), [])
})

t.test('bad remote replies and options are rejected', async t => {
  const tree = buildTree(stateOf(keys(50)), { leaves: 64, fanout: 4 })
  const other = buildTree(stateOf(keys(51)), { leaves: 64, fanout: 4 })
  const opts = { maxNodesPerRequest: 8 }
  for (const bad of [0, 1.5, NODES_PER_REQUEST_MAX + 1, NaN]) {
    await t.rejects(compareTrees(tree, remoteOf(other).remote, { maxNodesPerRequest: bad }), RangeError, `maxNodesPerRequest ${bad}`)
  }
  const short: RemoteNodes = async (level, indices) => other.nodesAt(level, indices).slice(1)
  await t.rejects(compareTrees(tree, short, opts), { name: 'RemoteReplyError', code: 'DYNAKV_AE_REMOTE_REPLY' })
  const wrongSize: RemoteNodes = async (level, indices) => other.nodesAt(level, indices).map(b => b.subarray(0, 7))
  await t.rejects(compareTrees(tree, wrongSize, opts), RemoteReplyError)
  const notBytes = (async () => [12345]) as unknown as RemoteNodes
  await t.rejects(compareTrees(tree, notBytes, opts), RemoteReplyError)
  const notArray = (async () => 'nope') as unknown as RemoteNodes
  await t.rejects(compareTrees(tree, notArray, opts), RemoteReplyError)
  const failing: RemoteNodes = async () => { throw new Error('peer down') }
  await t.rejects(compareTrees(tree, failing, opts), { message: 'peer down' })
  // A request the remote cannot serve (a peer with a smaller tree) surfaces as its error.
  const smaller = new MerkleTree({ leaves: 16, fanout: 4 })
  await t.rejects(compareTrees(tree, remoteOf(smaller).remote, opts), { code: 'DYNAKV_AE_NODE_RANGE' })
})

// diffDigests against the naive set computation.
const digestListArb = fc.uniqueArray(fc.record({ key: fc.nat(60), digest: fc.nat(3) }), { selector: e => e.key, maxLength: 50 })

t.test('diffDigests equals the naive set computation', async t => {
  const keyOf = (n: number): Buffer => storageKey(`d:${n}`)
  const toList = (entries: Array<{ key: number, digest: number }>): KeyDigest[] =>
    entries.map(({ key, digest }): KeyDigest => [keyOf(key), digestOf(digest)]).sort((a, b) => Buffer.compare(a[0], b[0]))
  holds(t, fc.property(digestListArb, digestListArb, (a, b) => {
    const local = toList(a)
    const remote = toList(b)
    const stats = emptyExchangeStats()
    const diff = diffDigests(local, remote, stats)
    const localMap = new Map(local.map(([k, d]) => [k.toString('hex'), d.toString('hex')]))
    const remoteMap = new Map(remote.map(([k, d]) => [k.toString('hex'), d.toString('hex')]))
    const sorted = (xs: string[]): string[] => xs.map(x => Buffer.from(x, 'hex')).sort(Buffer.compare).map(x => x.toString('hex'))
    const onlyLocal = sorted([...localMap.keys()].filter(k => !remoteMap.has(k)))
    const onlyRemote = sorted([...remoteMap.keys()].filter(k => !localMap.has(k)))
    const differ = sorted([...localMap.keys()].filter(k => remoteMap.has(k) && remoteMap.get(k) !== localMap.get(k)))
    const hex = (xs: Buffer[]): string[] => xs.map(x => x.toString('hex'))
    return JSON.stringify(hex(diff.onlyLocal)) === JSON.stringify(onlyLocal) &&
      JSON.stringify(hex(diff.onlyRemote)) === JSON.stringify(onlyRemote) &&
      JSON.stringify(hex(diff.differ)) === JSON.stringify(differ) &&
      stats.keysDiffering === onlyLocal.length + onlyRemote.length + differ.length
  }), { numRuns: 500 })
  // Prefix keys sort before their extensions, as in the store.
  const d = digestOf(1)
  t.same(diffDigests([[Buffer.from('ab'), d]], [[Buffer.from('a'), d], [Buffer.from('ab'), d]]),
    { onlyLocal: [], onlyRemote: [Buffer.from('a')], differ: [] })
  t.same(diffDigests([], []), { onlyLocal: [], onlyRemote: [], differ: [] })
})

t.test('diffDigests rejects lists that are not strictly ascending', async t => {
  const d = digestOf(1)
  const a = Buffer.from('a')
  const b = Buffer.from('b')
  t.throws(() => diffDigests([[b, d], [a, d]], []), UnsortedDigestsError)
  t.throws(() => diffDigests([], [[b, d], [a, d]]), { code: 'DYNAKV_AE_UNSORTED_DIGESTS' })
  t.throws(() => diffDigests([[a, d], [a, d]], []), UnsortedDigestsError, 'duplicates')
})

t.test('ExchangeStats accumulate', async t => {
  const total: ExchangeStats = emptyExchangeStats()
  const one = { exchanges: 1, requests: 2, nodesCompared: 30, leavesDiffering: 4, keysDiffering: 5 }
  t.equal(addExchangeStats(total, one), total)
  addExchangeStats(total, one)
  t.same(total, { exchanges: 2, requests: 4, nodesCompared: 60, leavesDiffering: 8, keysDiffering: 10 })
  t.same(one, { exchanges: 1, requests: 2, nodesCompared: 30, leavesDiffering: 4, keysDiffering: 5 }, 'delta untouched')
})
