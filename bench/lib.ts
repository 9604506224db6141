// Shared by the benchmarks: processes on free loopback ports, their CPU and
// memory from /proc, redis-benchmark runs, medians, results as JSON under
// bench/results/.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { serverEnv } from '../lib/cli/launch.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const MAIN = join(ROOT, 'dist', 'lib', 'cli', 'main.js')
const children = new Set<ChildProcess>()
const dirs = new Set<string>()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130))

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** A fresh directory under the system's temp dir, removed when the benchmark exits. */
export function tempDir (prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.add(dir)
  return dir
}

export function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

export interface Proc {
  port: number
  pid: number
  proc: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  output (): string
  stop (): Promise<void>
}

/** Starts a process and resolves once `ready` matches its output. */
export async function startProcess (cmd: string, args: string[], ready: RegExp, port: number, timeoutMs = 60000, env: NodeJS.ProcessEnv = process.env): Promise<Proc> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  let out = ''
  const onData = (d: Buffer): void => {
    if (out.length < 1 << 20) out += d.toString()
  }
  proc.stdout?.on('data', onData)
  proc.stderr?.on('data', onData)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in ${timeoutMs} ms:\n${out}`)), timeoutMs)
    const check = (): void => {
      if (!ready.test(out)) return
      clearTimeout(timer)
      proc.stdout?.off('data', check)
      proc.stderr?.off('data', check)
      resolve()
    }
    proc.stdout?.on('data', check)
    proc.stderr?.on('data', check)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${cmd} exited with ${String(code)}:\n${out}`))
    })
  })
  return {
    port,
    pid: proc.pid as number,
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      await new Promise(resolve => proc.once('exit', resolve))
    }
  }
}

/**
 * redis-server without snapshots; `fsync: 'always'` turns on the append-only
 * file with appendfsync always (it fsyncs before acknowledging, as dynakv does
 * with --sync), otherwise it keeps everything in memory only.
 */
export async function startRedis (options: { fsync?: 'always', wrap?: string[] } = {}): Promise<Proc> {
  const port = await freePort()
  const aof = options.fsync === 'always'
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', tempDir('redis-bench-')]
    : ['--appendonly', 'no']
  return await startWrapped(options.wrap ?? [], 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...aof], /Ready to accept connections/, port)
}

/** bench/echo-server: a Node server that answers without doing any work. */
export async function startEcho (options: { wrap?: string[] } = {}): Promise<Proc> {
  const port = await freePort()
  return await startWrapped(options.wrap ?? [], process.execPath, [join(ROOT, 'dist', 'bench', 'echo-server.js'), String(port)], /echo ready/, port)
}

/** startProcess, under another program (valgrind) when wrap is not empty. */
async function startWrapped (wrap: string[], cmd: string, args: string[], ready: RegExp, port: number, timeoutMs?: number, env?: NodeJS.ProcessEnv): Promise<Proc> {
  return wrap.length === 0
    ? await startProcess(cmd, args, ready, port, timeoutMs, env)
    : await startProcess(wrap[0], [...wrap.slice(1), cmd, ...args], ready, port, timeoutMs, env)
}

/**
 * The environment a dynakv server gets: what bin/dynakv, the Docker image and
 * `dynakv cluster` give it (lib/cli/launch.ts: malloc tunables, libuv's pool,
 * V8's heap sizes), so a bench measures what users run; a setting the bench's
 * own environment has is kept. DYNAKV_BENCH_RAW=1: node's defaults.
 */
export function dynakvEnv (): NodeJS.ProcessEnv {
  return process.env.DYNAKV_BENCH_RAW === '1' ? process.env : serverEnv(process.env)
}

export interface Dynakv extends Proc {
  dir: string
  peerPort: number
  args: string[]
}

/**
 * The node flags the launchers of the build at main put on the command line
 * (its lib/cli/launch.ts' SERVER_NODE_FLAGS; none in a build before them): a
 * baseline runs with its own. options.node's flags come after them, and V8
 * takes a flag's last value.
 */
async function launcherFlags (main: string): Promise<string[]> {
  let launch: { SERVER_NODE_FLAGS?: readonly string[] } = {}
  try {
    launch = await import(pathToFileURL(join(dirname(main), 'launch.js')).href)
  } catch {} // a build without lib/cli/launch.ts
  return [...(launch.SERVER_NODE_FLAGS ?? [])]
}

