// Applications as people write them with ioredis and node-redis — a session
// store, a cache, a leaderboard, set membership, a rate limiter — run as
// scripts against a deployment (one port per node) and recorded as transcripts:
// every step's reply as the client library decoded it. A spec runs the same
// script on dynakv and on a reference redis-server and compares the transcripts
// step by step, so the expected values come from Redis, not from this file.
//
//   step i of the script goes through node i mod k (k = the deployment's ports;
//   the reference has one port, so everything goes to it)
//   replies are normalized: Map/Set/Buffer/Error kept apart by name (the decoded
//   shape is part of the transcript), members of unordered replies sorted,
//   times to live turned into the interval they must fall in
import { Redis, type RedisOptions } from 'ioredis'
import { createClient, RESP_TYPES } from 'redis'
import type { Test } from 'tap'
import type { Teardown } from './server.js'

/** node-redis decoding RESP3 maps and sets as Map and Set: the wire type shows in the value. */
const SHAPES = { [RESP_TYPES.MAP]: Map, [RESP_TYPES.SET]: Set }

function nodeRedis (port: number) {
  return createClient({ url: `redis://127.0.0.1:${port}`, commandOptions: { typeMapping: SHAPES } })
}

export type NodeRedis = ReturnType<typeof nodeRedis>

/** Connections to a deployment, opened on first use and closed at teardown. */
export class AppClients {
  // Promises, so that calls racing for the same client share one connection.
  private readonly io = new Map<string, Promise<Redis>>()
  private readonly nr = new Map<number, Promise<NodeRedis>>()
  private readonly opened: Array<Redis | NodeRedis> = []

  constructor (readonly ports: number[], t: Teardown) {
    t.teardown(() => this.close())
  }

  portOf (i: number): number {
    return this.ports[i % this.ports.length]
  }

  /** A shared ioredis client of node i (default options: RESP3, legacy reply shapes). */
  async ioredis (i: number, options: RedisOptions = {}): Promise<Redis> {
    const id = `${this.portOf(i)} ${JSON.stringify(options)}`
    const c = this.io.get(id) ?? this.ownIoredis(i, options)
    this.io.set(id, c)
    return await c
  }

  /** A shared node-redis client of node i (RESP3, its default HELLO 3). */
  async nodeRedis (i: number): Promise<NodeRedis> {
    const port = this.portOf(i)
    const c = this.nr.get(port) ?? this.ownNodeRedis(i)
    this.nr.set(port, c)
    return await c
  }

  /** An ioredis connection of its own to node i (for concurrent workers). */
  async ownIoredis (i: number, options: RedisOptions = {}): Promise<Redis> {
    const c = new Redis({ host: '127.0.0.1', port: this.portOf(i), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...options })
    this.opened.push(c)
    c.on('error', () => {}) // a failed command rejects its promise; a failed connection fails connect()
    await c.connect()
    return c
  }

  /** A node-redis connection of its own to node i. */
  async ownNodeRedis (i: number): Promise<NodeRedis> {
    const c = nodeRedis(this.portOf(i))
    this.opened.push(c)
    c.on('error', () => {})
    await c.connect()
    return c
  }

  close (): void {
    for (const c of this.opened) {
      if (c instanceof Redis) c.disconnect()
      else if (c.isOpen) c.destroy()
    }
    this.opened.length = 0
    this.io.clear()
    this.nr.clear()
  }
}

// ---------------------------------------------------------------- transcripts

export type Step = [label: string, value: unknown]

/** What a script records: each step's label and normalized reply (or error). */
export class Transcript {
  readonly steps: Step[] = []

  /** Runs one client call and records its reply; an error reply is recorded, not thrown. */
  async step (label: string, call: () => Promise<unknown>, shape: (v: unknown) => unknown = plain): Promise<unknown> {
    try {
      const v = await call()
      this.steps.push([label, shape(v)])
      return v
    } catch (e) {
      this.steps.push([label, `error: ${(e as Error).message}`])
      return undefined
    }
  }

  note (label: string, value: unknown): void {
    this.steps.push([label, plain(value)])
  }
}

/** A reply as comparable data: containers named by their JS type, unordered ones sorted. */
export function plain (v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { Buffer: v.toString('latin1') }
  if (v instanceof Map) return { Map: [...v].map(([k, x]) => [plain(k), plain(x)]).sort(byJson) }
  if (v instanceof Set) return { Set: [...v].map(plain).sort(byJson) }
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === 'object') return { Object: Object.entries(v).map(([k, x]) => [k, plain(x)]).sort(byJson) }
  return v
}

/** An array reply whose order Redis does not define (SMEMBERS through ioredis, HKEYS). */
export function unordered (v: unknown): unknown {
  return Array.isArray(v) ? v.map(plain).sort(byJson) : plain(v)
}

function byJson (a: unknown, b: unknown): number {
  const x = JSON.stringify(a)
  const y = JSON.stringify(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** A TTL/PTTL reply as what it must be: -2, -1, or within (lo, hi]. */
export function ttlWithin (lo: number, hi: number) {
  return (v: unknown): unknown => {
    const n = Number(v)
    if (n === -2 || n === -1) return n
    return n > lo && n <= hi ? `in (${lo}, ${hi}]` : `out of (${lo}, ${hi}]: ${String(v)}`
  }
}

export type Script = (c: AppClients, log: Transcript) => Promise<void>

/**
 * Runs the script on the deployment and on the reference (a redis-server's
 * port), then compares the transcripts step by step (strictly: a double is not
 * its text, a Set is not an Array).
 */
export async function sameAsRedis (t: Test, script: Script, deployment: number[], reference: number[]): Promise<void> {
  const got = new Transcript()
  const want = new Transcript()
  await script(new AppClients(deployment, t), got)
  await script(new AppClients(reference, t), want)
  t.equal(got.steps.length, want.steps.length, 'as many steps as on redis-server')
  want.steps.forEach(([label, value], i) => t.strictSame(got.steps[i]?.[1], value, label))
}
