// redis-benchmark against one node: its handshake (CONFIG GET save /
// appendonly on a side connection), inline PING_INLINE, multibulk commands,
// and pipelining (-P). Small runs: the point is that every test completes with
// a positive rate and the node keeps answering, not the numbers.

import t, { type Test } from 'tap'
import { startServer, type ServerProc } from '../helpers/server.js'
import { cliRaw, missing, redisBenchmark } from '../helpers/clients.js'

const skip = missing('redis-benchmark') || missing('redis-cli')
const TESTS = ['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'MSET (10 keys)']

if (skip !== false) {
  t.plan(0, skip)
} else {
  let node: ServerProc
  t.before(async () => { node = await startServer() })

  async function bench (tt: Test, extra: string[], valueBytes = 3): Promise<void> {
    const started = Date.now()
    const r = await redisBenchmark(node.port, ['-t', 'set,get,ping_inline,ping_mbulk,mset', '-n', '2000', '-c', '10', ...extra], { timeoutMs: 40000 })
    tt.equal(r.code, 0, `redis-benchmark exits 0 (stderr: ${r.stderr.trim().slice(0, 200)})`)
    tt.notMatch(r.stdout + r.stderr, /ERROR|error:/i, 'no error reported by redis-benchmark')
    tt.same(r.rows.map(row => row.test).sort(), [...TESTS].sort(), 'one CSV row per test')
    for (const row of r.rows) {
      tt.ok(Number.isFinite(row.rps) && row.rps > 0, `${row.test}: positive rate (${row.rps} rps)`)
      tt.ok(Number.isFinite(row.avgLatencyMs) && row.avgLatencyMs >= 0, `${row.test}: a latency figure`)
    }
    tt.comment(`redis-benchmark ${extra.join(' ')}: ${Date.now() - started} ms; ` + r.rows.map(row => `${row.test} ${row.rps}`).join(', '))
    tt.equal(await cliRaw(node.port, 'PING'), 'PONG', 'the node still answers')
    if (!extra.includes('-r')) tt.equal(await cliRaw(node.port, 'STRLEN', 'key:__rand_int__'), String(valueBytes), `SET stored the benchmark's ${valueBytes}-byte value`)
  }

  t.test('-n 2000 -c 10', async tt => { await bench(tt, []) })
  t.test('-n 2000 -c 10 -P 16 (pipelined)', async tt => { await bench(tt, ['-P', '16']) })
  t.test('-r 1000 random keys, -d 100', async tt => {
    await bench(tt, ['-r', '1000', '-d', '100'], 100)
    const keys = Number(await cliRaw(node.port, 'DBSIZE'))
    tt.ok(keys > 100, `random keys were written (DBSIZE ${keys})`)
    const some = await cliRaw(node.port, 'RANDOMKEY')
    tt.match(some, /^key:\d{12}$/, 'keys are key:<12 digits>')
    tt.equal(await cliRaw(node.port, 'STRLEN', some), '100', 'values are -d 100 bytes')
  })
}
