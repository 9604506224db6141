import t, { type Test } from 'tap'
import { PeerRemoteError, PROTOCOL_VERSION_MIN, type Request, type RequestHandler, type TcpTransport } from '../../lib/peer/index.js'
import { echo, outcome, sleep, startNode, waitFor, type Node } from './helpers.js'

const TIMEOUT_MS = 3000

function ping (from: Node, to: Node, digest: string): Promise<unknown> {
  return from.transport.request(to.transport.address(), { type: 'PING', digest }, TIMEOUT_MS)
}

async function stopAll (...nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map(async n => await n.transport.stop()))
}

t.test('two transports: concurrent requests both ways share one connection', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(() => stopAll(a, b))
  // a connects first; from then on both directions use that one connection
  t.same(await ping(a, b, 'hello'), { type: 'PONG', digest: 'b:hello', from: 'b' })
  const n = 200
  const fromA = Array.from({ length: n }, async (_, i) => await a.transport.request(b.transport.address(), { type: 'GET_REPLICA', key: Buffer.from(`k${i}`), hintFor: null }, TIMEOUT_MS))
  const fromB = Array.from({ length: n }, async (_, i) => await b.transport.request(a.transport.address(), { type: 'PING', digest: `d${i}` }, TIMEOUT_MS))
  const [resA, resB] = await Promise.all([Promise.all(fromA), Promise.all(fromB)])
  for (let i = 0; i < n; i++) {
    t.same(resA[i], { type: 'OBJECT', obj: Buffer.from(`b:k${i}`), from: 'b' })
    t.same(resB[i], { type: 'PONG', digest: `a:d${i}`, from: 'a' })
  }
  for (const node of [a, b]) {
    const stats = node.transport.stats()
    t.equal(stats.connectionsOpened, 1, `${node.transport.name}: one socket ever opened`)
    t.equal(stats.connections, 1, `${node.transport.name}: one connection`)
  }
  t.equal(a.transport.stats().requestsSent, n + 1)
  t.equal(a.transport.stats().requestsReceived, n)
  t.equal(b.transport.stats().requestsReceived, n + 1)
  t.equal(a.received.length, n, 'every request of b handled once by a')
  t.ok(b.received.every(r => r.from === 'a'), 'the handler sees the authenticated name')
})

t.test('three transports: every pair talks both ways over one connection', async t => {
  const nodes = await Promise.all(['n1', 'n2', 'n3'].map(async name => await startNode(name)))
  t.teardown(() => stopAll(...nodes))
  const calls: Array<Promise<unknown>> = []
  for (let round = 0; round < 30; round++) {
    for (const from of nodes) {
      for (const to of nodes) {
        if (from !== to) calls.push(ping(from, to, `${round}`).then(res => t.same(res, { type: 'PONG', digest: `${to.transport.name}:${round}`, from: to.transport.name })))
      }
    }
  }
  await Promise.all(calls)
  // both ends of each pair dialed at once: the duplicates drain and close
  await waitFor('one connection per pair', () => nodes.every(n => n.transport.stats().connectionsOpen === 2))
  for (const n of nodes) {
    t.equal(n.transport.stats().connections, 2, `${n.transport.name}: two peers, two connections`)
    for (const info of n.transport.connectionInfo()) {
      const pair = [n.transport.name, info.peer as string].sort()
      t.equal(info.dialedBy, pair[0], `${n.transport.name}-${String(info.peer)}: kept the connection dialed by ${pair[0]}`)
    }
    t.equal(n.received.length, 60, `${n.transport.name} handled each request once`)
  }
})

