// Client sockets read into one receive buffer that every later read (of any
// connection) overwrites (lib/util/adopt-socket.ts, Connection.received). A
// request stream split at every byte boundary, through a real socket, in two
// reads: the replies are right, and values a SET keeps past its read (until
// its group commit, and in the cache) are intact after later reads overwrote
// the buffer.
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startServer, sleep, HOST } from '../helpers/server.js'
import { frame } from '../helpers/clients.js'

/** Reads from the socket until the bytes received are `want` long (or it closes). */
async function readBytes (socket: Socket, want: number, timeoutMs = 10000): Promise<Buffer> {
  const got: Buffer[] = []
  let n = 0
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${Buffer.concat(got).toString('latin1')}`)), timeoutMs)
    socket.on('data', (c: Buffer) => {
      got.push(c)
      n += c.length
      if (n >= want) {
        clearTimeout(timer)
        resolve(Buffer.concat(got))
      }
    })
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(got)) })
  })
}

t.test('a request stream split in two reads at every byte boundary', async t => {
  const node = await startServer([], { t })
  const valueOf = (i: number, tag: string): string => `${tag}${String(i).padStart(4, '0')}`.padEnd(100, tag)
  const suffixOf = (i: number): string => `+${String(i).padStart(4, '0')}`.padEnd(20, 'x')
  const streamOf = (i: number): { input: Buffer, reply: Buffer } => {
    const a = valueOf(i, 'a')
    const input = Buffer.concat([
      frame('SET', `split:${i}:a`, a),
      // waits for the SET (its commit): its arguments are kept past the read
      frame('APPEND', `split:${i}:a`, suffixOf(i)),
      Buffer.from(`SET split:${i}:c "c ${i}"\r\n`), // inline
      // queued: kept until EXEC
      frame('MULTI'),
      frame('SET', `split:${i}:d`, valueOf(i, 'd')),
      frame('EXEC'),
      frame('SET', `split:${i}:b`, valueOf(i, 'b')), // lands where a's value was read
      frame('GET', `split:${i}:a`),
      Buffer.from('PING\r\n')
    ])
    return { input, reply: Buffer.from(`+OK\r\n:120\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n+OK\r\n$120\r\n${a}${suffixOf(i)}\r\n+PONG\r\n`) }
  }
  const len = streamOf(0).input.length
  const failures: string[] = []
  const run = async (i: number): Promise<void> => {
    const { input, reply } = streamOf(i)
    const socket = connect(node.port, HOST)
    socket.setNoDelay(true)
    await once(socket, 'connect')
    const replies = readBytes(socket, reply.length)
    socket.write(input.subarray(0, i))
    await sleep(3) // the server reads the first part alone (and other connections' reads come in between)
    socket.write(input.subarray(i))
    const got = await replies
    socket.destroy()
    if (!got.equals(reply)) failures.push(`split at ${i}: ${JSON.stringify(got.toString('latin1'))}`)
  }
  // 8 connections at a time: their reads go through the same buffer in between
  for (let from = 1; from < len; from += 8) {
    await Promise.all(Array.from({ length: Math.min(8, len - from) }, (_, k) => run(from + k)))
  }
  t.same(failures, [], `every split of the ${len} bytes answered right`)

  // After every later read: the values kept are the values sent.
  const check = connect(node.port, HOST)
  await once(check, 'connect')
  const want: Buffer[] = []
  const asks: Buffer[] = []
  for (let i = 1; i < len; i++) {
    for (const [k, v] of [['a', valueOf(i, 'a') + suffixOf(i)], ['b', valueOf(i, 'b')], ['c', `c ${i}`], ['d', valueOf(i, 'd')]]) {
      asks.push(frame('GET', `split:${i}:${k}`))
      want.push(Buffer.from(`$${v.length}\r\n${v}\r\n`))
    }
  }
  const expected = Buffer.concat(want)
  const replies = readBytes(check, expected.length)
  check.write(Buffer.concat(asks))
  const got = await replies
  check.destroy()
  t.ok(got.equals(expected), 'every value read back intact')
})
