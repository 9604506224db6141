// The expiry workload and checker for the simulator (docs/types.md "Expiry",
// "Clock skew"): SET … PX/EX, PEXPIRE and EXPIRE through random nodes whose
// clocks are off by up to ±D/2, and GET, EXISTS, PTTL, PEXPIRETIME reads.
//
// Every SET writes a value never written before, and every version a node
// stores is watched as it is stored (the engine's updates, spec only), so the
// expiries each value ever carried are known exactly, with when each first
// existed. A node judges expiry by its own clock (virtual time + its offset),
// and a read runs on the node it was sent to or on a primary it forwards to:
//
//   a read invoked at T may report the key live with value v (GET, EXISTS,
//   PTTL, PEXPIRETIME) only if a version of v stored before its reply expires
//   after T + min(offset of those nodes): no node whose clock already said
//   "expired" answers with it — so, in real time, nothing is read later than
//   its expiry + D/2 (and its expiry was computed on its coordinator's clock);
//
//   The tie: a node holds a version expired once its clock reads expireAt
//   (lib/versioning/read.ts: expireAt ≤ now), so a read whose earliest clock
//   reading is exactly the expiry must not see it: live means expireAt >
//   T + offset, strictly. The skew is each node's offset, known to the
//   simulator (skewedClock); ±D/2 offsets give the D of docs/types.md "Clock
//   skew". Hand-made histories in expiry.spec.ts check the rule at the tie,
//   within the skew and past it (`record*` take a history without a cluster);
//
//   every expiry stored is one some write could have computed: a SET of that
//   value, or an EXPIRE/PEXPIRE of its key still running once it was stored, at
//   coordinator time in [invoked, replied or first stored] + offset, plus its
//   TTL; and every acknowledged SET/PEXPIRE/EXPIRE that reports a change left
//   such a version; no version of these keys ever lacks an expiry.
import type { Random } from '../../lib/runtime/random.js'
import type { DynakvNode } from '../../lib/node/node.js'
import { decodeObject } from '../../lib/versioning/index.js'
import type { SimCluster } from './harness.js'
import { replyText } from './checkers.js'
import { OpLog, latestEffectMs, pick, primariesAnywhere, type Op } from './typed.js'

interface Stored {
  expireAt: number
  /** When a node first stored a version of the value with this expiry (virtual ms). */
  firstMs: number
}

/** A write that may set an expiry: its TTL (ms) and what it targets. */
interface ExpiryWrite {
  op: Op
  key: string
  /** The value a SET wrote; undefined for EXPIRE/PEXPIRE. */
  value?: string
  ttlMs: number
}

export class ExpiryHistory {
  readonly log = new OpLog()
  readonly problems: string[] = []
  /** value → the expiries its stored versions carried. */
  readonly stored = new Map<string, Stored[]>()
  private readonly writes: ExpiryWrite[] = []
  private readonly executors = new Map<Op, Set<string>>()
  /** GETs answered with a value within D (the largest skew) of its expiry: the window skew decides. */
  nearExpiry = 0
  /** Set once the cluster exists (nodes store nothing of these keys before). */
  cluster: SimCluster | null = null
  private uid = 0

  /** offsetOf: the clock offsets the checker assumes (default: the nodes' true ones). */
  constructor (readonly keys: string[], private readonly offsetOf?: (name: string) => number) {}

  /** Watches every version node stores (data and hints): call from the harness's onBoot. */
  watch (node: DynakvNode): void {
    const engine = node.local.engine
    const update = engine.update.bind(engine)
    engine.update = (space, k, fn) => update(space, k, (cur) => {
      const change = fn(cur)
      if (change.next != null && space !== 'meta') this.note(change.next.bytes)
      return change
    })
  }

  private note (bytes: Buffer): void {
    const now = this.cluster?.clock.now() ?? 0
    for (const s of decodeObject(bytes).siblings) {
      if (s.value === null) continue
      const v = s.value.toString()
      if (!this.keys.some(k => v.startsWith(`${k}-`))) continue
      this.recordStored(v, s.expireAt ?? 0, now)
    }
  }

