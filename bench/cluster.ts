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
//   DYNAKV_BENCH_BASELINE=/path/to/other/checkout (built): an A/B run, a second
//   3-node cluster of that build's dynakv measured as `base` in the same
//   interleaved rounds (its ratio is to the same single node);
//   DYNAKV_BENCH_BASE_NODE='node flags': its nodes' (DYNAKV_BENCH_BASELINE=.: this build with other flags)
import { baseOptions, usageOf, usageSince, fmt, infoField, kilo, load1, perRequest, redisBenchmarkSpread, spread, startCluster, startDynakv, writeResult, type Dynakv, type PerRequest } from './lib.js'

const rounds = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const requests = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 60000)
const CLIENTS_PER_NODE = 16
const OPS = ['SET', 'GET'] as const
const BASELINE = process.env.DYNAKV_BENCH_BASELINE
const NAMES = BASELINE === undefined ? ['single', 'cluster'] as const : ['single', 'cluster', 'base'] as const
type Name = 'single' | 'cluster' | 'base'

/** Per client request, summed over the nodes. */
interface Sample extends PerRequest {
  rps: number
  perNodeCpuUs: number[]
  /** redis-benchmark's own CPU per request. */
  clientCpuUs: number
  p99Ms: number
  /** Fsynced batches and peer requests sent, per client request. */
  batches: number
  peerRequests: number
}

/** write_batches and peer_requests_sent summed over the nodes. */
async function counters (nodes: Dynakv[]): Promise<[number, number]> {
  let batches = 0
  let peer = 0
  for (const p of nodes) {
    batches += await infoField(p.port, 'persistence', 'write_batches')
    peer += nodes.length === 1 ? 0 : await infoField(p.port, 'cluster', 'peer_requests_sent')
  }
  return [batches, peer]
}

async function measure (nodes: Dynakv[], op: string): Promise<Sample> {
  const clients = nodes.length === 1 ? 3 * CLIENTS_PER_NODE : CLIENTS_PER_NODE
  const c0 = await counters(nodes)
  const before = nodes.map(p => usageOf(p.pid))
  const run = await redisBenchmarkSpread(nodes.map(p => p.port), clients, Math.round(requests / nodes.length), ['-t', op.toLowerCase(), '-d', '100', '-r', '100000', '-P', '1'])
  const u = nodes.map((p, i) => usageSince(before[i], p.pid))
  const c1 = await counters(nodes)
  return {
    ...perRequest(u, run.requests),
    rps: run.rps,
    perNodeCpuUs: u.map(x => x.totalUs / run.requests),
    clientCpuUs: run.clientCpuUs / run.requests,
    p99Ms: run.p99Ms,
    batches: (c1[0] - c0[0]) / run.requests,
    peerRequests: (c1[1] - c0[1]) / run.requests
  }
}

