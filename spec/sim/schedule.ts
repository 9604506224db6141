// A run's fault schedule as data (issue 12: a failing seed shrinks the
// schedule it found). The typed scenarios (counters, collections) draw their
// schedule from the seed before the run starts — the fault episodes, the
// background network, the clock offsets, the workload's operations — then
// execute it (typed.ts underFaults). A run is a function of (seed, knobs,
// schedule): replaying a schedule, whole or reduced, is exact, and dropping a
// fault leaves the workload's random draws as they were (its own stream).
//
// Shrinking (sweep.ts shrinkSchedule) is delta debugging over that data:
// the fault events (halves, then single events), the workload's operations,
// then each remaining event's length, the background network and the clock
// offsets, keeping every reduction that still fails the same checker.
// Everything here is pure: randomness comes in as an argument.
import type { Random } from '../../lib/runtime/random.js'

/** One fault episode; atMs: virtual ms after the workload started; the episode lasts lengthMs. */
export type FaultEvent =
  | { atMs: number, lengthMs: number, kind: 'isolate', node: string }
  | { atMs: number, lengthMs: number, kind: 'partition', sides: [string[], string[]] }
  | { atMs: number, lengthMs: number, kind: 'crash', node: string, wipe: boolean }
  | { atMs: number, lengthMs: number, kind: 'lossy' }

export interface Schedule {
  /** Fault episodes in order of atMs (an episode starting before the previous one ended waits for it). */
  faults: FaultEvent[]
  /**
   * The workload's operations that run, by client and step: 'w2.5' is writer 2's
   * step 5, 'r.7' the reader's step 7; a scenario's scripted step by its name
   * ('contested'). A client's step left out still takes its pause.
   */
  ops: string[]
  /** The background network while the workload runs: drop and duplicate probability (‰), delay (ms). */
  net: { dropPermille: number, duplicatePermille: number, delayMsMax: number }
  /** Each node's clock offset (ms); a node not listed reads the virtual clock. */
  clockOffsetsMs: Record<string, number>
}

export interface SchedulePlan {
  nodes: readonly string[]
  /** Fault episodes, one after another, gapMs apart. */
  episodes: number
  gapMs: number
  /** One crash comes back with a wiped data directory (never with W=1: a write may live on one node alone). */
  wipe: boolean
  writers: number
  steps: number
  readerSteps: number
  net: Schedule['net']
  /** Clock offsets drawn in [−skewMs, skewMs] (0: none). */
  skewMs: number
  /** The scenario's own scripted steps after the workload, as operations shrinking may drop too. */
  scripted?: readonly string[]
}

/** Draws a schedule: the same Random state and plan give the same schedule. */
export function planSchedule (rnd: Random, plan: SchedulePlan): Schedule {
  const names = plan.nodes
  const clockOffsetsMs: Record<string, number> = {}
  if (plan.skewMs > 0) for (const n of names) clockOffsetsMs[n] = rnd.int(2 * plan.skewMs + 1) - plan.skewMs
  const faults: FaultEvent[] = []
  const wipeAt = plan.wipe ? rnd.int(plan.episodes) : -1
  let atMs = 0
  for (let step = 0; step < plan.episodes; step++) {
    atMs += plan.gapMs
    const node = names[rnd.int(names.length)]
    const kind = step === wipeAt ? 2 : rnd.int(4)
    const lengthMs = 300 + rnd.int(700)
    switch (kind) {
      case 0:
        faults.push({ atMs, lengthMs, kind: 'isolate', node })
        break
      case 1: {
        const shuffled = names.slice().sort(() => rnd.next() - 0.5)
        const cut = 1 + rnd.int(names.length - 1)
        faults.push({ atMs, lengthMs, kind: 'partition', sides: [shuffled.slice(0, cut), shuffled.slice(cut)] })
        break
      }
      case 2:
        faults.push({ atMs, lengthMs, kind: 'crash', node, wipe: step === wipeAt })
        break
      default:
        faults.push({ atMs, lengthMs, kind: 'lossy' })
    }
    atMs += lengthMs
  }
  const ops: string[] = []
  for (let w = 0; w < plan.writers; w++) for (let i = 0; i < plan.steps; i++) ops.push(`w${w}.${i}`)
  for (let i = 0; i < plan.readerSteps; i++) ops.push(`r.${i}`)
  ops.push(...plan.scripted ?? [])
  return { faults, ops, net: { ...plan.net }, clockOffsetsMs }
}

