// How `dynakv server` fails to start: each failure an operator can fix gets a
// short message on stderr and a non-zero exit code, never a stack trace
// (docs/design.md#running-dynakv; exit codes are lib/cli/server.ts EXIT: usage 2).

import t from 'tap'
import net from 'node:net'
import { once } from 'node:events'
import { freePort, runDynakv, startServer, tempDir } from '../helpers/server.js'
import { exchange, frame } from '../helpers/clients.js'
import { RespClient } from '../../lib/cli/resp-client.js'

const STACK = /^\s+at .+[(:]\d+/m

/** The output's non-empty lines, log timestamps and the `(see dynakv --help)` hint aside. */
function messageLines (output: string): string[] {
  return output.split('\n').filter(l => l.trim() !== '' && l.trim() !== '(see dynakv --help)')
}

async function holdPort (t: { teardown (fn: () => unknown): void }): Promise<number> {
  const port = await freePort()
  const srv = net.createServer(s => s.destroy())
  srv.listen(port, '127.0.0.1')
  await once(srv, 'listening')
  t.teardown(() => { srv.close() })
  return port
}

t.test('a second server on the same --dir exits non-zero: the directory is locked', async tt => {
  const first = await startServer([], { t: tt })
  const second = await startServer([], { t: tt, dir: first.dir, expectFailure: true, readyTimeoutMs: 15000 })
  tt.not(second.exitCode, 0, `exit code is non-zero (${String(second.exitCode)})`)
  tt.not(second.exitCode, null, 'it exited by itself')
  tt.match(second.output(), /locked/i, 'the message says the directory is locked')
  tt.match(second.output(), first.dir, 'and names it')
  tt.notMatch(second.output(), STACK, 'no stack trace')
  const { out } = await exchange(first.port, frame('PING'), { until: b => b.length >= 7 })
  tt.equal(out.toString(), '+PONG\r\n', 'the first server keeps serving')
})

for (const [flags, mention] of [
  [['--partitions', '3'], /--partitions/],
  [['--port', 'abc'], /--port/],
  [['--nope'], /--nope/],
  [['--port', '70000'], /--port/],
  [['--n', '3', '--r', '4'], /--r|--n/],
  [['--log-level', 'loud'], /--log-level/],
  [['--proto-max-bulk-len', '1k'], /--proto-max-bulk-len/],
  [['stray'], /stray/],
  [['--clock-offset-ms', '5000'], /--clock-offset-ms.*--allow-fault-injection/]
] as Array<[string[], RegExp]>) {
  t.test(`bad flags ${flags.join(' ')}: exit code 2 and a one-line message`, async tt => {
    const res = await runDynakv(['server', '--dir', tempDir(), ...flags], { timeoutMs: 15000 })
    tt.equal(res.code, 2, `exit code 2 (output: ${res.output.trim()})`)
    const lines = messageLines(res.output)
    tt.equal(lines.length, 1, 'one line of message')
    tt.match(lines[0] ?? '', /^dynakv: /, 'prefixed with the command name')
    tt.match(lines[0] ?? '', mention, 'naming the flag at fault')
    tt.notMatch(res.output, STACK, 'no stack trace')
  })
}

t.test('an unknown command exits 2', async tt => {
  const res = await runDynakv(['serve'])
  tt.equal(res.code, 2)
  tt.match(messageLines(res.output)[0] ?? '', /^dynakv: .*serve/)
})

t.test('server --help prints the flags and exits 0', async tt => {
  const res = await runDynakv(['server', '--help'])
  tt.equal(res.code, 0)
  for (const flag of ['--port', '--peer-port', '--dir', '--n', '--r', '--w', '--partitions', '--requirepass', '--sync']) tt.match(res.output, flag)
})

t.test('the RESP port in use: a clear message, non-zero exit, no stack trace', async tt => {
  const port = await holdPort(tt)
  const res = await startServer([], { t: tt, port, expectFailure: true })
  tt.not(res.exitCode, 0, `exit code is non-zero (${String(res.exitCode)})`)
  tt.not(res.exitCode, null)
  tt.match(res.output(), /address already in use/i, 'says the address is in use')
  tt.match(res.output(), `:${port}`, 'names the port')
  tt.notMatch(res.output(), STACK, 'no stack trace')
})

t.test('the peer port in use: a clear message, non-zero exit, no stack trace', async tt => {
  const peerPort = await holdPort(tt)
  const res = await startServer([], { t: tt, peerPort, expectFailure: true })
  tt.not(res.exitCode, 0, `exit code is non-zero (${String(res.exitCode)})`)
  tt.not(res.exitCode, null)
  tt.match(res.output(), /address already in use/i, 'says the address is in use')
  tt.match(res.output(), `${peerPort}`, 'names the port')
  tt.notMatch(res.output(), STACK, 'no stack trace')
})

t.test('a data directory refuses another ring size or another node name', async tt => {
  const node = await startServer(['--partitions', '64'], { t: tt, name: 'keeper' })
  await node.stop()
  const partitions = await startServer(['--partitions', '128'], { t: tt, dir: node.dir, name: 'keeper', expectFailure: true })
  tt.not(partitions.exitCode, 0, 'another --partitions: non-zero exit')
  tt.match(partitions.output(), /partitions/i, 'the message is about the ring size')
  tt.notMatch(partitions.output(), STACK, 'no stack trace')
  const renamed = await startServer(['--partitions', '64'], { t: tt, dir: node.dir, name: 'other', expectFailure: true })
  tt.not(renamed.exitCode, 0, 'another --name: non-zero exit')
  tt.match(renamed.output(), /keeper/, "the message names the directory's node")
  tt.notMatch(renamed.output(), STACK, 'no stack trace')
  const again = await node.restart()
  const { out } = await exchange(again.port, frame('PING'), { until: b => b.length >= 7 })
  tt.equal(out.toString(), '+PONG\r\n', 'the right flags still start it')
})

t.test('--clock-offset-ms (tests only) shifts the wall clock the node stamps versions with', async tt => {
  const hourMs = 3_600_000
  const node = await startServer(['--allow-fault-injection', '--clock-offset-ms', String(-hourMs)], { t: tt })
  const c = await RespClient.connect('127.0.0.1', node.port)
  tt.teardown(() => c.close())
  const before = Date.now()
  tt.equal(await c.call('SET', 'k', 'v'), 'OK')
  const after = Date.now()
  const [, , siblings] = await c.call('DEBUG', 'REPLICA', 'k') as [string, string[], string[]]
  const ts = Number(/ts=(\d+)/.exec(siblings[0])?.[1])
  tt.ok(ts >= before - hourMs && ts <= after - hourMs, `stamped ${ts - before} ms from now`)
})

t.test('SIGINT stops the node cleanly too', async tt => {
  const node = await startServer([], { t: tt })
  tt.equal(await node.stop('SIGINT'), 0, 'exit code 0')
  tt.notMatch(node.output(), STACK)
})
