// The coordinator of a request (the paper's §4.5): it picks the first N reachable
// nodes of the key's preference list (a down primary replaced by the next
// reachable fallback, which keeps the write as a hint for it), fans the request
// out, and answers once R reads or W writes have succeeded. After a read it waits
// briefly for the remaining replicas and repairs those that were behind.
//
// A replica that refuses a write (NotReplicaError: in its ring it does not store
// the key; one of the two rings is behind) answered, so it is not a failure: the
// write goes to the next node of the preference list as it stands now, as a
// primary if it is one, else as a fallback holding a hint.
import type { Clock as TimeSource } from '../runtime/clock.js'
import { QuorumTracker, noQuorumMessage } from '../coordinator/quorum.js'
import { decodeObject, emptyObject, encodeObject, liveValue, merge, objectClock, put, sameVersions, type Clock, type VObject } from '../versioning/index.js'
import type { KeyRef } from './keys.js'
import { isNotReplica, type LocalReplica } from './local.js'
import type { CounterLease } from './identity.js'

export interface Target {
  node: string
  primary: boolean
  /** Set on a fallback: the primary it stands in for (its copy is a hint). */
  hintFor: string | null
}

/** Remote replica operations (the peer protocol, or the simulator's network). */
export interface ReplicaClient {
  getReplica (node: string, ref: KeyRef, hintFor: string | null): Promise<VObject | undefined>
  putReplica (node: string, ref: KeyRef, bytes: Buffer, hintFor: string | null): Promise<void>
}

export interface Placement {
  /** This node is the only member: every key's one replica is here. */
  solo (): boolean
  /** Preference list of a partition: primaries then fallbacks. */
  preferenceList (partition: number): { primaries: readonly string[], fallbacks: readonly string[] }
  isUp (node: string): boolean
}

export class QuorumError extends Error {
  readonly code = 'DYNAKV_NOQUORUM'
}

export interface CoordinatorOptions {
  self: string
  actor: string
  freshActor: () => { actor: string, release: Promise<void> | null }
  local: LocalReplica
  remote: ReplicaClient
  placement: Placement
  clock: TimeSource
  lease: CounterLease
  sloppy: boolean
  vclockMax: number
  readRepairWaitMs: number
}

export interface CoordinatorStats {
  reads: number
  writes: number
  readRepairs: number
  hintsWritten: number
  noQuorum: number
}

const EMPTY = emptyObject()

const valueOf = (obj: VObject | undefined): Buffer | null => obj === undefined ? null : liveValue(obj)

export class Coordinator {
  readonly stats: CoordinatorStats = { reads: 0, writes: 0, readRepairs: 0, hintsWritten: 0, noQuorum: 0 }
  private readonly o: CoordinatorOptions
  private readonly locks = new Map<string, Promise<unknown>>()

  constructor (options: CoordinatorOptions) {
    this.o = options
  }

  /** The first N reachable nodes of the preference list. */
  targets (ref: KeyRef, sloppy = this.o.sloppy): Target[] {
    const { primaries, fallbacks } = this.o.placement.preferenceList(ref.partition)
    const out: Target[] = []
    let f = 0
    for (const p of primaries) {
      if (p === this.o.self || this.o.placement.isUp(p)) {
        out.push({ node: p, primary: true, hintFor: null })
        continue
      }
      if (!sloppy) continue
      while (f < fallbacks.length && fallbacks[f] !== this.o.self && !this.o.placement.isUp(fallbacks[f])) f++
      if (f < fallbacks.length) out.push({ node: fallbacks[f++], primary: false, hintFor: p })
    }
    return out
  }

  /**
   * In place of a target that refused: the first reachable node of the key's
   * preference list as it stands now that was not asked yet; a fallback keeps a
   * hint for a primary not asked (down), else for the node it replaces. null: none.
   */
  private replacement (ref: KeyRef, refused: Target, asked: Set<string>): Target | null {
    const { primaries, fallbacks } = this.o.placement.preferenceList(ref.partition)
    const reachable = (n: string): boolean => !asked.has(n) && (n === this.o.self || this.o.placement.isUp(n))
    const primary = primaries.find(reachable)
    if (primary !== undefined) return { node: primary, primary: true, hintFor: null }
    if (!this.o.sloppy) return null
    const fallback = fallbacks.find(reachable)
    if (fallback === undefined) return null
    return { node: fallback, primary: false, hintFor: primaries.find(n => !asked.has(n)) ?? refused.hintFor ?? refused.node }
  }

  isPrimary (ref: KeyRef): boolean {
    return this.o.placement.preferenceList(ref.partition).primaries.includes(this.o.self)
  }

