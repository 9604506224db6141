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
// Each target gets a discarded warm-up at the same rate first. Then the
// measured seconds are cut into DYNAKV_BENCH_ROUNDS slices per target, run in
// turn (target order reversed every other round), and each target's slices go
// into one histogram: a change of the machine's load during the run falls on
// every target alike (the other helpers' benches, their fsyncs on the same disk).
//   DYNAKV_BENCH_SECONDS=20 DYNAKV_BENCH_WARMUP_SECONDS=5 DYNAKV_BENCH_ROUNDS=4 DYNAKV_BENCH_RATE=<req/s, default half the capacity>
//   DYNAKV_BENCH_BASELINE=<another built checkout>: a second cluster, of its build, filled and
//   warmed up the same way (its capacity printed, the rate kept), measured in the same rounds;
//   DYNAKV_BENCH_BASE_NODE='node flags': its nodes' (DYNAKV_BENCH_BASELINE=.: this build with other flags);
//   DYNAKV_BENCH_NODES=1: a single node (N1 R1 W1) in place of each cluster, its capacity measured the same way
//   (the single node's group commit holds cohorts, a cluster's does not: docs/performance.md, "Session 12, lead").
import { baseOptions, load1, redisBenchmarkSpread, startCluster, startEcho, startRedis, writeResult, type Dynakv } from './lib.js'
import * as hdr from 'hdr-histogram-js'
import { runOpenLoop, type OpenLoopResult } from './openloop.js'

const seconds = Number(process.env.DYNAKV_BENCH_SECONDS ?? 20)
const warmupSeconds = Number(process.env.DYNAKV_BENCH_WARMUP_SECONDS ?? 5)
const rounds = Math.max(1, Number(process.env.DYNAKV_BENCH_ROUNDS ?? 4))
const KEYS = 100000
const CONNECTIONS = 24
const NODES = Number(process.env.DYNAKV_BENCH_NODES ?? 3)
const CLUSTER_ARGS = NODES === 1 ? ['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn'] : ['--n', String(NODES), '--r', '2', '--w', '2', '--log-level', 'warn']

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

/** A target's figures over all its slices, and each slice's p99 (the spread between rounds). */
interface Measured {
  p50Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
  answered: number
  errors: number
  lost: number
  sendLagP999MsMax: number
  generatorCpuUs: number
  sliceP99Ms: number[]
}

