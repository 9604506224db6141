// What the simulator specs of Redis's types share (docs/types.md): a log of
// client operations with their real-time intervals and outcomes, a seeded
// schedule of faults (partitions, crashes, a wiped disk, a lossy network),
// healing, and the replicas' raw bytes of a key for the byte-for-byte check.
//
// An operation's outcome is what its client can conclude:
//   ok        the reply is not an error: it took effect
//   failed    an error that proves nothing was written: the node was down (the
//             harness never sent it), WRONGTYPE, or a read quorum that failed
//             before the transaction wrote anything (NOQUORUM read)
//   unknown   any other error (NOQUORUM write, a forward nobody answered): the
//             write may have been stored on some replicas, and may surface later
import type { Random } from '../../lib/runtime/random.js'
import type { Reply } from '../../lib/resp/reply.js'
import { prefixEnd } from '../../lib/node/keys.js'
import { keyHash } from '../../lib/ring/hash.js'
import type { SimCluster } from './harness.js'
import { quiesce, replyText } from './checkers.js'

export type Outcome = 'ok' | 'failed' | 'unknown'

export interface Op {
  node: string
  args: string[]
  /** Virtual time of the invocation and of the reply (ms). */
  invokedMs: number
  doneMs: number
  /** The order of the invocation and of the reply among all of the log's (virtual milliseconds tie). */
  invokedSeq: number
  doneSeq: number
  outcome: Outcome
  reply: Reply
}

export function outcomeOf (reply: Reply): Outcome {
  if (reply.type !== 'error') return 'ok'
  if (/^ERR node\S+ is down$/.test(reply.value) || reply.value.startsWith('WRONGTYPE') || reply.value.startsWith('NOQUORUM read')) return 'failed'
  return 'unknown'
}

/** When an operation may last have taken effect: its reply, or (outcome unknown) any time. */
export function latestEffectMs (op: Op): number {
  return op.outcome === 'unknown' ? Infinity : op.doneMs
}

/** latestEffectMs in the log's order of events: its reply, or (outcome unknown) any time. */
export function latestEffectSeq (op: Op): number {
  return op.outcome === 'unknown' ? Infinity : op.doneSeq
}

export class OpLog {
  readonly ops: Op[] = []
  private seq = 0

  /** Sends a client command to `node` and records it once its reply comes. */
  async run (c: SimCluster, node: string, ...args: string[]): Promise<Op> {
    const invokedMs = c.clock.now()
    const invokedSeq = ++this.seq
    const reply = await c.send(node, ...args)
    const op: Op = { node, args, invokedMs, doneMs: c.clock.now(), invokedSeq, doneSeq: ++this.seq, outcome: outcomeOf(reply), reply }
    this.ops.push(op)
    return op
  }

  count (outcome: Outcome): number {
    return this.ops.filter(o => o.outcome === outcome).length
  }

  summary (): string {
    return `${this.ops.length} ops: ${this.count('ok')} ok, ${this.count('unknown')} unknown, ${this.count('failed')} failed`
  }
}

export interface Shape {
  nodes: number
  r: number
  w: number
  /** A crash comes back wiped (not with W=1, where an acknowledged write may live on one node alone). */
  wipe: boolean
}

/** Cluster shapes, by seed: W=2/R=2 on 3 and 5 nodes (with a wiped replica), W=1/R=1 on 4 (crashes, no wipe). */
export function shapeOf (seed: number): Shape {
  return [{ nodes: 3, r: 2, w: 2, wipe: true }, { nodes: 5, r: 2, w: 2, wipe: true }, { nodes: 4, r: 1, w: 1, wipe: false }][seed % 3]
}

/** A client's think time: resolves after ms of virtual time. */
export function pause (c: SimCluster, ms: number): Promise<void> {
  return new Promise(resolve => c.clock.after(ms, resolve))
}

/** A client: up to n steps while going(), each followed by a pause of minMs plus up to spreadMs. */
export async function client (c: SimCluster, rnd: Random, n: number, going: () => boolean, minMs: number, spreadMs: number, step: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n && going(); i++) {
    await step()
    await pause(c, minMs + rnd.int(spreadMs))
  }
}

export function pick<T> (rnd: Random, items: readonly T[]): T {
  return items[rnd.int(items.length)]
}

