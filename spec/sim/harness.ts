// A whole dynakv cluster in one process (docs/design.md#architecture): real DynakvNode objects
// on the simulated network, memory-level stores and one virtual clock, under a
// seed. Clients talk to nodes through the real command layer (Dispatcher), so
// the simulation runs the same code as the server, minus sockets.
import { parseServerArgs } from '../../lib/cli/args.js'
import { encodeMembership, type MemberRecord } from '../../lib/membership/membership.js'
import { DynakvNode } from '../../lib/node/node.js'
import { SimNetwork } from '../../lib/peer/sim.js'
import { VirtualClock } from '../../lib/peer/virtual-clock.js'
import type { TimeSource } from '../../lib/runtime/clock.js'
import { Dispatcher, type ServerInfo } from '../../lib/resp/commands/index.js'
import { internalSession, type Session } from '../../lib/resp/session.js'
import type { Reply } from '../../lib/resp/reply.js'
import { memoryLevelStore, type Store } from '../../lib/storage/store.js'

export interface SimOptions {
  seed: number
  nodes: number
  n?: number
  r?: number
  w?: number
  partitions?: number
  dropProbability?: number
  duplicateProbability?: number
  delayMsMin?: number
  delayMsMax?: number
  /** More server flags for every node. */
  args?: string[]
  /**
   * Each node's clock reads the virtual clock plus this offset (ms), as a host's
   * clock is off by its skew (docs/types.md "Clock skew"); timers still run on
   * the one virtual timeline. Default: no offset.
   */
  clockOffsetMs?: (name: string) => number
  /** The virtual clock's start (ms): room below it for negative offsets. Default 0. */
  startMs?: number
  /** Called with every node as it boots (and boots again): test instrumentation. */
  onBoot?: (name: string, node: DynakvNode) => void
  /**
   * How create() forms the cluster. 'joins' (default): node2..nodeK each join
   * through node1 in turn, as an operator would, every join pushed to every
   * member. 'view': every node starts alone, then each merges one view holding
   * every node's own record (the nodes started 1 ms apart), as if the cluster
   * had formed before the test: a node folds the claim once instead of once per
   * join. The 'joins' build of k nodes costs O(k³) (each join sends the whole
   * view to every member): 11 s of CPU at 100 nodes, against 2 s for 'view';
   * the scale simulation measures the join of one more node instead
   * (spec/sim/scale.ts).
   */
  build?: 'joins' | 'view'
}

/** A clock that reads `offsetMs` ahead of (or, negative, behind) `base`; timers run on base. */
export function skewedClock (base: TimeSource, offsetMs: number): TimeSource {
  if (offsetMs === 0) return base
  return {
    now: () => base.now() + offsetMs,
    after: (delayMs, fn) => base.after(delayMs, fn),
    defer: (fn) => base.defer(fn),
    soon: (fn) => base.soon(fn)
  }
}

interface Member {
  name: string
  node: DynakvNode | null
  store: Store
  dispatcher: Dispatcher | null
}

const SIM_PEER_PORT = 7000

export class SimCluster {
  readonly net: SimNetwork
  readonly clock: VirtualClock
  readonly members = new Map<string, Member>()
  private readonly opts: SimOptions
  /**
   * A known bug planted in every node any cluster boots while it is set
   * (spec/sim/plants.ts; null: none). The sweep sets it around each run of
   * `npm run sim -- --plant NAME`, so scenarios need not pass it along.
   */
  static planted: ((node: DynakvNode) => void) | null = null

  private constructor (opts: SimOptions) {
    this.opts = opts
    this.net = new SimNetwork({
      seed: opts.seed,
      dropProbability: opts.dropProbability ?? 0,
      duplicateProbability: opts.duplicateProbability ?? 0,
      delayMsMin: opts.delayMsMin ?? 1,
      delayMsMax: opts.delayMsMax ?? 5,
      traceMax: 2000,
      clock: new VirtualClock({ startMs: opts.startMs ?? 0 })
    })
    this.clock = this.net.clock
  }

  /** Starts node1..nodeK, joins them through node1 and waits for the ring to converge. */
  static async create (opts: SimOptions): Promise<SimCluster> {
    const c = new SimCluster(opts)
    if (opts.build === 'view') {
      for (let i = 1; i <= opts.nodes; i++) {
        await c.boot(`node${i}`, memoryLevelStore())
        await c.run(1)
      }
      const nodes = c.running().map(n => c.node(n))
      const view = encodeMembership(nodes[0].membership.settings, nodes.map(n => n.membership.get(n.config.name) as MemberRecord))
      for (const n of nodes) n.gossip.receive(view, 'node1')
    } else {
      for (let i = 1; i <= opts.nodes; i++) {
        await c.boot(`node${i}`, memoryLevelStore())
        if (i > 1) await c.settle(c.node(`node${i}`).gossip.join('node1', SIM_PEER_PORT))
      }
    }
    await c.converge()
    return c
  }

  get names (): string[] {
    return [...this.members.keys()]
  }

  node (name: string): DynakvNode {
    const m = this.members.get(name)
    if (m?.node == null) throw new Error(`${name} is not running`)
    return m.node
  }

  /** How far name's clock reads ahead of the virtual clock (ms). */
  offsetOf (name: string): number {
    return this.opts.clockOffsetMs?.(name) ?? 0
  }

