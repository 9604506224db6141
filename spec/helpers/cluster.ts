// Real multi-node clusters for black-box specs: node processes on free loopback
// ports, node2..nodeK joined through node1, started with short timers so that
// failure detection, handoff and anti-entropy happen within a test's time.
import { Redis } from 'ioredis'
import { startServer, sleep, type ServerProc, type Teardown } from './server.js'

export const FAST = [
  '--gossip-interval-ms', '200', '--probe-interval-ms', '100', '--down-after-ms', '600',
  '--request-timeout-ms', '500', '--handoff-interval-ms', '200', '--ae-interval-ms', '500',
  '--read-repair-wait-ms', '50', '--log-level', 'warn', '--allow-fault-injection'
]

export interface ClusterOptions {
  nodes: number
  n?: number
  r?: number
  w?: number
  partitions?: number
  args?: string[]
  t?: Teardown
}

export class TestCluster {
  readonly clients = new Map<string, Redis>()

  constructor (readonly nodes: ServerProc[], private readonly t?: Teardown) {}

  node (name: string): ServerProc {
    const n = this.nodes.find(p => p.name === name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
  }

  /** An ioredis client of a node (RESP2, no retries: a down node fails fast). */
  client (name: string): Redis {
    let c = this.clients.get(name)
    const port = this.node(name).port
    if (c === undefined || c.options.port !== port || c.status === 'end') {
      c?.disconnect()
      c = new Redis({ host: '127.0.0.1', port, protocol: 2, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: false })
      c.on('error', () => {})
      this.clients.set(name, c)
    }
    return c
  }

  /** The node's client once it is connected (a new one after the node restarted). */
  async ready (name: string): Promise<Redis> {
    let c = this.client(name)
    if (!['ready', 'connect', 'connecting'].includes(c.status)) {
      this.clients.delete(name)
      c.disconnect()
      c = this.client(name)
    }
    if (c.status !== 'ready') await new Promise<void>((resolve, reject) => { c.once('ready', resolve); c.once('error', reject); c.once('end', () => reject(new Error(`${name}: connection closed`))) })
    return c
  }

  async call (name: string, ...args: Array<string | number>): Promise<unknown> {
    const c = await this.ready(name)
    return await c.call(String(args[0]), ...args.slice(1).map(String))
  }

  /** RING STATUS of a node as a plain object. */
  async status (name: string): Promise<Record<string, unknown>> {
    const flat = await this.call(name, 'RING', 'STATUS') as unknown[]
    const out: Record<string, unknown> = {}
    for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1]
    return out
  }

  /** Waits until every running node reports the same converged ring of `members`. */
  async converged (members = this.nodes.filter(p => p.running).length, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      try {
        const all = await Promise.all(this.nodes.filter(p => p.running).map(p => this.status(p.name)))
        last = JSON.stringify(all.map(s => [s.node, s.members, s.converged, s.membership_digest]))
        if (all.every(s => s.converged === 'yes' && Number(s.members) === members) && new Set(all.map(s => s.membership_digest)).size === 1) return
      } catch (e) {
        last = (e as Error).message
      }
      await sleep(100)
    }
    throw new Error(`the ring did not converge on ${members} members: ${last}`)
  }

  /** An INFO field of a node, as a number. */
  async info (name: string, field: string): Promise<number> {
    const text = await this.call(name, 'INFO', 'everything') as string
    const m = new RegExp(`^${field}:(\\S+)`, 'm').exec(text)
    return m === null ? NaN : Number(m[1])
  }

  async add (name: string, extra: string[] = []): Promise<ServerProc> {
    const seed = this.nodes[0]
    const p = await startServer([...this.baseArgs, ...extra, '--join', `127.0.0.1:${seed.peerPort}`], { name, t: this.t })
    this.nodes.push(p)
    return p
  }

  baseArgs: string[] = []

  async close (): Promise<void> {
    for (const c of this.clients.values()) c.disconnect()
    this.clients.clear()
  }
}

/** Polls fn (errors count as false) until it holds; fails the wait after timeoutMs. */
export async function until (what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return
    await sleep(200)
  }
  throw new Error(`timed out waiting for ${what}`)
}

export async function startCluster (options: ClusterOptions): Promise<TestCluster> {
  const base = [
    '--n', String(options.n ?? 3), '--r', String(options.r ?? 2), '--w', String(options.w ?? 2),
    '--partitions', String(options.partitions ?? 32), ...FAST, ...(options.args ?? [])
  ]
  const first = await startServer(base, { name: 'node1', t: options.t })
  const rest = await Promise.all(Array.from({ length: options.nodes - 1 }, (_, i) =>
    startServer([...base, '--join', `127.0.0.1:${first.peerPort}`], { name: `node${i + 2}`, t: options.t })))
  const c = new TestCluster([first, ...rest], options.t)
  c.baseArgs = base
  options.t?.teardown(() => c.close())
  await c.converged(options.nodes)
  return c
}
