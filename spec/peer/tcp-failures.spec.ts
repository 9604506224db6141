import t from 'tap'
import { createServer, connect, type Server, type Socket } from 'node:net'
import {
  FrameReader,
  HandshakeError,
  PROTOCOL_VERSION_MIN,
  encodeFrame,
  type Message
} from '../../lib/peer/index.js'
import type { CallSink } from '../../lib/peer/transport.js'
import { handshakeAs, outcome, sleep, startNode, waitFor, type Node } from './helpers.js'

async function stopAll (...nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map(async n => await n.transport.stop()))
}

const pingOf = (digest: string): Message & { type: 'PING' } => ({ type: 'PING', digest })

t.test('handshake refused: wrong secret, cluster name, protocol version or node name', async t => {
  const b = await startNode('b')
  t.teardown(() => b.transport.stop())
  const cases: Array<[string, Parameters<typeof startNode>[1], string, RegExp]> = [
    ['wrong secret', { clusterSecret: 'guess' }, 'DYNAKV_PEER_WRONG_SECRET', /refused peer 127\.0\.0\.1:\d+: wrong cluster secret/],
    ['wrong cluster', { clusterName: 'other' }, 'DYNAKV_PEER_WRONG_CLUSTER', /refused peer 127\.0\.0\.1:\d+: wrong cluster name "other"/],
    ['wrong version', { protocolVersion: PROTOCOL_VERSION_MIN - 1 }, 'DYNAKV_PEER_VERSION_MISMATCH', new RegExp(`refused peer 127\\.0\\.0\\.1:\\d+: protocol version ${PROTOCOL_VERSION_MIN - 1} not supported`)]
  ]
  for (const [name, opts, code, logged] of cases) {
    const a = await startNode(`a-${name.replace(/ /g, '-')}`, opts)
    const before = b.transport.stats().refusedHandshakes
    const err = await a.transport.request(b.transport.address(), pingOf('x'), 2000).catch(e => e)
    t.ok(err instanceof HandshakeError, `${name}: a HandshakeError`)
    t.equal(err.code, code, `${name}: ${String(err.message)}`)
    await waitFor('b to log', () => b.log.lines.some(l => logged.test(l)))
    t.pass(`${name}: b logged the reason`)
    t.ok(b.transport.stats().refusedHandshakes > before, `${name}: counted`)
    t.equal(b.received.length, 0, `${name}: no request reached b's handler`)
    t.ok(a.log.lines.some(l => /refused|wrong/.test(l)), `${name}: a logged it too`)
    // backing off after the refusal: the next request fails fast, with the refusal's own code
    t.equal(await outcome(a.transport.request(b.transport.address(), pingOf('y'), 2000)), code, `${name}: fail fast while backing off, still refused`)
    await a.transport.stop()
    await waitFor('b to close it', () => b.transport.stats().connectionsOpen === 0)
  }
  // dialing a name that is not the node at that address
  const a = await startNode('a')
  t.teardown(() => a.transport.stop())
  const err = await a.transport.request({ ...b.transport.address(), name: 'someone-else' }, pingOf('x'), 2000).catch(e => e)
  t.equal(err.code, 'DYNAKV_PEER_WRONG_NAME')
  t.ok(a.log.lines.some(l => /refused peer 127\.0\.0\.1:\d+: wrong node name: expected "someone-else", peer is "b"/.test(l)), 'the dialer logged it')
  // the same transport reaches b under its real name
  t.same(await a.transport.request(b.transport.address(), pingOf('ok'), 2000), { type: 'PONG', digest: 'b:ok', from: 'b' })
  // a seed address (name unknown) learns the name from the handshake
  t.same(await a.transport.request({ ...b.transport.address(), name: null }, pingOf('seed'), 2000), { type: 'PONG', digest: 'b:seed', from: 'b' })
  t.equal(a.transport.stats().connectionsOpen, 1, 'the seed request reused the connection dialed to that address')
})

