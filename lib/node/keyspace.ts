// Whole-keyspace operations across the cluster:
//   SCAN   walks partitions in ring order from the cursor's position; each page
//          unions the live keys of every reachable primary of the partition, up
//          to the smallest "last key" among replicas that had more, so a key
//          present throughout the scan is never missed. The cursor is the top 63
//          bits of the next ring position: stateless, any node resumes it.
//   RANDOMKEY a random ring position, one bounded seek of this node's data from
//          there (wrapping once), the first live key; confirmed by a quorum read
//          in a cluster. A few tries, then a walk of the ring: nil only when no
//          key has a value.
//   DBSIZE the sum of every member's live-key count divided by N (an estimate)
//   FLUSH  every member clears its data, or the command fails with NOQUORUM
import { HASH_BYTES, cursorFromHash, hashFloorFromCursor, partitionEnd, partitionOfHash } from '../ring/hash.js'
import { decodeObject, elementState } from '../versioning/index.js'
import { keyAfter, PAGE_ROWS, type Store } from '../storage/store.js'
import type { FailureDetector } from '../membership/detector.js'
import type { Membership } from '../membership/membership.js'
import type { Ring } from '../ring/index.js'
import type { TimeSource } from '../runtime/clock.js'
import type { Random } from '../runtime/random.js'
import { atTime, stateOf, type LocalReplica } from './local.js'
import { QuorumError } from '../coordinator/coordinator.js'
import { isKeyRecord, prefixEnd, refOfStorageKey, type KeyRef } from './keys.js'
import type { ServerConfig } from './config.js'
import type { PeerRequests } from './peers.js'
import { Buffer } from 'node:buffer'

/** What Keyspace uses of its node. */
export interface KeyspaceDeps {
  /** This node's name. */
  readonly self: string
  readonly clock: TimeSource
  readonly random: Random
  readonly config: Pick<ServerConfig, 'partitions' | 'n'>
  readonly partitionBits: number
  /** Scans of the data space. */
  readonly store: Pick<Store, 'range'>
  /** This node's key counts. */
  readonly local: Pick<LocalReplica, 'liveKeys' | 'volatileKeys'>
  readonly membership: Pick<Membership, 'active' | 'live'>
  readonly detector: Pick<FailureDetector, 'isUp'>
  readonly peers: PeerRequests
  /** The ring as it stands now. */
  currentRing (): Ring
  /** This node is the only member. */
  isSolo (): boolean
  /** A quorum read finds the key holding something, a value or a collection (RANDOMKEY checks its pick). */
  holdsValue (key: Buffer): Promise<boolean>
  /** This node's share of FLUSHALL. */
  flushLocal (): Promise<void>
  /** The average time to live of volatile keys, as the sweep samples it. */
  avgTtlMs (): number
}

export interface KeyCounts {
  /** Live keys. */
  n: number
  /** Live keys with an expiry. */
  expires: number
  /** Their average remaining time to live (ms), sampled by the sweep. */
  avgTtlMs: number
}

export interface ScanPage {
  cursor: bigint
  keys: Buffer[]
}

const PAGE_MAX = 10_000
/** Store pages one local scan request may read (every loop is bounded). */
const SCAN_STEPS_MAX = 100_000
/** RANDOMKEY: random positions tried, and rows one seek reads at most (a run of tombstones ends a try). */
const RANDOM_TRIES = 4
const RANDOM_ROWS = 64

export class Keyspace {
  constructor (private readonly deps: KeyspaceDeps) {
    deps.peers.on('SCAN_KEYS', async (_from, req) => {
      const { keys, more } = await this.localLive(req.start, req.end, Math.min(req.limit, PAGE_MAX))
      return { type: 'KEYS', keys, more }
    })
    deps.peers.on('COUNT_KEYS', async () => ({ type: 'COUNT', ...this.localCounts() }))
    deps.peers.on('FLUSH', async () => {
      await deps.flushLocal()
      return { type: 'OK' }
    })
  }