export interface FaultPlan {
  /** Fault episodes, one after another. */
  steps: number
  /** One of the crashes comes back with a wiped data directory (never with W=1: its writes may be on it alone). */
  wipe: boolean
  /** Quiet time between episodes (ms). */
  gapMs: number
}

/**
 * A seeded schedule of fault episodes: one node isolated, the cluster cut in two,
 * a crash and restart (one of them wiped when plan.wipe), a lossy and slow
 * network. Returns a description of what happened, for failure messages.
 */
export async function faultSchedule (c: SimCluster, rnd: Random, plan: FaultPlan, going: () => boolean): Promise<string[]> {
  const names = c.names
  const done: string[] = []
  const wipeAt = plan.wipe ? rnd.int(plan.steps) : -1
  for (let step = 0; step < plan.steps && going(); step++) {
    await c.run(plan.gapMs)
    const victim = pick(rnd, names)
    const kind = step === wipeAt ? 2 : rnd.int(4)
    const lengthMs = 300 + rnd.int(700)
    switch (kind) {
      case 0:
        done.push(`${c.clock.now()} isolate ${victim} ${lengthMs}ms`)
        c.net.isolate(victim)
        await c.run(lengthMs)
        c.net.heal()
        break
      case 1: {
        const shuffled = names.slice().sort(() => rnd.next() - 0.5)
        const cut = 1 + rnd.int(names.length - 1)
        done.push(`${c.clock.now()} partition ${shuffled.slice(0, cut).join(',')} | ${shuffled.slice(cut).join(',')} ${lengthMs}ms`)
        c.net.partition(shuffled.slice(0, cut), shuffled.slice(cut))
        await c.run(lengthMs)
        c.net.heal()
        break
      }
      case 2: {
        if (c.running().length < names.length) break
        const wipe = step === wipeAt
        done.push(`${c.clock.now()} crash ${victim}${wipe ? ' (wiped)' : ''} ${lengthMs}ms`)
        c.crash(victim)
        await c.run(lengthMs)
        await c.restart(victim, { wipe })
        break
      }
      case 3: {
        done.push(`${c.clock.now()} lossy network ${lengthMs}ms`)
        const saved = [c.net.dropProbability, c.net.duplicateProbability, c.net.delayMsMax]
        c.net.dropProbability = 0.05
        c.net.duplicateProbability = 0.05
        c.net.delayMsMax = 40
        await c.run(lengthMs)
        ;[c.net.dropProbability, c.net.duplicateProbability, c.net.delayMsMax] = saved
        break
      }
    }
  }
  return done
}

export interface Workload {
  /** A crash comes back wiped. */
  wipe: boolean
  /** Concurrent writing clients, and the steps each takes at most. */
  writers: number
  steps: number
  write: () => Promise<unknown>
  /** One reading client's step (40 of them). */
  read: () => Promise<unknown>
  /** Writers stop early once this is false. */
  more?: () => boolean
}

/**
 * Writers and a reader through random nodes on a slightly lossy network while
 * six fault episodes run; then everything heals and the replicas converge.
 * Returns what the fault schedule did.
 */
export async function underFaults (c: SimCluster, rnd: Random, o: Workload): Promise<string[]> {
  let writing = true
  const going = (): boolean => writing
  c.net.dropProbability = 0.01
  c.net.delayMsMax = 15
  let faults: string[] = []
  const writers = Array.from({ length: o.writers }, () => client(c, rnd, o.steps, () => writing && (o.more?.() ?? true), 20, 150, o.write))
  await drive(c, [
    Promise.all(writers).finally(() => { writing = false }),
    client(c, rnd, 40, going, 50, 100, o.read),
    faultSchedule(c, rnd, { steps: 6, wipe: o.wipe, gapMs: 300 }, going).then(f => { faults = f })
  ])
  await healAll(c)
  return faults
}

/** Runs virtual time until every promise settled (bounded), then awaits them. */
export async function drive (c: SimCluster, work: Array<Promise<unknown>>, maxMs = 120_000): Promise<void> {
  let done = false
  const all = Promise.all(work)
  all.finally(() => { done = true }).catch(() => {})
  for (let ms = 0; !done && ms < maxMs; ms += 50) await c.run(50)
  if (!done) throw new Error(`the workload did not finish within ${maxMs} ms of virtual time`)
  await all
}

