// Membership at run time: gossip with one random live peer every interval,
// heartbeats and probes feeding the failure detector, and the admin actions of
// the paper (join, leave, remove). The view itself, its merge and the ring are
// pure (lib/membership, lib/ring); this file only moves them around.
import { decodeMembership, encodeMembership, supersedes, type MemberRecord, type Status } from '../membership/membership.js'
import type { FailureDetector } from '../membership/detector.js'
import type { Membership } from '../membership/membership.js'
import type { Transport } from '../peer/transport.js'
import { every, type TimeSource, type Timer } from '../runtime/clock.js'
import { traced } from '../runtime/trace.js'
import type { Logger } from '../runtime/log.js'
import type { Random } from '../runtime/random.js'
import type { Store } from '../storage/store.js'
import type { ServerConfig } from './config.js'
import type { PeerRequests } from './peers.js'
import { Buffer } from 'node:buffer'

/** Codes of refused membership changes; the last three are a view from a differently configured cluster. */
export type MembershipRefusalCode = 'DYNAKV_MEMBERSHIP_REFUSED' | 'DYNAKV_MEMBERSHIP_WRONG_CLUSTER' | 'DYNAKV_MEMBERSHIP_PARTITIONS' | 'DYNAKV_MEMBERSHIP_N'

export class MembershipRefused extends Error {
  constructor (message: string, readonly code: MembershipRefusalCode = 'DYNAKV_MEMBERSHIP_REFUSED') {
    super(message)
  }
}

export interface GossipStats {
  rounds: number
  failures: number
  viewsMerged: number
}

const MEMBERSHIP_KEY = Buffer.from('membership')

/** What Gossip uses of its node. */
export interface GossipDeps {
  /** This node's name. */
  readonly self: string
  readonly clock: TimeSource
  readonly random: Random
  readonly log: Logger
  readonly config: Pick<ServerConfig, 'gossipIntervalMs' | 'probeIntervalMs' | 'requestTimeoutMs'>
  /** The view this service keeps current: merged, changed and persisted here only. */
  readonly membership: Membership
  readonly detector: Pick<FailureDetector, 'isUp'>
  readonly peers: PeerRequests
  /** Requests by address alone: a join's seed, whose name is not known yet. */
  readonly transport: Pick<Transport, 'request'>
  /** Where the view is persisted (the meta space). */
  readonly store: Pick<Store, 'write'>
  /** The view changed: the ring, and the services that follow it, are recomputed. */
  membershipChanged (): void
}

export class Gossip {
  readonly stats: GossipStats = { rounds: 0, failures: 0, viewsMerged: 0 }
  /**
   * Push every change to every member when it is made, and exchange with a
   * peer whose heartbeat shows a view that stays different. Off, only the
   * periodic exchange with one random peer spreads a change: the simulator
   * turns it off to measure that epidemic alone (spec/sim/scale.ts).
   */
  eager = true
  private readonly peerDigests = new Map<string, string>()
  /** Since when each peer has reported the digest it last reported. */
  private readonly peerDigestSinceMs = new Map<string, number>()
  /** When this node's view last changed. */
  private viewChangedMs = 0
  private readonly exchanging = new Set<string>()
  private timers: Timer[] = []
  private persisting: Promise<void> = Promise.resolve()

  constructor (private readonly deps: GossipDeps) {
    deps.peers.on('PING', async (from, req) => {
      this.notePeerDigest(from, req.digest)
      return { type: 'PONG', digest: this.deps.membership.digest() }
    })
    deps.peers.on('GOSSIP', async (from, req) => {
      this.receive(req.membership, from)
      return { type: 'MEMBERSHIP', membership: this.encoded() }
    })
    deps.peers.on('JOIN', async (from, req) => {
      this.receive(req.membership, from)
      this.deps.log.info(`${from} joined through this node`)
      this.pushToAll()
      return { type: 'MEMBERSHIP', membership: this.encoded() }
    })
  }

  start (): void {
    const cfg = this.deps.config
    this.timers.push(every(this.deps.clock, cfg.gossipIntervalMs, async () => { await traced('gossip.round', async () => { await this.round() }) }))
    this.timers.push(every(this.deps.clock, cfg.probeIntervalMs, async () => { await traced('gossip.heartbeat', async () => { await this.heartbeat() }) }))
  }

  stop (): void {
    for (const t of this.timers) t.cancel()
    this.timers = []
  }

  private encoded (): Buffer {
    return this.deps.membership.encoded()
  }

