// A simulation scenario as the specs and `npm run sim` both run it: a function
// of a seed and a few numeric knobs (how many writers, writes, faults) that
// returns what the checkers found. The same seed and knobs replay the same
// history, so a failure can be shrunk by trying smaller knobs under its seed.
// A scenario that draws its faults as data (schedule.ts) also runs a given
// schedule instead of its seed's, so a failure shrinks its schedule too.
import type { Schedule } from '../schedule.js'

export type Params = Record<string, number>

export interface Outcome {
  /** Checker violations; empty when the run was correct. */
  problems: string[]
  /** Figures about the run (acknowledged writes, failures), for the sanity checks of the specs. */
  stats: Record<string, number>
  /** The checkers that found the problems, by name (the shrinker keeps a reduction only if the first one still fails). */
  failed?: string[]
  /** The schedule the run executed (scenarios that draw one): replaying it is the same run. */
  schedule?: Schedule
}

export interface Scenario {
  name: string
  /** What the knobs mean, one line. */
  about: string
  defaults: Params
  /** schedule: run this one instead of the seed's (scenarios with a schedule; the others ignore it). */
  run: (seed: number, params: Params, schedule?: Schedule) => Promise<Outcome>
  /** Strictly smaller variants of params to try when shrinking, most promising first. */
  smaller: (params: Params) => Params[]
}

/** Smaller variants that halve or decrement one knob each (down to `min`), and clear one bit of each mask. */
export function shrinkKnobs (params: Params, min: Params, masks: readonly string[] = []): Params[] {
  const out: Params[] = []
  for (const mask of masks) {
    for (let bit = 0; (1 << bit) <= params[mask]; bit++) {
      if ((params[mask] & (1 << bit)) !== 0) out.push({ ...params, [mask]: params[mask] & ~(1 << bit) })
    }
  }
  for (const [k, v] of Object.entries(params)) {
    if (masks.includes(k) || v <= (min[k] ?? 0)) continue
    const half = Math.max(min[k] ?? 0, Math.floor(v / 2))
    if (half < v - 1) out.push({ ...params, [k]: half })
    out.push({ ...params, [k]: v - 1 })
  }
  return out
}

/** The command that replays one run (plant: the name of a bug planted in it, spec/sim/plants.ts). */
export function replayCommand (scenario: string, seed: number, params: Params, defaults: Params, plant?: string, schedule?: string): string {
  const knobs = Object.entries(params).filter(([k, v]) => defaults[k] !== v).map(([k, v]) => ` --param ${k}=${v}`).join('')
  return `npm run sim -- --scenario ${scenario} --seed ${seed}${knobs}${plant === undefined ? '' : ` --plant ${plant}`}${schedule === undefined ? '' : ` --schedule ${schedule}`}`
}

/** The names of the checkers with problems: the checker → problems pairs whose lists are not empty. */
export function failedCheckers (found: Record<string, readonly string[]>): string[] {
  return Object.entries(found).filter(([, p]) => p.length > 0).map(([name]) => name)
}
