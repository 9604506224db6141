// The counters workload and checker for the simulator (docs/types.md
// "Counters"): INCR/DECR/INCRBY/DECRBY through random nodes.
//
// Every increment of a key gets its own digit: the i-th one issued on a key
// adds ±5^i (INCR/DECR for i = 0). Written in balanced base 5 (digits −2…2),
// a value says exactly how often each increment was counted, so the check is
// exact, not a range:
//   - after healing, GET through every node gives the same value, in which
//     each acknowledged increment counts exactly once, each unknown one
//     (an error that may have been stored) once or not at all, and each
//     failed or never-issued one not at all — except that a DEL resets the
//     increments it saw: one that a DEL could have observed (the DEL had not
//     replied before the increment was invoked, in the log's order of events:
//     virtual milliseconds tie, and deleted something or failed with an
//     unknown outcome) may count once or not at all;
//   - every value seen on the way (INCR replies, GETs) counts every increment
//     at most once, none invoked after that reply, and an INCR's own reply
//     counts that INCR;
//   - every primary holds the key's record with the same bytes.
// "Before" and "after" are the log's order of events (Op.invokedSeq and
// doneSeq), never virtual milliseconds: in the simulator many invocations and
// replies share a millisecond, and an increment invoked in the millisecond a
// GET replied, after the reply, must not be counted by that GET. The rule is
// checked on hand-made histories of such ties (counters.spec.ts); `record*`
// and `check` take such a history without a cluster.
import type { Random } from '../../lib/runtime/random.js'
import type { SimCluster } from './harness.js'
import { OpLog, balancedDigits, disagreements, latestEffectSeq, pick, replicaDifferences, type Op } from './typed.js'

export const DIGITS = 27 // 2 · Σ 5^i (i < 27) stays inside int64

interface Increment {
  slot: number
  sign: 1 | -1
  /** Set once its reply came. */
  op: Op | null
}

/** A value seen during the run (checked once every outcome is known). */
interface Seen {
  key: string
  value: bigint
  /** The operation that saw it (a GET, or the increment itself). */
  op: Op
  what: string
  /** The increment whose reply this is. */
  self?: Increment
}

/** The command of key's increment in slot i: its digit is ±5^i. */
export function incrementArgs (key: string, inc: Pick<Increment, 'slot' | 'sign'>): string[] {
  return inc.slot === 0 ? [inc.sign > 0 ? 'INCR' : 'DECR', key] : [inc.sign > 0 ? 'INCRBY' : 'DECRBY', key, (5n ** BigInt(inc.slot)).toString()]
}

function intOf (text: string | null): bigint | null {
  if (text === null) return 0n
  return /^-?\d+$/.test(text) ? BigInt(text) : null
}

export class CounterHistory {
  readonly log = new OpLog()
  readonly problems: string[] = []
  /** Acknowledged increments the final values had to count exactly once. */
  required = 0
  private readonly incs = new Map<string, Increment[]>()
  private readonly dels = new Map<string, Op[]>()
  private readonly seen: Seen[] = []

  constructor (readonly keys: string[]) {
    for (const k of keys) {
      this.incs.set(k, [])
      this.dels.set(k, [])
    }
  }

  /** Keys with a digit left. */
  free (): string[] {
    return this.keys.filter(k => (this.incs.get(k) as Increment[]).length < DIGITS)
  }

  /** The next increment of key (sign: +1 or −1) through node. */
  async increment (c: SimCluster, node: string, key: string, sign: 1 | -1): Promise<Op> {
    const inc = this.nextIncrement(key, sign)
    return this.recordIncrement(inc, await this.log.run(c, node, ...incrementArgs(key, inc)))
  }

  /** Takes key's next digit for an increment about to be invoked. */
  nextIncrement (key: string, sign: 1 | -1): Increment {
    const list = this.incs.get(key) as Increment[]
    const inc: Increment = { slot: list.length, sign, op: null }
    if (inc.slot >= DIGITS) throw new Error(`${key} has no digit left`)
    list.push(inc)
    return inc
  }

  /** An increment's completed operation (from the simulation, or a hand-made history). */
  recordIncrement (inc: Increment, op: Op): Op {
    inc.op = op
    if (op.outcome === 'ok') {
      if (op.reply.type !== 'int') this.problems.push(`${op.args.join(' ')}: reply ${JSON.stringify(op.reply)}`)
      else this.seen.push({ key: op.args[1], value: BigInt(op.reply.value), op, what: `${op.args.join(' ')} via ${op.node} replied`, self: inc })
    }
    return op
  }

  /** A completed DEL of key. */
  recordDel (op: Op): void {
    (this.dels.get(op.args[1]) as Op[]).push(op)
  }

