// The composition root of one dynakv node: the pure Dynamo logic (ring,
// versioning, quorum bookkeeping, membership, failure detection) wired to a
// Store, a TimeSource, a Random source and a peer Transport (TCP, or the simulated
// network), plus the services that run on them:
//
//   Peers        replica reads/writes and forwarding out; the request handler in
//   Gossip       membership exchange, heartbeats/probes, join/leave/remove
//   Handoff      hinted handoff and ownership transfer
//   AntiEntropy  Merkle trees per partition and their exchange
//   Keyspace     cluster-wide SCAN, DBSIZE and FLUSHALL
import type { ServerConfig } from './config.js'
import type { TimeSource } from '../runtime/clock.js'
import { seededRandom, type Random } from '../runtime/random.js'
import { silentLogger, type Logger } from '../runtime/log.js'
import { classicLevelStore, memoryLevelStore, type Store } from '../storage/store.js'
import { createHash } from 'node:crypto'
import { actorId, decodeObject, encodeContext, keyState, objectClock, type VObject, type Clock as VClock } from '../versioning/index.js'
import { ClaimCache, type Ring } from '../ring/index.js'
import { merge as mergeObjects } from '../versioning/index.js'
import { partitionBits } from '../ring/hash.js'
import { FailureDetector } from '../membership/detector.js'
import { Membership, decodeMembership, encodeMembership, type MemberRecord } from '../membership/membership.js'
import type { Transport } from '../peer/transport.js'
import { TcpTransport } from '../peer/tcp.js'
import { CounterLease, freshActors, loadIdentity, type Identity } from './identity.js'
import { LocalReplica, WRONGTYPE, hintKey, type StringRead } from './local.js'
import { Coordinator, QuorumError, type Placement, type RangePage, type RangeSpec } from '../coordinator/coordinator.js'
import { isKeyRecord, keyRef, refOfStorageKey, type ElementRef, type KeyRef } from './keys.js'
import { Records } from './records.js'
import { Sweeper } from './sweeper.js'
import { Peers } from './peers.js'
import { Gossip } from './gossip.js'
import { Handoff } from './handoff.js'
import { AntiEntropy } from './antientropy.js'
import { Keyspace, type ScanPage } from './keyspace.js'
import { classifyJoinFailure, type JoinRefusedError } from './join-refusal.js'
import { saveCounts, takeSavedCounts } from './key-counts.js'
import { Buffer } from 'node:buffer'

export { QuorumError }
export type { ScanPage }

export interface NodeDeps {
  clock: TimeSource
  random: Random
  log?: Logger
  /** Overrides the store the config names (the simulator keeps memory stores across restarts). */
  store?: Store
  /** Overrides the TCP transport (the simulator's network endpoint). */
  transport?: Transport
  /** --join was refused for good (wrong secret, cluster name, ring shape): the process should stop. */
  onJoinRefused?: (err: JoinRefusedError) => void
}

export class ArgumentError extends Error {
  readonly code = 'DYNAKV_ARGUMENT'
}

const MEMBERSHIP_KEY = Buffer.from('membership')
/**
 * A peer that failed a request this lately is a suspect: it may have missed
 * writes (it was down, or restarting, or a request to it was lost), so quorum
 * reads of its keys ask every replica and repair it, not just R of them.
 */
const SUSPECT_MS = 60_000

type InfoSection = [string, Array<[string, string | number]>]

export class DynakvNode {
  readonly config: ServerConfig
  readonly clock: TimeSource
  readonly random: Random
  readonly log: Logger
  readonly store: Store
  readonly identity: Identity
  readonly actor: string
  readonly lease: CounterLease
  readonly local: LocalReplica
  readonly coordinator: Coordinator
  readonly records: Records
  readonly membership: Membership
  readonly detector: FailureDetector
  readonly partitionBits: number
  readonly startedAtMs: number
  readonly peers: Peers
  readonly gossip: Gossip
  readonly handoff: Handoff
  readonly antiEntropy: AntiEntropy
  readonly keyspace: Keyspace
  readonly sweeper: Sweeper
  private ring: Ring
  private ringChanges = -1
  /** replicates' flags (1: this node stores the partition) and the ring they were made for. */
  private mine = new Uint8Array(0)
  private mineOf: Ring | null = null
  /** Folds only the new join/leave events on a change, and keeps the Ring while no partition moves. */
  private readonly claims: ClaimCache
  /** This node is the only member (kept up to date with the membership). */
  private solo = false
  private stopped = false
  private joining: Promise<void> | null = null
  /** Where this start took the key counts from (INFO key_counts_at_start). */
  keyCountsAtStart: 'saved' | 'scanned' = 'scanned'
  private readonly onJoinRefused: NodeDeps['onJoinRefused']

