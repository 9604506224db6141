// `make bench/single-node`: dynakv (one node, default durable settings: every
// write batch fsynced) against redis-server (--save "" --appendonly no), the
// same redis-benchmark run interleaved, several rounds; prints requests/s and
// the dynakv/redis ratio per op and pipeline depth, and writes JSON. A Node
// server that answers without doing anything (bench/echo-server) runs in the
// same rounds: the ceiling of any Node server here.
//   DYNAKV_BENCH_ROUNDS=3 DYNAKV_BENCH_REQUESTS=200000
import { median, redisBenchmark, startDynakv, startEcho, startRedis, writeResult } from './lib.js'

const rounds = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const requests = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 200000)
const pipelines = [1, 16]

async function main (): Promise<void> {
  const redis = await startRedis()
  const echo = await startEcho()
  const dynakv = await startDynakv(['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn'])
  const samples: Record<string, number[]> = {}
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const P of pipelines) {
        for (const [name, port] of [['redis', redis.port], ['node-echo', echo.port], ['dynakv', dynakv.port]] as const) {
          const rows = await redisBenchmark(port, ['-t', 'set,get', '-n', String(requests), '-c', '50', '-d', '100', '-r', '100000', '-P', String(P)])
          for (const r of rows) (samples[`${name} ${r.test} P${P}`] ??= []).push(r.rps)
          process.stderr.write(`round ${round} P${P} ${name}: ${rows.map(r => `${r.test} ${Math.round(r.rps)}/s`).join(', ')}\n`)
        }
      }
    }
  } finally {
    await dynakv.stop()
    await echo.stop()
    await redis.stop()
  }
  // Ratios are taken per round (each server measured back to back) and then the
  // median: the machine drifts between rounds more than within one.
  const ratios = (name: string, op: string, P: number): number[] => {
    const mine = samples[`${name} ${op} P${P}`] ?? []
    const redisRps = samples[`redis ${op} P${P}`] ?? []
    return mine.map((rps, i) => rps / redisRps[i])
  }
  const table = []
  for (const P of pipelines) {
    for (const op of ['SET', 'GET']) {
      const d = ratios('dynakv', op, P)
      table.push({
        op,
        pipeline: P,
        redisRps: Math.round(median(samples[`redis ${op} P${P}`] ?? [])),
        dynakvRps: Math.round(median(samples[`dynakv ${op} P${P}`] ?? [])),
        ratio: Number(median(d).toFixed(3)),
        ratioMin: Number(Math.min(...d).toFixed(3)),
        ratioMax: Number(Math.max(...d).toFixed(3)),
        echoRatio: Number(median(ratios('node-echo', op, P)).toFixed(3))
      })
    }
  }
  process.stdout.write('medians over rounds; ratios to redis-server per round\n')
  process.stdout.write('op   -P  redis req/s  dynakv req/s  ratio (min-max)    node-echo ratio\n')
  for (const t of table) process.stdout.write(`${t.op.padEnd(4)} ${String(t.pipeline).padStart(3)} ${String(t.redisRps).padStart(12)} ${String(t.dynakvRps).padStart(13)}  ${t.ratio.toFixed(2)} (${t.ratioMin.toFixed(2)}-${t.ratioMax.toFixed(2)})  ${t.echoRatio.toFixed(2).padStart(15)}\n`)
  process.stdout.write(`results: ${writeResult('single-node', { rounds, requests, samples, table })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
