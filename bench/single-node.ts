// `make bench/single-node`: one durable dynakv node (default --sync: every
// write batch fsynced before it is acknowledged) side by side with
// redis-server appendfsync always (it too fsyncs before acknowledging),
// redis-server in memory, and bench/echo-server (a Node server answering
// without doing any work: Node's own ceiling here). The servers run back to
// back in interleaved rounds, after a warm-up; each redis-benchmark run is one
// test (SET or GET) at -P1 or -P16, -c 50 -d 100 -r 100000. For every server
// and run: requests/s and CPU per request (the server's utime + stime from
// /proc over the run, all threads, divided by requests). Prints medians of the
// rounds with min–max, and the ratios issue 11's goals use, per round then the
// median, with the goal beside each.
//   DYNAKV_BENCH_ROUNDS=3 DYNAKV_BENCH_REQUESTS=200000 (-P16; -P1 runs half as many)
//   DYNAKV_BENCH_BASELINE=/path/to/other/checkout (built): an A/B run, that
//   build's dynakv measured as `dynakv-base` in the same interleaved rounds
//   (DYNAKV_BENCH_BASELINE=. with DYNAKV_BENCH_BASE_NODE='node flags' and
//   DYNAKV_BENCH_BASE_ARGS='server flags': this build with other settings;
//   VAR=value words among the node flags go into its environment;
//   DYNAKV_BENCH_BASE_RAW=1: it runs with node's defaults, not the launcher's
//   settings, lib/cli/launch.ts, which every dynakv here runs with otherwise)
//   DYNAKV_BENCH_TESTS='SET P16,GET P16', DYNAKV_BENCH_SERVERS='dynakv,dynakv-base': a subset
import { join } from 'node:path'
import { baseOptions, usageOf, usageSince, fmt, infoField, kilo, load1, perRequest, redisBenchmark, redisCliPipe, spread, startDynakv, startEcho, startRedis, tempDir, writePipeFile, writeResult, type PerRequest, type Proc, type Spread } from './lib.js'

const rounds = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const requests = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 200000)
const BASELINE = process.env.DYNAKV_BENCH_BASELINE
const ALL_SERVERS = ['dynakv', 'dynakv-base', 'redis-always', 'redis-memory', 'node-echo'] as const
type Server = typeof ALL_SERVERS[number]
const words = (s: string | undefined): string[] => (s ?? '').split(/\s+/).filter(w => w !== '')
const ONLY = process.env.DYNAKV_BENCH_SERVERS?.split(',')
const SERVERS: readonly Server[] = ALL_SERVERS.filter(s => (s !== 'dynakv-base' || BASELINE !== undefined) && (ONLY === undefined || ONLY.includes(s)))
/** redis-benchmark's -r: its keys are key:000000000000 to key:<KEYS − 1>, 12 digits. */
const KEYS = 100000
const DYNAKV_ARGS = ['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn']
const BASE_ARGS = words(process.env.DYNAKV_BENCH_BASE_ARGS)
const ONLY_TESTS = process.env.DYNAKV_BENCH_TESTS?.split(',')
const TESTS = ([['SET', 1], ['GET', 1], ['SET', 16], ['GET', 16]] as const).filter(([op, P]) => ONLY_TESTS === undefined || ONLY_TESTS.includes(`${op} P${P}`))
type Test = `${'SET' | 'GET'} P${1 | 16}`

interface Sample extends PerRequest {
  rps: number
  /** redis-benchmark's own CPU per request. */
  clientCpuUs: number
  /** dynakv: writes per group commit (one fsync each); NaN for the others. */
  writesPerBatch: number
  /** dynakv: keys read from LevelDB per request (cache misses not proved absent); NaN for the others and builds without the counter. */
  storeReads: number
}

