// What a turn costs at small batches (docs/performance.md, "Session 11, turn"):
// per SET of `redis-benchmark -t set -c 50 -P 1 -d 100 -r 100000`, for a
// durable dynakv (and another build's, DYNAKV_BENCH_BASELINE) and
// redis-server appendfsync always in one run: voluntary and involuntary
// context switches and CPU by thread (/proc/PID/task/*/status and stat), the
// group commits, and then, in a second run of the same size under
// `strace -c -f -p PID` (strace slows the server: compare counts, not time),
// syscalls by kind.
//   DYNAKV_BENCH_REQUESTS=50000 DYNAKV_BENCH_ROUNDS=2 DYNAKV_BENCH_STRACE=1
//   DYNAKV_BENCH_SERVERS=dynakv,dynakv-base,redis-always DYNAKV_BENCH_BASELINE=<a built checkout>
//   DYNAKV_BENCH_BASE_NODE='node flags and VAR=value ...' (the base's; with
//   DYNAKV_BENCH_BASELINE=.: this build with other settings) DYNAKV_BENCH_OP=set (or get, or set,get: each
//   round runs both, a GET -P1 of the keys the SETs wrote: what a SET costs above a GET)
//   DYNAKV_BENCH_STRACE_RAW=/tmp/prefix: the strace run writes every call
//   (`strace -f`, to <prefix>.<pid>) instead of counting them
//   DYNAKV_BENCH_STRACE=threads: the strace run writes every call to a
//   temporary file and counts them by thread role (main, pool, ...), not -c
//   DYNAKV_BENCH_PIPELINE=16: redis-benchmark's -P (1 by default)
// For dynakv it also prints the bytes each thread role wrote a SET (write(2)s,
// /proc/PID/task/*/io wchar: the pool's are the WAL, LevelDB's background
// thread's its tables) and what LevelDB's LOG says it flushed and compacted
// (the "Level-0 table #N: B bytes" and "Compacted ... => B bytes" lines).
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { baseOptions, infoField, load1, redisBenchmark, sleep, startDynakv, startRedis, statCpuUs, tempDir, type Proc } from './lib.js'
import { poolSizeOf, roleOf } from './threads.js'

const requests = Number(process.env.DYNAKV_BENCH_REQUESTS ?? 50000)
const rounds = Number(process.env.DYNAKV_BENCH_ROUNDS ?? 2)
const STRACE = process.env.DYNAKV_BENCH_STRACE !== '0'
const STRACE_THREADS = process.env.DYNAKV_BENCH_STRACE === 'threads'
const BASELINE = process.env.DYNAKV_BENCH_BASELINE
const ONLY = process.env.DYNAKV_BENCH_SERVERS?.split(',') ?? ['dynakv', 'dynakv-base', 'redis-always']
const SERVERS = ONLY.filter(s => s !== 'dynakv-base' || BASELINE !== undefined)
const DYNAKV_ARGS = ['--n', '1', '--r', '1', '--w', '1', '--log-level', 'warn']
const PIPELINE = Number(process.env.DYNAKV_BENCH_PIPELINE ?? 1)
const OPS = (process.env.DYNAKV_BENCH_OP ?? 'set').split(',')
const benchArgs = (op: string): string[] => ['-t', op, '-n', String(requests), '-c', '50', '-d', '100', '-r', '100000', '-P', String(PIPELINE)]
const BENCH_ARGS = benchArgs(OPS[0])

interface ThreadCounts { cpuUs: number, sysUs: number, vol: number, invol: number, wchar: number }

/** Counters per thread role (dynakv: bench/threads' ranks; redis: the thread's name). */
function threads (pid: number, dynakv: boolean): Map<string, ThreadCounts> {
  const out = new Map<string, ThreadCounts>()
  const pool = dynakv ? poolSizeOf(pid) : 0
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b)
  for (let rank = 0; rank < tids.length; rank++) {
    try {
      const dir = `/proc/${pid}/task/${tids[rank]}`
      const status = readFileSync(`${dir}/status`, 'latin1')
      const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN)
      const { userUs, sysUs } = statCpuUs(`${dir}/stat`)
      const name = dynakv ? roleOf(rank, pool) : (rank === 0 ? 'main' : readFileSync(`${dir}/comm`, 'latin1').trim())
      const wchar = Number(/^wchar:\s+(\d+)/m.exec(readFileSync(`${dir}/io`, 'latin1'))?.[1] ?? NaN)
      const t = out.get(name) ?? { cpuUs: 0, sysUs: 0, vol: 0, invol: 0, wchar: 0 }
      t.cpuUs += userUs + sysUs
      t.sysUs += sysUs
      t.vol += field('voluntary_ctxt_switches')
      t.invol += field('nonvoluntary_ctxt_switches')
      t.wchar += wchar
      out.set(name, t)
    } catch {} // exited meanwhile
  }
  return out
}

