// Sibling bounds for a single writer with contexts (the ctx: keys). Dotted
// version vectors promise that a write made with the context of the writer's
// previous write supersedes it, so siblings only come from writes whose
// outcome the writer never learned: a read may show at most
//
//     1 + (PUTs to the key that ended unknown before the read completed)
//
// siblings. More is the sibling explosion DVVs exist to prevent.
import { outcome, pairsOf, type Op } from '../history.js'
import { readValues } from './register.js'
import { result, sample, type CheckResult } from './types.js'

export function checkSiblings (history: readonly Op[], workload = 'register'): CheckResult {
  const unknownAt = new Map<string, number[]>()
  const reads: Array<{ key: string, doneMs: number, siblings: number }> = []
  for (const p of pairsOf(history, workload)) {
    const key = p.invoke.key as string
    if (!key.startsWith('ctx:')) continue
    if (p.invoke.f === 'put' && outcome(p) === 'unknown') unknownAt.set(key, [...(unknownAt.get(key) ?? []), p.invoke.time])
    else if (p.invoke.f !== 'put' && p.complete?.type === 'ok') reads.push({ key, doneMs: p.complete.time, siblings: readValues(p.complete.value).length })
  }
  const over: Array<{ key: string, siblings: number, bound: number, atMs: number }> = []
  let most = 0
  for (const r of reads) {
    const bound = 1 + (unknownAt.get(r.key) ?? []).filter(t => t < r.doneMs).length
    most = Math.max(most, r.siblings)
    if (r.siblings > bound) over.push({ key: r.key, siblings: r.siblings, bound, atMs: r.doneMs })
  }
  const valid = reads.length === 0 ? 'unknown' : over.length === 0
  return result('siblings', workload, valid,
    `${reads.length} reads of single-writer keys: at most ${most} siblings, ${over.length} over the bound`,
    { reads: reads.length, siblingsMax: most, over: sample(over) })
}
