// Seed sweeps (issue 12): run scenarios over many seeds, and shrink a failing
// run by replaying its seed with smaller knobs, then with a smaller schedule
// of faults and operations (schedule.ts), while it still fails the same
// checker (the history under a seed and a schedule is deterministic, so every
// replay is exact). A sweep may run with a known bug planted
// (spec/sim/plants.ts), to show that it finds it.
import { SimCluster } from './harness.js'
import type { Plant } from './plants.js'
import { ddmin, describeFault, quieter, type Schedule } from './schedule.js'
import { replayCommand, type Outcome, type Params, type Scenario } from './scenarios/scenario.js'

export interface Failure {
  scenario: string
  seed: number
  params: Params
  problems: string[]
  /** The checkers that found them (empty: the scenario does not name them). */
  failed: string[]
  /** The bug planted in the run (null: none). */
  plant: string | null
  /** The schedule the run executed (null: the scenario draws none). */
  schedule: Schedule | null
  /** The command that replays this run. */
  replay: string
}

/** How a replay command names a schedule: a file it was written to, or (by default) the JSON itself, quoted for a shell. */
export type ScheduleRef = (f: Omit<Failure, 'replay'>, schedule: Schedule) => string

export const inlineSchedule: ScheduleRef = (_f, schedule) => `'${JSON.stringify(schedule)}'`

/** One run (with plant in every node, on schedule if given); a scenario that throws (a bound exceeded, an invariant) has failed too. */
export async function runOnce (s: Scenario, seed: number, params: Params, plant: Plant | null = null, schedule?: Schedule): Promise<Outcome> {
  if (SimCluster.planted !== null) throw new Error('runOnce: a plant is already in place (runs do not nest)')
  SimCluster.planted = plant?.apply ?? null
  try {
    return await s.run(seed, params, schedule)
  } catch (e) {
    return { problems: [`threw: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e)}`], failed: ['threw'], stats: {} }
  } finally {
    SimCluster.planted = null
  }
}

/** A failed run; ref names its schedule in the replay command (null: the seed's own schedule, no --schedule). */
function failure (s: Scenario, seed: number, params: Params, o: Outcome, plant: Plant | null, ref: ScheduleRef | null = null): Failure {
  const f = { scenario: s.name, seed, params, problems: o.problems, failed: o.failed ?? [], plant: plant?.name ?? null, schedule: o.schedule ?? null }
  const named = ref === null || f.schedule === null ? undefined : ref(f, f.schedule)
  return { ...f, replay: replayCommand(s.name, seed, params, s.defaults, plant?.name, named) }
}

/** A knob's or a schedule's reduction is kept if the run still fails, and with the first checker that failed before. */
function failsLike (o: Outcome, before: Failure): boolean {
  return o.problems.length > 0 && (before.failed.length === 0 || (o.failed ?? []).includes(before.failed[0]))
}

/** A scenario's knobs: its defaults, with those of `params` it has. */
export function knobsOf (s: Scenario, params: Params = {}): Params {
  return Object.fromEntries(Object.entries(s.defaults).map(([k, v]) => [k, params[k] ?? v]))
}

/**
 * Greedy shrinking of the knobs: takes the first smaller variant that still
 * fails (the same checker), until none does or runsMax replays are spent.
 * Returns the smallest failing run found.
 */
export async function shrink (s: Scenario, failed: Failure, runsMax = 40, log: (line: string) => void = () => {}, plant: Plant | null = null): Promise<Failure & { runs: number }> {
  let current = failed
  let runs = 0
  for (let progress = true; progress && runs < runsMax;) {
    progress = false
    for (const candidate of s.smaller(current.params)) {
      if (runs >= runsMax) break
      runs++
      const o = await runOnce(s, current.seed, candidate, plant)
      if (!failsLike(o, current)) continue
      current = failure(s, current.seed, candidate, o, plant)
      log(`  still fails with ${JSON.stringify(candidate)}`)
      progress = true
      break
    }
  }
  return { ...current, runs }
}

/**
 * Shrinks a failed run's schedule under its seed and knobs (delta debugging,
 * schedule.ts): its fault episodes (halves, then single ones), then its
 * operations, then each episode's length, the background network and the
 * clock offsets, keeping each reduction that still fails the same checker.
 * Every kept reduction was run; the result replays exactly (ref names its
 * schedule in the replay command). Null when the scenario has no schedule.
 */