  private constructor (config: ServerConfig, deps: NodeDeps, store: Store, transport: Transport, identity: Identity, lease: CounterLease, membership: Membership) {
    this.config = config
    this.clock = deps.clock
    this.random = deps.random
    this.log = deps.log ?? silentLogger
    this.onJoinRefused = deps.onJoinRefused
    this.store = store
    this.identity = identity
    this.actor = actorId(identity.name, identity.epoch)
    this.lease = lease
    this.membership = membership
    this.partitionBits = partitionBits(config.partitions)
    this.detector = new FailureDetector(config.downAfterMs)
    this.startedAtMs = deps.clock.now()
    this.local = new LocalReplica({
      store,
      placement: {
        replicates: (p) => this.replicates(p),
        takesHints: () => this.inRing()
      },
      clock: deps.clock,
      actor: this.actor,
      freshActor: freshActors(identity.name, identity.epoch, lease),
      lease,
      sync: config.sync,
      cacheBytes: config.cacheMb * 1024 * 1024,
      vclockMax: config.vclockMax,
      holdMs: config.commitHoldMs,
      onCommit: (writes) => {
        this.antiEntropy.onCommit(writes)
        this.sweeper.onCommit(writes)
      }
    })
    this.claims = new ClaimCache(config.partitions, config.n)
    this.ring = this.computeRing()
    this.peers = new Peers({
      self: identity.name,
      clock: deps.clock,
      detector: this.detector,
      membership,
      requestTimeoutMs: config.requestTimeoutMs,
      partitionBits: this.partitionBits,
      local: this.local,
      localRange: (range, hintFor) => this.localRange(range, hintFor),
      hintStored: () => { this.coordinator.stats.hintsWritten++ }
    }, transport)
    const placement: Placement = {
      solo: () => this.isSolo(),
      preferenceList: (p) => this.currentRing().preferenceList(p),
      isUp: (node) => this.detector.isUp(node),
      suspect: (node) => {
        const failedMs = this.detector.state(node)?.lastFailureMs ?? null
        return failedMs !== null && deps.clock.now() - failedMs < SUSPECT_MS
      }
    }
    this.coordinator = new Coordinator({
      self: identity.name,
      actor: this.actor,
      freshActor: freshActors(identity.name, identity.epoch, lease),
      local: this.local,
      localRanges: { range: (range, hintFor) => this.localRange(range, hintFor) },
      remote: this.peers,
      placement,
      clock: deps.clock,
      // (its own generator: the crypto-seeded one reads 4 random bytes a call, once per read here)
      random: seededRandom(deps.random.int(0x100000000)),
      lease,
      sloppy: config.sloppy,
      vclockMax: config.vclockMax,
      readRepairWaitMs: config.readRepairWaitMs
    })
    this.records = new Records(this.coordinator, deps.clock, () => ({ r: config.r, w: config.w }))
    this.gossip = new Gossip({
      self: identity.name,
      clock: deps.clock,
      random: deps.random,
      log: this.log,
      config,
      membership,
      detector: this.detector,
      peers: this.peers,
      transport,
      store,
      membershipChanged: () => this.membershipChanged()
    })
    // What the partition services (handoff, anti-entropy, keyspace) each take of the node.
    const partitions = {
      self: identity.name,
      clock: deps.clock,
      config,
      partitionBits: this.partitionBits,
      store,
      local: this.local,
      detector: this.detector,
      peers: this.peers,
      currentRing: () => this.currentRing()
    }
    this.handoff = new Handoff({ ...partitions, log: this.log, membership, leaveDrained: () => this.gossip.finishLeave() })
    this.antiEntropy = new AntiEntropy({ ...partitions, log: this.log, replicates: (p) => this.replicates(p) })
    this.keyspace = new Keyspace({
      ...partitions,
      random: deps.random,
      membership,
      isSolo: () => this.isSolo(),
      holdsValue: async (key) => (await this.value(this.ref(key))) !== null,
      flushLocal: () => this.flushLocal(),
      avgTtlMs: () => this.sweeper.avgTtlMs
    })
    this.sweeper = new Sweeper({
      self: identity.name,
      clock: deps.clock,
      log: this.log,
      store,
      local: this.local,
      records: this.records,
      partitions: config.partitions,
      partitionBits: this.partitionBits,
      tombstoneGraceMs: () => this.config.tombstoneGraceMs,
      ring: () => this.currentRing(),
      isUp: (n) => this.detector.isUp(n),
      fetch: async (n, skey) => {
        const res = await this.peers.request(n, { type: 'FETCH_OBJECTS', keys: [skey] })
        return res.objs[0].length === 0 ? undefined : decodeObject(res.objs[0])
      }
    })
  }

