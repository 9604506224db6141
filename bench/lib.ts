// Shared by the benchmarks: processes on free loopback ports, redis-benchmark
// runs, results as JSON under bench/results/.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

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

export interface Proc {
  port: number
  proc: ChildProcess
  stop (): Promise<void>
}

/** Starts a process and resolves once `ready` matches its output. */
export async function startProcess (cmd: string, args: string[], ready: RegExp, port: number, timeoutMs = 30000): Promise<Proc> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in ${timeoutMs} ms:\n${out}`)), timeoutMs)
    const onData = (d: Buffer): void => {
      out += d.toString()
      if (ready.test(out)) {
        clearTimeout(timer)
        resolve()
      }
    }
    proc.stdout?.on('data', onData)
    proc.stderr?.on('data', onData)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${cmd} exited with ${String(code)}:\n${out}`))
    })
  })
  return {
    port,
    proc,
    stop: async () => {
      if (proc.exitCode !== null) return
      proc.kill('SIGTERM')
      await new Promise(resolve => proc.once('exit', resolve))
    }
  }
}

export async function startRedis (): Promise<Proc> {
  const port = await freePort()
  return await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/, port)
}

/** bench/echo-server: a Node server that answers without doing any work. */
export async function startEcho (): Promise<Proc> {
  const port = await freePort()
  return await startProcess(process.execPath, [join(ROOT, 'dist', 'bench', 'echo-server.js'), String(port)], /echo ready/, port)
}

export async function startDynakv (args: string[]): Promise<Proc & { dir: string }> {
  const port = await freePort()
  const peerPort = await freePort()
  const dir = tempDir('dynakv-bench-')
  const p = await startProcess(process.execPath, [MAIN, 'server', '--port', String(port), '--peer-port', String(peerPort), '--dir', dir, ...args], /ready: RESP/, port)
  return { ...p, dir }
}

export interface BenchRow { test: string, rps: number, avgMs: number, p50Ms: number, p99Ms: number }

/** redis-benchmark --csv, parsed. */
export async function redisBenchmark (port: number, args: string[]): Promise<BenchRow[]> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '--csv', ...args], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 }, (err, out) => {
      if (err !== null) reject(err)
      else resolve(out)
    })
  })
  const rows: BenchRow[] = []
  for (const line of stdout.split('\n')) {
    const cells = line.split(',').map(c => c.replace(/^"|"$/g, ''))
    if (cells.length < 5 || cells[0] === 'test') continue
    rows.push({ test: cells[0], rps: Number(cells[1]), avgMs: Number(cells[2]), p50Ms: Number(cells[4]), p99Ms: Number(cells[6] ?? cells[5]) })
  }
  return rows
}

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
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
