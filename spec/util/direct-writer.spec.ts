// lib/util/adopt-socket.ts's DirectWriter writes to a socket's handle with a
// WriteWrap taken from Node's own first write: these fail if Node changes
// underneath (writes must bypass the stream path, keep their order, count
// what the kernel has not taken, report its draining, and close on a failed
// write).
import t from 'tap'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { adoptAccepted, directWriter, directWrites, type DirectWriter } from '../../lib/util/adopt-socket.js'

interface Served { server: Server, port: number, accepted: Socket[] }

async function serve (): Promise<Served> {
  const accepted: Socket[] = []
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    const adopted = adoptAccepted(socket, { buffer: Buffer.alloc(1024), callback: () => {} })
    if (adopted === null) throw new Error('not adopted')
    adopted.on('error', () => {})
    accepted.push(adopted)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as AddressInfo).port, accepted }
}

async function until (cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise(resolve => setTimeout(resolve, 5))
  if (!cond()) throw new Error(`timed out waiting for ${what}`)
}

/** The socket's stream-path writes (its `_write`), counted. */
function countStreamWrites (socket: Socket): { n: number } {
  const count = { n: 0 }
  const s = socket as unknown as { _write: (...args: unknown[]) => void }
  const inherited = s._write
  s._write = function (this: unknown, ...args: unknown[]) {
    count.n++
    inherited.apply(this, args)
  }
  return count
}

t.test('writes bypass the stream path, in order; queued counts what the kernel has not taken; onWritten when it drains', async t => {
  const { server, port, accepted } = await serve()
  t.teardown(() => server.close())
  const client = connect(port, '127.0.0.1')
  const got: Buffer[] = []
  client.on('data', (c: Buffer) => got.push(c))
  await until(() => accepted.length === 1, 'the accept')
  const socket = accepted[0]
  let drained = 0
  const writer = directWriter(socket, () => { drained++ }) as DirectWriter
  t.ok(writer !== null, 'a writer for a TCP socket')
  const streamWrites = countStreamWrites(socket)
  // The first write may take the stream path (it yields the WriteWrap); the rest do not.
  for (const s of ['a', 'b', 'c', 'd']) writer.write(Buffer.from(s))
  await until(() => Buffer.concat(got).length === 4, 'four bytes')
  t.equal(Buffer.concat(got).toString(), 'abcd', 'in order')
  t.ok(streamWrites.n <= 1, `at most the first through the stream path (${streamWrites.n})`)
  streamWrites.n = 0
  writer.write(Buffer.from('e'))
  t.equal(streamWrites.n, 0, 'then none')
  // A write the kernel took at once leaves its WriteWrap free for the next one; a queued write keeps its own.
  const spareOf = (): unknown => (writer as unknown as { spare: unknown }).spare
  const spare = spareOf()
  t.ok(spare !== null, 'a spare WriteWrap after a write the kernel took')
  writer.write(Buffer.from(''))
  t.equal(spareOf(), spare, 'the same one, reused')

  // Bytes buffered on the stream path go first: the writer joins them there.
  socket.cork()
  socket.write('f')
  writer.write(Buffer.from('g'))
  socket.uncork()
  await until(() => Buffer.concat(got).length === 7, 'seven bytes')
  t.equal(Buffer.concat(got).toString(), 'abcdefg', 'after the stream path\'s bytes')

  // A client that does not read: the handle queues what the kernel does not take.
  client.pause()
  got.length = 0
  const chunk = Buffer.alloc(1024 * 1024)
  let sent = 0
  for (let i = 0; i < 256 && writer.queued === 0; i++) {
    chunk.fill(i % 251)
    writer.write(Buffer.from(chunk))
    sent++
  }
  t.ok(writer.queued > 0, `bytes queued (${writer.queued})`)
  t.equal(spareOf(), null, 'no spare while a write is queued: the native side holds it')
  t.equal(socket.writableLength, 0, 'none in the stream path')
  t.equal(drained, 0, 'not drained while the client does not read')
  client.resume()
  await until(() => drained > 0 && writer.queued === 0, 'the queue to drain')
  await until(() => Buffer.concat(got).length === sent * chunk.length, 'every byte')
  const all = Buffer.concat(got)
  let inOrder = true
  for (let i = 0; i < sent; i++) if (all[i * chunk.length] !== i % 251 || all[(i + 1) * chunk.length - 1] !== i % 251) inOrder = false
  t.ok(inOrder, 'every chunk, in order')
  const closed = once(socket, 'close')
  client.end()
  socket.end()
  await closed
})

t.test('a write the peer refuses (reset) destroys the socket', async t => {
  const { server, port, accepted } = await serve()
  t.teardown(() => server.close())
  const client = connect(port, '127.0.0.1')
  client.on('error', () => {})
  await until(() => accepted.length === 1, 'the accept')
  const socket = accepted[0]
  socket.pause() // not reading: only a write can find the reset
  const writer = directWriter(socket, () => {}) as DirectWriter
  writer.write(Buffer.from('x')) // (the WriteWrap, if no test took it yet)
  await new Promise(resolve => setTimeout(resolve, 20))
  let closed = false
  socket.on('close', () => { closed = true })
  client.resetAndDestroy()
  await new Promise(resolve => setTimeout(resolve, 20))
  const streamWrites = countStreamWrites(socket)
  for (let i = 0; i < 100 && !socket.destroyed; i++) {
    writer.write(Buffer.from('y'))
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  t.ok(socket.destroyed, 'destroyed')
  t.equal(streamWrites.n, 0, 'by the direct write\'s error')
  await until(() => closed, "'close'")
  writer.write(Buffer.from('z')) // after the close: the stream path's error, not a throw
  t.pass('a write after the close does not throw')
})

t.test('direct writes off: no writer', async t => {
  directWrites.enabled = false
  t.teardown(() => { directWrites.enabled = true })
  const { server, port, accepted } = await serve()
  t.teardown(() => server.close())
  const client = connect(port, '127.0.0.1')
  await until(() => accepted.length === 1, 'the accept')
  t.equal(directWriter(accepted[0], () => {}), null)
  client.destroy()
  accepted[0].destroy()
})
