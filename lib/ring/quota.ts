// How many partitions each node should own: Q·w/W rounded by largest
// remainder (Hamilton's method), so every count is floor or ceil of the exact
// share and the counts sum to Q. Ties between equal remainders go to the
// node whose name hashes lower (MD5, then the name itself): a property of the
// node, never of its position in a list.

import { MemberError } from './errors.js'
import { keyHash, partitionBits } from './hash.js'
import { Buffer } from 'node:buffer'

export const WEIGHT_MAX = 1_000_000

export interface WeightedNode {
  name: string
  weight: number
}

export function checkWeight (name: string, weight: number): void {
  if (!Number.isSafeInteger(weight) || weight < 1 || weight > WEIGHT_MAX) {
    throw new MemberError(`weight of ${JSON.stringify(name)} must be an integer in 1..${WEIGHT_MAX}, got ${weight}`)
  }
}

/** Total order used for every tie between nodes: MD5 of the name, then the name. */
export function compareNames (a: string, b: string): number {
  const order = Buffer.compare(keyHash(Buffer.from(a, 'utf8')), keyHash(Buffer.from(b, 'utf8')))
  if (order !== 0) return order
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Largest-remainder counts. weights[i] are integers >= 1; ties go to the
 * larger held[i] (when given), then the lower rank[i]. Exact integer
 * arithmetic: Q·w and W stay below 2^53.
 */
export function largestRemainder (weights: readonly number[], rank: readonly number[], partitions: number, held?: readonly number[]): number[] {
  const counts: number[] = new Array<number>(weights.length).fill(0)
  if (weights.length === 0) return counts
  let total = 0
  for (const w of weights) total += w
  const remainders: number[] = new Array<number>(weights.length)
  let given = 0
  for (let i = 0; i < weights.length; i++) {
    const share = partitions * weights[i]
    remainders[i] = share % total
    counts[i] = (share - remainders[i]) / total
    given += counts[i]
  }
  const order = weights.map((_, i) => i)
  order.sort((a, b) => remainders[b] - remainders[a] || (held === undefined ? 0 : held[b] - held[a]) || rank[a] - rank[b])
  // fewer than weights.length partitions are left over: each gets at most one
  for (let k = 0; k < partitions - given; k++) counts[order[k]]++
  return counts
}

/** Quota of each node: its weighted share of the partitions, rounded by largest remainder. */
export function quotas (nodes: readonly WeightedNode[], partitions: number): Map<string, number> {
  partitionBits(partitions)
  const names = new Set<string>()
  for (const node of nodes) {
    if (names.has(node.name)) throw new MemberError(`duplicate node name ${JSON.stringify(node.name)}`)
    names.add(node.name)
    checkWeight(node.name, node.weight)
  }
  const byName = [...names].sort(compareNames)
  const rankOf = new Map(byName.map((name, i) => [name, i]))
  const counts = largestRemainder(nodes.map((m) => m.weight), nodes.map((m) => rankOf.get(m.name) ?? 0), partitions)
  return new Map(nodes.map((m, i) => [m.name, counts[i]]))
}