  /** Merges a view received from `from`; refuses one from another cluster or ring shape. */
  receive (bytes: Buffer, from: string): string[] {
    if (bytes.equals(this.encoded())) return [] // the same view: the usual answer once gossip has converged
    const view = decodeMembership(bytes)
    const mine = this.deps.membership.settings
    if (view.settings.name !== mine.name) throw new MembershipRefused(`refused membership from ${from}: cluster '${view.settings.name}', not '${mine.name}'`, 'DYNAKV_MEMBERSHIP_WRONG_CLUSTER')
    if (view.settings.partitions !== mine.partitions) throw new MembershipRefused(`refused membership from ${from}: ${view.settings.partitions} partitions, this cluster has ${mine.partitions}`, 'DYNAKV_MEMBERSHIP_PARTITIONS')
    if (view.settings.n !== mine.n) throw new MembershipRefused(`refused membership from ${from}: N=${view.settings.n}, this cluster has N=${mine.n}`, 'DYNAKV_MEMBERSHIP_N')
    const self = this.deps.self
    // Nobody else may change this node's own record, except to remove it.
    const records = view.records.filter(r => r.name !== self || r.status === 'removed')
    const changed = this.deps.membership.merge(records, this.deps.clock.now())
    if (changed.length > 0) {
      this.stats.viewsMerged++
      this.changed()
    }
    // The cluster remembers a newer record of this node (it restarted from a wiped or
    // older directory): take back its place in the ring and outrank that record.
    const theirs = view.records.find(r => r.name === self)
    const own = this.deps.membership.get(self)
    if (theirs !== undefined && own !== undefined && theirs.status !== 'removed' && own.status !== 'removed' &&
      (theirs.version > own.version || (theirs.version === own.version && supersedes(theirs, own)))) {
      const adopt = theirs.epoch !== own.epoch || theirs.joinedAt !== own.joinedAt
        ? { joinedAt: theirs.joinedAt, leftAt: theirs.leftAt, weight: theirs.weight, status: theirs.status === 'leaving' ? own.status : theirs.status }
        : {}
      this.updateSelf({ ...adopt, version: theirs.version })
      changed.push(self)
    }
    return changed
  }

  /** After any change of the view: persist it and let the services react. */
  private changed (): void {
    this.viewChangedMs = this.deps.clock.now()
    const bytes = this.encoded()
    this.persisting = this.persisting.then(() => this.deps.store.write([{ space: 'meta', key: MEMBERSHIP_KEY, value: bytes }], true)).catch((e: Error) => {
      this.deps.log.error(`persisting membership failed: ${e.message}`)
    })
    this.deps.membershipChanged()
  }

  async flushed (): Promise<void> {
    await this.persisting
  }

  /** Raises this node's own record's version with a change, and tells everyone. */
  updateSelf (patch: Partial<MemberRecord>): MemberRecord {
    const cur = this.deps.membership.get(this.deps.self) as MemberRecord
    const next = { ...cur, ...patch, version: Math.max(cur.version, patch.version ?? 0) + 1 }
    this.deps.membership.apply(next, this.deps.clock.now())
    this.changed()
    this.pushToAll()
    return next
  }

  /**
   * A peer's digest, from a heartbeat either way. A change is pushed to every
   * member when it is made (pushToAll), so a difference is only worth an
   * exchange once it has outlived a probe interval (the push was lost): an
   * exchange on every difference seen while pushes are in flight made O(n²)
   * exchanges per change.
   */
  notePeerDigest (peer: string, digest: string): void {
    const now = this.deps.clock.now()
    this.setPeerDigest(peer, digest)
    const since = Math.max(this.peerDigestSinceMs.get(peer) ?? now, this.viewChangedMs)
    if (this.eager && digest !== this.deps.membership.digest() && now - since >= this.deps.config.probeIntervalMs && !this.exchanging.has(peer)) {
      this.exchange(peer).catch(() => {})
    }
  }

  private setPeerDigest (peer: string, digest: string): void {
    if (this.peerDigests.get(peer) !== digest) this.peerDigestSinceMs.set(peer, this.deps.clock.now())
    this.peerDigests.set(peer, digest)
  }

  /** Members other than this node that are not removed. */
  others (): MemberRecord[] {
    const self = this.deps.self
    return this.deps.membership.live().filter(r => r.name !== self)
  }

  /** Every live member answered with our digest at its last contact. */
  converged (): boolean {
    const mine = this.deps.membership.digest()
    return this.others().every(r => !this.deps.detector.isUp(r.name) || this.peerDigests.get(r.name) === mine)
  }

