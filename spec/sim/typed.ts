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
import { seededRandom, type Random } from '../../lib/runtime/random.js'
import type { Reply } from '../../lib/resp/reply.js'
import { prefixEnd } from '../../lib/node/keys.js'
import { keyHash } from '../../lib/ring/hash.js'
import type { SimCluster } from './harness.js'
import { quiesce, replyText } from './checkers.js'
import { describeFault, planSchedule, type FaultEvent, type Schedule, type SchedulePlan } from './schedule.js'

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
export async function client (c: SimCluster, rnd: Random, n: number, going: () => boolean, minMs: number, spreadMs: number, step: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n && going(); i++) {
    await step(i)
    await pause(c, minMs + rnd.int(spreadMs))
  }
}

export function pick<T> (rnd: Random, items: readonly T[]): T {
  return items[rnd.int(items.length)]
}

const READER_STEPS = 40

/** The schedule plan of the typed scenarios: six fault episodes 300 ms apart on a slightly lossy network, 40 reads. */
export function typedPlan (nodes: readonly string[], o: { wipe: boolean, writers: number, steps: number, skewMs?: number, scripted?: string[] }): SchedulePlan {
  return { nodes, episodes: 6, gapMs: 300, wipe: o.wipe, writers: o.writers, steps: o.steps, readerSteps: READER_STEPS, net: { dropPermille: 10, duplicatePermille: 0, delayMsMax: 15 }, skewMs: o.skewMs ?? 0, scripted: o.scripted }
}

/** A seed's schedule under a plan, drawn from its own stream (not the workload's: dropping a fault leaves the workload's draws alone). */
export function scheduleOf (seed: number, plan: SchedulePlan): Schedule {
  return planSchedule(seededRandom((seed ^ 0x5c4ed01e) >>> 0), plan)
}

/** Resolves after ms of virtual time, or as soon as stop resolves. */
function pauseUnless (c: SimCluster, ms: number, stop: Promise<void>): Promise<void> {
  return Promise.race([pause(c, ms), stop])
}

/**
 * Runs the fault episodes of a schedule, one after another, each at its atMs
 * after start (or once the previous one ended), until stop resolves. Returns
 * the episodes it ran and what they did, for failure messages.
 */
export async function runFaults (c: SimCluster, faults: readonly FaultEvent[], stop: Promise<void>): Promise<{ ran: FaultEvent[], done: string[] }> {
  const startMs = c.clock.now()
  let stopped = false
  stop.then(() => { stopped = true }, () => {})
  const ran: FaultEvent[] = []
  const done: string[] = []
  for (const f of faults) {
    const waitMs = startMs + f.atMs - c.clock.now()
    if (waitMs > 0) await pauseUnless(c, waitMs, stop)
    if (stopped) break
    if (f.kind === 'crash' && c.running().length < c.names.length) continue
    ran.push(f)
    done.push(`${c.clock.now()} ${describeFault(f).replace(/^\+\d+ms /, '')}`)
    switch (f.kind) {
      case 'isolate':
        c.net.isolate(f.node)
        await pause(c, f.lengthMs)
        c.net.heal()
        break
      case 'partition':
        c.net.partition(f.sides[0], f.sides[1])
        await pause(c, f.lengthMs)
        c.net.heal()
        break
      case 'crash':
        c.crash(f.node)
        await pause(c, f.lengthMs)
        await c.restart(f.node, { wipe: f.wipe })
        break
      case 'lossy': {
        const saved = [c.net.dropProbability, c.net.duplicateProbability, c.net.delayMsMax]
        c.net.dropProbability = 0.05
        c.net.duplicateProbability = 0.05
        c.net.delayMsMax = 40
        await pause(c, f.lengthMs)
        ;[c.net.dropProbability, c.net.duplicateProbability, c.net.delayMsMax] = saved
        break
      }
    }
  }
  return { ran, done }
}

export interface Workload {
  /** What runs: the fault episodes, the operations, the background network (scheduleOf draws one from a seed). */
  schedule: Schedule
  /** Concurrent writing clients, and the steps each takes at most. */
  writers: number
  steps: number
  write: () => Promise<unknown>
  /** One reading client's step (READER_STEPS of them). */
  read: () => Promise<unknown>
  /** Writers stop early once this is false. */
  more?: () => boolean
}

export interface Executed {
  /** What the fault episodes did, for failure messages. */
  faults: string[]
  /** The part of the schedule that ran (episodes and client steps reached; the scenario's scripted steps kept): replaying it is the same run. */
  schedule: Schedule
}

/**
 * Writers and a reader through random nodes on the schedule's background
 * network while its fault episodes run; then everything heals and the
 * replicas converge. A client's step missing from schedule.ops is skipped (its
 * pause is kept).
 */
export async function underFaults (c: SimCluster, rnd: Random, o: Workload): Promise<Executed> {
  const s = o.schedule
  let writing = true
  const going = (): boolean => writing
  c.net.dropProbability = s.net.dropPermille / 1000
  c.net.duplicateProbability = s.net.duplicatePermille / 1000
  c.net.delayMsMax = s.net.delayMsMax
  const wanted = new Set(s.ops)
  const ranOps = new Set<string>()
  const steps = (client: string, step: () => Promise<unknown>) => async (i: number): Promise<void> => {
    const id = `${client}.${i}`
    if (!wanted.has(id)) return
    ranOps.add(id)
    await step()
  }
  let stopWriters = (): void => {}
  const stop = new Promise<void>(resolve => { stopWriters = resolve })
  let ran: Awaited<ReturnType<typeof runFaults>> = { ran: [], done: [] }
  const writers = Array.from({ length: o.writers }, (_, w) => client(c, rnd, o.steps, () => writing && (o.more?.() ?? true), 20, 150, steps(`w${w}`, o.write)))
  await drive(c, [
    Promise.all(writers).finally(() => { writing = false; stopWriters() }),
    client(c, rnd, READER_STEPS, going, 50, 100, steps('r', o.read)),
    runFaults(c, s.faults, stop).then(r => { ran = r })
  ])
  await healAll(c)
  return { faults: ran.done, schedule: { ...s, faults: ran.ran, ops: s.ops.filter(id => ranOps.has(id) || !/^(w\d+|r)\.\d+$/.test(id)) } }
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