t.test('request timeout, and a late response is ignored', async t => {
  const b = await startNode('b', { handler: async () => { await sleep(150); return { type: 'PONG', digest: 'late' } } })
  const a = await startNode('a')
  t.teardown(() => stopAll(a, b))
  // Connected first: a 60 ms request that times out during the handshake (a loaded machine) is never sent, and no late response comes.
  t.same(await a.transport.request(b.transport.address(), pingOf(''), 5000), { type: 'PONG', digest: 'late', from: 'b' })
  const started = Date.now()
  const err = await a.transport.request(b.transport.address(), pingOf(''), 60).catch(e => e)
  t.equal(err.code, 'DYNAKV_PEER_TIMEOUT')
  t.match(err.message, /PING to b \(127\.0\.0\.1:\d+\) timed out after 60 ms/)
  t.ok(Date.now() - started >= 55, 'not before the timeout')
  t.equal(a.transport.stats().timeouts, 1)
  await waitFor('the late response', () => a.transport.stats().lateResponses === 1)
  t.equal(a.transport.stats().connections, 1, 'a timeout does not drop the connection')
  t.same(await a.transport.request(b.transport.address(), pingOf(''), 2000), { type: 'PONG', digest: 'late', from: 'b' })
})

t.test('timeouts without a timer per request: a shorter deadline behind a longer one, and a sweep that finds calls answered', async t => {
  // b answers 'slow' after 300 ms, 'silent' after 3 s, and anything else at once.
  const b = await startNode('b', { handler: async (_from, req) => {
    const digest = (req as { digest?: string }).digest
    if (digest === 'slow') await sleep(300)
    if (digest === 'silent') await sleep(3000)
    return { type: 'PONG', digest: 'b' }
  } })
  const a = await startNode('a')
  t.teardown(() => stopAll(a, b))
  const to = b.transport.address()
  // The sweep is armed for the first call's deadline (5 s); the second's (80 ms) is earlier and must re-arm it.
  const order: string[] = []
  const long = a.transport.request(to, pingOf('slow'), 5000).finally(() => order.push('long answered'))
  const started = Date.now()
  const err = await a.transport.request(to, pingOf('slow'), 80).catch(e => e).finally(() => order.push('short timed out'))
  t.equal(err.code, 'DYNAKV_PEER_TIMEOUT', 'the shorter deadline fired, not the armed one')
  t.ok(Date.now() - started >= 75, 'not before its deadline')
  t.same(await long, { type: 'PONG', digest: 'b', from: 'b' }, 'the longer call is answered')
  t.same(order, ['short timed out', 'long answered'], 'the short call timed out before the long one was answered (300 ms), not at the armed 5 s')
  t.equal(a.transport.stats().timeouts, 1)
  // Calls answered before their deadline are gone from the sweep: a later sweep times out only the silent one.
  // The answered calls' deadlines (1 s: room for a loaded machine) all pass before the silent call's (1.2 s).
  for (let i = 0; i < 20; i++) t.same(await a.transport.request(to, pingOf(`${i}`), 1000), { type: 'PONG', digest: 'b', from: 'b' })
  const silent = await a.transport.request(to, pingOf('silent'), 1200).catch(e => e)
  t.equal(silent.code, 'DYNAKV_PEER_TIMEOUT')
  t.equal(a.transport.stats().timeouts, 2, 'one timeout per silent call, none for the answered ones')
})