  /** A node stored a version of value v with this expiry (0: none) at virtual time nowMs. */
  recordStored (v: string, expireAt: number, nowMs: number): void {
    if (expireAt === 0) this.problems.push(`${nowMs}: a version of ${v} without an expiry was stored`)
    const list = this.stored.get(v) ?? []
    if (!list.some(e => e.expireAt === expireAt)) list.push({ expireAt, firstMs: nowMs })
    this.stored.set(v, list)
  }

  /** A completed write that may set an expiry: SET (value given) or EXPIRE/PEXPIRE, with its TTL. */
  recordWrite (op: Op, ttlMs: number): void {
    this.writes.push({ op, key: op.args[1], value: op.args[0] === 'SET' ? op.args[2] : undefined, ttlMs })
  }

  /** A command through node, with the nodes that may run it: node, and the key's primaries in any node's ring then. */
  async run (c: SimCluster, node: string, ...args: string[]): Promise<Op> {
    const before = primariesAnywhere(c, args[1])
    const op = await this.log.run(c, node, ...args)
    this.executors.set(op, new Set([node, ...before, ...primariesAnywhere(c, args[1])]))
    return op
  }

  /** The offsets of the nodes that may have run op. */
  private offsets (op: Op): { min: number, max: number } {
    const offs = [...this.executors.get(op) ?? [op.node]].map(n => this.offsetOf?.(n) ?? (this.cluster as SimCluster).offsetOf(n))
    return { min: Math.min(...offs), max: Math.max(...offs) }
  }

  /** SET key <a new value> PX ttlMs (EX 1 for 1000) through node. */
  async set (c: SimCluster, node: string, key: string, ttlMs: number): Promise<Op> {
    const value = `${key}-v${this.uid++}`
    const op = await this.run(c, node, 'SET', key, value, ...(ttlMs === 1000 ? ['EX', '1'] : ['PX', String(ttlMs)]))
    this.recordWrite(op, ttlMs)
    return op
  }

  /** One random command through a random running node. */
  async step (c: SimCluster, rnd: Random): Promise<void> {
    const key = pick(rnd, this.keys)
    const node = pick(rnd, c.running())
    const x = rnd.next()
    if (x < 0.35) await this.set(c, node, key, rnd.next() < 0.15 ? 1000 : 100 + rnd.int(1400))
    else if (x < 0.5) {
      const seconds = rnd.next() < 0.3
      const ttlMs = seconds ? 1000 * (1 + rnd.int(2)) : 100 + rnd.int(1400)
      this.recordWrite(await this.run(c, node, seconds ? 'EXPIRE' : 'PEXPIRE', key, String(seconds ? ttlMs / 1000 : ttlMs)), ttlMs)
    } else {
      await this.run(c, node, pick(rnd, ['GET', 'GET', 'GET', 'EXISTS', 'PTTL', 'PEXPIRETIME']), key)
    }
  }

  /** Versions of key's values stored by ms, as [value, expiry]. */
  private versions (key: string, byMs: number): Array<[string, number]> {
    const out: Array<[string, number]> = []
    for (const [v, list] of this.stored) {
      if (!v.startsWith(`${key}-`)) continue
      for (const e of list) if (e.firstMs <= byMs) out.push([v, e.expireAt])
    }
    return out
  }

