// One connection's pipeline must behave as if its commands ran one by one, in
// order, as Redis runs them — however dynakv overlaps them underneath (group
// commit, reads of pending writes, commands that wait for others). The oracle is
// a live redis-server given the same random pipelines, compared byte for byte.
import t from 'tap'
import fc from 'fast-check'
import { haveRedisServer, startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import { exchange, frame, parseReplies } from '../helpers/clients.js'
import { splitAt } from '../resp/harness.js'

const KEYS = ['k1', 'k2', 'k3']
const key = fc.constantFrom(...KEYS)
const value = fc.constantFrom('1', '7', 'x', '', 'long-' + 'v'.repeat(40))

/** Commands whose replies dynakv and Redis agree on, on a single node. */
const command: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(key, value).map(([k, v]) => ['SET', k, v]) },
  { weight: 6, arbitrary: key.map(k => ['GET', k]) },
  { weight: 3, arbitrary: key.map(k => ['INCR', k]) },
  { weight: 2, arbitrary: fc.tuple(key, value).map(([k, v]) => ['APPEND', k, v]) },
  { weight: 2, arbitrary: key.map(k => ['DEL', k]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ['EXISTS', a, b]) },
  { weight: 1, arbitrary: key.map(k => ['STRLEN', k]) },
  { weight: 1, arbitrary: fc.tuple(key, value).map(([k, v]) => ['SETNX', k, v]) },
  { weight: 1, arbitrary: fc.tuple(key, value).map(([k, v]) => ['GETSET', k, v]) },
  { weight: 1, arbitrary: fc.tuple(key, value, key, value).map(([a, v, b, w]) => ['MSET', a, v, b, w]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ['MGET', a, b]) },
  { weight: 1, arbitrary: fc.tuple(key, value).map(([k, v]) => ['SET', k, v, 'GET']) },
  { weight: 1, arbitrary: fc.constant<string[]>(['DBSIZE']) }
)

/** A pipeline and where to cut it into separate socket writes (so commands arrive in several read events). */
const pipeline = fc.record({
  commands: fc.array(command, { minLength: 1, maxLength: 60 }),
  cuts: fc.array(fc.nat(), { maxLength: 4 })
})

async function replies (port: number, commands: string[][], cuts: number[]): Promise<string> {
  const chunks = splitAt(Buffer.concat([frame('FLUSHALL'), ...commands.map(c => frame(...c))]), cuts)
  const expected = commands.length + 1
  const { out } = await exchange(port, chunks.filter(c => c.length > 0), { gapMs: 1, until: b => parseReplies(b).length >= expected })
  return out.toString('latin1')
}

let node: ServerProc
let redis: RedisProc | null = null

t.before(async () => {
  node = await startServer()
  redis = await startRedisServer()
})

t.test('random pipelines on three keys get the replies redis-server gives', { skip: !haveRedisServer() && 'no redis-server' }, async t => {
  const r = redis as RedisProc
  await fc.assert(fc.asyncProperty(pipeline, async ({ commands, cuts }) => {
    const [got, want] = [await replies(node.port, commands, cuts), await replies(r.port, commands, cuts)]
    if (got !== want) throw new Error(`pipeline ${JSON.stringify(commands)}\ndynakv: ${JSON.stringify(got)}\nredis:  ${JSON.stringify(want)}`)
  }), { numRuns: 40 })
  t.pass('40 pipelines agree')
})