t.test('peer restart: fail fast while backing off, then reconnect; a new address reconnects', async t => {
  // A backoff far longer than a busy machine's scheduling delays: the request after a failed dial still falls in it.
  const limits = { reconnectBackoffMsMin: 1000, reconnectBackoffMsMax: 2000 }
  const a = await startNode('a', { limits })
  let b = await startNode('b')
  t.teardown(async () => { await stopAll(a, b) })
  const port = b.transport.address().port
  const to = { name: 'b', host: '127.0.0.1', port }
  t.same(await a.transport.request(to, pingOf('1'), 1000), { type: 'PONG', digest: 'b:1', from: 'b' })
  await b.transport.stop()
  await waitFor('a to see the close', () => a.transport.stats().connectionsOpen === 0)
  const first = await a.transport.request(to, pingOf('2'), 1000).catch(e => e)
  t.equal(first.code, 'DYNAKV_PEER_UNREACHABLE', `the dial fails: ${String(first.message)}`)
  // Failing fast: a request whose timeout (60 s) would outlast the spec is refused at once.
  const fast = await a.transport.request(to, pingOf('3'), 60_000).catch(e => e)
  t.equal(fast.code, 'DYNAKV_PEER_UNREACHABLE')
  t.match(fast.message, /next attempt in \d+ ms/)
  t.equal(a.transport.stats().connectionsOpened, 2, 'no dial while backing off')
  // backoff grows: a second failed dial waits longer
  await sleep(limits.reconnectBackoffMsMax + 10)
  t.equal(await outcome(a.transport.request(to, pingOf('4'), 1000)), 'DYNAKV_PEER_UNREACHABLE', 'second dial fails')
  // b comes back on the same port
  b = await startNode('b', { port })
  await sleep(limits.reconnectBackoffMsMax + 10)
  t.same(await a.transport.request(to, pingOf('5'), 1000), { type: 'PONG', digest: 'b:5', from: 'b' }, 'reconnected')
  // and again on another port: a request to the name at its new address reconnects
  await b.transport.stop()
  b = await startNode('b')
  const moved = { name: 'b', host: '127.0.0.1', port: b.transport.address().port }
  t.not(moved.port, port)
  t.same(await a.transport.request(moved, pingOf('6'), 1000), { type: 'PONG', digest: 'b:6', from: 'b' }, 'reached at the new address')
  t.ok(a.log.lines.some(l => /cannot reach peer 127\.0\.0\.1:\d+/.test(l)), 'dial failures logged')
})

t.test('a restarted peer at the same address replaces the old connection', async t => {
  const a = await startNode('a')
  const b1 = await startNode('b')
  const port = b1.transport.address().port
  t.same(await a.transport.request(b1.transport.address(), pingOf('1'), 1000), { type: 'PONG', digest: 'b:1', from: 'b' })
  // b comes back at once and dials a first (the old connection may still be closing on a's side)
  await b1.transport.stop()
  const b2 = await startNode('b', { port })
  t.teardown(() => stopAll(a, b2))
  t.same(await b2.transport.request(a.transport.address(), pingOf('2'), 1000), { type: 'PONG', digest: 'a:2', from: 'a' })
  t.same(await a.transport.request(b2.transport.address(), pingOf('3'), 1000), { type: 'PONG', digest: 'b:3', from: 'b' })
  await waitFor('one connection', () => a.transport.stats().connectionsOpen === 1)
})

/** A raw client that completes the handshake as `name`, as a misbehaving peer would. */
async function rawPeer (port: number, name: string, secret = 'secret'): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port })
  await handshakeAs(socket, name, secret)
  return socket
}

/** Resolves when the server has closed the socket (reading what it sent, so the end is seen). */
const closed = async (socket: Socket): Promise<void> => await new Promise(resolve => {
  if (socket.destroyed) return resolve()
  socket.on('close', () => resolve())
  socket.resume()
})

