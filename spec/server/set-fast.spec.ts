// A plain SET the parser finds whole is offered to the connection before its
// argument array is made (parser.ts onSet, connection.ts onSet, the
// dispatcher's execSet; docs/performance.md "setfast17"). It must answer
// exactly as the general path: the same replies in the same order on a
// connection (a SET's reply waits for its group commit, a GET behind it does
// not), MULTI/EXEC queueing, AUTH refusal, INFO commandstats and the
// commands-processed count. Replies compared byte for byte with a redis-server given
// the same input as one write, and as many small writes (frames split across
// reads: the general path); real node processes, raw sockets.
import t from 'tap'
import { haveRedisServer, startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import { exchange, frame, parseReplies } from '../helpers/clients.js'

const PASS = 'set-fast-pass'
let node: ServerProc
let locked: ServerProc
let redis: RedisProc | null = null
let lockedRedis: RedisProc | null = null

t.before(async () => {
  ;[node, locked, redis, lockedRedis] = await Promise.all([startServer(), startServer(['--requirepass', PASS]), startRedisServer(), startRedisServer(['--requirepass', PASS])])
})

const noRedis = !haveRedisServer() && 'no redis-server'

/** The replies to cmds sent as one write (or in pieces of `piece` bytes), as bytes. */
async function replies (port: number, cmds: Array<Array<string | Buffer>>, piece = 0): Promise<string> {
  const input = Buffer.concat(cmds.map(a => frame(...a)))
  const chunks: Buffer[] = []
  if (piece > 0) for (let i = 0; i < input.length; i += piece) chunks.push(input.subarray(i, i + piece))
  const until = (b: Buffer): boolean => parseReplies(b).length >= cmds.length
  const { out } = await exchange(port, piece > 0 ? chunks : input, { until, quietMs: 5000, gapMs: piece > 0 ? 1 : undefined })
  return out.toString('latin1')
}

// SETs in every spelling among GETs, MULTI blocks (queued, then run by EXEC;
// one aborted by a refused SET), refused and failed SETs, SETs with options
// and commands that read what a SET just wrote.
// (No FLUSHALL among them: a command that waits for everything before it
// sends what follows it in the read to the general path. The first MULTI
// comes with nothing in flight: it is answered at once, and the SET after
// it reaches the fast path's offer queued.)
const MIXED: string[][] = [
  ['MULTI'], ['SET', 'a', '0'], ['set', 'b', '0'], ['GET', 'a'], ['EXEC'],
  ['SET', 'a', '1'], ['GET', 'a'], ['set', 'a', '2'], ['sEt', 'b', 'xyz'], ['GET', 'a'], ['GET', 'b'],
  ['MULTI'], ['SET', 'a', '3'], ['GET', 'a'], ['SET', 'a'], ['EXEC'], ['GET', 'a'],
  ['MULTI'], ['SET', 'a', '3'], ['SET', 'b', ''], ['GET', 'a'], ['EXEC'], ['GET', 'b'], ['STRLEN', 'b'],
  ['SET', 'a'], ['SET', 'a', '4', '5'], ['SET', 'a', '5', 'XX'], ['INCR', 'a'], ['GET', 'a'],
  ['SET', 'a', 'v'], ['INCR', 'a'], ['APPEND', 'a', 'w'], ['GET', 'a'], ['DEL', 'a'], ['GET', 'a'],
  ['HSET', 'h', 'f', 'v'], ['SET', 'h', 'plain'], ['TYPE', 'h'], ['GET', 'h'],
  ['SET', 'big', 'x'.repeat(20000)], ['STRLEN', 'big'], ['SET', 'big', 'y'], ['GET', 'big']
]
for (let i = 0; i < 40; i++) MIXED.push(['SET', `k${i % 7}`, `v${i}`], ['GET', `k${(i + 3) % 7}`])
MIXED.push(['MGET', 'k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6'])

t.test('SETs mixed with GETs, MULTI and refusals, one write: the same bytes as redis-server', { skip: noRedis }, async tt => {
  const ref = (redis as RedisProc).port
  await Promise.all([replies(node.port, [['FLUSHALL']]), replies(ref, [['FLUSHALL']])])
  const [ours, theirs] = await Promise.all([replies(node.port, MIXED), replies(ref, MIXED)])
  tt.equal(parseReplies(Buffer.from(ours, 'latin1')).length, MIXED.length, 'every command answered')
  tt.equal(ours, theirs)
})

t.test('the same split in 13-byte writes (frames across reads): the same bytes as redis-server', { skip: noRedis }, async tt => {
  const ref = (redis as RedisProc).port
  await Promise.all([replies(node.port, [['FLUSHALL']]), replies(ref, [['FLUSHALL']])])
  const [ours, theirs] = await Promise.all([replies(node.port, MIXED, 13), replies(ref, MIXED, 13)])
  tt.equal(ours, theirs)
})

t.test('a client that has not authenticated: its SETs refused until AUTH, as redis-server does', { skip: noRedis }, async tt => {
  const cmds = [
    ['SET', 'a', '1'], ['GET', 'a'], ['AUTH', 'wrong'], ['SET', 'a', '1'], ['set', 'a', '1'],
    ['AUTH', PASS], ['SET', 'a', '2'], ['GET', 'a'], ['SET', 'a', '3'], ['GET', 'a']
  ]
  const [ours, theirs] = await Promise.all([replies(locked.port, cmds), replies((lockedRedis as RedisProc).port, cmds)])
  tt.match(ours, /^-NOAUTH /, 'refused before AUTH')
  tt.equal(ours, theirs)
})

/** cmdstat_set's calls, rejected_calls and failed_calls. */
async function setStats (port: number, auth: string[][] = []): Promise<string> {
  const out = await replies(port, [...auth, ['INFO', 'commandstats']])
  const set = /cmdstat_set:calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)/.exec(out)
  return `set calls=${set?.[1] ?? 0} rejected=${set?.[2] ?? 0} failed=${set?.[3] ?? 0}`
}

