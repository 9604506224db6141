// Counters: the final value (read through every host) must lie within what the
// increments' outcomes allow:
//
//   lower = Σ acknowledged deltas + Σ negative deltas of unknown outcome
//   upper = Σ acknowledged deltas + Σ positive deltas of unknown outcome
//
// Below lower: acknowledged increments were lost. Above upper: increments
// counted that never happened (or twice). Reads during the run may lag (R < N):
// only a read above every increment invoked so far (phantom) is a violation.
import { outcome, pairsOf, type Op, type Pair } from '../history.js'
import { result, sample, type CheckResult } from './types.js'

interface Bounds {
  lower: number
  upper: number
  acknowledged: number
  unknown: number
}

/** The sum of the positive deltas invoked before a time: no read can exceed it. */
function risesBefore (ps: readonly Pair[]): (timeMs: number) => number {
  const times: number[] = []
  const sums: number[] = []
  let sum = 0
  for (const p of ps) {
    if (p.invoke.f !== 'incr' || (p.invoke.value as number) <= 0) continue
    sum += p.invoke.value as number
    times.push(p.invoke.time)
    sums.push(sum)
  }
  return (t) => {
    let lo = 0
    let hi = times.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (times[mid] < t) lo = mid + 1
      else hi = mid
    }
    return lo === 0 ? 0 : sums[lo - 1]
  }
}

export function checkCounter (history: readonly Op[], workload = 'counter'): CheckResult {
  const byKey = new Map<string, Pair[]>()
  for (const p of pairsOf(history, workload)) byKey.set(p.invoke.key as string, [...(byKey.get(p.invoke.key as string) ?? []), p])
  const perKey: Record<string, Bounds & { finals: number[], lostAtLeast: number, phantoms: number }> = {}
  const violations: string[] = []
  let acked = 0
  let judged = 0
  for (const [key, ps] of byKey) {
    const b: Bounds = { lower: 0, upper: 0, acknowledged: 0, unknown: 0 }
    const upTo = risesBefore(ps)
    let phantoms = 0
    for (const p of ps) {
      const d = p.invoke.value as number
      if (p.invoke.f === 'incr') {
        const o = outcome(p)
        if (o === 'ok') {
          b.lower += d
          b.upper += d
          b.acknowledged++
        } else if (o === 'unknown') {
          b.unknown++
          if (d > 0) b.upper += d
          else b.lower += d
        }
      } else if (p.invoke.process !== 'final' && p.complete?.type === 'ok' && (p.complete.value as number) > upTo(p.complete.time)) phantoms++
    }
    const finals = ps.filter(p => p.invoke.process === 'final' && p.complete?.type === 'ok').map(p => p.complete?.value as number)
    const below = finals.filter(v => v < b.lower)
    const above = finals.filter(v => v > b.upper)
    if (b.acknowledged > 0 && finals.length > 0) judged++
    acked += b.acknowledged
    if (b.acknowledged > 0 && finals.length === 0) violations.push(`${key}: no final read`)
    if (below.length > 0) violations.push(`${key}: final ${Math.min(...below)} < ${b.lower}, acknowledged increments lost`)
    if (above.length > 0) violations.push(`${key}: final ${Math.max(...above)} > ${b.upper}, more than every increment that may have run`)
    if (phantoms > 0) violations.push(`${key}: ${phantoms} reads above every increment invoked before them`)
    perKey[key] = { ...b, finals, lostAtLeast: below.length === 0 ? 0 : b.lower - Math.min(...below), phantoms }
  }
  const valid = judged === 0 ? 'unknown' : violations.length === 0
  const summary = `${acked} acknowledged increments on ${byKey.size} keys: ` + (violations.length === 0
    ? 'every final value within its bounds'
    : violations.join('; '))
  return result('counter', workload, valid, summary, { perKey, violations: sample(violations) })
}