/**
 * One dynakv server process. options.dir reuses a data directory (a restart),
 * options.node puts flags before the script (--cpu-prof, --expose-gc...),
 * options.wrap runs it under another program (valgrind). It runs with the
 * launcher's settings (dynakvEnv, and its build's launcherFlags).
 */
export async function startDynakv (args: string[], options: { dir?: string, port?: number, peerPort?: number, node?: string[], wrap?: string[], timeoutMs?: number, /** Another build's CLI (an A/B run); default this one's. */ main?: string, /** Node's defaults instead of the launcher's settings. */ raw?: boolean } = {}): Promise<Dynakv> {
  const port = options.port ?? await freePort()
  const peerPort = options.peerPort ?? await freePort()
  const dir = options.dir ?? tempDir('dynakv-bench-')
  const main = options.main ?? MAIN
  const argv = [...(options.raw === true || process.env.DYNAKV_BENCH_RAW === '1' ? [] : await launcherFlags(main)), ...(options.node ?? []), main, 'server', '--port', String(port), '--peer-port', String(peerPort), '--dir', dir, ...args]
  const p = await startWrapped(options.wrap ?? [], process.execPath, argv, /ready: RESP/, port, options.timeoutMs, options.raw === true ? process.env : dynakvEnv())
  return { ...p, dir, peerPort, args }
}

// ---------------------------------------------------------------- /proc

let ticksPerSecond = 0
function usPerTick (): number {
  if (ticksPerSecond === 0) ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  return 1e6 / ticksPerSecond
}

/** utime and stime of /proc/<pid>[/task/<tid>]/stat, in µs (resolution: one clock tick, 10 ms). */
export function statCpuUs (path: string): { userUs: number, sysUs: number } {
  const stat = readFileSync(path, 'latin1')
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { userUs: Number(f[11]) * usPerTick(), sysUs: Number(f[12]) * usPerTick() }
}

/** What a process has used so far; differences of two give what a run cost. */
export interface Usage {
  /** utime + stime of every thread, including threads that have exited. */
  totalUs: number
  /** stime alone: the kernel's share (syscalls: socket I/O, fsync, futex wake-ups). */
  sysUs: number
  /** The main (JavaScript) thread alone. */
  mainUs: number
  /** read-like and write-like syscalls (/proc/<pid>/io syscr, syscw): read(2), write(2), writev(2)... */
  readCalls: number
  writeCalls: number
  /** Context switches (voluntary + involuntary) of the threads alive now: thread-pool hand-offs, preemption. */
  switches: number
}

export function usageOf (pid: number): Usage {
  const all = statCpuUs(`/proc/${pid}/stat`)
  const main = statCpuUs(`/proc/${pid}/task/${pid}/stat`)
  const io = readFileSync(`/proc/${pid}/io`, 'latin1')
  const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN)
  let switches = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1')
      switches += field(status, 'voluntary_ctxt_switches') + field(status, 'nonvoluntary_ctxt_switches')
    } catch {} // the thread exited meanwhile
  }
  return {
    totalUs: all.userUs + all.sysUs,
    sysUs: all.sysUs,
    mainUs: main.userUs + main.sysUs,
    readCalls: field(io, 'syscr'),
    writeCalls: field(io, 'syscw'),
    switches
  }
}

export function usageSince (before: Usage, pid: number): Usage {
  const now = usageOf(pid)
  return {
    totalUs: now.totalUs - before.totalUs,
    sysUs: now.sysUs - before.sysUs,
    mainUs: now.mainUs - before.mainUs,
    readCalls: now.readCalls - before.readCalls,
    writeCalls: now.writeCalls - before.writeCalls,
    switches: now.switches - before.switches
  }
}

/** What a request cost, from the Usage of one server (or several, summed) over a run of `requests`. */
export interface PerRequest {
  /** CPU of every thread, its kernel share, the JavaScript (main) thread, the other threads (libuv pool: LevelDB, fsync; V8's GC and compiler helpers), in µs. */
  cpuUs: number
  sysUs: number
  mainCpuUs: number
  otherCpuUs: number
  /** read-like and write-like syscalls, context switches. */
  readCalls: number
  writeCalls: number
  switches: number
}

