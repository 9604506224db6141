// npm run sim -- ...: the simulator from the command line (issue 12).
//
//   --seeds 1000 [--time 600]      sweep the scenarios over random seeds (or --first N: N, N+1, ...),
//                                  print each failing seed with the command that replays it, and
//                                  shrink it (--no-shrink to skip): its knobs, then (counters,
//                                  collections) its schedule of faults and operations, in at most
//                                  --shrink-runs replays (default 120; --no-shrink-knobs: the schedule
//                                  alone); the shrunk schedule is written to a file its replay
//                                  command names; --param k=v sets a knob
//   --scenario faults,membership   which scenarios (default: all)
//   --seed 123 [--param k=v ...]   replay one run of each scenario named (DYNAKV_SEED works too)
//   --schedule FILE|JSON           with --seed and one --scenario: run this schedule instead of the
//                                  seed's (the file a sweep wrote, or its JSON)
//   --plant NAME                   with a known bug planted in every node (spec/sim/plants.ts), in a
//                                  sweep or a replay: the checkers must find it
//   --list                         the scenarios with their knobs, and the plants
//   --out file.json                where a sweep or --scale writes its results (default: bench/results/)
//   --scale [--nodes 10,20,50,100] [--keys 1000000] [--partition-ms 60000] [--rate 50]
//           [--ae-interval-ms 10000] [--no-epidemic] [--view-build]
//                                  the scale figures of spec/sim/scale.ts, as a table; --view-build
//                                  forms the cluster from one view instead of k joins (SimOptions.build)
//   --heartbeats [--nodes 10,25,50,100]
//                                  peer messages per gossip round (1 s virtual) of an idle cluster
//                                  with the production timings, by type, and the CPU per virtual s
//   --build [--nodes 10,30,60,100] building SimCluster.create({ seed: 1, nodes: k, partitions: 256 })
//                                  with the harness's own timings, then one more join (docs/performance.md)
import { randomInt } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { SimCluster } from '../spec/sim/harness.js'
import { PLANTS, plantNamed, type Plant } from '../spec/sim/plants.js'
import { PRODUCTION_TIMINGS, runScale, type ScaleFigures } from '../spec/sim/scale.js'
import { SCENARIOS, scenarioNamed } from '../spec/sim/scenarios/index.js'
import { replayCommand, type Params } from '../spec/sim/scenarios/scenario.js'
import type { Schedule } from '../spec/sim/schedule.js'
import { describeSchedule, knobsOf, runOnce, sweep, type ScheduleRef } from '../spec/sim/sweep.js'
import { ROOT, writeResult } from './lib.js'

interface Args {
  flags: Map<string, string>
  params: Params
}

function parse (argv: readonly string[]): Args {
  const flags = new Map<string, string>()
  const params: Params = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`)
    const name = a.slice(2)
    if (['scale', 'build', 'heartbeats', 'view-build', 'no-shrink', 'no-shrink-knobs', 'no-epidemic', 'list', 'help'].includes(name)) {
      flags.set(name, 'true')
      continue
    }
    const value = argv[++i]
    if (value === undefined) throw new Error(`--${name} needs a value`)
    if (name === 'param') {
      const [k, v] = value.split('=')
      if (v === undefined || !Number.isInteger(Number(v))) throw new Error(`--param wants name=integer, got '${value}'`)
      params[k] = Number(v)
    } else {
      if (!['seeds', 'time', 'first', 'scenario', 'seed', 'nodes', 'keys', 'partition-ms', 'rate', 'ae-interval-ms', 'out', 'plant', 'schedule', 'shrink-runs'].includes(name)) throw new Error(`unknown flag --${name}`)
      flags.set(name, value)
    }
  }
  return { flags, params }
}

function int (flags: Map<string, string>, name: string, fallback: number): number {
  const v = flags.get(name)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} wants a non-negative integer, got '${v}'`)
  return n
}

function nodeCounts (flags: Map<string, string>, fallback: number[]): number[] {
  const v = flags.get('nodes')
  return v === undefined ? fallback : v.split(',').map(Number)
}

const log = (line: string): void => { console.log(line) }

function plantOf (a: Args): Plant | null {
  const name = a.flags.get('plant')
  return name === undefined ? null : plantNamed(name)
}

