// `make bench/latency`: latency as an SLA, with an open-loop load (bench/openloop:
// requests on a fixed schedule, latency from the scheduled time, HDR histogram),
// 50/50 GET/SET of 100-byte values over 100 000 keys. First the 3-node cluster's
// capacity is measured (N3 R2 W2; redis-benchmark -P1 on every node at once, 16
// clients each, SET and GET; the capacity of a 50/50 mix is their harmonic
// mean), then at half of it, in the same run:
//   - bench/echo-server (answers without work): the floor of this generator and machine;
//   - redis-server appendfsync always: the anchor;
//   - the cluster, load over all nodes (8 connections per node; the others get
//     the same 24 connections).
// Each target gets a discarded warm-up at the same rate first.
//   DYNAKV_BENCH_SECONDS=20 DYNAKV_BENCH_WARMUP_SECONDS=5 DYNAKV_BENCH_RATE=<req/s, default half the capacity>
//   DYNAKV_BENCH_BASELINE=<another built checkout>: then a cluster of its build, filled and
//   warmed up the same way (its capacity printed, the rate kept), at the same rate.
import { join } from 'node:path'
import { load1, redisBenchmarkSpread, startCluster, startEcho, startRedis, writeResult, type Dynakv } from './lib.js'
import { runOpenLoop, type OpenLoopResult } from './openloop.js'

const seconds = Number(process.env.DYNAKV_BENCH_SECONDS ?? 20)
const warmupSeconds = Number(process.env.DYNAKV_BENCH_WARMUP_SECONDS ?? 5)
const KEYS = 100000
const CONNECTIONS = 24
const CLUSTER_ARGS = ['--n', '3', '--r', '2', '--w', '2', '--log-level', 'warn']

/**
 * redis-benchmark -P1 on every node at once, 16 clients each, SET then GET; the
 * second pass counts (the first warms the JIT up and fills the key space the
 * open loop uses). A 50/50 mix's capacity is the harmonic mean.
 */
async function capacityOf (ports: number[]): Promise<{ setRps: number, getRps: number, mixRps: number }> {
  let capacity = { setRps: NaN, getRps: NaN, mixRps: NaN }
  for (let pass = 0; pass < 2; pass++) {
    const rb = ['-d', '100', '-r', String(KEYS), '-P', '1']
    const set = await redisBenchmarkSpread(ports, 16, 20000, ['-t', 'set', ...rb])
    const get = await redisBenchmarkSpread(ports, 16, 20000, ['-t', 'get', ...rb])
    capacity = { setRps: Math.round(set.rps), getRps: Math.round(get.rps), mixRps: Math.round(2 / (1 / set.rps + 1 / get.rps)) }
  }
  return capacity
}

async function main (): Promise<void> {
  const echo = await startEcho()
  const redis = await startRedis({ fsync: 'always' })
  let cluster: Dynakv[] = await startCluster(3, CLUSTER_ARGS)
  const ports = cluster.map(p => p.port)
  const loads = [load1()]
  const results: Record<string, OpenLoopResult> = {}
  let capacity = { setRps: NaN, getRps: NaN, mixRps: NaN }
  try {
    capacity = await capacityOf(ports)
    const rate = Number(process.env.DYNAKV_BENCH_RATE ?? Math.round(capacity.mixRps / 2))
    process.stderr.write(`cluster capacity: SET ${capacity.setRps}/s, GET ${capacity.getRps}/s, 50/50 mix ${capacity.mixRps}/s; open loop at ${rate}/s\n`)
    const targets: Array<[string, number[]]> = [['node-echo (floor)', [echo.port]], ['redis-always', [redis.port]], ['dynakv cluster', ports]]
    for (const [name, targetPorts] of targets) {
      const common = { ports: targetPorts, connectionsPerPort: CONNECTIONS / targetPorts.length, rate, keys: KEYS, valueBytes: 100 }
      if (warmupSeconds > 0) await runOpenLoop({ ...common, seconds: warmupSeconds })
      results[name] = await runOpenLoop({ ...common, seconds })
      const r = results[name]
      process.stderr.write(`${name}: p50 ${r.p50Ms} p99 ${r.p99Ms} p99.9 ${r.p999Ms} max ${r.maxMs} ms\n`)
      loads.push(load1())
    }
    const baseline = process.env.DYNAKV_BENCH_BASELINE
    if (baseline !== undefined) {
      for (const p of cluster) await p.stop()
      cluster = await startCluster(3, CLUSTER_ARGS, { main: join(baseline, 'dist', 'lib', 'cli', 'main.js') })
      const base = await capacityOf(cluster.map(p => p.port))
      process.stderr.write(`base cluster capacity: 50/50 mix ${base.mixRps}/s (the rate stays ${rate}/s)\n`)
      const common = { ports: cluster.map(p => p.port), connectionsPerPort: CONNECTIONS / 3, rate, keys: KEYS, valueBytes: 100 }
      if (warmupSeconds > 0) await runOpenLoop({ ...common, seconds: warmupSeconds })
      const r = results['dynakv base'] = await runOpenLoop({ ...common, seconds })
      process.stderr.write(`dynakv base: p50 ${r.p50Ms} p99 ${r.p99Ms} p99.9 ${r.p999Ms} max ${r.maxMs} ms\n`)
      loads.push(load1())
    }
    const out = process.stdout
    out.write(`\nopen loop, ${rate} req/s (half the cluster's 50/50 capacity of ${capacity.mixRps}/s: SET ${capacity.setRps}/s, GET ${capacity.getRps}/s), ${seconds} s, 50/50 GET/SET over ${KEYS} keys, ${CONNECTIONS} connections\n\n`)
    out.write(`${'target'.padEnd(20)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'p99.9 ms'.padStart(10)}${'max ms'.padStart(9)}${'answered'.padStart(10)}${'errors'.padStart(8)}${'lost'.padStart(6)}${'send lag p99.9/max ms'.padStart(23)}${'gen µs/req'.padStart(12)}\n`)
    for (const [name, r] of Object.entries(results)) {
      out.write(`${name.padEnd(20)}${r.p50Ms.toFixed(2).padStart(9)}${r.p99Ms.toFixed(2).padStart(9)}${r.p999Ms.toFixed(2).padStart(10)}${r.maxMs.toFixed(1).padStart(9)}${String(r.answered).padStart(10)}${String(r.errors).padStart(8)}${String(r.dropped + r.unanswered).padStart(6)}${`${r.sendLagP999Ms.toFixed(2)}/${r.sendLagMaxMs.toFixed(1)}`.padStart(23)}${r.generatorCpuUs.toFixed(1).padStart(12)}\n`)
    }
    const c = results['dynakv cluster']
    out.write(`\nissue 11 goals (cluster): p99 ${c.p99Ms} ms (goal ≤ 2), p99.9 ${c.p999Ms} ms (goal ≤ 5)\n`)
    out.write(`load average (1 min) at the start and after each target: ${loads.join(', ')}\n`)
    out.write(`results: ${writeResult('latency', { seconds, warmupSeconds, rate, capacity, loads, results: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { ...r, slow: r.slow.length }])) })}\n`)
  } finally {
    for (const p of [...cluster, redis, echo]) await p.stop()
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
