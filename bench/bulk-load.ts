// Where a bulk load's time goes: `redis-cli --pipe` of KEYS 100-byte SETs (one
// connection, everything pipelined) into redis-server appendfsync always and
// into durable dynakv nodes started with each variant's node flags and
// environment, in interleaved rounds. Per load: wall time, the server's CPU
// per SET (all threads, and the main thread alone), the group commits (INFO
// write_batches, batched_writes, write_ms: how big a batch is and how long its
// store write takes), peak RSS (VmHWM), and the store reads (INFO store_reads:
// in a load of new keys, the filter's false positives) and the rounds they
// were read in (read_batches: a getMany, or a few synchronous reads, each).
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
//   around it (docs/performance.md, "Session 9, bulk9"); DYNAKV_BENCH_SERVERS=0
//   skips the servers.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { classicLevelStore, type WriteOp } from '../lib/storage/store.js'
import { keyRef } from '../lib/node/keys.js'
import { serverEnv } from '../lib/cli/launch.js'
import { byThread } from './threads.js'
import { infoField, load1, median, memOf, redisCliPipe, removeDir, startDynakv, startRedis, statCpuUs, tempDir, usageOf, usageSince, writePipeFile, writeResult, type Proc } from './lib.js'

const KEYS = Number(process.env.DYNAKV_BENCH_KEYS ?? 300_000)
const ROUNDS = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 2)
const TIMEOUT_S = Number(process.env.DYNAKV_BENCH_LOAD_TIMEOUT_S ?? 400)
const MB = 1024 * 1024

interface Variant { name: string, node: string[], env: Record<string, string>, args: string[], main?: string }

const BASELINE = process.env.DYNAKV_BENCH_BASELINE
const STORE_BATCH = Number(process.env.DYNAKV_BENCH_STORE_BATCH ?? 0)
const SERVERS = process.env.DYNAKV_BENCH_SERVERS !== '0'

/** A pipe-file key's storage key: md5 (16) ‖ 0 ‖ `key:` and 12 digits. */
const SKEY = 16 + 1 + 16

interface StoreRun { name: string, seconds: number, commits: number, msMedian: number, msP90: number }

/** KEYS writes straight into a classic-level store in commits of `batch` ops, `inflight` at once. */
async function storeOnly (keys: Buffer, batch: number, inflight: number, sync: boolean): Promise<StoreRun> {
  const dir = tempDir('dynakv-bench-store-')
  const store = classicLevelStore(dir)
  await store.open()
  await store.filterBuilt()
  const value = Buffer.alloc(120, 120)
  const ms: number[] = []
  const running = new Set<Promise<void>>()
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
  } finally {
    await store.close()
    removeDir(dir)
  }
  const seconds = (performance.now() - started) / 1000
  ms.sort((a, b) => a - b)
  return { name: `${inflight} in flight${sync ? ', fsynced' : ', no fsync'}`, seconds, commits: ms.length, msMedian: median(ms), msP90: ms[Math.floor(ms.length * 0.9)] }
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
  for (const [inflight, sync] of [[1, true], [2, true], [1, false]] as const) {
    const r = await storeOnly(keys, STORE_BATCH, inflight, sync)
    runs.push(r)
    out.write(`${r.name.padEnd(28)}${r.seconds.toFixed(1).padStart(9)}${String(r.commits).padStart(9)}${r.msMedian.toFixed(1).padStart(9)}${r.msP90.toFixed(1).padStart(9)}${(r.seconds * 1e6 / KEYS).toFixed(1).padStart(9)}\n`)
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

interface Load { threads: Record<string, number>, seconds: number, cpuUsPerSet: number, mainUsPerSet: number, hwmMb: number, replies: number }

async function pipe (p: Proc, file: string, node: boolean): Promise<Load> {
  const before = usageOf(p.pid)
  const started = performance.now()
  const { output } = await redisCliPipe(p.port, file, TIMEOUT_S)
  const seconds = (performance.now() - started) / 1000
  const used = usageSince(before, p.pid)
  const replies = Number(/replies: (\d+)/.exec(output)?.[1] ?? NaN)
  const threads = Object.fromEntries(Object.entries(node ? Object.fromEntries(byThread(p.pid)) : cpuByThread(p.pid)).map(([k, v]) => [k, Math.round(v / KEYS * 10) / 10]))
  return { threads, seconds, cpuUsPerSet: used.totalUs / KEYS, mainUsPerSet: used.mainUs / KEYS, hwmMb: memOf(p.pid).peakRssBytes / MB, replies }
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
  }
  out.write(`load average (1 min) at the start and after each round: ${loads.join(', ')}\n`)
  out.write(`results: ${writeResult('bulk-load', { keys: KEYS, rounds: ROUNDS, variants: vs, loads, results: Object.fromEntries(results) })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
