// Merkle anti-entropy at run time (docs/design.md#merkle-anti-entropy): one tree per partition this
// node is a primary of, fed incrementally by every committed write (hints are
// not data and stay out), rebuilt from a snapshot scan at start-up, after a ring
// change and after FLUSHALL. Replicas exchange roots on a schedule, descend only
// where hashes differ, compare per-key digests of the differing leaves and merge
// just those keys both ways.
//
// Rebuild while writes continue: at a batch boundary (no write in flight) take a
// store snapshot and start a delta tree; commits after that go to the delta; the
// scan of the snapshot XOR the delta is the tree of the final state. Commits
// before the snapshot are in it, so a tree waiting for its scan ignores them
// (feeding them to the tree too would count them twice). At most
// SCANS_IN_FLIGHT_MAX scans run at once, the others wait their turn: a ring
// change or FLUSHALL rebuilds every tree, and 64 snapshot iterators at once
// filled the thread pool the group-commit fsyncs need (docs/performance.md,
// "The open-loop tail").
//
// Dead records past --tombstone-grace-ms (tombstones, expired keys) are reaped
// by the sweep (sweeper.ts) and never copied by anti-entropy, so a reaped delete
// cannot come back from a replica that has not reaped yet.
import {
  MerkleTree, compareTrees, diffDigests, emptyExchangeStats, objectDigest, objectItemHash, objectItemHashes, type ExchangeStats, type KeyDigest
} from '../antientropy/index.js'
import { partitionEnd, partitionOfHash, partitionStart } from '../ring/hash.js'
import type { CommittedWrite } from '../storage/engine.js'
import { pages, type Snapshot } from '../storage/store.js'
import { decodeObject, type VObject } from '../versioning/index.js'
import { reapable } from './sweeper.js'
import type { TimeSource, Timer } from '../runtime/clock.js'
import { traced } from '../runtime/trace.js'
import { refOfStorageKey } from './keys.js'
import { NotReplicaError, type LocalReplica } from './local.js'
import type { FailureDetector } from '../membership/detector.js'
import type { Ring } from '../ring/index.js'
import type { Logger } from '../runtime/log.js'
import type { Store } from '../storage/store.js'
import type { ServerConfig } from './config.js'
import type { PeerRequests } from './peers.js'
import { Buffer } from 'node:buffer'

/** What AntiEntropy uses of its node. */
export interface AntiEntropyDeps {
  /** This node's name. */
  readonly self: string
  readonly clock: TimeSource
  readonly log: Logger
  readonly config: Pick<ServerConfig, 'aeIntervalMs' | 'aeLeaves' | 'partitions' | 'tombstoneGraceMs'>
  readonly partitionBits: number
  /** Snapshot scans that build the trees. */
  readonly store: Store
  readonly local: Pick<LocalReplica, 'readEntry' | 'merge' | 'engine'>
  readonly detector: Pick<FailureDetector, 'isUp'>
  readonly peers: PeerRequests
  /** The ring as it stands now. */
  currentRing (): Ring
  /** This node is one of the partition's primaries in its current ring. */
  replicates (partition: number): boolean
}

/** HANDOFF_BATCH kind for anti-entropy pushes (merge into data). */
export const HANDOFF_REPAIR = 2

const FANOUT = 16
const NODES_PER_REQUEST = 1024
const KEYS_PER_ROUND_MAX = 20_000
const FETCH_BATCH = 500
const SCANS_IN_FLIGHT_MAX = 1
/** onCommit's item hashes, filled in place (MerkleTree.replace reads them at once): two objects a write fewer. */
const OLD_ITEM = { hi: 0, lo: 0 }
const NEW_ITEM = { hi: 0, lo: 0 }

interface TreeEntry {
  tree: MerkleTree
  /** Non-null while a rebuild runs: commits after its snapshot. */
  delta: MerkleTree | null
  ready: boolean
  generation: number
}

export interface AntiEntropyStats extends ExchangeStats {
  rounds: number
  keysRepaired: number
  keysPulled: number
  keysPushed: number
  bytesSent: number
  bytesReceived: number
  rebuilds: number
  failures: number
}

export class AntiEntropy {
  readonly stats: AntiEntropyStats = { ...emptyExchangeStats(), rounds: 0, keysRepaired: 0, keysPulled: 0, keysPushed: 0, bytesSent: 0, bytesReceived: 0, rebuilds: 0, failures: 0 }
  readonly lastExchangeMs = new Map<number, number>()
  private readonly trees = new Map<number, TreeEntry>()
  private timer: Timer | null = null
  private running = false
  private stopped = false
  private generation = 0
  private roundRobin = 0
  private readonly clock: TimeSource
  /** Trees waiting for their scan, oldest first (a partition rebuilt again replaces its entry in trees, and the stale one is skipped). */
  private readonly scanQueue: Array<[number, TreeEntry]> = []
  private scansInFlight = 0

