// `node dist/bench/stalls.js`: what the open-loop tail is made of (issue 11's
// latency goal; docs/performance.md, "The open-loop tail"). A 3-node cluster
// (N3 R2 W2) runs with bench/stall-probe preloaded in every node; the key space
// is filled and the JIT warmed up with redis-benchmark, then an open loop
// (bench/openloop) of 50/50 GET/SET over 100 000 keys runs at a fixed rate
// after a discarded warm-up. Printed per node, for the measured window: the
// event-loop delay histogram, loop gaps (> 4 ms), GC pauses by kind, the
// periodic tasks' spans; then every slow request (> DYNAKV_BENCH_SLOW_MS) is
// matched with what overlapped it on the node it was sent to (a GC pause, a
// loop gap and the spans under it), then on the other nodes. Each node's LevelDB
// LOG gives the flushes and compactions in the window, the most level-0 files
// over the node's run and the write waits it logged.
//   DYNAKV_BENCH_RATE=1500 DYNAKV_BENCH_SECONDS=20 DYNAKV_BENCH_WARMUP_SECONDS=5
// Before the open loop, the cluster's CPU with no load at all is measured over
// DYNAKV_BENCH_IDLE_SECONDS (default 10): what the periodic tasks cost (CPU time
// holds on a shared machine; the probe's 2 ms timer is in it for every build).
//   DYNAKV_BENCH_SLOW_MS=5 DYNAKV_BENCH_ARGS='<extra server flags>' DYNAKV_BENCH_NODE='<node flags>'
//   DYNAKV_BENCH_OUTPUT=<path prefix>: each node's output to <prefix>n1.log...
//   DYNAKV_BENCH_NODES=1: one node (N1 R1 W1) at the same rate instead of the cluster.
//   DYNAKV_BENCH_BASELINE=<another built checkout>: the same run on its build too,
//   interleaved over DYNAKV_BENCH_ROUNDS rounds (default 1), and a table of both.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { infoField, load1, MAIN, median, redisBenchmarkSpread, ROOT, sleep, startCluster, tempDir, usageOf, usageSince, writeResult } from './lib.js'
import { runOpenLoop, type SlowRequest } from './openloop.js'

const rate = Number(process.env.DYNAKV_BENCH_RATE ?? 1500)
const seconds = Number(process.env.DYNAKV_BENCH_SECONDS ?? 20)
const warmupSeconds = Number(process.env.DYNAKV_BENCH_WARMUP_SECONDS ?? 5)
const slowMs = Number(process.env.DYNAKV_BENCH_SLOW_MS ?? 5)
const extraArgs = (process.env.DYNAKV_BENCH_ARGS ?? '').split(/\s+/).filter(w => w !== '')
const nodeFlags = (process.env.DYNAKV_BENCH_NODE ?? '').split(/\s+/).filter(w => w !== '')
const rounds = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 1)
const idleSeconds = Number(process.env.DYNAKV_BENCH_IDLE_SECONDS ?? 10)
const baseline = process.env.DYNAKV_BENCH_BASELINE
/** DYNAKV_BENCH_NODES=1: one node (N1 R1 W1) at the same rate, all 24 connections on it: is the tail the cluster's or a node's? */
const nodes = Number(process.env.DYNAKV_BENCH_NODES ?? 3) === 1 ? 1 : 3
const KEYS = 100000
/** INFO fields read per node before and after the measured run (absent ones are NaN). */
const COUNTERS = ['sweep_rows_read', 'ae_exchanges', 'ae_keys_repaired']
const CONNECTIONS = 24

interface Window {
  pid: number
  fromMs: number
  toMs: number
  eldUs: { p50: number, p99: number, p999: number, max: number, count: number }
  /** Loop gaps: start, duration, of which on CPU, of which in the run queue (ms; NaN without schedstat). */
  lag: Array<[number, number, number, number]>
  gc: Array<[number, number, string]>
  spans: Array<[string, number, number]>
}

const overlaps = (a0: number, a1: number, b0: number, b1: number): boolean => a0 < b1 && b0 < a1
const f1 = (x: number): string => x.toFixed(1)
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p / 100))]

/** A loop gap by where the main thread was: mostly on a CPU (work on the loop), in the run queue (other processes), else asleep (a blocking call). */
function gapKind (d: number, cpuMs: number, waitMs: number): string {
  if (Number.isNaN(cpuMs)) return 'loop gap'
  if (cpuMs >= d / 2) return 'loop gap on CPU'
  if (waitMs >= d / 2) return 'loop gap in the run queue'
  return 'loop gap asleep'
}

