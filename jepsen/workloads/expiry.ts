// Expiry (issue 9): SET key value PX ttl on fresh keys, and GETs of a writer's
// recent keys, some before and some after the deadline.
import type { Random } from '../../lib/runtime/random.js'
import type { NodeClient } from '../client.js'
import { checkExpiry } from '../checkers/expiry.js'
import type { CheckContext, CheckResult } from '../checkers/types.js'
import type { Op } from '../history.js'
import { Counter, completion, weighted, type Completion, type OpSpec, type Workload } from './types.js'

const RECENT = 8
/** Keys read at the end: the latest of each writer's. */
const FINAL_KEYS_MAX = 200

export class ExpiryWorkload implements Workload {
  readonly name = 'expiry'
  private readonly values = new Counter()
  private readonly recent = new Map<number, string[]>()
  private readonly used: string[] = []

  constructor (private readonly ttlMs: readonly [number, number] = [300, 3000]) {}

  next (w: number, rng: Random): OpSpec {
    const mine = this.recent.get(w) ?? []
    this.recent.set(w, mine)
    if (mine.length > 0 && weighted(rng, [[2, 'set'], [3, 'read']]) === 'read') return { f: 'read', key: mine[rng.int(mine.length)] }
    const n = this.values.next()
    const key = `exp:${w}:${n}`
    mine.push(key)
    if (mine.length > RECENT) mine.shift()
    this.used.push(key)
    const [lo, hi] = this.ttlMs
    return { f: 'set', key, value: { value: `v${n}`, ttlMs: lo + rng.int(hi - lo + 1) } }
  }

  async invoke (client: NodeClient, op: OpSpec): Promise<Completion> {
    if (op.f === 'read') return await this.readFinal(client, op.key)
    const { value, ttlMs } = op.value as { value: string, ttlMs: number }
    return completion(await client.call(['SET', op.key, value, 'PX', String(ttlMs)], 'write'), () => op.value)
  }

  async readFinal (client: NodeClient, key: string): Promise<Completion> {
    return completion(await client.call(['GET', key], 'read'))
  }

  keys (): string[] {
    return this.used.slice(-FINAL_KEYS_MAX)
  }

  hotKey (): string {
    return this.used[this.used.length - 1] ?? 'exp:0:0'
  }

  check (history: readonly Op[], ctx: CheckContext): CheckResult[] {
    return [checkExpiry(history, this.name, ctx.expirySkewMs)]
  }
}