  constructor (private readonly deps: AntiEntropyDeps) {
    this.clock = deps.clock
    deps.peers.on('MERKLE_ROOTS', async (_from, req) => {
      const roots = req.partitions.map((p) => {
        const e = this.trees.get(p)
        return e === undefined || !e.ready || req.leaves !== e.tree.leaves || req.fanout !== e.tree.fanout ? Buffer.alloc(0) : e.tree.root()
      })
      return { type: 'ROOTS', roots }
    })
    deps.peers.on('MERKLE_NODES', async (_from, req) => {
      const e = this.trees.get(req.partition)
      if (e === undefined || !e.ready) throw Object.assign(new Error(`no tree for partition ${req.partition}`), { code: 'DYNAKV_AE_NOT_READY' })
      const hashes = e.tree.nodesAt(req.level, req.indices)
      return { type: 'NODES', hashes }
    })
    deps.peers.on('KEY_DIGESTS', async (_from, req) => {
      const e = this.trees.get(req.partition)
      if (e === undefined) throw Object.assign(new Error(`no tree for partition ${req.partition}`), { code: 'DYNAKV_AE_NOT_READY' })
      const items = await traced('ae.serve-digests', async () => await this.digestsOf(req.partition, req.leaves, e.tree))
      return { type: 'DIGESTS', keys: items.map(i => i[0]), digests: items.map(i => i[1]) }
    })
    deps.peers.on('FETCH_OBJECTS', async (_from, req) => {
      if (req.keys.length > 10_000) throw Object.assign(new Error('too many keys'), { code: 'DYNAKV_AE_LIMIT' })
      // Only a replica may say it holds nothing for a record (reaping counts on that).
      const foreign = req.keys.find(k => !this.deps.replicates(refOfStorageKey(k, this.deps.partitionBits).partition))
      if (foreign !== undefined) throw new NotReplicaError(`this node does not replicate partition ${refOfStorageKey(foreign, this.deps.partitionBits).partition}`)
      const objs = await Promise.all(req.keys.map(async (k) => (await this.deps.local.readEntry(refOfStorageKey(k, this.deps.partitionBits)))?.bytes ?? Buffer.alloc(0)))
      return { type: 'OBJECTS', keys: req.keys, objs }
    })
  }

  get treeCount (): number { return this.trees.size }
  get readyTrees (): number {
    let n = 0
    for (const e of this.trees.values()) if (e.ready) n++
    return n
  }

  start (): void {
    this.ringChanged()
    if (this.deps.config.aeIntervalMs > 0) this.schedule(this.deps.config.aeIntervalMs)
  }

  stop (): void {
    this.stopped = true
    this.timer?.cancel()
  }

  private schedule (delayMs: number): void {
    if (this.stopped) return
    this.timer = this.clock.after(delayMs, () => {
      const began = this.clock.now()
      traced('ae.round', async () => { await this.round() }).catch(() => {}).finally(() => {
        // At most about a fifth of the node's time: wait at least 4x what the round took.
        this.schedule(Math.max(this.deps.config.aeIntervalMs, 4 * (this.clock.now() - began)))
      })
    })
  }

  /**
   * The partitions whose trees this node keeps: those it is a primary of, and
   * none while it is the only member (nobody to compare with; the trees are
   * built from a scan once another node joins).
   */
  private wanted (): Set<number> {
    const ring = this.deps.currentRing()
    if (ring.nodes.length <= 1) return new Set()
    return new Set(ring.replicaPartitions(this.deps.self))
  }

  /** Creates trees for newly replicated partitions and drops the others. */
  ringChanged (): void {
    const wanted = this.wanted()
    for (const p of [...this.trees.keys()]) if (!wanted.has(p)) this.trees.delete(p)
    for (const p of wanted) if (!this.trees.has(p)) this.rebuild(p)
  }

  /** Rebuilds every tree (after FLUSHALL). */
  rebuildAll (): void {
    for (const p of this.wanted()) this.rebuild(p)
  }

  private newTree (): MerkleTree {
    return new MerkleTree({ leaves: this.deps.config.aeLeaves, fanout: FANOUT })
  }

  private rebuild (p: number): void {
    const entry: TreeEntry = { tree: this.newTree(), delta: null, ready: false, generation: ++this.generation }
    this.trees.set(p, entry)
    this.scanQueue.push([p, entry])
    this.startScans()
  }

