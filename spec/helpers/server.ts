// Real processes for black-box specs: dynakv nodes (`node dist/lib/cli/main.js
// server ...`) and reference redis-servers, each on free loopback ports with a
// fresh data directory, and none outliving the spec.
//
//   startServer(args, { t })  ─► ports picked, temp --dir made, process spawned,
//                                 resolves at the `ready:` line on stderr
//   proc.stop('SIGTERM')       ─► exit code (SIGKILL after timeoutMs)
//   proc.kill9()               ─► SIGKILL, waits for the exit
//   proc.restart([...extra])   ─► same dir, ports and name; a new ServerProc
//   teardown (t or the root tap) ─► SIGKILL whatever still runs, remove the dir
//
// Every child is also in a process-wide registry: when the spec process exits
// (normally, on a signal, or on tap's timeout) the registry SIGKILLs them and
// removes the temporary directories it made. The build (`npx tsc -p .`) must
// have run: the harness starts dist/, not the TypeScript sources.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import { once } from 'node:events'
import { onExit } from 'signal-exit'
import tap from 'tap'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const MAIN = join(ROOT, 'dist', 'lib', 'cli', 'main.js')
export const REDIS_SERVER = '/usr/bin/redis-server'
export const HOST = '127.0.0.1'

/** What the harness needs of a tap test: somewhere to hang cleanup. */
export interface Teardown {
  teardown (fn: () => unknown): void
}

// ---------------------------------------------------------------- registry

const live = new Set<ChildProcess>()
const tempDirs = new Set<string>()

onExit(() => {
  for (const p of live) {
    try { p.kill('SIGKILL') } catch {}
  }
  for (const d of tempDirs) {
    try { rmSync(d, { recursive: true, force: true }) } catch {}
  }
})

function track (proc: ChildProcess): void {
  live.add(proc)
  proc.once('exit', () => live.delete(proc))
}

/** A fresh directory under the OS temp dir, removed when the spec process exits. */
export function tempDir (prefix = 'dynakv-spec-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.add(d)
  return d
}

export function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

// ---------------------------------------------------------------- ports

// Ports for servers come from below the kernel's ephemeral range (32768-60999 by
// default): a port handed out by listen(0) or taken as the local end of a client
// connection can land on a node's port while it restarts (a restart keeps its
// ports), and its bind then fails with "address already in use".
const LOW_PORTS = { from: 20000, to: 32767 }

/** Binds port (0: any) on HOST and closes it again: the port bound, or null if it was taken. */
async function tryPort (port: number): Promise<number | null> {
  const srv = net.createServer()
  try {
    srv.listen(port, HOST)
    await once(srv, 'listening') // rejects on 'error' (EADDRINUSE)
  } catch {
    return null
  }
  const bound = (srv.address() as net.AddressInfo).port
  srv.close()
  await once(srv, 'close')
  return bound
}

/** A port that was free a moment ago, below the ephemeral range where one can be found. */
export async function freePort (): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await tryPort(LOW_PORTS.from + Math.floor(Math.random() * (LOW_PORTS.to - LOW_PORTS.from + 1)))
    if (port !== null) return port
  }
  const port = await tryPort(0)
  if (port === null) throw new Error('no free port on ' + HOST)
  return port
}

/** n distinct free ports. */
export async function freePorts (n: number): Promise<number[]> {
  const out = new Set<number>()
  for (let i = 0; out.size < n && i < n * 20; i++) out.add(await freePort())
  if (out.size < n) throw new Error(`could not find ${n} free ports`)
  return [...out]
}