/** total_commands_processed (a node counts a command as it arrives: an INFO counts itself). */
async function processed (port: number): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await replies(port, [['INFO', 'stats']]))?.[1] ?? NaN)
}

t.test('INFO commandstats and the commands processed count plain SETs as redis-server does', { skip: noRedis }, async tt => {
  const auth = [['AUTH', PASS]]
  const cmds: string[][] = []
  for (let i = 0; i < 100; i++) cmds.push(['SET', `c${i % 10}`, `${i}`])
  cmds.push(['SET', 'c0'], ['MULTI'], ['SET', 'c1', 'x'], ['EXEC'], ['SET', 'c2', 'y'])
  const refPort = (redis as RedisProc).port
  await Promise.all([replies(node.port, [['CONFIG', 'RESETSTAT']]), replies(refPort, [['CONFIG', 'RESETSTAT']])])
  const before = await Promise.all([processed(node.port), processed(refPort)])
  await Promise.all([replies(node.port, cmds), replies(refPort, cmds)])
  const after = await Promise.all([processed(node.port), processed(refPort)])
  const [ours, theirs] = await Promise.all([setStats(node.port), setStats(refPort)])
  tt.equal(ours, theirs)
  tt.equal(ours, 'set calls=102 rejected=1 failed=0', 'the fast path\'s SETs counted')
  // Each command of the pipeline once, and the INFO that reads it (Redis's difference here is 105: not checked against it).
  tt.equal(after[0] - before[0], cmds.length + 1, 'commands processed: each SET once')
  // And a client refused before AUTH: its SETs rejected, not called.
  const lockedCmds = [['SET', 'a', '1'], ['SET', 'a', '2'], ['AUTH', PASS], ['CONFIG', 'RESETSTAT'], ['SET', 'a', '3']]
  await Promise.all([replies(locked.port, lockedCmds), replies((lockedRedis as RedisProc).port, lockedCmds)])
  const [lockedOurs, lockedTheirs] = await Promise.all([setStats(locked.port, auth), setStats((lockedRedis as RedisProc).port, auth)])
  tt.equal(lockedOurs, lockedTheirs)
  tt.equal(lockedOurs, 'set calls=1 rejected=0 failed=0')
})
