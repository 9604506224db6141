// The real client tools, driven from specs: redis-cli (one-shot or --pipe),
// redis-benchmark (--csv, parsed), and raw sockets for byte-exact checks of
// what a server sends back and whether it closes the connection.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { once } from 'node:events'
import RedisParser from 'redis-parser'
import { Redis } from 'ioredis'
import { HOST } from './server.js'

export const REDIS_CLI = '/usr/bin/redis-cli'
export const REDIS_BENCHMARK = '/usr/bin/redis-benchmark'

/** The absolute path of a tool, or null when it is not installed (first of the usual places, then PATH). */
export function which (tool: string): string | null {
  for (const dir of ['/usr/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(':')]) {
    if (dir !== '' && existsSync(`${dir}/${tool}`)) return `${dir}/${tool}`
  }
  return null
}

/** Why a spec must skip, or false: `t.test(name, { skip: missing('redis-cli') }, ...)`. */
export function missing (tool: string): string | false {
  return which(tool) === null ? `${tool} is not installed (CI installs redis-tools)` : false
}

// ---------------------------------------------------------------- processes

export interface RunResult {
  stdout: string
  stderr: string
  code: number | null
  signal: NodeJS.Signals | null
}

/** Runs a program to completion, feeding stdin (if given), SIGKILL after timeoutMs. */
export async function run (command: string, args: string[], options: { input?: string | Buffer, timeoutMs?: number } = {}): Promise<RunResult> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  child.stdin.on('error', () => {})
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30000)
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>
  if (options.input !== undefined) child.stdin.end(options.input)
  else child.stdin.end()
  const [code, signal] = await closed
  clearTimeout(timer)
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code, signal }
}

/** `redis-cli -h 127.0.0.1 -p port ...args`. stdin: for --pipe (or -x). */
export async function redisCli (port: number, args: string[], options: { input?: string | Buffer, timeoutMs?: number } = {}): Promise<RunResult> {
  return await run(which('redis-cli') ?? REDIS_CLI, ['-h', HOST, '-p', String(port), ...args], options)
}

/**
 * One command through redis-cli --no-raw: its human-readable rendering
 * (`"v"`, `(nil)`, `(integer) 1`, `(error) ERR ...`), trailing newline removed.
 */
export async function cliFormatted (port: number, ...args: string[]): Promise<string> {
  const r = await redisCli(port, ['--no-raw', ...args])
  if (r.code !== 0 && r.stdout === '') throw new Error(`redis-cli ${args.join(' ')} failed (${String(r.code)}): ${r.stderr}`)
  return r.stdout.replace(/\n$/, '')
}

/**
 * Several commands on one connection: redis-cli reads them from stdin, one
 * per line (its own quoting rules: "a b" is one argument), and prints each
 * reply (raw unless args hold --no-raw).
 */
export async function cliScript (port: number, lines: string[], args: string[] = []): Promise<string> {
  const r = await redisCli(port, args, { input: lines.join('\n') + '\n' })
  if (r.code !== 0 && r.stdout === '') throw new Error(`redis-cli script failed (${String(r.code)}): ${r.stderr}`)
  return r.stdout.replace(/\n$/, '')
}

/** One command through redis-cli's raw mode (what scripts see): values one per line. */
export async function cliRaw (port: number, ...args: string[]): Promise<string> {
  const r = await redisCli(port, ['--raw', ...args])
  if (r.code !== 0 && r.stdout === '') throw new Error(`redis-cli ${args.join(' ')} failed (${String(r.code)}): ${r.stderr}`)
  return r.stdout.replace(/\n$/, '')
}

export interface BenchRow {
  test: string
  rps: number
  avgLatencyMs: number
  /** Every column, by header name. */
  columns: Record<string, string>
}

/** Parses one CSV line of redis-benchmark --csv ("a","b",...). */
export function parseCsvLine (line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    if (line[i] === '"') {
      let v = ''
      i++
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') { v += '"'; i += 2 } else if (line[i] === '"') { i++; break } else v += line[i++]
      }
      out.push(v)
      if (line[i] === ',') i++
    } else {
      const j = line.indexOf(',', i)
      out.push(line.slice(i, j === -1 ? line.length : j))
      i = j === -1 ? line.length : j + 1
    }
  }
  return out
}

