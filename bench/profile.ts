// `make bench/profile`: where a request's microseconds go on the JavaScript
// thread. Warm dynakv nodes (bench/cpu-probe loaded: SIGUSR2 starts and stops
// V8's sampling profiler) run one redis-benchmark load each while profiled:
//   single SET -P16, single GET -P16 (one durable node, -c 50 -d 100 -r 100000)
//   cluster SET -P1, cluster GET -P1 (3 nodes N3 R2 W2, 16 clients on each node)
// Each profile's self time is put in categories (parse, dispatch, versioning,
// engine, storage binding, peer frames, sockets, promises/timers, GC...);
// a frame without a source (a builtin or native call) counts for the nearest
// caller that has one. The shares are then applied to the JavaScript thread's
// CPU per request over the same load (/proc), so that time the thread spent
// descheduled on this shared machine is not counted; the other threads' CPU
// (libuv pool: LevelDB writes, fsync, reads; V8's GC and compiler helpers) is
// given beside it.
//   DYNAKV_BENCH_REQUESTS=200000 (single node; the cluster runs 30000 per load)
//   DYNAKV_PROFILE=single|cluster (default: both)
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { usageOf, usageSince, load1, perRequest, redisBenchmark, redisBenchmarkSpread, ROOT, sleep, startCluster, startDynakv, tempDir, writeResult, type Dynakv, type Proc } from './lib.js'

const REQUESTS = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 200000)
const CLUSTER_REQUESTS = Math.round(REQUESTS * 0.15)
const PROBE = pathToFileURL(join(ROOT, 'dist', 'bench', 'cpu-probe.js')).href
const TOP = 15
const WHICH = process.env.DYNAKV_PROFILE ?? 'both'
if (!['single', 'cluster', 'both'].includes(WHICH)) throw new Error(`DYNAKV_PROFILE=${WHICH}: single, cluster or both`)
const PROFILE_SINGLE = WHICH !== 'cluster'
const PROFILE_CLUSTER = WHICH !== 'single'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[] }

