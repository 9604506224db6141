// What idle cluster nodes spend: a 3-node cluster (the launcher's settings,
// bench/lib's startCluster), no clients; after DYNAKV_BENCH_SETTLE_SECONDS
// the CPU of each node (every thread; the main thread apart) over
// DYNAKV_BENCH_SECONDS. DYNAKV_BENCH_KEYS > 0 writes that many keys first
// (redis-benchmark SETs into node 1), so the trees, sweeper and handoff see data.
// A/B: DYNAKV_BENCH_BASELINE=<another checkout> runs its build too, the two
// interleaved (this, base, this, base...) for DYNAKV_BENCH_ROUNDS rounds.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fmt, infoField, median, redisBenchmark, sleep, spread, startCluster, statCpuUs, usageOf, usageSince, writeResult, MAIN, type Usage } from './lib.js'

const SETTLE = Number(process.env.DYNAKV_BENCH_SETTLE_SECONDS ?? 10)
const SECONDS = Number(process.env.DYNAKV_BENCH_SECONDS ?? 30)
const KEYS = Number(process.env.DYNAKV_BENCH_KEYS ?? 0)
const ROUNDS = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const BASE = process.env.DYNAKV_BENCH_BASELINE
const NODES = 3

function threads (pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // The launcher's threads are all called "node": the main one is told apart by its tid.
      const name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim()
      const u = statCpuUs(`/proc/${pid}/task/${tid}/stat`)
      out.set(`${name}#${tid}`, u.userUs + u.sysUs)
    } catch {}
  }
  return out
}

interface Run { perNodeMsPerS: number[], mainMsPerS: number[], byThread: Record<string, number>, /** Peer requests sent per second, per node (INFO's peer_requests_sent). */ peerRequestsPerS: number[] }

async function once (main: string): Promise<Run> {
  const nodes = await startCluster(NODES, [], { main })
  try {
    if (KEYS > 0) {
      // Random keys out of KEYS (3x KEYS SETs: about 95 % of them), 16 clients (a pipe of them all overflows the quorum's wait).
      await redisBenchmark(nodes[0].port, ['-t', 'set', '-n', String(3 * KEYS), '-r', String(KEYS), '-c', '16', '-P', '4', '-d', '100', '-q'])
    }
    await sleep(SETTLE * 1000)
    const sent = async (): Promise<number[]> => await Promise.all(nodes.map(async n => await infoField(n.port, 'cluster', 'peer_requests_sent')))
    const sentBefore = await sent()
    const before: Usage[] = nodes.map(n => usageOf(n.pid))
    const tBefore = nodes.map(n => threads(n.pid))
    const t0 = performance.now()
    await sleep(SECONDS * 1000)
    const s = (performance.now() - t0) / 1000
    const used = nodes.map((n, i) => usageSince(before[i], n.pid))
    const sentAfter = await sent()
    const byThread: Record<string, number> = {}
    nodes.forEach((n, i) => {
      for (const [k, v] of threads(n.pid)) {
        const name = k.startsWith('main#') ? 'main' : 'other threads'
        const d = (v - (tBefore[i].get(k) ?? 0)) / 1000 / s / NODES
        byThread[name] = (byThread[name] ?? 0) + d
      }
    })
    return { perNodeMsPerS: used.map(u => u.totalUs / 1000 / s), mainMsPerS: used.map(u => u.mainUs / 1000 / s), byThread, peerRequestsPerS: sentAfter.map((x, i) => (x - sentBefore[i]) / s) }
  } finally {
    await Promise.all(nodes.map(async n => { await n.stop() }))
  }
}

const sides: Array<[string, string]> = [['dynakv', MAIN]]
if (BASE !== undefined) sides.push(['dynakv-base', join(BASE, 'dist', 'lib', 'cli', 'main.js')])
const results: Record<string, Run[]> = {}
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, main] of (r % 2 === 0 ? sides : [...sides].reverse())) {
    const run = await once(main)
    ;(results[name] ??= []).push(run)
    console.log(`${name} round ${r + 1}: per node ${run.perNodeMsPerS.map(x => x.toFixed(1)).join(' / ')} ms/s (main thread ${run.mainMsPerS.map(x => x.toFixed(1)).join(' / ')}), peer requests sent ${run.peerRequestsPerS.map(x => x.toFixed(1)).join(' / ')} /s`)
  }
}
for (const [name, runs] of Object.entries(results)) {
  const perNode = runs.map(r => median(r.perNodeMsPerS))
  const main = runs.map(r => median(r.mainMsPerS))
  console.log(`${name}: idle CPU per node (median node per run) ${fmt(spread(perNode))} ms/s, main thread ${fmt(spread(main))} ms/s  [keys ${KEYS}, ${SECONDS} s after ${SETTLE} s]`)
  const threadsAvg: Record<string, number> = {}
  for (const r of runs) for (const [k, v] of Object.entries(r.byThread)) threadsAvg[k] = (threadsAvg[k] ?? 0) + v / runs.length
  console.log(`  per thread (ms/s per node): ${Object.entries(threadsAvg).filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`)
}
console.log(writeResult('idle', { SETTLE, SECONDS, KEYS, ROUNDS, results }))
