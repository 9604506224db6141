// What `dynakv admin top` and `dynakv admin ring` read from a cluster: the
// members as one node sees them (RING NODES), and from each member its INFO,
// its LATENCY HISTOGRAM and its RING STATUS, over one RESP connection per
// member kept across refreshes. Every call has a timeout: a stuck node shows
// as unreachable, it does not stall the view.
import { BUCKETS } from '../metrics/command-stats.js'
import { RespClient, type RespValue } from './resp-client.js'
import { parseHostPort } from './args.js'

export interface Member {
  name: string
  peer: string
  client: string
  status: string
  weight: number
  partitions: number
  /** up or down, as the node asked sees it. */
  state: string
}

/** One member's figures at one moment. */
export interface NodeSample {
  atMs: number
  info: Map<string, string>
  /** Every command's latency buckets added up (not cumulative; see lib/metrics/command-stats.ts); null: not tracked. */
  buckets: Float64Array | null
  /** Calls counted in buckets. */
  calls: number
  status: Map<string, RespValue>
}

/** Commands the views send themselves: left out of the latency figures. */
const OWN_COMMANDS = new Set(['info', 'latency', 'ring', 'auth'])

export function parseMembers (reply: RespValue): Member[] {
  if (!Array.isArray(reply)) throw new Error('RING NODES: unexpected reply')
  return reply.map((line) => {
    const [name, peer, client, status, weight, partitions, state] = String(line).split(' ')
    return { name, peer, client, status, weight: Number(weight), partitions: Number(partitions), state }
  })
}

export function parseInfo (text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1))
  }
  return out
}

/** A flat RESP2 map ([k1, v1, k2, v2...]) as a Map. */
export function flatMap (reply: RespValue): Map<string, RespValue> {
  const out = new Map<string, RespValue>()
  if (!Array.isArray(reply)) return out
  for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), reply[i + 1])
  return out
}

/** LATENCY HISTOGRAM (RESP2) summed over the commands other than the views' own: per-bucket counts. */
export function parseLatencyHistogram (reply: RespValue): { buckets: Float64Array, calls: number } {
  const buckets = new Float64Array(BUCKETS + 1)
  let calls = 0
  for (const [command, body] of flatMap(reply)) {
    if (OWN_COMMANDS.has(command)) continue
    const fields = flatMap(body)
    calls += Number(fields.get('calls') ?? 0)
    const cumulative = flatMap(fields.get('histogram_usec') ?? [])
    let previous = 0
    for (const [bound, count] of [...cumulative].map(([b, c]) => [Number(b), Number(c)]).sort((a, b) => a[0] - b[0])) {
      const i = Math.min(BUCKETS, Math.round(Math.log2(bound)))
      buckets[i] += count - previous
      previous = count
    }
  }
  return { buckets, calls }
}

async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms) })
  try {
    return await Promise.race([p, expired])
  } finally {
    clearTimeout(timer)
  }
}

/** RESP connections to a cluster's members, opened on first use and again after a failure. */
export class ClusterClients {
  private readonly clients = new Map<string, Promise<RespClient>>()

  constructor (private readonly password: string | undefined, private readonly timeoutMs = 5000) {}

  /** One command to the node at address (host:port); an error reply resolves as an Error value. */
  async call (address: string, ...args: string[]): Promise<RespValue> {
    const hp = parseHostPort(address)
    if (hp === null) throw new Error(`bad address ${address}`)
    let pending = this.clients.get(address)
    if (pending === undefined) {
      pending = this.open(hp.host, hp.port)
      this.clients.set(address, pending)
    }
    try {
      const client = await pending
      return await withTimeout(client.call(...args), this.timeoutMs, `${address} ${args[0]}`)
    } catch (e) {
      this.clients.delete(address)
      void pending.then(c => c.close(), () => {})
      throw e
    }
  }

  private async open (host: string, port: number): Promise<RespClient> {
    const client = await RespClient.connect(host, port, this.timeoutMs)
    if (this.password !== undefined) {
      const auth = await withTimeout(client.call('AUTH', this.password), this.timeoutMs, `${host}:${port} AUTH`)
      if (auth instanceof Error) {
        client.close()
        throw auth
      }
    }
    return client
  }

  async members (address: string): Promise<Member[]> {
    const reply = await this.call(address, 'RING', 'NODES')
    if (reply instanceof Error) throw reply
    return parseMembers(reply)
  }

  async sample (address: string): Promise<NodeSample> {
    const [info, latency, status] = await Promise.all([
      this.call(address, 'INFO', 'everything'),
      this.call(address, 'LATENCY', 'HISTOGRAM'),
      this.call(address, 'RING', 'STATUS')
    ])
    if (info instanceof Error) throw info
    if (status instanceof Error) throw status
    // An older node without LATENCY, or one not tracking (no --metrics-port): no latency figures.
    const hist = latency instanceof Error ? null : parseLatencyHistogram(latency)
    return {
      atMs: Date.now(),
      info: parseInfo(String(info)),
      buckets: hist === null || hist.calls === 0 ? null : hist.buckets,
      calls: hist?.calls ?? 0,
      status: flatMap(status)
    }
  }

  close (): void {
    for (const pending of this.clients.values()) void pending.then(c => c.close(), () => {})
    this.clients.clear()
  }
}
