import t from 'tap'
import { Faults, type Request } from '../../lib/peer/index.js'
import { outcome, startNode } from './helpers.js'

t.test('Faults: off by default, clear() restores that', async t => {
  const f = new Faults()
  const put: Request = { type: 'PUT_REPLICA', key: Buffer.from('k'), obj: Buffer.alloc(1), hintFor: null }
  t.equal(f.dropsSend('b', put), false)
  t.equal(f.dropsReceive('b'), false)
  t.equal(f.delayMs, 0)
  f.partitioned.add('b')
  f.delayMs = 5
  f.dropRequest = () => true
  t.equal(f.dropsSend('b', put), true)
  t.equal(f.dropsSend('c', put), true)
  t.equal(f.dropsReceive('b'), true)
  t.equal(f.dropsReceive('c'), false)
  f.ackUnhandled = () => true
  f.clear()
  t.same([f.partitioned.size, f.delayMs, f.dropRequest, f.ackUnhandled], [0, 0, null, null])
})

t.test('TCP: a partition makes requests both ways time out, and clear() heals it', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(async () => { await a.transport.stop(); await b.transport.stop() })
  // A ping that must be answered gets 5 s (150 ms, the handshake included, timed out under load ~15);
  // one that must time out keeps 150 ms.
  const ping = async (from: typeof a, to: typeof a, timeoutMs = 150): Promise<string> =>
    await outcome(from.transport.request(to.transport.address(), { type: 'PING', digest: '' }, timeoutMs))
  const answered = 5000
  t.equal(await ping(a, b, answered), 'resolved', 'connected')
  a.transport.faults.partitioned.add('b')
  t.equal(await ping(a, b), 'DYNAKV_PEER_TIMEOUT', 'a -> b dropped on send')
  t.equal(await ping(b, a), 'DYNAKV_PEER_TIMEOUT', 'b -> a dropped on receive')
  t.equal(b.received.length, 1, 'b saw nothing new')
  t.equal(a.received.length, 0)
  t.ok(a.transport.stats().droppedByFaults >= 2)
  t.equal(a.transport.stats().connections, 1, 'the connection stays up, as under a real partition')
  a.transport.faults.clear()
  t.equal(await ping(a, b, answered), 'resolved', 'healed')
  t.equal(await ping(b, a, answered), 'resolved')
  // partitioned on the receiving side only: b drops a's requests and its responses to a
  b.transport.faults.partitioned.add('a')
  t.equal(await ping(a, b), 'DYNAKV_PEER_TIMEOUT')
  b.transport.faults.clear()
  // a partition before any connection: nothing is dialed, the request times out
  const c = await startNode('c')
  t.teardown(() => c.transport.stop())
  a.transport.faults.partitioned.add('c')
  t.equal(await ping(a, c), 'DYNAKV_PEER_TIMEOUT')
  t.equal(c.transport.stats().connectionsOpened, 0)
})

t.test('TCP: dropRequest drops just the chosen requests', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(async () => { await a.transport.stop(); await b.transport.stop() })
  a.transport.faults.dropRequest = (to, req) => to === 'b' && req.type === 'PUT_REPLICA' && req.key.toString() === 'lost'
  // The kept requests (the first with the handshake) get 5 s: 150 ms is a window a loaded machine misses.
  const put = (key: string): Promise<string> => outcome(a.transport.request(b.transport.address(), { type: 'PUT_REPLICA', key: Buffer.from(key), obj: Buffer.from('v'), hintFor: null }, key === 'lost' ? 150 : 5000))
  t.same(await Promise.all([put('lost'), put('kept'), put('lost'), put('also kept')]), ['DYNAKV_PEER_TIMEOUT', 'resolved', 'DYNAKV_PEER_TIMEOUT', 'resolved'])
  t.same(b.received.map(r => (r.req as { key: Buffer }).key.toString()).sort(), ['also kept', 'kept'])
})

t.test('TCP: ackUnhandled answers OK without running the handler', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(async () => { await a.transport.stop(); await b.transport.stop() })
  b.transport.faults.ackUnhandled = (from, req) => from === 'a' && req.type === 'PUT_REPLICA' && req.key.toString() === 'lied'
  const put = (key: string): Promise<string> => outcome(a.transport.request(b.transport.address(), { type: 'PUT_REPLICA', key: Buffer.from(key), obj: Buffer.from('v'), hintFor: null }, 1000))
  t.same(await Promise.all([put('lied'), put('kept')]), ['resolved', 'resolved'], 'both acknowledged')
  t.same(b.received.map(r => (r.req as { key: Buffer }).key.toString()), ['kept'], 'only one handled')
})

t.test('TCP: delayMs holds each outgoing request back', async t => {
  const a = await startNode('a')
  const b = await startNode('b')
  t.teardown(async () => { await a.transport.stop(); await b.transport.stop() })
  await a.transport.request(b.transport.address(), { type: 'PING', digest: '' }, 1000)
  a.transport.faults.delayMs = 120
  const start = Date.now()
  await a.transport.request(b.transport.address(), { type: 'PING', digest: '' }, 1000)
  t.ok(Date.now() - start >= 115, `took ${Date.now() - start} ms`)
  t.equal(await outcome(a.transport.request(b.transport.address(), { type: 'PING', digest: '' }, 60)), 'DYNAKV_PEER_TIMEOUT', 'the delay counts against the timeout')
  // Cleared: a request that a still-present delay (10 s) would make time out (5 s) is answered.
  a.transport.faults.delayMs = 10_000
  a.transport.faults.clear()
  t.equal(await outcome(a.transport.request(b.transport.address(), { type: 'PING', digest: '' }, 5000)), 'resolved', 'no delay once cleared')
})
