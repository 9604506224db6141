// Seed sweeps (issue 12): run scenarios over many seeds, and shrink a failing
// run by replaying its seed with smaller knobs while it still fails (the
// history under a seed is deterministic, so every replay is exact). A sweep
// may run with a known bug planted (spec/sim/plants.ts), to show that it
// finds it.
import { SimCluster } from './harness.js'
import type { Plant } from './plants.js'
import { replayCommand, type Outcome, type Params, type Scenario } from './scenarios/scenario.js'

export interface Failure {
  scenario: string
  seed: number
  params: Params
  problems: string[]
  /** The bug planted in the run (null: none). */
  plant: string | null
  /** The command that replays this run. */
  replay: string
}

/** One run (with plant in every node); a scenario that throws (a bound exceeded, an invariant) has failed too. */
export async function runOnce (s: Scenario, seed: number, params: Params, plant: Plant | null = null): Promise<Outcome> {
  if (SimCluster.planted !== null) throw new Error('runOnce: a plant is already in place (runs do not nest)')
  SimCluster.planted = plant?.apply ?? null
  try {
    return await s.run(seed, params)
  } catch (e) {
    return { problems: [`threw: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e)}`], stats: {} }
  } finally {
    SimCluster.planted = null
  }
}

function failure (s: Scenario, seed: number, params: Params, problems: string[], plant: Plant | null): Failure {
  return { scenario: s.name, seed, params, problems, plant: plant?.name ?? null, replay: replayCommand(s.name, seed, params, s.defaults, plant?.name) }
}

/** A scenario's knobs: its defaults, with those of `params` it has. */
export function knobsOf (s: Scenario, params: Params = {}): Params {
  return Object.fromEntries(Object.entries(s.defaults).map(([k, v]) => [k, params[k] ?? v]))
}

/**
 * Greedy shrinking: takes the first smaller variant that still fails, until
 * none does or runsMax replays are spent. Returns the smallest failing run found.
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
      if (o.problems.length === 0) continue
      current = failure(s, current.seed, candidate, o.problems, plant)
      log(`  still fails with ${JSON.stringify(candidate)}`)
      progress = true
      break
    }
  }
  return { ...current, runs }
}

export interface SweepOptions {
  scenarios: readonly Scenario[]
  /** The seeds, in order; the sweep stops early when the time budget is spent. */
  seeds: Iterable<number>
  timeBudgetMs?: number
  shrink?: boolean
  /** Knobs instead of each scenario's defaults (those a scenario has). */
  params?: Params
  /** A known bug planted in every node of every run. */
  plant?: Plant | null
  log?: (line: string) => void
}

export interface SweepResult {
  runs: number
  seeds: number
  failures: Array<Failure & { shrunk: Failure | null }>
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
      const failed = failure(s, seed, params, out.problems, plant)
      log(`FAIL ${s.name} seed ${seed}: ${out.problems.length} problem(s), first: ${out.problems[0]}\n  replay: ${failed.replay}`)
      let shrunk: Failure | null = null
      if (o.shrink !== false) {
        const small = await shrink(s, failed, 40, log, plant)
        if (small.replay !== failed.replay) {
          shrunk = small
          log(`  shrunk (${small.runs} replays): ${small.replay}\n  first problem: ${small.problems[0]}`)
        }
      }
      failures.push({ ...failed, shrunk })
    }
    if (seeds % 10 === 0) log(`${seeds} seeds, ${runs} runs, ${failures.length} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`)
  }
  return { runs, seeds, failures, wallMs: Date.now() - started }
}
