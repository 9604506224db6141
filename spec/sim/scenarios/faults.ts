// Dynamo under failure, in the simulator: lossy, slow, duplicating network,
// partitions, crashes and restarts (one of them with a wiped disk), while
// single writers and concurrent stale-context writers keep writing. After the
// network heals and anti-entropy runs, the four checkers of docs/design.md#correctness hold.
//
// Knobs: singles (single writers, 1..4), writes (per single writer), rounds
// (of same-context write pairs on shared keys), faults (a mask of the six
// fault steps: isolate, crash, split, isolate, crash with a wiped disk, split).
import { SimCluster } from '../harness.js'
import { History, divergentPartitions, lostWrites, quiesce, silentLoss, singleWriterSiblings } from '../checkers.js'
import { shrinkKnobs, type Outcome, type Params, type Scenario } from './scenario.js'

const FAULT_STEPS = 6

async function run (seed: number, params: Params): Promise<Outcome> {
  const c = await SimCluster.create({ seed, nodes: 4, partitions: 16 })
  try {
    const rnd = c.net.forkRandom()
    const h = new History()
    const singles = ['s0', 's1', 's2', 's3'].slice(0, params.singles)
    const shared = ['k0', 'k1', 'k2']
    let running = true

    // Faults from now on.
    c.net.dropProbability = 0.03
    c.net.duplicateProbability = 0.03
    c.net.delayMsMax = 20

    const writers: Array<Promise<void>> = []
    // Single writers: always the last context they got (re-reading after a failure).
    for (const key of singles) {
      writers.push((async () => {
        let ctx: string | null = ''
        for (let i = 0; i < params.writes && running; i++) {
          const at = c.running()[rnd.int(c.running().length)]
          if (ctx === null) ctx = (await h.read(c, at, key))?.context ?? null
          if (ctx === null) continue
          ctx = await h.put(c, at, key, ctx, `${key}-${i}`)
          if (i % 5 === 4) await h.read(c, at, key)
        }
      })())
    }
    // Concurrent writers on shared keys: read, then two writers put with the same (stale) context.
    writers.push((async () => {
      for (let i = 0; i < params.rounds && running; i++) {
        const key = shared[i % shared.length]
        const nodes = c.running()
        const r = await h.read(c, nodes[rnd.int(nodes.length)], key)
        if (r === null) continue
        await Promise.all([
          h.put(c, nodes[rnd.int(nodes.length)], key, r.context, `${key}-a${i}`),
          h.put(c, nodes[rnd.int(nodes.length)], key, r.context, i % 7 === 3 ? null : `${key}-b${i}`)
        ])
      }
    })())
    // The fault schedule (a step left out of the mask still takes its time and its draw).
    const faults = (async () => {
      for (let step = 0; step < FAULT_STEPS && running; step++) {
        await c.run(400)
        const victim = `node${1 + rnd.int(4)}`
        if ((params.faults & (1 << step)) === 0) continue
        switch (step % 3) {
          case 0:
            c.net.isolate(victim)
            await c.run(600)
            c.net.heal()
            break
          case 1:
            if (c.running().length === 4) {
              c.crash(victim)
              await c.run(700)
              await c.restart(victim, { wipe: step === 4 })
            }
            break
          case 2:
            c.net.partition(['node1', 'node2'], ['node3', 'node4'])
            await c.run(500)
            c.net.heal()
            break
        }
      }
    })()
    const all = Promise.all([...writers, faults])
    let done = false
    all.finally(() => { done = true }).catch(() => {})
    for (let ms = 0; !done && ms < 120_000; ms += 50) await c.run(50)
    running = false
    await all

    // Heal everything and let handoff and anti-entropy converge the replicas.
    c.net.heal()
    c.net.dropProbability = 0
    c.net.duplicateProbability = 0
    for (const n of c.names) if (!c.running().includes(n)) await c.restart(n)
    await c.converge()
    await quiesce(c)

    const problems = [
      ...await lostWrites(c, h),
      ...divergentPartitions(c),
      ...await singleWriterSiblings(c, h, singles),
      ...await silentLoss(c, h)
    ]
    return { problems, stats: { acks: h.acks.length, failed: h.failedWrites } }
  } finally {
    await c.stop()
  }
}

export const faults: Scenario = {
  name: 'faults',
  about: 'singles: single writers (1-4); writes: per single writer; rounds: same-context write pairs; faults: mask of the 6 fault steps',
  defaults: { singles: 4, writes: 25, rounds: 20, faults: (1 << FAULT_STEPS) - 1 },
  run,
  smaller: (p) => shrinkKnobs(p, { singles: 1, writes: 1, rounds: 0 }, ['faults'])
}
