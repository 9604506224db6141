// Set-union with contexts, the way a Dynamo application keeps a shopping cart:
// read every sibling with GETCTX, merge them (union), add one element, write
// the union back with PUT and the context read. An element is acknowledged
// when the PUT is. Keys are grow-only sets; each takes at most elementsPerKey
// elements, then the writers move on to fresh keys (values stay small).
import type { Random } from '../../lib/runtime/random.js'
import type { NodeClient } from '../client.js'
import { checkSetFull } from '../checkers/set-full.js'
import type { CheckContext, CheckResult } from '../checkers/types.js'
import type { Op } from '../history.js'
import { Counter, completion, contextReply, weighted, type Completion, type OpSpec, type Workload } from './types.js'

export interface SetOptions {
  /** Keys written at the same time. */
  keysActive: number
  elementsPerKey: number
}

/** The elements of one sibling ("3,17,20"). */
export function parseElements (value: string): number[] {
  return value === '' ? [] : value.split(',').map(Number)
}

/** The union of every sibling's elements, sorted. */
export function unionOf (values: readonly string[]): number[] {
  const all = new Set<number>()
  for (const v of values) for (const e of parseElements(v)) all.add(e)
  return [...all].sort((a, b) => a - b)
}

export class SetWorkload implements Workload {
  readonly name = 'set'
  private readonly elements = new Counter()
  private readonly used = new Set<string>()
  private latest = 0

  constructor (private readonly o: SetOptions = { keysActive: 2, elementsPerKey: 2000 }) {}

  private keyOf (element: number): string {
    const generation = Math.floor(element / (this.o.elementsPerKey * this.o.keysActive))
    return `set:${generation * this.o.keysActive + element % this.o.keysActive}`
  }

  next (_writer: number, rng: Random): OpSpec {
    if (weighted(rng, [[4, 'add'], [1, 'read']]) === 'read') {
      return { f: 'read', key: this.keyOf(Math.max(0, this.latest - rng.int(this.o.keysActive))) }
    }
    const e = this.elements.next()
    this.latest = e
    const key = this.keyOf(e)
    this.used.add(key)
    return { f: 'add', key, value: e }
  }

  async invoke (client: NodeClient, op: OpSpec): Promise<Completion> {
    if (op.f === 'read') return await this.readFinal(client, op.key)
    const read = await client.call(['GETCTX', op.key], 'read')
    if (read.type !== 'ok') return { type: 'fail', error: `GETCTX: ${read.error}` }
    const { context, values } = contextReply(read.value)
    const next = unionOf([...values, String(op.value)])
    return completion(await client.call(['PUT', op.key, context, next.join(',')], 'write'), () => op.value)
  }

  async readFinal (client: NodeClient, key: string): Promise<Completion> {
    return completion(await client.call(['GETCTX', key], 'read'), (v) => {
      const { values } = contextReply(v)
      return { elements: unionOf(values), siblings: values.length }
    })
  }

  keys (): string[] {
    return [...this.used]
  }

  hotKey (): string {
    return this.keyOf(this.latest)
  }

  check (history: readonly Op[], _ctx: CheckContext): CheckResult[] {
    return [checkSetFull(history, this.name)]
  }
}
