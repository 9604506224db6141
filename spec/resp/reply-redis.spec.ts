// ReplyWriter's bytes against what redis-server 7 sends, in RESP2 and after
// HELLO 3, for replies Redis can be made to produce: doubles (%.17g), maps,
// sets, verbatim strings, nulls, 64-bit integers, nested arrays, errors.

import t from 'tap'
import fc from 'fast-check'
import {
  NULL, NULL_ARRAY, OK, ReplyWriter, array, bulk, double, err, int, map, set, simple, verbatim,
  type Proto, type Reply
} from '../../lib/resp/reply.js'
import { frame } from './harness.js'
import { decodeResp3 } from './resp3.js'
import { REDIS_SERVER, exchange, startRedis } from './redis-server.js'

function encode (replies: Reply[], proto: Proto): Buffer {
  const w = new ReplyWriter()
  for (const r of replies) w.write(r, proto)
  return w.take() ?? Buffer.alloc(0)
}

/** Redis's replies to commands, in RESP2, or in RESP3 with the HELLO reply cut off. */
async function redisReplies (port: number, commands: Array<Array<string | Buffer>>, proto: Proto, expectedLen: number): Promise<Buffer> {
  const hello = proto === 3 ? [frame('HELLO', '3')] : []
  const input = Buffer.concat([...hello, ...commands.map(c => frame(...c))])
  let helloLen = -1
  const res = await exchange(port, input, {
    quietAfter: () => false,
    until: out => {
      if (proto === 3 && helloLen < 0) {
        // The HELLO map ends after its 7th value, `modules` (*0).
        const end = out.indexOf('$7\r\nmodules\r\n*0\r\n')
        if (end < 0) return false
        helloLen = end + '$7\r\nmodules\r\n*0\r\n'.length
      }
      return out.length >= Math.max(helloLen, 0) + expectedLen
    }
  })
  if (proto === 3) t.equal(decodeResp3(res.out.subarray(0, helloLen))[0].type, 'map', 'HELLO 3 answered with a map')
  return res.out.subarray(Math.max(helloLen, 0))
}

async function compare (port: number): Promise<void> {
  await t.test('doubles: ZSCORE and Lua {double=...}', async t => {
    const fixed = [0, -0, 1, -2.5, 1.1, 0.1, 1e20, 1e17, 1e16, 123456789012345678, 1e-5, 0.0001, 1e-300, 5e-324,
      Number.MAX_VALUE, 2 ** 53, 0.5, 100, 1.5e-7, 2251799813685247.25, 2251799813685247.75, 9.999999999999999e22,
      Infinity, -Infinity, 3.14, -1e-310, 1e-7, 1e-305, 1e-299, -1e-243]
    const random = fc.sample(fc.double({ noNaN: true }), { numRuns: 300, seed: 7 })
    const all = [...fixed, ...random]
    const commands = all.map(d => ['EVAL', 'return {double=tonumber(ARGV[1])}', '0', Object.is(d, -0) ? '-0' : String(d)])
    for (const proto of [2, 3] as const) {
      const want = encode(all.map(double), proto)
      const got = await redisReplies(port, commands, proto, want.length)
      t.equal(got.toString(), want.toString(), `RESP${proto}`)
    }
    for (const proto of [2, 3] as const) {
      const z = `z${proto}`
      const zscore = [['ZADD', z, '1.1', 'a', 'inf', 'b', '-inf', 'c', '1e-5', 'd'], ...['a', 'b', 'c', 'd'].map(m => ['ZSCORE', z, m])]
      const want = encode([int(4), ...[1.1, Infinity, -Infinity, 1e-5].map(double)], proto)
      t.equal((await redisReplies(port, zscore, proto, want.length)).toString(), want.toString(), `ZSCORE RESP${proto}`)
    }
  })

  await t.test('aggregates, nulls, integers, errors, verbatim', async t => {
    for (const proto of [2, 3] as const) {
      const h = `h${proto}`
      const sk = `s${proto}`
      const cases: Array<[Array<string | Buffer>, Reply]> = [
        [['EVAL', 'return {map={a=1}}', '0'], map([[bulk('a'), int(1)]])],
        [['EVAL', 'return {map={a={1,{map={b="c"}}}}}', '0'], map([[bulk('a'), array([int(1), map([[bulk('b'), bulk('c')]])])]])],
        [['EVAL', 'return {set={a=true}}', '0'], set([bulk('a')])],
        [['EVAL', 'return {verbatim_string={format="txt", string="hi\\r\\nthere"}}', '0'], verbatim('hi\r\nthere')],
        [['EVAL', 'return {1,{2,"x"},redis.status_reply("OK")}', '0'], array([int(1), array([int(2), bulk('x')]), OK])],
        [['EVAL', 'return redis.error_reply("ERR boom")', '0'], err('ERR boom')],
        [['EVAL', 'return nil', '0'], NULL],
        [['EVAL', 'return {}', '0'], array([])],
        [['GET', 'missing'], NULL],
        [['BLPOP', 'missing', '0.01'], NULL_ARRAY],
        [['SET', 'n', '9223372036854775806'], OK],
        [['INCR', 'n'], int(9223372036854775807n)],
        [['SET', 'm', '-9223372036854775807'], OK],
        [['DECR', 'm'], int(-9223372036854775808n)],
        [['HSET', h, 'f', 'v'], int(1)],
        [['HGETALL', h], map([[bulk('f'), bulk('v')]])],
        [['SADD', sk, 'm'], int(1)],
        [['SMEMBERS', sk], set([bulk('m')])],
        [['CONFIG', 'GET', 'appendonly'], map([[bulk('appendonly'), bulk('no')]])],
        [['ECHO', Buffer.from('é')], bulk('é')],
        [['PING'], simple('PONG')]
      ]
      const want = encode(cases.map(c => c[1]), proto)
      const got = await redisReplies(port, cases.map(c => c[0]), proto, want.length)
      t.equal(got.toString('latin1'), want.toString('latin1'), `RESP${proto}`)
    }
  })
}

const redis = await startRedis()
if (redis === null) {
  t.plan(0, `${REDIS_SERVER} is not installed: no comparison with the reference server`)
} else {
  t.teardown(redis.stop)
  await compare(redis.port)
}