t.test('the dialer reads into one reused buffer: frames larger than it, and split across reads, arrive intact both ways', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(() => stopAll(a, b))
  t.same(await ping(a, b, 'hello'), { type: 'PONG', digest: 'b:hello', from: 'b' }) // a dialed: its socket reads through onread
  // Keys of many sizes, each a different byte pattern, in one burst: the responses to a (and b's requests to a)
  // fill the 64 KB receive buffer many times over and end mid-frame, so a partial frame must survive the next read.
  const sizes = [300_000, 7, 65_536, 70_001, 1, 131_071, 40_000, 3, 200_000]
  const keyOf = (i: number): Buffer => Buffer.alloc(sizes[i], i + 1)
  const fromA = sizes.map(async (_, i) => await a.transport.request(b.transport.address(), { type: 'GET_REPLICA', key: keyOf(i), hintFor: null }, TIMEOUT_MS))
  const fromB = sizes.map(async (_, i) => await b.transport.request(a.transport.address(), { type: 'GET_REPLICA', key: keyOf(i), hintFor: null }, TIMEOUT_MS))
  const [resA, resB] = await Promise.all([Promise.all(fromA), Promise.all(fromB)])
  for (let i = 0; i < sizes.length; i++) {
    t.ok((resA[i] as { obj: Buffer }).obj.equals(Buffer.concat([Buffer.from('b:'), keyOf(i)])), `a's response ${i} (${sizes[i]} B) intact`)
    t.ok((resB[i] as { obj: Buffer }).obj.equals(Buffer.concat([Buffer.from('a:'), keyOf(i)])), `b's response ${i} (${sizes[i]} B) intact`)
  }
  t.equal(a.received.length, sizes.length)
  t.ok(a.received.every((r, i) => (r.req as { key: Buffer }).key.equals(keyOf(i))), 'a received every request of b intact')
  t.equal(a.transport.stats().connectionsOpened, 1, 'one connection, dialed by a')
  t.equal(a.transport.stats().malformedFrames + b.transport.stats().malformedFrames, 0)
})

t.test('simultaneous dial: one connection survives, and no request fails or runs twice', async t => {
  // slow handlers keep requests in flight on the losing connection while it is retired
  const receivedA: Array<{ from: string, req: Request }> = []
  const receivedB: Array<{ from: string, req: Request }> = []
  const x = await startNode('alpha', { handler: echo('alpha', receivedA, 30) })
  const y = await startNode('beta', { handler: echo('beta', receivedB, 30) })
  t.teardown(() => stopAll(x, y))
  const n = 50
  const calls: Array<Promise<unknown>> = []
  // the first request of each side goes out in the same tick: both dial
  for (let i = 0; i < n; i++) {
    calls.push(ping(x, y, `x${i}`))
    calls.push(ping(y, x, `y${i}`))
    if (i % 10 === 9) await sleep(3)
  }
  const results = await Promise.allSettled(calls)
  t.same(results.filter(r => r.status === 'rejected'), [], 'no request failed')
  t.equal(receivedA.length, n, 'alpha ran each of beta\'s requests once')
  t.equal(receivedB.length, n, 'beta ran each of alpha\'s requests once')
  t.same(new Set(receivedB.map(r => (r.req as { digest: string }).digest)).size, n)
  await waitFor('the duplicate connection to close', () => x.transport.stats().connectionsOpen === 1 && y.transport.stats().connectionsOpen === 1)
  t.equal(x.transport.stats().connectionsOpened, 2, 'both sides dialed')
  for (const node of [x, y]) t.ok(node.log.lines.some(l => /drained the duplicate connection/.test(l)), `${node.transport.name} drained the loser`)
  for (const node of [x, y]) {
    const [info] = node.transport.connectionInfo()
    t.equal(info.dialedBy, 'alpha', `${node.transport.name} kept the connection dialed by the smaller name`)
    t.equal(info.state, 'ready')
  }
  // and the survivor carries traffic both ways
  t.same(await ping(y, x, 'after'), { type: 'PONG', digest: 'alpha:after', from: 'alpha' })
  t.same(await ping(x, y, 'after'), { type: 'PONG', digest: 'beta:after', from: 'beta' })
  t.equal(x.transport.stats().connectionsOpened, 2, 'no new connection')
})

t.test('a handler that throws answers ERROR: the request rejects with its code and message', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(() => stopAll(a, b))
  const err = await a.transport.request(b.transport.address(), { type: 'FLUSH' }, TIMEOUT_MS).catch(e => e)
  t.ok(err instanceof PeerRemoteError)
  t.equal(err.code, 'DYNAKV_TEST_REFUSED')
  t.equal(err.message, 'flush refused by b')
  const plain = await a.transport.request(b.transport.address(), { type: 'SCAN_KEYS', start: Buffer.alloc(0), end: null, limit: 1 }, TIMEOUT_MS).catch(e => e)
  t.equal(plain.code, 'DYNAKV_PEER_HANDLER', 'an error without a code')
  t.match(plain.message, /unexpected SCAN_KEYS/)
  t.equal(a.transport.stats().errorsReceived, 2)
  // a handler answering with the wrong response type is a bug reported as ERROR
  const c = await startNode('c', { handler: async () => ({ type: 'OK' }) })
  t.teardown(() => c.transport.stop())
  t.equal(await outcome(a.transport.request(c.transport.address(), { type: 'PING', digest: '' }, TIMEOUT_MS)), 'DYNAKV_PEER_BAD_RESPONSE')
  t.equal(await outcome(a.transport.request(c.transport.address(), { type: 'FLUSH' }, TIMEOUT_MS)), 'resolved')
})