  /**
   * Live keys here in [start, end), as key-record storage keys, at most limit of
   * them. A string counts when it has a value now; a collection when its marker
   * is live and at least one of its elements is (they follow its key record in
   * the range, and the walk skips past the rest of them).
   */
  async localLive (start: Buffer, end: Buffer | null, limit: number): Promise<{ keys: Buffer[], more: boolean }> {
    const keys: Buffer[] = []
    const now = this.deps.clock.now()
    let gte = start
    /** A collection key waiting for one live element of its kind. */
    let pending: { skey: Buffer, prefix: Buffer } | null = null
    for (let n = 0; n < SCAN_STEPS_MAX; n++) {
      const rows = await this.deps.store.range('data', { gte, lt: end ?? undefined, limit: PAGE_ROWS })
      let jumped = false
      for (const [skey, bytes] of rows) {
        if (isKeyRecord(skey)) {
          pending = null
          if (keys.length === limit) return { keys, more: true }
          const ref = refOfStorageKey(skey, this.deps.partitionBits) as KeyRef
          const state = atTime(stateOf({ bytes }), now)
          if (state.type === 'string') keys.push(skey)
          else if (state.type !== 'none') pending = { skey, prefix: ref.kindPrefix(state.type) }
          continue
        }
        if (pending === null || !skey.subarray(0, pending.prefix.length).equals(pending.prefix)) continue
        if (elementState(decodeObject(bytes)).type === 'none') continue
        keys.push(pending.skey)
        // The key is in: skip the rest of its elements.
        const after = prefixEnd(pending.prefix)
        pending = null
        if (after === undefined) return { keys, more: false }
        gte = after
        jumped = true
        break
      }
      if (jumped) continue
      if (rows.length < PAGE_ROWS) return { keys, more: false }
      gte = keyAfter(rows[rows.length - 1][0])
    }
    return { keys, more: keys.length > 0 }
  }

  async randomKey (): Promise<Buffer | null> {
    for (let attempt = 0; attempt < RANDOM_TRIES; attempt++) {
      const skey = await this.liveNear(Buffer.from(this.deps.random.hex(HASH_BYTES), 'hex'))
      if (skey === null) break
      const key = refOfStorageKey(skey, this.deps.partitionBits).key
      if (this.deps.isSolo()) return key
      if (await this.deps.holdsValue(key)) return key
    }
    // Sparse, buried in tombstones, or nothing held here: the first key of a walk of the ring.
    return (await this.scan(0n, 1)).keys[0] ?? null
  }

  /** The first key from pos (then from the start) that is live here, reading at most RANDOM_ROWS rows per side. */
  private async liveNear (pos: Buffer): Promise<Buffer | null> {
    for (const range of [{ gte: pos }, { lt: pos }]) {
      const rows = await this.deps.store.range('data', { ...range, limit: RANDOM_ROWS })
      const now = this.deps.clock.now()
      for (const [skey, bytes] of rows) {
        // A key record whose key holds something now (a collection's elements are not checked here).
        if (isKeyRecord(skey) && atTime(stateOf({ bytes }), now).type !== 'none') return skey
      }
      if (rows.length === RANDOM_ROWS) return null
    }
    return null
  }

  async scan (cursor: bigint, count: number): Promise<ScanPage> {
    const q = this.deps.config.partitions
    const bits = this.deps.partitionBits
    const want = Math.max(1, Math.min(count, PAGE_MAX))
    let position = hashFloorFromCursor(cursor)
    const out: Buffer[] = []
    for (let steps = 0; steps < q; steps++) {
      const p = partitionOfHash(position, bits)
      const end = partitionEnd(p, q)
      const page = await this.partitionPage(p, position, end, want - out.length)
      for (const skey of page.keys) out.push(refOfStorageKey(skey, bits).key)
      if (page.resumeAt !== null) {
        const next = cursorFromHash(page.resumeAt)
        return { cursor: next > cursor ? next : cursor + 1n, keys: out }
      }
      if (end === null) return { cursor: 0n, keys: out }
      position = end
      if (out.length >= want) return { cursor: cursorFromHash(end), keys: out }
    }
    return { cursor: cursorFromHash(position), keys: out }
  }

