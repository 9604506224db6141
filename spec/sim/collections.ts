// The collections workload and checker for the simulator (docs/types.md
// "Collections"): sets, hashes and sorted sets written through random nodes
// while faults run, each element drawn from a small pool so that it is added
// and removed many times.
//
// The rule checked (observed-remove: "a remove removes only the adds it saw"):
//
//   An element is present after healing if some acknowledged add of it
//   (SADD, HSET, ZADD, ZINCRBY) has no remove of it (SREM, HDEL, ZREM) that
//   could have observed it. A remove can only observe an add whose write
//   existed when the remove's coordinator read, so a remove that had replied
//   before the add was invoked (in the log's order of invocations and replies:
//   virtual milliseconds tie) cannot have seen it; a remove with an unknown
//   outcome may have run at any time. (A remove invoked after the add may
//   still have missed it — sloppy quorums — so nothing is required of those.)
//
//   No element is ever seen (during the run or after) unless an add of it that
//   did not fail had been invoked by then; a hash field's value is one some
//   HSET of it wrote; a member's score is k·5^20 + Σ ±5^j where k is 0 or the
//   id of a ZADD of that member, and each ZINCRBY j of that member counts at
//   most once; and exactly once if acknowledged and no ZADD or ZREM of the
//   member could have observed it (those replace the increments they saw).
import type { Random } from '../../lib/runtime/random.js'
import type { Reply } from '../../lib/resp/reply.js'
import type { SimCluster } from './harness.js'
import { replyText } from './checkers.js'
import { OpLog, balancedDigits, disagreements, latestEffectSeq, pick, replicaDifferences, type Op } from './typed.js'

export type Kind = 'set' | 'hash' | 'zset'

const ZADD_UNIT = 5 ** 20
const ZINCR_SLOTS = 20
const ZADD_IDS = 80 // 80 · 5^20 < 2^53: scores stay exact doubles

interface Event {
  key: string
  element: string
  add: boolean
  invokedMs: number
  op: Op | null
  /** HSET: the value written; ZADD: the id (score / 5^20); ZINCRBY: slot and sign. */
  value?: string
  zaddId?: number
  incr?: { slot: number, sign: 1 | -1 }
}

/** A collection as one read saw it: element → value (hash), score (zset) or '' (set). */
interface Seen {
  key: string
  elements: Map<string, string>
  /** The read's reply in the log's order of events (Infinity: the final read). */
  doneSeq: number
  what: string
}

export const KINDS: Record<Kind, { add: string, remove: string, read: (key: string) => string[] }> = {
  set: { add: 'SADD', remove: 'SREM', read: key => ['SMEMBERS', key] },
  hash: { add: 'HSET', remove: 'HDEL', read: key => ['HGETALL', key] },
  zset: { add: 'ZADD', remove: 'ZREM', read: key => ['ZRANGE', key, '0', '-1', 'WITHSCORES'] }
}

/** A score as k·5^20 + Σ d_j·5^j (balanced digits); null when it is not one. */
function scoreParts (text: string): { id: number, digits: number[] } | null {
  const score = Number(text)
  if (!Number.isSafeInteger(score)) return null
  const id = Math.round(score / ZADD_UNIT)
  const digits = balancedDigits(BigInt(score - id * ZADD_UNIT), ZINCR_SLOTS)
  return digits === null ? null : { id, digits }
}

function kindOf (key: string): Kind {
  return key.startsWith('s') ? 'set' : key.startsWith('h') ? 'hash' : 'zset'
}

/** A read's reply as element → value. */
function parseRead (kind: Kind, r: Reply): Map<string, string> | null {
  if (r.type !== 'array') return null
  const items = r.value.map(v => v.type === 'double' ? String(v.value) : replyText(v))
  const out = new Map<string, string>()
  if (kind === 'set') for (const m of items) out.set(m, '')
  else for (let i = 0; i + 1 < items.length; i += 2) out.set(items[i], items[i + 1])
  return out
}

