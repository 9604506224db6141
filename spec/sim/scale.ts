// The simulator at scale (issue 12): a k-node cluster of real nodes on virtual
// time, with the production timings (gossip 1 s, probes 500 ms, down after
// 2 s, handoff 1 s, anti-entropy 10 s). Measures
//   - building it (wall and CPU time) and each node's heap;
//   - a further join: virtual time and gossip rounds until every node knows
//     the new member, and the messages it cost; once as the protocol runs
//     (changes pushed to every member) and once with the periodic exchange
//     with one random peer alone (Gossip.eager off: the epidemic);
//   - `keys` keys loaded straight into the replicas' stores (see loadKeys),
//     then a partition into two halves with writes through the command layer
//     on both sides, then the heal: virtual time until hinted handoff and
//     anti-entropy leave no hint pending and every partition's primaries with
//     one Merkle root, and the repair traffic that took, against the number of
//     keys written while partitioned (the keys that differed).
// Every acknowledged write is then read back through both halves. Problems are
// returned, not thrown, so a spec can assert them and the CLI print them.
import { performance } from 'node:perf_hooks'
import { keyRef } from '../../lib/node/keys.js'
import type { MessageName } from '../../lib/peer/messages.js'
import type { WriteOp } from '../../lib/storage/store.js'
import { actorId, emptyObject, encodeObject, merge, put, type VObject } from '../../lib/versioning/index.js'
import { divergentPartitions, replyText } from './checkers.js'
import { SimCluster } from './harness.js'

export const PRODUCTION_TIMINGS = [
  '--gossip-interval-ms', '1000', '--probe-interval-ms', '500', '--down-after-ms', '2000',
  '--request-timeout-ms', '2000', '--handoff-interval-ms', '1000', '--ae-interval-ms', '10000',
  '--ae-leaves', '1024', '--read-repair-wait-ms', '100'
]
const GOSSIP_INTERVAL_MS = 1000

export interface ScaleOptions {
  nodes: number
  seed: number
  /** Keys loaded before the partition. */
  keys: number
  partitions?: number
  valueBytes?: number
  /** How long the two halves are cut apart (virtual ms). */
  partitionMs?: number
  /** SETs per virtual second on each side during the partition, each to a different key. */
  writesPerSecond?: number
  /** Bound on the virtual time given to convergence after the heal. */
  convergeMsMax?: number
  /** How the k nodes form the cluster (SimOptions.build; default 'joins'). */
  build?: 'joins' | 'view'
  /** Measure the join with the epidemic alone too (default true). */
  epidemic?: boolean
  /** More server flags for every node, after PRODUCTION_TIMINGS. */
  args?: string[]
  /** Progress lines. */
  log?: (line: string) => void
}

export interface JoinFigures {
  /** Virtual ms from the join request until every node holds the new member's record. */
  agreeMs: number
  /** The same in gossip intervals (rounds). */
  rounds: number
  /** Virtual ms until every node has the same view, calls it converged and holds the new node as valid. */
  settledMs: number
  /** Membership messages (JOIN, GOSSIP and their answers) until agreement, and their bytes. */
  messages: number
  bytes: number
  /** Heartbeats (PING, PONG) meanwhile. */
  heartbeats: number
}

export interface ScaleFigures {
  nodes: number
  build: { wallMs: number, cpuMs: number, virtualMs: number }
  heapPerNodeBytes: number
  join: JoinFigures
  /** The same join with Gossip.eager off on every node: the periodic exchange with one random peer alone (null: not measured). */
  epidemic: JoinFigures | null
  load: { keys: number, wallMs: number, heapPerNodeBytes: number }
  partition: {
    ms: number
    writes: number
    acked: number
    /** Acknowledged writes made on each side. */
    ackedBySide: [number, number]
    failed: number
    /** Hints held at the heal, over all nodes. */
    hintsAtHeal: number
  }
  converge: {
    /** Virtual ms from the heal until no hint is pending and every partition's primaries have one root; null: not within convergeMsMax. */
    virtualMs: number | null
    wallMs: number
    hintsDelivered: number
    aeKeysRepaired: number
    aeBytes: number
    /** Peer bytes of handoff and anti-entropy (requests and answers) after the heal. */
    repairBytes: number
    /** Every peer byte after the heal, heartbeats and gossip included. */
    peerBytes: number
    /** What copying every replica of the written keys once would take (key + object bytes). */
    writtenKeysCopyBytes: number
    /** What copying every replica of every loaded key once would take: a repair that resent the data. */
    loadedKeysCopyBytes: number
  }
  problems: string[]
}