export function perRequest (usages: Usage[], requests: number): PerRequest {
  const per = (f: (u: Usage) => number): number => usages.reduce((a, u) => a + f(u), 0) / requests
  return {
    cpuUs: per(u => u.totalUs),
    sysUs: per(u => u.sysUs),
    mainCpuUs: per(u => u.mainUs),
    otherCpuUs: per(u => u.totalUs - u.mainUs),
    readCalls: per(u => u.readCalls),
    writeCalls: per(u => u.writeCalls),
    switches: per(u => u.switches)
  }
}

/** Threads of a process right now. */
export function threadCount (pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length
}

export interface Mem {
  rssBytes: number
  /** The peak RSS of the process's life (VmHWM). */
  peakRssBytes: number
}

export function memOf (pid: number): Mem {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') }
}

/** Samples a process's RSS every everyMs until stopped; returns the largest sample. */
export function sampleRss (pid: number, everyMs = 100): { stop: () => number } {
  let max = 0
  const take = (): void => {
    try {
      max = Math.max(max, memOf(pid).rssBytes)
    } catch {} // exited
  }
  take()
  const timer = setInterval(take, everyMs)
  return {
    stop: () => {
      clearInterval(timer)
      take()
      return max
    }
  }
}

/** The 1-minute load average, rounded: how busy the shared machine was. */
export function load1 (): number {
  return Number(loadavg()[0].toFixed(2))
}

// ---------------------------------------------------------------- redis-benchmark

export interface BenchRow { test: string, rps: number, avgMs: number, p50Ms: number, p99Ms: number }
export interface BenchRun {
  rows: BenchRow[]
  /** CPU of redis-benchmark itself (its user + system time). */
  clientCpuUs: number
}

/**
 * redis-benchmark --csv, parsed. It runs under `sh`, which prints its children's
 * CPU times (cutime, cstime of /proc/self/stat) once redis-benchmark has exited.
 */
export async function redisBenchmark (port: number, args: string[], timeoutMs = 600_000): Promise<BenchRun> {
  const script = 'redis-benchmark "$@"; s=$?; echo "@cpu $(cut -d" " -f16,17 /proc/$$/stat)"; exit $s'
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('sh', ['-c', script, 'sh', '-h', '127.0.0.1', '-p', String(port), '--csv', ...args], { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs }, (err, out) => {
      if (err !== null) reject(err)
      else resolve(out)
    })
  })
  const rows: BenchRow[] = []
  let clientCpuUs = NaN
  for (const line of stdout.split('\n')) {
    const cpu = /^@cpu (\d+) (\d+)/.exec(line)
    if (cpu !== null) clientCpuUs = (Number(cpu[1]) + Number(cpu[2])) * usPerTick()
    const cells = line.split(',').map(c => c.replace(/^"|"$/g, ''))
    if (cells.length < 5 || cells[0] === 'test') continue
    rows.push({ test: cells[0], rps: Number(cells[1]), avgMs: Number(cells[2]), p50Ms: Number(cells[4]), p99Ms: Number(cells[6] ?? cells[5]) })
  }
  return { rows, clientCpuUs }
}

// ---------------------------------------------------------------- figures

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export interface Spread { median: number, min: number, max: number }

export function spread (xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }
}

/** `12.3 (11.0–14.1)` with the given decimals. */
export function fmt (s: Spread, decimals = 1): string {
  return `${s.median.toFixed(decimals)} (${s.min.toFixed(decimals)}–${s.max.toFixed(decimals)})`
}

/** Thousands, one decimal: 46.5k. */
export function kilo (n: number): string {
  return `${(n / 1000).toFixed(1)}k`
}

export function writeResult (name: string, data: unknown): string {
  const dir = join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify({ name, at: new Date().toISOString(), node: process.version, ...data as object }, null, 2) + '\n')
  return file
}

export function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

// ---------------------------------------------------------------- clusters

/**
 * How an A/B run starts the baseline's nodes: its build's CLI, with
 * DYNAKV_BENCH_BASE_NODE's node flags (`--single-threaded-gc`; VAR=value words
 * go into its environment) — so DYNAKV_BENCH_BASELINE=. measures this build
 * with other settings.
 */
export function baseOptions (baseline: string): { main: string, node: string[], wrap: string[] } {
  const words = (process.env.DYNAKV_BENCH_BASE_NODE ?? '').split(/\s+/).filter(w => w !== '')
  const env = words.filter(w => !w.startsWith('-'))
  return { main: join(baseline, 'dist', 'lib', 'cli', 'main.js'), node: words.filter(w => w.startsWith('-')), wrap: env.length === 0 ? [] : ['env', ...env] }
}

