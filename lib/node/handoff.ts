// Hinted handoff and ownership transfer (docs/design.md#hinted-handoff), in bounded batches under
// a rate limit:
//   hints      a fallback's hints go to their intended node as soon as it answers
//              again, or to the key's current primaries when that node no longer
//              replicates the key (it left, was removed, or the ring moved the
//              partition); each hint is deleted only after its receivers acknowledged it
//   ownership  data this node holds for partitions it no longer replicates goes
//              to the partition's primaries; each key is dropped only after all of
//              them acknowledged, and only if it did not change meanwhile
// A leaving node becomes removed only after a round found it holding no data and
// no hints against a ring that did not change during the round: from the ring
// change on, this node refuses every write to what it gave up (LocalReplica), so
// what the round found drained stays drained.
import { HANDOFF_HINTS, HANDOFF_OWNERSHIP } from '../peer/messages.js'
import { partitionEnd, partitionOfHash, partitionStart } from '../ring/hash.js'
import type { FailureDetector } from '../membership/detector.js'
import type { Membership } from '../membership/membership.js'
import type { Ring } from '../ring/index.js'
import { every, type TimeSource, type Timer } from '../runtime/clock.js'
import { traced } from '../runtime/trace.js'
import type { Logger } from '../runtime/log.js'
import type { Store } from '../storage/store.js'
import { Reader } from '../util/bytes.js'
import type { ServerConfig } from './config.js'
import { hintPrefix, type LocalReplica } from './local.js'
import { prefixEnd, refOfStorageKey } from './keys.js'
import type { PeerRequests } from './peers.js'
import { Buffer } from 'node:buffer'

/** What Handoff uses of its node. */
export interface HandoffDeps {
  /** This node's name. */
  readonly self: string
  readonly clock: TimeSource
  readonly log: Logger
  readonly config: Pick<ServerConfig, 'handoffRate' | 'handoffIntervalMs' | 'handoffBatch' | 'partitions'>
  readonly partitionBits: number
  /** Scans of the data and hints spaces. */
  readonly store: Pick<Store, 'range'>
  readonly local: Pick<LocalReplica, 'merge' | 'decode' | 'hintTargets' | 'hintsPendingTotal' | 'dropHintIfUnchanged' | 'dropIfUnchanged' | 'engine'>
  /** This node's own status (leaving?). */
  readonly membership: Pick<Membership, 'get'>
  readonly detector: Pick<FailureDetector, 'isUp'>
  readonly peers: PeerRequests
  /** The ring as it stands now. */
  currentRing (): Ring
  /** A leaving node holds nothing any more: it may leave the ring for good. */
  leaveDrained (): void
}

export interface HandoffStats {
  rounds: number
  hintsDelivered: number
  hintsReceived: number
  objectsSent: number
  objectsReceived: number
  objectsDropped: number
  failures: number
  /** Partitions with data here that belong elsewhere, at the last round. */
  transfersPending: number
}

export class Handoff {
  readonly stats: HandoffStats = { rounds: 0, hintsDelivered: 0, hintsReceived: 0, objectsSent: 0, objectsReceived: 0, objectsDropped: 0, failures: 0, transfersPending: 0 }
  /** Which partitions transfersPending counts (ascending). */
  pendingPartitions: readonly number[] = []
  private timer: Timer | null = null
  private tokens: number
  private lastRefillMs: number

  constructor (private readonly deps: HandoffDeps) {
    this.tokens = deps.config.handoffRate
    this.lastRefillMs = deps.clock.now()
    deps.peers.on('HANDOFF_BATCH', async (_from, req) => {
      await this.receive(req.kind, req.keys, req.objs)
      return { type: 'OK' }
    })
  }