  /**
   * One partition's keys from `start`: the union over its reachable primaries.
   * resumeAt: where the next page starts (null: the partition is done).
   */
  private async partitionPage (p: number, start: Buffer, end: Buffer | null, limit: number): Promise<{ keys: Buffer[], resumeAt: Buffer | null }> {
    const self = this.deps.self
    const ring = this.deps.currentRing()
    const { primaries, fallbacks } = ring.preferenceList(p)
    const asked = primaries.filter(n => n === self || this.deps.detector.isUp(n))
    if (asked.length === 0) asked.push(...fallbacks.filter(n => n === self || this.deps.detector.isUp(n)).slice(0, 1))
    const answers = await Promise.all(asked.map(async (n) => {
      try {
        if (n === self) return await this.localLive(start, end, limit)
        const res = await this.deps.peers.request(n, { type: 'SCAN_KEYS', start, end, limit })
        return res
      } catch {
        return null
      }
    }))
    const replies = answers.filter((a): a is { keys: Buffer[], more: boolean } => a !== null)
    if (replies.length === 0) throw new QuorumError(`NOQUORUM scan needed 1 replicas, 0 answered (partition ${p})`)
    // Keys up to the smallest last key of a replica that had more are complete.
    let cutoff: Buffer | null = null
    for (const r of replies) {
      if (!r.more || r.keys.length === 0) continue
      const last = r.keys[r.keys.length - 1]
      if (cutoff === null || Buffer.compare(last, cutoff) < 0) cutoff = last
    }
    const seen = new Set<string>()
    const keys: Buffer[] = []
    for (const r of replies) {
      for (const k of r.keys) {
        if (cutoff !== null && Buffer.compare(k, cutoff) > 0) continue
        const s = k.toString('latin1')
        if (seen.has(s)) continue
        seen.add(s)
        keys.push(k)
      }
    }
    keys.sort(Buffer.compare)
    if (cutoff === null) return { keys, resumeAt: null }
    // Resume just past the cutoff key's 63-bit position.
    const resume = Buffer.from(cutoff.subarray(0, HASH_BYTES))
    return { keys, resumeAt: bumpPosition(resume) }
  }

  /** This node's key counts (DBSIZE, INFO keyspace). */
  localCounts (): KeyCounts {
    const expires = Math.max(0, this.deps.local.volatileKeys)
    return { n: Math.max(0, this.deps.local.liveKeys), expires, avgTtlMs: expires === 0 ? 0 : this.deps.avgTtlMs() }
  }

  /**
   * DBSIZE and INFO keyspace: every reachable member's counts, summed, divided
   * by N (an estimate; exact on a single node). avg_ttl: the members' sampled
   * averages, weighted by their volatile keys.
   */
  async counts (): Promise<KeyCounts> {
    const self = this.deps.self
    const members = this.deps.membership.active()
    if (members.length <= 1) return this.localCounts()
    const counts = await Promise.all(members.map(async (m) => {
      if (m.name === self) return this.localCounts()
      try {
        const { n, expires, avgTtlMs } = await this.deps.peers.request(m.name, { type: 'COUNT_KEYS' })
        return { n, expires, avgTtlMs }
      } catch {
        return { n: 0, expires: 0, avgTtlMs: 0 }
      }
    }))
    const replicas = Math.min(this.deps.config.n, members.length)
    const expires = counts.reduce((a, b) => a + b.expires, 0)
    return {
      n: Math.round(counts.reduce((a, b) => a + b.n, 0) / replicas),
      expires: Math.round(expires / replicas),
      avgTtlMs: expires === 0 ? 0 : Math.round(counts.reduce((a, b) => a + b.avgTtlMs * b.expires, 0) / expires)
    }
  }

  /** FLUSHALL: every member (not removed) clears its data; -NOQUORUM unless all answer. */
  async flushAll (): Promise<void> {
    const self = this.deps.self
    const members = this.deps.membership.live()
    const results = await Promise.all(members.map(async (m) => {
      try {
        if (m.name === self) await this.deps.flushLocal()
        else await this.deps.peers.request(m.name, { type: 'FLUSH' })
        return true
      } catch {
        return false
      }
    }))
    const ok = results.filter(Boolean).length
    if (ok < members.length) throw new QuorumError(`NOQUORUM flushall needed ${members.length} nodes, ${ok} answered`)
  }
}

/** The smallest position whose top 63 bits are one more than pos's (saturating). */
function bumpPosition (pos: Buffer): Buffer {
  const c = cursorFromHash(pos)
  if (c + 1n >= 1n << 63n) return pos
  return hashFloorFromCursor(c + 1n)
}