export async function shrinkSchedule (s: Scenario, failed: Failure, runsMax = 120, log: (line: string) => void = () => {}, plant: Plant | null = null, ref: ScheduleRef = inlineSchedule): Promise<(Failure & { runs: number }) | null> {
  if (failed.schedule === null) return null
  let current: Failure = failed
  let runs = 0
  const attempt = async (candidate: Schedule): Promise<boolean> => {
    runs++
    const o = await runOnce(s, failed.seed, failed.params, plant, candidate)
    if (!failsLike(o, failed) || o.schedule === undefined) return false
    current = failure(s, failed.seed, failed.params, o, plant, ref)
    return true
  }
  const schedule = (): Schedule => current.schedule as Schedule
  const reserveQuieter = Math.min(20, Math.floor(runsMax / 4))
  const faults = await ddmin(schedule().faults, async (list) => await attempt({ ...schedule(), faults: list }), Math.max(0, runsMax - runs - reserveQuieter))
  log(`  fault episodes: ${failed.schedule.faults.length} → ${schedule().faults.length} (${faults.runs} replays)`)
  const ops = await ddmin(schedule().ops, async (list) => await attempt({ ...schedule(), ops: list }), Math.max(0, runsMax - runs - reserveQuieter))
  log(`  operations: ${failed.schedule.ops.length} → ${schedule().ops.length} (${ops.runs} replays)`)
  for (let progress = true; progress && runs < runsMax;) {
    progress = false
    for (const candidate of quieter(schedule())) {
      if (runs >= runsMax) break
      if (await attempt(candidate)) {
        progress = true
        break
      }
    }
  }
  if (current === failed) return null
  return { ...current, runs }
}

/** The schedule as lines: its fault episodes, the background network, the clock offsets, the operations. */
export function describeSchedule (schedule: Schedule): string[] {
  const offsets = Object.entries(schedule.clockOffsetsMs).filter(([, v]) => v !== 0)
  return [
    ...(schedule.faults.length === 0 ? ['no fault episode'] : schedule.faults.map(describeFault)),
    `network: drop ${schedule.net.dropPermille}‰, duplicate ${schedule.net.duplicatePermille}‰, delay ≤ ${schedule.net.delayMsMax} ms; clock offsets: ${offsets.length === 0 ? 'none' : offsets.map(([n, v]) => `${n} ${v} ms`).join(', ')}`,
    `${schedule.ops.length} operation(s): ${schedule.ops.slice(0, 40).join(' ')}${schedule.ops.length > 40 ? ' ...' : ''}`
  ]
}

export interface SweepOptions {
  scenarios: readonly Scenario[]
  /** The seeds, in order; the sweep stops early when the time budget is spent. */
  seeds: Iterable<number>
  timeBudgetMs?: number
  shrink?: boolean
  /** Shrink the knobs before the schedule (default true; false: the schedule alone, under the knobs that failed). */
  shrinkKnobs?: boolean
  /** Knobs instead of each scenario's defaults (those a scenario has). */
  params?: Params
  /** A known bug planted in every node of every run. */
  plant?: Plant | null
  /** How a shrunk failure's replay command names its schedule (default: inline JSON). */
  scheduleRef?: ScheduleRef
  /** Replays spent shrinking the schedule of one failure (default 120; the knobs get 40 more). */
  shrinkRunsMax?: number
  log?: (line: string) => void
}

export interface SweepResult {
  runs: number
  seeds: number
  failures: Array<Failure & { shrunk: (Failure & { runs: number }) | null }>
  wallMs: number
}

export async function sweep (o: SweepOptions): Promise<SweepResult> {
  const log = o.log ?? (() => {})
  const plant = o.plant ?? null
  const started = Date.now()
  const failures: SweepResult['failures'] = []
  let runs = 0
  let seeds = 0
  for (const seed of o.seeds) {
    if (o.timeBudgetMs !== undefined && Date.now() - started >= o.timeBudgetMs) break
    seeds++
    for (const s of o.scenarios) {
      runs++
      const params = knobsOf(s, o.params)
      const out = await runOnce(s, seed, params, plant)
      if (out.problems.length === 0) continue
      const failed = failure(s, seed, params, out, plant)
      log(`FAIL ${s.name} seed ${seed}: ${out.problems.length} problem(s) (${failed.failed.join(', ') || 'unnamed'}), first: ${out.problems[0]}\n  replay: ${failed.replay}`)
      let shrunk: (Failure & { runs: number }) | null = null
      if (o.shrink !== false) {
        const small = o.shrinkKnobs === false ? { ...failed, runs: 0 } : await shrink(s, failed, 40, log, plant)
        const knobbed = small.replay !== failed.replay ? small : null
        const scheduled = await shrinkSchedule(s, knobbed ?? failed, o.shrinkRunsMax, log, plant, o.scheduleRef)
        if (scheduled !== null) shrunk = { ...scheduled, runs: scheduled.runs + small.runs }
        else if (knobbed !== null) shrunk = knobbed
        if (shrunk !== null) {
          log(`  shrunk (${shrunk.runs} replays): ${shrunk.replay}\n  first problem: ${shrunk.problems[0]}`)
          if (shrunk.schedule !== null) for (const line of describeSchedule(shrunk.schedule)) log(`    ${line}`)
        }
      }
      failures.push({ ...failed, shrunk })
    }
    if (seeds % 10 === 0) log(`${seeds} seeds, ${runs} runs, ${failures.length} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`)
  }
  return { runs, seeds, failures, wallMs: Date.now() - started }
}
