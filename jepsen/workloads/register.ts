// Registers with a single writer per key, two ways:
//   reg:W:i  plain SET / GET, any Redis client's view
//   ctx:W:i  PUT with the context of the writer's previous PUT (GETCTX first
//            when it has none: at the start, after a PUT that did not end ok),
//            and GETCTX reads that count siblings
// Every value is unique in the run. A writer moves to a fresh key every
// writesPerKey writes, so most keys end quiet and their last write is judged.
import type { Random } from '../../lib/runtime/random.js'
import type { NodeClient } from '../client.js'
import { checkRegisters } from '../checkers/register.js'
import { checkSiblings } from '../checkers/siblings.js'
import type { CheckContext, CheckResult } from '../checkers/types.js'
import type { Op } from '../history.js'
import { Counter, completion, contextReply, weighted, type Completion, type OpSpec, type Workload } from './types.js'

interface Writer {
  sets: number
  puts: number
  /** The context the last PUT that ended ok returned, and its key. */
  context: { key: string, token: string } | null
}

export class RegisterWorkload implements Workload {
  readonly name = 'register'
  private readonly values = new Counter()
  private readonly writers = new Map<number, Writer>()
  private readonly used = new Set<string>()
  private hot = 'reg:0:0'

  constructor (private readonly writesPerKey = 30) {}

  private writer (w: number): Writer {
    let s = this.writers.get(w)
    if (s === undefined) {
      s = { sets: 0, puts: 0, context: null }
      this.writers.set(w, s)
    }
    return s
  }

  next (w: number, rng: Random): OpSpec {
    const s = this.writer(w)
    const f = weighted(rng, [[3, 'write'], [2, 'read'], [3, 'put'], [2, 'read-ctx']] as const)
    const plain = f === 'write' || f === 'read'
    const count = plain ? s.sets : s.puts
    const key = `${plain ? 'reg' : 'ctx'}:${w}:${Math.floor(count / this.writesPerKey)}`
    if (f === 'read' || f === 'read-ctx') return { f, key }
    if (f === 'write') s.sets++
    else s.puts++
    this.used.add(key)
    this.hot = key
    return { f, key, value: String(this.values.next()) }
  }

  async invoke (client: NodeClient, op: OpSpec, w: number): Promise<Completion> {
    switch (op.f) {
      case 'write':
        return completion(await client.call(['SET', op.key, op.value as string], 'write'), () => op.value)
      case 'read':
        return completion(await client.call(['GET', op.key], 'read'))
      case 'read-ctx':
        return await this.readFinal(client, op.key)
      default: {
        const s = this.writer(w)
        let token = s.context?.key === op.key ? s.context.token : null
        let seen: string[] | undefined
        if (token === null) {
          const read = await client.call(['GETCTX', op.key], 'read')
          if (read.type !== 'ok') return { type: 'fail', error: `GETCTX: ${read.error}` }
          const got = contextReply(read.value)
          token = got.context
          seen = got.values
        }
        const put = await client.call(['PUT', op.key, token, op.value as string], 'write')
        s.context = put.type === 'ok' ? { key: op.key, token: String(put.value) } : null
        return { ...completion(put, () => op.value), ...(seen === undefined ? {} : { read: seen }) }
      }
    }
  }

  async readFinal (client: NodeClient, key: string): Promise<Completion> {
    return completion(await client.call(['GETCTX', key], 'read'), v => ({ values: contextReply(v).values }))
  }

  keys (): string[] {
    return [...this.used]
  }

  hotKey (): string {
    return this.hot
  }

  check (history: readonly Op[], _ctx: CheckContext): CheckResult[] {
    return [checkRegisters(history, this.name), checkSiblings(history, this.name)]
  }
}
