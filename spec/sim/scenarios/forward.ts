// The coordinator rule when the primary's answer is lost: the forwarded command
// may have run there, so a write must not run a second time here (that would
// store a second version with the writer's context, a sibling the writer never
// saw); the client hears -NOQUORUM instead. A read may be retried here safely.
// (Found by sweeping seeds of the fault scenario; kept as its own scenario.)
//
// Knobs: write (1: the lost answer is a PUT's), read (1: a GET's).
import { SimCluster } from '../harness.js'
import { quiesce, replyText } from '../checkers.js'
import type { Reply } from '../../../lib/resp/reply.js'
import { shrinkKnobs, type Outcome, type Params, type Scenario } from './scenario.js'

const KEY = 'fwd'

/** A node outside the key's primaries (4 nodes, N=3: exactly one) and the primary it forwards to. */
function roles (c: SimCluster): { outsider: string, primary: string } {
  const node = c.node('node1')
  const { primaries } = node.currentRing().preferenceList(node.ref(Buffer.from(KEY)).partition)
  const outsider = c.names.find(n => !primaries.includes(n))
  if (outsider === undefined) throw new Error('every node is a primary')
  return { outsider, primary: primaries[0] }
}

/** Sends a command through the outsider and cuts it off from the primary once the request is there. */
async function forwardAndLoseTheAnswer (c: SimCluster, ...args: string[]): Promise<Reply> {
  const { outsider, primary } = roles(c)
  const reply = c.send(outsider, ...args)
  await c.run(6) // the FORWARD (5 ms) has arrived; the answer has not left
  c.net.partition([outsider], [primary])
  const r = await c.settle(reply)
  c.net.heal()
  return r
}

async function lostWriteAnswer (seed: number): Promise<string[]> {
  const c = await SimCluster.create({ seed, nodes: 4, partitions: 16, delayMsMin: 5, delayMsMax: 5 })
  try {
    const problems: string[] = []
    const r = await forwardAndLoseTheAnswer(c, 'PUT', KEY, '', 'once')
    if (r.type !== 'error' || !/^NOQUORUM write .*may still have been stored.*forwarded to node\d, which did not answer/.test(r.value)) {
      problems.push(`a forwarded PUT whose answer was lost got ${replyText(r)}, not -NOQUORUM naming the primary`)
    }
    await quiesce(c)
    const read = await c.exec('node1', 'GETCTX', KEY)
    const values = read.type === 'array' && read.value[1].type === 'array' ? read.value[1].value.map(replyText) : null
    if (JSON.stringify(values) !== JSON.stringify(['once'])) problems.push(`after the lost answer the key holds ${JSON.stringify(values)}: the write ran more than once`)
    return problems
  } finally {
    await c.stop()
  }
}

async function lostReadAnswer (seed: number): Promise<string[]> {
  const c = await SimCluster.create({ seed, nodes: 4, partitions: 16, delayMsMin: 5, delayMsMax: 5 })
  try {
    const set = await c.exec('node1', 'SET', KEY, 'v')
    if (set.type !== 'simple') return [`SET failed: ${replyText(set)}`]
    const r = await forwardAndLoseTheAnswer(c, 'GET', KEY)
    return r.type === 'bulk' && replyText(r) === 'v' ? [] : [`a forwarded GET whose answer was lost got ${replyText(r)}, not the value`]
  } finally {
    await c.stop()
  }
}

async function run (seed: number, params: Params): Promise<Outcome> {
  const problems: string[] = []
  if (params.write === 1) problems.push(...await lostWriteAnswer(seed))
  if (params.read === 1) problems.push(...await lostReadAnswer(seed))
  return { problems, stats: {} }
}

export const forward: Scenario = {
  name: 'forward',
  about: 'write: 1 to lose the answer to a forwarded PUT; read: 1 to lose a forwarded GET\'s',
  defaults: { write: 1, read: 1 },
  run,
  smaller: (p) => shrinkKnobs(p, { write: 0, read: 0 })
}
