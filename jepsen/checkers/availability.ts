// Availability during partitions: the fraction of operations acknowledged
// through each host, by the side of the partition it was on. Dynamo's promise
// is that every side keeps taking writes as long as it can gather W replicas
// (sloppy quorum: fallbacks stand in for the primaries it cannot reach). So a
// host that stayed up through a partition phase and could reach at least
// max(R, W) hosts (itself included; a host the same phase killed, paused or
// wiped is not reachable) must acknowledge some of the writes tried
// through it once failure detection had time to act (ctx.detectMs after the
// phase began, or after the host last came back up); with SAMPLE_MIN writes
// tried and none acknowledged, the check is invalid. The fractions are
// reported for every host and phase.
import { outcome, pairs, type Op } from '../history.js'
import { reach } from '../partitions.js'
import { result, type CheckContext, type CheckResult } from './types.js'

/** Operations that change data, by workload: the rest are reads. */
export const WRITE_FS = new Set(['add', 'write', 'put', 'incr', 'remove', 'hset', 'hdel', 'set'])

/** Writes tried through a host before none acknowledged counts as unavailable. */
export const SAMPLE_MIN = 5

interface Side {
  phase: number
  host: string
  reach: number
  writes: number
  writesOk: number
  reads: number
  readsOk: number
}

export function checkAvailability (history: readonly Op[], ctx: CheckContext): CheckResult {
  const ps = pairs(history).filter(p => p.invoke.process !== 'final')
  const sides: Side[] = []
  const unavailable: Side[] = []
  for (const phase of ctx.phases) {
    if (phase.grudge === null) continue
    for (const host of ctx.hosts) {
      // A host back from an earlier phase's kill starts knowing nothing of its peers.
      const upMs = Math.max(phase.startMs, ...ctx.phases.filter(p => p.index < phase.index && p.down.includes(host)).map(p => p.endMs))
      const from = upMs + ctx.detectMs
      if (from >= phase.endMs) continue
      const s: Side = { phase: phase.index, host, reach: reach(phase.grudge, ctx.hosts.filter(h => h === host || !phase.down.includes(h)), host).length, writes: 0, writesOk: 0, reads: 0, readsOk: 0 }
      for (const p of ps) {
        if (p.invoke.node !== host || p.invoke.time < from || p.invoke.time >= phase.endMs) continue
        const ok = outcome(p) === 'ok'
        if (WRITE_FS.has(p.invoke.f)) {
          s.writes++
          if (ok) s.writesOk++
        } else {
          s.reads++
          if (ok) s.readsOk++
        }
      }
      sides.push(s)
      if (!phase.down.includes(host) && s.reach >= Math.max(ctx.r, ctx.w) && s.writes >= SAMPLE_MIN && s.writesOk === 0) unavailable.push(s)
    }
  }
  if (sides.length === 0) return result('availability', null, true, 'no partition to judge', { sides })
  const pct = (a: number, b: number): string => b === 0 ? '-' : `${Math.round(100 * a / b)}%`
  const byReach = new Map<number, { writes: number, ok: number }>()
  for (const s of sides) {
    const r = byReach.get(s.reach) ?? { writes: 0, ok: 0 }
    r.writes += s.writes
    r.ok += s.writesOk
    byReach.set(s.reach, r)
  }
  const line = [...byReach].sort(([a], [b]) => a - b).map(([r, v]) => `hosts seeing ${r}: ${pct(v.ok, v.writes)} of ${v.writes} writes`).join(', ')
  return result('availability', null, unavailable.length === 0,
    `during partitions (after ${ctx.detectMs} ms of detection): ${line}` + (unavailable.length > 0 ? `; ${unavailable.length} host-phases that could reach W hosts acknowledged nothing` : ''),
    { sides, unavailable })
}
