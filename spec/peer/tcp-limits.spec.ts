import t from 'tap'
import { createServer, type Server, type Socket } from 'node:net'
import { FrameReader, Handshake, NONCE_BYTES, encodeFrame, type Message } from '../../lib/peer/index.js'
import { handshakeAs, outcome, sleep, startNode, waitFor } from './helpers.js'

/** A server that completes the handshake as `name` and then stops reading (a stuck peer). */
async function sinkServer (name: string): Promise<{ server: Server, port: number, sockets: Socket[] }> {
  const sockets: Socket[] = []
  const server = createServer(socket => {
    sockets.push(socket)
    socket.on('error', () => {})
    handshakeAs(socket, name, 'secret', 3).catch(() => {})
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port, sockets }
}

t.test('a peer that stops reading: the write buffer bound fails requests fast', async t => {
  const sink = await sinkServer('sink')
  const a = await startNode('a', { limits: { maxWriteBufferBytes: 1 << 20, maxOutstandingPerConnection: 4096 } })
  t.teardown(async () => {
    await a.transport.stop()
    for (const s of sink.sockets) s.destroy()
    await new Promise<void>(resolve => sink.server.close(() => resolve()))
  })
  const to = { name: 'sink', host: '127.0.0.1', port: sink.port }
  const obj = Buffer.alloc(256 * 1024, 1)
  const calls: Array<Promise<string>> = []
  let overloaded = false
  // the kernel's socket buffers absorb some megabytes first; bounded attempts
  for (let i = 0; i < 2000 && !overloaded; i++) {
    const p = outcome(a.transport.request(to, { type: 'PUT_REPLICA', key: Buffer.from(`${i}`), obj, hintFor: null }, 5000))
    calls.push(p)
    const early = await Promise.race([p, sleep(1).then(() => 'pending')])
    if (early === 'DYNAKV_PEER_OVERLOADED') overloaded = true
  }
  t.ok(overloaded, `failed fast with DYNAKV_PEER_OVERLOADED after ${calls.length} requests`)
  t.equal(a.transport.stats().connections, 1, 'the connection stays')
  await a.transport.stop()
  t.ok((await Promise.all(calls)).every(c => c === 'DYNAKV_PEER_OVERLOADED' || c === 'DYNAKV_PEER_STOPPED'))
})

t.test('a peer that sends requests but does not read the answers: reading pauses until it does', async t => {
  const big = Buffer.alloc(512 * 1024, 2)
  const b = await startNode('b', {
    handler: async () => ({ type: 'OBJECT', obj: big }),
    limits: { maxWriteBufferBytes: 1 << 20 }
  })
  t.teardown(() => b.transport.stop())
  // a raw client: handshake, then a stream of GET_REPLICA without reading
  const { connect } = await import('node:net')
  const socket = connect({ host: '127.0.0.1', port: b.transport.address().port })
  socket.on('error', () => {})
  const hs = new Handshake({ nodeName: 'greedy', clusterName: 'test', clusterSecret: 'secret', expectedPeer: null, nonce: Buffer.alloc(NONCE_BYTES, 5) })
  socket.write(encodeFrame(0, hs.hello))
  const reader = new FrameReader(1 << 22)
  const answers: Message[] = []
  let reading = true
  socket.on('data', chunk => {
    reader.push(chunk)
    for (let f = reader.next(); f !== null; f = reader.next()) {
      if (!hs.complete) {
        const reply = hs.receive(f.msg)
        if (reply !== null) socket.write(encodeFrame(0, reply))
      } else {
        answers.push(f.msg)
      }
    }
    if (hs.complete && reading) {
      reading = false
      socket.pause()
    }
  })
  await waitFor('the handshake', () => hs.complete)
  // requests trickle in, a few at a time, until b pauses (bounded)
  let n = 0
  while (n < 400 && !b.transport.connectionInfo().some(c => c.readPaused)) {
    for (let i = 0; i < 4; i++) socket.write(encodeFrame(++n, { type: 'GET_REPLICA', key: Buffer.from(`${n}`), hintFor: null }))
    await sleep(2)
  }
  t.ok(b.transport.connectionInfo().some(c => c.readPaused), `b paused reading after ${n} requests`)
  for (let i = 0; i < 20; i++) socket.write(encodeFrame(++n, { type: 'GET_REPLICA', key: Buffer.from(`${n}`), hintFor: null }))
  await sleep(20)
  const handled = b.transport.stats().requestsReceived
  t.ok(handled < n, `b stopped taking requests at ${handled} of ${n}`)
  await sleep(50)
  t.equal(b.transport.stats().requestsReceived, handled, 'and takes no more while paused')
  socket.resume()
  await waitFor('every answer', () => answers.length === n, 10_000)
  t.ok(answers.every(m => m.type === 'OBJECT'))
  t.notOk(b.transport.connectionInfo().some(c => c.readPaused), 'reading resumed')
  socket.destroy()
})

t.test('a handler answer too large to send becomes ERROR; a handler that throws synchronously too', async t => {
  const b = await startNode('b', {
    limits: { maxFrameBytes: 4096 },
    handler: (from, req) => {
      if (req.type === 'FLUSH') throw Object.assign(new Error('sync'), { code: 'DYNAKV_TEST_SYNC' })
      return Promise.resolve({ type: 'OBJECT', obj: Buffer.alloc(10_000) })
    }
  })
  const a = await startNode('a')
  t.teardown(async () => { await a.transport.stop(); await b.transport.stop() })
  const err = await a.transport.request(b.transport.address(), { type: 'GET_REPLICA', key: Buffer.from('k'), hintFor: null }, 1000).catch(e => e)
  t.equal(err.code, 'DYNAKV_PEER_INVALID_MESSAGE')
  t.match(err.message, /exceeds the limit of 4096/)
  t.ok(b.log.lines.some(l => /cannot send OBJECT to a/.test(l)))
  t.equal(await outcome(a.transport.request(b.transport.address(), { type: 'FLUSH' }, 1000)), 'DYNAKV_TEST_SYNC')
})

t.test('a partition that starts while a handler runs drops its answer', async t => {
  let release: () => void = () => {}
  const b = await startNode('b', { handler: async () => { await new Promise<void>(resolve => { release = resolve }); return { type: 'OK' } } })
  const a = await startNode('a')
  t.teardown(async () => { await a.transport.stop(); await b.transport.stop() })
  // Connected first: a 300 ms request that times out during the handshake (a loaded machine) never reaches b.
  const first = outcome(a.transport.request(b.transport.address(), { type: 'FLUSH' }, 5000))
  await waitFor('b to receive', () => b.transport.stats().requestsReceived === 1)
  release()
  t.equal(await first, 'resolved')
  const p = outcome(a.transport.request(b.transport.address(), { type: 'FLUSH' }, 300))
  await waitFor('b to receive', () => b.transport.stats().requestsReceived === 2)
  b.transport.faults.partitioned.add('a')
  release()
  t.equal(await p, 'DYNAKV_PEER_TIMEOUT')
  t.equal(b.transport.stats().droppedByFaults, 1)
  // and on the requester's side: a response arriving from a partitioned peer is dropped
  b.transport.faults.clear()
  const q = outcome(a.transport.request(b.transport.address(), { type: 'FLUSH' }, 300))
  await waitFor('b to receive', () => b.transport.stats().requestsReceived === 3)
  a.transport.faults.partitioned.add('b')
  release()
  t.equal(await q, 'DYNAKV_PEER_TIMEOUT')
  t.equal(a.transport.stats().droppedByFaults, 1)
})

t.test('connection limits: sockets past maxConnections are refused; seed requests share one dial', async t => {
  const b = await startNode('b', { limits: { maxConnections: 1 } })
  const a = await startNode('a')
  const c = await startNode('c', { limits: { reconnectBackoffMsMin: 1, reconnectBackoffMsMax: 1 } })
  t.teardown(async () => { await Promise.all([a, b, c].map(async n => await n.transport.stop())) })
  const seed = { name: null, host: '127.0.0.1', port: b.transport.address().port }
  const both = await Promise.all([
    a.transport.request(seed, { type: 'PING', digest: '1' }, 1000),
    a.transport.request(seed, { type: 'PING', digest: '2' }, 1000)
  ])
  t.same(both.map(r => r.from), ['b', 'b'])
  t.equal(a.transport.stats().connectionsOpened, 1, 'one dial for both seed requests')
  t.equal(await outcome(c.transport.request(b.transport.address(), { type: 'PING', digest: '' }, 1000)), 'DYNAKV_PEER_UNREACHABLE', 'b is full')
  t.equal(b.transport.stats().connectionsOpen, 1)
  const d = await startNode('d', { limits: { maxConnections: 1 } })
  t.teardown(() => d.transport.stop())
  await d.transport.request(a.transport.address(), { type: 'PING', digest: '' }, 1000)
  t.equal(await outcome(d.transport.request(b.transport.address(), { type: 'PING', digest: '' }, 1000)), 'DYNAKV_PEER_OVERLOADED', 'd cannot open a second')
})