function diff (a: Map<string, ThreadCounts>, b: Map<string, ThreadCounts>): Map<string, ThreadCounts> {
  const out = new Map<string, ThreadCounts>()
  for (const [name, t] of b) {
    const s = a.get(name) ?? { cpuUs: 0, sysUs: 0, vol: 0, invol: 0, wchar: 0 }
    out.set(name, { cpuUs: t.cpuUs - s.cpuUs, sysUs: t.sysUs - s.sysUs, vol: t.vol - s.vol, invol: t.invol - s.invol, wchar: t.wchar - s.wchar })
  }
  return out
}

/** Bytes LevelDB's LOG (in the node's data directory) says it flushed from memtables and wrote in compactions, so far. */
function leveldbLog (p: Proc & { dir?: string }): { flushed: number, compacted: number, compactions: number } {
  const out = { flushed: 0, compacted: 0, compactions: 0 }
  if (p.dir === undefined) return out
  let log = ''
  try { log = readFileSync(join(p.dir, 'LOG'), 'latin1') } catch { return out }
  for (const m of log.matchAll(/Level-0 table #\d+: (\d+) bytes/g)) out.flushed += Number(m[1])
  for (const m of log.matchAll(/Compacted .* => (\d+) bytes/g)) {
    out.compacted += Number(m[1])
    out.compactions++
  }
  return out
}

async function batches (p: Proc, dynakv: boolean): Promise<number> {
  return dynakv ? await infoField(p.port, 'persistence', 'write_batches') : NaN
}

/** `strace -c -f -p pid` around one bench run: calls by syscall (byRole: by thread role too, from every call written out). */
async function straced (p: Proc, dynakv: boolean, byRole?: Map<string, Map<string, number>>): Promise<Map<string, number>> {
  const dir = tempDir('turns-strace-')
  const file = join(dir, 'out')
  const raw = process.env.DYNAKV_BENCH_STRACE_RAW ?? (byRole !== undefined ? join(dir, 'raw') : undefined)
  // Roles by rank among the threads alive now (bench/threads' ranks; redis: the main thread, then the others).
  const tids = readdirSync(`/proc/${p.pid}/task`).map(Number).sort((a, b) => a - b)
  const pool = byRole !== undefined && dynakv ? poolSizeOf(p.pid) : -1
  const st = spawn('strace', raw === undefined ? ['-c', '-f', '-p', String(p.pid), '-o', file] : ['-f', '-p', String(p.pid), '-o', `${raw}.${p.pid}`, '-e', 'trace=!mmap,munmap,mprotect,madvise,brk'], { stdio: 'ignore' })
  await sleep(1500)
  await redisBenchmark(p.port, BENCH_ARGS)
  st.kill('SIGINT')
  await new Promise(resolve => st.once('exit', resolve))
  const calls = new Map<string, number>()
  if (byRole !== undefined && raw !== undefined) {
    // `<tid>  name(...`: a call (an unfinished one is counted where it starts, its `<... name resumed>` line skipped).
    for (const m of readFileSync(`${raw}.${p.pid}`, 'latin1').matchAll(/^(\d+)\s+([a-z_0-9]+)\(/gm)) {
      const rank = tids.indexOf(Number(m[1]))
      const role = rank < 0 ? 'threads started since' : pool < 0 ? (rank === 0 ? 'main' : 'other threads') : roleOf(rank, pool)
      const r = byRole.get(role) ?? new Map<string, number>()
      r.set(m[2], (r.get(m[2]) ?? 0) + 1)
      r.set('total', (r.get('total') ?? 0) + 1)
      byRole.set(role, r)
      calls.set(m[2], (calls.get(m[2]) ?? 0) + 1)
      calls.set('total', (calls.get('total') ?? 0) + 1)
    }
  } else if (raw === undefined) {
    for (const line of readFileSync(file, 'latin1').split('\n')) {
      const f = line.trim().split(/\s+/)
      // % time, seconds, usecs/call, calls, [errors], syscall
      if (f.length >= 5 && /^\d/.test(f[0]) && /^\d+$/.test(f[3])) calls.set(f[f.length - 1], Number(f[3]))
    }
  }
  rmSync(dir, { recursive: true, force: true })
  return calls
}

async function main (): Promise<void> {
  const procs = new Map<string, Proc>()
  const per = (x: number): string => (x / requests).toFixed(3)
  try {
    for (const s of SERVERS) {
      if (s === 'dynakv') procs.set(s, await startDynakv(DYNAKV_ARGS))
      else if (s === 'dynakv-base') procs.set(s, await startDynakv(DYNAKV_ARGS, baseOptions(BASELINE as string)))
      else procs.set(s, await startRedis({ fsync: 'always' }))
    }
    for (const [, p] of procs) await redisBenchmark(p.port, BENCH_ARGS) // warm-up
    const names = [...procs.keys()]
    for (let round = 1; round <= rounds; round++) {
      // The order rotates per round: no server is always first (an A/B favours the first).
      for (const name of names.map((_, i) => names[(i + round - 1) % names.length])) for (const op of OPS) {
        const p = procs.get(name) as Proc
        const dynakv = name.startsWith('dynakv')
        const b0 = await batches(p, dynakv)
        const l0 = leveldbLog(p)
        const t0 = threads(p.pid, dynakv)
        const run = await redisBenchmark(p.port, benchArgs(op))
        const t1 = threads(p.pid, dynakv)
        const l1 = leveldbLog(p)
        const b1 = await batches(p, dynakv)
        const d = diff(t0, t1)
        let cpu = 0; let sys = 0; let vol = 0; let invol = 0
        for (const t of d.values()) { cpu += t.cpuUs; sys += t.sysUs; vol += t.vol; invol += t.invol }
        console.log(`round ${round} ${name} ${op.toUpperCase()}: ${Math.round(run.rows[0]?.rps ?? NaN)}/s, CPU ${per(cpu)} µs (sys ${per(sys)}), switches vol ${per(vol)} invol ${per(invol)} a SET; commits ${per(b1 - b0)} a SET (${((b1 - b0) === 0 ? NaN : requests / (b1 - b0)).toFixed(1)} SETs each); load ${load1().toFixed(1)}`)
        for (const [role, t] of d) if (t.vol + t.invol + t.cpuUs > 0) console.log(`    ${role.padEnd(48)} CPU ${per(t.cpuUs)} µs (sys ${per(t.sysUs)})  vol ${per(t.vol)}  invol ${per(t.invol)}  wrote ${(t.wchar / requests).toFixed(0)} B`)
        if (dynakv) console.log(`    LevelDB LOG: flushed ${((l1.flushed - l0.flushed) / requests).toFixed(1)} B, compacted ${((l1.compacted - l0.compacted) / requests).toFixed(1)} B a SET (${l1.compactions - l0.compactions} compactions)`)
      }
    }
    if (STRACE) {
      for (const [name, p] of procs) {
        const dynakv = name.startsWith('dynakv')
        const b0 = await batches(p, dynakv)
        const byRole = STRACE_THREADS ? new Map<string, Map<string, number>>() : undefined
        const calls = await straced(p, dynakv, byRole)
        const b1 = await batches(p, dynakv)
        const top = [...calls].sort((a, b) => b[1] - a[1]).filter(([k]) => k !== 'total')
        console.log(`strace ${name}: syscalls a SET ${per(calls.get('total') ?? NaN)}; commits ${per(b1 - b0)} a SET (includes strace's settling)`)
        console.log('    ' + top.map(([k, n]) => `${k} ${per(n)}`).join(', '))
        for (const [role, r] of byRole ?? []) {
          if ((r.get('total') ?? 0) / requests < 0.001) continue
          const calls = [...r].sort((a, b) => b[1] - a[1]).filter(([k, n]) => k !== 'total' && n / requests >= 0.001)
          console.log(`    ${role.padEnd(48)} ${per(r.get('total') ?? 0)}: ${calls.map(([k, n]) => `${k} ${per(n)}`).join(', ')}`)
        }
      }
    }
  } finally {
    for (const p of procs.values()) await p.stop()
  }
}

await main()