const MEMBERSHIP_TYPES: readonly MessageName[] = ['JOIN', 'GOSSIP', 'MEMBERSHIP']
const HEARTBEAT_TYPES: readonly MessageName[] = ['PING', 'PONG']
const REPAIR_TYPES: readonly MessageName[] = [
  'HANDOFF_BATCH', 'MERKLE_ROOTS', 'ROOTS', 'MERKLE_NODES', 'NODES', 'KEY_DIGESTS', 'DIGESTS', 'FETCH_OBJECTS', 'OBJECTS'
]

/** Messages and bytes sent so far, per type. */
function traffic (c: SimCluster): Map<MessageName, { messages: number, bytes: number }> {
  return new Map([...c.net.sentByType].map(([t, v]) => [t, { ...v }]))
}

function since (c: SimCluster, before: Map<MessageName, { messages: number, bytes: number }>, types?: readonly MessageName[]): { messages: number, bytes: number } {
  let messages = 0
  let bytes = 0
  for (const [t, v] of c.net.sentByType) {
    if (types !== undefined && !types.includes(t)) continue
    messages += v.messages - (before.get(t)?.messages ?? 0)
    bytes += v.bytes - (before.get(t)?.bytes ?? 0)
  }
  return { messages, bytes }
}

function cpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Heap in use after a full collection when the process runs with --expose-gc (else as it is). */
function heapUsed (): number {
  (globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed
}

/** Every node has the same view, calls it converged, and holds `name` as valid. */
function settled (c: SimCluster, name: string): boolean {
  const nodes = c.running().map(n => c.node(n))
  const digest = nodes[0].membership.digest()
  return nodes.every(n => n.membership.digest() === digest && n.gossip.converged() && n.membership.get(name)?.status === 'valid')
}

/** Adds `name` and measures how its join spreads (eager: as the protocol runs; else the epidemic alone). */
export async function measureJoin (c: SimCluster, name: string, eager: boolean): Promise<JoinFigures> {
  for (const n of c.running()) c.node(n).gossip.eager = eager
  const before = traffic(c)
  const startMs = c.clock.now()
  await c.add(name, (node) => { node.gossip.eager = eager })
  const knows = (): boolean => c.running().every(n => c.node(n).membership.get(name) !== undefined)
  for (let t = 0; !knows() && t < 120_000; t += 10) await c.run(10)
  const agreeMs = c.clock.now() - startMs
  const gossip = since(c, before, MEMBERSHIP_TYPES)
  const heartbeats = since(c, before, HEARTBEAT_TYPES).messages
  for (const n of c.running()) c.node(n).gossip.eager = true
  for (let t = 0; !settled(c, name) && t < 120_000; t += 10) await c.run(10)
  return { agreeMs, rounds: agreeMs / GOSSIP_INTERVAL_MS, settledMs: c.clock.now() - startMs, messages: gossip.messages, bytes: gossip.bytes, heartbeats }
}

const LOADER = actorId('loader', '1')

function keyName (i: number): string {
  return `key:${String(i).padStart(7, '0')}`
}

/**
 * Loads keys 0 .. count-1 straight into the stores of each key's primaries, as
 * if one coordinator (actor `loader`, which never writes again) had written
 * them before the test: writing a million keys through the command layer
 * costs hours of wall time here. Then every node rebuilds its Merkle trees
 * from a scan, as after a restart.
 */
export async function loadKeys (c: SimCluster, count: number, valueBytes: number): Promise<void> {
  const first = c.node(c.running()[0])
  const ring = first.currentRing()
  const bits = first.partitionBits
  const pending = new Map<string, WriteOp[]>(c.running().map(n => [n, []]))
  const flush = async (name: string, ops: WriteOp[]): Promise<void> => {
    if (ops.length > 0) await c.node(name).store.write(ops.splice(0), false)
  }
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(keyName(i))
    const value = Buffer.alloc(valueBytes, key.toString() + ' ')
    const { obj } = put(emptyObject(), { actor: LOADER, context: new Map(), value, nowMs: 1, counterFloor: i })
    const bytes = encodeObject(obj)
    const ref = keyRef(key, bits)
    for (const p of ring.preferenceList(ref.partition).primaries) {
      const ops = pending.get(p) as WriteOp[]
      ops.push({ space: 'data', key: ref.skey, value: bytes })
      if (ops.length >= 10_000) await flush(p, ops)
    }
  }
  for (const [name, ops] of pending) await flush(name, ops)
  for (const n of c.running()) c.node(n).antiEntropy.rebuildAll()
  const ready = (): boolean => c.running().every(n => c.node(n).antiEntropy.readyTrees === c.node(n).antiEntropy.treeCount)
  for (let t = 0; !ready() && t < 600_000; t += 10) await c.run(10)
}

