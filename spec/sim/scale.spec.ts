// The scale simulation (spec/sim/scale.ts) at the issue's node count and a
// reduced key count: 100 nodes, 2 000 keys loaded, a 5 s partition into halves
// with writes on both sides (the failure detector marks the other side down
// after 2 s, so hints are written), anti-entropy every 2 s instead of 10 s so
// that it converges in fewer virtual seconds.
//
// The cluster is formed from one view (SimOptions.build 'view'): 99 joins one
// after another cost 11 s of CPU at 100 nodes (each join sends the whole view
// to every member), the rest of the run 18 s of CPU. What is measured is the join of
// a 101st node, once pushed to every member as the protocol runs and once by
// the periodic exchange alone (the epidemic), then the partition and the heal.
// Reading the acknowledged writes back one at a time cost 2 s more (every read
// ran 100 nodes' heartbeats); they are issued at once now. The 100 000- and
// 1M-key figures come from `npm run sim -- --scale` (docs/performance.md, "The
// simulator at scale").
//
// Asserts the outcome: a join is known by all within 2·log2(n) gossip rounds
// by the epidemic alone and settles everywhere; every acknowledged write is
// readable through both halves and on a replica; no hint is left and every
// partition's primaries have one Merkle root within 30 s of virtual time after
// the heal; repair traffic is of the order of a copy of the keys written
// during the partition, not of the data.
//
// It runs `npm run sim -- --scale` (dist/, so `tsc -p tsconfig.json` must have
// run) in its own process: tap's async hooks, on every promise of this
// process, made the simulation three times slower.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../helpers/server.js'
import type { ScaleFigures } from './scale.js'

const NODES = 100

t.test(`${NODES} nodes: a join reaches everyone within 2·log2(n) rounds; after a partition with writes on both sides, replicas converge, keep every acknowledged write, and repair what differs`, async (t) => {
  const seed = Number(process.env.DYNAKV_SEED ?? 1)
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-scale-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'figures.json')
  const args = ['--expose-gc', join(ROOT, 'dist', 'bench', 'sim.js'), '--scale', '--nodes', String(NODES), '--seed', String(seed),
    '--keys', '2000', '--partition-ms', '5000', '--rate', '20', '--ae-interval-ms', '2000', '--view-build', '--out', out]
  const log = await new Promise<string>((resolve) => {
    execFile(process.execPath, args, { timeout: 220_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve(`${stdout}${stderr}${err === null ? '' : `\n(${err.message.split('\n')[0]})`}`)
    })
  })
  t.comment(log.trim())
  const f = (JSON.parse(readFileSync(out, 'utf8')) as { rows: ScaleFigures[] }).rows[0]
  t.same(f.problems, [], `no problem (replay: DYNAKV_SEED=${seed}, or node --expose-gc ${args.slice(1, -2).join(' ')})`)

  const roundsMax = 2 * Math.log2(NODES + 2)
  t.ok(f.join.agreeMs < f.join.settledMs && f.join.settledMs < 120_000, `node${NODES + 1} joined and every node holds it as valid (settled after ${f.join.settledMs} ms)`)
  t.ok(f.join.rounds <= roundsMax, `pushed to every member, the join was known by all in ${f.join.rounds} rounds (≤ ${roundsMax.toFixed(1)})`)
  const epidemic = f.epidemic
  if (epidemic === null) throw new Error('the epidemic join was not measured')
  t.ok(epidemic.rounds >= 1, `the epidemic alone took gossip rounds (${epidemic.rounds}): the pushes were off`)
  t.ok(epidemic.rounds <= roundsMax, `by the epidemic alone the join was known by all in ${epidemic.rounds} rounds (≤ 2·log2(${NODES + 2}) = ${roundsMax.toFixed(1)})`)
  t.ok(epidemic.settledMs < 120_000, `node${NODES + 2} settled everywhere (${epidemic.settledMs} ms)`)

  t.ok(f.partition.ackedBySide.every(n => n > 20), `writes were acknowledged on both sides (${f.partition.ackedBySide.join(' and ')} of ${f.partition.writes})`)
  t.ok(f.partition.hintsAtHeal > 0, `the partition left hints (${f.partition.hintsAtHeal}) for handoff to deliver`)
  t.ok(f.converge.hintsDelivered >= f.partition.hintsAtHeal, 'every hint held at the heal was delivered')
  t.ok(f.converge.virtualMs !== null && f.converge.virtualMs <= 30_000, `converged within 30 s of virtual time (${f.converge.virtualMs} ms)`)
  t.ok(f.converge.aeKeysRepaired > 0, `anti-entropy repaired keys (${f.converge.aeKeysRepaired})`)
  // Proportional to the differences: a few copies of what was written at most,
  // and far from a copy of the data (2 000 keys loaded, 200 written).
  t.ok(f.converge.repairBytes <= 4 * f.converge.writtenKeysCopyBytes,
    `repair traffic ${f.converge.repairBytes} B ≤ 4 × a copy of the written keys (${f.converge.writtenKeysCopyBytes} B)`)
  t.ok(f.converge.repairBytes < f.converge.loadedKeysCopyBytes / 2,
    `repair traffic ${f.converge.repairBytes} B < half a copy of the loaded keys (${f.converge.loadedKeysCopyBytes} B)`)
})
