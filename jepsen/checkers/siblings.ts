// Sibling bounds for a single writer with contexts (the ctx: keys). Dotted
// version vectors promise that a write made with the context of the writer's
// previous write supersedes it, so siblings only come from writes whose
// context did not cover what the key held:
//
//   - a PUT that ended unknown (the writer never learned its context), and
//   - a blind PUT: one whose context came from a GETCTX that did not see the
//     writer's last acknowledged value (a sloppy quorum read during a
//     partition, or replicas wiped, may miss an acknowledged write without
//     losing it: it comes back as a sibling).
//
// So a read may show at most 1 + (unknown and blind PUTs to the key invoked
// before the read completed) siblings. More is the sibling explosion DVVs
// exist to prevent.
import { outcome, pairsOf, type Op } from '../history.js'
import { readValues } from './register.js'
import { result, sample, type CheckResult } from './types.js'

export function checkSiblings (history: readonly Op[], workload = 'register'): CheckResult {
  const sourcesAt = new Map<string, number[]>()
  const lastOk = new Map<string, string>()
  const reads: Array<{ key: string, doneMs: number, siblings: number }> = []
  let puts = 0
  let unknown = 0
  let blind = 0
  const source = (key: string, atMs: number): void => { sourcesAt.set(key, [...(sourcesAt.get(key) ?? []), atMs]) }
  for (const p of pairsOf(history, workload)) {
    const key = p.invoke.key as string
    if (!key.startsWith('ctx:')) continue
    if (p.invoke.f === 'put') {
      puts++
      const o = outcome(p)
      const read = p.complete?.read
      if (o === 'unknown') {
        unknown++
        source(key, p.invoke.time)
      } else if (o === 'ok' && read !== undefined) {
        // The writer's last acknowledged value when this PUT began (one writer: its PUTs do not overlap).
        const last = lastOk.get(key)
        if (last !== undefined && !read.includes(last)) {
          blind++
          source(key, p.invoke.time)
        }
      }
      if (o === 'ok') lastOk.set(key, p.invoke.value as string)
    } else if (p.complete?.type === 'ok') {
      reads.push({ key, doneMs: p.complete.time, siblings: readValues(p.complete.value).length })
    }
  }
  const over: Array<{ key: string, siblings: number, bound: number, atMs: number }> = []
  let most = 0
  for (const r of reads) {
    const bound = 1 + (sourcesAt.get(r.key) ?? []).filter(t => t < r.doneMs).length
    most = Math.max(most, r.siblings)
    if (r.siblings > bound) over.push({ key: r.key, siblings: r.siblings, bound, atMs: r.doneMs })
  }
  const valid = reads.length === 0 ? 'unknown' : over.length === 0
  return result('siblings', workload, valid,
    `${reads.length} reads of single-writer keys: at most ${most} siblings, ${over.length} over the bound (${puts} PUTs, ${unknown} unknown, ${blind} blind)`,
    { reads: reads.length, siblingsMax: most, unknown, blind, over: sample(over) })
}
