// Where a bulk load's time goes: `redis-cli --pipe` of KEYS 100-byte SETs (one
// connection, everything pipelined) into redis-server appendfsync always and
// into durable dynakv nodes started with each variant's node flags and
// environment, in interleaved rounds. Per load: wall time, the server's CPU
// per SET (all threads, and the main thread alone), the group commits (INFO
// write_batches, batched_writes, write_ms: how big a batch is and how long its
// store write takes), peak RSS (VmHWM), and the store reads (INFO store_reads:
// in a load of new keys, the filter's false positives) and the rounds they
// were read in (read_batches: a getMany, or a few synchronous reads, each);
// and each load's timeline (DYNAKV_BENCH_SAMPLE_MS, 5; 0: none): every 5 ms,
// the node's threads' run time and wait for a core (/proc/PID/task/*/schedstat)
// and state, so the wall time splits into the main thread running, waiting
// for a core, and idle with the group commit on (a pool thread running,
// runnable or in D: its fsync) or off; the overlap of the main thread with
// the commit; LevelDB's background thread, V8's workers and redis-cli.
//   DYNAKV_BENCH_KEYS=300000 DYNAKV_BENCH_ROUNDS=2 node dist/bench/bulk-load.js
//   DYNAKV_BENCH_VARIANTS='default;growing 0=--heap-growing-percent=0;small cache=|--cache-mb 16'
//   (name=node flags and VAR=value environment | server flags; ';' between variants)
//   DYNAKV_BENCH_BASELINE=<dir of another built checkout>: every variant also
//   runs on that build's dist/lib/cli/main.js, as "<name> (base)", in the same rounds
// The nodes get bin/dynakv's environment (lib/cli/launch.ts) beneath each
// variant's own; DYNAKV_BENCH_RAW=1: node's defaults.
//   DYNAKV_BENCH_STORE_BATCH=1376: then the store alone (lib/storage/store.ts on
//   classic-level, in this process), the same KEYS writes as the engine stores
//   them (md5 ‖ 0 ‖ key, 120-byte values) in commits of that many ops, one and two
//   at a time, fsynced and not: what a group commit costs without the server
//   around it (docs/performance.md, "Session 9, bulk9"), with this process's CPU
//   a write by thread (LevelDB's background thread: its compactions);
//   DYNAKV_BENCH_STORE_MODES=server: only 2 in flight, fsynced, as the server
//   writes; DYNAKV_BENCH_SERVERS=0 skips the servers.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { classicLevelStore, type WriteOp } from '../lib/storage/store.js'
import { realClock } from '../lib/runtime/clock.js'
import { keyRef } from '../lib/node/keys.js'
import { serverEnv } from '../lib/cli/launch.js'
import { byThread, poolSizeOf, roleOf } from './threads.js'
import { infoField, load1, median, memOf, redisCliPipe, removeDir, startDynakv, startRedis, statCpuUs, tempDir, usageOf, usageSince, writePipeFile, writeResult, type Proc } from './lib.js'

const KEYS = Number(process.env.DYNAKV_BENCH_KEYS ?? 300_000)
const ROUNDS = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 2)
const TIMEOUT_S = Number(process.env.DYNAKV_BENCH_LOAD_TIMEOUT_S ?? 400)
const MB = 1024 * 1024

interface Variant { name: string, node: string[], env: Record<string, string>, args: string[], main?: string }

const BASELINE = process.env.DYNAKV_BENCH_BASELINE
const STORE_BATCH = Number(process.env.DYNAKV_BENCH_STORE_BATCH ?? 0)
const SERVERS = process.env.DYNAKV_BENCH_SERVERS !== '0'
/** Every SAMPLE_MS during a load: each thread's run time (/proc/.../schedstat, ns) and state; 0: no timeline (the sampling costs this process some CPU). */
const SAMPLE_MS = Number(process.env.DYNAKV_BENCH_SAMPLE_MS ?? 5)

/** A pipe-file key's storage key: md5 (16) ‖ 0 ‖ `key:` and 12 digits. */
const SKEY = 16 + 1 + 16

interface StoreRun { name: string, seconds: number, commits: number, msMedian: number, msP90: number, /** This process's CPU µs a write by thread role over the run (LevelDB's background thread: its compactions). */ threads: Record<string, number> }