  static async start (givenConfig: ServerConfig, deps: NodeDeps): Promise<DynakvNode> {
    let config = givenConfig
    const store = deps.store ?? configuredStore(config, deps.clock)
    await store.open()
    let transport: Transport | null = null
    try {
      const now = deps.clock.now()
      const { identity } = await loadIdentity(store, config.name, deps.random, now, config.nameGiven)
      if (identity.name !== config.name) config = { ...config, name: identity.name }
      const lease = await CounterLease.open(store)
      const membership = await loadMembership(store, config)
      const self = membership.get(identity.name)
      const record: MemberRecord = {
        name: identity.name,
        peerHost: config.advertiseHost,
        peerPort: config.peerPort,
        clientHost: config.advertiseHost,
        clientPort: config.port,
        weight: self?.weight ?? config.weight,
        status: self?.status ?? 'valid',
        version: (self?.version ?? 0) + 1,
        epoch: identity.epoch,
        joinedAt: self?.joinedAt ?? now,
        leftAt: self?.leftAt ?? null
      }
      membership.apply(record, now)
      await store.write([{ space: 'meta', key: MEMBERSHIP_KEY, value: encodeMembership(membership.settings, membership.all()) }], true)
      transport = deps.transport ?? new TcpTransport({
        name: identity.name,
        host: config.host,
        port: config.peerPort,
        clusterName: config.clusterName,
        clusterSecret: config.clusterSecret,
        clock: deps.clock,
        random: deps.random,
        log: deps.log,
        // A restarted peer is found again within about a second.
        limits: { maxFrameBytes: Math.min(2 ** 31, config.protoMaxBulkLen + 16 * 1024 * 1024), reconnectBackoffMsMax: 1000 }
      })
      const node = new DynakvNode(config, deps, store, transport, identity, lease, membership)
      // Saved by a clean stop, or (first start, a crash) counted from every key record.
      const saved = await takeSavedCounts(store)
      if (saved !== null) node.local.restoreCounts(saved)
      else await node.local.countKeys(store, isKeyRecord)
      node.keyCountsAtStart = saved !== null ? 'saved' : 'scanned'
      await node.local.countHints(store)
      await transport.start(node.peers.handle)
      node.gossip.start()
      node.handoff.start()
      node.antiEntropy.start()
      node.sweeper.start(config.sweepIntervalMs)
      if (config.join !== null) node.joinInBackground(config.join.host, config.join.port)
      return node
    } catch (err) {
      await transport?.stop().catch(() => {})
      await store.close().catch(() => {})
      throw err
    }
  }

  private computeRing (): Ring {
    this.ringChanges = this.membership.changes
    const active = this.membership.active()
    this.solo = active.length === 1 && active[0].name === this.identity.name
    return this.claims.ring(this.membership.claimMembers())
  }

  currentRing (): Ring {
    if (this.ringChanges !== this.membership.changes) this.ring = this.computeRing()
    return this.ring
  }

  /** Gossip changed the view: the ring follows, and the services with it. */
  membershipChanged (): void {
    const before = this.ring
    const after = this.currentRing()
    if (before !== after) this.antiEntropy.ringChanged()
  }

  ref (key: Buffer): KeyRef {
    return keyRef(key, this.partitionBits)
  }

  /** The record a storage key names (from a peer, a scan or a hint). */
  recordRef (skey: Buffer): KeyRef | ElementRef {
    return refOfStorageKey(skey, this.partitionBits)
  }