/** One line per fault, for failure messages and the printed minimal schedule. */
export function describeFault (f: FaultEvent): string {
  switch (f.kind) {
    case 'isolate': return `+${f.atMs}ms isolate ${f.node} ${f.lengthMs}ms`
    case 'partition': return `+${f.atMs}ms partition ${f.sides[0].join(',')} | ${f.sides[1].join(',')} ${f.lengthMs}ms`
    case 'crash': return `+${f.atMs}ms crash ${f.node}${f.wipe ? ' (wiped)' : ''} ${f.lengthMs}ms`
    case 'lossy': return `+${f.atMs}ms lossy network ${f.lengthMs}ms`
  }
}

/** A schedule's size: what shrinking makes smaller (fault events and operations first). */
export function sizeOf (s: Schedule): { faults: number, ops: number, faultMs: number } {
  return { faults: s.faults.length, ops: s.ops.length, faultMs: s.faults.reduce((sum, f) => sum + f.lengthMs, 0) }
}

/** True when a is strictly smaller than b: no more events nor operations, and fewer of them or shorter faults. */
export function smallerThan (a: Schedule, b: Schedule): boolean {
  const x = sizeOf(a)
  const y = sizeOf(b)
  return x.faults <= y.faults && x.ops <= y.ops && (x.faults + x.ops < y.faults + y.ops || x.faultMs < y.faultMs)
}

/**
 * Delta debugging (Zeller's ddmin): the smallest sublist of items (in their
 * order) found for which fails() holds, trying halves, then quarters, ...,
 * then single items, each subset and each complement (the empty list first).
 * fails(items) is assumed. Stops early once runsMax calls are spent; never
 * returns a list fails() did not accept.
 */
export async function ddmin<T> (items: readonly T[], fails: (subset: T[]) => Promise<boolean>, runsMax: number): Promise<{ items: T[], runs: number }> {
  let current = items.slice()
  let runs = 0
  if (current.length === 0 || runsMax < 1) return { items: current, runs }
  runs++
  if (await fails([])) return { items: [], runs }
  let n = 2
  while (current.length >= 2 && runs < runsMax) {
    n = Math.min(n, current.length)
    const chunks: T[][] = []
    const size = current.length / n
    for (let i = 0; i < n; i++) chunks.push(current.slice(Math.round(i * size), Math.round((i + 1) * size)))
    // Each chunk alone, then (with more than two chunks) everything but one chunk.
    const candidates = [
      ...chunks.map(list => ({ list, next: 2 })),
      ...(n > 2 ? chunks.map((_, i) => ({ list: chunks.filter((__, j) => j !== i).flat(), next: n - 1 })) : [])
    ]
    let reduced = false
    for (const cand of candidates) {
      if (runs >= runsMax) break
      runs++
      if (await fails(cand.list)) {
        current = cand.list
        n = cand.next
        reduced = true
        break
      }
    }
    if (reduced) continue
    if (n >= current.length) break
    n = Math.min(current.length, 2 * n)
  }
  return { items: current, runs }
}

/** Variants of one schedule with one scalar made smaller: each fault's length halved, a quieter network, one clock offset zeroed. */
export function quieter (s: Schedule, lengthMsMin = 50): Schedule[] {
  const out: Schedule[] = []
  s.faults.forEach((f, i) => {
    if (f.lengthMs <= lengthMsMin) return
    const faults = s.faults.slice()
    faults[i] = { ...f, lengthMs: Math.max(lengthMsMin, Math.floor(f.lengthMs / 2)) }
    out.push({ ...s, faults })
  })
  if (s.net.dropPermille > 0 || s.net.duplicatePermille > 0) out.push({ ...s, net: { ...s.net, dropPermille: 0, duplicatePermille: 0 } })
  if (s.net.delayMsMax > 1) out.push({ ...s, net: { ...s.net, delayMsMax: 1 } })
  for (const [n, v] of Object.entries(s.clockOffsetsMs)) if (v !== 0) out.push({ ...s, clockOffsetsMs: { ...s.clockOffsetsMs, [n]: 0 } })
  return out
}
