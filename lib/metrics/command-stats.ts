// Per-command tallies of client commands: calls, failures, error replies by
// code, and a latency histogram, kept cheaply enough to run on every request
// (a Map lookup, a few additions; no allocation). Prometheus (lib/metrics/
// prometheus.ts), LATENCY HISTOGRAM and `dynakv admin top` read them.
//
//   bucket i counts latencies in (2^(i-1), 2^i] µs; bucket 0: ≤ 1 µs;
//   the last bucket (i = BUCKETS) is everything above 2^(BUCKETS-1) µs.
//
// The same power-of-two buckets as Redis's LATENCY HISTOGRAM, so cumulative
// counts at any 2^i µs are exact, and so are the Prometheus buckets taken
// from them.
import { parseNoQuorum } from '../coordinator/quorum.js'

/** Buckets up to 2^22 µs ≈ 4.2 s, then one for everything slower. */
export const BUCKETS = 23
/** Distinct error codes (first word of an error reply) kept apart; more are counted as OTHER. */
const ERROR_CODES_MAX = 64

export class CommandTally {
  calls = 0
  failed = 0
  usecTotal = 0
  /** Per bucket, not cumulative. */
  readonly buckets = new Float64Array(BUCKETS + 1)

  /** Calls at or under 2^i µs. */
  cumulative (i: number): number {
    let n = 0
    for (let b = 0; b <= i && b <= BUCKETS; b++) n += this.buckets[b]
    return n
  }
}

/** Upper bound of bucket i in µs (Infinity for the last). */
export function bucketUpperUsec (i: number): number {
  return i >= BUCKETS ? Infinity : 2 ** i
}

export function bucketOf (usec: number): number {
  if (usec <= 1) return 0
  const i = 32 - Math.clz32(Math.min(Math.ceil(usec), 2 ** 30) - 1)
  return i > BUCKETS ? BUCKETS : i
}

/**
 * The q-quantile of a histogram in µs, interpolated linearly inside its
 * bucket as Prometheus's histogram_quantile does; NaN when it is empty. A
 * quantile in the last bucket is reported as its lower bound.
 */
export function quantileUsec (buckets: ArrayLike<number>, q: number): number {
  let total = 0
  for (let i = 0; i < buckets.length; i++) total += buckets[i]
  if (total === 0) return NaN
  const rank = q * total
  let below = 0
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : 2 ** (i - 1)
      if (i >= BUCKETS) return lower
      return lower + (2 ** i - lower) * (rank - below) / n
    }
    below += n
  }
  return 2 ** (BUCKETS - 1)
}

export interface NoQuorumCount {
  op: 'read' | 'write'
  needed: number
  count: number
}

export class CommandStats {
  readonly commands = new Map<string, CommandTally>()
  /** Error replies by code (ERR, NOQUORUM, WRONGTYPE...), as Redis's errorstats. */
  readonly errors = new Map<string, number>()
  /** -NOQUORUM replies by operation and the R or W that was not met. */
  readonly noQuorum = new Map<string, NoQuorumCount>()

  /** One command answered: its name (bounded: known commands only), its error reply text or null, its latency. */
  record (name: string, error: string | null, usec: number): void {
    let t = this.commands.get(name)
    if (t === undefined) this.commands.set(name, t = new CommandTally())
    t.calls++
    t.usecTotal += usec
    t.buckets[bucketOf(usec)]++
    if (error !== null) {
      t.failed++
      this.recordError(error)
    }
  }

  private recordError (text: string): void {
    const space = text.indexOf(' ')
    let code = space < 0 ? text : text.slice(0, space)
    if (!this.errors.has(code) && this.errors.size >= ERROR_CODES_MAX) code = 'OTHER'
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1)
    if (code !== 'NOQUORUM') return
    const nq = parseNoQuorum(text)
    if (nq === null) return
    const key = `${nq.op}:${nq.needed}`
    const entry = this.noQuorum.get(key)
    if (entry === undefined) this.noQuorum.set(key, { ...nq, count: 1 })
    else entry.count++
  }

  /** Every command's buckets added up. */
  total (): { calls: number, buckets: Float64Array } {
    const buckets = new Float64Array(BUCKETS + 1)
    let calls = 0
    for (const t of this.commands.values()) {
      calls += t.calls
      for (let i = 0; i <= BUCKETS; i++) buckets[i] += t.buckets[i]
    }
    return { calls, buckets }
  }
}
