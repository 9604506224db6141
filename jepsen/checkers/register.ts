// Single-writer registers (SET, or PUT with contexts), judged on the final
// reads (GETCTX through every host: every sibling):
//
//   lost        the key's last acknowledged write is not among the final
//               siblings, and no sibling comes from a later write or from one
//               whose outcome is unknown (it may have run late and superseded
//               it)                                                    → invalid
//   divergent   final reads through different hosts disagree         → invalid
//   unexpected  a read returned a value never written to the key, or
//               written by a write that surely failed                 → invalid
//
// Values are unique in the run, so a value names its write.
import { outcome, pairsOf, type Op, type Pair } from '../history.js'
import { result, sample, type CheckResult } from './types.js'

export const REGISTER_WRITES = new Set(['write', 'put'])

/** The values a register read saw: GET gives one or nil, GETCTX every sibling. */
export function readValues (value: unknown): string[] {
  if (value === null || value === undefined) return []
  if (typeof value === 'string') return [value]
  return (value as { values: string[] }).values
}

export function checkRegisters (history: readonly Op[], workload = 'register'): CheckResult {
  const writes = new Map<string, Pair[]>()
  const reads = new Map<string, Pair[]>()
  for (const p of pairsOf(history, workload)) {
    const key = p.invoke.key as string
    const into = REGISTER_WRITES.has(p.invoke.f) ? writes : reads
    into.set(key, [...(into.get(key) ?? []), p])
  }
  const lost: Array<{ key: string, lastAcked: string, final: string[] }> = []
  const divergent: Array<{ key: string, finals: string[][] }> = []
  const unexpected: Array<{ key: string, value: string }> = []
  let judged = 0
  for (const key of new Set([...writes.keys(), ...reads.keys()])) {
    const ws = writes.get(key) ?? []
    const written = new Map(ws.map(p => [p.invoke.value as string, outcome(p)]))
    const okReads = (reads.get(key) ?? []).filter(p => p.complete?.type === 'ok')
    for (const p of okReads) {
      for (const v of readValues(p.complete?.value)) {
        const o = written.get(v)
        if (o === undefined || o === 'fail') unexpected.push({ key, value: v })
      }
    }
    const finals = okReads.filter(p => p.invoke.process === 'final').map(p => readValues(p.complete?.value).slice().sort())
    if (finals.length === 0) continue
    if (new Set(finals.map(f => f.join(','))).size > 1) divergent.push({ key, finals })
    const lastOk = ws.map(outcome).lastIndexOf('ok')
    if (lastOk < 0) continue
    judged++
    const survivors = new Set([ws[lastOk], ...ws.slice(lastOk + 1), ...ws.filter(p => outcome(p) === 'unknown')].map(p => p.invoke.value as string))
    for (const f of finals) {
      if (!f.some(v => survivors.has(v))) {
        lost.push({ key, lastAcked: ws[lastOk].invoke.value as string, final: f })
        break
      }
    }
  }
  const valid = judged === 0 ? 'unknown' : lost.length === 0 && divergent.length === 0 && unexpected.length === 0
  return result('register', workload, valid,
    `${judged} keys with an acknowledged write judged: lost ${lost.length}, divergent ${divergent.length}, unexpected ${unexpected.length}`,
    { judged, lost: sample(lost), divergent: sample(divergent), unexpected: sample(unexpected) })
}