export function parseBenchCsv (csv: string): BenchRow[] {
  const lines = csv.split(/\r?\n/).filter(l => l.trim() !== '')
  const header = lines.findIndex(l => l.startsWith('"test"'))
  if (header === -1) return []
  const names = parseCsvLine(lines[header])
  return lines.slice(header + 1).map((l) => {
    const cells = parseCsvLine(l)
    const columns: Record<string, string> = {}
    names.forEach((n, i) => { columns[n] = cells[i] ?? '' })
    return { test: columns.test, rps: Number(columns.rps), avgLatencyMs: Number(columns.avg_latency_ms), columns }
  })
}

/** `redis-benchmark -h 127.0.0.1 -p port --csv ...args`, rows parsed. */
export async function redisBenchmark (port: number, args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult & { rows: BenchRow[] }> {
  const r = await run(which('redis-benchmark') ?? REDIS_BENCHMARK, ['-h', HOST, '-p', String(port), '--csv', ...args], { timeoutMs: options.timeoutMs ?? 60000 })
  return { ...r, rows: parseBenchCsv(r.stdout) }
}

// ---------------------------------------------------------------- RESP

/** A multibulk request frame, as clients send commands. */
export function frame (...args: Array<string | Buffer | number>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8')
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

export type Resp2 = Buffer | number | null | Error | Resp2[]

/** Every complete RESP2 reply in buf (errors as Error values), and the bytes left over. */
export function parseReplies (buf: Buffer): Resp2[] {
  const out: Resp2[] = []
  const p = new RedisParser({
    returnBuffers: true,
    returnReply: (r: unknown) => { out.push(r as Resp2) },
    returnError: (e: Error) => { out.push(e) },
    returnFatalError: (e: Error) => { out.push(e) }
  })
  p.execute(buf)
  return out
}

// ---------------------------------------------------------------- raw sockets

export interface Exchange {
  /** Every byte the server sent. */
  out: Buffer
  /** True when the server closed the connection (as opposed to our timeout). */
  closed: boolean
}

export interface ExchangeOptions {
  /** Stop once nothing has arrived for this long (after the last write). Default 300 ms. */
  quietMs?: number
  /**
   * Before the first byte arrives, wait this long instead of quietMs: for a
   * reply known to come, which a loaded machine may send later than quietMs.
   */
  firstByteMs?: number
  /** Stop in any case after this long. Default 10 s. */
  timeoutMs?: number
  /** Stop as soon as this returns true for everything received so far. */
  until?: (out: Buffer) => boolean
  /** Half-close our side after writing (the client hangs up). */
  end?: boolean
  /** Pause between chunks of input, in ms. */
  gapMs?: number
  host?: string
}

/**
 * Opens a connection, writes input (chunks in order), and collects what comes
 * back until the server closes, `until` holds, or nothing arrived for quietMs.
 */
export async function exchange (port: number, input: string | Buffer | Array<string | Buffer>, options: ExchangeOptions = {}): Promise<Exchange> {
  const quietMs = options.quietMs ?? 300
  const socket = net.connect(port, options.host ?? HOST)
  socket.on('error', () => {})
  await once(socket, 'connect')
  const chunks = (Array.isArray(input) ? input : [input]).map(c => typeof c === 'string' ? Buffer.from(c, 'latin1') : c)
  return await new Promise((resolve) => {
    const parts: Buffer[] = []
    let quiet: NodeJS.Timeout | undefined
    let writing = true
    let done = false
    const finish = (closed: boolean): void => {
      if (done) return
      done = true
      clearTimeout(quiet)
      clearTimeout(overall)
      socket.destroy()
      resolve({ out: Buffer.concat(parts), closed })
    }
    const overall = setTimeout(() => finish(false), options.timeoutMs ?? 10000)
    const arm = (): void => {
      clearTimeout(quiet)
      if (!writing) quiet = setTimeout(() => finish(false), parts.length === 0 ? options.firstByteMs ?? quietMs : quietMs)
    }
    socket.on('data', (d: Buffer) => {
      parts.push(d)
      if (options.until?.(Buffer.concat(parts)) === true) finish(false)
      else arm()
    })
    socket.on('end', () => finish(true))
    socket.on('close', () => finish(true))
    void (async () => {
      for (let i = 0; i < chunks.length && !done; i++) {
        if (i > 0 && options.gapMs !== undefined) await new Promise(resolve => setTimeout(resolve, options.gapMs))
        if (!socket.write(chunks[i])) await Promise.race([once(socket, 'drain'), once(socket, 'close')])
      }
      if (options.end === true && !done) socket.end()
      writing = false
      arm()
    })().catch(() => finish(true))
  })
}

/** A connection kept open across several request/reply rounds (RESP2 replies). */
export class RawClient {
  private buf = Buffer.alloc(0)
  private waiters = new Set<() => void>()
  closed = false

  private constructor (readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake() })
    socket.on('close', () => { this.closed = true; this.wake() })
    socket.on('error', () => {})
  }

  static async connect (port: number, host = HOST): Promise<RawClient> {
    const socket = net.connect(port, host)
    await once(socket, 'connect')
    return new RawClient(socket)
  }

  private wake (): void {
    for (const w of this.waiters) w()
  }

  write (data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)
  }

  /** Bytes received and not yet taken. */
  get received (): Buffer {
    return this.buf
  }

  /** Waits until pred holds for the received bytes (or the close); returns and clears them. */
  async readUntil (pred: (b: Buffer) => boolean, timeoutMs = 5000): Promise<Buffer> {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (pred(this.buf) || this.closed) { cleanup(); resolve() }
      }
      const timer = setTimeout(() => { cleanup(); reject(new Error(`no expected reply within ${timeoutMs} ms; got ${JSON.stringify(this.buf.toString('latin1'))}`)) }, timeoutMs)
      const cleanup = (): void => { clearTimeout(timer); this.waiters.delete(check) }
      this.waiters.add(check)
      check()
    })
    const out = this.buf
    this.buf = Buffer.alloc(0)
    return out
  }

  /** Waits for n complete RESP2 replies; returns their raw bytes. */
  async readReplies (n: number, timeoutMs = 5000): Promise<Buffer> {
    return await this.readUntil(b => parseReplies(b).length >= n, timeoutMs)
  }

  /** Sends one command frame and returns the raw bytes of its reply. */
  async call (...args: Array<string | Buffer | number>): Promise<Buffer> {
    this.write(frame(...args))
    return await this.readReplies(1)
  }

  /** Resolves true once the server closed the connection, false after timeoutMs. */
  async waitClosed (timeoutMs = 2000): Promise<boolean> {
    try {
      await this.readUntil(() => false, timeoutMs)
    } catch {
      return false
    }
    return this.closed
  }

  close (): void {
    this.socket.destroy()
  }
}

