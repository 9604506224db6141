// The command sequences of spec/helpers/surface-cases.ts through the command
// layer in one process (a simulated single node: the Dispatcher, no sockets),
// each reply encoded as the connection would encode it and compared byte for
// byte with a live redis-server given the same sequence.
import t from 'tap'
import { SimCluster } from './harness.js'
import { ReplyWriter, type Reply } from '../../lib/resp/reply.js'
import { internalSession, type Session } from '../../lib/resp/session.js'
import { haveRedisServer, startRedisServer, type RedisProc } from '../helpers/server.js'
import { transcript } from '../helpers/clients.js'
import { SAME_AS_REDIS, TRANSACTIONS } from '../helpers/surface-cases.js'

function encode (reply: Reply, session: Session): string {
  const w = new ReplyWriter()
  w.write(reply, session.proto)
  return (w.take() ?? Buffer.alloc(0)).toString('latin1')
}

let sim: SimCluster
let redis: RedisProc | null = null

t.before(async () => {
  sim = await SimCluster.create({ seed: 9, nodes: 1, n: 1, r: 1, w: 1 })
  redis = await startRedisServer()
})
t.teardown(async () => { await sim?.stop() })

/** The transcript() of spec/helpers for the simulated node: one session per connection number. */
async function simTranscript (steps: Array<[number, string[]]>): Promise<string[]> {
  const sessions = new Map<number, Session>()
  const out: string[] = []
  for (const [signed, args] of steps) {
    const n = Math.abs(signed)
    let s = sessions.get(n)
    if (s === undefined) sessions.set(n, s = internalSession(2, false))
    const reply = await sim.execIn(s, 'node1', ...args)
    if (signed > 0) out.push(`${n}: ${encode(reply, s)}`)
  }
  return out
}

const cases: Array<[string, Array<[number, string[]]>]> = [
  ...Object.entries(SAME_AS_REDIS).map(([name, lines]): [string, Array<[number, string[]]>] => [name, lines.map(a => [1, a])]),
  // A closed connection cannot be simulated: QUIT's case stays with the real process.
  ...Object.entries(TRANSACTIONS).filter(([, steps]) => !steps.some(([, a]) => a[0] === 'QUIT'))
]

for (const [name, steps] of cases) {
  t.test(`in process: ${name}`, { skip: !haveRedisServer() && 'no redis-server' }, async tt => {
    const all: Array<[number, string[]]> = [[-9, ['FLUSHALL']], ...steps]
    const [ours, theirs] = [await simTranscript(all), await transcript((redis as RedisProc).port, all)]
    ours.forEach((o, i) => tt.equal(o, theirs[i], steps.filter(([n]) => n > 0)[i]?.[1].join(' ') ?? ''))
  })
}
