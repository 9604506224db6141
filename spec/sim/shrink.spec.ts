// Schedule shrinking (issue 12, spec/sim/schedule.ts and sweep.ts): a sweep
// with a known bug planted finds it, shrinks the schedule of the failing run
// (fault episodes, operations, then lengths, network and clock offsets) to a
// strictly smaller one that still fails the same checker when replayed with
// the printed command, and that same schedule passes with the plant removed.
// The seed's own run and a replay of the schedule it drew are one run.
//
// The sweeps run `npm run sim` (dist/, so `tsc -p tsconfig.json` must have
// run) in their own process, as sweep-finds.spec.ts does; knobs are not
// shrunk (--no-shrink-knobs), so what gets smaller is the schedule alone.
// About 3 s of CPU per plant. ddmin itself is checked on lists first.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { seededRandom } from '../../lib/runtime/random.js'
import { ROOT } from '../helpers/server.js'
import { ddmin, planSchedule, quieter, sizeOf, smallerThan, type Schedule, type SchedulePlan } from './schedule.js'
import type { SweepResult } from './sweep.js'

t.test('ddmin finds the failing pair among 40 items, in order, within its budget', async (t) => {
  const items = Array.from({ length: 40 }, (_, i) => i)
  let calls = 0
  const fails = async (xs: number[]): Promise<boolean> => { calls++; return xs.includes(7) && xs.includes(31) }
  const r = await ddmin(items, fails, 200)
  t.same(r.items, [7, 31])
  t.equal(r.runs, calls, 'runs counts every call')
  t.ok(r.runs < 80, `${r.runs} runs, where trying every pair takes 780`)
})

t.test('ddmin: an empty failing list is found first; a spent budget returns the last failing list', async (t) => {
  t.same(await ddmin([1, 2, 3], async () => true, 10), { items: [], runs: 1 })
  const r = await ddmin(Array.from({ length: 64 }, (_, i) => i), async (xs) => xs.includes(5) && xs.includes(60), 3)
  t.equal(r.runs, 3)
  t.ok(r.items.includes(5) && r.items.includes(60), 'never a list that passes')
  const whole = await ddmin([1, 2, 3], async (xs) => xs.length === 3, 20)
  t.same(whole.items, [1, 2, 3], 'nothing smaller fails: the whole list')
  t.equal(whole.runs, 9, 'the empty list, two halves, three singles, three complements')
})

const plan: SchedulePlan = { nodes: ['node1', 'node2', 'node3', 'node4'], episodes: 6, gapMs: 300, wipe: true, writers: 2, steps: 3, readerSteps: 2, net: { dropPermille: 10, duplicatePermille: 0, delayMsMax: 15 }, skewMs: 100, scripted: ['contested'] }

t.test('a schedule is a function of its random stream; its variants are smaller', async (t) => {
  const a = planSchedule(seededRandom(5), plan)
  t.same(a, planSchedule(seededRandom(5), plan), 'the same seed draws the same schedule')
  t.not(JSON.stringify(a), JSON.stringify(planSchedule(seededRandom(6), plan)), 'another seed another one')
  t.equal(a.faults.length, 6)
  t.equal(a.faults.filter(f => f.kind === 'crash' && f.wipe).length, 1, 'one wiped crash')
  t.same(a.ops, ['w0.0', 'w0.1', 'w0.2', 'w1.0', 'w1.1', 'w1.2', 'r.0', 'r.1', 'contested'])
  for (let i = 1; i < a.faults.length; i++) t.ok(a.faults[i].atMs >= a.faults[i - 1].atMs + a.faults[i - 1].lengthMs, 'episodes one after another')
  const variants = quieter(a)
  t.equal(variants.length, 6 + 2 + Object.values(a.clockOffsetsMs).filter(v => v !== 0).length, 'each episode halved, no loss, 1 ms delay, each offset zeroed')
  for (const v of variants) {
    t.ok(sizeOf(v).faultMs <= sizeOf(a).faultMs && v.net.dropPermille <= a.net.dropPermille && v.net.delayMsMax <= a.net.delayMsMax, 'no variant is louder')
    t.not(JSON.stringify(v), JSON.stringify(a), 'each variant differs')
  }
  t.ok(smallerThan({ ...a, faults: a.faults.slice(1) }, a))
  t.notOk(smallerThan(a, a))
})

