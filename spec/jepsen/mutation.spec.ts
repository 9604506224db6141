// The checkers catch what they are there for: the same partition-wipe phase as
// the short run, on hosts started to acknowledge delivered hints and throw them
// away (DEBUG FAULT LOSE-HINTS, a mutation of hinted handoff). Writes taken by
// the cut-off primary and a hint on its partner lose both copies: the primary
// is wiped, the hint discarded on delivery. set-full must report them lost, and
// they must be exactly such writes.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cannotRun } from '../../jepsen/net.js'
import { run } from '../../jepsen/run.js'
import { readHistory, pairs } from '../../jepsen/history.js'

const seed = Number(process.env.DYNAKV_SEED ?? Math.floor(Math.random() * 1_000_000))
// Past .taprc's 240 s only on a machine so busy that restarts take many seconds.
t.setTimeout(420_000)

t.test('losing hints loses acknowledged writes, and set-full says so', { skip: cannotRun() ?? false }, async t => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'dynakv-jepsen-results-'))
  const r = await run({
    seed,
    timeMs: 25_000,
    nemesis: ['partition-wipe'],
    phaseMs: [6000, 10_000],
    workloads: ['set'],
    mutation: 'lose-hints',
    resultsDir,
    log: (line) => t.comment(line)
  })
  t.equal(r.skipped, null)
  const pw = r.phases.find(p => p.partitionWipe !== undefined)?.partitionWipe
  if (pw === undefined || pw.wipedMs === null) throw new Error('the partition-wipe phase did not run')
  const phase = r.phases.find(p => p.partitionWipe !== undefined)
  // The precondition of certain loss: writes acknowledged on the cut-off side before the wipe.
  const history = readHistory(join(r.dir, 'history.jsonl'))
  const cutOff = pairs(history).filter(p => p.invoke.f === 'add' && p.complete?.type === 'ok' &&
    (p.invoke.node === pw.primary || p.invoke.node === pw.partner) && p.invoke.time >= (phase?.startMs ?? 0) && (p.complete?.time ?? Infinity) < (pw.wipedMs ?? 0))
  const onKey = cutOff.filter(p => p.invoke.key === pw.key).length
  t.ok(onKey > 0, `${onKey} adds to ${pw.key} acknowledged through ${pw.primary} and ${pw.partner} while cut off, before the wipe`)
  const setFull = r.results.find(c => c.checker === 'set-full')
  t.equal(setFull?.valid, false, `set-full: ${setFull?.summary ?? 'missing'}`)
  const lost = (setFull?.details.lostSample ?? []) as Array<{ element: number }>
  t.ok(lost.length > 0, 'lost elements are reported')
  const acked = new Set(cutOff.map(p => p.invoke.value as number))
  t.same(lost.filter(l => !acked.has(l.element)), [], 'every lost element was acknowledged on the cut-off side before the wipe')
  t.equal(r.results.find(c => c.checker === 'convergence')?.valid, true, 'the replicas still agree: on the loss')
  rmSync(resultsDir, { recursive: true, force: true })
})