  private async exchange (peer: string): Promise<void> {
    this.exchanging.add(peer)
    try {
      const res = await this.deps.peers.request(peer, { type: 'GOSSIP', membership: this.encoded() })
      this.receive(res.membership, peer)
      this.setPeerDigest(peer, this.deps.membership.digest())
    } finally {
      this.exchanging.delete(peer)
    }
  }

  /** One gossip round: one random live peer (up ones first). */
  async round (): Promise<void> {
    const others = this.others()
    if (others.length === 0) return
    const up = others.filter(r => this.deps.detector.isUp(r.name))
    const pool = up.length > 0 ? up : others
    const peer = pool[this.deps.random.int(pool.length)].name
    this.stats.rounds++
    try {
      await this.exchange(peer)
    } catch {
      this.stats.failures++
    }
    const self = this.deps.membership.get(this.deps.self)
    if (self?.status === 'joining' && this.converged()) {
      this.updateSelf({ status: 'valid' })
      this.deps.log.info('joined: the ring has converged, status valid')
    }
  }

  private pushToAll (): void {
    if (!this.eager) return
    for (const r of this.others()) this.exchange(r.name).catch(() => {})
  }

  /** Heartbeats to members not heard from lately; probes of down ones (they come back at their first answer). */
  private async heartbeat (): Promise<void> {
    const digest = this.deps.membership.digest()
    const timeoutMs = Math.min(this.deps.config.requestTimeoutMs, Math.max(this.deps.config.probeIntervalMs * 2, 50))
    await Promise.all(this.others().map(async (r) => {
      try {
        const res = await this.deps.peers.request(r.name, { type: 'PING', digest }, timeoutMs)
        this.notePeerDigest(r.name, res.digest)
      } catch {}
    }))
  }

  /** Admin join (the paper's §4.2): this node asks a member at host:port to add it. */
  async join (host: string, port: number): Promise<void> {
    const selfName = this.deps.self
    const members = this.deps.membership.active().filter(r => r.name !== selfName)
    if (members.length > 0) throw new MembershipRefused(`this node is already a member of a cluster of ${members.length + 1} nodes`)
    const self = this.deps.membership.get(selfName) as MemberRecord
    // The claim function folds join events in time order: this join comes last.
    const joinedAt = Math.max(this.deps.clock.now(), self.joinedAt)
    const next: MemberRecord = { ...self, status: 'joining', joinedAt, leftAt: null, version: self.version + 1 }
    const view = encodeMembership(this.deps.membership.settings, [next])
    const res = await this.deps.transport.request({ name: null, host, port }, { type: 'JOIN', membership: view }, this.deps.config.requestTimeoutMs)
    this.deps.membership.apply(next, this.deps.clock.now())
    this.receive(res.membership, res.from)
    this.changed()
    this.pushToAll()
  }

  /** Starts leaving: the ring is recomputed without this node, whose handoff then moves its data away. */
  leave (): void {
    const self = this.deps.membership.get(this.deps.self) as MemberRecord
    if (self.status === 'leaving' || self.status === 'removed') return
    if (this.others().filter(r => r.status === 'joining' || r.status === 'valid').length === 0) {
      throw new MembershipRefused('the last member of a cluster cannot leave it')
    }
    this.updateSelf({ status: 'leaving', leftAt: Math.max(this.deps.clock.now(), self.joinedAt) })
  }

  /** Called by handoff once a leaving node holds no data: it is out of the ring for good. */
  finishLeave (): void {
    const self = this.deps.membership.get(this.deps.self) as MemberRecord
    if (self.status !== 'leaving') return
    this.updateSelf({ status: 'removed' })
    this.deps.log.info('left the ring: every partition handed off')
  }

  /** Admin removal of a (dead) node. */
  remove (name: string): void {
    const r = this.deps.membership.get(name)
    if (r === undefined) throw new MembershipRefused(`unknown node '${name}'`)
    if (name === this.deps.self) throw new MembershipRefused('a node cannot remove itself: use RING LEAVE')
    if (r.status === 'removed') return
    const status: Status = 'removed'
    this.deps.membership.apply({ ...r, status, version: r.version + 1, leftAt: Math.max(this.deps.clock.now(), r.joinedAt) }, this.deps.clock.now())
    this.changed()
    this.pushToAll()
  }

  peerDigest (name: string): string | undefined {
    return this.peerDigests.get(name)
  }
}