export class CollectionHistory {
  readonly log = new OpLog()
  readonly events: Event[] = []
  readonly seen: Seen[] = []
  readonly problems: string[] = []
  /** What checkFinal read of each key. */
  readonly finals = new Map<string, Map<string, string>>()
  /** Elements the rule required to be present after healing. */
  required = 0
  /** Acknowledged ZINCRBYs the final scores had to count. */
  increments = 0
  private readonly zaddIds = new Map<string, number>()
  private readonly zincrSlots = new Map<string, number>()
  private uid = 0

  constructor (readonly keys: string[], readonly pool: string[]) {}

  /** One random write through a random running node. */
  async write (c: SimCluster, rnd: Random): Promise<void> {
    const key = pick(rnd, this.keys)
    const kind = kindOf(key)
    const element = pick(rnd, this.pool)
    const node = pick(rnd, c.running())
    const ev: Event = { key, element, add: rnd.next() < 0.65, invokedMs: 0, op: null }
    let args: string[]
    if (!ev.add) args = [KINDS[kind].remove, key, element]
    else if (kind === 'set') args = ['SADD', key, element]
    else if (kind === 'hash') {
      ev.value = `${element}-v${this.uid++}`
      args = ['HSET', key, element, ev.value]
    } else {
      const slot = this.zincrSlots.get(key) ?? 0
      const id = (this.zaddIds.get(key) ?? 0) + 1
      if ((rnd.next() < 0.4 && slot < ZINCR_SLOTS) || id > ZADD_IDS) {
        if (slot >= ZINCR_SLOTS) return
        this.zincrSlots.set(key, slot + 1)
        ev.incr = { slot, sign: rnd.next() < 0.7 ? 1 : -1 }
        args = ['ZINCRBY', key, String(ev.incr.sign * 5 ** slot), element]
      } else {
        this.zaddIds.set(key, id)
        ev.zaddId = id
        args = ['ZADD', key, String(id * ZADD_UNIT), element]
      }
    }
    await this.issue(c, node, ev, args)
  }

  /** SADD (add) or SREM of one member of a set key through node. */
  async member (c: SimCluster, node: string, key: string, element: string, add: boolean): Promise<Op> {
    return await this.issue(c, node, { key, element, add, invokedMs: c.clock.now(), op: null }, [add ? 'SADD' : 'SREM', key, element])
  }

  private async issue (c: SimCluster, node: string, ev: Event, args: string[]): Promise<Op> {
    ev.invokedMs = c.clock.now()
    this.events.push(ev)
    const op = ev.op = await this.log.run(c, node, ...args)
    if (op.reply.type === 'error' && op.outcome === 'failed' && !op.reply.value.startsWith('NOQUORUM read') && !/is down$/.test(op.reply.value)) {
      this.problems.push(`${args.join(' ')} via ${node}: ${op.reply.value}`)
    }
    return op
  }

  /** One read of a random key through a random running node (checked at the end). */
  async read (c: SimCluster, rnd: Random): Promise<void> {
    const key = pick(rnd, this.keys)
    const op = await this.log.run(c, pick(rnd, c.running()), ...KINDS[kindOf(key)].read(key))
    this.observe(key, op.reply, op.doneSeq, `${op.args.join(' ')} via ${op.node} at ${op.doneMs}`)
  }

  observe (key: string, reply: Reply, doneSeq: number, what: string): void {
    if (reply.type === 'error') return
    const elements = parseRead(kindOf(key), reply)
    if (elements === null) this.problems.push(`${what}: ${JSON.stringify(reply)}`)
    else this.seen.push({ key, elements, doneSeq, what })
  }

