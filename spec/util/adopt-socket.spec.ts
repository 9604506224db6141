// lib/util/adopt-socket.ts relies on Node internals: these fail if Node
// changes underneath (the adopted socket must read through the user buffer,
// keep the server's connection count, close, pause and resume).
import t from 'tap'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { adoptAccepted, adoption } from '../../lib/util/adopt-socket.js'

interface Accepted { socket: Socket, reads: Buffer[], dataEvents: number, bufferSeen: boolean }

async function listen (buffer: Buffer, onAdopted: (a: Accepted) => void): Promise<{ server: Server, port: number }> {
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    const a: Accepted = { socket: accepted, reads: [], dataEvents: 0, bufferSeen: true }
    const adopted = adoptAccepted(accepted, {
      buffer,
      callback: (nread, buf) => {
        if (buf !== buffer) a.bufferSeen = false
        a.reads.push(Buffer.from(buf.subarray(0, nread)))
      }
    })
    if (adopted === null) throw new Error('not adopted')
    a.socket = adopted
    adopted.on('data', () => { a.dataEvents++ })
    adopted.on('error', () => {})
    onAdopted(a)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as AddressInfo).port }
}

async function until (cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise(resolve => setTimeout(resolve, 5))
  if (!cond()) throw new Error(`timed out waiting for ${what}`)
}

function count (server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => err === null || err === undefined ? resolve(n) : reject(err)))
}

t.test('an adopted socket reads into the user buffer, writes, and keeps the connection count', async t => {
  const buffer = Buffer.alloc(64)
  let acc: Accepted | null = null
  const { server, port } = await listen(buffer, a => { acc = a })
  const client = connect(port, '127.0.0.1')
  await once(client, 'connect')
  await until(() => acc !== null, 'the accept')
  const a = acc as unknown as Accepted
  t.equal(await count(server), 1, 'one connection counted')
  client.write('hello')
  await until(() => a.reads.length > 0, 'a read')
  t.equal(Buffer.concat(a.reads).toString(), 'hello', 'the bytes arrived through the callback')
  t.ok(a.bufferSeen, 'in the user buffer')
  t.equal(buffer.subarray(0, 5).toString(), 'hello', 'the user buffer holds them')
  t.equal(a.dataEvents, 0, "no 'data' event: not the stream path")
  // 100 KB: reads of at most the buffer's 64 bytes, all in order
  const big = Buffer.alloc(100 * 1024)
  for (let i = 0; i < big.length; i++) big[i] = i % 251
  a.reads.length = 0
  client.write(big)
  await until(() => a.reads.reduce((n, r) => n + r.length, 0) >= big.length, 'the large write')
  t.ok(a.reads.every(r => r.length <= 64), 'no read past the buffer')
  t.ok(Buffer.concat(a.reads).equals(big), 'every byte, in order')
  const got: Buffer[] = []
  client.on('data', (c: Buffer) => got.push(c))
  a.socket.write('world')
  await until(() => Buffer.concat(got).toString() === 'world', 'the reply')
  t.pass('the adopted socket writes')
  // server.close() waits for the adopted socket, as for any accepted one
  let serverClosed = false
  server.close(() => { serverClosed = true })
  await new Promise(resolve => setTimeout(resolve, 50))
  t.notOk(serverClosed, 'server.close() waits for the open connection')
  const closed = once(a.socket, 'close')
  client.end()
  await closed
  t.pass("the client's end closes the adopted socket ('close' emitted)")
  await until(() => serverClosed, 'the server to close')
  t.equal(await count(server), 0, 'counted off once')
})

t.test('pause() stops reading (the client meets TCP back-pressure); resume() reads again', async t => {
  const buffer = Buffer.alloc(16 * 1024)
  let acc: Accepted | null = null
  const { server, port } = await listen(buffer, a => { acc = a })
  t.teardown(() => server.close())
  const client = connect(port, '127.0.0.1')
  await once(client, 'connect')
  await until(() => acc !== null, 'the accept')
  const a = acc as unknown as Accepted
  a.socket.pause()
  const chunk = Buffer.alloc(64 * 1024, 1)
  let written = 0
  // Write until the kernel's buffers are full (bounded: 4 096 chunks, 256 MB).
  for (let i = 0; i < 4096 && client.write(chunk); i++) written += chunk.length
  written += chunk.length
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(a.reads.length, 0, 'nothing read while paused')
  t.ok(client.writableLength > 0, 'the client is held back')
  a.socket.resume()
  await until(() => a.reads.reduce((n, r) => n + r.length, 0) >= written, 'every byte after resume')
  t.equal(a.reads.reduce((n, r) => n + r.length, 0), written, 'every byte once')
  client.destroy()
  await once(a.socket, 'close')
})

t.test('destroy() of an adopted socket closes the connection; a reset client closes it too', async t => {
  const buffer = Buffer.alloc(64)
  const accepted: Accepted[] = []
  const { server, port } = await listen(buffer, a => { accepted.push(a) })
  t.teardown(() => server.close())
  const c1 = connect(port, '127.0.0.1')
  c1.on('error', () => {})
  const c2 = connect(port, '127.0.0.1')
  c2.on('error', () => {})
  await until(() => accepted.length === 2, 'two accepts')
  t.equal(await count(server), 2)
  const c1closed = once(c1, 'close')
  accepted[0].socket.destroy()
  await c1closed
  t.pass('the client sees the close')
  const c2closed = new Promise(resolve => accepted[1].socket.on('close', resolve)) // (events.once would reject on the ECONNRESET)
  c2.resetAndDestroy()
  await c2closed
  t.pass('a reset closes the adopted socket')
  await until(() => accepted.every(a => a.socket.destroyed), 'both destroyed')
  t.equal(await count(server), 0, 'both counted off')
})

t.test('adoption off: null, and the socket keeps the stream path', async t => {
  adoption.enabled = false
  t.teardown(() => { adoption.enabled = true })
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    t.equal(adoptAccepted(socket, { buffer: Buffer.alloc(8), callback: () => {} }), null, 'not adopted')
    socket.on('data', (c: Buffer) => socket.end(c))
    socket.resume()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  const got: Buffer[] = []
  client.on('data', (c: Buffer) => got.push(c))
  client.write('echo')
  await once(client, 'end')
  t.equal(Buffer.concat(got).toString(), 'echo')
  client.destroy()
  await new Promise<void>(resolve => server.close(() => resolve()))
})

t.test('a socket already reading is not adopted', async t => {
  const server = createServer((socket) => {
    t.equal(adoptAccepted(socket, { buffer: Buffer.alloc(8), callback: () => {} }), null, 'not from a pauseOnConnect server: refused')
    socket.destroy()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  client.on('error', () => {})
  await once(client, 'close')
  await new Promise<void>(resolve => server.close(() => resolve()))
})