t.test('garbage, oversized or out-of-place frames drop that connection; the transport serves others', async t => {
  const b = await startNode('b', { limits: { maxFrameBytes: 1 << 16 } })
  const a = await startNode('a')
  t.teardown(() => stopAll(a, b))
  const port = b.transport.address().port
  t.same(await a.transport.request(b.transport.address(), pingOf('before'), 1000), { type: 'PONG', digest: 'b:before', from: 'b' })

  // before the handshake: garbage; a huge length prefix; a request instead of HELLO
  const garbage = connect({ host: '127.0.0.1', port })
  garbage.on('error', () => {})
  garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
  await closed(garbage)
  t.pass('garbage: dropped')
  const huge = connect({ host: '127.0.0.1', port })
  huge.on('error', () => {})
  huge.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x10]))
  await closed(huge)
  t.pass('a 2 GiB length prefix: dropped before any body arrives')
  const early = connect({ host: '127.0.0.1', port })
  early.on('error', () => {})
  const earlyReader = new FrameReader()
  const earlyMsgs: Message[] = []
  early.on('data', c => { earlyReader.push(c); for (let f = earlyReader.next(); f !== null; f = earlyReader.next()) earlyMsgs.push(f.msg) })
  early.write(encodeFrame(1, pingOf('sneaky')))
  await closed(early)
  t.same(earlyMsgs.map(m => m.type), ['HELLO', 'ERROR'], 'a request before the handshake: refused with ERROR')
  t.match((earlyMsgs[1] as { message: string }).message, /PING before the handshake completed/)

  // after an honest handshake: an oversized frame, then a malformed one, then a HELLO
  const big = await rawPeer(port, 'mallory')
  big.write(Buffer.from([0x00, 0x10, 0x00, 0x01]))
  await closed(big)
  t.pass('a frame over maxFrameBytes: dropped')
  const bad = await rawPeer(port, 'mallory')
  bad.write(Buffer.from([0, 0, 0, 6, 0x10, 0, 0, 0, 1, 9]))
  await closed(bad)
  t.pass('a body that does not decode: dropped')
  const again = await rawPeer(port, 'mallory')
  again.write(encodeFrame(0, { type: 'AUTH', proof: Buffer.alloc(32) }))
  await closed(again)
  t.pass('a handshake message after the handshake: dropped')
  t.equal(b.transport.stats().malformedFrames, 5)
  t.ok(b.log.lines.filter(l => /dropped peer .*malformed frame/.test(l)).length >= 3, 'logged')
  t.equal(b.received.length, 1, 'nothing reached the handler')

  // the raw peer's requests work when well-formed, and b keeps serving a
  const good = await rawPeer(port, 'mallory')
  good.write(encodeFrame(42, pingOf('hi')))
  const reply = await new Promise<Message>(resolve => {
    const r = new FrameReader()
    good.on('data', c => { r.push(c); const f = r.next(); if (f !== null) resolve(f.msg) })
    good.resume()
  })
  t.same(reply, { type: 'PONG', digest: 'b:hi' })
  good.destroy()
  t.same(await a.transport.request(b.transport.address(), pingOf('after'), 1000), { type: 'PONG', digest: 'b:after', from: 'b' })
  t.equal(b.transport.stats().connections >= 1, true)
})

t.test('handshake timeout: a silent peer is dropped on both ends', async t => {
  const accepted: Socket[] = []
  const silent: Server = createServer(socket => {
    socket.on('error', () => {})
    accepted.push(socket)
  })
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const s of accepted) s.destroy()
    await new Promise<void>(resolve => silent.close(() => resolve()))
  })
  const a = await startNode('a', { limits: { handshakeTimeoutMs: 100 } })
  t.teardown(() => a.transport.stop())
  const port = (silent.address() as { port: number }).port
  const err = await a.transport.request({ name: 'x', host: '127.0.0.1', port }, pingOf(''), 2000).catch(e => e)
  t.equal(err.code, 'DYNAKV_PEER_HANDSHAKE_TIMEOUT')
  t.equal(a.transport.stats().failedHandshakes, 1)
  // the acceptor side: a client that connects and says nothing
  const mute = connect({ host: '127.0.0.1', port: a.transport.address().port })
  mute.on('error', () => {})
  await closed(mute)
  t.ok(a.log.lines.some(l => /handshake with peer 127\.0\.0\.1:\d+ timed out after 100 ms/.test(l)))
})

