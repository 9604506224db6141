// Counters: INCRBY with small deltas (negative ones too, for the PN-counter of
// issue 10) on a few shared keys, every writer on every key, and GET reads.
import type { Random } from '../../lib/runtime/random.js'
import type { NodeClient } from '../client.js'
import { checkCounter } from '../checkers/counter.js'
import type { CheckContext, CheckResult } from '../checkers/types.js'
import type { Op } from '../history.js'
import { completion, weighted, type Completion, type OpSpec, type Workload } from './types.js'

/** A GET of a counter: nil is 0. */
export function counterValue (v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v)
}

export class CounterWorkload implements Workload {
  readonly name = 'counter'

  constructor (private readonly keyCount = 2) {}

  next (_writer: number, rng: Random): OpSpec {
    const key = `counter:${rng.int(this.keyCount)}`
    if (weighted(rng, [[7, 'incr'], [3, 'read']]) === 'read') return { f: 'read', key }
    return { f: 'incr', key, value: weighted(rng, [[8, 1 + rng.int(5)], [2, -1 - rng.int(2)]]) }
  }

  async invoke (client: NodeClient, op: OpSpec): Promise<Completion> {
    if (op.f === 'read') return await this.readFinal(client, op.key)
    return completion(await client.call(['INCRBY', op.key, String(op.value)], 'write'), () => op.value)
  }

  async readFinal (client: NodeClient, key: string): Promise<Completion> {
    return completion(await client.call(['GET', key], 'read'), counterValue)
  }

  keys (): string[] {
    return Array.from({ length: this.keyCount }, (_, i) => `counter:${i}`)
  }

  hotKey (): string {
    return 'counter:0'
  }

  check (history: readonly Op[], _ctx: CheckContext): CheckResult[] {
    return [checkCounter(history, this.name)]
  }
}
