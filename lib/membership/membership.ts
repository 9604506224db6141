// Gossiped membership (docs/design.md#membership). One record per node; only the node itself
// (or an admin REMOVE) raises its version, and a merge keeps the higher version
// per node, so views converge whatever the order of exchanges. `removed` is
// final: a removed name never comes back (the node rejoins under a new name).
//
//   record: name, peer host:port, client host:port, weight, status, version,
//           epoch (of its data directory), joinedAt / leftAt (ms, the claim
//           function's event times)
//
// The ring is computed from membership alone (lib/ring claim), so a view plus
// the cluster settings (Q, N) is all a node needs to route.
import { Reader, Writer, DecodeError } from '../util/bytes.js'
import { Buffer } from 'node:buffer'

export type Status = 'joining' | 'valid' | 'leaving' | 'removed'
const STATUSES: readonly Status[] = ['joining', 'valid', 'leaving', 'removed']

export interface MemberRecord {
  name: string
  peerHost: string
  peerPort: number
  clientHost: string
  clientPort: number
  weight: number
  status: Status
  version: number
  epoch: string
  joinedAt: number
  leftAt: number | null
}

export interface ClusterSettings {
  name: string
  partitions: number
  n: number
}

export interface HistoryEntry {
  atMs: number
  name: string
  status: Status
  version: number
}

export class MembershipError extends Error {
  readonly code = 'DYNAKV_MEMBERSHIP'
}

const MAX_MEMBERS = 1024
const HISTORY_MAX = 256

function rank (s: Status): number {
  return STATUSES.indexOf(s)
}

/** True when b should replace a. Deterministic on ties so every node picks the same. */
export function supersedes (b: MemberRecord, a: MemberRecord): boolean {
  if (a.status === 'removed' && b.status !== 'removed') return false
  if (b.status === 'removed' && a.status !== 'removed') return true
  if (b.version !== a.version) return b.version > a.version
  if (b.status !== a.status) return rank(b.status) > rank(a.status)
  if (sameRecord(a, b)) return false // the usual case in gossip, and no encoding needed
  return Buffer.compare(encodeRecord(b).finish(), encodeRecord(a).finish()) > 0
}

function sameRecord (a: MemberRecord, b: MemberRecord): boolean {
  return a.name === b.name && a.peerHost === b.peerHost && a.peerPort === b.peerPort && a.clientHost === b.clientHost &&
    a.clientPort === b.clientPort && a.weight === b.weight && a.status === b.status && a.version === b.version &&
    a.epoch === b.epoch && a.joinedAt === b.joinedAt && a.leftAt === b.leftAt
}

export class Membership {
  private readonly records = new Map<string, Readonly<MemberRecord>>()
  /** Each record's encoding (encodeRecord), made once when the record is stored. */
  private readonly recordBytes = new Map<string, Buffer>()
  readonly history: HistoryEntry[] = []
  /** Raised on every change, so derived state (the ring) knows when to recompute. */
  changes = 0
  // The sorted view, its digest and its encoding, as of `cachedAt` changes:
  // gossip asks for them on every message, and they change only with a record.
  private cachedAt = -1
  private sorted: readonly MemberRecord[] = []
  private digestHex: string | null = null
  private bytes: Buffer | null = null

  constructor (readonly settings: ClusterSettings, records: Iterable<MemberRecord> = []) {
    for (const r of records) this.store(r)
  }

  private store (record: MemberRecord): void {
    this.records.set(record.name, Object.freeze({ ...record }))
    this.recordBytes.set(record.name, encodeRecord(record).finish())
  }

  get (name: string): Readonly<MemberRecord> | undefined {
    return this.records.get(name)
  }

