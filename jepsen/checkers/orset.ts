// Observed-remove (add-wins) sets, and hashes' fields the same way: each
// element is added at most once and removed at most once, later, by the same
// writer. A remove takes away only the adds its coordinator saw. So, at the end
// (final reads through every host):
//
//   add ok, no remove tried             → present, else lost
//   add ok, remove ok replying 0        → present (the remove saw nothing), else lost
//   add ok or unknown, remove ok
//     replying 1                        → absent (it saw the one add), else resurrected
//   add or remove unknown               → either
//   present but never added, or its
//     add surely failed                 → unexpected
//   final reads disagree                → divergent
//
// lost, resurrected, unexpected and divergent make the run invalid.
import { outcome, pairsOf, type Op, type Pair } from '../history.js'
import { result, sample, type CheckResult } from './types.js'

interface Element {
  key: string
  add: Pair | null
  remove: Pair | null
}

/** What a final read says of one element: present or not. */
export type Presence = (finalValue: unknown, element: string) => boolean

/** The elements' lives, by (key, element). */
function lives (ps: readonly Pair[], addF: string, removeF: string, element: (p: Pair) => string): Map<string, Element> {
  const out = new Map<string, Element>()
  for (const p of ps) {
    if (p.invoke.f !== addF && p.invoke.f !== removeF) continue
    const id = `${p.invoke.key as string}\u0000${element(p)}`
    const e = out.get(id) ?? { key: p.invoke.key as string, add: null, remove: null }
    if (p.invoke.f === addF) e.add = p
    else e.remove = p
    out.set(id, e)
  }
  return out
}

export interface ObservedRemoveSpec {
  checker: string
  /** What the elements are called in the summary. */
  noun: string
  addF: string
  removeF: string
  /** The element an add or remove is about (its value, or part of it). */
  element: (p: Pair) => string
  /** Whether a remove that ended ok saw the element (a reply of 1). */
  removed: (p: Pair) => boolean
  present: Presence
  /** Every element a final read shows. */
  members: (finalValue: unknown) => string[]
}

export function checkObservedRemoveWith (history: readonly Op[], workload: string, spec: ObservedRemoveSpec): CheckResult {
  const ps = pairsOf(history, workload)
  const finals = new Map<string, unknown[]>()
  for (const p of ps) {
    if (p.invoke.process === 'final' && p.complete?.type === 'ok') finals.set(p.invoke.key as string, [...(finals.get(p.invoke.key as string) ?? []), p.complete.value])
  }
  const all = lives(ps, spec.addF, spec.removeF, spec.element)
  const lost: string[] = []
  const resurrected: string[] = []
  const unexpected: string[] = []
  const divergent: string[] = []
  let judged = 0
  for (const [id, e] of all) {
    const fs = finals.get(e.key) ?? []
    if (fs.length === 0 || e.add === null) continue
    const name = id.replace('\u0000', ' ')
    const seen = fs.filter(v => spec.present(v, spec.element(e.add as Pair))).length
    if (seen > 0 && seen < fs.length) divergent.push(name)
    const add = outcome(e.add)
    const rem = e.remove === null ? null : outcome(e.remove)
    if (add === 'fail' && seen > 0) unexpected.push(name)
    if (rem === 'ok' && spec.removed(e.remove as Pair)) {
      judged++
      if (seen > 0) resurrected.push(name)
    } else if (add === 'ok' && (rem === null || rem === 'ok' || rem === 'fail')) {
      judged++
      if (seen === 0) lost.push(name)
    }
  }
  for (const [key, fs] of finals) {
    for (const v of fs) {
      for (const m of spec.members(v)) {
        if (all.get(`${key}\u0000${m}`)?.add == null) unexpected.push(`${key} ${m}`)
      }
    }
  }
  const unexpectedSet = [...new Set(unexpected)]
  const valid = judged === 0 ? 'unknown' : lost.length + resurrected.length + unexpectedSet.length + divergent.length === 0
  return result(spec.checker, workload, valid,
    `${judged} ${spec.noun} judged: lost ${lost.length}, resurrected ${resurrected.length}, unexpected ${unexpectedSet.length}, divergent ${divergent.length}`,
    { judged, lost: sample(lost), resurrected: sample(resurrected), unexpected: sample(unexpectedSet), divergent: sample(divergent) })
}

export function checkObservedRemove (history: readonly Op[], workload = 'orset'): CheckResult {
  return checkObservedRemoveWith(history, workload, {
    checker: 'or-set',
    noun: 'elements',
    addF: 'add',
    removeF: 'remove',
    element: p => p.invoke.value as string,
    removed: p => (p.complete?.value as { removed: number }).removed > 0,
    present: (v, e) => (v as string[]).includes(e),
    members: v => v as string[]
  })
}