  private readFrom (t: Target, ref: KeyRef): VObject | undefined | Promise<VObject | undefined> {
    if (t.node !== this.o.self) return this.o.remote.getReplica(t.node, ref, t.hintFor)
    if (t.hintFor === null) return this.o.local.read(ref)
    // A fallback answers with its own data merged with what it holds as a hint.
    return Promise.all([this.o.local.read(ref), this.o.local.readHint(t.hintFor, ref)])
      .then(([a, b]) => a === undefined ? b : b === undefined ? a : merge(a, b))
  }

  /** obj null: decode it from bytes if a local write needs it. */
  private writeTo (t: Target, ref: KeyRef, obj: VObject | null, bytes: Buffer): Promise<unknown> {
    if (t.node !== this.o.self) return this.o.remote.putReplica(t.node, ref, bytes, t.hintFor)
    obj ??= decodeObject(bytes)
    if (t.hintFor !== null) {
      this.stats.hintsWritten++
      return this.o.local.storeHint(t.hintFor, ref, obj)
    }
    return this.o.local.merge(ref, obj, bytes)
  }

  /** What a plain GET returns: the newest live value of a quorum read (no decoding on a single node). */
  value (ref: KeyRef, r: number): Buffer | null | Promise<Buffer | null> {
    if (r === 1 && this.o.placement.solo()) {
      this.stats.reads++
      return this.o.local.readValue(ref)
    }
    const found = this.get(ref, r)
    return found instanceof Promise ? found.then(valueOf) : valueOf(found)
  }

  /** A quorum read: the merge of the first R replies (undefined: no replica holds the key). */
  get (ref: KeyRef, r: number): VObject | undefined | Promise<VObject | undefined> {
    this.stats.reads++
    // The only replica is this node: the fast path of a single node (no hashing, no fan-out).
    if (r === 1 && this.o.placement.solo()) return this.o.local.read(ref)
    return this.quorumRead(ref, r, this.targets(ref))
  }

  private quorumRead (ref: KeyRef, r: number, targets: Target[]): Promise<VObject | undefined> {
    return new Promise((resolve, reject) => {
      const tracker = new QuorumTracker(r, targets.length)
      const replies: Array<VObject | undefined | null> = new Array(targets.length).fill(null)
      const repaired = new Set<number>()
      let merged: VObject | undefined
      let settled = 0
      let answered = false
      let repairing = false
      // Read repair starts once every replica answered or the short wait is over;
      // a reply that comes later is repaired as it arrives.
      const repair = (): void => {
        if (!repairing || merged === undefined) return
        this.readRepair(ref, targets, replies, merged, repaired)
      }
      const finish = (): void => {
        const state = tracker.state
        if (!answered && state === 'won') {
          answered = true
          resolve(merged)
          if (settled < targets.length) {
            this.o.clock.after(this.o.readRepairWaitMs, () => {
              repairing = true
              repair()
            })
          }
        } else if (!answered && state === 'lost' && settled === targets.length) {
          // Lost: say so once every replica asked has answered or failed, with the true count.
          answered = true
          this.stats.noQuorum++
          reject(new QuorumError(noQuorumMessage('read', r, tracker.ok)))
        }
        if (settled === targets.length) repairing = true
        repair()
      }
      if (targets.length === 0) return finish()
      targets.forEach((t, i) => {
        Promise.resolve(this.readFrom(t, ref)).then((obj) => {
          replies[i] = obj
          if (obj !== undefined) merged = merged === undefined ? obj : sameVersions(merged, obj) ? merged : merge(merged, obj)
          settled++
          tracker.success(t.primary)
          finish()
        }, () => {
          settled++
          tracker.failure(t.primary)
          finish()
        })
      })
    })
  }

  /** Sends the merged versions to every replica that answered with less (each at most once per read). */
  private readRepair (ref: KeyRef, targets: Target[], replies: Array<VObject | undefined | null>, merged: VObject, done: Set<number>): void {
    let bytes: Buffer | null = null
    for (let i = 0; i < targets.length; i++) {
      const reply = replies[i]
      if (reply === null || done.has(i)) continue // no answer (yet): a later reply, anti-entropy or handoff catches it up
      done.add(i)
      if (reply !== undefined && sameVersions(reply, merged)) continue
      bytes ??= encodeObject(merged)
      this.stats.readRepairs++
      this.writeTo(targets[i], ref, merged, bytes).catch(() => {})
    }
  }

