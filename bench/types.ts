// `make bench/types`: what adding to a collection costs as it grows (issue 10).
// SADD, HSET and ZADD of NEW members/fields on a key already holding 10, 10 000
// and 100 000 of them, and INCR on a counter with that many increments behind
// it, on redis-server, one dynakv node (N=1) and a 3-node cluster (N=3 R=2 W=2,
// anti-entropy off so that peer traffic is the writes'), all in the same run,
// cell by cell. Per cell: ops/s, server CPU per op (utime + stime of every
// server process, /proc/PID/stat) and, on the cluster, bytes the nodes sent
// each other per op (INFO peer_bytes_sent summed, minus the idle rate of
// gossip and probes measured before). Reported as ratios to the 10-member case
// and to redis-server. The goal: on a 100 000-member key, within 2× of a
// 10-member key in CPU per op and bytes sent to replicas.
//
// Collections are preloaded in pipelines of 1000 members per command. The adds
// are redis-benchmark custom commands with __rand_int__ members (-r 1e11) that
// never collide with the preloaded ones, prefixed per redis-benchmark process so
// that two processes never send the same ones; the cardinality is checked after each
// cell. A discarded warm-up cell per target runs first (V8 compiles the paths),
// and the idle CPU of the servers (timers, gossip) over a cell's time is
// subtracted like the idle peer traffic. redis-server gets 10× the adds, so that
// its CPU (a few µs per op) spans enough clock ticks. A counter's "size" is the increments applied before (INCRBY through each
// node, so every node's counter lane exists): a PN counter keeps one running
// total per node, so it should not grow. SET of a new key per op is the anchor:
// the cheapest write, measured in the same run. Each cell also counts the
// nodes' write batches (group commits, INFO write_batches) per op.
// DYNAKV_PROFILE_COMMANDS=SADD,INCR runs the single node under --cpu-prof and
// measures only those commands (profiles kept in a directory under the system's temp dir, printed).
//   DYNAKV_BENCH_ROUNDS=3 DYNAKV_BENCH_OPS=2000 DYNAKV_BENCH_CLIENTS=6 DYNAKV_BENCH_SIZES=10,10000,100000 DYNAKV_BENCH_TYPES=SADD,HSET,ZADD,INCR
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { MAIN, freePort, median, sleep, startProcess, startRedis, tempDir, writeResult, type Proc } from './lib.js'

const OPS = Number(process.env.DYNAKV_BENCH_OPS ?? 2000)
const CLIENTS = Number(process.env.DYNAKV_BENCH_CLIENTS ?? 6)
const ROUNDS = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 3)
const SIZES = (process.env.DYNAKV_BENCH_SIZES ?? '10,10000,100000').split(',').map(Number)
const ALL_TYPES = ['SET', 'SADD', 'HSET', 'ZADD', 'INCR'] as const
type Type = typeof ALL_TYPES[number]
const PROFILE = process.env.DYNAKV_PROFILE_COMMANDS?.split(',') as Type[] | undefined
const TYPES = (PROFILE ?? process.env.DYNAKV_BENCH_TYPES?.split(',') ?? ALL_TYPES) as Type[]
/** Kept after the run (not a tempDir): the profiles are what it is for. */
const PROFILE_DIR = PROFILE === undefined ? null : mkdtempSync(join(tmpdir(), 'dynakv-bench-types-prof-'))
const PRELOAD_BATCH = 1000
/** SET makes new keys: one cell, whatever the sizes. */
const sizesOf = (type: Type): number[] => type === 'SET' ? SIZES.slice(0, 1) : SIZES
const RANDOM_RANGE = '100000000000'

interface Target {
  name: 'redis' | 'single' | 'cluster'
  ports: number[]
  pids: number[]
  clients: Redis[]
  /** When idle (gossip, probes, timers): bytes the nodes send each other and server CPU, per ms. */
  idleBytesPerMs: number
  idleCpuUsPerMs: number
}

// ---------------------------------------------------------------- processes

