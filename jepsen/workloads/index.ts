// The workloads by name, and the one list of which ones the short run inside
// `npm test` runs.
import { CounterWorkload } from './counter.js'
import { ExpiryWorkload } from './expiry.js'
import { HashWorkload } from './hash.js'
import { OrSetWorkload } from './orset.js'
import { RegisterWorkload } from './register.js'
import { SetWorkload } from './set.js'
import type { Workload } from './types.js'

export const WORKLOADS = {
  set: () => new SetWorkload(),
  register: () => new RegisterWorkload(),
  counter: () => new CounterWorkload(),
  orset: () => new OrSetWorkload(),
  hash: () => new HashWorkload(),
  expiry: () => new ExpiryWorkload()
} as const satisfies Record<string, () => Workload>

export type WorkloadName = keyof typeof WORKLOADS
export const WORKLOAD_NAMES = Object.keys(WORKLOADS) as WorkloadName[]

/**
 * THE list: what the short run in `npm test` checks. true = on; a string =
 * off, waiting for the commands it names. Flip an entry to true when its
 * commands land (each workload already runs with `npm run jepsen -- --workload X`).
 */
export const SHORT_RUN: Record<WorkloadName, true | string> = {
  set: true,
  register: true,
  counter: true,
  orset: true,
  hash: true,
  expiry: true
}

export function shortRunWorkloads (): WorkloadName[] {
  return WORKLOAD_NAMES.filter(n => SHORT_RUN[n] === true)
}
