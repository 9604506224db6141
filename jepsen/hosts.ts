// One dynakv process per test host, run inside the host's namespace with
// `ip netns exec` (which execs: the child's pid is the node's, so signals reach
// it directly). Its stdout and stderr are appended to <results>/nodes/<name>.log
// across restarts. Kill (SIGKILL), pause (SIGSTOP / SIGCONT), wipe (delete the
// data directory of a killed node), restart (same name, address and directory).
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, rmSync, type WriteStream } from 'node:fs'
import { once } from 'node:events'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NetHost } from './net.js'

const here = dirname(fileURLToPath(import.meta.url))
/** The built node, dist/lib/cli/main.js, whether this file runs from dist/jepsen/ or from jepsen/ (specs). */
export const MAIN = join(basename(dirname(here)) === 'dist' ? resolve(here, '..', '..') : resolve(here, '..'), 'dist', 'lib', 'cli', 'main.js')
export const RESP_PORT = 6379
export const PEER_PORT = 7379
// Generous: on a busy shared machine a node has been seen taking 30 s to boot.
const READY_TIMEOUT_MS = 120_000

export class Host {
  private proc: ChildProcess | null = null
  private readonly log: WriteStream
  paused = false
  clockOffsetMs = 0

  constructor (readonly net: NetHost, readonly dir: string, logPath: string, private readonly args: readonly string[]) {
    this.log = createWriteStream(logPath, { flags: 'a' })
  }

  get name (): string {
    return this.net.name
  }

  get running (): boolean {
    return this.proc !== null
  }

  get pid (): number | null {
    return this.proc?.pid ?? null
  }

  /** Starts the node and resolves once it printed its ready line. join: a member's address, for a host not yet (or no longer) in the ring. */
  async start (join: NetHost | null): Promise<void> {
    if (this.proc !== null) throw new Error(`${this.name} is already running`)
    const args = [
      'netns', 'exec', this.net.ns, process.execPath, MAIN, 'server',
      '--name', this.name, '--host', this.net.addr, '--port', String(RESP_PORT), '--peer-port', String(PEER_PORT),
      '--dir', this.dir, '--allow-fault-injection', '--clock-offset-ms', String(this.clockOffsetMs),
      ...(join === null ? [] : ['--join', `${join.addr}:${PEER_PORT}`]),
      ...this.args
    ]
    this.log.write(`--- ${new Date().toISOString()} start: ip ${args.join(' ')}\n`)
    const proc = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    this.paused = false
    proc.stdout.pipe(this.log, { end: false })
    proc.stderr.pipe(this.log, { end: false })
    proc.once('exit', (code, signal) => {
      this.log.write(`--- ${new Date().toISOString()} exit: ${signal ?? code}\n`)
      if (this.proc === proc) this.proc = null
    })
    await new Promise<void>((resolve, reject) => {
      let seen = ''
      const timer = setTimeout(() => fail(new Error(`${this.name} not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
      const onData = (chunk: Buffer): void => {
        seen = (seen + chunk.toString('utf8')).slice(-4096)
        if (seen.includes('ready: RESP on')) done()
      }
      const onExit = (code: number | null): void => fail(new Error(`${this.name} exited (${String(code)}) before it was ready: ${seen.trim().split('\n').slice(-3).join(' | ')}`))
      const done = (): void => {
        clearTimeout(timer)
        proc.stderr.off('data', onData)
        proc.off('exit', onExit)
        resolve()
      }
      const fail = (e: Error): void => {
        clearTimeout(timer)
        proc.stderr.off('data', onData)
        proc.off('exit', onExit)
        reject(e)
      }
      proc.stderr.on('data', onData)
      proc.once('exit', onExit)
    })
  }

  async signal (sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc
    if (proc === null) return
    if (sig === 'SIGSTOP') this.paused = true
    if (sig === 'SIGCONT') this.paused = false
    if (sig !== 'SIGKILL' && sig !== 'SIGTERM') {
      proc.kill(sig)
      return
    }
    const exited = once(proc, 'exit')
    proc.kill(sig)
    if (this.paused) proc.kill('SIGCONT')
    this.paused = false
    await exited
  }

  kill (): Promise<void> {
    return this.signal('SIGKILL')
  }

  /** Deletes the data directory; the node must be down. */
  wipe (): void {
    if (this.proc !== null) throw new Error(`${this.name} is running: kill it before wiping`)
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** SIGTERM, SIGKILL after timeoutMs. */
  async stop (timeoutMs = 10_000): Promise<void> {
    const proc = this.proc
    if (proc === null) return
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
    await this.signal('SIGTERM')
    clearTimeout(timer)
  }

  /** For exit handlers: SIGKILL now, without waiting. */
  killNow (): void {
    try {
      this.proc?.kill('SIGKILL')
    } catch {}
  }

  closeLog (): void {
    this.log.end()
  }
}