  /**
   * A page of this node's records in [start, end) (at most limit rows), merged
   * with the hints it holds for `hintFor` in the same range.
   */
  async localRange (range: RangeSpec, hintFor: string | null): Promise<RangePage> {
    const rows = await this.store.range('data', { gte: range.start, lt: range.end, limit: range.limit })
    const out: Array<[Buffer, VObject]> = rows.map(([k, v]) => [k, decodeObject(v)])
    let more = rows.length === range.limit
    if (hintFor !== null) {
      const prefix = hintKey(hintFor, Buffer.alloc(0))
      const hints = await this.store.range('hints', { gte: hintKey(hintFor, range.start), lt: range.end === undefined ? undefined : hintKey(hintFor, range.end), limit: range.limit })
      const byKey = new Map(out.map(([k, o]) => [k.toString('latin1'), [k, o] as [Buffer, VObject]]))
      for (const [hk, v] of hints) {
        const skey = hk.subarray(prefix.length)
        const ks = skey.toString('latin1')
        const mine = byKey.get(ks)
        byKey.set(ks, [skey, mine === undefined ? decodeObject(v) : mergeObjects(mine[1], decodeObject(v))])
      }
      more ||= hints.length === range.limit
      out.length = 0
      out.push(...[...byKey.values()].sort((a, b) => Buffer.compare(a[0], b[0])).slice(0, range.limit))
    }
    return { rows: out, more }
  }

  /** Is this node one of the partition's primaries in its current ring (does it store the partition)? */
  replicates (partition: number): boolean {
    const ring = this.currentRing()
    if (ring !== this.mineOf) {
      // one flag a partition, remade when the ring changes: every replica write asks (no list walk and name compares)
      this.mine = new Uint8Array(ring.partitions)
      for (const p of ring.replicaPartitions(this.identity.name)) this.mine[p] = 1
      this.mineOf = ring
    }
    return this.mine[partition] === 1
  }

  /** Is this node in the ring (joining or valid), not leaving or removed? */
  inRing (): boolean {
    const status = this.membership.get(this.identity.name)?.status
    return status === 'joining' || status === 'valid'
  }

  /** Is this node the only member (every key's one replica here)? */
  isSolo (): boolean {
    if (this.ringChanges !== this.membership.changes) this.currentRing()
    return this.solo
  }

  /**
   * The paper's coordinator rule: a node outside a key's preference list sends
   * the request to the first reachable primary. null: coordinate here.
   */
  forwardTarget (ref: KeyRef): string | null {
    if (this.isSolo()) return null
    const { primaries } = this.currentRing().preferenceList(ref.partition)
    if (primaries.includes(this.identity.name)) return null
    for (const p of primaries) if (this.detector.isUp(p)) return p
    return null
  }

  /** Validates a per-request R or W. */
  quorumArg (value: number | undefined, fallback: number): number {
    const v = value ?? fallback
    if (!Number.isInteger(v) || v < 1 || v > this.config.n) throw new ArgumentError('R/W must be between 1 and N')
    return v
  }

  get (ref: KeyRef, r?: number): VObject | undefined | Promise<VObject | undefined> {
    return this.coordinator.get(ref, this.quorumArg(r, this.config.r))
  }

  /**
   * What a plain GET returns: the string value (null: none; WRONGTYPE: a key of
   * another type). A collection whose elements were all removed does not exist
   * (checked only on that path: it costs a range read).
   */
  value (ref: KeyRef): StringRead | Promise<StringRead> {
    const v = this.coordinator.value(ref, this.config.r, this.clock.now())
    if (v === WRONGTYPE) return this.records.existing(ref).then(live => live ? WRONGTYPE : null)
    if (v instanceof Promise) return v.then(x => x === WRONGTYPE ? this.records.existing(ref).then(live => live ? WRONGTYPE : null) : x)
    return v
  }

  /**
   * WATCH's token for a key: the clocks of every version a quorum read returns
   * of its key record and, for a collection, of each of its element records
   * (every write of any of them adds a version); empty for no key.
   */
  async watchToken (ref: KeyRef): Promise<Buffer> {
    const obj = await this.get(ref)
    if (obj === undefined) return Buffer.alloc(0)
    const token = Buffer.from(encodeContext(objectClock(obj)), 'latin1')
    const type = keyState(obj, this.clock.now()).type
    if (type === 'none' || type === 'string') return token
    const digest = createHash('sha256').update(token)
    await this.records.walk(ref, type, (rows) => {
      for (const [skey, element] of rows) digest.update(skey).update(encodeContext(objectClock(element)))
      return true
    })
    return digest.digest()
  }

  /** Dynamo PUT/DELCTX: resolves with the writer's new context. */
  put (ref: KeyRef, context: VClock, value: Buffer | null, w?: number, pw = 0): Promise<VClock> {
    const wq = this.quorumArg(w, this.config.w)
    this.checkOwnCounters(context)
    if (!Number.isInteger(pw) || pw < 0 || pw > this.config.n) throw new ArgumentError('PW must be between 0 and N')
    return this.coordinator.put(ref, context, value, wq, pw) as Promise<VClock>
  }