t.test('stop() fails outstanding requests, and the peer sees the connection lost', async t => {
  const b = await startNode('b', { handler: async () => await new Promise(() => {}) })
  const a = await startNode('a', { handler: async () => await new Promise(() => {}) })
  const pending = outcome(a.transport.request(b.transport.address(), pingOf('1'), 5000))
  await waitFor('b to receive', () => b.transport.stats().requestsReceived === 1)
  const reverse = outcome(b.transport.request(a.transport.address(), pingOf('2'), 5000))
  await waitFor('a to receive', () => a.transport.stats().requestsReceived === 1)
  a.transport.faults.delayMs = 1000
  const delayed = outcome(a.transport.request(b.transport.address(), pingOf('4'), 5000))
  await sleep(20)
  await a.transport.stop()
  t.equal(await pending, 'DYNAKV_PEER_STOPPED')
  t.equal(await delayed, 'DYNAKV_PEER_STOPPED', 'a request held back by the fault delay')
  t.equal(await reverse, 'DYNAKV_PEER_CONNECTION_LOST', 'the peer\'s request on that connection')
  t.equal(await outcome(a.transport.request(b.transport.address(), pingOf('5'), 100)), 'DYNAKV_PEER_STOPPED', 'after stop')
  await a.transport.stop()
  await b.transport.stop()
  t.equal(a.transport.stats().connectionsOpen, 0)
})

t.test('send: a request without a promise tells its sink once: the answer, a remote error, a timeout, never during send', async t => {
  // b answers 'slow' never, 'bad' with an error, anything else at once.
  const b = await startNode('b', { handler: async (_from, req) => {
    const digest = (req as { digest?: string }).digest
    if (digest === 'slow') return await new Promise(() => {})
    if (digest === 'bad') throw Object.assign(new Error('refused'), { code: 'DYNAKV_TEST' })
    return { type: 'PONG', digest: `b:${digest ?? ''}` }
  } })
  const a = await startNode('a')
  t.teardown(() => stopAll(a, b))
  const told: Array<{ tag: number, ctx: unknown, code: string | null, digest: string | null, from: string | null }> = []
  let sending = false
  const sink: CallSink = {
    callDone (call, err, res) {
      t.notOk(sending, `tag ${call.tag}: not told during send`)
      told.push({ tag: call.tag, ctx: call.ctx, code: err?.code ?? null, digest: (res as { digest?: string } | null)?.digest ?? null, from: res?.from ?? null })
    }
  }
  const send = (digest: string, tag: number, timeoutMs = 2000, to = b.transport.address()): void => {
    sending = true
    a.transport.send(to, pingOf(digest), timeoutMs, sink, 'round', tag)
    sending = false
  }
  send('ok', 1)
  send('bad', 2)
  send('slow', 3, 60)
  send('x', 4, -1) // refused at once: told later all the same
  await waitFor('four outcomes', () => told.length === 4)
  told.sort((x, y) => x.tag - y.tag)
  t.same(told, [
    { tag: 1, ctx: 'round', code: null, digest: 'b:ok', from: 'b' },
    { tag: 2, ctx: 'round', code: 'DYNAKV_TEST', digest: null, from: null },
    { tag: 3, ctx: 'round', code: 'DYNAKV_PEER_TIMEOUT', digest: null, from: null },
    { tag: 4, ctx: 'round', code: 'DYNAKV_PEER_INVALID_MESSAGE', digest: null, from: null }
  ])
  t.equal(a.transport.stats().timeouts, 1, 'the silent call timed out by the sweep')
  // Outstanding when the transport stops: told once, STOPPED; and after stop, at once refused, told later.
  // (counted from here: under load the 60 ms call above may time out while the handshake runs, and never reach b)
  const received = b.transport.stats().requestsReceived
  send('slow', 5, 5000)
  await waitFor('b to receive it', () => b.transport.stats().requestsReceived === received + 1)
  await a.transport.stop()
  send('ok', 6)
  await waitFor('both told', () => told.length === 6)
  t.same(told.slice(4).map(x => [x.tag, x.code]), [[5, 'DYNAKV_PEER_STOPPED'], [6, 'DYNAKV_PEER_STOPPED']])
  await sleep(100)
  t.equal(told.length, 6, 'each call told once')
})