  /**
   * A coordinated write of a new version. context null = blind write (SET, DEL):
   * supersede every version this node knows of. Resolves with the writer's new
   * context (undefined after a blind write) once W replicas (PW of them primaries) have stored it.
   */
  put (ref: KeyRef, context: Clock | null, value: Buffer | null, w: number, pw = 0): Promise<Clock | undefined> {
    this.stats.writes++
    // value may be a view of a socket chunk: fine, since only encoded copies are kept.
    // The only replica is this node: one engine update, acknowledged when durable.
    if (w === 1 && pw <= 1 && this.o.placement.solo()) return this.o.local.write(ref, context, value)
    return this.replicatedPut(ref, context, value, w, pw)
  }

  private async replicatedPut (ref: KeyRef, context: Clock | null, value: Buffer | null, w: number, pw: number, retried = false): Promise<Clock | undefined> {
    const targets = this.targets(ref)
    const selfTarget = targets.find(t => t.node === this.o.self)
    let obj: VObject | null
    let bytes: Buffer
    let newContext: Clock | undefined
    let localWrite: Promise<unknown> | null = null
    if (selfTarget !== undefined && selfTarget.hintFor === null) {
      let outcome
      try {
        outcome = await this.o.local.put(ref, context, value)
      } catch (e) {
        // The ring changed before the local write applied: coordinate again on the new one.
        if (!isNotReplica(e) || retried) throw e
        return await this.replicatedPut(ref, context, value, w, pw, true)
      }
      obj = outcome.obj
      bytes = outcome.bytes
      newContext = outcome.context ?? undefined
      localWrite = outcome.durable
      await outcome.releasable
    } else {
      // Not a primary here: build the version from the context alone. Replicas
      // merging it drop exactly what the context covers, as a local put would.
      if (context === null) context = objectClock((await this.get(ref, 1)) ?? EMPTY)
      // No local history of this key here: a one-time actor (see identity.freshActor).
      const fresh = this.o.freshActor()
      const res = put(EMPTY, {
        actor: fresh.actor,
        context,
        value,
        nowMs: this.o.clock.now(),
        counterFloor: this.o.lease.floor,
        vclockMax: this.o.vclockMax
      })
      obj = res.obj
      bytes = encodeObject(obj)
      newContext = res.context
      this.o.local.truncations += res.truncated
      const wait = this.o.lease.issued(res.counter) ?? fresh.release
      if (wait !== null) await wait
    }
    const primariesAsked = targets.filter(t => t.primary).length
    const tracker = new QuorumTracker(w, targets.length, pw, primariesAsked)
    if (targets.length === 0) {
      this.stats.noQuorum++
      throw new QuorumError(noQuorumMessage('write', w, 0, { needed: pw, answered: 0 }))
    }
    const asked = new Set(targets.map(t => t.node))
    return await new Promise<Clock | undefined>((resolve, reject) => {
      let answered = false
      const finish = (): void => {
        if (answered) return
        const state = tracker.state
        if (state === 'won') {
          answered = true
          resolve(newContext)
        } else if (state === 'lost' && tracker.outstanding === 0) {
          // Every replica asked has answered or failed: the write is stored on tracker.ok of them.
          answered = true
          this.stats.noQuorum++
          reject(new QuorumError(noQuorumMessage('write', w, tracker.ok, { needed: pw, answered: tracker.okPrimaries })))
        }
      }
      const send = (t: Target, write: Promise<unknown>): void => {
        write.then(() => {
          tracker.success(t.primary)
          finish()
        }, (e) => {
          const next = isNotReplica(e) ? this.replacement(ref, t, asked) : null
          if (next === null) {
            tracker.failure(t.primary)
            return finish()
          }
          asked.add(next.node)
          tracker.reassign(t.primary, next.primary)
          send(next, this.writeTo(next, ref, obj, bytes))
        })
      }
      for (const t of targets) send(t, t === selfTarget && localWrite !== null ? localWrite : this.writeTo(t, ref, obj, bytes))
    })
  }

  /**
   * Read-modify-write (INCR, APPEND, SETNX, SET NX/XX/GET, DEL...): serialized per
   * key on this coordinator, over a quorum read and a quorum write. fn returns the
   * value to write (null: a tombstone, undefined: write nothing) and the result.
   */
  modify<R> (ref: KeyRef, r: number, w: number, fn: (current: VObject | undefined) => { value?: Buffer | null, result: R }): Promise<R> {
    const prev = this.locks.get(ref.ks) ?? Promise.resolve()
    const run = prev.catch(() => {}).then(async () => {
      const current = await this.get(ref, r)
      const { value, result } = fn(current)
      if (value !== undefined) await this.put(ref, objectClock(current ?? EMPTY), value, w)
      return result
    })
    this.locks.set(ref.ks, run)
    const release = (): void => {
      if (this.locks.get(ref.ks) === run) this.locks.delete(ref.ks)
    }
    run.then(release, release)
    return run
  }
}
