// The short jepsen run of `npm test`: 5 test hosts in network namespaces, the
// workloads of SHORT_RUN (jepsen/workloads/index.ts) through real clients,
// partitions, kill -9, wipes, and last a partition-wipe (the control of
// mutation.spec.ts), then every checker must be green. DYNAKV_SEED=n replays a seed (the seed is printed either way). Where
// the namespaces cannot be made (not root, no iproute2/iptables), it is skipped
// with the reason.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cannotRun } from '../../jepsen/net.js'
import { run } from '../../jepsen/run.js'
import { SHORT_RUN, shortRunWorkloads } from '../../jepsen/workloads/index.js'

const seed = Number(process.env.DYNAKV_SEED ?? Math.floor(Math.random() * 1_000_000))
// Past .taprc's 240 s only on a machine so busy that restarts take many seconds.
t.setTimeout(420_000)

t.test('the short jepsen run: partitions, kill, wipe, partition-wipe; every checker green', { skip: cannotRun() ?? false }, async t => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'dynakv-jepsen-results-'))
  for (const [w, why] of Object.entries(SHORT_RUN)) if (why !== true) t.comment(`workload ${w} not in the short run yet: ${why}`)
  const r = await run({
    seed,
    timeMs: 75_000,
    nemesis: ['partition', 'kill', 'wipe', 'partition-wipe'],
    phaseMs: [6000, 10_000],
    gapMs: [3000, 5000],
    workloads: shortRunWorkloads(),
    resultsDir,
    log: (line) => t.comment(line)
  })
  t.equal(r.skipped, null)
  // partition-wipe (a partition, a kill -9 and a wipe) always runs; on a machine so
  // busy that restarts take many seconds, other phases may be skipped (printed).
  t.ok(r.phases.some(p => p.partitionWipe?.wipedMs != null), 'the nemesis ran partition-wipe: a partition, a kill -9 and a wipe')
  t.ok(r.phases.length >= 2, `${r.phases.length} phases ran: ${[...new Set(r.phases.flatMap(p => p.kinds))].join(', ')}`)
  t.ok(r.historyOps > 1000, `${r.historyOps} history entries`)
  for (const c of r.results) t.equal(c.valid, true, `${c.checker}${c.workload === null ? '' : ` (${c.workload})`}: ${c.summary}`)
  if (r.valid === true) rmSync(resultsDir, { recursive: true, force: true })
  else t.comment(`seed ${seed}: results kept in ${r.dir}`)
})
