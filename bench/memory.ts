// `make bench/memory`: bulk load, restart and memory of one durable node.
//   1. `redis-cli --pipe` of KEYS SETs of 100-byte values (one connection,
//      everything pipelined) into redis-server appendfsync always, then into a
//      durable dynakv node (default flags): wall time, and RSS sampled from /proc
//      every 100 ms during the load (and the kernel's own peak, VmHWM).
//   2. dynakv restarted on that directory: start-up time to ready; RSS after
//      start-up and after 200 000 random GETs (redis-benchmark -P16 over the
//      loaded keys), with the default cache (64 MB), --cache-mb 16 (the low-memory
//      setting of README), --cache-mb 0 and the default again (a restart that
//      does not follow the load: without the pages of its compaction).
//      bench/gc-probe collects garbage in the node before each heap figure, so
//      the cache's real cost (heap + external, against --cache-mb 0) can be set
//      beside what the cache counts (INFO object_cache_bytes) and the size
//      configured. RSS after the GETs is split by mapping (smaps), and read
//      again DYNAKV_BENCH_SETTLE_S (20) later, once start-up work has ended.
// Keys are `key:%012d`, redis-benchmark's own format for -r, so its GETs hit.
// Bounded: each bulk load is killed after DYNAKV_BENCH_LOAD_TIMEOUT_S (600 s);
// today dynakv needs ~200 s for a million keys: DYNAKV_BENCH_KEYS=200000 is a
// shorter run.
//   DYNAKV_BENCH_KEYS=1000000 DYNAKV_BENCH_GETS=200000 DYNAKV_BENCH_LOAD_TIMEOUT_S=600
// The nodes get bin/dynakv's environment (lib/cli/launch.ts); DYNAKV_BENCH_RAW=1: node's defaults.
import { readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { serverEnv } from '../lib/cli/launch.js'
import { SERVER_FLAGS } from '../lib/cli/args.js'
import { infoField, load1, memOf, redisBenchmark, redisCli, redisCliPipe, removeDir, ROOT, sampleRss, sleep, startDynakv, startRedis, tempDir, writePipeFile, writeResult, type Dynakv, type Proc } from './lib.js'

const KEYS = Number(process.env.DYNAKV_BENCH_KEYS ?? 1_000_000)
const GETS = Number(process.env.DYNAKV_BENCH_GETS ?? 200_000)
const LOAD_TIMEOUT_S = Number(process.env.DYNAKV_BENCH_LOAD_TIMEOUT_S ?? 600)
const MB = 1024 * 1024
/** Node flags for every dynakv process of the run (e.g. '--max-semi-space-size=8'); the environment passes through as it is (MALLOC_* tunables). */
const NODE_FLAGS = (process.env.DYNAKV_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(f => f !== '')
/** Server flags for the loaded node (e.g. '--cache-mb 16'); the restarts set only --cache-mb. */
const LOAD_ARGS = (process.env.DYNAKV_BENCH_LOAD_ARGS ?? '').split(/\s+/).filter(f => f !== '')
/** Seconds a restart waits after its GETs (and the forced GC) before RSS is read again: start-up work (the key scan, the compaction a load left) has ended. */
const SETTLE_S = Number(process.env.DYNAKV_BENCH_SETTLE_S ?? 20)
const PROBE = pathToFileURL(join(ROOT, 'dist', 'bench', 'gc-probe.js')).href

/** RSS split as /proc/PID/status gives it: anonymous (heaps) and file-backed (the node binary, LevelDB's mmapped tables), MB. */
function rssSplit (pid: number): { anonMb: number, fileMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024
  return { anonMb: kb('RssAnon'), fileMb: kb('RssFile') }
}

/**
 * RSS by mapping, from /proc/PID/smaps (MB): node's own binary, LevelDB's
 * mmapped tables (*.ldb), other files (shared libraries), malloc's main arena
 * ([heap], brk) and the rest of the anonymous memory (V8's heap spaces, the
 * other threads' malloc arenas and stacks, malloc's mmapped blocks ≥ 128 KB).
 */
function rssByMapping (pid: number): Record<'binary' | 'tables' | 'otherFiles' | 'brkHeap' | 'anonymous', number> {
  const out = { binary: 0, tables: 0, otherFiles: 0, brkHeap: 0, anonymous: 0 }
  let part: keyof typeof out = 'anonymous'
  const exe = readlinkSync(`/proc/${pid}/exe`)
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line)
    if (head !== null) {
      const path = head[1]
      part = path === exe ? 'binary' : path.endsWith('.ldb') ? 'tables' : path.startsWith('/') ? 'otherFiles' : path === '[heap]' ? 'brkHeap' : 'anonymous'
      continue
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss !== null) out[part] += Number(rss[1]) / 1024
  }
  return out
}