  /** Every record, by name. */
  all (): readonly MemberRecord[] {
    if (this.cachedAt !== this.changes) {
      this.cachedAt = this.changes
      this.sorted = Object.freeze([...this.records.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      this.digestHex = null
      this.bytes = null
    }
    return this.sorted
  }

  /** Members that own or may own partitions (joining, valid). */
  active (): MemberRecord[] {
    return this.all().filter(r => r.status === 'joining' || r.status === 'valid')
  }

  /** Members worth talking to: everything not removed. */
  live (): MemberRecord[] {
    return this.all().filter(r => r.status !== 'removed')
  }

  /** Applies a record if it supersedes what we hold; returns whether anything changed. */
  apply (record: MemberRecord, nowMs: number): boolean {
    const cur = this.records.get(record.name)
    if (cur !== undefined && !supersedes(record, cur)) return false
    if (cur === undefined && this.records.size >= MAX_MEMBERS) throw new MembershipError(`more than ${MAX_MEMBERS} members`)
    this.store(record)
    this.changes++
    if (cur === undefined || cur.status !== record.status) {
      this.history.push({ atMs: nowMs, name: record.name, status: record.status, version: record.version })
      if (this.history.length > HISTORY_MAX) this.history.splice(0, this.history.length - HISTORY_MAX)
    }
    return true
  }

  /** Merges another view; returns the names whose records changed. */
  merge (records: readonly MemberRecord[], nowMs: number): string[] {
    const changed: string[] = []
    for (const r of records) if (this.apply(r, nowMs)) changed.push(r.name)
    return changed
  }

  /** A digest of the whole view: equal on two nodes ⇔ same membership (convergence). */
  digest (): string {
    const all = this.all()
    if (this.digestHex === null) {
      let h = 0x811c9dc5
      for (const r of all) {
        for (const b of this.recordBytes.get(r.name) as Buffer) h = Math.imul(h ^ b, 0x01000193) >>> 0
      }
      this.digestHex = h.toString(16).padStart(8, '0')
    }
    return this.digestHex
  }

  /** The whole view as gossip sends it (encodeMembership). */
  encoded (): Buffer {
    const all = this.all()
    if (this.bytes === null) {
      const w = membershipHeader(this.settings, all.length)
      for (const r of all) w.raw(this.recordBytes.get(r.name) as Buffer)
      this.bytes = w.finish()
    }
    return this.bytes
  }

  /** Inputs of the claim function. */
  claimMembers (): Array<{ name: string, weight: number, joinedAt: number, leftAt: number | null }> {
    return this.all().map(r => ({
      name: r.name,
      weight: r.weight,
      joinedAt: r.joinedAt,
      leftAt: r.status === 'leaving' || r.status === 'removed' ? (r.leftAt ?? r.joinedAt) : null
    }))
  }
}

export function encodeRecord (r: MemberRecord, w = new Writer(96)): Writer {
  w.string(r.name).string(r.peerHost).varint(r.peerPort).string(r.clientHost).varint(r.clientPort)
  w.varint(r.weight).u8(rank(r.status)).varint(r.version).string(r.epoch).varint(r.joinedAt)
  w.varint(r.leftAt === null ? 0 : r.leftAt + 1)
  return w
}

function decodeRecord (rd: Reader): MemberRecord {
  const name = rd.string()
  const peerHost = rd.string()
  const peerPort = rd.varint()
  const clientHost = rd.string()
  const clientPort = rd.varint()
  const weight = rd.varint()
  const s = rd.u8()
  if (s >= STATUSES.length) throw new DecodeError(`bad member status ${s}`)
  const version = rd.varint()
  const epoch = rd.string()
  const joinedAt = rd.varint()
  const left = rd.varint()
  if (peerPort > 65535 || clientPort > 65535) throw new DecodeError('bad port')
  return { name, peerHost, peerPort, clientHost, clientPort, weight, status: STATUSES[s], version, epoch, joinedAt, leftAt: left === 0 ? null : left - 1 }
}

export function encodeMembership (settings: ClusterSettings, records: readonly MemberRecord[]): Buffer {
  const w = membershipHeader(settings, records.length)
  for (const r of records) encodeRecord(r, w)
  return w.finish()
}

function membershipHeader (settings: ClusterSettings, count: number): Writer {
  return new Writer(64 + count * 96).u8(1).string(settings.name).varint(settings.partitions).varint(settings.n).varint(count)
}

export function decodeMembership (buf: Buffer): { settings: ClusterSettings, records: MemberRecord[] } {
  const rd = new Reader(buf)
  if (rd.u8() !== 1) throw new DecodeError('unknown membership format')
  const settings = { name: rd.string(), partitions: rd.varint(), n: rd.varint() }
  const count = rd.count(Math.min(MAX_MEMBERS, rd.remaining))
  const records: MemberRecord[] = []
  for (let i = 0; i < count; i++) records.push(decodeRecord(rd))
  rd.expectEnd()
  return { settings, records }
}