async function main (): Promise<void> {
  const echo = await startEcho()
  const redis = await startRedis({ fsync: 'always' })
  const cluster: Dynakv[] = await startCluster(NODES, CLUSTER_ARGS)
  const baseline = process.env.DYNAKV_BENCH_BASELINE
  const base: Dynakv[] = baseline === undefined ? [] : await startCluster(NODES, CLUSTER_ARGS, baseOptions(baseline))
  const ports = cluster.map(p => p.port)
  const loads = [load1()]
  const results: Record<string, Measured> = {}
  let capacity = { setRps: NaN, getRps: NaN, mixRps: NaN }
  try {
    capacity = await capacityOf(ports)
    const rate = Number(process.env.DYNAKV_BENCH_RATE ?? Math.round(capacity.mixRps / 2))
    process.stderr.write(`cluster capacity: SET ${capacity.setRps}/s, GET ${capacity.getRps}/s, 50/50 mix ${capacity.mixRps}/s; open loop at ${rate}/s\n`)
    const targets: Array<[string, number[]]> = [['node-echo (floor)', [echo.port]], ['redis-always', [redis.port]], ['dynakv cluster', ports]]
    if (base.length > 0) {
      const baseCapacity = await capacityOf(base.map(p => p.port))
      process.stderr.write(`base cluster capacity: 50/50 mix ${baseCapacity.mixRps}/s (the rate stays ${rate}/s)\n`)
      targets.push(['dynakv base', base.map(p => p.port)])
    }
    const common = (targetPorts: number[]): { ports: number[], connectionsPerPort: number, rate: number, keys: number, valueBytes: number } =>
      ({ ports: targetPorts, connectionsPerPort: CONNECTIONS / targetPorts.length, rate, keys: KEYS, valueBytes: 100 })
    if (warmupSeconds > 0) for (const [, targetPorts] of targets) await runOpenLoop({ ...common(targetPorts), seconds: warmupSeconds })
    const hists = targets.map(() => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 }))
    const slices: OpenLoopResult[][] = targets.map(() => [])
    for (let round = 0; round < rounds; round++) {
      const order = targets.map((_, i) => i)
      if (round % 2 === 1) order.reverse()
      for (const i of order) {
        const r = await runOpenLoop({ ...common(targets[i][1]), seconds: seconds / rounds, into: hists[i] })
        slices[i].push(r)
        process.stderr.write(`round ${round + 1} ${targets[i][0]}: p50 ${r.p50Ms} p99 ${r.p99Ms} p99.9 ${r.p999Ms} max ${r.maxMs} ms, send lag p99.9 ${r.sendLagP999Ms} ms\n`)
      }
      loads.push(load1())
    }
    const ms = (h: hdr.Histogram, p: number): number => Number((h.getValueAtPercentile(p) / 1000).toFixed(3))
    targets.forEach(([name], i) => {
      const rs = slices[i]
      const sent = rs.reduce((a, r) => a + r.sent, 0)
      results[name] = {
        p50Ms: ms(hists[i], 50),
        p99Ms: ms(hists[i], 99),
        p999Ms: ms(hists[i], 99.9),
        maxMs: Number((hists[i].maxValue / 1000).toFixed(3)),
        answered: rs.reduce((a, r) => a + r.answered, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        lost: rs.reduce((a, r) => a + r.dropped + r.unanswered, 0),
        sendLagP999MsMax: Math.max(...rs.map(r => r.sendLagP999Ms)),
        generatorCpuUs: Number((rs.reduce((a, r) => a + r.generatorCpuUs * r.sent, 0) / Math.max(1, sent)).toFixed(1)),
        sliceP99Ms: rs.map(r => r.p99Ms)
      }
      hists[i].destroy()
    })
    const out = process.stdout
    out.write(`\nopen loop, ${rate} req/s (half the cluster's 50/50 capacity of ${capacity.mixRps}/s: SET ${capacity.setRps}/s, GET ${capacity.getRps}/s), ${seconds} s a target in ${rounds} interleaved slices, 50/50 GET/SET over ${KEYS} keys, ${CONNECTIONS} connections\n\n`)
    out.write(`${'target'.padEnd(20)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'p99.9 ms'.padStart(10)}${'max ms'.padStart(9)}${'answered'.padStart(10)}${'errors'.padStart(8)}${'lost'.padStart(6)}${'send lag p99.9 ms'.padStart(19)}${'gen µs/req'.padStart(12)}  p99 of each slice\n`)
    for (const [name, r] of Object.entries(results)) {
      out.write(`${name.padEnd(20)}${r.p50Ms.toFixed(2).padStart(9)}${r.p99Ms.toFixed(2).padStart(9)}${r.p999Ms.toFixed(2).padStart(10)}${r.maxMs.toFixed(1).padStart(9)}${String(r.answered).padStart(10)}${String(r.errors).padStart(8)}${String(r.lost).padStart(6)}${r.sendLagP999MsMax.toFixed(2).padStart(19)}${r.generatorCpuUs.toFixed(1).padStart(12)}  ${r.sliceP99Ms.map(x => x.toFixed(1)).join(' ')}\n`)
    }
    const c = results['dynakv cluster']
    out.write(`\nissue 11 goals (cluster): p99 ${c.p99Ms} ms (goal ≤ 2), p99.9 ${c.p999Ms} ms (goal ≤ 5)\n`)
    out.write(`load average (1 min) at the start and after each round: ${loads.join(', ')}\n`)
    out.write(`results: ${writeResult('latency', { seconds, warmupSeconds, rounds, rate, capacity, loads, results })}\n`)
  } finally {
    for (const p of [...cluster, ...base, redis, echo]) await p.stop()
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