/** Heals the network, restarts every crashed node, and runs handoff and anti-entropy until the replicas agree. */
export async function healAll (c: SimCluster): Promise<void> {
  c.net.heal()
  c.net.dropProbability = 0
  c.net.duplicateProbability = 0
  c.net.delayMsMax = 5
  for (const n of c.names) if (!c.running().includes(n)) await c.restart(n)
  await c.converge()
  await quiesce(c)
}

/** A node's stored records of a client key (key record and element records), hex storage key → hex bytes. */
export async function storedRecords (c: SimCluster, name: string, key: string): Promise<Map<string, string>> {
  const node = c.node(name)
  await c.settle(node.local.engine.flushed())
  const prefix = keyHash(Buffer.from(key))
  const rows = await c.settle(node.store.range('data', { gte: prefix, lt: prefixEnd(prefix), limit: 100_000 }))
  return new Map(rows.map(([k, v]) => [k.toString('hex'), v.toString('hex')]))
}

/** The primaries of a key (from the ring of the first running node). */
export function primariesOf (c: SimCluster, key: string): readonly string[] {
  const node = c.node(c.running()[0])
  return node.currentRing().preferenceList(node.ref(Buffer.from(key)).partition).primaries
}

/** The key's primaries in the ring of any running node (rings differ while a change spreads). */
export function primariesAnywhere (c: SimCluster, key: string): string[] {
  const out = new Set<string>()
  for (const n of c.running()) {
    const node = c.node(n)
    for (const p of node.currentRing().preferenceList(node.ref(Buffer.from(key)).partition).primaries) out.add(p)
  }
  return [...out]
}

/** Byte-for-byte: every primary of the key holds exactly the same records with the same bytes. */
export async function replicaDifferences (c: SimCluster, key: string): Promise<string[]> {
  const primaries = primariesOf(c, key)
  const held = await Promise.all(primaries.map(async n => [n, [...await storedRecords(c, n, key)].sort().map(([k, v]) => `${k}=${v}`).join(' ')] as const))
  if (new Set(held.map(h => h[1])).size === 1) return []
  return [`${key}: replicas differ: ${held.map(([n, h]) => `${n} holds ${h === '' ? 0 : h.split(' ').length} records (${h.slice(0, 200)})`).join('; ')}`]
}

/** The same command through every running node: the replies, which must all agree. */
export async function everyNode (c: SimCluster, ...args: string[]): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = []
  for (const n of c.running()) out.push([n, canonical(await c.exec(n, ...args))])
  return out
}

/** A reply as text, arrays and maps flattened in their order. */
export function canonical (r: Reply): string {
  switch (r.type) {
    case 'array':
    case 'set':
      return `[${r.value.map(canonical).join(',')}]`
    case 'map':
      return `{${r.value.map(([k, v]) => `${canonical(k)}:${canonical(v)}`).join(',')}}`
    case 'int':
    case 'double':
    case 'bool':
      return String(r.value)
    case 'null':
    case 'nullarray':
      return 'nil'
    default:
      return replyText(r)
  }
}

/** Disagreements between the nodes' answers to one command. */
export async function disagreements (c: SimCluster, ...args: string[]): Promise<string[]> {
  const replies = await everyNode(c, ...args)
  if (new Set(replies.map(r => r[1])).size <= 1) return []
  return [`${args.join(' ')} differs between nodes: ${replies.map(([n, r]) => `${n}=${r.slice(0, 200)}`).join(' ')}`]
}

/** Seeds to run: DYNAKV_SEED=<n> replays one; DYNAKV_SEEDS=a-b runs a range (for sweeps); else the defaults. */
export function seedsFrom (defaults: number[]): number[] {
  const one = process.env.DYNAKV_SEED
  if (one !== undefined) return [Number(one)]
  const range = process.env.DYNAKV_SEEDS?.match(/^(\d+)-(\d+)$/)
  if (range != null) return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i)
  return defaults
}

/** The balanced base-5 digits (−2…2) of v, lowest first; null when v needs more than `count` of them. */
export function balancedDigits (v: bigint, count: number): number[] | null {
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    let d = Number(((v % 5n) + 5n) % 5n)
    if (d > 2) d -= 5
    out.push(d)
    v = (v - BigInt(d)) / 5n
  }
  return v === 0n ? out : null
}
