// Distinctness of consecutive partitions, and a layout that achieves it.
//
// "Any N consecutive partitions on distinct nodes" is checked with a window of
// w = min(N, Q) partitions (a ring smaller than N can at best be all
// distinct). Two partitions of one node conflict when their cyclic distance
// is below w; a ring without conflicts has every window distinct.
//
// Zero conflicts need every node's partitions at least w apart, so a node
// owning c partitions needs c·w <= Q. That is also enough: spreadLayout below
// builds such a ring for any counts whose maximum m has m·w <= Q.

import { ReplicaCountError } from './errors.js'

export function checkReplicaCount (n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new ReplicaCountError(`N must be an integer >= 1, got ${n}`)
}

/** The distinctness window: min(N, Q). */
export function windowSize (partitions: number, n: number): number {
  return Math.min(n, partitions)
}

/** Whether a ring with these per-node counts can have every window distinct. */
export function distinctFeasible (countMax: number, partitions: number, n: number): boolean {
  return countMax * windowSize(partitions, n) <= partitions
}

/**
 * The smallest node count M for which equal weights allow a ring with every
 * N-window distinct: min { m : ceil(Q/m)·min(N,Q) <= Q }. For N = 3 and
 * Q >= 8 it is 4; for N = 2 it is 2; for N = 5 it is 6 when Q >= 16 (Q = 8: 8).
 */
export function distinctNodeCount (partitions: number, n: number): number {
  const w = windowSize(partitions, n)
  // ceil(Q/m)·w <= Q holds for m = Q, and is monotone in m: search from w.
  for (let m = Math.max(1, w); m <= partitions; m++) {
    if (Math.ceil(partitions / m) * w <= partitions) return m
  }
  /* c8 ignore next */
  return partitions
}

/**
 * Number of the Q cyclic windows of w = min(N, Q) consecutive partitions that
 * hold some node twice. Zero means every N consecutive partitions are on
 * distinct nodes.
 */
export function distinctnessViolations (owners: readonly string[], n: number): number {
  checkReplicaCount(n)
  const q = owners.length
  if (q === 0) return 0
  const w = windowSize(q, n)
  // Walk the ring unrolled to q + w - 1 partitions. Window [i, i + w) holds a
  // repeat iff some partition j in it has its previous same-owner partition
  // at or after i: track the latest such previous index seen so far.
  const last = new Map<string, number>()
  let previousMax = -1
  let violations = 0
  const unrolled = q + w - 1
  for (let j = 0; j < unrolled; j++) {
    const node = owners[j % q]
    const previous = last.get(node)
    if (previous !== undefined && previous > previousMax) previousMax = previous
    last.set(node, j)
    const start = j - w + 1
    if (start >= 0 && previousMax >= start) violations++
  }
  return violations
}

/**
 * A ring in which node s owns counts[s] partitions, each node's partitions as
 * far apart as the counts allow. Needs counts sorted in descending order and
 * summing to Q. With m = counts[0] rows, symbols fill an m-row grid column
 * by column, and the ring reads it row by row:
 *
 *   counts 3,3,2,2,2 (Q = 12)       grid (m = 3)        ring
 *     a a a b b b c c d d e e        row 0: a b c d      a b c d a b c e a b d e
 *                                   row 1: a b c e
 *                                   row 2: a b d e      (d wraps: rows 2 and 0)
 *
 * A symbol sits in distinct rows, one row apart or wrapping, so its copies are
 * at least floor(Q/m) apart: every window of w = floor(Q/m) is distinct. Full
 * columns come first (descending order), so only symbols with count < m wrap,
 * and a wrapped symbol skips at least one row.
 */
export function spreadLayout (counts: readonly number[]): Int32Array {
  let total = 0
  for (let s = 0; s < counts.length; s++) total += counts[s]
  const ring = new Int32Array(total).fill(-1)
  if (total === 0) return ring
  const rows = counts[0]
  const rowLength = Math.floor(total / rows)
  const longRows = total % rows
  // rowStart[r] = ring index of row r's first cell
  const rowStart = new Int32Array(rows)
  for (let r = 1; r < rows; r++) rowStart[r] = rowStart[r - 1] + rowLength + (r - 1 < longRows ? 1 : 0)
  let cell = 0
  for (let s = 0; s < counts.length; s++) {
    for (let c = 0; c < counts[s]; c++, cell++) {
      const row = cell % rows
      const col = Math.floor(cell / rows)
      ring[rowStart[row] + col] = s
    }
  }
  return ring
}
