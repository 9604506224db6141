// A node's identity lives in its data directory: its name and the epoch created
// with the directory. A wiped directory comes back with a new epoch, so the node
// can never re-issue a dot it issued before (Riak's kv679). The counter lease
// keeps dots unique across restarts of the same directory: counters issued never
// pass the durable lease end, and a restart resumes above it.
import { Reader, Writer } from '../util/bytes.js'
import type { Store } from '../storage/store.js'
import type { Random } from '../runtime/random.js'
import type { OneTimeActor } from '../versioning/encoded.js'
import { Buffer } from 'node:buffer'

export interface Identity {
  name: string
  epoch: string
  createdAtMs: number
}

export class IdentityError extends Error {
  readonly code = 'DYNAKV_IDENTITY'
}

const IDENTITY_KEY = Buffer.from('identity')
const LEASE_KEY = Buffer.from('counter-lease')
export const LEASE_SIZE = 1_000_000
/** An epoch's length: every identity's epoch has this many hex digits (freshActors relies on it). */
export const EPOCH_HEX_DIGITS = 12

export async function loadIdentity (store: Store, name: string, random: Random, nowMs: number, nameGiven = true): Promise<{ identity: Identity, created: boolean }> {
  const stored = await store.get('meta', IDENTITY_KEY)
  if (stored !== undefined) {
    const r = new Reader(stored)
    if (r.u8() !== 1) throw new IdentityError('unknown identity format in the data directory')
    const identity = { name: r.string(), epoch: r.string(), createdAtMs: r.varint() }
    if (identity.name !== name && nameGiven) {
      throw new IdentityError(`the data directory belongs to node '${identity.name}', not '${name}': start with --name ${identity.name} or use another --dir`)
    }
    return { identity, created: false }
  }
  const identity = { name, epoch: random.hex(EPOCH_HEX_DIGITS / 2), createdAtMs: nowMs }
  const w = new Writer().u8(1).string(identity.name).string(identity.epoch).varint(identity.createdAtMs)
  await store.write([{ space: 'meta', key: IDENTITY_KEY, value: w.finish() }], true)
  return { identity, created: true }
}

/**
 * Node-wide dot counter. `floor` is the highest counter issued; the lease end
 * is durable in meta. Renewal is requested at half the lease; a counter beyond
 * the durable end must not leave the node until the renewal is durable.
 */
export class CounterLease {
  floor: number
  durableEnd: number
  private renewing: Promise<void> | null = null

  private constructor (start: number, end: number, private readonly persist: (end: number) => Promise<void>) {
    this.floor = start
    this.durableEnd = end
  }

  static async open (store: Store): Promise<CounterLease> {
    const stored = await store.get('meta', LEASE_KEY)
    const start = stored === undefined ? 0 : new Reader(stored).varint()
    const end = start + LEASE_SIZE
    const persist = (e: number): Promise<void> => store.write([{ space: 'meta', key: LEASE_KEY, value: new Writer().varint(e).finish() }], true)
    await persist(end)
    return new CounterLease(start, end, persist)
  }

  /** Records an issued counter; returns a promise to wait on before the dot may leave the node, or null. */
  issued (counter: number): Promise<void> | null {
    if (counter > this.floor) this.floor = counter
    if (this.floor > this.durableEnd - LEASE_SIZE / 2 && this.renewing === null) {
      const end = this.floor + LEASE_SIZE
      this.renewing = this.persist(end).then(() => {
        this.durableEnd = Math.max(this.durableEnd, end)
        this.renewing = null
      })
    }
    if (counter <= this.durableEnd) return null
    return this.renewing
  }
}

/**
 * An actor id used once: the node's epoch extended with a counter from the
 * lease. A coordinator that holds no copy of a key may have issued dots for it
 * before (and dropped them with a handoff or a delivered hint); a dot on its
 * plain actor would then claim, by range, versions it never saw. A fresh actor
 * cannot (Riak's per-key epochs, the fix for kv679).
 *
 * The id is `${name}#${epoch}` then the counter in hex without leading zeros:
 * every epoch is EPOCH_HEX_DIGITS long, so the id splits one way only, and no
 * incarnation's fresh actor equals another's, or any plain actor (12 digits).
 * The lease never issues a counter twice, so no two of one incarnation's are
 * equal either, and none equals an id of the earlier form (the counter in 12
 * digits, padded with zeros): a hex without leading zeros has 12 digits only
 * from 16^11 on, and then it is the padded form of the same counter. A record
 * keeps its actor ids for ever (every later write's context names them): up to
 * 16^6 counters the id is 6 or more bytes shorter in every record of every key
 * it was issued for (docs/performance.md, "Session 12, threads16").
 *
 * It is made as bytes (versioning's OneTimeActor: the prefix's bytes, kept once
 * per node, and the counter, whose hex digits a blind write puts straight into
 * the record) and as a string only where something reads `actor` (the general
 * path's put and increment): a SET of a new key builds no string and no Buffer
 * for it (docs/performance.md, "Session 14, actor14").
 */
export class FreshActor implements OneTimeActor {
  private id: string | undefined = undefined

  constructor (readonly prefix: Buffer, private readonly prefixText: string, readonly counter: number, readonly release: Promise<void> | null) {}

  /** The actor id as a string (built on first use). */
  get actor (): string {
    if (this.id === undefined) this.id = this.prefixText + this.counter.toString(16)
    return this.id
  }
}

/** One-time actors of the node `name` of epoch `epoch`: each call issues the next counter of the lease. */
export function freshActors (name: string, epoch: string, lease: CounterLease): () => FreshActor {
  const prefixText = `${name}#${epoch}`
  const prefix = Buffer.from(prefixText, 'utf8')
  return () => {
    const n = lease.floor + 1
    return new FreshActor(prefix, prefixText, n, lease.issued(n))
  }
}