interface Written { key: string, value: string, side: number, acked: boolean }

/** SETs on both sides of a partition, each to a key not written before, at `rate` per second per side. */
async function partitionWithWrites (c: SimCluster, sides: [string[], string[]], keys: number, ms: number, rate: number): Promise<Written[]> {
  const rnd = c.net.forkRandom()
  const used = new Set<number>()
  const written: Written[] = []
  const replies: Array<Promise<void>> = []
  c.net.partition(sides[0], sides[1])
  const stepMs = 10
  let owed = 0
  for (let t = 0; t < ms; t += stepMs) {
    owed += rate * stepMs / 1000
    for (; owed >= 1; owed--) {
      for (const [s, side] of sides.entries()) {
        let i = rnd.int(keys)
        for (let tries = 0; used.has(i) && tries < 100; tries++) i = rnd.int(keys)
        if (used.has(i)) continue
        used.add(i)
        const w: Written = { key: keyName(i), value: `w${written.length}-side${s}`, side: s, acked: false }
        written.push(w)
        replies.push(c.send(side[rnd.int(side.length)], 'SET', w.key, w.value).then(r => { w.acked = r.type === 'simple' && r.value === 'OK' }))
      }
    }
    await c.run(stepMs)
  }
  await c.settle(Promise.all(replies))
  return written
}

/**
 * Reads every acknowledged write back through a node of each side, and from the
 * replicas' merged copies. All reads are issued at once and time runs until
 * the last answers: one read after another ran the heartbeats of 100 nodes
 * for a few virtual ms per read (2 s of CPU for 200 reads).
 */
async function unreadable (c: SimCluster, written: readonly Written[], sides: [string[], string[]]): Promise<string[]> {
  const problems: string[] = []
  const acked = written.filter(w => w.acked)
  const replies = await c.settle(Promise.all(acked.map(w => Promise.all(sides.map(side => c.send(side[0], 'GET', w.key))))))
  const copies = await c.settle(Promise.all(acked.map(w => replicaCopies(c, w.key))))
  for (const [i, w] of acked.entries()) {
    for (const [s, side] of sides.entries()) {
      const r = replies[i][s]
      if (r.type !== 'bulk' || replyText(r) !== w.value) problems.push(`${w.key}: acknowledged '${w.value}', GET at ${side[0]} gave ${replyText(r)}`)
    }
    if (!(copies[i]?.siblings.some(s => s.value?.toString() === w.value) ?? false)) problems.push(`${w.key}: acknowledged '${w.value}' is on no replica`)
  }
  return problems
}

/** The merge of every running node's own copy of a key (finalObject, with the reads issued at once). */
async function replicaCopies (c: SimCluster, key: string): Promise<VObject | undefined> {
  const found = await Promise.all(c.running().map(async (name) => {
    const node = c.node(name)
    return await node.local.read(node.ref(Buffer.from(key)))
  }))
  let out: VObject | undefined
  for (const obj of found) if (obj !== undefined) out = out === undefined ? obj : merge(out, obj)
  return out
}

