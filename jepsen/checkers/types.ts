// What every checker returns, and what it may know besides the history.
import type { Grudge } from '../partitions.js'

/**
 * true: checked and sound. false: a violation (details say which operations).
 * 'unknown': nothing to judge (no acknowledged write, no final read): a run
 * must not pass on it.
 */
export type Validity = true | false | 'unknown'

export interface CheckResult {
  checker: string
  workload: string | null
  valid: Validity
  /** One line for the console. */
  summary: string
  details: Record<string, unknown>
}

/** A nemesis phase as it ran (times in the history's clock). */
export interface PhaseRecord {
  index: number
  startMs: number
  endMs: number
  /** The partition in force, if any (partition-wipe's included). */
  grudge: Grudge | null
  /** Hosts killed, paused or wiped at some time in the phase. */
  down: string[]
  /** The fault kinds (schedule.ts), the first one names the phase. */
  kinds: string[]
  description: string
  /** partition-wipe: the key, its primary cut off and wiped, the host cut off with it, when the wipe happened. */
  partitionWipe?: { key: string, primary: string, partner: string, wipedMs: number | null }
}

export interface CheckContext {
  hosts: string[]
  n: number
  r: number
  w: number
  phases: PhaseRecord[]
  /** From the final heal to replicas agreeing, or null when they did not within the limit. */
  convergenceMs: number | null
  /** How long hosts need to see a peer is gone (failure detection): availability is judged after it. */
  detectMs: number
  /** Documented expiry skew plus the largest clock offset the nemesis set. */
  expirySkewMs: number
}

export function result (checker: string, workload: string | null, valid: Validity, summary: string, details: Record<string, unknown> = {}): CheckResult {
  return { checker, workload, valid, summary, details }
}

/** A few of many, for details that stay readable. */
export function sample<T> (items: readonly T[], n = 20): T[] {
  return items.slice(0, n)
}

/** A run's verdict: false if any checker says false, else unknown if any says unknown. */
export function verdict (results: readonly CheckResult[]): Validity {
  if (results.some(r => r.valid === false)) return false
  if (results.some(r => r.valid === 'unknown')) return 'unknown'
  return true
}