/**
 * A cluster of separate `dynakv server` processes (their pids are needed for
 * CPU figures): node 1 first, the others join it; resolves once every node
 * sees all of them and a converged ring.
 */
export async function startCluster (size: number, args: string[], options: { node?: string[], wrap?: string[], timeoutMs?: number, /** Another build's CLI (an A/B run). */ main?: string } = {}): Promise<Dynakv[]> {
  const { Redis } = await import('ioredis')
  const first = await startDynakv(['--name', 'n1', ...args], options)
  const nodes = [first, ...await Promise.all(Array.from({ length: size - 1 }, async (_, i) =>
    await startDynakv(['--name', `n${i + 2}`, '--join', `127.0.0.1:${first.peerPort}`, ...args], options)))]
  const clients = nodes.map(p => new Redis({ host: '127.0.0.1', port: p.port, protocol: 2 }))
  try {
    for (let i = 0; ; i++) {
      let ready = 0
      for (const c of clients) {
        const s = await c.call('RING', 'STATUS') as unknown[]
        if (s[s.indexOf('members') + 1] === size && s[s.indexOf('converged') + 1] === 'yes') ready++
      }
      if (ready === size) return nodes
      if (i >= 10 * ((options.timeoutMs ?? 60000) / 1000)) throw new Error(`the ${size}-node cluster did not converge in time`)
      await sleep(100)
    }
  } finally {
    for (const c of clients) c.disconnect()
  }
}

export interface SpreadRun {
  /** Requests of every redis-benchmark process, over the wall time from the start to the last one's end. */
  rps: number
  requests: number
  seconds: number
  /** The worst process's p99. */
  p99Ms: number
  clientCpuUs: number
}

/**
 * One redis-benchmark process per port, all at once, each with `clients`
 * connections and `requests` requests of the one test in args.
 */
export async function redisBenchmarkSpread (ports: readonly number[], clients: number, requests: number, args: string[]): Promise<SpreadRun> {
  const started = performance.now()
  const runs = await Promise.all(ports.map(async port => await redisBenchmark(port, ['-c', String(clients), '-n', String(requests), ...args])))
  const seconds = (performance.now() - started) / 1000
  const total = requests * ports.length
  return {
    rps: total / seconds,
    requests: total,
    seconds,
    p99Ms: Math.max(...runs.map(r => r.rows[0]?.p99Ms ?? NaN)),
    clientCpuUs: runs.reduce((a, r) => a + r.clientCpuUs, 0)
  }
}

/** `redis-cli -p port args...`: its stdout (raw replies). */
export async function redisCli (port: number, args: string[], timeoutMs = 60_000): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs }, (err, out) => {
      if (err !== null) reject(err)
      else resolve(out)
    })
  })
}

/** One numeric field of INFO (NaN if absent). */
export async function infoField (port: number, section: string, field: string, timeoutMs?: number): Promise<number> {
  const text = await redisCli(port, ['INFO', section], timeoutMs)
  return Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text)?.[1] ?? NaN)
}

/** `keys` SETs of 100-byte values (key:000000000000 on) as one RESP stream in a file, what `redis-cli --pipe` reads; its size. */
export function writePipeFile (file: string, keys: number): number {
  const fd = openSync(file, 'w')
  const value = 'x'.repeat(100)
  const CHUNK = 10000
  for (let i = 0; i < keys; i += CHUNK) {
    let s = ''
    for (let k = i; k < Math.min(keys, i + CHUNK); k++) s += `*3\r\n$3\r\nSET\r\n$16\r\nkey:${String(k).padStart(12, '0')}\r\n$100\r\n${value}\r\n`
    writeSync(fd, s)
  }
  closeSync(fd)
  return statSync(file).size
}

/** `redis-cli --pipe` of a file into port, killed past timeoutS: its exit code and output (stdout and stderr). */
export async function redisCliPipe (port: number, file: string, timeoutS: number): Promise<{ code: number | null, output: string }> {
  const input = openSync(file, 'r')
  const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--pipe', '--pipe-timeout', String(timeoutS)], { stdio: [input, 'pipe', 'pipe'] })
  closeSync(input)
  let output = ''
  child.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  return { code, output }
}