/**
 * Runs steps on connections of one server and returns every reply's bytes: a
 * step is [conn, args], each reply read before the next step. A step on a
 * negative conn number runs on connection -n and is left out of the
 * transcript (HELLO: its reply names the server and its version). What two
 * servers give for the same steps can be compared byte for byte.
 */
export async function transcript (port: number, steps: Array<[number, string[]]>): Promise<string[]> {
  const conns = new Map<number, RawClient>()
  const out: string[] = []
  try {
    for (const [signed, args] of steps) {
      const n = Math.abs(signed)
      let c = conns.get(n)
      if (c === undefined) conns.set(n, c = await RawClient.connect(port))
      if (c.closed) {
        if (signed > 0) out.push(`${n}: <closed>`)
        continue
      }
      c.write(frame(...args))
      const bytes = await c.readUntil(b => parseReplies(b).length >= 1 || c?.closed === true)
      if (signed > 0) out.push(`${n}: ${bytes.toString('latin1')}${c.closed ? '<closed>' : ''}`)
    }
  } finally {
    for (const c of conns.values()) c.close()
  }
  return out
}

/** A numeric field of one INFO section (NaN when absent). */
export async function infoNumber (r: Redis, section: string, field: string): Promise<number> {
  return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await r.info(section))?.[1])
}

/** An ioredis client of one node that fails fast (no retries, no reconnect), disconnected at t's teardown. */
export async function connectIoredis (t: { teardown (fn: () => unknown): void }, node: { port: number }): Promise<Redis> {
  const r = new Redis({ host: HOST, port: node.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  r.on('error', () => {})
  t.teardown(() => { r.disconnect() })
  await r.connect()
  return r
}
