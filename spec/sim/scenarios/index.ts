// The scenarios `npm run sim` sweeps, by name.
import { faults } from './faults.js'
import { collections } from './collections.js'
import { counters } from './counters.js'
import { forward } from './forward.js'
import { membership } from './membership.js'
import { sessions } from './sessions.js'
import type { Scenario } from './scenario.js'

export const SCENARIOS: readonly Scenario[] = [faults, membership, forward, counters, collections, sessions]

export function scenarioNamed (name: string): Scenario {
  const s = SCENARIOS.find(x => x.name === name)
  if (s === undefined) throw new Error(`unknown scenario '${name}' (${SCENARIOS.map(x => x.name).join(', ')})`)
  return s
}
