// `make bench/cluster`: a local 3-node cluster (N=3 R=2 W=2, started with
// `dynakv cluster`) against one node (N=1) in the same run, driven by
// redis-benchmark and by the ioredis load generator (50 clients, no
// pipelining). Targets: cluster throughput ≥ 0.30 × the single node's,
// p99.9 ≤ 10 ms. Prints a table and writes JSON to bench/results/.
//   DYNAKV_BENCH_SECONDS=15 DYNAKV_BENCH_REQUESTS=200000
import { spawn } from 'node:child_process'
import { MAIN, redisBenchmark, startDynakv, tempDir, writeResult, sleep } from './lib.js'
import { runLoad, type LoadResult } from './loadgen.js'

const seconds = Number(process.env.DYNAKV_BENCH_SECONDS ?? 15)
const requests = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 200000)

async function portsFree (ports: number[]): Promise<boolean> {
  const { createServer } = await import('node:net')
  for (const port of ports) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (!ok) return false
  }
  return true
}

async function startCluster (): Promise<{ ports: number[], stop: () => Promise<void> }> {
  let base = 0
  for (let i = 0; i < 50 && base === 0; i++) {
    const b = 20000 + Math.floor(Math.random() * 20000)
    if (await portsFree([b, b + 1, b + 2, b + 10000, b + 10001, b + 10002])) base = b
  }
  const proc = spawn(process.execPath, [MAIN, 'cluster', '--nodes', '3', '--base-port', String(base), '--dir', tempDir('dynakv-bench-cluster-'), '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('is ready')) resolve()
    })
    proc.once('exit', (code) => reject(new Error(`dynakv cluster exited with ${String(code)}: ${out}`)))
  })
  return {
    ports: [base, base + 1, base + 2],
    stop: async () => {
      proc.kill('SIGTERM')
      await new Promise(resolve => proc.once('exit', resolve))
    }
  }
}

async function main (): Promise<void> {
  const single = await startDynakv(['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn'])
  const cluster = await startCluster()
  await sleep(500)
  const load: Record<string, LoadResult> = {}
  const rb: Record<string, Record<string, number>> = {}
  try {
    for (const [name, ports] of [['single', [single.port]], ['cluster', cluster.ports]] as const) {
      const rows = await redisBenchmark(ports[0], ['-t', 'set,get', '-n', '100000', '-c', '50', '-d', '100', '-r', '100000'])
      rb[name] = Object.fromEntries(rows.map(r => [r.test, Math.round(r.rps)]))
      load[name] = await runLoad([...ports], { clients: 50, seconds, maxRequests: requests, keys: 100000, valueBytes: 100, label: name })
    }
  } finally {
    await cluster.stop()
    await single.stop()
  }
  const ratio = (a: number, b: number): number => Number((a / b).toFixed(3))
  const summary = {
    redisBenchmark: { ...rb, setRatio: ratio(rb.cluster.SET, rb.single.SET), getRatio: ratio(rb.cluster.GET, rb.single.GET) },
    ioredis: { ...load, throughputRatio: ratio(load.cluster.rps, load.single.rps) }
  }
  process.stdout.write(`redis-benchmark -P 1 -c 50:   single SET ${rb.single.SET}/s GET ${rb.single.GET}/s | cluster SET ${rb.cluster.SET}/s GET ${rb.cluster.GET}/s | ratio SET ${summary.redisBenchmark.setRatio} GET ${summary.redisBenchmark.getRatio}\n`)
  for (const [name, r] of Object.entries(load)) {
    process.stdout.write(`ioredis 50 clients ${name.padEnd(8)} ${String(r.rps).padStart(7)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  p99.9 ${r.p999Ms} ms  max ${r.maxMs} ms  errors ${r.errors}\n`)
  }
  process.stdout.write(`cluster/single throughput: ${summary.ioredis.throughputRatio}\nresults: ${writeResult('cluster', summary)}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