const CATEGORIES: Array<[string, RegExp]> = [
  ['RESP parse', /\/lib\/resp\/(parser|inline)\.|redis-parser/],
  ['reply encode', /\/lib\/resp\/reply/],
  ['connection, dispatch, commands', /\/lib\/resp\//],
  ['coordinator, quorum', /\/lib\/node\/coordinator|\/lib\/coordinator\//],
  ['versioning (DVV, object codec)', /\/lib\/versioning\/|\/lib\/util\//],
  ['engine (group commit, overlay, cache)', /\/lib\/storage\/(engine|cache)/],
  ['storage binding (classic-level, abstract-level)', /\/lib\/storage\/store|classic-level|abstract-level|level-transcoder|module-error|maybe-combine-errors|level-supports/],
  ['peer frames, transport', /\/lib\/peer\//],
  ['node: keys, local replica, routing', /\/lib\/node\/|\/lib\/ring\//],
  ['anti-entropy, Merkle', /\/lib\/antientropy\//],
  ['sockets (Node net, streams)', /^node:(net|stream|internal\/(stream|net|streams|stream_base_commons|socketaddress))|internal\/streams/],
  ['promises, ticks, timers', /^node:(internal\/(process\/task_queues|timers|async_hooks)|timers)/],
  ['hashing (crypto)', /^node:(internal\/)?crypto/],
  ['Buffer allocation, slicing (node:buffer)', /^node:(internal\/)?buffer/],
  ['other Node internals', /^node:/]
]

function categoryOfUrl (url: string): string {
  for (const [name, re] of CATEGORIES) if (re.test(url)) return name
  return `other (${url.replace(/^.*\//, '')})`
}

interface Summary {
  /** Share of the profile's non-idle samples per category. */
  shares: Record<string, number>
  top: Array<{ fn: string, share: number }>
  activeShare: number
}

/** Self samples by category; natives and builtins count for their nearest caller with a source. */
function summarise (profiles: Profile[]): Summary {
  const counts: Record<string, number> = {}
  const fns = new Map<string, number>()
  let active = 0
  let all = 0
  for (const p of profiles) {
    const byId = new Map(p.nodes.map(n => [n.id, n]))
    const parent = new Map<number, number>()
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    const hits = new Map<number, number>()
    for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1)
    for (const [id, count] of hits) {
      const node = byId.get(id) as ProfileNode
      const name = node.callFrame.functionName
      all += count
      if (name === '(idle)') continue
      active += count
      let category: string
      let caller: ProfileNode | undefined = node
      while (caller !== undefined && caller.callFrame.url === '') caller = byId.get(parent.get(caller.id) ?? -1)
      if (name === '(garbage collector)') category = 'GC (main thread)'
      else if (name === '(program)') category = 'native, unattributed ((program): V8, libuv, syscalls)'
      else category = caller === undefined ? 'other natives' : categoryOfUrl(caller.callFrame.url)
      counts[category] = (counts[category] ?? 0) + count
      const where = (n: ProfileNode): string => `${n.callFrame.functionName === '' ? '(anonymous)' : n.callFrame.functionName} ${n.callFrame.url.replace(/^.*\/(lib|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`
      const fn = node.callFrame.url !== '' || caller === undefined ? where(node) : `${name === '' ? '(anonymous native)' : name}, called from ${where(caller)}`
      fns.set(fn, (fns.get(fn) ?? 0) + count)
    }
  }
  const shares: Record<string, number> = {}
  for (const [k, v] of Object.entries(counts)) shares[k] = v / active
  const top = [...fns].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([fn, c]) => ({ fn, share: c / active }))
  return { shares, top, activeShare: active / all }
}

/** SIGUSR2 to a node with cpu-probe: starts its profiler. */
function startProfile (p: Proc): void {
  p.proc.kill('SIGUSR2')
}

/** The second SIGUSR2 stops it; resolves with the profile's path once it is written. */
async function stopProfile (p: Proc): Promise<string> {
  const tag = 'cpu-probe '
  const seen = p.output().split(tag).length
  p.proc.kill('SIGUSR2')
  for (let i = 0; i < 400; i++) {
    const parts = p.output().split(tag)
    if (parts.length > seen) return parts[parts.length - 1].split('\n')[0].trim()
    await sleep(50)
  }
  throw new Error('cpu-probe wrote no profile')
}

interface Load {
  name: string
  requests: number
  rps: number
  /** CPU per request of all nodes: total, JavaScript threads, other threads (µs). */
  cpuUs: number
  mainCpuUs: number
  summary: Summary
}

async function profiled (name: string, nodes: Dynakv[], run: () => Promise<{ requests: number, rps: number }>): Promise<Load> {
  const before = nodes.map(p => usageOf(p.pid))
  for (const p of nodes) startProfile(p)
  const r = await run()
  const files = await Promise.all(nodes.map(stopProfile))
  const cpu = nodes.map((p, i) => usageSince(before[i], p.pid))
  const profiles = files.map(f => JSON.parse(readFileSync(f, 'utf8')) as Profile)
  return {
    name,
    requests: r.requests,
    rps: r.rps,
    cpuUs: perRequest(cpu, r.requests).cpuUs,
    mainCpuUs: perRequest(cpu, r.requests).mainCpuUs,
    summary: summarise(profiles)
  }
}

async function main (): Promise<void> {
  const dir = tempDir('dynakv-profile-')
  process.env.DYNAKV_PROBE_DIR = dir
  const options = { node: ['--import', PROBE] }
  const quiet = ['--log-level', 'warn']
  const single = PROFILE_SINGLE ? [await startDynakv(['--n', '1', '--r', '1', '--w', '1', ...quiet], options)] : []
  const cluster = PROFILE_CLUSTER ? await startCluster(3, ['--n', '3', '--r', '2', '--w', '2', ...quiet], options) : []
  const loads: Load[] = []
  const machine = [load1()]
  const rb = ['-d', '100', '-r', '100000']
  try {
    // Warm-up: V8 compiles the hot paths (discarded).
    for (const op of ['set', 'get']) {
      for (const p of single) await redisBenchmark(p.port, ['-t', op, '-n', String(REQUESTS), '-c', '50', '-P', '16', ...rb])
      if (cluster.length > 0) await redisBenchmarkSpread(cluster.map(p => p.port), 16, Math.round(CLUSTER_REQUESTS / 3), ['-t', op, '-P', '1', ...rb])
    }
    process.stderr.write('warm-up done\n')
    for (const op of ['SET', 'GET']) {
      for (const p of single) {
        loads.push(await profiled(`single ${op} -P16`, [p], async () => {
          const b = await redisBenchmark(p.port, ['-t', op.toLowerCase(), '-n', String(REQUESTS), '-c', '50', '-P', '16', ...rb])
          return { requests: REQUESTS, rps: b.rows[0]?.rps ?? NaN }
        }))
      }
    }
    for (const op of cluster.length > 0 ? ['SET', 'GET'] : []) {
      loads.push(await profiled(`cluster ${op} -P1`, cluster, async () => {
        const b = await redisBenchmarkSpread(cluster.map(p => p.port), 16, Math.round(CLUSTER_REQUESTS / 3), ['-t', op.toLowerCase(), '-P', '1', ...rb])
        return { requests: b.requests, rps: b.rps }
      }))
    }
    machine.push(load1())
  } finally {
    for (const p of [...single, ...cluster]) await p.stop()
  }
  const out = process.stdout
  for (const l of loads) {
    out.write(`\n${l.name}: ${Math.round(l.rps)} req/s; CPU per request ${l.cpuUs.toFixed(1)} µs = JavaScript thread${l.name.startsWith('cluster') ? 's' : ''} ${l.mainCpuUs.toFixed(1)} + other threads ${(l.cpuUs - l.mainCpuUs).toFixed(1)} (libuv pool: LevelDB, fsync; V8 helpers)\n`)
    out.write(`JavaScript thread by category (share of non-idle samples × its CPU per request; ${(100 * l.summary.activeShare).toFixed(0)} % of samples not idle)\n`)
    for (const [k, v] of Object.entries(l.summary.shares).sort((a, b) => b[1] - a[1])) {
      out.write(`  ${k.padEnd(56)}${(v * l.mainCpuUs).toFixed(2).padStart(8)} µs${`${(100 * v).toFixed(1)} %`.padStart(9)}\n`)
    }
    out.write('top functions (self)\n')
    for (const t of l.summary.top) out.write(`  ${(t.share * l.mainCpuUs).toFixed(2).padStart(7)} µs  ${t.fn}\n`)
  }
  out.write(`\nload average (1 min) at the start and the end: ${machine.join(', ')}\n`)
  out.write(`results: ${writeResult('profile', { requests: REQUESTS, clusterRequests: CLUSTER_REQUESTS, machine, loads })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