export async function canConnect (port: number, host = HOST): Promise<boolean> {
  return await new Promise(resolve => {
    const s = net.connect(port, host)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

// ---------------------------------------------------------------- processes

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** A spawned child with its combined output and its exit as a promise. */
class Child {
  readonly proc: ChildProcess
  readonly exited: Promise<Exit>
  exit: Exit | null = null
  private readonly chunks: Buffer[] = []
  private readonly listeners = new Set<() => void>()

  constructor (command: string, args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv }) {
    this.proc = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    track(this.proc)
    const collect = (b: Buffer): void => {
      this.chunks.push(b)
      for (const l of this.listeners) l()
    }
    this.proc.stdout?.on('data', collect)
    this.proc.stderr?.on('data', collect)
    this.exited = new Promise(resolve => {
      // 'close' comes after the output streams ended: output() is complete then.
      this.proc.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.exit = { code, signal }
        for (const l of this.listeners) l()
        resolve(this.exit)
      })
      this.proc.once('error', (e) => {
        this.chunks.push(Buffer.from(`spawn failed: ${e.message}\n`))
        this.exit = { code: null, signal: null }
        resolve(this.exit)
      })
    })
  }

  output (): string {
    return Buffer.concat(this.chunks).toString('utf8')
  }

  /**
   * Resolves with the first match of re in the output, or null when the
   * process exits first; rejects after timeoutMs.
   */
  async waitFor (re: RegExp, timeoutMs: number): Promise<RegExpMatchArray | null> {
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.output().match(re)
        if (m !== null) done(() => resolve(m))
        else if (this.exit !== null) done(() => resolve(null))
      }
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(re)}; output so far:\n${this.output()}`))), timeoutMs)
      const done = (f: () => void): void => {
        clearTimeout(timer)
        this.listeners.delete(check)
        f()
      }
      this.listeners.add(check)
      check()
    })
  }

  /** Sends signal, waits up to timeoutMs, then SIGKILLs. */
  async stop (signal: NodeJS.Signals, timeoutMs: number): Promise<Exit> {
    if (this.exit !== null) return this.exit
    this.proc.kill(signal)
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }
}

// ---------------------------------------------------------------- dynakv nodes

export interface StartOptions {
  /** Use this data directory (kept: the caller owns it). Default: a fresh temp dir, removed at teardown. */
  dir?: string
  /** --name, unless args hold one. Default: the node's own default (host-port). */
  name?: string
  /** Added to the environment (inherited DYNAKV_* variables are dropped first). */
  env?: NodeJS.ProcessEnv
  readyTimeoutMs?: number
  /**
   * The process is expected to exit without becoming ready: resolve once it
   * has exited (see exitCode and output()); reject if it becomes ready.
   */
  expectFailure?: boolean
  /** Fixed ports; by default free ones are picked (and picked again if the node finds one taken). */
  port?: number
  peerPort?: number
  /** Where stop + dir removal are registered. Default: the root tap test (end of the file). */
  t?: Teardown
  /** Working directory of the process. Default: the repository root. */
  cwd?: string
}

export interface ServerProc {
  name: string
  port: number
  peerPort: number
  dir: string
  /** Every argument after `server`. */
  args: string[]
  proc: ChildProcess
  /** stderr and stdout so far, interleaved as they arrived. */
  output (): string
  /** Null while running. */
  readonly exitCode: number | null
  readonly exitSignal: NodeJS.Signals | null
  readonly exited: Promise<Exit>
  readonly running: boolean
  /** Resolves with the first match of re in the output (null if the process exits first). */
  waitForOutput (re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray | null>
  /** Sends signal (default SIGTERM), SIGKILLs after timeoutMs; the exit code (null when killed by a signal). */
  stop (signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>
  kill9 (): Promise<void>
  /** Stops it if running (SIGTERM), then starts it again on the same dir, ports and name, args + extra. */
  restart (extra?: string[]): Promise<ServerProc>
}

const READY = /ready: RESP on (\S+):(\d+)/

function hasFlag (args: readonly string[], flag: string): boolean {
  return args.some(a => a === `--${flag}` || a.startsWith(`--${flag}=`))
}

function flagValue (args: readonly string[], flag: string): string | undefined {
  let v: string | undefined
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${flag}`) v = args[i + 1]
    else if (args[i].startsWith(`--${flag}=`)) v = args[i].slice(flag.length + 3)
  }
  return v
}

function cleanEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DYNAKV_')) env[k] = v
  return { ...env, ...extra }
}

/** One data directory's life: the process running on it now, and the teardown. */
interface Lineage {
  dir: string
  ownsDir: boolean
  current: Child | null
  torn: boolean
}

function registerTeardown (lineage: Lineage, t: Teardown | undefined): void {
  const target: Teardown = t ?? tap
  target.teardown(async () => {
    lineage.torn = true
    await lineage.current?.stop('SIGKILL', 5000)
    if (lineage.ownsDir) removeDir(lineage.dir)
  })
}

/**
 * Starts one dynakv node. args are passed after `server`; the harness adds
 * --port, --peer-port and --dir unless args hold them, --name when
 * options.name is set, and `--n 1 --r 1 --w 1` unless args or options.env
 * (DYNAKV_N...) set any of them.
 */
export async function startServer (args: string[] = [], options: StartOptions = {}): Promise<ServerProc> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx tsc -p .\` first`)
  const full = [...args]
  const fromEnv = (flag: string): boolean => options.env?.[`DYNAKV_${flag.toUpperCase()}`] !== undefined
  if (!['n', 'r', 'w'].some(f => hasFlag(args, f) || fromEnv(f))) full.push('--n', '1', '--r', '1', '--w', '1')
  if (options.name !== undefined && !hasFlag(args, 'name')) full.push('--name', options.name)
  let lineage: Lineage
  const givenDir = options.dir ?? flagValue(args, 'dir')
  if (givenDir !== undefined) {
    lineage = { dir: givenDir, ownsDir: false, current: null, torn: false }
  } else {
    lineage = { dir: tempDir(), ownsDir: true, current: null, torn: false }
  }
  if (!hasFlag(args, 'dir')) full.push('--dir', lineage.dir)
  registerTeardown(lineage, options.t)
  const fixedPorts = options.port !== undefined || hasFlag(args, 'port')
  return await launch(full, lineage, options, fixedPorts)
}

async function launch (baseArgs: string[], lineage: Lineage, options: StartOptions, fixedPorts: boolean): Promise<ServerProc> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 20000
  const attempts = fixedPorts ? 1 : 3
  let lastError: Error | null = null
  for (let attempt = 0; attempt < attempts; attempt++) {
    const args = [...baseArgs]
    let port = Number(flagValue(args, 'port'))
    if (!hasFlag(args, 'port')) {
      port = options.port ?? await freePort()
      args.push('--port', String(port))
    }
    let peerPort = Number(flagValue(args, 'peer-port'))
    if (!hasFlag(args, 'peer-port')) {
      peerPort = options.peerPort ?? (await freePorts(2)).find(p => p !== port) as number
      args.push('--peer-port', String(peerPort))
    }
    const child = new Child(process.execPath, [MAIN, 'server', ...args], { cwd: options.cwd ?? ROOT, env: cleanEnv(options.env) })
    lineage.current = child
    const logLevel = flagValue(args, 'log-level') ?? options.env?.DYNAKV_LOG_LEVEL ?? 'info'
    // The ready line is printed at every level but silent: waiting for it, not for the port, cannot
    // mistake another process that happens to listen there for this node.
    let ready: RegExpMatchArray | null
    try {
      ready = logLevel === 'silent' ? await probeReady(child, port, readyTimeoutMs) : await child.waitFor(READY, readyTimeoutMs)
    } catch (e) {
      await child.stop('SIGKILL', 5000)
      throw e
    }
    const name = flagValue(args, 'name') ?? options.env?.DYNAKV_NAME ?? `${flagValue(args, 'advertise-host') ?? flagValue(args, 'host') ?? HOST}-${port}`.replace(/[^A-Za-z0-9._-]/g, '_')
    const sp = serverProc(child, { name, port, peerPort, dir: lineage.dir, args }, lineage, options)
    if (options.expectFailure === true) {
      if (ready !== null) {
        await child.stop('SIGKILL', 5000)
        throw new Error(`the server became ready but was expected to fail; output:\n${child.output()}`)
      }
      await child.exited
      return sp
    }
    if (ready !== null) return sp
    await child.exited
    lastError = new Error(`dynakv server exited (code ${String(child.exit?.code)}, signal ${String(child.exit?.signal)}) before ready; output:\n${child.output()}`)
    // A port taken between freePort() and the bind: pick others.
    if (!/address already in use/i.test(child.output())) break
  }
  throw lastError as Error
}