  /** Every read reported only what a node not yet past its expiry could have seen. */
  private checkRead (op: Op): string[] {
    const [cmd, key] = op.args
    if (op.outcome !== 'ok') return []
    const what = `${op.args.join(' ')} via ${op.node} [${op.invokedMs}, ${op.doneMs}]`
    const off = this.offsets(op)
    // What "live at the read" requires of an expiry: after the earliest clock reading that read could have made,
    // strictly (a node reading its clock at the expiry holds the version expired).
    const earliest = op.invokedMs + off.min
    const live = (e: number): boolean => e === 0 || e > earliest
    const versions = this.versions(key, op.doneMs)
    const r = op.reply
    if (cmd === 'GET') {
      if (r.type === 'null') return []
      const v = replyText(r)
      const mine = versions.filter(([value]) => value === v)
      if (mine.length === 0) return [`${what}: returned ${v}, never stored by then`]
      if (!mine.some(([, e]) => live(e))) return [`${what}: returned ${v}, which expired at ${mine.map(m => m[1]).join('/')} ≤ ${earliest} (the earliest clock reading of a node that could answer)`]
      if (Math.max(...mine.map(m => m[1])) - op.invokedMs <= off.max - off.min) this.nearExpiry++
      return []
    }
    const n = r.type === 'int' ? Number(r.value) : NaN
    if (cmd === 'EXISTS') {
      if (n === 1 && !versions.some(([, e]) => live(e))) return [`${what}: 1, but every version stored by then expired by ${earliest}`]
      return []
    }
    if (n === -2) return []
    if (n === -1) return [`${what}: -1 (no expiry), but every write of the key sets one`]
    if (cmd === 'PEXPIRETIME') {
      if (!versions.some(([, e]) => e === n)) return [`${what}: ${n}, an expiry no version carried by then`]
      if (!live(n)) return [`${what}: ${n}, expired by ${earliest}`]
      return []
    }
    // PTTL n: the expiry minus the node's clock after its read, which is within [invoked, replied] + its offset.
    const lo = earliest + n
    const hi = op.doneMs + off.max + n
    if (!versions.some(([, e]) => e >= lo && e <= hi && live(e))) return [`${what}: ${n}, but no live version carried an expiry in [${lo}, ${hi}]`]
    return []
  }

  /** Every stored expiry explained by a write; every acknowledged write's expiry stored. */
  private checkWrites (): string[] {
    const problems: string[] = []
    const range = (w: ExpiryWrite, byMs: number): [number, number] => {
      const off = this.offsets(w.op)
      return [w.op.invokedMs + off.min + w.ttlMs, Math.min(w.op.doneMs, byMs) + off.max + w.ttlMs]
    }
    for (const [v, list] of this.stored) {
      const key = v.slice(0, v.lastIndexOf('-'))
      const set = this.writes.find(w => w.value === v)
      if (set === undefined) {
        problems.push(`${v} was stored, but never SET`)
        continue
      }
      // An EXPIRE rewrites the value it read: one still running when the value was first stored may have read it.
      const born = Math.min(...list.map(e => e.firstMs))
      const candidates = this.writes.filter(w => w.op.outcome !== 'failed' && w.key === key && (w === set || (w.value === undefined && latestEffectMs(w.op) >= born)))
      for (const { expireAt, firstMs } of list) {
        const explained = candidates.some(w => w.op.invokedMs <= firstMs && expireAt >= range(w, firstMs)[0] && expireAt <= range(w, firstMs)[1])
        if (!explained) {
          problems.push(`${v} was stored at ${firstMs} with expiry ${expireAt}, which no write of it could have computed; candidates: ${candidates.map(w => `${w.op.args.join(' ')} via ${w.op.node} [${w.op.invokedMs}, ${w.op.doneMs}] ${w.op.outcome} → [${range(w, firstMs).join(', ')}]`).join('; ')}`)
        }
      }
    }
    for (const w of this.writes) {
      if (w.op.outcome !== 'ok' || (w.value === undefined && !(w.op.reply.type === 'int' && Number(w.op.reply.value) === 1))) continue
      const [lo, hi] = range(w, Infinity)
      const found = [...this.stored].some(([v, list]) => (w.value === undefined ? v.startsWith(`${w.key}-`) : v === w.value) &&
        list.some(e => e.expireAt >= lo && e.expireAt <= hi && e.firstMs <= w.op.doneMs))
      if (!found) problems.push(`${w.op.args.join(' ')} via ${w.op.node} was acknowledged, but no version with an expiry in [${lo}, ${hi}] was stored`)
    }
    return problems
  }

  check (): string[] {
    return [...this.problems, ...this.log.ops.flatMap(op => ['GET', 'EXISTS', 'PTTL', 'PEXPIRETIME'].includes(op.args[0]) ? this.checkRead(op) : []), ...this.checkWrites()]
  }

  /** The latest expiry any version carried. */
  lastExpiry (): number {
    let last = 0
    for (const list of this.stored.values()) for (const e of list) last = Math.max(last, e.expireAt)
    return last
  }

  /** Reads counted as checked (ok replies). */
  reads (): number {
    return this.log.ops.filter(o => ['GET', 'EXISTS', 'PTTL', 'PEXPIRETIME'].includes(o.args[0]) && o.outcome === 'ok').length
  }
}
