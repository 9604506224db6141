// The generator the observed-remove workloads share (orset, hash): elements
// numbered uniquely in the run, each added once by one writer to one of a few
// keys, and maybe removed once later by the same writer. Which presence each
// element must end with then follows from its two operations alone.
import type { Random } from '../../lib/runtime/random.js'
import { Counter, weighted } from './types.js'

export type Step = { kind: 'add' | 'remove', key: string, id: number } | { kind: 'read', key: string }

export class AddRemove {
  private readonly ids = new Counter()
  /** Per writer: elements added and not yet tried to remove, with their key. */
  private readonly removable = new Map<number, Array<{ key: string, id: number }>>()

  constructor (private readonly prefix: string, private readonly keyCount: number) {}

  next (writer: number, rng: Random): Step {
    const mine = this.removable.get(writer) ?? []
    this.removable.set(writer, mine)
    const kind = weighted(rng, [[5, 'add'], [mine.length > 0 ? 2 : 0, 'remove'], [3, 'read']] as const)
    if (kind === 'remove') return { kind, ...mine.splice(rng.int(mine.length), 1)[0] }
    const key = `${this.prefix}:${rng.int(this.keyCount)}`
    if (kind === 'read') return { kind, key }
    const id = this.ids.next()
    mine.push({ key, id })
    return { kind, key, id }
  }

  keys (): string[] {
    return Array.from({ length: this.keyCount }, (_, i) => `${this.prefix}:${i}`)
  }
}
