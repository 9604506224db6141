// A connection's replies to commands answered later (a promise): commands of
// any connections given one promise (the plain SETs of one group commit) are
// settled by one reaction, each connection's replies written with one socket
// write, also those of promises settled in one turn; a command given a promise
// that has settled already is still answered.
// The connections run over a fake socket and a fake host (no node, no network).
import t from 'tap'
import { OK, type Reply } from '../../lib/resp/reply.js'
import { connections, host, type FakeSocket } from './fake-connection.js'

const cmd = (...args: string[]): Buffer => Buffer.from(`*${args.length}\r\n${args.map(a => `$${a.length}\r\n${a}\r\n`).join('')}`)
const settle = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

function deferred (): { promise: Promise<Reply>, resolve: (r: Reply) => void, reject: (e: Error) => void } {
  let resolve!: (r: Reply) => void
  let reject!: (e: Error) => void
  const promise = new Promise<Reply>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

t.test('connections given one promise: all answered when it resolves, one write each', async t => {
  const d = deferred()
  const h = host(() => d.promise)
  const [a, b] = connections(h, 2)
  a.emit('data', Buffer.concat([cmd('SET', 'k1', 'v'), cmd('SET', 'k2', 'v')]))
  b.emit('data', cmd('SET', 'k3', 'v'))
  await settle()
  t.same([a.writes, b.writes], [[], []], 'nothing before the promise settles')
  d.resolve(OK)
  await settle()
  t.same(a.writes, ['+OK\r\n+OK\r\n'], 'the pipelined pair in one write')
  t.same(b.writes, ['+OK\r\n'])
})

t.test('connections given one promise that rejects: each gets the error', async t => {
  const d = deferred()
  const h = host(() => d.promise)
  const [a, b] = connections(h, 2)
  a.emit('data', cmd('SET', 'k1', 'v'))
  b.emit('data', cmd('SET', 'k2', 'v'))
  d.reject(new Error('ERR disk on fire'))
  await settle()
  t.same([a.writes, b.writes], [['-ERR internal error: ERR disk on fire\r\n'], ['-ERR internal error: ERR disk on fire\r\n']])
})

t.test('a command given a promise whose reaction has run is still answered', async t => {
  const d = deferred()
  const h = host(() => d.promise)
  const [a, b] = connections(h, 2)
  a.emit('data', cmd('SET', 'k1', 'v'))
  d.resolve(OK)
  await settle()
  t.same(a.writes, ['+OK\r\n'])
  // The same (settled) promise again, on the other connection and then on the first.
  b.emit('data', cmd('SET', 'k2', 'v'))
  a.emit('data', cmd('SET', 'k3', 'v'))
  await settle()
  t.same(b.writes, ['+OK\r\n'], 'not left in the group that already ran')
  t.same(a.writes, ['+OK\r\n', '+OK\r\n'])
})

/** One connection whose first two commands are given two promises of their own. */
function twoPromises (): [FakeSocket, ReturnType<typeof deferred>, ReturnType<typeof deferred>] {
  const first = deferred()
  const second = deferred()
  const given = [first.promise, second.promise]
  return [connections(host(() => given.shift() as Promise<Reply>), 1)[0], first, second]
}

t.test('replies stay in request order across promises settling out of order', async t => {
  const [a, first, second] = twoPromises()
  a.emit('data', Buffer.concat([cmd('SET', 'k1', 'v'), cmd('SET', 'k2', 'v')]))
  second.resolve({ type: 'simple', value: 'SECOND' })
  await settle()
  t.same(a.writes, [], 'the second waits for the first')
  first.resolve({ type: 'simple', value: 'FIRST' })
  await settle()
  t.same(a.writes, ['+FIRST\r\n+SECOND\r\n'])
})

t.test('replies of different promises settled in one turn go out in one write', async t => {
  const [a, first, second] = twoPromises()
  a.emit('data', Buffer.concat([cmd('INCR', 'k1'), cmd('INCR', 'k2')]))
  first.resolve({ type: 'int', value: 1 })
  second.resolve({ type: 'int', value: 2 })
  await settle()
  t.same(a.writes, [':1\r\n:2\r\n'])
})