const TICK_US = 1e6 / 100 // getconf CLK_TCK is 100 on Linux

/** utime + stime of a process so far, in µs (one tick: 10 ms). */
function cpuUs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // f[0] is field 3
  return (Number(f[11]) + Number(f[12])) * TICK_US
}

async function startNode (args: string[], profile = false): Promise<Proc & { peerPort: number }> {
  const port = await freePort()
  const peerPort = await freePort()
  const argv = [...(profile && PROFILE_DIR !== null ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []), MAIN, 'server', '--port', String(port), '--peer-port', String(peerPort), '--dir', tempDir('dynakv-bench-types-'), '--log-level', 'warn', ...args]
  return { ...await startProcess(process.execPath, argv, /ready: RESP/, port), peerPort }
}

function connect (port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, protocol: 2, maxRetriesPerRequest: 0 })
}

async function converged (clients: Redis[]): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const all = await Promise.all(clients.map(async c => (await c.call('RING', 'STATUS') as unknown[]).map(String).join(' ')))
    if (all.every(s => / converged yes\b/.test(s) && new RegExp(` members ${clients.length}\\b`).test(s))) return
    await sleep(100)
  }
  throw new Error('the cluster did not converge')
}

/** Group commits so far, summed over the target's nodes (none for redis-server). */
async function writeBatches (t: Target): Promise<number> {
  if (t.name === 'redis') return 0
  let sum = 0
  for (const c of t.clients) sum += Number(/^write_batches:(\d+)/m.exec(await c.info('persistence'))?.[1] ?? NaN)
  return sum
}

async function peerBytes (t: Target): Promise<number> {
  if (t.name !== 'cluster') return 0
  let sum = 0
  for (const c of t.clients) sum += Number(/^peer_bytes_sent:(\d+)/m.exec(await c.info('cluster'))?.[1] ?? NaN)
  return sum
}

// ---------------------------------------------------------------- the work

/** A round after the first adds to fresh copies of the keys smaller than its adds (so 10 members stay about 10). */
const keyOf = (type: Type, size: number, round: number): string => `bench:${type.toLowerCase()}:${size}${round > 0 && size < OPS ? `:r${round}` : ''}`
const opsOf = (t: Target): number => t.name === 'redis' ? OPS * 10 : OPS
const cpuOf = (t: Target): number => t.pids.reduce((sum, pid) => sum + cpuUs(pid), 0)

/** Fills the key with `size` members (or increments), in pipelined batches. */
async function preload (t: Target, type: Type, size: number, round: number): Promise<void> {
  const key = keyOf(type, size, round)
  if (type === 'SET') return // new keys: nothing to preload
  if (type === 'INCR') {
    const share = Math.floor(size / t.clients.length)
    await Promise.all(t.clients.map(async (c, i) => await c.incrby(key, i === 0 ? size - share * (t.clients.length - 1) : share)))
    return
  }
  const p = t.clients[0].pipeline()
  for (let from = 0; from < size; from += PRELOAD_BATCH) {
    const ids = Array.from({ length: Math.min(PRELOAD_BATCH, size - from) }, (_, i) => from + i)
    if (type === 'SADD') p.sadd(key, ...ids.map(i => `m:${i}`))
    else if (type === 'HSET') p.hset(key, ...ids.flatMap(i => [`m:${i}`, 'v']))
    else p.zadd(key, ...ids.flatMap(i => [i, `m:${i}`]))
  }
  const failed = (await p.exec() ?? []).find(([e]) => e !== null)
  if (failed !== undefined) throw new Error(`preload ${key}: ${String(failed[0])}`)
}

/** The key's size: cardinality, or the counter's value (SET: the keys it made, DBSIZE, exact on one node). */
async function sizeOf (t: Target, type: Type, size: number, round: number): Promise<number> {
  const c = t.clients[0]
  if (type === 'SET') return t.name === 'cluster' ? 0 : await c.dbsize()
  const key = keyOf(type, size, round)
  if (type === 'SADD') return await c.scard(key)
  if (type === 'HSET') return await c.hlen(key)
  if (type === 'ZADD') return await c.zcard(key)
  return Number(await c.get(key))
}

