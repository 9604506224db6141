// Known bugs to plant in every node of a simulated cluster, to prove that the
// checkers find what they claim to (a checker that never fails proves
// nothing). A plant rewrites a node from the outside, as test instrumentation
// (the Dynamo logic in lib/ knows nothing of it):
//   remove-wins   a merge where a tombstone takes a value it did not see
//                 (observed-remove broken: an add concurrent with a remove is lost)
//   one-chain     a merge that keeps one coordinator's counter chain and drops
//                 the others' (an increment made elsewhere is lost)
//   lww           a merge that keeps only the newest of concurrent values
//                 (last-writer-wins: a concurrent acknowledged write is lost)
//   stale-read    quorum reads that answer after R−1 replies (a session may
//                 miss its own acknowledged write)
// The stale read costs no acknowledged write (a write on a stale context
// becomes a sibling): 15 runs of counters, collections and faults found
// nothing, as they should not, since sloppy quorums under faults do not
// promise fresh reads. The sessions scenario checks read-your-writes where
// R + W > N does promise it: every node up, no message lost.
//
// `npm run sim -- --plant NAME` sweeps with a plant in place; each plant names
// the scenario in which a short sweep finds it (spec/sim/sweep-finds.spec.ts).
import type { DynakvNode } from '../../lib/node/node.js'
import type { RecordRef } from '../../lib/node/keys.js'
import { isCounter, isTombstone, type VObject } from '../../lib/versioning/index.js'

export interface Plant {
  name: string
  about: string
  /** The scenario whose checkers report it. */
  scenario: string
  apply: (node: DynakvNode) => void
}

/** What a broken merge makes of a merged copy (null: leave it as it is). */
export type Rewrite = (ref: RecordRef, merged: VObject) => VObject | null

/** Plants a bug in the node's merges of versions from elsewhere: what rewrite returns replaces the merged copy. */
export function breakMerges (node: DynakvNode, rewrite: Rewrite): void {
  const local = node.local
  const merge = local.merge.bind(local)
  local.merge = async (ref, incoming, bytes) => {
    const merged = await merge(ref, incoming, bytes)
    const broken = rewrite(ref, merged)
    if (broken === null) return merged
    const entry = await local.readEntry(ref)
    if (entry !== undefined && await local.dropIfUnchanged(ref, entry.bytes)) await merge(ref, broken)
    return broken
  }
  // Replica writes (LocalReplica.store: merge without a result) take the broken merge too.
  local.store = async (ref, incoming, bytes) => {
    await local.merge(ref, incoming ?? local.decode(bytes), bytes)
  }
}

/** A remove wins: a tombstone next to a value (an add it did not see) takes the value with it. */
export const removeWins: Rewrite = (_ref, merged) =>
  merged.siblings.some(isTombstone) && merged.siblings.some(s => s.value !== null) ? { siblings: merged.siblings.filter(isTombstone) } : null

/** Counter chains of several coordinators: all but the first actor's are dropped. */
export const oneChain: Rewrite = (_ref, merged) => {
  const actors = [...new Set(merged.siblings.filter(isCounter).map(s => s.actor))].sort()
  return actors.length < 2 ? null : { siblings: merged.siblings.filter(s => !isCounter(s) || s.actor === actors[0]) }
}

/** Concurrent plain values: only the newest (by its timestamp, then actor) stays. */
export const lastWriterWins: Rewrite = (_ref, merged) => {
  const plain = merged.siblings.filter(s => s.value !== null && s.total === undefined && s.marker === undefined)
  if (plain.length < 2) return null
  const newest = plain.reduce((a, b) => b.ts > a.ts || (b.ts === a.ts && b.actor > a.actor) ? b : a)
  return { siblings: merged.siblings.filter(s => !plain.includes(s) || s === newest) }
}

/** Quorum reads (GET's value, records, several records) answer after R−1 replies, at least one. */
export function staleReads (node: DynakvNode): void {
  const c = node.coordinator
  const value = c.value.bind(c)
  const get = c.get.bind(c)
  const getMany = c.getMany.bind(c)
  const fewer = (r: number): number => Math.max(1, r - 1)
  c.value = (ref, r, nowMs) => value(ref, fewer(r), nowMs)
  c.get = (ref, r) => get(ref, fewer(r))
  c.getMany = (refs, r) => getMany(refs, fewer(r))
}

export const PLANTS: readonly Plant[] = [
  { name: 'remove-wins', about: 'a merge where a remove wins over an add it did not see', scenario: 'collections', apply: n => breakMerges(n, removeWins) },
  { name: 'one-chain', about: 'a merge keeping one coordinator\'s counter chain, dropping the others\'', scenario: 'counters', apply: n => breakMerges(n, oneChain) },
  { name: 'lww', about: 'a merge keeping only the newest of concurrent values', scenario: 'faults', apply: n => breakMerges(n, lastWriterWins) },
  { name: 'stale-read', about: 'quorum reads answering after R−1 replies', scenario: 'sessions', apply: staleReads }
]

export function plantNamed (name: string): Plant {
  const p = PLANTS.find(x => x.name === name)
  if (p === undefined) throw new Error(`unknown plant '${name}' (${PLANTS.map(x => x.name).join(', ')})`)
  return p
}