/** KEYS writes straight into a classic-level store in commits of `batch` ops, `inflight` at once. */
async function storeOnly (keys: Buffer, batch: number, inflight: number, sync: boolean): Promise<StoreRun> {
  const dir = tempDir('dynakv-bench-store-')
  const store = classicLevelStore(dir, realClock)
  await store.open()
  await store.filterBuilt()
  const value = Buffer.alloc(120, 120)
  const ms: number[] = []
  const running = new Set<Promise<void>>()
  const cpuBefore = byThread(process.pid)
  let closed = false
  const started = performance.now()
  try {
    for (let n = 0; n < KEYS;) {
      const ops: WriteOp[] = []
      for (const end = Math.min(KEYS, n + batch); n < end; n++) ops.push({ space: 'data', key: keys.subarray(n * SKEY, (n + 1) * SKEY), value })
      const t = performance.now()
      const p: Promise<void> = store.write(ops, sync).then(() => {
        ms.push(performance.now() - t)
        running.delete(p)
      })
      running.add(p)
      if (running.size >= inflight) await Promise.race(running)
    }
    await Promise.all(running)
    // Timed with the close: LevelDB's close waits for the compaction running, part of the load's cost.
    await store.close()
    closed = true
  } finally {
    if (!closed) await store.close()
    removeDir(dir)
  }
  const seconds = (performance.now() - started) / 1000
  const threads: Record<string, number> = {}
  for (const [role, us] of byThread(process.pid)) {
    const d = (us - (cpuBefore.get(role) ?? 0)) / KEYS
    if (d >= 0.05) threads[role.replace(/ \(.*/, '')] = Math.round(d * 100) / 100
  }
  ms.sort((a, b) => a - b)
  return { name: `${inflight} in flight${sync ? ', fsynced' : ', no fsync'}`, seconds, commits: ms.length, msMedian: median(ms), msP90: ms[Math.floor(ms.length * 0.9)], threads }
}

async function storeRuns (): Promise<void> {
  // The storage keys the engine makes for bench/lib's pipe file's keys (lib/node/keys.ts: md5(key) ‖ 0 ‖ key).
  // One buffer, not a million Buffers (the store's timing would pay their GC): SKEY bytes each.
  const keys = Buffer.allocUnsafe(KEYS * SKEY)
  for (let i = 0; i < KEYS; i++) keyRef(Buffer.from(`key:${String(i).padStart(12, '0')}`), 0).skey.copy(keys, i * SKEY)
  const out = process.stdout
  out.write(`\nthe store alone: ${KEYS} writes in commits of ${STORE_BATCH} (load ${load1()})\n`)
  out.write(`${'commits'.padEnd(28)}${'seconds'.padStart(9)}${'commits'.padStart(9)}${'ms p50'.padStart(9)}${'ms p90'.padStart(9)}${'µs/SET'.padStart(9)}\n`)
  const runs: StoreRun[] = []
  const modes = process.env.DYNAKV_BENCH_STORE_MODES === 'server' ? [[2, true]] as const : [[1, true], [2, true], [1, false]] as const
  for (const [inflight, sync] of modes) {
    const r = await storeOnly(keys, STORE_BATCH, inflight, sync)
    runs.push(r)
    out.write(`${r.name.padEnd(28)}${r.seconds.toFixed(1).padStart(9)}${String(r.commits).padStart(9)}${r.msMedian.toFixed(1).padStart(9)}${r.msP90.toFixed(1).padStart(9)}${(r.seconds * 1e6 / KEYS).toFixed(1).padStart(9)}  CPU µs a write: ${JSON.stringify(r.threads)}\n`)
  }
  out.write(`load average (1 min) after: ${load1()}\n`)
  out.write(`results: ${writeResult('bulk-load-store', { keys: KEYS, batch: STORE_BATCH, runs })}\n`)
}

/** `name=flag flag VAR=value` items separated by ';' (a bare name: no flags). */
function variants (spec: string): Variant[] {
  return spec.split(';').map(s => s.trim()).filter(s => s !== '').map((s) => {
    const eq = s.indexOf('=')
    const name = eq < 0 ? s : s.slice(0, eq)
    const [before, after] = (eq < 0 ? '' : s.slice(eq + 1)).split('|')
    const words = before.split(/\s+/).filter(w => w !== '')
    const args = (after ?? '').split(/\s+/).filter(w => w !== '')
    const env: Record<string, string> = {}
    const node: string[] = []
    for (const w of words) {
      if (w.startsWith('-')) node.push(w)
      else env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1)
    }
    return { name, node, env, args }
  })
}