/**
 * The command one redis-benchmark process sends; `proc` (its index among the
 * processes of a cell) prefixes the random members. redis-benchmark seeds
 * random() with time(NULL) ^ getpid(), so two processes spawned across a second
 * boundary with consecutive pids (t ^ p = (t+1) ^ (p+1) whenever t and p are
 * even) draw the same members: without the prefix, a cluster cell then "lost"
 * one node's share of its adds (1333 of 2000) that were only duplicates.
 */
function command (type: Type, key: string, proc: number): string[] {
  const member = `n${proc}:__rand_int__`
  if (type === 'SET') return ['SET', `${key}:${member}`, 'v']
  if (type === 'SADD') return ['SADD', key, member]
  if (type === 'HSET') return ['HSET', key, member, 'v']
  if (type === 'ZADD') return ['ZADD', key, '__rand_int__', member]
  return ['INCR', key]
}

async function redisBenchmark (port: number, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-q', ...args], { timeout: 1_800_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err !== null || /error/i.test(stdout + stderr)) reject(new Error(`redis-benchmark ${args.join(' ')}: ${err?.message ?? ''} ${stdout} ${stderr}`))
      else resolve()
    })
  })
}

interface Cell { target: string, type: Type, size: number, round: number, opsPerSec: number, cpuUsPerOp: number, peerBytesPerOp: number, batchesPerOp: number, added: number }

/** New adds, the clients spread over the target's nodes (one redis-benchmark per node, all at once). */
async function measure (t: Target, type: Type, size: number, round: number, ops = opsOf(t)): Promise<Cell> {
  const before = await sizeOf(t, type, size, round)
  const k = t.ports.length
  const cpu0 = cpuOf(t)
  const bytes0 = await peerBytes(t)
  const batches0 = await writeBatches(t)
  const started = performance.now()
  await Promise.all(t.ports.map(async (port, i) => {
    const n = Math.floor(ops / k) + (i < ops % k ? 1 : 0)
    const c = Math.max(1, Math.floor(CLIENTS / k) + (i < CLIENTS % k ? 1 : 0))
    await redisBenchmark(port, ['-n', String(n), '-c', String(c), '-r', RANDOM_RANGE, ...command(type, keyOf(type, size, round), i)])
  }))
  const elapsedMs = performance.now() - started
  const cpu = cpuOf(t) - cpu0 - t.idleCpuUsPerMs * elapsedMs
  const bytes = await peerBytes(t) - bytes0 - t.idleBytesPerMs * elapsedMs
  const batches = await writeBatches(t) - batches0
  const added = type === 'SET' && t.name === 'cluster' ? ops : await sizeOf(t, type, size, round) - before
  return { target: t.name, type, size, round, opsPerSec: ops / elapsedMs * 1000, cpuUsPerOp: Math.max(0, cpu / ops), peerBytesPerOp: Math.max(0, bytes / ops), batchesPerOp: batches / ops, added }
}

/** Idle rates of every target over the same few seconds. */
async function measureIdle (targets: Target[], ms: number): Promise<void> {
  const cpu0 = targets.map(cpuOf)
  const bytes0 = await Promise.all(targets.map(peerBytes))
  const started = performance.now()
  await sleep(ms)
  const elapsedMs = performance.now() - started
  const bytes = await Promise.all(targets.map(peerBytes))
  targets.forEach((t, i) => {
    t.idleCpuUsPerMs = (cpuOf(t) - cpu0[i]) / elapsedMs
    t.idleBytesPerMs = (bytes[i] - bytes0[i]) / elapsedMs
    process.stderr.write(`${t.name} idle: ${Math.round(t.idleCpuUsPerMs * 1000)} µs CPU/s, ${Math.round(t.idleBytesPerMs * 1000)} peer bytes/s\n`)
  })
}