  /**
   * Every observation explained by adds invoked before it (and not failed):
   * before its reply in the log's order of events, not by virtual milliseconds,
   * which tie (an add invoked in the millisecond a read replied, after the
   * reply, cannot explain what that read saw).
   */
  checkSeen (): string[] {
    const problems: string[] = []
    for (const s of this.seen) {
      const kind = kindOf(s.key)
      for (const [element, value] of s.elements) {
        const adds = this.events.filter(e => e.key === s.key && e.element === element && e.add && (e.op === null || e.op.invokedSeq < s.doneSeq) && e.op?.outcome !== 'failed')
        if (adds.length === 0) {
          problems.push(`${s.what}: ${element} is there, but no add of it could have happened`)
          continue
        }
        if (kind === 'hash' && !adds.some(e => e.value === value)) problems.push(`${s.what}: ${element} = ${value}, which no HSET of it wrote`)
        if (kind === 'zset') problems.push(...this.checkScore(s.what, element, value, adds))
      }
    }
    return problems
  }

  private checkScore (what: string, element: string, text: string, adds: Event[]): string[] {
    const parts = scoreParts(text)
    if (parts === null) return [`${what}: ${element} has score ${text}, not a sum of its writes`]
    const problems: string[] = []
    if (parts.id !== 0 && !adds.some(e => e.zaddId === parts.id)) problems.push(`${what}: ${element}'s score ${text} holds ZADD #${parts.id}, not one of its ZADDs`)
    parts.digits.forEach((d, j) => {
      if (d === 0) return
      const incr = adds.find(e => e.incr?.slot === j)
      if (incr?.incr?.sign !== d) problems.push(`${what}: ${element}'s score ${text} counts ZINCRBY #${j} ${d} × (${incr === undefined ? 'not one of its increments' : `its sign is ${incr.incr?.sign ?? 0}`})`)
    })
    return problems
  }

  /** After healing: the nodes agree, the replicas hold the same bytes, and the observed-remove rule holds. */
  async checkFinal (c: SimCluster): Promise<string[]> {
    const problems: string[] = []
    for (const key of this.keys) {
      const read = KINDS[kindOf(key)].read(key)
      problems.push(...await disagreements(c, ...read))
      const reply = await c.exec(c.running()[0], ...read)
      this.observe(key, reply, Infinity, `final ${read.join(' ')}`)
      const final = parseRead(kindOf(key), reply) ?? new Map<string, string>()
      this.finals.set(key, final)
      for (const element of this.pool) {
        const events = this.events.filter(e => e.key === key && e.element === element)
        const kept = events.find(a => a.add && a.op?.outcome === 'ok' &&
          !events.some(r => !r.add && r.op?.outcome !== 'failed' && latestEffectSeq(r.op as Op) > (a.op as Op).invokedSeq))
        if (kept !== undefined) this.required++
        if (kept !== undefined && !final.has(element)) {
          problems.push(`${key}: ${element} is lost: ${(kept.op as Op).args.join(' ')} via ${(kept.op as Op).node} was acknowledged at ${(kept.op as Op).doneMs}, and no remove of it could have seen it`)
        }
      }
      problems.push(...await replicaDifferences(c, key))
    }
    problems.push(...this.checkSeen(), ...this.checkIncrements())
    return problems
  }

  /**
   * An acknowledged ZINCRBY counts in the final score unless a ZADD or ZREM of
   * the member could have observed it (and replaced or removed it).
   */
  private checkIncrements (): string[] {
    const problems: string[] = []
    for (const e of this.events) {
      if (e.incr === undefined || e.op?.outcome !== 'ok') continue
      const replaced = this.events.some(o => o.key === e.key && o.element === e.element && o.incr === undefined && o.op?.outcome !== 'failed' && latestEffectSeq(o.op as Op) > (e.op as Op).invokedSeq)
      if (replaced) continue
      this.increments++
      const text = this.finals.get(e.key)?.get(e.element)
      if (text === undefined || scoreParts(text)?.digits[e.incr.slot] !== e.incr.sign) {
        problems.push(`${e.key}: ${e.op.args.join(' ')} via ${e.op.node} was acknowledged at ${e.op.doneMs} and nothing could have replaced it, but the final score of ${e.element} is ${text ?? 'absent'}`)
      }
    }
    return problems
  }
}