  /** A completed GET. */
  recordRead (op: Op): void {
    if (op.outcome !== 'ok') return
    const key = op.args[1]
    const v = intOf(op.reply.type === 'bulk' ? op.reply.value.toString() : null)
    if (v === null) this.problems.push(`GET ${key} via ${op.node}: ${JSON.stringify(op.reply)}`)
    else this.seen.push({ key, value: v, op, what: `GET ${key} via ${op.node} at ${op.doneMs}` })
  }

  /** A random increment of a random key through a random running node; on the last key, sometimes a DEL instead. */
  async randomIncrement (c: SimCluster, rnd: Random): Promise<void> {
    const free = this.free()
    if (free.length === 0) return
    const key = pick(rnd, free)
    if (key === this.keys[this.keys.length - 1] && rnd.next() < 0.12) this.recordDel(await this.log.run(c, pick(rnd, c.running()), 'DEL', key))
    else await this.increment(c, pick(rnd, c.running()), key, rnd.next() < 0.7 ? 1 : -1)
  }

  /** A GET of a random key through a random running node (checked at the end). */
  async read (c: SimCluster, rnd: Random): Promise<void> {
    const key = pick(rnd, this.keys)
    this.recordRead(await this.log.run(c, pick(rnd, c.running()), 'GET', key))
  }

  /** A value seen by its reply: each increment at most once, none failed or invoked after the reply; self (its own reply) exactly once. */
  private checkSeen (s: Seen): string[] {
    const incs = this.incs.get(s.key) as Increment[]
    const d = balancedDigits(s.value, DIGITS)
    if (d === null) return [`${s.what}: ${s.value} is not a sum of the key's increments`]
    const problems: string[] = []
    for (let i = 0; i < DIGITS; i++) {
      const inc = incs[i]
      // An increment still unanswered at the end (never, in a finished run) is not ordered: it may count.
      const later = inc?.op != null && inc.op.invokedSeq > s.op.doneSeq
      let allowed = inc === undefined || later || inc.op?.outcome === 'failed' ? [0] : [0, inc.sign]
      if (s.self !== undefined && inc === s.self) allowed = [inc.sign]
      if (!allowed.includes(d[i])) problems.push(`${s.what}: ${s.value} counts increment #${i} (${inc?.op?.args.join(' ') ?? 'never issued'}, ${inc?.op?.outcome ?? '-'}) ${d[i]} × instead of ${allowed.join(' or ')}`)
    }
    return problems
  }

  /** The final value: acknowledged increments exactly once, unknown ones at most once, the rest not at all. */
  private checkValue (key: string, value: bigint): string[] {
    const incs = this.incs.get(key) as Increment[]
    const d = balancedDigits(value, DIGITS)
    if (d === null) return [`${key}: final ${value} is not a sum of its increments`]
    const problems: string[] = []
    for (let i = 0; i < DIGITS; i++) {
      const inc = incs[i]
      const o = inc?.op?.outcome
      const deleted = inc?.op != null && (this.dels.get(key) as Op[]).some(d => latestEffectSeq(d) > (inc.op as Op).invokedSeq && (d.outcome === 'unknown' || (d.reply.type === 'int' && Number(d.reply.value) === 1)))
      if (o === 'ok' && !deleted) this.required++
      const allowed = o === 'ok' && !deleted ? [inc.sign] : o === 'ok' || o === 'unknown' ? [0, inc.sign] : [0]
      if (!allowed.includes(d[i])) problems.push(`${key}: increment #${i} (${inc?.op?.args.join(' ') ?? 'never issued'} via ${inc?.op?.node ?? '-'}, ${o ?? '-'}) counted ${d[i] * (inc?.sign ?? 1)} times in ${value}`)
    }
    return problems
  }

  /** After healing: the nodes agree, the value counts what it must, the replicas hold the same bytes. */
  async checkFinal (c: SimCluster): Promise<string[]> {
    const problems: string[] = []
    const finals = new Map<string, bigint>()
    for (const key of this.keys) {
      problems.push(...await disagreements(c, 'GET', key))
      const final = await c.exec(c.running()[0], 'GET', key)
      const v = intOf(final.type === 'bulk' ? final.value.toString() : null)
      if (v === null) problems.push(`${key}: final GET ${JSON.stringify(final)}`)
      else finals.set(key, v)
      problems.push(...await replicaDifferences(c, key))
    }
    return [...this.check(finals), ...problems]
  }

  /** The history's check, given each key's final value (keys without one are not checked): every value seen, then the finals. */
  check (finals: ReadonlyMap<string, bigint>): string[] {
    this.required = 0
    const problems: string[] = []
    for (const s of this.seen) problems.push(...this.checkSeen(s))
    for (const [key, v] of finals) problems.push(...this.checkValue(key, v))
    return problems
  }

  /** Acknowledged increments (not GETs or DELs). */
  acknowledged (): number {
    return this.log.ops.filter(o => !['GET', 'DEL'].includes(o.args[0]) && o.outcome === 'ok').length
  }
}