t.test('write coalescing: requests of one tick leave in one socket write', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(() => stopAll(a, b))
  await ping(a, b, 'warm up')
  const before = a.transport.stats()
  const calls = Array.from({ length: 100 }, async (_, i) => await ping(a, b, `${i}`))
  await Promise.all(calls)
  const after = a.transport.stats()
  t.equal(after.requestsSent - before.requestsSent, 100)
  t.equal(after.socketWrites - before.socketWrites, 1, '100 frames, one write')
  t.ok(b.transport.stats().socketWrites < 100, `responses coalesced too (${b.transport.stats().socketWrites} writes)`)
})

/** n PUT_REPLICAs from a to b in one turn: the frames b sent back for them. */
async function okFrames (t: Test, a: Node, b: Node, n: number): Promise<number> {
  await ping(a, b, 'warm up')
  const frames = (): number => b.transport.peerTraffic().get('a')?.framesSent ?? 0
  const before = frames()
  const received = a.transport.stats().responsesReceived
  const puts = Array.from({ length: n }, async (_, i) => await a.transport.request(b.transport.address(), { type: 'PUT_REPLICA', key: Buffer.from(`k${i}`), obj: Buffer.from('v'), hintFor: null }, TIMEOUT_MS))
  const res = await Promise.all(puts)
  t.ok(res.every(r => r.type === 'OK' && r.from === 'b'), 'every PUT_REPLICA answered OK by b')
  t.equal(a.transport.stats().responsesReceived - received, n, 'one response counted per request')
  return frames() - before
}

t.test('the OKs of one turn leave as one OKS frame, each request answered', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(() => stopAll(a, b))
  const sent = await okFrames(t, a, b, 100)
  t.ok(sent < 50, `100 OKs in ${sent} frames`)
  // and a lone OK still works (a plain OK frame)
  t.same(await a.transport.request(b.transport.address(), { type: 'PUT_REPLICA', key: Buffer.from('k'), obj: Buffer.from('v'), hintFor: null }, TIMEOUT_MS), { type: 'OK', from: 'b' })
})

t.test('requests whose handler returned one promise are answered together once it settles, each under its own id', async t => {
  // The handler hands every PUT_REPLICA of a turn the same promise (a group commit's), and PING an answer at hand.
  interface Turn { promise: Promise<undefined>, resolve: () => void, reject: (e: Error) => void }
  let turn: Turn | null = null
  const turns: Turn[] = []
  let again: Promise<undefined> | null = null
  const handler: RequestHandler = (_from, req) => {
    if (req.type === 'PING') return { type: 'PONG', digest: req.digest }
    if (again !== null) return again
    if (turn === null) {
      let resolve!: () => void
      let reject!: (e: Error) => void
      const promise = new Promise<undefined>((res, rej) => { resolve = () => res(undefined); reject = rej })
      turns.push(turn = { promise, resolve, reject })
      setImmediate(() => { turn = null })
    }
    return turn.promise
  }
  const a = await startNode('a')
  const b = await startNode('b', { handler })
  t.teardown(() => stopAll(a, b))
  await ping(a, b, 'warm up')
  const put = (i: number): Promise<unknown> => a.transport.request(b.transport.address(), { type: 'PUT_REPLICA', key: Buffer.from(`k${i}`), obj: Buffer.from('v'), hintFor: null }, TIMEOUT_MS)
  const first = Array.from({ length: 20 }, (_, i) => outcome(put(i)))
  const pong = ping(a, b, 'between')
  await waitFor('the first turn', () => turns.length === 1 && b.transport.stats().requestsReceived >= 22)
  t.same(await pong, { type: 'PONG', digest: 'between', from: 'b' }, 'a response at hand is not held behind the pending promise')
  const second = Array.from({ length: 5 }, (_, i) => outcome(put(100 + i)))
  await waitFor('the second turn', () => turns.length === 2)
  turns[1].reject(Object.assign(new Error('disk full'), { code: 'DYNAKV_TEST_DISK' }))
  t.same(await Promise.all(second), Array(5).fill('DYNAKV_TEST_DISK'), 'a rejection answers each request of its group with the ERROR')
  turns[0].resolve()
  t.same(await Promise.all(first), Array(20).fill('resolved'), 'each request of the first group answered OK')
  t.equal(turns.length, 2, 'one promise per turn')
  // a group is closed once answered: a later request handed the same (settled) promise is a new group, answered too
  again = turns[1].promise
  t.same(await Promise.all([put(200), put(201)].map(outcome)), ['DYNAKV_TEST_DISK', 'DYNAKV_TEST_DISK'])
})