  running (): string[] {
    return [...this.members.values()].filter(m => m.node !== null).map(m => m.name)
  }

  private config (name: string) {
    const o = this.opts
    return parseServerArgs([
      '--name', name, '--advertise-host', name, '--port', '6379', '--peer-port', String(SIM_PEER_PORT),
      '--storage', 'memory-level',
      '--n', String(o.n ?? 3), '--r', String(o.r ?? 2), '--w', String(o.w ?? 2),
      '--partitions', String(o.partitions ?? 16),
      '--gossip-interval-ms', '200', '--probe-interval-ms', '100', '--down-after-ms', '500',
      '--request-timeout-ms', '300', '--handoff-interval-ms', '200', '--ae-interval-ms', '1000',
      '--ae-leaves', '64', '--read-repair-wait-ms', '20', '--cache-mb', '8',
      ...(o.args ?? [])
    ])
  }

  private async boot (name: string, store: Store): Promise<DynakvNode> {
    const node = await this.settle(DynakvNode.start(this.config(name), {
      clock: skewedClock(this.clock, this.offsetOf(name)),
      random: this.net.forkRandom(),
      store,
      transport: this.net.endpoint(name)
    }))
    const server: ServerInfo = { clients: () => [], totalConnections: 0, totalCommands: 0, rejectedConnections: 0, port: 6379, tunables: new Map(), protoMaxBulkLenMax: node.config.protoMaxBulkLen, resetStats: () => {}, configChanged: () => {}, commandStats: null, shutdown: null }
    const dispatcher = new Dispatcher(node, server)
    node.peers.executor = dispatcher
    this.members.set(name, { name, node, store, dispatcher })
    SimCluster.planted?.(node)
    this.opts.onBoot?.(name, node)
    return node
  }

  /** Runs virtual time until the promise settles. */
  async settle<T> (p: Promise<T>): Promise<T> {
    return await this.clock.runUntilSettled(p)
  }

  async run (ms: number): Promise<void> {
    await this.clock.advance(ms)
  }

  /** A client command at a node, as a client connected to it would send it. */
  async exec (name: string, ...args: Array<string | Buffer>): Promise<Reply> {
    return await this.execIn(internalSession(2, false), name, ...args)
  }

  /** A command on a client's session kept across commands (MULTI, WATCH, HELLO). */
  async execIn (session: Session, name: string, ...args: Array<string | Buffer>): Promise<Reply> {
    const m = this.members.get(name)
    if (m?.dispatcher == null) throw new Error(`${name} is not running`)
    const reply = m.dispatcher.exec(session, args.map(a => typeof a === 'string' ? Buffer.from(a) : a))
    return reply instanceof Promise ? await this.settle(reply) : reply
  }

  /** Issues a command without waiting (for concurrent workloads); the promise settles as time runs. */
  send (name: string, ...args: Array<string | Buffer>): Promise<Reply> {
    const m = this.members.get(name)
    if (m?.dispatcher == null) return Promise.resolve({ type: 'error', value: `ERR ${name} is down` })
    const reply = m.dispatcher.exec(internalSession(2, false), args.map(a => typeof a === 'string' ? Buffer.from(a) : a))
    return Promise.resolve(reply)
  }

  /** kill -9: the process is gone; what its store holds stays. */
  crash (name: string): void {
    const m = this.members.get(name)
    if (m?.node == null) return
    m.node.halt()
    this.net.crash(name)
    m.node = null
    m.dispatcher = null
  }

  /** Brings a crashed node back on its store, or on an empty one (a wiped disk: new epoch). */
  async restart (name: string, options: { wipe?: boolean } = {}): Promise<DynakvNode> {
    const m = this.members.get(name)
    if (m === undefined) throw new Error(`unknown node ${name}`)
    if (m.node !== null) this.crash(name)
    const store = options.wipe === true ? memoryLevelStore() : m.store
    const node = await this.boot(name, store)
    if (options.wipe === true) {
      // A wiped node has no membership: it rejoins, then the cluster's ring brings its partitions back.
      await this.settle(node.gossip.join(this.running().find(n => n !== name) ?? 'node1', SIM_PEER_PORT).catch(() => {}))
    }
    return node
  }

  /** Adds a node and joins it through node1 (`prepare` sees the node started, before it joins). */
  async add (name: string, prepare?: (node: DynakvNode) => void): Promise<DynakvNode> {
    const node = await this.boot(name, memoryLevelStore())
    prepare?.(node)
    await this.settle(node.gossip.join('node1', SIM_PEER_PORT))
    return node
  }

  /** Runs time until every running node reports the same converged membership (bounded). */
  async converge (maxMs = 20_000): Promise<void> {
    for (let t = 0; t < maxMs; t += 100) {
      const nodes = this.running().map(n => this.node(n))
      const digests = new Set(nodes.map(n => n.membership.digest()))
      if (digests.size === 1 && nodes.every(n => n.gossip.converged())) return
      await this.run(100)
    }
    throw new Error(`membership did not converge within ${maxMs} ms (seed ${this.opts.seed})`)
  }

  async stop (): Promise<void> {
    for (const m of this.members.values()) {
      if (m.node !== null) {
        m.node.halt()
        this.net.crash(m.name)
      }
    }
  }
}