/** --schedule: a file a sweep wrote, or the schedule's JSON itself. */
function scheduleOf (a: Args): Schedule | undefined {
  const v = a.flags.get('schedule')
  if (v === undefined) return undefined
  const text = v.trimStart().startsWith('{') ? v : readFileSync(v, 'utf8')
  const s = JSON.parse(text) as Schedule
  if (!Array.isArray(s.faults) || !Array.isArray(s.ops) || typeof s.net !== 'object' || typeof s.clockOffsetsMs !== 'object') throw new Error('--schedule: not a schedule (faults, ops, net, clockOffsetsMs)')
  return s
}

async function replay (a: Args, seed: number): Promise<number> {
  const scenarios = (a.flags.get('scenario') ?? SCENARIOS.map(s => s.name).join(',')).split(',').map(scenarioNamed)
  const plant = plantOf(a)
  const schedule = scheduleOf(a)
  if (schedule !== undefined && scenarios.length !== 1) throw new Error('--schedule replays one --scenario')
  let failed = 0
  for (const s of scenarios) {
    const params = { ...s.defaults, ...a.params }
    const out = await runOnce(s, seed, params, plant, schedule)
    log(`${s.name} seed ${seed} ${JSON.stringify(params)}${plant === null ? '' : ` planted ${plant.name}`}${schedule === undefined ? '' : ` on the schedule given`}: ${out.problems.length === 0 ? 'ok' : `${out.problems.length} problem(s) (${(out.failed ?? []).join(', ')})`} ${JSON.stringify(out.stats)}`)
    if (schedule !== undefined && out.schedule === undefined) throw new Error(`--schedule: the ${s.name} scenario draws no schedule (counters and collections do)`)
    if (schedule !== undefined && out.schedule !== undefined) for (const line of describeSchedule(out.schedule)) log(`  ${line}`)
    for (const p of out.problems.slice(0, 30)) log(`  ${p}`)
    if (out.problems.length > 0) {
      failed++
      log(`  replay: ${replayCommand(s.name, seed, params, s.defaults, plant?.name, a.flags.get('schedule'))}`)
    }
  }
  return failed === 0 ? 0 : 1
}

function list (): number {
  log('scenarios (--scenario NAME, knobs with --param k=v):')
  for (const s of SCENARIOS) log(`  ${s.name} ${JSON.stringify(s.defaults)}\n    ${s.about}`)
  log('plants (--plant NAME):')
  for (const p of PLANTS) log(`  ${p.name}: ${p.about} (found in: ${p.scenario})`)
  return 0
}

async function runSweep (a: Args): Promise<number> {
  const scenarios = (a.flags.get('scenario') ?? SCENARIOS.map(s => s.name).join(',')).split(',').map(scenarioNamed)
  const count = int(a.flags, 'seeds', a.flags.has('time') ? Number.MAX_SAFE_INTEGER : 100)
  const first = a.flags.has('first') ? int(a.flags, 'first', 1) : null
  function * seeds (): Generator<number> {
    for (let i = 0; i < count; i++) yield first === null ? randomInt(1, 2 ** 31) : first + i
  }
  const budgetS = a.flags.has('time') ? int(a.flags, 'time', 600) : undefined
  const plant = plantOf(a)
  log(`sweeping ${scenarios.map(s => `${s.name} ${JSON.stringify(knobsOf(s, a.params))}`).join(', ')} over ${count === Number.MAX_SAFE_INTEGER ? 'random' : count} seeds${budgetS === undefined ? '' : ` for at most ${budgetS} s`}${plant === null ? '' : `, planted: ${plant.name} (${plant.about})`}`)
  const out = a.flags.get('out')
  // A shrunk schedule goes to a file next to the results, named by its run; the replay command names the file.
  const scheduleRef: ScheduleRef = (f, schedule) => {
    const base = out === undefined ? join(ROOT, 'bench', 'results', 'sim-schedule') : out.replace(/\.json$/, '')
    const file = resolve(`${base}-${f.scenario}-${f.seed}${f.plant === null ? '' : `-${f.plant}`}.json`)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify(schedule, null, 1) + '\n')
    const here = relative(process.cwd(), file)
    return here.startsWith('..') || isAbsolute(here) ? file : here
  }
  const result = await sweep({ scenarios, seeds: seeds(), timeBudgetMs: budgetS === undefined ? undefined : budgetS * 1000, shrink: !a.flags.has('no-shrink'), shrinkKnobs: !a.flags.has('no-shrink-knobs'), shrinkRunsMax: int(a.flags, 'shrink-runs', 120), params: a.params, plant, scheduleRef, log })
  log(`\n${result.seeds} seeds, ${result.runs} runs in ${(result.wallMs / 1000).toFixed(0)} s: ${result.failures.length} failed`)
  for (const f of result.failures) {
    log(`  ${f.scenario} seed ${f.seed}: ${f.problems[0]}\n    replay: ${f.replay}${f.shrunk === null ? '' : `\n    shrunk: ${f.shrunk.replay}`}`)
  }
  if (out !== undefined) writeFileSync(out, JSON.stringify(result))
  log(`results: ${out ?? writeResult('sim-sweep', result)}`)
  return result.failures.length === 0 ? 0 : 1
}

function cpuUsedMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(2)

function table (rows: ScaleFigures[]): string {
  const lines = [
    '| nodes | build: wall / CPU (s) | heap per node: empty / loaded (MB) | join, pushed: ms to all (rounds), membership msgs (KB) | join, epidemic alone: ms (rounds), msgs | converged after heal (virtual s) | keys written / hints / AE keys repaired | repair traffic (KB) vs copy of written keys (KB) | wall: partition + convergence (s) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'
  ]
  for (const r of rows) {
    lines.push(`| ${r.nodes} | ${(r.build.wallMs / 1000).toFixed(1)} / ${(r.build.cpuMs / 1000).toFixed(1)} | ${mb(r.heapPerNodeBytes)} / ${mb(r.heapPerNodeBytes + r.load.heapPerNodeBytes)} | ` +
      `${r.join.agreeMs} (${r.join.rounds.toFixed(2)}), ${r.join.messages} (${(r.join.bytes / 1000).toFixed(0)}) | ${r.epidemic === null ? "-" : `${r.epidemic.agreeMs} (${r.epidemic.rounds.toFixed(1)}), ${r.epidemic.messages}`} | ` +
      `${r.converge.virtualMs === null ? 'no' : (r.converge.virtualMs / 1000).toFixed(1)} | ${r.partition.writes} (${r.partition.acked} acked) / ${r.partition.hintsAtHeal} / ${r.converge.aeKeysRepaired} | ` +
      `${(r.converge.repairBytes / 1000).toFixed(0)} vs ${(r.converge.writtenKeysCopyBytes / 1000).toFixed(0)} | ${((r.converge.wallMs) / 1000).toFixed(0)} |`)
  }
  return lines.join('\n')
}

async function runScaleTable (a: Args): Promise<number> {
  const rows: ScaleFigures[] = []
  for (const nodes of nodeCounts(a.flags, [10, 20, 50, 100])) {
    log(`\n== ${nodes} nodes`)
    const started = performance.now()
    const cpuStarted = cpuUsedMs()
    const r = await runScale({
      nodes,
      seed: int(a.flags, 'seed', 1),
      keys: int(a.flags, 'keys', 1_000_000),
      partitionMs: int(a.flags, 'partition-ms', 60_000),
      writesPerSecond: int(a.flags, 'rate', 50),
      epidemic: !a.flags.has('no-epidemic'),
      build: a.flags.has('view-build') ? 'view' : 'joins',
      args: a.flags.has('ae-interval-ms') ? ['--ae-interval-ms', String(int(a.flags, 'ae-interval-ms', 10_000))] : [],
      log: (line) => { log(`[${((performance.now() - started) / 1000).toFixed(0)} s wall, ${((cpuUsedMs() - cpuStarted) / 1000).toFixed(1)} s CPU] ${line}`) }
    })
    for (const p of r.problems) log(`  PROBLEM ${p}`)
    rows.push(r)
  }
  log('\n' + table(rows))
  const out = a.flags.get('out')
  if (out !== undefined) writeFileSync(out, JSON.stringify({ rows }))
  log(`results: ${out ?? writeResult('sim-scale', { rows })}`)
  return rows.some(r => r.problems.length > 0) ? 1 : 0
}