/** Store writes (group commits, fsync included) longer than this are named as a cause. */
const SLOW_COMMIT_MS = 4

/** What overlapped [t0, t1] on one node: GC pauses, loop gaps (with the periodic tasks under them), slow commits (a SET's only). */
function causesOn (w: Window, t0: number, t1: number, isSet: boolean): string[] {
  const out: string[] = []
  for (const [s, d, kind] of w.gc) if (overlaps(s, s + d, t0, t1) && d >= 1) out.push(`gc:${kind}`)
  for (const [g0, gd, cpu, wait] of w.lag) {
    if (!overlaps(g0, g0 + gd, t0, t1)) continue
    const names = new Set<string>()
    for (const [name, s, d] of w.spans) if (name !== 'store.write' && overlaps(s, s + Math.max(d, 0.01), g0, g0 + gd)) names.add(name)
    out.push(names.size === 0 ? gapKind(gd, cpu, wait) : `${gapKind(gd, cpu, wait)} while ${[...names].sort().join('+')} ran`)
  }
  if (isSet) for (const [name, s, d] of w.spans) if (name === 'store.write' && d >= SLOW_COMMIT_MS && overlaps(s, s + d, t0, t1)) { out.push(`commit > ${SLOW_COMMIT_MS} ms`); break }
  return out
}

/**
 * LevelDB's background work from its LOG (local-time stamps, µs): memtable flushes
 * ("Level-0 table #N: started" … "bytes OK") and compactions ("Compacting" …
 * "compacted to"), as [start, end] on the epoch clock (ms).
 */
function levelDbWork (dir: string): Array<[number, number]> {
  let text = ''
  try {
    text = readFileSync(join(dir, 'LOG'), 'latin1')
  } catch {
    return []
  }
  const out: Array<[number, number]> = []
  let open = NaN
  for (const line of text.split('\n')) {
    const m = /^(\d{4})\/(\d\d)\/(\d\d)-(\d\d):(\d\d):(\d\d)\.(\d{6}) \S+ (.*)$/.exec(line)
    if (m === null) continue
    const t = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]).getTime() + Number(m[7]) / 1000
    const msg = m[8]
    if (/^Level-0 table #\d+: started/.test(msg) || msg.startsWith('Compacting ')) {
      if (Number.isNaN(open)) open = t
    } else if (/^Level-0 table #\d+: \d+ bytes/.test(msg) || msg.startsWith('compacted to') || msg.startsWith('Compacted ')) {
      if (!Number.isNaN(open)) out.push([open, t])
      open = NaN
    }
  }
  return out
}

/**
 * LevelDB's write stalls from its LOG, over the node's whole run: the most level-0
 * files at once (one more a memtable flush, "Level-0 table #N: B bytes OK" with B > 0,
 * N fewer a compaction's "Compacted N@0"; at 8 every write sleeps 1 ms, which
 * LevelDB does not log, at 12 writes stop) and the waits it logs ("Too many L0
 * files; waiting...", "Current memtable full; waiting...").
 */