/** The largest RSS sample's split, sampled as sampleRss does. */
function sampleSplit (pid: number, everyMs = 100): { stop: () => { anonMb: number, fileMb: number } } {
  let max = { anonMb: 0, fileMb: 0 }
  const take = (): void => {
    try {
      const s = rssSplit(pid)
      if (s.anonMb + s.fileMb > max.anonMb + max.fileMb) max = s
    } catch {} // exited
  }
  take()
  const timer = setInterval(take, everyMs)
  return { stop: () => { clearInterval(timer); take(); return max } }
}

interface Load { peakSplit: { anonMb: number, fileMb: number }, seconds: number, peakRssMb: number, hwmMb: number, replies: number, errors: number, completed: boolean, output: string }

async function bulkLoad (p: Proc, file: string): Promise<Load> {
  const rss = sampleRss(p.pid)
  const split = sampleSplit(p.pid)
  const started = performance.now()
  const { code, output } = await redisCliPipe(p.port, file, LOAD_TIMEOUT_S)
  const seconds = (performance.now() - started) / 1000
  const peak = rss.stop()
  const peakSplit = split.stop()
  const m = /errors: (\d+), replies: (\d+)/.exec(output)
  return { peakSplit, seconds, peakRssMb: peak / MB, hwmMb: memOf(p.pid).peakRssBytes / MB, errors: Number(m?.[1] ?? NaN), replies: Number(m?.[2] ?? NaN), completed: code === 0, output: output.trim() }
}

interface Heap { heapUsedMb: number, externalMb: number, rssMb: number, anonMb?: number, fileMb?: number, /** V8's committed MB by heap space, after the forced GC and before it. */ spaces: Record<string, number>, before: Record<string, number> }

/** Live memory of a node started with gc-probe: collects garbage there and reads the line it prints. */
async function liveHeap (p: Proc): Promise<Heap> {
  const seen = p.output().split('gc-probe ').length
  p.proc.kill('SIGUSR2')
  for (let i = 0; i < 200; i++) {
    const parts = p.output().split('gc-probe ')
    if (parts.length > seen) {
      const m = JSON.parse(parts[parts.length - 1].split('\n')[0]) as { heapUsed: number, external: number, rss: number, spaces: Record<string, number>, before: Record<string, number> }
      return { heapUsedMb: m.heapUsed / MB, externalMb: m.external / MB, rssMb: m.rss / MB, spaces: m.spaces, before: m.before }
    }
    await sleep(50)
  }
  throw new Error('gc-probe did not answer')
}

interface Restart {
  cacheMb: number | 'default'
  startupSeconds: number
  afterStartup: Heap & { rssNowMb: number }
  afterGets: Heap & { rssNowMb: number, byMapping: ReturnType<typeof rssByMapping>, getsPerSecond: number, cacheKeys: number, cacheCountedMb: number, storeReads: number }
  settled: { rssMb: number, byMapping: ReturnType<typeof rssByMapping> }
}

async function restart (dir: string, cacheMb: number | 'default'): Promise<Restart> {
  const args = ['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn', ...(cacheMb === 'default' ? [] : ['--cache-mb', String(cacheMb)])]
  const started = performance.now()
  const p = await startDynakv(args, { dir, node: [...NODE_FLAGS, '--expose-gc', '--import', PROBE], timeoutMs: 120_000 })
  const startupSeconds = (performance.now() - started) / 1000
  try {
    await sleep(1000)
    const afterStartup = { rssNowMb: memOf(p.pid).rssBytes / MB, ...await liveHeap(p) }
    const run = await redisBenchmark(p.port, ['-t', 'get', '-n', String(GETS), '-r', String(KEYS), '-c', '50', '-P', '16'])
    const rssNowMb = memOf(p.pid).rssBytes / MB
    const split = rssSplit(p.pid)
    const byMapping = rssByMapping(p.pid)
    const afterGets = {
      rssNowMb,
      ...split,
      byMapping,
      ...await liveHeap(p),
      getsPerSecond: run.rows[0]?.rps ?? NaN,
      cacheKeys: await infoField(p.port, 'memory', 'object_cache_keys'),
      cacheCountedMb: await infoField(p.port, 'memory', 'object_cache_bytes') / MB,
      storeReads: await infoField(p.port, 'stats', 'keyspace_misses')
    }
    await sleep(SETTLE_S * 1000)
    const settled = { rssMb: memOf(p.pid).rssBytes / MB, byMapping: rssByMapping(p.pid) }
    return { cacheMb, startupSeconds, afterStartup, afterGets, settled }
  } finally {
    await p.stop()
  }
}

