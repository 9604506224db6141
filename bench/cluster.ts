// `make bench/cluster`: a 3-node cluster (N=3 R=2 W=2, separate server
// processes) and one node alone (N=1), in the same run. The cluster's load is
// spread over every node (one redis-benchmark per node at once, -P1, 16
// clients each: every node coordinates); the single node gets one
// redis-benchmark with 48 clients. SET and GET are separate runs, so each has
// its own CPU figure: the CPU per client request is the utime + stime of all
// three nodes (all threads, /proc) over the run, divided by the requests
// answered. A warm-up pass comes first (a fresh cluster's JIT needs ~15 s of
// load), then interleaved rounds; medians with min–max, and issue 11's goals.
//   DYNAKV_BENCH_ROUNDS=3 DYNAKV_BENCH_REQUESTS=60000 (per test, over all nodes)
import { cpuOf, cpuSince, fmt, kilo, load1, redisBenchmarkSpread, spread, startCluster, startDynakv, writeResult, type Dynakv } from './lib.js'

const rounds = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const requests = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 60000)
const CLIENTS_PER_NODE = 16
const OPS = ['SET', 'GET'] as const

interface Sample { rps: number, cpuUs: number, mainCpuUs: number, perNodeCpuUs: number[], clientCpuUs: number, p99Ms: number }

async function measure (nodes: Dynakv[], op: string): Promise<Sample> {
  const clients = nodes.length === 1 ? 3 * CLIENTS_PER_NODE : CLIENTS_PER_NODE
  const before = nodes.map(p => cpuOf(p.pid))
  const run = await redisBenchmarkSpread(nodes.map(p => p.port), clients, Math.round(requests / nodes.length), ['-t', op.toLowerCase(), '-d', '100', '-r', '100000', '-P', '1'])
  const cpu = nodes.map((p, i) => cpuSince(before[i], p.pid))
  return {
    rps: run.rps,
    cpuUs: cpu.reduce((a, c) => a + c.totalUs, 0) / run.requests,
    mainCpuUs: cpu.reduce((a, c) => a + c.mainUs, 0) / run.requests,
    perNodeCpuUs: cpu.map(c => c.totalUs / run.requests),
    clientCpuUs: run.clientCpuUs / run.requests,
    p99Ms: run.p99Ms
  }
}

async function main (): Promise<void> {
  const quiet = ['--log-level', 'warn']
  const single = [await startDynakv(['--n', '1', '--r', '1', '--w', '1', ...quiet])]
  const cluster = await startCluster(3, ['--n', '3', '--r', '2', '--w', '2', ...quiet])
  const targets = { single, cluster }
  const samples: Record<string, Sample[]> = {}
  const loads = [load1()]
  try {
    for (let pass = 0; pass < 2; pass++) {
      for (const op of OPS) {
        for (const name of ['single', 'cluster'] as const) await measure(targets[name], op)
      }
    }
    process.stderr.write('warm-up done\n')
    for (let round = 1; round <= rounds; round++) {
      for (const op of OPS) {
        const order = round % 2 === 0 ? ['single', 'cluster'] as const : ['cluster', 'single'] as const
        for (const name of order) {
          const s = await measure(targets[name], op)
          ;(samples[`${name} ${op}`] ??= []).push(s)
          process.stderr.write(`round ${round} ${op} ${name}: ${Math.round(s.rps)}/s, ${s.cpuUs.toFixed(1)} µs CPU/request (nodes: ${s.perNodeCpuUs.map(x => x.toFixed(0)).join(', ')})\n`)
        }
      }
      loads.push(load1())
    }
  } finally {
    for (const p of [...cluster, ...single]) await p.stop()
  }

  const of = (name: string, op: string): Sample[] => samples[`${name} ${op}`] ?? []
  const out = process.stdout
  out.write(`\nmedians of ${rounds} rounds (min–max); redis-benchmark -P1 -d 100 -r 100000, ${requests} requests per test; cluster: N3 R2 W2, ${CLIENTS_PER_NODE} clients on each of the 3 nodes at once; single: one node, ${3 * CLIENTS_PER_NODE} clients\n`)
  out.write('CPU = utime+stime of every node (all threads) over the run / client requests\n\n')
  out.write(`${'test'.padEnd(5)}${'target'.padEnd(9)}${'requests/s'.padEnd(26)}${'CPU µs/req'.padEnd(24)}${'main threads'.padEnd(24)}${'p99 ms'.padEnd(10)}client µs/req\n`)
  const table = []
  for (const op of OPS) {
    for (const name of ['single', 'cluster']) {
      const s = of(name, op)
      const row = { op, target: name, rps: spread(s.map(x => x.rps)), cpuUs: spread(s.map(x => x.cpuUs)), mainCpuUs: spread(s.map(x => x.mainCpuUs)), p99Ms: spread(s.map(x => x.p99Ms)), clientCpuUs: spread(s.map(x => x.clientCpuUs)) }
      table.push(row)
      out.write(`${op.padEnd(5)}${name.padEnd(9)}${`${kilo(row.rps.median)} (${kilo(row.rps.min)}–${kilo(row.rps.max)})`.padEnd(26)}${fmt(row.cpuUs).padEnd(24)}${fmt(row.mainCpuUs).padEnd(24)}${row.p99Ms.median.toFixed(1).padEnd(10)}${row.clientCpuUs.median.toFixed(1)}\n`)
    }
  }
  const ratio = (op: string): number[] => of('cluster', op).map((s, i) => s.rps / of('single', op)[i].rps)
  const goals = [
    { what: 'cluster SET CPU µs per client request', value: spread(of('cluster', 'SET').map(s => s.cpuUs)), goal: '≤ 150', decimals: 1 },
    { what: 'cluster GET CPU µs per client request', value: spread(of('cluster', 'GET').map(s => s.cpuUs)), goal: '≤ 80', decimals: 1 },
    { what: 'SET throughput cluster/single', value: spread(ratio('SET')), goal: '≥ 0.45', decimals: 2 },
    { what: 'GET throughput cluster/single', value: spread(ratio('GET')), goal: '≥ 0.45', decimals: 2 }
  ]
  out.write('\nissue 11 goals\n')
  for (const g of goals) out.write(`${g.what.padEnd(40)}${fmt(g.value, g.decimals).padEnd(24)}goal ${g.goal}\n`)
  out.write(`\nload average (1 min) at the start and after each round: ${loads.join(', ')}\n`)
  out.write(`results: ${writeResult('cluster', { rounds, requests, loads, samples, table, goals })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
