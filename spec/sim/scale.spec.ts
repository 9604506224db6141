// The scale simulation (spec/sim/scale.ts) at a reduced size: 50 nodes,
// 2 000 keys loaded, a 5 s partition into halves with writes on both sides
// (at 4 s the failure detector had not marked the other side down yet, so
// no hints were written), anti-entropy every 2 s instead of 10 s so that it
// converges in fewer virtual seconds. 13 s of CPU under tap. At 100 nodes it
// was 35 s of CPU (143 s of wall time inside `npm test`): building 100 nodes
// alone takes 11 s, as every join pushes a 17 KB view to every member, and each
// virtual second of 100 nodes gossiping about 1 s. The 100-node and 1M-key
// figures come from `npm run sim -- --scale` (docs/performance.md, "The
// simulator at scale").
// Asserts the outcome, not the timings: every node learned of a join, every
// acknowledged write is readable through both halves and on a replica, no hint
// is left and every partition's primaries have one Merkle root.
//
// It runs `npm run sim -- --scale` (dist/, so `tsc -p tsconfig.json` must have
// run) in its own process: tap's async hooks, on every promise of this
// process, made the simulation three times slower. `npm run sim -- --scale`
// without the reducing flags measures the full size (docs/performance.md).
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../helpers/server.js'
import type { ScaleFigures } from './scale.js'

t.test('50 nodes: a join reaches everyone; after a partition with writes on both sides, replicas converge and keep every acknowledged write', async (t) => {
  const seed = Number(process.env.DYNAKV_SEED ?? 1)
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-scale-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'figures.json')
  const args = ['--expose-gc', join(ROOT, 'dist', 'bench', 'sim.js'), '--scale', '--nodes', '50', '--seed', String(seed),
    '--keys', '2000', '--partition-ms', '5000', '--rate', '20', '--ae-interval-ms', '2000', '--no-epidemic', '--out', out]
  const log = await new Promise<string>((resolve) => {
    execFile(process.execPath, args, { timeout: 220_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve(`${stdout}${stderr}${err === null ? '' : `\n(${err.message.split('\n')[0]})`}`)
    })
  })
  t.comment(log.trim())
  const f = (JSON.parse(readFileSync(out, 'utf8')) as { rows: ScaleFigures[] }).rows[0]
  t.same(f.problems, [], `no problem (replay: DYNAKV_SEED=${seed}, or node --expose-gc ${args.slice(1, -2).join(' ')})`)
  t.ok(f.join.agreeMs < f.join.settledMs && f.join.settledMs < 120_000, 'the 51st node joined and every node holds it as valid')
  t.ok(f.partition.ackedBySide.every(n => n > 20), `writes were acknowledged on both sides (${f.partition.ackedBySide.join(' and ')} of ${f.partition.writes})`)
  t.ok(f.partition.hintsAtHeal > 0, `the partition left hints (${f.partition.hintsAtHeal}) for handoff to deliver`)
  t.ok(f.converge.hintsDelivered >= f.partition.hintsAtHeal, 'every hint held at the heal was delivered')
  t.not(f.converge.virtualMs, null, 'converged')
})
