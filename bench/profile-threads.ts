// Where a durable SET's CPU goes by thread: one warm dynakv node (default
// --sync) under redis-benchmark SET (-c 50 -d 100 -r 100000), its threads'
// utime + stime from /proc/PID/task/*/stat before and after each run, summed
// by what the thread is (roleOf) and divided by requests; and the group
// commits (INFO write_batches).
//   DYNAKV_BENCH_REQUESTS=100000 DYNAKV_BENCH_ROUNDS=3 DYNAKV_BENCH_TESTS='SET P16,SET P1'
//   DYNAKV_BENCH_MAIN=<dir of another built checkout> (its dist/lib/cli/main.js)
//   DYNAKV_BENCH_ARGS='server flags' DYNAKV_BENCH_NODE='node flags'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { infoField, load1, redisBenchmark, startDynakv, statCpuUs } from './lib.js'

const REQUESTS = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 100000)
const ROUNDS = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const TESTS = (process.env.DYNAKV_BENCH_TESTS ?? 'SET P16,SET P1').split(',').map(t => { const [op, p] = t.split(' '); return [op, Number(p.slice(1))] as const })
const words = (s: string | undefined): string[] => (s ?? '').split(/\s+/).filter(w => w !== '')

/**
 * What each thread is, from its rank in creation order (every thread is named
 * "node"; gdb's `thread apply all bt` of a warm node showed this order on
 * node 22): the main thread, node's delayed-task scheduler, V8's platform
 * workers (--v8-pool-size, 4: the GC's parallel and concurrent helpers, the
 * compiler), the inspector's I/O thread, libuv's pool (UV_THREADPOOL_SIZE,
 * 4: LevelDB's writes with their WAL append and fsync, and its reads), then
 * LevelDB's background thread (memtable flushes and compactions), started at
 * its first compaction.
 */
function roleOf (rank: number): string {
  const pool = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
  if (rank === 0) return 'main (JavaScript)'
  if (rank === 1) return 'node task scheduler'
  if (rank <= 5) return 'V8 workers (GC, compiler)'
  if (rank === 6) return 'inspector I/O'
  if (rank <= 6 + pool) return 'libuv pool (LevelDB write, WAL, fsync, reads)'
  return 'LevelDB background (flush, compaction)'
}

/** utime + stime in µs per thread role (threads that exited are lost: all of these live as long as the process). */
function byThread (pid: number): Map<string, number> {
  const out = new Map<string, number>()
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b)
  for (let rank = 0; rank < tids.length; rank++) {
    try {
      const { userUs, sysUs } = statCpuUs(`/proc/${pid}/task/${tids[rank]}/stat`)
      const name = roleOf(rank)
      out.set(name, (out.get(name) ?? 0) + userUs + sysUs)
    } catch {} // exited meanwhile
  }
  return out
}

async function main (): Promise<void> {
  const mainJs = process.env.DYNAKV_BENCH_MAIN === undefined ? undefined : join(process.env.DYNAKV_BENCH_MAIN, 'dist', 'lib', 'cli', 'main.js')
  const p = await startDynakv(['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn', ...words(process.env.DYNAKV_BENCH_ARGS)], { main: mainJs, node: words(process.env.DYNAKV_BENCH_NODE) })
  try {
    const run = async (op: string, P: number, n: number): Promise<void> => { await redisBenchmark(p.port, ['-t', op.toLowerCase(), '-n', String(n), '-c', '50', '-d', '100', '-r', '100000', '-P', String(P)]) }
    for (const [op, P] of TESTS) await run(op, P, REQUESTS) // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [op, P] of TESTS) {
        const n = P === 1 ? Math.round(REQUESTS / 2) : REQUESTS
        const b0 = await infoField(p.port, 'persistence', 'write_batches')
        const before = byThread(p.pid)
        const t0 = process.hrtime.bigint()
        await run(op, P, n)
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9
        const after = byThread(p.pid)
        const batches = await infoField(p.port, 'persistence', 'write_batches') - b0
        let total = 0
        const rows: Array<[string, number]> = []
        for (const [name, us] of after) {
          const d = (us - (before.get(name) ?? 0)) / n
          total += d
          if (d > 0) rows.push([name, d])
        }
        rows.sort((a, b) => b[1] - a[1])
        process.stdout.write(`round ${round} ${op} -P${P}: ${Math.round(n / seconds)}/s, ${total.toFixed(1)} µs CPU/request, ${(n / batches).toFixed(1)} writes/batch, ${(batches / seconds).toFixed(0)} batches/s, load ${load1()}\n`)
        for (const [name, d] of rows) process.stdout.write(`  ${name.padEnd(48)}${d.toFixed(2).padStart(7)} µs\n`)
      }
    }
  } finally {
    await p.stop()
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