export async function runScale (o: ScaleOptions): Promise<ScaleFigures> {
  const log = o.log ?? (() => {})
  const partitions = o.partitions ?? 256
  const valueBytes = o.valueBytes ?? 100
  const partitionMs = o.partitionMs ?? 60_000
  const rate = o.writesPerSecond ?? 50
  const problems: string[] = []

  const heap0 = heapUsed()
  const wall0 = performance.now()
  const cpu0 = cpuMs()
  const c = await SimCluster.create({ seed: o.seed, nodes: o.nodes, partitions, build: o.build, args: [...PRODUCTION_TIMINGS, ...(o.args ?? [])] })
  try {
    const build = { wallMs: performance.now() - wall0, cpuMs: cpuMs() - cpu0, virtualMs: c.clock.now() }
    const heapPerNodeBytes = (heapUsed() - heap0) / o.nodes
    log(`built ${o.nodes} nodes: ${(build.wallMs / 1000).toFixed(1)} s wall, ${(build.cpuMs / 1000).toFixed(1)} s CPU, ${build.virtualMs} ms virtual; heap ${(heapPerNodeBytes / 1e6).toFixed(2)} MB per node`)

    const join = await measureJoin(c, `node${o.nodes + 1}`, true)
    log(`join (push to all): every node knows it after ${join.agreeMs} ms virtual (${join.rounds.toFixed(2)} rounds), ${join.messages} membership messages (${join.bytes} bytes), settled after ${join.settledMs} ms`)
    const epidemic = o.epidemic === false ? null : await measureJoin(c, `node${o.nodes + 2}`, false)
    if (epidemic !== null) log(`join (epidemic alone): every node knows it after ${epidemic.agreeMs} ms virtual (${epidemic.rounds.toFixed(2)} rounds), ${epidemic.messages} membership messages (${epidemic.bytes} bytes)`)
    const names = c.running()
    for (const j of [join, epidemic]) {
      if (j !== null && j.settledMs >= 120_000) problems.push(`a join did not settle everywhere within 120 s (every node knew it after ${j.agreeMs} ms)`)
    }

    const heap1 = heapUsed()
    const loadWall0 = performance.now()
    await loadKeys(c, o.keys, valueBytes)
    const load = { keys: o.keys, wallMs: performance.now() - loadWall0, heapPerNodeBytes: (heapUsed() - heap1) / names.length }
    log(`loaded ${o.keys} keys in ${(load.wallMs / 1000).toFixed(1)} s wall; heap +${(load.heapPerNodeBytes / 1e6).toFixed(2)} MB per node`)
    await c.run(GOSSIP_INTERVAL_MS)
    problems.push(...divergentPartitions(c).slice(0, 10).map(p => `after loading: ${p}`))

    const half = Math.floor(names.length / 2)
    const sides: [string[], string[]] = [names.slice(0, half), names.slice(half)]
    const written = await partitionWithWrites(c, sides, o.keys, partitionMs, rate)
    const hintsAtHeal = names.reduce((n, x) => n + c.node(x).local.hintsPendingTotal(), 0)
    const acked = (side: number): number => written.filter(w => w.acked && w.side === side).length
    const partition = { ms: partitionMs, writes: written.length, acked: acked(0) + acked(1), ackedBySide: [acked(0), acked(1)] as [number, number], failed: written.filter(w => !w.acked).length, hintsAtHeal }
    log(`partitioned ${partitionMs} ms: ${partition.writes} writes (${partition.acked} acknowledged), ${hintsAtHeal} hints held at the heal`)

    const stats = (): { hints: number, ae: number, aeBytes: number } => names.reduce((s, x) => {
      const n = c.node(x)
      return { hints: s.hints + n.handoff.stats.hintsDelivered, ae: s.ae + n.antiEntropy.stats.keysRepaired, aeBytes: s.aeBytes + n.antiEntropy.stats.bytesSent + n.antiEntropy.stats.bytesReceived }
    }, { hints: 0, ae: 0, aeBytes: 0 })
    const before = stats()
    const sent = traffic(c)
    const convergeWall0 = performance.now()
    c.net.heal()
    const healedAt = c.clock.now()
    const maxMs = o.convergeMsMax ?? 300_000
    const converged = (): boolean => names.every(x => c.node(x).local.hintsPendingTotal() === 0) && divergentPartitions(c).length === 0
    let virtualMs: number | null = null
    for (let t = 0; t <= maxMs; t += 250) {
      if (converged()) {
        virtualMs = c.clock.now() - healedAt
        break
      }
      await c.run(250)
    }
    const after = stats()
    const repair = since(c, sent, REPAIR_TYPES)
    const objectBytes = encodeObject(put(emptyObject(), { actor: LOADER, context: new Map(), value: Buffer.alloc(valueBytes), nowMs: 1 }).obj).length
    const convergeFigures = {
      virtualMs,
      wallMs: performance.now() - convergeWall0,
      hintsDelivered: after.hints - before.hints,
      aeKeysRepaired: after.ae - before.ae,
      aeBytes: after.aeBytes - before.aeBytes,
      repairBytes: repair.bytes,
      peerBytes: since(c, sent).bytes,
      writtenKeysCopyBytes: written.length * 3 * (keyName(0).length + 17 + objectBytes),
      loadedKeysCopyBytes: o.keys * 3 * (keyName(0).length + 17 + objectBytes)
    }
    log(`converged ${virtualMs === null ? 'NOT' : `after ${virtualMs} ms virtual`} (${(convergeFigures.wallMs / 1000).toFixed(1)} s wall): ${convergeFigures.hintsDelivered} hints delivered, ${convergeFigures.aeKeysRepaired} keys repaired by anti-entropy, repair traffic ${convergeFigures.repairBytes} bytes`)
    if (virtualMs === null) {
      problems.push(`replicas did not converge within ${maxMs} ms of the heal`)
      problems.push(...divergentPartitions(c).slice(0, 10))
    }
    problems.push(...(await unreadable(c, written, sides)).slice(0, 20))
    return { nodes: o.nodes, build, heapPerNodeBytes, join, epidemic, load, partition, converge: convergeFigures, problems }
  } finally {
    await c.stop()
  }
}
