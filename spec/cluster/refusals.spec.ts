// Refusals that say what is wrong: a node started with --join and a setting
// the cluster cannot accept (cluster secret, cluster name, --partitions, --n)
// stops with one line naming the cause and an exit code of its own, instead
// of retrying forever; the running node logs the refused peer once, however
// often it retries; and a command forwarded to a member that refuses the
// handshake gets an -ERR saying so.
import t, { type Test } from 'tap'
import { freePort, startServer, sleep, type ServerProc } from '../helpers/server.js'
import { until } from '../helpers/cluster.js'
import { exchange, frame, parseReplies } from '../helpers/clients.js'
import { scrape, value } from '../helpers/metrics.js'

const STACK = /^\s+at .+[(:]\d+/m
const QUICK = ['--gossip-interval-ms', '200', '--probe-interval-ms', '100', '--request-timeout-ms', '500']

/** Lines of output that are not log lines of the node (text logs start with a timestamp). */
const ownLines = (p: ServerProc): string[] => p.output().split('\n').filter(l => l.startsWith('dynakv: '))

async function seed (t: Test): Promise<ServerProc> {
  return await startServer(['--n', '3', '--r', '2', '--w', '2', '--partitions', '32', ...QUICK, '--log-level', 'warn'], { t, name: 'seed' })
}

/** One command over a fresh connection, its reply parsed (RESP2). */
async function call (port: number, ...args: string[]): Promise<unknown> {
  return parseReplies((await exchange(port, frame(...args), { until: x => parseReplies(x).length === 1 })).out)[0]
}

for (const [cause, flags, code, message] of [
  ['a wrong cluster secret', ['--cluster-secret', 'not-the-secret'], 5, /refused: wrong --cluster-secret/],
  ['a wrong cluster name', ['--cluster-name', 'elsewhere'], 6, /refused: wrong --cluster-name/],
  ['another --partitions', ['--partitions', '64'], 7, /refused: mismatched --partitions: .*64 partitions, this cluster has 32/],
  ['another --n', ['--n', '2', '--r', '1', '--w', '1'], 8, /refused: mismatched --n: .*N=2, this cluster has N=3/]
] as Array<[string, string[], number, RegExp]>) {
  t.test(`--join with ${cause}: one line naming it, exit code ${code}`, async (t) => {
    const s = await seed(t)
    const args = ['--n', '3', '--r', '2', '--w', '2', '--partitions', '32', ...QUICK, '--log-level', 'error', ...flags, '--join', `127.0.0.1:${s.peerPort}`]
    const joiner = await startServer(args, { t, name: 'joiner' })
    await joiner.exited
    t.equal(joiner.exitCode, code, `exit code ${code}`)
    const lines = ownLines(joiner)
    t.equal(lines.length, 1, `one line: ${lines.join(' | ')}`)
    t.match(lines[0], new RegExp(`^dynakv: join through 127\\.0\\.0\\.1:${s.peerPort} refused: `), 'naming the seed')
    t.match(lines[0], message, 'and the cause')
    t.notMatch(joiner.output(), STACK, 'no stack trace')
    t.equal(await s.stop(), 0, 'the seed keeps running and stops cleanly')
  })
}

t.test('with --log-format json every line is a JSON log record, the refusal too', async (t) => {
  const s = await seed(t)
  const joiner = await startServer(['--n', '3', '--r', '2', '--w', '2', '--partitions', '32', ...QUICK, '--log-format', 'json', '--cluster-secret', 'x', '--join', `127.0.0.1:${s.peerPort}`], { t, name: 'joiner' })
  await joiner.exited
  t.equal(joiner.exitCode, 5)
  const lines = joiner.output().split('\n').filter(l => l !== '')
  const records = lines.map(l => JSON.parse(l) as { time: string, level: string, node: string, msg: string })
  t.ok(records.every(r => Object.keys(r).join() === 'time,level,node,msg' && r.node === 'joiner' && !Number.isNaN(Date.parse(r.time))), `${records.length} records of {time, level, node, msg}`)
  t.match(records[records.length - 1], { level: 'error', msg: /^join through .* refused: wrong --cluster-secret/ }, 'the last one is the refusal')
  t.ok(records.some(r => r.level === 'info' && /^ready: RESP on /.test(r.msg)), 'the ready line is a record too')
})

t.test('a node refused again and again is logged once; its restarts are refused each time', async (t) => {
  const s = await seed(t)
  for (let i = 0; i < 3; i++) {
    const joiner = await startServer(['--n', '3', '--r', '2', '--w', '2', '--partitions', '32', ...QUICK, '--log-level', 'error', '--cluster-secret', 'guess', '--join', `127.0.0.1:${s.peerPort}`], { t, name: 'intruder' })
    await joiner.exited
    t.equal(joiner.exitCode, 5, `attempt ${i + 1}: refused`)
  }
  const refusals = s.output().split('\n').filter(l => /refused (peer|the handshake)/.test(l) || /peer .* refused the handshake/.test(l))
  t.equal(refusals.length, 1, `logged once: ${refusals.join(' | ')}`)
  t.match(refusals[0], /wrong cluster secret/)
})

t.test('a member restarted with another secret: forwards to it get -ERR, and the refusal is logged once', async (t) => {
  // N=1 on two nodes: every key has one primary, so a client of node a is forwarded for node b's keys.
  // A long --down-after-ms keeps b "up" in a's view, so a keeps forwarding (and heartbeating) to it.
  const base = ['--n', '1', '--r', '1', '--w', '1', '--partitions', '16', ...QUICK, '--down-after-ms', '600000', '--log-level', 'warn']
  const metricsPort = await freePort()
  const a = await startServer([...base, '--metrics-port', String(metricsPort)], { t, name: 'a' })
  let b = await startServer([...base, '--join', `127.0.0.1:${a.peerPort}`], { t, name: 'b' })
  await until('b to own partitions', async () => {
    const nodes = await call(a.port, 'RING', 'NODES') as Buffer[]
    return nodes.length === 2 && nodes.every(l => Number(l.toString().split(' ')[5]) > 0)
  }, 20_000)
  // A key b is the primary of.
  let key = ''
  for (let i = 0; key === '' && i < 1000; i++) {
    const owners = await call(a.port, 'RING', 'OWNERS', `k${i}`) as Buffer[]
    if (owners[0].toString().startsWith('b ')) key = `k${i}`
  }
  t.not(key, '', `b is the primary of ${key}`)
  const forwardedBefore = value(await scrape(metricsPort), 'dynakv_forwarded_total', { direction: 'out' })
  t.equal(await call(a.port, 'GET', key), null, 'a GET of it at a')
  t.equal(value(await scrape(metricsPort), 'dynakv_forwarded_total', { direction: 'out' }), forwardedBefore + 1, 'was forwarded to b while b shares the secret')

  b = await b.restart(['--cluster-secret', 'rotated-on-b-only'])
  await sleep(1500) // heartbeats every 100 ms: a dials b, and b dials a, many times over
  const reply = await call(a.port, 'GET', key)
  t.ok(reply instanceof Error, 'the forwarded GET fails')
  t.match((reply as Error).message, /^ERR cannot forward to b: .*wrong cluster secret/, `with an -ERR naming the refusal: ${(reply as Error).message}`)
  t.notMatch((reply as Error).message, /internal error/)
  const aboutB = a.output().split('\n').filter(l => / refused /.test(l))
  t.equal(aboutB.length, 1, `a logged b's refusal once: ${aboutB.join(' | ')}`)
  const failed = value(await scrape(metricsPort), 'dynakv_peer_handshakes_failed_total')
  t.ok(failed >= 3, `while ${failed} handshakes with b failed`)
  t.ok(b.running, 'b keeps running: it is a member, not a joiner')
})