/** One redis-benchmark run of one test against one server, with the server's CPU over it. */
async function measure (p: Proc, op: string, pipeline: number, isDynakv: boolean): Promise<Sample> {
  const n = pipeline === 1 ? Math.round(requests / 2) : requests
  const batches = async (): Promise<[number, number, number]> => isDynakv ? [await infoField(p.port, 'persistence', 'write_batches'), await infoField(p.port, 'persistence', 'batched_writes'), await infoField(p.port, 'stats', 'store_reads')] : [NaN, NaN, NaN]
  const b0 = await batches()
  const before = usageOf(p.pid)
  const run = await redisBenchmark(p.port, ['-t', op.toLowerCase(), '-n', String(n), '-c', '50', '-d', '100', '-r', String(KEYS), '-P', String(pipeline)])
  const u = usageSince(before, p.pid)
  const b1 = await batches()
  return {
    ...perRequest([u], n),
    rps: run.rows[0]?.rps ?? NaN,
    clientCpuUs: run.clientCpuUs / n,
    writesPerBatch: (b1[1] - b0[1]) / (b1[0] - b0[0]),
    storeReads: (b1[2] - b0[2]) / n
  }
}

async function main (): Promise<void> {
  const servers: Partial<Record<Server, Proc>> = {
    dynakv: await startDynakv(DYNAKV_ARGS),
    'dynakv-base': !SERVERS.includes('dynakv-base') ? undefined : await startDynakv([...DYNAKV_ARGS, ...BASE_ARGS], { ...baseOptions(BASELINE as string), raw: process.env.DYNAKV_BENCH_BASE_RAW === '1' }),
    'redis-always': !SERVERS.includes('redis-always') ? undefined : await startRedis({ fsync: 'always' }),
    'redis-memory': !SERVERS.includes('redis-memory') ? undefined : await startRedis(),
    'node-echo': !SERVERS.includes('node-echo') ? undefined : await startEcho()
  }
  const samples: Record<string, Sample[]> = {}
  const loads: number[] = [load1()]
  try {
    // Warm-up: JIT, caches, every key of the range holding a value (GETs find
    // one, as node-echo answers one); discarded. Random SETs alone (-r) left
    // 37 % of the keys absent, and a node's first GET of an absent key takes
    // the general path (MD5, the filter, the cache's insert of the absence):
    // 18 % of a first round's GETs -P1, 2 % of a fifth's. So the stores are
    // filled with every key by `redis-cli --pipe` (node-echo stores nothing).
    const fill = TESTS.some(([op]) => op === 'GET') ? join(tempDir('single-node-'), 'fill.resp') : null
    if (fill !== null) writePipeFile(fill, KEYS)
    for (const name of SERVERS) {
      if (fill !== null && name !== 'node-echo') {
        const filled = await redisCliPipe((servers[name] as Proc).port, fill, 300)
        if (filled.code !== 0) throw new Error(`filling ${name}: ${filled.output}`)
      }
      for (const [op, P] of TESTS) await measure(servers[name] as Proc, op, P, name.startsWith('dynakv'))
      process.stderr.write(`warm-up ${name} done\n`)
    }
    for (let round = 1; round <= rounds; round++) {
      // The order of the servers rotates per round: none is always first after a quiet spell.
      const order = SERVERS.map((_, i) => SERVERS[(i + round) % SERVERS.length])
      for (const [op, P] of TESTS) {
        for (const name of order) {
          const s = await measure(servers[name] as Proc, op, P, name.startsWith('dynakv'))
          ;(samples[`${name} ${op} P${P}`] ??= []).push(s)
          process.stderr.write(`round ${round} ${op} -P${P} ${name}: ${Math.round(s.rps)}/s, ${s.cpuUs.toFixed(1)} µs CPU/request\n`)
        }
      }
      loads.push(load1())
    }
  } finally {
    for (const p of Object.values(servers)) if (p !== undefined) await p.stop()
  }

  const of = (name: Server, test: Test): Sample[] => samples[`${name} ${test}`] ?? []
  const table = []
  for (const [op, P] of TESTS) {
    const test: Test = `${op} P${P}`
    for (const name of SERVERS) {
      const s = of(name, test)
      const sp = (f: (x: Sample) => number): Spread => spread(s.map(f))
      table.push({ test, server: name, rps: sp(x => x.rps), cpuUs: sp(x => x.cpuUs), sysUs: sp(x => x.sysUs), mainCpuUs: sp(x => x.mainCpuUs), otherCpuUs: sp(x => x.otherCpuUs), clientCpuUs: sp(x => x.clientCpuUs), readCalls: sp(x => x.readCalls), writeCalls: sp(x => x.writeCalls), switches: sp(x => x.switches), writesPerBatch: sp(x => x.writesPerBatch), storeReads: sp(x => x.storeReads) })
    }
  }
  // Ratios per round (the servers ran back to back), then the median: the machine drifts between rounds more than within one.
  const ratio = (test: Test, other: Server): number[] => of('dynakv', test).map((s, i) => s.rps / (of(other, test)[i]?.rps ?? NaN))
  const goals = [
    { what: 'SET -P16 dynakv/redis-always requests/s', value: spread(ratio('SET P16', 'redis-always')), goal: '≥ 0.8', decimals: 2 },
    { what: 'SET -P16 dynakv CPU µs/request', value: spread(of('dynakv', 'SET P16').map(s => s.cpuUs)), goal: '≤ 8', decimals: 1 },
    { what: 'GET -P16 dynakv/redis-memory requests/s', value: spread(ratio('GET P16', 'redis-memory')), goal: '≥ 0.5', decimals: 2 },
    { what: 'GET -P16 dynakv CPU µs/request', value: spread(of('dynakv', 'GET P16').map(s => s.cpuUs)), goal: '≤ 3', decimals: 1 },
    { what: 'SET -P1 dynakv/redis-always requests/s', value: spread(ratio('SET P1', 'redis-always')), goal: '≥ 0.8', decimals: 2 },
    { what: 'GET -P1 dynakv/node-echo requests/s', value: spread(ratio('GET P1', 'node-echo')), goal: '≥ 0.9', decimals: 2 }
  ]

  const out = process.stdout
  out.write(`\nmedians of ${rounds} rounds (min–max); redis-benchmark -c 50 -d 100 -r 100000, -n ${requests} at -P16, ${Math.round(requests / 2)} at -P1\n`)
  out.write('CPU = the server\'s utime+stime over the run (all threads; main = its JavaScript thread) / requests; client = redis-benchmark\'s own\n\n')
  out.write(`${'test'.padEnd(9)}${'server'.padEnd(14)}${'requests/s'.padEnd(26)}${'CPU µs/req'.padEnd(22)}${'main µs/req'.padEnd(22)}client µs/req\n`)
  for (const t of table) {
    const rps = `${kilo(t.rps.median)} (${kilo(t.rps.min)}–${kilo(t.rps.max)})`
    out.write(`${t.test.padEnd(9)}${t.server.padEnd(14)}${rps.padEnd(26)}${fmt(t.cpuUs).padEnd(22)}${fmt(t.mainCpuUs).padEnd(22)}${t.clientCpuUs.median.toFixed(1)}\n`)
  }
  out.write('\nwhere the server\'s CPU goes, per request (medians): kernel (sys) time, threads other than the main one, syscalls, context switches; dynakv: writes per fsynced batch, keys read from LevelDB per request\n')
  out.write(`${'test'.padEnd(9)}${'server'.padEnd(14)}${'sys µs'.padStart(8)}${'other threads µs'.padStart(18)}${'reads'.padStart(7)}${'writes'.padStart(8)}${'switches'.padStart(10)}${'writes/batch'.padStart(14)}${'store reads'.padStart(13)}\n`)
  for (const t of table) {
    const m = (x: Spread, d = 2): string => x.median.toFixed(d)
    out.write(`${t.test.padEnd(9)}${t.server.padEnd(14)}${m(t.sysUs, 1).padStart(8)}${m(t.otherCpuUs, 1).padStart(18)}${m(t.readCalls).padStart(7)}${m(t.writeCalls).padStart(8)}${m(t.switches).padStart(10)}${(Number.isNaN(t.writesPerBatch.median) ? '-' : m(t.writesPerBatch, 1)).padStart(14)}${(Number.isNaN(t.storeReads.median) ? '-' : m(t.storeReads, 3)).padStart(13)}\n`)
  }
  out.write('\nissue 11 goals\n')
  for (const g of goals) out.write(`${g.what.padEnd(44)}${fmt(g.value, g.decimals).padEnd(24)}goal ${g.goal}\n`)
  out.write(`\nload average (1 min) at the start and after each round: ${loads.join(', ')}\n`)
  out.write(`results: ${writeResult('single-node', { rounds, requests, loads, samples, table, goals })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