const dir = mkdtempSync(join(tmpdir(), 'dynakv-shrink-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

interface Ran { code: number | null, log: string }

async function sim (args: string[]): Promise<Ran> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist', 'bench', 'sim.js'), ...args], { timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, log: `${stdout}${stderr}` })
    })
  })
}

/** The arguments of a printed `npm run sim -- ...` command (no argument of ours holds a space). */
function argsOf (command: string): string[] {
  const prefix = 'npm run sim -- '
  if (!command.startsWith(prefix)) throw new Error(`not a sim command: ${command}`)
  return command.slice(prefix.length).split(' ')
}

for (const { scenario, plant, checker } of [
  { scenario: 'counters', plant: 'one-chain', checker: 'counts' },
  { scenario: 'collections', plant: 'remove-wins', checker: 'final' }
]) {
  t.test(`${plant}: a sweep of ${scenario} finds it and shrinks its schedule to a smaller one that replays the failure, and passes without the plant`, async (t) => {
    const out = join(dir, `${plant}.json`)
    const swept = await sim(['--scenario', scenario, '--first', '1', '--seeds', '1', '--no-shrink-knobs', '--plant', plant, '--out', out])
    t.equal(swept.code, 1, 'the planted sweep exits 1')
    const result = JSON.parse(readFileSync(out, 'utf8')) as SweepResult
    t.equal(result.failures.length, 1, swept.log)
    const f = result.failures[0]
    t.equal(f.failed[0], checker, `the ${checker} checker found it`)
    const original = f.schedule as Schedule
    const shrunk = f.shrunk
    if (shrunk === null || shrunk.schedule === null || original === null) return t.fail(`no shrunk schedule: ${swept.log}`)
    t.same(shrunk.params, f.params, 'the knobs are the failure\'s')
    t.ok(smallerThan(shrunk.schedule, original), `smaller: ${original.faults.length} episodes and ${original.ops.length} operations → ${shrunk.schedule.faults.length} and ${shrunk.schedule.ops.length}`)
    t.ok(shrunk.schedule.ops.length < original.ops.length, 'fewer operations')
    t.ok(shrunk.failed.includes(checker), 'the shrunk run fails the same checker')
    t.ok(swept.log.includes(`shrunk (${shrunk.runs} replays): ${shrunk.replay}`), 'the sweep printed the shrunk replay command')

    const args = argsOf(shrunk.replay)
    const file = args[args.indexOf('--schedule') + 1]
    t.same(JSON.parse(readFileSync(file, 'utf8')), shrunk.schedule, 'the replay command names the file holding the shrunk schedule')
    const again = await sim(args)
    t.equal(again.code, 1, 'replayed, the shrunk schedule fails')
    t.ok(again.log.includes(`(${checker})`) && again.log.includes(shrunk.problems[0]), `the same checker, the same first problem: ${shrunk.problems[0]}`)
    const clean = await sim(args.filter((a, i) => a !== '--plant' && args[i - 1] !== '--plant'))
    t.equal(clean.code, 0, `without the plant the shrunk schedule passes: ${clean.log.split('\n')[0]}`)

    const whole = join(dir, `${plant}-original.json`)
    writeFileSync(whole, JSON.stringify(original))
    const replayed = await sim(['--scenario', scenario, '--seed', String(f.seed), '--plant', plant, '--schedule', whole])
    t.equal(replayed.code, 1)
    t.ok(replayed.log.includes(`${f.problems.length} problem(s)`) && replayed.log.includes(f.problems[0]), 'the seed\'s schedule, replayed from its file, is the seed\'s run')
  })
}
