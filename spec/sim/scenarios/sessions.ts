// Read-your-writes (spec/sim/sessions.ts) as a sweepable scenario: client
// sessions, each the only writer of its key, SET and GET through random nodes
// of a 3-, 4- or 5-node cluster (N=3, R=2, W=2) on a network that delays
// messages unevenly (1-15 ms) but loses none and never partitions: the
// conditions under which Dynamo's R + W > N makes a session read its writes.
// The stale-read plant (quorum reads answering after R−1 replies) breaks it.
//
// Knobs: sessions (concurrent clients), steps (operations each).
import { SimCluster } from '../harness.js'
import { SessionHistory } from '../sessions.js'
import { client, drive } from '../typed.js'
import { shrinkKnobs, type Outcome, type Params, type Scenario } from './scenario.js'

export async function runSessions (seed: number, params: Params): Promise<{ problems: string[], h: SessionHistory }> {
  const c = await SimCluster.create({ seed, nodes: 3 + seed % 3, r: 2, w: 2, partitions: 16, delayMsMin: 1, delayMsMax: 15 })
  try {
    const rnd = c.net.forkRandom()
    const h = new SessionHistory()
    await drive(c, Array.from({ length: params.sessions }, (_, s) => client(c, rnd, params.steps, () => true, 1, 20, () => h.step(c, rnd, s))))
    return { problems: h.check(), h }
  } finally {
    await c.stop()
  }
}

async function run (seed: number, params: Params): Promise<Outcome> {
  const { problems, h } = await runSessions(seed, params)
  return { problems, stats: { reads: h.reads(), ops: h.log.ops.length } }
}

export const sessions: Scenario = {
  name: 'sessions',
  about: 'sessions: concurrent clients, each writing its own key; steps: SETs and GETs per session',
  defaults: { sessions: 4, steps: 40 },
  run,
  smaller: (p) => shrinkKnobs(p, { sessions: 1, steps: 1 })
}
