// Jepsen's set-full checker for a grow-only set per key: every element whose add
// was acknowledged must be in the final reads (taken through every host after
// the final heal and convergence).
//
//   lost        acknowledged, absent from every final read          → invalid
//   divergent   acknowledged, absent from some final reads only     → invalid
//   unexpected  read, but its add was never invoked or surely failed → invalid
//   stale       acknowledged, missing from a read that began after the
//               acknowledgement, present later (Dynamo allows it: R < N,
//               sloppy quorums) — counted, with the longest such delay
//   never-read  acknowledged, and no read (before the final ones) began after it
//   recovered   add ended unknown, element present at the end
import { outcome, pairsOf, type Op, type Pair } from '../history.js'
import { result, sample, type CheckResult } from './types.js'

interface Read {
  invokeMs: number
  elements: Set<number>
  final: boolean
}

interface KeyReport {
  attempted: number
  acknowledged: number
  finalReads: number
  lost: number[]
  divergent: number[]
  unexpected: number[]
  stale: number
  staleMsMax: number
  neverRead: number
  recovered: number
}

/** Elements of a set-workload read. */
export function readElements (value: unknown): number[] {
  return (value as { elements: number[] }).elements
}

export function checkSetFull (history: readonly Op[], workload = 'set'): CheckResult {
  const ps = pairsOf(history, workload)
  const adds = new Map<string, Pair[]>()
  const reads = new Map<string, Read[]>()
  const attempts = new Map<number, Pair>()
  for (const p of ps) {
    const key = p.invoke.key as string
    if (p.invoke.f === 'add') {
      adds.set(key, [...(adds.get(key) ?? []), p])
      attempts.set(p.invoke.value as number, p)
    } else if (p.invoke.f === 'read' && p.complete?.type === 'ok') {
      const list = reads.get(key) ?? []
      list.push({ invokeMs: p.invoke.time, elements: new Set(readElements(p.complete.value)), final: p.invoke.process === 'final' })
      reads.set(key, list)
    }
  }
  const reports = new Map<string, KeyReport>()
  const lost: Array<{ element: number, key: string, ackMs: number, node?: string }> = []
  let acked = 0
  let missingFinals = 0
  for (const key of new Set([...adds.keys(), ...reads.keys()])) {
    const keyReads = reads.get(key) ?? []
    const finals = keyReads.filter(r => r.final)
    const during = keyReads.filter(r => !r.final)
    const rep: KeyReport = { attempted: 0, acknowledged: 0, finalReads: finals.length, lost: [], divergent: [], unexpected: [], stale: 0, staleMsMax: 0, neverRead: 0, recovered: 0 }
    for (const p of adds.get(key) ?? []) {
      const e = p.invoke.value as number
      rep.attempted++
      const o = outcome(p)
      const inFinals = finals.filter(r => r.elements.has(e)).length
      if (o !== 'ok') {
        if (o === 'unknown' && inFinals > 0) rep.recovered++
        continue
      }
      rep.acknowledged++
      const known = Math.min(p.complete?.time ?? Infinity, ...during.filter(r => r.elements.has(e)).map(r => r.invokeMs))
      if (finals.length > 0 && inFinals === 0) {
        rep.lost.push(e)
        lost.push({ element: e, key, ackMs: known, node: p.invoke.node })
      } else if (inFinals < finals.length) rep.divergent.push(e)
      const after = during.filter(r => r.invokeMs > known)
      if (after.length === 0) rep.neverRead++
      const missing = after.filter(r => !r.elements.has(e))
      if (missing.length > 0) {
        rep.stale++
        rep.staleMsMax = Math.max(rep.staleMsMax, Math.max(...missing.map(r => r.invokeMs)) - known)
      }
    }
    const seen = new Set<number>()
    for (const r of keyReads) for (const e of r.elements) seen.add(e)
    for (const e of seen) {
      const a = attempts.get(e)
      if (a === undefined || a.invoke.key !== key || outcome(a) === 'fail') rep.unexpected.push(e)
    }
    if (rep.acknowledged > 0 && finals.length === 0) missingFinals++
    acked += rep.acknowledged
    reports.set(key, rep)
  }
  const total = (f: (r: KeyReport) => number): number => [...reports.values()].reduce((n, r) => n + f(r), 0)
  const lostN = total(r => r.lost.length)
  const divergentN = total(r => r.divergent.length)
  const unexpectedN = total(r => r.unexpected.length)
  const valid = acked === 0 ? 'unknown' : lostN === 0 && divergentN === 0 && unexpectedN === 0 && missingFinals === 0
  const summary = `${acked} acknowledged of ${total(r => r.attempted)} adds on ${reports.size} keys: ` +
    `lost ${lostN}, divergent ${divergentN}, unexpected ${unexpectedN}, stale ${total(r => r.stale)}, never-read ${total(r => r.neverRead)}, recovered ${total(r => r.recovered)}` +
    (missingFinals > 0 ? `, ${missingFinals} keys without a final read` : '')
  const perKey = Object.fromEntries([...reports].map(([key, r]) => [key, {
    ...r,
    staleMsMax: Math.round(r.staleMsMax),
    lost: r.lost.length,
    divergent: r.divergent.length,
    unexpected: r.unexpected.length,
    samples: { lost: sample(r.lost), divergent: sample(r.divergent), unexpected: sample(r.unexpected) }
  }]))
  return result('set-full', workload, valid, summary, { lost: lostN, divergent: divergentN, unexpected: unexpectedN, perKey, lostSample: sample(lost, 50) })
}
