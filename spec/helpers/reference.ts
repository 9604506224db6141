// Scripts run on a dynakv node and on a reference redis-server over one RESP2
// connection each, reply by reply: the replies must be the same bytes, except
// for replies Redis itself does not order (a set's members, a hash's fields),
// which are compared as sorted lists (or sorted pairs).
import type { Test } from 'tap'
import { RawClient, parseReplies, type Resp2 } from './clients.js'

export type Order = 'ordered' | 'unordered' | 'pairs'

/** One command of a script; `order` says how its reply is compared. */
export interface Step {
  args: string[]
  order?: Order
}

const UNORDERED = new Set(['smembers', 'sunion', 'sinter', 'sdiff', 'hkeys', 'hvals'])
const PAIRS = new Set(['hgetall'])

export function step (...args: string[]): Step {
  const name = args[0].toLowerCase()
  return { args, order: UNORDERED.has(name) ? 'unordered' : PAIRS.has(name) ? 'pairs' : 'ordered' }
}

function show (r: Resp2): string {
  if (r === null) return 'nil'
  if (r instanceof Error) return `ERR(${r.message})`
  if (Buffer.isBuffer(r)) return JSON.stringify(r.toString('latin1'))
  if (typeof r === 'number') return `:${r}`
  return `[${r.map(show).join(', ')}]`
}

function normalized (raw: Buffer, order: Order): string {
  const [reply] = parseReplies(raw)
  if (order === 'ordered' || !Array.isArray(reply)) return raw.toString('latin1')
  if (order === 'unordered') return `[${reply.map(show).sort().join(', ')}]`
  const pairs: string[] = []
  for (let i = 0; i < reply.length; i += 2) pairs.push(`${show(reply[i])}=${show(reply[i + 1])}`)
  return pairs.sort().join(', ')
}

/** Runs the script on both servers in order; one assertion per step (`todo`: a known difference, reported, not failed). */
export async function compareWithRedis (t: Test, dkPort: number, redisPort: number, steps: Step[], todo?: string): Promise<void> {
  const [a, b] = await Promise.all([RawClient.connect(dkPort), RawClient.connect(redisPort)])
  try {
    for (const s of steps) {
      const [got, want] = await Promise.all([a.call(...s.args), b.call(...s.args)])
      t.equal(normalized(got, s.order ?? 'ordered'), normalized(want, s.order ?? 'ordered'), s.args.join(' ').slice(0, 80), { todo })
    }
  } finally {
    a.close()
    b.close()
  }
}