t.test('a version-2 peer (before OKS) gets an OK frame for each request', async t => {
  const a = await startNode('a', { protocolVersion: PROTOCOL_VERSION_MIN })
  const b = await startNode('b')
  t.teardown(() => stopAll(a, b))
  t.equal(await okFrames(t, a, b, 20), 20, 'one frame per OK')
})

t.test('write coalescing: frames of one event-loop turn leave in one write, however many promise continuations produced them', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(() => stopAll(a, b))
  await ping(a, b, 'warm up')
  const before = a.transport.stats()
  const calls: Array<Promise<unknown>> = []
  // each request from a later microtask, as replies to a group commit or to several reads come
  for (let i = 0; i < 20; i++) {
    calls.push(ping(a, b, `${i}`))
    await Promise.resolve()
  }
  await Promise.all(calls)
  const after = a.transport.stats()
  t.equal(after.requestsSent - before.requestsSent, 20)
  t.equal(after.socketWrites - before.socketWrites, 1, '20 frames from 20 continuations, one write')
})

t.test('bounded: outstanding requests per connection fail fast past the limit', async t => {
  const b = await startNode('b', { handler: async () => await new Promise(() => {}) })
  const a = await startNode('a', { limits: { maxOutstandingPerConnection: 4 } })
  t.teardown(() => stopAll(a, b))
  const calls = Array.from({ length: 6 }, async () => await outcome(a.transport.request(b.transport.address(), { type: 'PING', digest: '' }, 300)))
  const codes = await Promise.all(calls)
  t.same(codes.filter(c => c === 'DYNAKV_PEER_OVERLOADED').length, 2, 'two over the limit, failed fast')
  t.same(codes.filter(c => c === 'DYNAKV_PEER_TIMEOUT').length, 4)
  // the same bound once the connection is up
  const again = await Promise.all(Array.from({ length: 6 }, async () => await outcome(a.transport.request(b.transport.address(), { type: 'PING', digest: '' }, 300))))
  t.same(again.filter(c => c === 'DYNAKV_PEER_OVERLOADED').length, 2, 'on an established connection too')
  // inbound: a peer past maxInboundPerConnection gets ERROR OVERLOADED
  // c answers only the 'connect' ping: connected first, as 300 ms requests that time out during the handshake (a loaded machine) never reach c.
  const c = await startNode('c', { handler: async (_from, req) => (req as { digest?: string }).digest === 'connect' ? { type: 'PONG', digest: '' } : await new Promise(() => {}), limits: { maxInboundPerConnection: 2 } })
  t.teardown(() => c.transport.stop())
  t.equal(await outcome(a.transport.request(c.transport.address(), { type: 'PING', digest: 'connect' }, 5000)), 'resolved')
  const inbound = await Promise.all([1, 2, 3].map(async () => await outcome(a.transport.request(c.transport.address(), { type: 'PING', digest: '' }, 300))))
  t.same(inbound.sort(), ['DYNAKV_PEER_OVERLOADED', 'DYNAKV_PEER_TIMEOUT', 'DYNAKV_PEER_TIMEOUT'])
})

t.test('requests that do not fit are refused before anything is sent', async t => {
  const a = await startNode('a', { limits: { maxFrameBytes: 1024 } })
  const b = await startNode('b')
  t.teardown(() => stopAll(a, b))
  const to = b.transport.address()
  t.equal(await outcome(a.transport.request(to, { type: 'REPLY', reply: Buffer.alloc(1) } as unknown as Request, 100)), 'DYNAKV_PEER_INVALID_MESSAGE', 'a response type')
  t.equal(await outcome(a.transport.request(to, { type: 'PING', digest: '' }, 0)), 'DYNAKV_PEER_INVALID_MESSAGE', 'no timeout')
  t.equal(await outcome(a.transport.request(to, { type: 'PUT_REPLICA', key: Buffer.alloc(1), obj: Buffer.alloc(2000), hintFor: null }, 1000)), 'DYNAKV_PEER_INVALID_MESSAGE', 'over maxFrameBytes')
  t.equal(await outcome(a.transport.request(to, { type: 'PING', digest: 'still fine' }, 1000)), 'resolved')
  t.throws(() => new (a.transport.constructor as typeof TcpTransport)({ name: 'x', host: '127.0.0.1', port: 0, clusterName: 'c', clusterSecret: 's', limits: { maxFrameBytes: 0 } }), RangeError)
  await t.rejects(a.transport.start(async () => ({ type: 'OK' })), /already started/)
})