/** CPU µs by thread name (/proc/PID/task/TID/comm): redis-server's threads (a node's are all "node": see threads.ts). */
function cpuByThread (pid: number): Record<string, number> {
  const by: Record<string, number> = {}
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim()
      const { userUs, sysUs } = statCpuUs(`/proc/${pid}/task/${tid}/stat`)
      by[name] = (by[name] ?? 0) + userUs + sysUs
    } catch {} // exited
  }
  return by
}

/**
 * A load's timeline by thread, in seconds of its wall time: what each thread
 * ran (schedstat's run time, ns: precise where stat's ticks are 10 ms), and
 * how the main thread's and the group commit's time overlap. The commit is
 * "on" in a sample interval when a pool thread ran, or is runnable (R) or in
 * D (its fsync) at the sample.
 */
interface Timeline {
  wall: number
  /** Run time (s) by role, and redis-cli's. */
  main: number, pool: number, background: number, v8: number, cli: number
  /** redis-cli's wait for a core. */
  cliWait: number
  /** The main thread's wait for a core (runnable, not running: the machine's other load). */
  mainWaitCpu: number
  /** Wall time the commit was on; with the main thread running (overlap) and not running. */
  commitOn: number, overlap: number, mainIdleCommitOn: number
  /** Wall time the main thread was not running and no commit was on. */
  bothIdle: number
  /** Of mainIdleCommitOn and bothIdle, the time the main thread was not waiting for a core either: idle (a wait is added to the interval its thread got the core in, so these are clamped at 0 per interval). */
  mainIdleCommitOnNet: number, bothIdleNet: number
  /** LevelDB's background thread busy while the commit was on. */
  backgroundDuringCommit: number
  samples: number
}

function readSched (path: string): [number, number] {
  const f = readFileSync(path, 'latin1').split(' ')
  return [Number(f[0]), Number(f[1])]
}

function stateOf (path: string): string {
  const s = readFileSync(path, 'latin1')
  return s[s.lastIndexOf(')') + 2]
}

/** Samples pid's threads (and redis-cli's, a child of this process) every SAMPLE_MS until stopped. */
function sampleTimeline (pid: number): { stop: () => Timeline } {
  const pool = poolSizeOf(pid)
  const t: Timeline = { wall: 0, main: 0, pool: 0, background: 0, v8: 0, cli: 0, cliWait: 0, mainWaitCpu: 0, mainIdleCommitOnNet: 0, bothIdleNet: 0, commitOn: 0, overlap: 0, mainIdleCommitOn: 0, bothIdle: 0, backgroundDuringCommit: 0, samples: 0 }
  let cliPid = 0
  const findCli = (): void => {
    for (const d of readdirSync('/proc')) {
      if (d.charCodeAt(0) > 57) continue
      try {
        const s = readFileSync(`/proc/${d}/stat`, 'latin1')
        const after = s.slice(s.lastIndexOf(')') + 2).split(' ')
        if (s.includes('(redis-cli)') && Number(after[1]) === process.pid) { cliPid = Number(d); return }
      } catch {}
    }
  }
  const prev = new Map<number, number>()
  let prevMainWait = -1
  let prevCli = -1
  let prevCliWait = -1
  let last = performance.now()
  const started = last
  const tick = (): void => {
    const now = performance.now()
    const dt = (now - last) / 1000
    last = now
    const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b)
    let dMain = 0; let dWait = 0; let dPool = 0; let dBg = 0; let dV8 = 0; let commit = false
    for (let rank = 0; rank < tids.length; rank++) {
      const base = `/proc/${pid}/task/${tids[rank]}/`
      let run: number, wait: number
      try { [run, wait] = readSched(base + 'schedstat') } catch { continue }
      const before = prev.get(tids[rank])
      prev.set(tids[rank], run)
      const d = before === undefined ? 0 : (run - before) / 1e9
      const role = roleOf(rank, pool)
      if (rank === 0) {
        dMain = d
        if (prevMainWait >= 0) dWait = (wait - prevMainWait) / 1e9
        prevMainWait = wait
      } else if (role.startsWith('libuv')) {
        dPool += d
        if (d > 0) commit = true
        else {
          // Waiting for a core (R) or the disk (D): the commit is on all the same.
          try { const st = stateOf(base + 'stat'); if (st === 'D' || st === 'R') commit = true } catch {}
        }
      } else if (role.startsWith('LevelDB')) dBg += d
      else if (role.startsWith('V8')) dV8 += d
    }
    if (cliPid === 0) findCli()
    else {
      try {
        const [run, wait] = readSched(`/proc/${cliPid}/schedstat`)
        if (prevCli >= 0) {
          t.cli += (run - prevCli) / 1e9
          t.cliWait += (wait - prevCliWait) / 1e9
        }
        prevCli = run
        prevCliWait = wait
      } catch {}
    }
    if (t.samples++ === 0) return // the first sample only sets the counters
    t.main += dMain; t.mainWaitCpu += dWait; t.pool += dPool; t.background += dBg; t.v8 += dV8
    const fm = dt > 0 ? Math.min(1, dMain / dt) : 0
    const idle = dt > 0 ? Math.max(0, 1 - fm - dWait / dt) : 0
    if (commit) {
      t.commitOn += dt
      t.overlap += fm * dt
      t.mainIdleCommitOn += (1 - fm) * dt
      t.mainIdleCommitOnNet += idle * dt
      t.backgroundDuringCommit += dBg
    } else {
      t.bothIdle += (1 - fm) * dt
      t.bothIdleNet += idle * dt
    }
  }
  tick()
  const timer = setInterval(tick, SAMPLE_MS)
  return {
    stop: () => {
      clearInterval(timer)
      tick()
      t.wall = (performance.now() - started) / 1000
      return t
    }
  }
}