  /** Starts queued scans while fewer than SCANS_IN_FLIGHT_MAX run. */
  private startScans (): void {
    while (this.scansInFlight < SCANS_IN_FLIGHT_MAX && this.scanQueue.length > 0 && !this.stopped) {
      const [p, entry] = this.scanQueue.shift() as [number, TreeEntry]
      if (this.trees.get(p) !== entry) continue
      this.scansInFlight++
      this.deps.local.engine.atBoundary(() => {
        const done = (): void => {
          this.scansInFlight--
          this.startScans()
        }
        if (this.trees.get(p) !== entry) return done()
        entry.delta = this.newTree()
        const snapshot = this.deps.store.snapshot()
        this.scanInto(p, entry, snapshot).then(() => {
          if (this.trees.get(p) !== entry || entry.delta === null) return
          entry.tree.xorFrom(entry.delta)
          entry.delta = null
          entry.ready = true
          this.stats.rebuilds++
        }, (e: Error) => {
          this.stats.failures++
          this.deps.log.warn(`rebuilding the Merkle tree of partition ${p} failed: ${e.message}`)
          if (this.trees.get(p) === entry) this.trees.delete(p)
        }).finally(() => {
          snapshot.close().catch(() => {})
          done()
        })
      })
    }
  }

  private async scanInto (p: number, entry: TreeEntry, snapshot: Snapshot): Promise<void> {
    const q = this.deps.config.partitions
    const bits = this.deps.partitionBits
    for await (const rows of pages(this.deps.store, 'data', { gte: partitionStart(p, q), lt: partitionEnd(p, q) ?? undefined, snapshot })) {
      if (this.stopped) return
      traced('ae.scan-page', () => {
        for (const [skey, bytes] of rows) entry.tree.replace(entry.tree.leafIndex(skey, bits), null, objectItemHash(skey, bytes))
      })
    }
  }