// ---------------------------------------------------------------- main

async function main (): Promise<void> {
  const redis = await startRedis()
  const single = await startNode(['--n', '1', '--r', '1', '--w', '1'], true)
  const clusterArgs = ['--n', '3', '--r', '2', '--w', '2', '--ae-interval-ms', '0']
  const first = await startNode(clusterArgs)
  const rest = await Promise.all([0, 1].map(async () => await startNode([...clusterArgs, '--join', `127.0.0.1:${first.peerPort}`])))
  const nodes = [first, ...rest]
  const targets: Target[] = [
    { name: 'redis', ports: [redis.port], pids: [redis.proc.pid as number], clients: [connect(redis.port)], idleBytesPerMs: 0, idleCpuUsPerMs: 0 },
    { name: 'single', ports: [single.port], pids: [single.proc.pid as number], clients: [connect(single.port)], idleBytesPerMs: 0, idleCpuUsPerMs: 0 },
    { name: 'cluster', ports: nodes.map(n => n.port), pids: nodes.map(n => n.proc.pid as number), clients: nodes.map(n => connect(n.port)), idleBytesPerMs: 0, idleCpuUsPerMs: 0 }
  ]
  const cells: Cell[] = []
  const load = loadavg()[0]
  try {
    await converged(targets[2].clients)
    for (const t of targets) {
      const began = performance.now()
      for (const type of TYPES) for (const size of sizesOf(type)) await preload(t, type, size, 0)
      process.stderr.write(`${t.name}: preloaded ${SIZES.join(', ')} members per type in ${Math.round(performance.now() - began)} ms\n`)
    }
    for (const t of targets) for (const type of TYPES) await measure(t, type, 0, 0, Math.min(opsOf(t), 300)) // warm-up, discarded
    await measureIdle(targets, 5000)
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) for (const t of targets) for (const type of TYPES) for (const size of sizesOf(type).filter(n => n < OPS)) await preload(t, type, size, round)
      // Cell by cell, each target back to back: the machine drifts between cells more than within one.
      for (const type of TYPES) {
        for (const size of sizesOf(type)) {
          for (const t of PROFILE === undefined ? targets : targets.filter(t => t.name === 'single')) {
            const cell = await measure(t, type, size, round)
            cells.push(cell)
            process.stderr.write(`round ${round + 1} ${type} ${String(size).padStart(6)} ${t.name.padEnd(7)} ${Math.round(cell.opsPerSec)} ops/s, ${Math.round(cell.cpuUsPerOp)} µs CPU/op, ${Math.round(cell.peerBytesPerOp)} peer B/op, ${cell.batchesPerOp.toFixed(2)} batches/op, ${cell.added} added\n`)
          }
        }
      }
    }
  } finally {
    for (const t of targets) for (const c of t.clients) c.disconnect()
    await Promise.all([...nodes, single, redis].map(async p => await p.stop()))
  }
  report(cells, load)
  if (PROFILE_DIR !== null) process.stdout.write(`cpu profiles of the single node: ${PROFILE_DIR}\n`)
}

type Metric = 'opsPerSec' | 'cpuUsPerOp' | 'peerBytesPerOp' | 'batchesPerOp'

