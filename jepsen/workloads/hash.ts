// Hashes (HSET / HDEL / HGETALL, issue 10): an observed-remove map of fields,
// field f<n> set once to v<n> and maybe deleted once later (add-remove.ts);
// checkers/hash.ts judges the fields as checkers/orset.ts judges elements, and
// checks present fields hold the value written.
import type { Random } from '../../lib/runtime/random.js'
import { fieldsOf, type NodeClient } from '../client.js'
import { checkHash } from '../checkers/hash.js'
import type { CheckContext, CheckResult } from '../checkers/types.js'
import type { Op } from '../history.js'
import { AddRemove } from './add-remove.js'
import { completion, type Completion, type OpSpec, type Workload } from './types.js'

export class HashWorkload implements Workload {
  readonly name = 'hash'
  private readonly steps: AddRemove

  constructor (keyCount = 2) {
    this.steps = new AddRemove('hash', keyCount)
  }

  next (w: number, rng: Random): OpSpec {
    const s = this.steps.next(w, rng)
    if (s.kind === 'read') return { f: 'read', key: s.key }
    return s.kind === 'add' ? { f: 'hset', key: s.key, value: { field: `f${s.id}`, value: `v${s.id}` } } : { f: 'hdel', key: s.key, value: { field: `f${s.id}` } }
  }

  async invoke (client: NodeClient, op: OpSpec): Promise<Completion> {
    const { field, value } = (op.value ?? {}) as { field: string, value?: string }
    switch (op.f) {
      case 'hset':
        return completion(await client.call(['HSET', op.key, field, value as string], 'write'), () => op.value)
      case 'hdel':
        return completion(await client.call(['HDEL', op.key, field], 'write'), v => ({ field, removed: Number(v) }))
      default:
        return await this.readFinal(client, op.key)
    }
  }

  async readFinal (client: NodeClient, key: string): Promise<Completion> {
    return completion(await client.call(['HGETALL', key], 'read'), fieldsOf)
  }

  keys (): string[] {
    return this.steps.keys()
  }

  hotKey (): string {
    return 'hash:0'
  }

  check (history: readonly Op[], _ctx: CheckContext): CheckResult[] {
    return [checkHash(history, this.name)]
  }
}