function timelineLine (t: Timeline): string {
  const s = (x: number): string => x.toFixed(2)
  const pc = (x: number): string => `${(100 * x / t.wall).toFixed(0)} %`
  return `wall ${s(t.wall)} s; run: main ${s(t.main)} (${pc(t.main)}; waited for a core ${s(t.mainWaitCpu)}), pool ${s(t.pool)}, LevelDB background ${s(t.background)}, V8 workers ${s(t.v8)}, redis-cli ${s(t.cli)} (waited for a core ${s(t.cliWait)}); ` +
    `commit on ${s(t.commitOn)} (${pc(t.commitOn)}): main busy meanwhile ${s(t.overlap)}, main not running meanwhile ${s(t.mainIdleCommitOn)} (${pc(t.mainIdleCommitOn)}; idle, not waiting for a core: ${s(t.mainIdleCommitOnNet)}, ${pc(t.mainIdleCommitOnNet)}); main not running, no commit ${s(t.bothIdle)} (${pc(t.bothIdle)}; idle: ${s(t.bothIdleNet)}, ${pc(t.bothIdleNet)}); background during commits ${s(t.backgroundDuringCommit)}; ${t.samples} samples`
}

interface Load { timeline?: Timeline, threads: Record<string, number>, seconds: number, cpuUsPerSet: number, mainUsPerSet: number, hwmMb: number, replies: number }

async function pipe (p: Proc, file: string, node: boolean): Promise<Load> {
  const before = usageOf(p.pid)
  const sampler = SAMPLE_MS > 0 && node ? sampleTimeline(p.pid) : null
  const started = performance.now()
  const { output } = await redisCliPipe(p.port, file, TIMEOUT_S)
  const seconds = (performance.now() - started) / 1000
  const timeline = sampler?.stop()
  const used = usageSince(before, p.pid)
  const replies = Number(/replies: (\d+)/.exec(output)?.[1] ?? NaN)
  const threads = Object.fromEntries(Object.entries(node ? Object.fromEntries(byThread(p.pid)) : cpuByThread(p.pid)).map(([k, v]) => [k, Math.round(v / KEYS * 10) / 10]))
  return { timeline, threads, seconds, cpuUsPerSet: used.totalUs / KEYS, mainUsPerSet: used.mainUs / KEYS, hwmMb: memOf(p.pid).peakRssBytes / MB, replies }
}

async function main (): Promise<void> {
  if (SERVERS) await servers()
  if (STORE_BATCH > 0) await storeRuns()
}