/** MEASURED.md's figure: SimCluster.create with the harness's timings, then one more add and converge. */
async function runBuild (a: Args): Promise<number> {
  const rows: Array<Record<string, number>> = []
  for (const k of nodeCounts(a.flags, [10, 30, 60, 100])) {
    (globalThis as { gc?: () => void }).gc?.()
    const heap0 = process.memoryUsage().heapUsed
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const c = await SimCluster.create({ seed: 1, nodes: k, partitions: 256 })
    const cpu = process.cpuUsage(cpu0)
    const row: Record<string, number> = { nodes: k, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, virtualMs: c.clock.now() }
    ;(globalThis as { gc?: () => void }).gc?.()
    row.heapPerNodeMB = (process.memoryUsage().heapUsed - heap0) / k / 1e6
    row.rssMB = process.memoryUsage().rss / 1e6
    const v0 = c.clock.now()
    const j0 = performance.now()
    await c.add(`node${k + 1}`)
    await c.converge()
    row.joinVirtualMs = c.clock.now() - v0
    row.joinWallMs = performance.now() - j0
    await c.stop()
    log(`${k} nodes: build ${(row.wallMs / 1000).toFixed(1)} s wall, ${(row.cpuMs / 1000).toFixed(1)} s CPU, heap ${row.heapPerNodeMB.toFixed(2)} MB per node, RSS ${row.rssMB.toFixed(0)} MB; one more join converged in ${row.joinVirtualMs} ms virtual (${(row.joinWallMs / 1000).toFixed(1)} s wall)`)
    rows.push(row)
  }
  log(`results: ${writeResult('sim-build', { rows })}`)
  return 0
}

/** Messages an idle cluster sends per gossip round (1 s of virtual time), by type, over 20 rounds once formed. */
async function runHeartbeats (a: Args): Promise<number> {
  const rows: Array<Record<string, number | string>> = []
  const roundsMeasured = 20
  for (const k of nodeCounts(a.flags, [10, 25, 50, 100])) {
    const c = await SimCluster.create({ seed: int(a.flags, 'seed', 1), nodes: k, partitions: 256, build: 'view', args: PRODUCTION_TIMINGS })
    await c.run(5000)
    const before = new Map([...c.net.sentByType].map(([type, v]) => [type, v.messages]))
    const cpu0 = cpuUsedMs()
    await c.run(roundsMeasured * 1000)
    const cpuMs = cpuUsedMs() - cpu0
    const perRound = (type: string): number => ((c.net.sentByType.get(type as never)?.messages ?? 0) - (before.get(type as never) ?? 0)) / roundsMeasured
    const all = [...c.net.sentByType.keys()].reduce((sum, type) => sum + perRound(type), 0)
    const row = { nodes: k, messagesPerRound: all, perNode: all / k, ping: perRound('PING'), pong: perRound('PONG'), gossip: perRound('GOSSIP'), cpuMsPerVirtualS: cpuMs / roundsMeasured }
    await c.stop()
    log(`${k} nodes: ${row.messagesPerRound.toFixed(0)} messages per round (${row.perNode.toFixed(1)} per node): PING ${row.ping.toFixed(0)}, PONG ${row.pong.toFixed(0)}, GOSSIP ${row.gossip.toFixed(0)}; ${row.cpuMsPerVirtualS.toFixed(0)} ms of CPU per virtual s`)
    rows.push(row)
  }
  log(`results: ${writeResult('sim-heartbeats', { rows })}`)
  return 0
}

/** The usage: the comment at the top of this file. */
function help (): number {
  const source = fileURLToPath(new URL('../../bench/sim.ts', import.meta.url))
  log(readFileSync(source, 'utf8').split('\nimport ')[0].split('\n').map(l => l.replace(/^\/\/ ?/, '')).join('\n'))
  return 0
}

async function main (): Promise<number> {
  const a = parse(process.argv.slice(2))
  if (a.flags.has('help')) return help()
  if (a.flags.has('list')) return list()
  if (a.flags.has('scale')) return await runScaleTable(a)
  if (a.flags.has('build')) return await runBuild(a)
  if (a.flags.has('heartbeats')) return await runHeartbeats(a)
  const seed = a.flags.get('seed') ?? process.env.DYNAKV_SEED
  if (seed !== undefined) return await replay(a, Number(seed))
  return await runSweep(a)
}

main().then((code) => { process.exitCode = code }, (e: Error) => {
  console.error(e.message)
  process.exitCode = 2
})