async function main (): Promise<void> {
  // The nodes run with what bin/dynakv sets (malloc thresholds, semi-spaces), unless DYNAKV_BENCH_RAW=1.
  if (process.env.DYNAKV_BENCH_RAW !== '1') Object.assign(process.env, serverEnv(process.env))
  const loads = [load1()]
  const work = tempDir('dynakv-bench-memory-')
  const file = join(work, 'sets.resp')
  const fileBytes = writePipeFile(file, KEYS)
  process.stderr.write(`${KEYS} SETs, ${(fileBytes / MB).toFixed(0)} MB of RESP in ${file}\n`)

  const redis = await startRedis({ fsync: 'always' })
  let redisLoad: Load
  try {
    redisLoad = await bulkLoad(redis, file)
  } finally {
    await redis.stop()
  }
  process.stderr.write(`redis-server appendfsync always: ${redisLoad.seconds.toFixed(1)} s, peak RSS ${redisLoad.peakRssMb.toFixed(0)} MB\n`)
  loads.push(load1())

  const node: Dynakv = await startDynakv(['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn', ...LOAD_ARGS], { node: NODE_FLAGS })
  let dynakvLoad: Load
  let keysAfterLoad = NaN
  let heapAfterLoadMb = NaN
  let stopSeconds = NaN
  try {
    dynakvLoad = await bulkLoad(node, file)
    // A load cut short by the time bound leaves what the node read ahead still being written: wait for it (bounded).
    for (let i = 0; i < 600 && await infoField(node.port, 'persistence', 'pending_writes', 300_000) > 0; i++) await sleep(1000)
    keysAfterLoad = Number((await redisCli(node.port, ['DBSIZE'], 300_000)).trim())
    heapAfterLoadMb = await infoField(node.port, 'memory', 'used_memory') / MB
  } finally {
    const t = performance.now()
    await node.stop()
    stopSeconds = (performance.now() - t) / 1000
  }
  process.stderr.write(`dynakv: ${dynakvLoad.seconds.toFixed(1)} s, peak RSS ${dynakvLoad.peakRssMb.toFixed(0)} MB, DBSIZE ${keysAfterLoad}\n`)
  removeDir(work)
  loads.push(load1())

  const restarts: Restart[] = []
  // The default, the low-memory setting, none, and the default again: the first
  // restart after a load holds the pages of the compaction it triggers (file-backed).
  for (const cacheMb of ['default', 16, 0, 'default'] as const) {
    restarts.push(await restart(node.dir, cacheMb))
    const r = restarts[restarts.length - 1]
    process.stderr.write(`restart, cache ${cacheMb}: ready in ${r.startupSeconds.toFixed(1)} s, RSS ${r.afterStartup.rssNowMb.toFixed(0)} → ${r.afterGets.rssNowMb.toFixed(0)} MB after ${GETS} GETs\n`)
  }
  removeDir(node.dir)
  loads.push(load1())

  const out = process.stdout
  const mb = (x: number): string => `${x.toFixed(0)} MB`
  out.write(`\nnode flags: ${NODE_FLAGS.join(' ') || '(none)'}; NODE_OPTIONS: ${process.env.NODE_OPTIONS ?? '(none)'}; load server flags: ${LOAD_ARGS.join(' ') || '(none)'}; MALLOC_* environment: ${Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_')).map(([k, v]) => `${k}=${v ?? ''}`).join(' ') || '(none)'}\n`)
  out.write(`\nbulk load: redis-cli --pipe of ${KEYS} SETs of 100 bytes (${(fileBytes / MB).toFixed(0)} MB of RESP)\n`)
  out.write(`${'server'.padEnd(30)}${'seconds'.padStart(9)}${'SET/s'.padStart(10)}${'peak RSS'.padStart(10)}${'VmHWM'.padStart(9)}  replies, errors\n`)
  for (const [name, l] of [['redis-server appendfsync always', redisLoad], ['dynakv (durable)', dynakvLoad]] as const) {
    out.write(`${name.padEnd(30)}${l.seconds.toFixed(1).padStart(9)}${Math.round(l.replies / l.seconds).toString().padStart(10)}${mb(l.peakRssMb).padStart(10)}${mb(l.hwmMb).padStart(9)}  ${l.replies}, ${l.errors}${l.completed ? '' : ' (NOT COMPLETED)'}\n`)
  }
  out.write(`peak RSS sample split: redis ${redisLoad.peakSplit.anonMb.toFixed(0)} MB anonymous + ${redisLoad.peakSplit.fileMb.toFixed(0)} MB file-backed; dynakv ${dynakvLoad.peakSplit.anonMb.toFixed(0)} + ${dynakvLoad.peakSplit.fileMb.toFixed(0)} MB\n`)
  out.write(`dynakv after the load: DBSIZE ${keysAfterLoad}, INFO used_memory ${mb(heapAfterLoadMb)}; stopping it took ${stopSeconds.toFixed(1)} s\n`)
  out.write(`\nrestart on that directory, then ${GETS} random GETs (redis-benchmark -c 50 -P 16 -r ${KEYS}); heap = live heap after a forced GC; cache cost = (heap + external) minus that of --cache-mb 0\n`)
  out.write(`${'--cache-mb'.padEnd(11)}${'ready s'.padStart(8)}${'RSS start'.padStart(11)}${'RSS GETs'.padStart(10)}${'heap start'.padStart(12)}${'heap GETs'.padStart(11)}${'extern GETs'.padStart(13)}${'cached keys'.padStart(13)}${'counted'.padStart(10)}${'real cost'.padStart(11)}${'B/key real'.padStart(12)}${'B/key counted'.padStart(15)}\n`)
  const none = restarts.find(r => r.cacheMb === 0) as Restart
  const cost = (r: Restart): number => r.afterGets.heapUsedMb + r.afterGets.externalMb - none.afterGets.heapUsedMb - none.afterGets.externalMb
  for (const r of restarts) {
    const perKey = (x: number): string => r.afterGets.cacheKeys > 0 ? Math.round(x * MB / r.afterGets.cacheKeys).toString() : '-'
    out.write(`${String(r.cacheMb === 'default' ? `${SERVER_FLAGS['cache-mb'].default} (def.${r === restarts[0] ? '' : ', 2nd'})` : r.cacheMb).padEnd(11)}${r.startupSeconds.toFixed(1).padStart(8)}${mb(r.afterStartup.rssNowMb).padStart(11)}${mb(r.afterGets.rssNowMb).padStart(10)}${mb(r.afterStartup.heapUsedMb).padStart(12)}${mb(r.afterGets.heapUsedMb).padStart(11)}${mb(r.afterGets.externalMb).padStart(13)}${String(r.afterGets.cacheKeys).padStart(13)}${mb(r.afterGets.cacheCountedMb).padStart(10)}${mb(cost(r)).padStart(11)}${perKey(cost(r)).padStart(12)}${perKey(r.afterGets.cacheCountedMb).padStart(15)}\n`)
  }
  out.write(`RSS after GETs, anonymous + file-backed (node binary, mmapped tables): ${restarts.map(r => `${String(r.cacheMb)}: ${(r.afterGets.anonMb ?? NaN).toFixed(0)} + ${(r.afterGets.fileMb ?? NaN).toFixed(0)} MB`).join(', ')}\n`)
  out.write('RSS after GETs by mapping (smaps), MB; then V8\'s committed heap spaces after the forced GC, MB\n')
  for (const r of restarts) {
    const b = r.afterGets.byMapping
    const spaces = (x: Record<string, number>): string => Object.entries(x).filter(([, v]) => v > 0).map(([k, v]) => `${k.replace(/_space$/, '')} ${v}`).join(', ')
    out.write(`  ${String(r.cacheMb).padEnd(8)} node binary ${b.binary.toFixed(0)}, tables ${b.tables.toFixed(0)}, other files ${b.otherFiles.toFixed(0)}, [heap] ${b.brkHeap.toFixed(0)}, other anonymous ${b.anonymous.toFixed(0)}; V8 before the GC ${spaces(r.afterGets.before)}, after ${spaces(r.afterGets.spaces)}\n`)
  }
  out.write(`RSS ${SETTLE_S} s after the GETs and the forced GC (start-up work done), MB: ${restarts.map(r => `${String(r.cacheMb)}: ${r.settled.rssMb.toFixed(0)} (tables ${r.settled.byMapping.tables.toFixed(0)})`).join(', ')}\n`)
  const def = restarts[0]
  out.write('\nissue 11 goals\n')
  out.write(`bulk load time dynakv/redis-always      ${(dynakvLoad.seconds / redisLoad.seconds).toFixed(1)}×   goal ≤ 2×\n`)
  out.write(`bulk load peak RSS                      ${mb(Math.max(dynakvLoad.peakRssMb, dynakvLoad.hwmMb))}   goal ≤ 250 MB\n`)
  out.write(`RSS after start-up / after GETs         ${mb(def.afterStartup.rssNowMb)} / ${mb(def.afterGets.rssNowMb)}   goal ≤ 200 MB (with ${KEYS} keys)\n`)
  const later = restarts[restarts.length - 1]
  out.write(`the same, a later restart               ${mb(later.afterStartup.rssNowMb)} / ${mb(later.afterGets.rssNowMb)}\n`)
  out.write(`start-up to ready                       ${def.startupSeconds.toFixed(1)} s   goal ≤ 5 s\n`)
  out.write(`\nload average (1 min) at the start, after each load and after the restarts: ${loads.join(', ')}\n`)
  out.write(`results: ${writeResult('memory', { keys: KEYS, gets: GETS, loads, redisLoad, dynakvLoad, keysAfterLoad, heapAfterLoadMb, stopSeconds, restarts })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
