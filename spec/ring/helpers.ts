// Shared by the ring specs: naive reference implementations and membership
// generators. Nothing here is taken from lib/ring's own algorithms.
import fc from 'fast-check'
import { claimSteps } from '../../lib/ring/index.js'
import type { ClaimMember } from '../../lib/ring/index.js'

/** Windows of min(N, Q) consecutive partitions (cyclic) that hold some node twice. */
export function naiveViolations (owners: readonly string[], n: number): number {
  const q = owners.length
  const w = Math.min(n, q)
  let bad = 0
  for (let i = 0; i < q; i++) {
    const window = new Set<string>()
    for (let d = 0; d < w; d++) window.add(owners[(i + d) % q])
    if (window.size < w) bad++
  }
  return bad
}

/** Smallest node count m for which ceil(Q/m)·min(N,Q) <= Q, by brute force. */
export function naiveDistinctNodeCount (q: number, n: number): number {
  const w = Math.min(n, q)
  for (let m = 1; m <= q; m++) if (Math.ceil(q / m) * w <= q) return m
  return q
}

/** Walk clockwise from p, collecting distinct owners. */
export function naivePreference (owners: readonly string[], p: number): string[] {
  const seen: string[] = []
  for (let d = 0; d < owners.length; d++) {
    const o = owners[(p + d) % owners.length]
    if (!seen.includes(o)) seen.push(o)
  }
  return seen
}

export function countsOf (owners: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const o of owners) counts.set(o, (counts.get(o) ?? 0) + 1)
  return counts
}

export interface Scenario {
  members: ClaimMember[]
  partitions: number
  n: number
}

export const PARTITION_CHOICES = [8, 16, 64, 128, 256, 1024]
export const N_CHOICES = [1, 2, 3, 5]

/**
 * Memberships of 1..16 nodes with random weights (or all 1), join times
 * (ties included) and leaves; names carry a salt so that their hash order,
 * which breaks ties, varies from run to run.
 */
export function scenarioArb (options: { partitions?: number[], n?: number[], nodesMax?: number } = {}): fc.Arbitrary<Scenario> {
  return fc.record({
    partitions: fc.constantFrom(...(options.partitions ?? PARTITION_CHOICES)),
    n: fc.constantFrom(...(options.n ?? N_CHOICES)),
    weighted: fc.boolean(),
    salt: fc.integer({ min: 0, max: 1e9 }),
    nodes: fc.array(fc.record({
      weight: fc.integer({ min: 1, max: 4 }),
      joinedAt: fc.integer({ min: 0, max: 40 }),
      leaves: fc.boolean(),
      stay: fc.integer({ min: 0, max: 40 })
    }), { minLength: 1, maxLength: options.nodesMax ?? 16 }),
    leaveRate: fc.constantFrom(0, 0.25, 0.5)
  }).map(({ partitions, n, weighted, salt, nodes, leaveRate }) => ({
    partitions,
    n,
    members: nodes.map((node, i) => ({
      name: `node-${i}-${salt}`,
      weight: weighted ? node.weight : 1,
      joinedAt: node.joinedAt,
      // about leaveRate of the nodes leave, decided by their own draws
      leftAt: node.leaves && (node.stay % 4) < leaveRate * 4 ? node.joinedAt + node.stay : null
    }))
  }))
}

/** A deterministic PRNG for the statistical specs (mulberry32). */
export function seeded (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A random history ending with k live nodes: they join in random order at
 * random (sometimes equal) times; in half the histories up to three more
 * nodes join and leave in between.
 */
export function history (k: number, random: () => number, weighted = false): ClaimMember[] {
  const extra = random() < 0.5 ? Math.floor(random() * 4) : 0
  const members: ClaimMember[] = []
  let time = 0
  for (let i = 0; i < k + extra; i++) {
    time += Math.floor(random() * 3)
    members.push({
      name: `n${Math.floor(random() * 1e9)}-${i}`,
      weight: weighted ? 1 + Math.floor(random() * 4) : 1,
      joinedAt: time,
      leftAt: null
    })
  }
  // `extra` of them (distinct, never the last) leave again before the change measured
  const leaving = new Set<number>()
  for (let tries = 0; tries < 100 && leaving.size < extra; tries++) leaving.add(Math.floor(random() * (members.length - 1)))
  for (const i of leaving) members[i].leftAt = members[i].joinedAt + 1 + Math.floor(random() * 40)
  if (members.filter((x) => x.leftAt === null).length !== k) throw new Error('history: wrong number of live nodes')
  return members
}

export const lastTwo = (members: ClaimMember[], q: number, n: number): [string[], string[]] => {
  const steps = claimSteps(members, q, n)
  return [steps[steps.length - 2].owners, steps[steps.length - 1].owners]
}

export const MOVEMENT_CASES: Array<[number, number, number]> = [
  // Q, N, runs per k
  [64, 3, 20], [256, 3, 12], [1024, 3, 8],
  [64, 2, 16], [1024, 2, 6],
  [64, 5, 16], [256, 5, 10], [1024, 5, 6]
]