async function servers (): Promise<void> {
  if (process.env.DYNAKV_BENCH_RAW !== '1') Object.assign(process.env, serverEnv(process.env))
  const own = variants(process.env.DYNAKV_BENCH_VARIANTS ?? 'default')
  const vs = BASELINE === undefined ? own : own.flatMap(v => [v, { ...v, name: `${v.name} (base)`, main: join(BASELINE, 'dist', 'lib', 'cli', 'main.js') }])
  const work = tempDir('dynakv-bench-bulk-')
  const file = join(work, 'sets.resp')
  writePipeFile(file, KEYS)
  const results = new Map<string, Array<Load & { batches: number, batchedWrites: number, writeMs: number, storeReads: number, readBatches: number }>>()
  const loads = [load1()]
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const redis = await startRedis({ fsync: 'always' })
      try {
        const l = await pipe(redis, file, false)
        results.set('redis always', [...results.get('redis always') ?? [], { ...l, batches: NaN, batchedWrites: NaN, writeMs: NaN, storeReads: NaN, readBatches: NaN }])
      } finally {
        await redis.stop()
      }
      // Each round starts with the next variant: what runs first meets a different machine load.
      for (const v of vs.map((_, i) => vs[(i + round) % vs.length])) {
        const saved: Record<string, string | undefined> = {}
        for (const [k, val] of Object.entries(v.env)) {
          saved[k] = process.env[k]
          process.env[k] = val
        }
        const node = await startDynakv(['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn', ...v.args], { node: v.node, main: v.main })
        for (const k of Object.keys(v.env)) {
          if (saved[k] === undefined) delete process.env[k]
          else process.env[k] = saved[k]
        }
        try {
          const l = await pipe(node, file, true)
          const batches = await infoField(node.port, 'persistence', 'write_batches')
          const batchedWrites = await infoField(node.port, 'persistence', 'batched_writes')
          const writeMs = await infoField(node.port, 'persistence', 'batch_write_ms_total')
          const storeReads = await infoField(node.port, 'stats', 'store_reads')
          const readBatches = await infoField(node.port, 'stats', 'read_batches')
          results.set(v.name, [...results.get(v.name) ?? [], { ...l, batches, batchedWrites, writeMs, storeReads, readBatches }])
        } finally {
          await node.stop()
          removeDir(node.dir)
        }
      }
      loads.push(load1())
    }
  } finally {
    removeDir(work)
  }
  const out = process.stdout
  out.write(`\nredis-cli --pipe of ${KEYS} SETs of 100 bytes, ${ROUNDS} rounds, medians (per round: seconds)\n`)
  out.write(`${'server'.padEnd(28)}${'seconds'.padStart(9)}${'× redis'.padStart(9)}${'CPU µs/SET'.padStart(12)}${'main µs'.padStart(9)}${'batches'.padStart(9)}${'SETs/batch'.padStart(12)}${'ms/batch'.padStart(10)}${'VmHWM'.padStart(8)}${'reads'.padStart(8)}${'loads'.padStart(7)}  rounds\n`)
  const redisS = median((results.get('redis always') ?? []).map(l => l.seconds))
  for (const [name, ls] of results) {
    const m = (f: (l: typeof ls[number]) => number): number => median(ls.map(f))
    out.write(`${name.padEnd(28)}${m(l => l.seconds).toFixed(1).padStart(9)}${(m(l => l.seconds) / redisS).toFixed(2).padStart(9)}${m(l => l.cpuUsPerSet).toFixed(1).padStart(12)}${m(l => l.mainUsPerSet).toFixed(1).padStart(9)}${m(l => l.batches).toFixed(0).padStart(9)}${m(l => l.batchedWrites / l.batches).toFixed(0).padStart(12)}${m(l => l.writeMs / l.batches).toFixed(1).padStart(10)}${m(l => l.hwmMb).toFixed(0).padStart(8)}${m(l => l.storeReads).toFixed(0).padStart(8)}${m(l => l.readBatches).toFixed(0).padStart(7)}  ${ls.map(l => l.seconds.toFixed(1)).join(' ')}${ls.some(l => l.replies !== KEYS) ? ' (INCOMPLETE)' : ''}\n`)
    out.write(`  CPU µs/SET by thread (first round, whole process life): ${JSON.stringify(ls[0].threads)}\n`)
    for (let i = 0; i < ls.length; i++) {
      const t = ls[i].timeline
      if (t !== undefined) out.write(`  round ${i + 1} timeline: ${timelineLine(t)}\n`)
    }
  }
  out.write(`load average (1 min) at the start and after each round: ${loads.join(', ')}\n`)
  out.write(`results: ${writeResult('bulk-load', { keys: KEYS, rounds: ROUNDS, variants: vs, loads, results: Object.fromEntries(results) })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