async function main (): Promise<void> {
  const quiet = ['--log-level', 'warn']
  const single = [await startDynakv(['--n', '1', '--r', '1', '--w', '1', ...quiet])]
  const cluster = await startCluster(3, ['--n', '3', '--r', '2', '--w', '2', ...quiet])
  const base = BASELINE === undefined ? [] : await startCluster(3, ['--n', '3', '--r', '2', '--w', '2', ...quiet], baseOptions(BASELINE))
  const targets: Record<Name, Dynakv[]> = { single, cluster, base }
  const samples: Record<string, Sample[]> = {}
  const loads = [load1()]
  try {
    for (let pass = 0; pass < 2; pass++) {
      for (const op of OPS) {
        for (const name of NAMES) await measure(targets[name], op)
      }
    }
    process.stderr.write('warm-up done\n')
    for (let round = 1; round <= rounds; round++) {
      for (const op of OPS) {
        const order = round % 2 === 0 ? NAMES : [...NAMES].reverse()
        for (const name of order) {
          const s = await measure(targets[name], op)
          ;(samples[`${name} ${op}`] ??= []).push(s)
          process.stderr.write(`round ${round} ${op} ${name}: ${Math.round(s.rps)}/s, ${s.cpuUs.toFixed(1)} µs CPU/request (nodes: ${s.perNodeCpuUs.map(x => x.toFixed(0)).join(', ')})\n`)
        }
      }
      loads.push(load1())
    }
  } finally {
    for (const p of [...base, ...cluster, ...single]) await p.stop()
  }

  const of = (name: string, op: string): Sample[] => samples[`${name} ${op}`] ?? []
  const out = process.stdout
  out.write(`\nmedians of ${rounds} rounds (min–max); redis-benchmark -P1 -d 100 -r 100000, ${requests} requests per test; cluster: N3 R2 W2, ${CLIENTS_PER_NODE} clients on each of the 3 nodes at once; single: one node, ${3 * CLIENTS_PER_NODE} clients\n`)
  out.write('CPU = utime+stime of every node (all threads) over the run / client requests\n\n')
  out.write(`${'test'.padEnd(5)}${'target'.padEnd(9)}${'requests/s'.padEnd(26)}${'CPU µs/req'.padEnd(24)}${'main threads'.padEnd(24)}${'p99 ms'.padEnd(10)}client µs/req\n`)
  const table = []
  for (const op of OPS) {
    for (const name of NAMES) {
      const s = of(name, op)
      const row = { op, target: name, rps: spread(s.map(x => x.rps)), cpuUs: spread(s.map(x => x.cpuUs)), mainCpuUs: spread(s.map(x => x.mainCpuUs)), p99Ms: spread(s.map(x => x.p99Ms)), clientCpuUs: spread(s.map(x => x.clientCpuUs)) }
      table.push(row)
      out.write(`${op.padEnd(5)}${name.padEnd(9)}${`${kilo(row.rps.median)} (${kilo(row.rps.min)}–${kilo(row.rps.max)})`.padEnd(26)}${fmt(row.cpuUs).padEnd(24)}${fmt(row.mainCpuUs).padEnd(24)}${row.p99Ms.median.toFixed(1).padEnd(10)}${row.clientCpuUs.median.toFixed(1)}\n`)
    }
  }
  out.write('\nwhere the CPU goes, per client request, summed over the nodes (medians)\n')
  out.write(`${'test'.padEnd(5)}${'target'.padEnd(9)}${'sys µs'.padStart(8)}${'other threads µs'.padStart(18)}${'reads'.padStart(7)}${'writes'.padStart(8)}${'switches'.padStart(10)}${'fsync batches'.padStart(15)}${'peer requests'.padStart(15)}\n`)
  for (const op of OPS) {
    for (const name of NAMES) {
      const m = (f: (x: Sample) => number, d = 2): string => spread(of(name, op).map(f)).median.toFixed(d)
      out.write(`${op.padEnd(5)}${name.padEnd(9)}${m(x => x.sysUs, 1).padStart(8)}${m(x => x.otherCpuUs, 1).padStart(18)}${m(x => x.readCalls).padStart(7)}${m(x => x.writeCalls).padStart(8)}${m(x => x.switches).padStart(10)}${m(x => x.batches, 3).padStart(15)}${m(x => x.peerRequests).padStart(15)}\n`)
    }
  }
  const ratio = (op: string, name = 'cluster'): number[] => of(name, op).map((s, i) => s.rps / of('single', op)[i].rps)
  const goals = [
    { what: 'cluster SET CPU µs per client request', value: spread(of('cluster', 'SET').map(s => s.cpuUs)), goal: '≤ 150', decimals: 1 },
    { what: 'cluster GET CPU µs per client request', value: spread(of('cluster', 'GET').map(s => s.cpuUs)), goal: '≤ 80', decimals: 1 },
    { what: 'SET throughput cluster/single', value: spread(ratio('SET')), goal: '≥ 0.45', decimals: 2 },
    { what: 'GET throughput cluster/single', value: spread(ratio('GET')), goal: '≥ 0.45', decimals: 2 }
  ]
  if (BASELINE !== undefined) {
    goals.push(
      { what: 'base: SET CPU µs per client request', value: spread(of('base', 'SET').map(s => s.cpuUs)), goal: '≤ 150', decimals: 1 },
      { what: 'base: GET CPU µs per client request', value: spread(of('base', 'GET').map(s => s.cpuUs)), goal: '≤ 80', decimals: 1 },
      { what: 'base: SET throughput cluster/single', value: spread(ratio('SET', 'base')), goal: '≥ 0.45', decimals: 2 },
      { what: 'base: GET throughput cluster/single', value: spread(ratio('GET', 'base')), goal: '≥ 0.45', decimals: 2 })
  }
  out.write('\nissue 11 goals\n')
  for (const g of goals) out.write(`${g.what.padEnd(40)}${fmt(g.value, g.decimals).padEnd(24)}goal ${g.goal}\n`)
  out.write(`\nload average (1 min) at the start and after each round: ${loads.join(', ')}\n`)
  out.write(`results: ${writeResult('cluster', { rounds, requests, loads, samples, table, goals })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
