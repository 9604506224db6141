// Expiry: a value written with PX ttl expires by its coordinator's clock at most
// ttl after the write was acknowledged; hosts' clocks differ by at most the
// skew. A node holds a value expired once its clock reads the expiry
// (lib/versioning/read.ts: expireAt ≤ now), so a read that begins at or after
//
//     deadline = acknowledgement + ttl + skew
//
// must not return the value (keys are written once, so the value names the
// write). The tie is judged: a read returning the value ran at a real time r
// with r + its host's offset < expiry ≤ ack + the coordinator's offset + ttl,
// so r < deadline, strictly (the skew bounds the difference of the offsets,
// and the history's times, rounded to 0.1 ms, sit far inside it). Reads
// before the deadline may or may not see it (Dynamo: R < N), and a write of
// unknown outcome counts from the end of the run (never judged).
import { outcome, pairsOf, type Op } from '../history.js'
import { result, sample, type CheckResult } from './types.js'

export function checkExpiry (history: readonly Op[], workload = 'expiry', skewMs = 0): CheckResult {
  const ps = pairsOf(history, workload)
  const deadline = new Map<string, { value: string, atMs: number }>()
  for (const p of ps) {
    if (p.invoke.f !== 'set' || outcome(p) !== 'ok') continue
    const { value, ttlMs } = p.invoke.value as { value: string, ttlMs: number }
    deadline.set(p.invoke.key as string, { value, atMs: (p.complete?.time ?? 0) + ttlMs + skewMs })
  }
  const expiredReads: Array<{ key: string, value: string, lateMs: number }> = []
  let judged = 0
  for (const p of ps) {
    if (p.invoke.f !== 'read' || p.complete?.type !== 'ok') continue
    const d = deadline.get(p.invoke.key as string)
    if (d === undefined || p.invoke.time < d.atMs) continue
    judged++
    if (p.complete.value === d.value) expiredReads.push({ key: p.invoke.key as string, value: d.value, lateMs: Math.round(p.invoke.time - d.atMs) })
  }
  const valid = judged === 0 ? 'unknown' : expiredReads.length === 0
  return result('expiry', workload, valid,
    `${deadline.size} acknowledged writes with a TTL, ${judged} reads at or after a deadline (+${skewMs} ms skew): ${expiredReads.length} saw an expired value`,
    { writes: deadline.size, judged, skewMs, expiredReads: sample(expiredReads) })
}