  /** The engine's commit listener: keeps every tree in step with the data. */
  readonly onCommit = (writes: readonly CommittedWrite[]): void => {
    if (this.trees.size === 0) return // a single node keeps no trees
    const bits = this.deps.partitionBits
    // (indexed: a for-of made an iterator and a result a write here)
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]
      if (w.space !== 'data') continue
      const e = this.trees.get(partitionOfHash(w.key, bits))
      if (e === undefined || (e.delta === null && !e.ready)) continue // no tree, or one whose snapshot is still to come
      const target = e.delta ?? e.tree
      const before = w.before ?? null
      const value = w.value
      // the key hashed once for both items
      objectItemHashes(w.key, before, value, OLD_ITEM, NEW_ITEM)
      target.replace(target.leafIndex(w.key, bits), before === null ? null : OLD_ITEM, value === null ? null : NEW_ITEM)
    }
  }

  /** Root of a partition's tree (hex), or null when not kept or not ready. */
  root (p: number): string | null {
    const e = this.trees.get(p)
    return e === undefined || !e.ready ? null : e.tree.root().toString('hex')
  }

  roots (): Array<[number, string | null]> {
    return [...this.trees.keys()].sort((a, b) => a - b).map(p => [p, this.root(p)])
  }

  private async digestsOf (p: number, leaves: readonly number[], tree: MerkleTree): Promise<KeyDigest[]> {
    if (leaves.length > 4096) throw Object.assign(new Error('too many leaves'), { code: 'DYNAKV_AE_LIMIT' })
    const out: KeyDigest[] = []
    const bits = this.deps.partitionBits
    for (const leaf of [...leaves].sort((a, b) => a - b)) {
      const range = tree.leafRange(p, leaf, bits)
      for await (const rows of pages(this.deps.store, 'data', { gte: range.gte, lt: range.lt ?? undefined })) {
        for (const [skey, bytes] of rows) out.push([skey, objectDigest(bytes)])
        if (out.length > 200_000) throw Object.assign(new Error('leaf too large'), { code: 'DYNAKV_AE_LIMIT' })
      }
    }
    return out
  }

  /** Dead past the grace period (sweeper.ts): never copied, so a reaped delete cannot come back. */
  private reapable (skey: Buffer, obj: VObject): boolean {
    return reapable(skey, obj, this.clock.now(), this.deps.config.tombstoneGraceMs)
  }

  /** One exchange round over the partitions this node replicates. */
  async round (): Promise<void> {
    if (this.running) return
    this.running = true
    this.stats.rounds++
    try {
      const ring = this.deps.currentRing()
      const self = this.deps.self
      const byPeer = new Map<string, number[]>()
      for (const [p, e] of this.trees) {
        if (!e.ready) continue
        const peers = ring.preferenceList(p).primaries.filter(n => n !== self && this.deps.detector.isUp(n))
        if (peers.length === 0) continue
        const peer = peers[(this.roundRobin + p) % peers.length]
        byPeer.set(peer, [...(byPeer.get(peer) ?? []), p])
      }
      this.roundRobin++
      let budget = KEYS_PER_ROUND_MAX
      for (const [peer, partitions] of byPeer) {
        if (budget <= 0 || this.stopped) break
        budget -= await this.exchangeWith(peer, partitions, budget)
      }
    } catch (e) {
      this.stats.failures++
      this.deps.log.debug(`anti-entropy round: ${(e as Error).message}`)
    } finally {
      this.running = false
    }
  }

  private async exchangeWith (peer: string, partitions: number[], budget: number): Promise<number> {
    const leaves = this.deps.config.aeLeaves
    const res = await this.deps.peers.request(peer, { type: 'MERKLE_ROOTS', partitions, leaves, fanout: FANOUT })
    this.stats.bytesSent += 8 + partitions.length * 3
    this.stats.bytesReceived += res.roots.reduce((n, r) => n + r.length + 1, 0)
    let repaired = 0
    for (let i = 0; i < partitions.length && repaired < budget; i++) {
      const p = partitions[i]
      const e = this.trees.get(p)
      if (e === undefined || !e.ready || res.roots[i].length === 0) continue
      this.stats.exchanges++
      this.lastExchangeMs.set(p, this.clock.now())
      if (e.tree.root().equals(res.roots[i])) continue
      repaired += await this.repairPartition(peer, p, e.tree, budget - repaired)
    }
    return repaired
  }

  private async repairPartition (peer: string, p: number, tree: MerkleTree, budget: number): Promise<number> {
    const leaves = await compareTrees(tree, async (level, indices) => {
      this.stats.bytesSent += 8 + indices.length * 2
      const res = await this.deps.peers.request(peer, { type: 'MERKLE_NODES', partition: p, level, indices })
      this.stats.bytesReceived += res.hashes.length * 9
      return res.hashes
    }, { maxNodesPerRequest: NODES_PER_REQUEST, stats: this.stats })
    if (leaves.length === 0) return 0
    const local = await this.digestsOf(p, leaves, tree)
    const res = await this.deps.peers.request(peer, { type: 'KEY_DIGESTS', partition: p, leaves })
    this.stats.bytesSent += 8 + leaves.length * 2
    this.stats.bytesReceived += res.keys.reduce((n, k) => n + k.length + 10, 0)
    const remote: KeyDigest[] = res.keys.map((k, i) => [k, res.digests[i]])
    const diff = diffDigests(local, remote, this.stats)
    const pull = [...diff.onlyRemote, ...diff.differ].slice(0, budget)
    const push = [...diff.onlyLocal, ...diff.differ].slice(0, budget)
    await this.pull(peer, pull)
    await this.push(peer, push)
    return Math.max(pull.length, push.length)
  }

  /** Fetches the peer's versions of these keys and merges them here. */
  private async pull (peer: string, skeys: Buffer[]): Promise<void> {
    for (let i = 0; i < skeys.length; i += FETCH_BATCH) {
      const keys = skeys.slice(i, i + FETCH_BATCH)
      const res = await this.deps.peers.request(peer, { type: 'FETCH_OBJECTS', keys })
      this.stats.bytesSent += keys.reduce((n, k) => n + k.length + 2, 0)
      this.stats.bytesReceived += res.objs.reduce((n, o) => n + o.length + 2, 0) + res.keys.reduce((n, k) => n + k.length + 2, 0)
      const merges: Array<Promise<unknown>> = []
      for (let j = 0; j < res.keys.length; j++) {
        if (res.objs[j].length === 0) continue
        const obj = decodeObject(res.objs[j])
        if (this.reapable(res.keys[j], obj)) continue
        merges.push(this.deps.local.merge(refOfStorageKey(res.keys[j], this.deps.partitionBits), obj))
        this.stats.keysPulled++
        this.stats.keysRepaired++
      }
      await Promise.all(merges)
    }
  }

  /** Sends this node's versions of these keys for the peer to merge. */
  private async push (peer: string, skeys: Buffer[]): Promise<void> {
    for (let i = 0; i < skeys.length; i += FETCH_BATCH) {
      const keys: Buffer[] = []
      const objs: Buffer[] = []
      for (const skey of skeys.slice(i, i + FETCH_BATCH)) {
        const entry = await this.deps.local.readEntry(refOfStorageKey(skey, this.deps.partitionBits))
        if (entry === undefined || this.reapable(skey, decodeObject(entry.bytes))) continue
        keys.push(skey)
        objs.push(entry.bytes)
      }
      if (keys.length === 0) continue
      await this.deps.peers.request(peer, { type: 'HANDOFF_BATCH', kind: HANDOFF_REPAIR, keys, objs })
      this.stats.bytesSent += keys.reduce((n, k) => n + k.length + 2, 0) + objs.reduce((n, o) => n + o.length + 2, 0)
      this.stats.keysPushed += keys.length
      this.stats.keysRepaired += keys.length
    }
  }
}