/** For a node that does not log `ready:` (--log-level silent): poll the RESP port. */
async function probeReady (child: Child, port: number, timeoutMs: number): Promise<RegExpMatchArray | null> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exit !== null) return null
    if (await canConnect(port)) return ['probe'] as unknown as RegExpMatchArray
    await sleep(25)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for port ${port}; output so far:\n${child.output()}`)
}

function serverProc (child: Child, o: { name: string, port: number, peerPort: number, dir: string, args: string[] }, lineage: Lineage, options: StartOptions): ServerProc {
  const sp: ServerProc = {
    ...o,
    proc: child.proc,
    output: () => child.output(),
    get exitCode () { return child.exit?.code ?? null },
    get exitSignal () { return child.exit?.signal ?? null },
    get running () { return child.exit === null },
    exited: child.exited,
    waitForOutput: async (re, timeoutMs = 10000) => await child.waitFor(re, timeoutMs),
    stop: async (signal = 'SIGTERM', timeoutMs = 15000) => (await child.stop(signal, timeoutMs)).code,
    kill9: async () => { await child.stop('SIGKILL', 5000) },
    restart: async (extra = []) => {
      if (lineage.torn) throw new Error('restart after teardown')
      await child.stop('SIGTERM', 15000)
      // Same ports and name: pin them so a restart never moves.
      const args = [...o.args, ...extra]
      return await launch(args, lineage, { ...options, expectFailure: false }, true)
    }
  }
  return sp
}

/** Runs `node dist/lib/cli/main.js <argv>` to completion (usage errors, --help, version). */
export async function runDynakv (argv: string[], options: { env?: NodeJS.ProcessEnv, timeoutMs?: number, cwd?: string } = {}): Promise<{ code: number | null, signal: NodeJS.Signals | null, output: string }> {
  const child = new Child(process.execPath, [MAIN, ...argv], { cwd: options.cwd ?? ROOT, env: cleanEnv(options.env) })
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), options.timeoutMs ?? 20000)
  const exit = await child.exited
  clearTimeout(timer)
  return { ...exit, output: child.output() }
}

// ---------------------------------------------------------------- redis-server

export interface RedisProc {
  port: number
  proc: ChildProcess
  output (): string
  stop (): Promise<void>
}

export const haveRedisServer = (): boolean => existsSync(REDIS_SERVER)

/**
 * A throwaway redis-server 7 (no persistence) on a free port, the reference
 * for wording and bytes. Null when redis-server is not installed.
 */
export async function startRedisServer (extra: string[] = [], options: { t?: Teardown } = {}): Promise<RedisProc | null> {
  if (!haveRedisServer()) return null
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const child = new Child(REDIS_SERVER, [
      '--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning',
      // Its own directory: a SAVE or SHUTDOWN in a script writes dump.rdb there, not in the repository.
      '--dir', tempDir('redis-spec-'), ...extra
    ], {})
    const stop = async (): Promise<void> => { await child.stop('SIGKILL', 5000) }
    for (let i = 0; i < 200 && child.exit === null; i++) {
      if (await canConnect(port)) {
        ;(options.t ?? tap).teardown(stop)
        return { port, proc: child.proc, output: () => child.output(), stop }
      }
      await sleep(25)
    }
    await stop()
  }
  throw new Error('redis-server did not start')
}