  /** A blind write (SET): supersedes every version the coordinator knows of. */
  set (ref: KeyRef, value: Buffer, expireAt = 0): Promise<unknown> {
    return this.coordinator.put(ref, null, value, this.config.w, 0, expireAt)
  }

  /**
   * A context claiming a dot of this node's that was never issued is forged or
   * from another cluster: refused, so no client can push the counters to their end.
   */
  private checkOwnCounters (context: VClock): void {
    const mine = `${this.identity.name}#${this.identity.epoch}`
    for (const [actor, e] of context) {
      if (actor.startsWith(mine) && e.counter > this.lease.floor) throw Object.assign(new Error('invalid context'), { code: 'DYNAKV_INVALID_CONTEXT' })
    }
  }

  scan (cursor: bigint, count: number): Promise<ScanPage> {
    return this.keyspace.scan(cursor, count)
  }

  dbsize (): number | Promise<number> {
    if (this.membership.active().length <= 1) return Math.max(0, this.local.liveKeys)
    return this.keyspace.counts().then(c => c.n)
  }

  flushall (): Promise<void> {
    return this.keyspace.flushAll()
  }

  /** This node's share of FLUSHALL. */
  async flushLocal (): Promise<void> {
    await this.local.engine.flushed()
    await this.store.clear('data')
    await this.store.clear('hints')
    this.local.engine.dropCache()
    this.local.resetCounts()
    this.antiEntropy.rebuildAll()
  }

  /**
   * --join: keeps trying until the seed answers (it may still be starting),
   * unless the seed is this node itself (every pod of a StatefulSet may share
   * one --join), or the cluster refuses this node's configuration for good.
   */
  private joinInBackground (host: string, port: number): void {
    const others = this.membership.active().filter(r => r.name !== this.identity.name)
    if (others.length > 0) return // already a member: membership was restored from disk
    const seed = `${host}:${port}`
    if (host === this.config.advertiseHost && port === this.config.peerPort) {
      this.log.info(`--join ${seed} is this node's own address: it is the seed, nothing to join`)
      return
    }
    let attempt = 0
    const tryJoin = (): void => {
      if (this.stopped) return
      this.joining = this.gossip.join(host, port).then(() => {
        this.log.info(`joined the cluster through ${seed}`)
      }, (e: Error) => {
        const verdict = classifyJoinFailure(e, seed)
        if (verdict.outcome === 'done') {
          this.log.info(`not joining through ${seed}: ${e.message}`)
          return
        }
        if (verdict.outcome === 'final') {
          if (this.onJoinRefused === undefined) this.log.error(verdict.error.message)
          else this.onJoinRefused(verdict.error)
          return
        }
        attempt++
        const delay = Math.min(5000, 100 * 2 ** Math.min(attempt, 6))
        this.log.warn(`join through ${seed} failed (${e.message}); retrying in ${delay} ms`)
        this.clock.after(delay, tryJoin)
      })
    }
    tryJoin()
  }