function levelDbStalls (dir: string): { maxL0: number, waits: number } {
  let text = ''
  try {
    text = readFileSync(join(dir, 'LOG'), 'latin1')
  } catch {
    return { maxL0: NaN, waits: NaN }
  }
  let l0 = 0
  let maxL0 = 0
  for (const m of text.matchAll(/Level-0 table #\d+: (\d+) bytes OK|Compacted (\d+)@0 /g)) {
    if (m[1] !== undefined) l0 += Number(m[1]) > 0 ? 1 : 0
    else l0 = Math.max(0, l0 - Number(m[2]))
    maxL0 = Math.max(maxL0, l0)
  }
  return { maxL0, waits: text.split('; waiting...').length - 1 }
}

/** Per node and run: what holds on a shared machine (counts) and what does not (ms). */
interface NodeSummary {
  eldUs: Window['eldUs']
  gaps: number
  gapMs: number
  gc: Record<string, { count: number, totalMs: number, maxMs: number }>
  spans: Record<string, { count: number, medianMs: number, maxMs: number }>
  counters: Record<string, number>
}

interface Run { target: string, idleCpuMsPerS: number, idleReadCallsPerS: number, cpuUsPerRequest: number, p50Ms: number, p99Ms: number, p999Ms: number, maxMs: number, loads: number[], nodes: NodeSummary[], attribution: Record<string, { count: number, over10: number }> }

async function runOnce (target: string, main: string): Promise<Run> {
  const dir = tempDir('dynakv-stalls-')
  process.env.DYNAKV_STALL_OUT = dir
  const probe = pathToFileURL(join(ROOT, 'dist', 'bench', 'stall-probe.js')).href
  const cluster = await startCluster(nodes, [...(nodes === 1 ? ['--n', '1', '--r', '1', '--w', '1'] : ['--n', '3', '--r', '2', '--w', '2']), '--log-level', 'warn', ...extraArgs], { node: [...nodeFlags, '--import', probe], main })
  const ports = cluster.map(p => p.port)
  const loads = [load1()]
  const counters = async (): Promise<Array<Record<string, number>>> => await Promise.all(ports.map(async port => {
    const text = await Promise.all(COUNTERS.map(async f => await infoField(port, 'all', f)))
    return Object.fromEntries(COUNTERS.map((f, i) => [f, text[i]]))
  }))
  try {
    const rb = ['-d', '100', '-r', String(KEYS), '-P', '1']
    await redisBenchmarkSpread(ports, 16, 20000, ['-t', 'set', ...rb])
    await redisBenchmarkSpread(ports, 16, 20000, ['-t', 'get', ...rb])
    await sleep(2000)
    const idleFrom = cluster.map(p => usageOf(p.pid))
    await sleep(idleSeconds * 1000)
    const idle = cluster.map((p, i) => usageSince(idleFrom[i], p.pid))
    const idleCpuMsPerS = idle.reduce((a, u) => a + u.totalUs, 0) / 1000 / idleSeconds
    const idleReadCallsPerS = idle.reduce((a, u) => a + u.readCalls, 0) / idleSeconds
    const common = { ports, connectionsPerPort: CONNECTIONS / ports.length, rate, keys: KEYS, valueBytes: 100, slowMs }
    if (warmupSeconds > 0) await runOpenLoop({ ...common, seconds: warmupSeconds })
    loads.push(load1())
    const before = await counters()
    for (const p of cluster) p.proc.kill('SIGUSR2')
    const runFrom = cluster.map(p => usageOf(p.pid))
    const r = await runOpenLoop({ ...common, seconds })
    const cpuUsPerRequest = cluster.reduce((a, p, i) => a + usageSince(runFrom[i], p.pid).totalUs, 0) / Math.max(1, r.answered)
    for (const p of cluster) p.proc.kill('SIGUSR2')
    const after = await counters()
    loads.push(load1())
    await sleep(500)
    const windows = cluster.map(p => {
      const files = readdirSync(dir).filter(f => f.startsWith(`${p.pid}-`)).sort()
      return JSON.parse(readFileSync(join(dir, files[files.length - 1]), 'utf8')) as Window
    })
    const out = process.stdout
    out.write(`\n${target}: open loop ${rate}/s for ${seconds} s over ${KEYS} keys, ${nodes === 1 ? '1 node' : '3 nodes N3 R2 W2'}${extraArgs.length > 0 ? ` (${extraArgs.join(' ')})` : ''}${nodeFlags.length > 0 ? ` node ${nodeFlags.join(' ')}` : ''}\n`)
    out.write(`p50 ${r.p50Ms} p99 ${r.p99Ms} p99.9 ${r.p999Ms} max ${r.maxMs} ms (SET ${r.setMs.join(' / ')}, GET ${r.getMs.join(' / ')}); answered ${r.answered}, errors ${r.errors}, lost ${r.dropped + r.unanswered}; generator send lag p99.9/max ${r.sendLagP999Ms}/${r.sendLagMaxMs} ms\n\n`)
    const summary: NodeSummary[] = windows.map((w, i) => {
      const gcBy = new Map<string, number[]>()
      for (const [, d, kind] of w.gc) {
        const ds = gcBy.get(kind) ?? []
        ds.push(d)
        gcBy.set(kind, ds)
      }
      const spanBy = new Map<string, number[]>()
      for (const [name, , d] of w.spans) {
        const ds = spanBy.get(name) ?? []
        ds.push(d)
        spanBy.set(name, ds)
      }
      const gapSum = (f: (g: Window['lag'][number]) => number): string => f1(w.lag.reduce((a, g) => a + f(g), 0))
      out.write(`n${i + 1}: event-loop delay p50 ${w.eldUs.p50} p99 ${w.eldUs.p99} p99.9 ${w.eldUs.p999} max ${w.eldUs.max} µs; loop gaps > 4 ms: ${w.lag.length}, total ${gapSum(g => g[1])} ms (on CPU ${gapSum(g => g[2])}, in the run queue ${gapSum(g => g[3])}), max ${f1(Math.max(0, ...w.lag.map(([, d]) => d)))} ms\n`)
      for (const [kind, ds] of gcBy) out.write(`    gc ${kind.padEnd(13)} ${String(ds.length).padStart(5)} pauses, total ${f1(ds.reduce((a, b) => a + b, 0)).padStart(7)} ms, max ${f1(Math.max(...ds)).padStart(6)} ms, over 4 ms: ${ds.filter(d => d > 4).length}\n`)
      for (const [name, ds] of [...spanBy].sort()) out.write(`    ${name.padEnd(18)} ${String(ds.length).padStart(5)} spans, median ${f1(median(ds))} ms, p99 ${f1(percentile(ds, 99))} ms, max ${f1(Math.max(...ds))} ms, busy ${f1(100 * ds.reduce((a, b) => a + b, 0) / (w.toMs - w.fromMs))} % of the window\n`)
      const counted = Object.fromEntries(COUNTERS.map(f => [f, after[i][f] - before[i][f]]))
      out.write(`    ${COUNTERS.map(f => `${f} +${counted[f]}`).join(', ')}\n`)
      return {
        eldUs: w.eldUs,
        gaps: w.lag.length,
        gapMs: w.lag.reduce((a, [, d]) => a + d, 0),
        gc: Object.fromEntries([...gcBy].map(([k, ds]) => [k, { count: ds.length, totalMs: ds.reduce((a, b) => a + b, 0), maxMs: Math.max(...ds) }])),
        spans: Object.fromEntries([...spanBy].map(([k, ds]) => [k, { count: ds.length, medianMs: median(ds), maxMs: Math.max(...ds) }])),
        counters: counted
      }
    })
    // Slow commits against LevelDB's flushes and compactions (one disk: any node's count).
    const bg = cluster.flatMap(p => levelDbWork(p.dir)).filter(([a, b]) => b > windows[0].fromMs && a < windows[0].toMs)
    const bgMs = bg.reduce((a, [x, y]) => a + Math.min(y, windows[0].toMs) - Math.max(x, windows[0].fromMs), 0)
    const commits = windows.flatMap(w => w.spans.filter(([name]) => name === 'store.write'))
    const slowCommits = commits.filter(([, , d]) => d >= SLOW_COMMIT_MS)
    const duringBg = slowCommits.filter(([, st, d]) => bg.some(([a, b]) => overlaps(st, st + d, a, b))).length
    out.write(`LevelDB flushes and compactions in the window: ${bg.length} (the 3 nodes), ${f1(bgMs)} ms, ${f1(100 * bgMs / (windows[0].toMs - windows[0].fromMs))} % of the window; commits > ${SLOW_COMMIT_MS} ms: ${slowCommits.length} of ${commits.length}, ${duringBg} of them during one\n`)
    out.write(`LevelDB's level 0 over each node's run (slowdown at 8 files, stop at 12): most files ${cluster.map(p => levelDbStalls(p.dir).maxL0).join(', ')}; waits logged ${cluster.map(p => levelDbStalls(p.dir).waits).join(', ')}\n`)
    // Each slow request: what overlapped it on the node it was sent to, else on the others.
    const attribution = new Map<string, { count: number, over10: number }>()
    for (const [due, ms, portIndex, sendLagMs, isSet] of r.slow as SlowRequest[]) {
      let causes = causesOn(windows[portIndex], due, due + ms, isSet)
      if (sendLagMs >= ms / 2) causes = ['the generator sent it late', ...causes]
      if (causes.length === 0) causes = windows.flatMap((w, j) => j === portIndex ? [] : causesOn(w, due, due + ms, isSet).map(c => `other node ${c}`))
      const key = `${isSet ? 'SET' : 'GET'}: ${causes.length === 0 ? 'nothing seen (thread pool, disk, sockets, run queue)' : [...new Set(causes)].sort().join(', ')}`
      const a = attribution.get(key) ?? { count: 0, over10: 0 }
      a.count++
      if (ms > 10) a.over10++
      attribution.set(key, a)
    }
    out.write(`\n${r.slow.length} requests slower than ${slowMs} ms (${(100 * r.slow.length / Math.max(1, r.answered)).toFixed(2)} %), by what overlapped them (on their node first):\n`)
    for (const [key, a] of [...attribution].sort((x, y) => y[1].count - x[1].count)) out.write(`  ${String(a.count).padStart(6)} (${String(a.over10).padStart(5)} over 10 ms)  ${key}\n`)
    out.write(`load average (1 min) at the start, before and after the measured run: ${loads.join(', ')}\n`)
    out.write(`idle, before the load: ${f1(idleCpuMsPerS)} ms of CPU per second and ${Math.round(idleReadCallsPerS)} read syscalls per second, the 3 nodes together\n`)
    out.write(`under the load: ${f1(cpuUsPerRequest)} µs of CPU per request, the 3 nodes together\n`)
    return { target, idleCpuMsPerS, idleReadCallsPerS, cpuUsPerRequest, p50Ms: r.p50Ms, p99Ms: r.p99Ms, p999Ms: r.p999Ms, maxMs: r.maxMs, loads, nodes: summary, attribution: Object.fromEntries(attribution) }
  } finally {
    for (const p of cluster) await p.stop()
    // DYNAKV_BENCH_OUTPUT=<prefix>: each node's stdout and stderr (with DYNAKV_BENCH_NODE=--trace-gc, its GC log).
    if (process.env.DYNAKV_BENCH_OUTPUT !== undefined) cluster.forEach((p, i) => writeFileSync(`${process.env.DYNAKV_BENCH_OUTPUT as string}n${i + 1}.log`, p.output()))
  }
}

async function main (): Promise<void> {
  const targets: Array<[string, string]> = [['this build', MAIN]]
  if (baseline !== undefined) targets.push([`base ${baseline}`, join(baseline, 'dist', 'lib', 'cli', 'main.js')])
  const runs: Run[] = []
  for (let round = 0; round < rounds; round++) for (const [name, main] of targets) runs.push(await runOnce(name, main))
  // Per run, summed or worst over the nodes; counts hold on a shared machine, milliseconds do not.
  const out = process.stdout
  const sum = (r: Run, f: (n: NodeSummary) => number): number => r.nodes.reduce((a, n) => a + (f(n) || 0), 0)
  const worst = (r: Run, f: (n: NodeSummary) => number): number => Math.max(...r.nodes.map(n => f(n) || 0))
  out.write(`\n${'target'.padEnd(12)}${'p50/p99/p99.9 ms'.padStart(22)}${'scav'.padStart(6)}${'scav ms'.padStart(9)}${'mc+inc'.padStart(8)}${'mc ms'.padStart(8)}${'gc max'.padStart(8)}${'gaps'.padStart(6)}${'eld p99.9'.padStart(11)}${'sweep rows'.padStart(12)}${'ae repaired'.padStart(13)}${'idle CPU ms/s'.padStart(15)}${'CPU µs/req'.padStart(12)}${'load'.padStart(7)}\n`)
  for (const r of runs) {
    out.write(`${r.target.slice(0, 11).padEnd(12)}${`${r.p50Ms.toFixed(1)}/${r.p99Ms.toFixed(1)}/${r.p999Ms.toFixed(1)}`.padStart(22)}` +
      `${String(sum(r, n => n.gc.scavenge?.count)).padStart(6)}${f1(sum(r, n => n.gc.scavenge?.totalMs)).padStart(9)}` +
      `${String(sum(r, n => (n.gc['mark-compact']?.count ?? 0) + (n.gc.incremental?.count ?? 0))).padStart(8)}${f1(sum(r, n => (n.gc['mark-compact']?.totalMs ?? 0) + (n.gc.incremental?.totalMs ?? 0))).padStart(8)}` +
      `${f1(worst(r, n => Math.max(0, ...Object.values(n.gc).map(g => g.maxMs)))).padStart(8)}${String(sum(r, n => n.gaps)).padStart(6)}${String(worst(r, n => n.eldUs.p999)).padStart(11)}` +
      `${String(sum(r, n => n.counters.sweep_rows_read)).padStart(12)}${String(sum(r, n => n.counters.ae_keys_repaired)).padStart(13)}${f1(r.idleCpuMsPerS).padStart(15)}${f1(r.cpuUsPerRequest).padStart(12)}${r.loads[r.loads.length - 1].toFixed(1).padStart(7)}\n`)
  }
  out.write('(summed over the 3 nodes: scavenges, their pause ms, mark-compact and incremental-marking pauses and their ms, loop gaps > 4 ms; worst node: longest GC pause, event-loop delay p99.9 µs)\n')
  out.write(`results: ${writeResult('stalls', { rate, seconds, extraArgs, nodeFlags, runs })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