/** Medians over rounds; ratios are taken per round (both sides measured in it), then the median. */
function report (cells: Cell[], load: number): void {
  const series = (target: string, type: Type, size: number): Cell[] => cells.filter(c => c.target === target && c.type === type && c.size === size).sort((x, y) => x.round - y.round)
  const med = (cs: Cell[], m: Metric): number => median(cs.map(c => c[m]))
  const ratio = (a: Cell[], b: Cell[], m: Metric): number => median(a.map((c, i) => b[i] === undefined || b[i][m] === 0 ? NaN : c[m] / b[i][m]).filter(Number.isFinite))
  const rows = TYPES.flatMap(type => sizesOf(type).flatMap(size => ['single', 'cluster'].map((target) => {
    const redis = series('redis', type, size)
    const mine = series(target, type, size)
    const base = series(target, type, SIZES[0])
    return {
      type, size, target,
      opsPerSec: med(mine, 'opsPerSec'), cpuUsPerOp: med(mine, 'cpuUsPerOp'), peerBytesPerOp: med(mine, 'peerBytesPerOp'), batchesPerOp: med(mine, 'batchesPerOp'),
      added: mine.map(c => c.added),
      vs10: { ops: ratio(mine, base, 'opsPerSec'), cpu: ratio(mine, base, 'cpuUsPerOp'), bytes: ratio(mine, base, 'peerBytesPerOp') },
      vsRedis: { ops: ratio(mine, redis, 'opsPerSec'), cpu: ratio(mine, redis, 'cpuUsPerOp') },
      redis: { opsPerSec: med(redis, 'opsPerSec'), cpuUsPerOp: med(redis, 'cpuUsPerOp'), added: redis.map(c => c.added) }
    }
  })))
  const f = (n: number, digits = 2, width = 5): string => (Number.isFinite(n) ? n.toFixed(digits) : '-').padStart(width)
  const out: string[] = [`${OPS} new adds per cell (redis-server ${OPS * 10}), ${CLIENTS} clients, ${ROUNDS} round(s), medians; load average ${load.toFixed(1)} at the start`]
  out.push('type   size   target   ops/s  CPU µs/op  peer B/op batches/op | vs 10: ops/s   CPU  bytes | vs redis: ops/s    CPU | redis ops/s CPU µs/op')
  for (const r of rows) {
    out.push(`${r.type.padEnd(5)} ${String(r.size).padStart(6)}  ${r.target.padEnd(7)} ${f(r.opsPerSec, 0, 6)} ${f(r.cpuUsPerOp, 0, 10)} ${f(r.peerBytesPerOp, 0, 10)} ${f(r.batchesPerOp, 2, 10)} | ${f(r.vs10.ops, 2, 12)} ${f(r.vs10.cpu)} ${f(r.vs10.bytes, 2, 6)} | ${f(r.vsRedis.ops, 3, 15)} ${f(r.vsRedis.cpu, 0, 6)} | ${f(r.redis.opsPerSec, 0, 11)} ${f(r.redis.cpuUsPerOp, 1, 9)}`)
  }
  // redis-benchmark draws __rand_int__ from random(): among redis-server's 10× adds a few collide.
  const redisRows = rows.filter(r => r.target === 'single').map(r => ({ ...r, target: 'redis', added: r.redis.added }))
  const short = [...rows, ...redisRows].filter(r => r.added.some(n => n !== (r.target === 'redis' ? OPS * 10 : OPS)))
  out.push(short.length === 0 ? 'every cell added exactly its adds (new members, the counter by its INCRs)' : `cells that did not add exactly their adds (per round): ${short.map(r => `${r.type} ${r.size} ${r.target} ${r.added.join('/')}`).join(', ')}`)
  const worst = (target: string, field: 'cpu' | 'bytes'): string => {
    const big = rows.filter(r => r.target === target && r.size === SIZES[SIZES.length - 1] && r.type !== 'INCR' && r.type !== 'SET').map(r => r.vs10[field]).filter(Number.isFinite)
    return big.length === 0 ? '-' : Math.max(...big).toFixed(2)
  }
  out.push(`goal (SADD/HSET/ZADD at ${SIZES[SIZES.length - 1]} members within 2× of ${SIZES[0]}): CPU/op worst ${worst('single', 'cpu')}× single, ${worst('cluster', 'cpu')}× cluster; peer bytes/op worst ${worst('cluster', 'bytes')}× cluster`)
  process.stdout.write(out.join('\n') + '\n')
  process.stdout.write(`results: ${writeResult('types', { ops: OPS, clients: CLIENTS, sizes: SIZES, rounds: ROUNDS, loadAverage: load, cells, rows })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