  /** INFO sections of the cluster services. */
  infoSections (): InfoSection[] {
    const now = this.clock.now()
    const self = this.membership.get(this.identity.name)
    const ring = this.currentRing()
    const peers: InfoSection[1] = []
    for (const r of this.membership.all()) {
      if (r.name === this.identity.name) continue
      const h = this.detector.state(r.name)
      peers.push([`peer_${r.name}`, `status=${r.status},state=${this.detector.isUp(r.name) ? 'up' : 'down'},since_ms=${h?.sinceMs ?? this.startedAtMs},for_ms=${now - (h?.sinceMs ?? this.startedAtMs)},failures=${h?.failures ?? 0},digest=${this.gossip.peerDigest(r.name) ?? '-'}`])
    }
    const hints: InfoSection[1] = [['hints_pending', this.local.hintsPendingTotal()]]
    for (const [target, n] of this.local.hintsPending()) hints.push([`hints_pending_${target}`, n])
    const h = this.handoff.stats
    const ae = this.antiEntropy.stats
    const t = this.peers.transport.stats()
    const last: InfoSection[1] = []
    for (const [p, at] of [...this.antiEntropy.lastExchangeMs].sort((a, b) => a[0] - b[0])) last.push([`ae_last_exchange_p${p}`, `${now - at}ms_ago`])
    return [
      ['Cluster', [
        ['cluster_name', this.config.clusterName],
        ['status', self?.status ?? 'unknown'],
        ['members', this.membership.live().length],
        ['membership_digest', this.membership.digest()],
        ['ring_converged', this.gossip.converged() ? 1 : 0],
        ['partitions_owned', ring.partitionsOf(this.identity.name).length],
        ['partitions_replicated', ring.replicaPartitions(this.identity.name).length],
        ['forwarded_out', this.peers.stats.forwardedOut],
        ['forwarded_in', this.peers.stats.forwardedIn],
        ['peer_requests_sent', t.requestsSent],
        ['peer_requests_received', t.requestsReceived],
        ['peer_bytes_sent', t.bytesSent],
        ['peer_bytes_received', t.bytesReceived],
        ['peer_timeouts', t.timeouts],
        ['peer_refused_handshakes', t.refusedHandshakes]
      ]],
      ['Peers', peers],
      ['Membership', this.membership.history.map((e, i) => [`event_${i}`, `at_ms=${e.atMs},node=${e.name},status=${e.status},version=${e.version}`] as [string, string])],
      ['Handoff', [
        ...hints,
        ['hints_delivered', h.hintsDelivered],
        ['hints_received', h.hintsReceived],
        ['ownership_objects_sent', h.objectsSent],
        ['ownership_objects_received', h.objectsReceived],
        ['ownership_objects_dropped', h.objectsDropped],
        ['transfers_pending', h.transfersPending],
        ['handoff_failures', h.failures]
      ]],
      ['Sweep', [
        ['sweep_rounds', this.sweeper.stats.rounds],
        ['sweep_rows_read', this.sweeper.stats.rows],
        ['sweep_dirty_partitions', this.sweeper.dirtyPartitions],
        ['expired_stripped', this.sweeper.stats.stripped],
        ['expired_cleanups', this.sweeper.stats.cleanups],
        ['reaped', this.sweeper.stats.reaped],
        ['sweep_failures', this.sweeper.stats.failures]
      ]],
      ['Antientropy', [
        ['ae_trees', this.antiEntropy.treeCount],
        ['ae_trees_ready', this.antiEntropy.readyTrees],
        ['ae_rounds', ae.rounds],
        ['ae_exchanges', ae.exchanges],
        ['ae_keys_repaired', ae.keysRepaired],
        ['ae_keys_pulled', ae.keysPulled],
        ['ae_keys_pushed', ae.keysPushed],
        ['ae_bytes_sent', ae.bytesSent],
        ['ae_bytes_received', ae.bytesReceived],
        ['ae_rebuilds', ae.rebuilds],
        ...last
      ]]
    ]
  }

  /** A simulated crash (the simulator): every service and the engine stop where they are; nothing is flushed or closed. */
  halt (): void {
    this.stopped = true
    this.gossip.stop()
    this.handoff.stop()
    this.antiEntropy.stop()
    this.sweeper.stop()
    this.local.engine.halt()
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.gossip.stop()
    this.handoff.stop()
    this.antiEntropy.stop()
    this.sweeper.stop()
    await this.joining?.catch(() => {})
    await this.peers.transport.stop()
    await this.local.engine.flushed()
    await this.gossip.flushed()
    // Nothing more is written: the next start takes these instead of reading every key (a failure here only means it will).
    await saveCounts(this.store, { liveKeys: Math.max(0, this.local.liveKeys), volatileKeys: Math.max(0, this.local.volatileKeys) }).catch((e: Error) => {
      this.log.warn(`key counts not saved (the next start counts every key): ${e.message}`)
    })
    await this.store.close()
  }
}

/** The store --storage and --dir name (not opened yet). */
export function configuredStore (config: ServerConfig, clock: TimeSource): Store {
  return config.storage === 'memory-level' ? memoryLevelStore() : classicLevelStore(config.dir, clock)
}

async function loadMembership (store: Store, config: ServerConfig): Promise<Membership> {
  const settings = { name: config.clusterName, partitions: config.partitions, n: config.n }
  const stored = await store.get('meta', MEMBERSHIP_KEY)
  if (stored === undefined) return new Membership(settings)
  const view = decodeMembership(stored)
  if (view.settings.partitions !== config.partitions) throw new ArgumentError(`the data directory belongs to a ring of ${view.settings.partitions} partitions, not --partitions ${config.partitions}`)
  if (view.settings.n !== config.n) throw new ArgumentError(`the data directory belongs to a cluster with N=${view.settings.n}, not --n ${config.n}`)
  if (view.settings.name !== config.clusterName) throw new ArgumentError(`the data directory belongs to cluster '${view.settings.name}', not --cluster-name ${config.clusterName}`)
  return new Membership(view.settings, view.records)
}
