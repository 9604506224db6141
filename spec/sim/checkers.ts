// Workloads and the correctness checkers of docs/design.md#correctness, for the simulator.
//
// Writers use PUT (it returns the writer's new context, from which the dot of
// the write is known: the one entry of the new context that the context sent
// did not cover). After the faults heal and anti-entropy has run:
//   1. no acknowledged write is lost: its dot is a sibling of the final object,
//      or some sibling's context covers it (it was superseded knowingly);
//   2. replicas converge: every primary of every partition has the same Merkle root;
//   3. a single writer that always writes with its last context never sees siblings
//      (checked for writers none of whose writes failed: a failed write may still
//      have been stored somewhere, an ambiguity no protocol can hide);
//   4. concurrent stale-context writers produce siblings, never silent loss
//      (both acknowledged values of a same-context pair stay, unless superseded).
import { decodeContext, covers, merge, type VObject, type Clock } from '../../lib/versioning/index.js'
import type { Reply } from '../../lib/resp/reply.js'
import type { SimCluster } from './harness.js'

export interface Ack {
  key: string
  value: string | null
  /** The dot of the acknowledged write. */
  actor: string
  counter: number
  /** The context the write was sent with (for same-context pairs). */
  sentContext: string
}

export function dotOf (sent: Clock, received: Clock): { actor: string, counter: number } {
  for (const [actor, e] of received) {
    if ((sent.get(actor)?.counter ?? 0) < e.counter) return { actor, counter: e.counter }
  }
  throw new Error('the returned context adds no dot to the one sent')
}

export function replyText (r: Reply): string {
  if (r.type === 'bulk') return Buffer.isBuffer(r.value) ? r.value.toString() : r.value
  if (r.type === 'simple' || r.type === 'error') return r.value
  return JSON.stringify(r)
}

/** GETCTX's [context, [values]] as JS values. */
export function ctxReply (r: Reply): { context: string, values: string[] } | null {
  if (r.type !== 'array' || r.value.length !== 2) return null
  const [ctx, vals] = r.value
  if (vals.type !== 'array') return null
  return { context: replyText(ctx), values: vals.value.map(replyText) }
}

export class History {
  readonly acks: Ack[] = []
  failedWrites = 0
  /** Writers (by key) that saw an error at some point. */
  readonly troubled = new Set<string>()
  /** Writers (by key) that ever read more than one value. */
  readonly sawSiblings = new Set<string>()

  async put (c: SimCluster, node: string, key: string, context: string, value: string | null): Promise<string | null> {
    const reply = value === null ? await c.send(node, 'DELCTX', key, context) : await c.send(node, 'PUT', key, context, value)
    if (reply.type !== 'bulk') {
      this.failedWrites++
      this.troubled.add(key)
      return null
    }
    const next = replyText(reply)
    const dot = dotOf(decodeContext(context, key), decodeContext(next, key))
    this.acks.push({ key, value, ...dot, sentContext: context })
    return next
  }

  async read (c: SimCluster, node: string, key: string): Promise<{ context: string, values: string[] } | null> {
    const r = ctxReply(await c.send(node, 'GETCTX', key))
    if (r === null) this.troubled.add(key)
    else if (r.values.length > 1) this.sawSiblings.add(key)
    return r
  }
}

/** The merge of every running replica's own copy of a key (no quorum, no repair). */
export async function finalObject (c: SimCluster, key: string): Promise<VObject | undefined> {
  let out: VObject | undefined
  for (const name of c.running()) {
    const node = c.node(name)
    const found = node.local.read(node.ref(Buffer.from(key)))
    const obj = found instanceof Promise ? await c.settle(found) : found
    if (obj !== undefined) out = out === undefined ? obj : merge(out, obj)
  }
  return out
}

/** Checker 1: every acknowledged write is present or knowingly superseded. Returns the violations. */
export async function lostWrites (c: SimCluster, h: History): Promise<string[]> {
  const problems: string[] = []
  const finals = new Map<string, VObject | undefined>()
  for (const a of h.acks) {
    if (!finals.has(a.key)) finals.set(a.key, await finalObject(c, a.key))
    const obj = finals.get(a.key)
    const present = obj?.siblings.some(s => s.actor === a.actor && s.counter === a.counter &&
      (s.value === null ? a.value === null : s.value.toString() === a.value)) ?? false
    const superseded = obj?.siblings.some(s => covers(s.ctx, a.actor, a.counter)) ?? false
    if (!present && !superseded) problems.push(`${a.key}: acknowledged ${a.value === null ? 'delete' : `'${a.value}'`} (${a.actor}:${a.counter}) is lost`)
  }
  return problems
}

/** Checker 2: every primary of every partition has the same (ready) Merkle root. */
export function divergentPartitions (c: SimCluster): string[] {
  const names = c.running()
  const ring = c.node(names[0]).currentRing()
  const problems: string[] = []
  for (let p = 0; p < ring.partitions; p++) {
    const roots = ring.preferenceList(p).primaries.map(n => [n, names.includes(n) ? c.node(n).antiEntropy.root(p) : 'down'])
    if (new Set(roots.map(r => r[1])).size !== 1 || roots.some(r => r[1] === null)) problems.push(`partition ${p}: ${roots.map(r => `${r[0]}=${r[1]}`).join(' ')}`)
  }
  return problems
}

/** Checker 3: writers that never failed never saw siblings, and their keys end with one version. */
export async function singleWriterSiblings (c: SimCluster, h: History, keys: string[]): Promise<string[]> {
  const problems: string[] = []
  for (const k of keys) {
    if (h.troubled.has(k)) continue
    if (h.sawSiblings.has(k)) problems.push(`${k}: a single writer read siblings`)
    const obj = await finalObject(c, k)
    if (obj !== undefined && obj.siblings.length > 1) problems.push(`${k}: a single writer's key ends with ${obj.siblings.length} siblings`)
  }
  return problems
}

/** Checker 4: two acknowledged writes sent with the same context both stay unless a later write covers them. */
export async function silentLoss (c: SimCluster, h: History): Promise<string[]> {
  const problems: string[] = []
  const byKeyCtx = new Map<string, Ack[]>()
  for (const a of h.acks) {
    const k = `${a.key}\u0000${a.sentContext}`
    byKeyCtx.set(k, [...(byKeyCtx.get(k) ?? []), a])
  }
  for (const group of byKeyCtx.values()) {
    if (group.length < 2) continue
    const obj = await finalObject(c, group[0].key)
    for (const a of group) {
      const present = obj?.siblings.some(s => s.actor === a.actor && s.counter === a.counter) ?? false
      const superseded = obj?.siblings.some(s => covers(s.ctx, a.actor, a.counter)) ?? false
      if (!present && !superseded) problems.push(`${a.key}: concurrent write ${a.actor}:${a.counter} silently lost`)
    }
  }
  return problems
}

/** Runs anti-entropy rounds on every node until replicas agree (bounded). */
export async function quiesce (c: SimCluster, roundsMax = 30): Promise<void> {
  for (let i = 0; i < roundsMax; i++) {
    await c.run(500)
    for (const n of c.running()) {
      await c.settle(c.node(n).handoff.round())
      await c.settle(c.node(n).antiEntropy.round())
    }
    if (divergentPartitions(c).length === 0) return
  }
}