  /**
   * A batch another node handed off: ownership transfers, delivered hints and
   * anti-entropy repairs all land in this node's data. One key refused (or
   * failed) fails the batch once every merge has settled: the sender keeps the
   * whole batch and sends it again (merging twice is harmless).
   */
  private async receive (kind: number, keys: Buffer[], objs: Buffer[]): Promise<void> {
    const writes: Array<Promise<unknown>> = []
    for (let i = 0; i < keys.length; i++) writes.push(this.deps.local.merge(refOfStorageKey(keys[i], this.deps.partitionBits), this.deps.local.decode(objs[i])))
    const failed = (await Promise.allSettled(writes)).find(o => o.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    if (kind === HANDOFF_HINTS) this.stats.hintsReceived += keys.length
    else if (kind === HANDOFF_OWNERSHIP) this.stats.objectsReceived += keys.length
  }

  start (): void {
    this.timer = every(this.deps.clock, this.deps.config.handoffIntervalMs, async () => { await traced('handoff.round', async () => { await this.round() }) })
  }

  stop (): void {
    this.timer?.cancel()
  }

  /** Objects this round may still send (token bucket, refilled at --handoff-rate per second). */
  private budget (): number {
    const now = this.deps.clock.now()
    const rate = this.deps.config.handoffRate
    this.tokens = Math.min(rate, this.tokens + (now - this.lastRefillMs) * rate / 1000)
    this.lastRefillMs = now
    return Math.floor(this.tokens)
  }

  private spend (n: number): void {
    this.tokens -= n
  }

  async round (): Promise<void> {
    this.stats.rounds++
    let drained = false
    try {
      await this.deliverHints()
      drained = await this.transferOwnership()
    } catch (e) {
      this.stats.failures++
      this.deps.log.debug(`handoff round: ${(e as Error).message}`)
    }
    const self = this.deps.membership.get(this.deps.self)
    if (self?.status === 'leaving' && drained && this.deps.local.hintsPendingTotal() === 0) {
      this.deps.leaveDrained()
    }
  }

  /** Delivers hints target by target, in batches, while the budget lasts. */
  private async deliverHints (): Promise<void> {
    for (const target of [...this.deps.local.hintTargets()]) {
      const ring = this.deps.currentRing()
      // Out of the ring (leaving, removed, unknown): every hint goes to the current primaries.
      const inRing = ring.nodes.includes(target)
      if (inRing && !this.deps.detector.isUp(target)) continue
      const prefix = hintPrefix(target)
      const lt = prefixEnd(prefix)
      for (let guard = 0; guard < 10_000; guard++) {
        const n = Math.min(this.deps.config.handoffBatch, this.budget())
        if (n <= 0) return
        const rows = await this.deps.store.range('hints', { gte: prefix, lt, limit: n })
        if (rows.length === 0) break
        this.spend(rows.length)
        const skeys = rows.map(([hkey]) => {
          const r = new Reader(hkey)
          r.string()
          return hkey.subarray(r.pos)
        })
        const direct: number[] = []
        const elsewhere: number[] = []
        skeys.forEach((skey, i) => {
          const p = refOfStorageKey(skey, this.deps.partitionBits).partition
          if (inRing && ring.preferenceList(p).primaries.includes(target)) direct.push(i)
          else elsewhere.push(i)
        })
        try {
          await Promise.all([
            this.redirect(elsewhere.map(i => skeys[i]), elsewhere.map(i => rows[i][1])),
            direct.length === 0
              ? null
              : this.deps.peers.request(target, { type: 'HANDOFF_BATCH', kind: HANDOFF_HINTS, keys: direct.map(i => skeys[i]), objs: direct.map(i => rows[i][1]) })
          ])
        } catch {
          this.stats.failures++
          break
        }
        await Promise.all(rows.map(([hkey, bytes]) => this.deps.local.dropHintIfUnchanged(target, hkey, bytes)))
        this.stats.hintsDelivered += rows.length
        if (rows.length < n) break
      }
    }
  }

  /** Hints for a node that does not replicate the key (any more) go to the key's current primaries instead. */
  private async redirect (skeys: Buffer[], objs: Buffer[]): Promise<void> {
    await Promise.all(skeys.map(async (skey, i) => {
      const ref = refOfStorageKey(skey, this.deps.partitionBits)
      const { primaries } = this.deps.currentRing().preferenceList(ref.partition)
      await Promise.all(primaries.map(p => p === this.deps.self
        ? this.deps.local.merge(ref, this.deps.local.decode(objs[i]))
        : this.deps.peers.request(p, { type: 'PUT_REPLICA', key: skey, obj: objs[i], hintFor: null })))
    }))
  }

  /**
   * Streams data of partitions this node no longer replicates to their primaries.
   * Returns true when it holds none any more, by a ring that is still current.
   */
  private async transferOwnership (): Promise<boolean> {
    const ring = this.deps.currentRing()
    const self = this.deps.self
    const q = this.deps.config.partitions
    // Writes applied before the ring changed may not have reached the store yet,
    // and the scans below read the store; later ones are refused.
    await this.deps.local.engine.flushed()
    const pending: number[] = []
    // The first record at or after a partition's start is in the first partition
    // from there that holds data: one probe skips a run of empty ones (a node of
    // a large ring replicates few partitions, and probed the others one by one).
    let withData = -1
    for (let p = 0; p < q; p++) {
      const { primaries } = ring.preferenceList(p)
      if (primaries.includes(self)) continue
      const gte = partitionStart(p, q)
      const lt = partitionEnd(p, q) ?? undefined
      if (withData < p) {
        const probe = await this.deps.store.range('data', { gte, limit: 1 })
        withData = probe.length === 0 ? q : partitionOfHash(probe[0][0], this.deps.partitionBits)
      }
      if (withData !== p) continue
      pending.push(p)
      if (!primaries.every(t => this.deps.detector.isUp(t))) continue
      for (let guard = 0; guard < 10_000; guard++) {
        const n = Math.min(this.deps.config.handoffBatch, this.budget())
        if (n <= 0) break
        const rows = await this.deps.store.range('data', { gte, lt, limit: n })
        if (rows.length === 0) {
          pending.pop()
          break
        }
        this.spend(rows.length)
        const keys = rows.map(([skey]) => skey)
        const objs = rows.map(([, v]) => v)
        try {
          await Promise.all(primaries.map(t => this.deps.peers.request(t, { type: 'HANDOFF_BATCH', kind: HANDOFF_OWNERSHIP, keys, objs })))
        } catch {
          this.stats.failures++
          break
        }
        this.stats.objectsSent += rows.length
        const dropped = await Promise.all(rows.map(([skey, bytes]) => this.deps.local.dropIfUnchanged(refOfStorageKey(skey, this.deps.partitionBits), bytes)))
        this.stats.objectsDropped += dropped.filter(Boolean).length
        if (rows.length < n && dropped.every(Boolean)) {
          pending.pop()
          break
        }
      }
    }
    this.pendingPartitions = pending
    this.stats.transfersPending = pending.length
    return pending.length === 0 && ring === this.deps.currentRing()
  }
}
