// `make bench/metrics-overhead`: what serving metrics costs per request. One
// node (N=R=W=1, durable), started without and with --metrics-port in turn
// (several rounds, so machine drift hits both alike), each warmed up, then
// redis-benchmark -P 16 per op; CPU per request is the node's utime+stime from
// /proc (the whole process, and its main thread alone) over the requests.
//   DYNAKV_BENCH_ROUNDS=3 DYNAKV_BENCH_REQUESTS=200000
import { readFileSync } from 'node:fs'
import { freePort, median, redisBenchmark, startDynakv, writeResult } from './lib.js'

const rounds = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const requests = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 200000)
const TICKS_PER_SECOND = 100 // getconf CLK_TCK on Linux

/** utime + stime in seconds from a /proc stat file: /proc/PID/stat (the process) or /proc/PID/task/TID/stat (a thread). */
function cpuSeconds (statFile: string): number {
  const stat = readFileSync(statFile, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

async function main (): Promise<void> {
  const samples: Record<string, number[]> = {}
  const note = (key: string, v: number): void => { (samples[key] ??= []).push(v) }
  for (let round = 1; round <= rounds; round++) {
    for (const metrics of [false, true]) {
      const args = ['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn']
      if (metrics) args.push('--metrics-port', String(await freePort()))
      const node = await startDynakv(args)
      const pid = node.proc.pid as number
      try {
        await redisBenchmark(node.port, ['-t', 'set,get', '-n', String(Math.min(requests, 50000)), '-c', '50', '-d', '100', '-r', '100000', '-P', '16'])
        for (const op of ['set', 'get']) {
          const [proc0, main0] = [cpuSeconds(`/proc/${pid}/stat`), cpuSeconds(`/proc/${pid}/task/${pid}/stat`)]
          const { rows: [row] } = await redisBenchmark(node.port, ['-t', op, '-n', String(requests), '-c', '50', '-d', '100', '-r', '100000', '-P', '16'])
          const [proc1, main1] = [cpuSeconds(`/proc/${pid}/stat`), cpuSeconds(`/proc/${pid}/task/${pid}/stat`)]
          const label = `${op.toUpperCase()} metrics ${metrics ? 'on' : 'off'}`
          note(`${label} process µs/req`, (proc1 - proc0) * 1e6 / requests)
          note(`${label} main µs/req`, (main1 - main0) * 1e6 / requests)
          note(`${label} req/s`, row.rps)
          process.stderr.write(`round ${round} ${label}: ${Math.round(row.rps)} req/s, process ${((proc1 - proc0) * 1e6 / requests).toFixed(2)} µs/req, main thread ${((main1 - main0) * 1e6 / requests).toFixed(2)} µs/req\n`)
        }
      } finally {
        await node.stop()
      }
    }
  }
  process.stdout.write(`medians over ${rounds} rounds, ${requests} requests each, -P 16 -c 50 -d 100\n`)
  for (const [key, xs] of Object.entries(samples)) process.stdout.write(`${key.padEnd(36)} ${median(xs).toFixed(2).padStart(10)}   (${xs.map(x => x.toFixed(2)).join(', ')})\n`)
  process.stdout.write(`results: ${writeResult('metrics-overhead', { rounds, requests, samples })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
