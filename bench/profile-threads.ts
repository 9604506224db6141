// Where a durable SET's CPU goes by thread: one warm dynakv node (default
// --sync) under redis-benchmark SET (-c 50 -d 100 -r 100000), its threads'
// utime + stime from /proc/PID/task/*/stat before and after each run, summed
// by what the thread is (roleOf) and divided by requests; and the group
// commits (INFO write_batches).
//   DYNAKV_BENCH_REQUESTS=100000 DYNAKV_BENCH_ROUNDS=3 DYNAKV_BENCH_TESTS='SET P16,SET P1'
//   DYNAKV_BENCH_MAIN=<dir of another built checkout> (its dist/lib/cli/main.js)
//   DYNAKV_BENCH_ARGS='server flags' DYNAKV_BENCH_NODE='node flags'
import { join } from 'node:path'
import { infoField, load1, redisBenchmark, startDynakv } from './lib.js'
import { byThread } from './threads.js'

const REQUESTS = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 100000)
const ROUNDS = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const TESTS = (process.env.DYNAKV_BENCH_TESTS ?? 'SET P16,SET P1').split(',').map(t => { const [op, p] = t.split(' '); return [op, Number(p.slice(1))] as const })
const words = (s: string | undefined): string[] => (s ?? '').split(/\s+/).filter(w => w !== '')

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
