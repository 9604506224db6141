// Observed-remove sets (SADD / SREM / SMEMBERS, issue 10), elements added and
// removed as add-remove.ts generates them; checkers/orset.ts judges them.
import type { Random } from '../../lib/runtime/random.js'
import type { NodeClient } from '../client.js'
import { checkObservedRemove } from '../checkers/orset.js'
import type { CheckContext, CheckResult } from '../checkers/types.js'
import type { Op } from '../history.js'
import { AddRemove } from './add-remove.js'
import { completion, type Completion, type OpSpec, type Workload } from './types.js'

export class OrSetWorkload implements Workload {
  readonly name = 'orset'
  private readonly steps: AddRemove

  constructor (keyCount = 2) {
    this.steps = new AddRemove('orset', keyCount)
  }

  next (w: number, rng: Random): OpSpec {
    const s = this.steps.next(w, rng)
    return s.kind === 'read' ? { f: 'read', key: s.key } : { f: s.kind, key: s.key, value: String(s.id) }
  }

  async invoke (client: NodeClient, op: OpSpec): Promise<Completion> {
    switch (op.f) {
      case 'add':
        return completion(await client.call(['SADD', op.key, op.value as string], 'write'), () => op.value)
      case 'remove':
        // The reply (1: the element was seen and removed, 0: not seen) is kept: the checker needs it.
        return completion(await client.call(['SREM', op.key, op.value as string], 'write'), v => ({ element: op.value, removed: Number(v) }))
      default:
        return await this.readFinal(client, op.key)
    }
  }

  async readFinal (client: NodeClient, key: string): Promise<Completion> {
    return completion(await client.call(['SMEMBERS', key], 'read'), v => (v as string[]).slice().sort())
  }

  keys (): string[] {
    return this.steps.keys()
  }

  hotKey (): string {
    return 'orset:0'
  }

  check (history: readonly Op[], _ctx: CheckContext): CheckResult[] {
    return [checkObservedRemove(history, this.name)]
  }
}
