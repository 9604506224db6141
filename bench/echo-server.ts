// The ceiling of a Node server on this machine: answers redis-benchmark's SET
// with +OK and GET with a fixed 100-byte bulk, doing no other work (no parser:
// it finds commands by their `*` at a line start, which redis-benchmark's
// payloads never contain). bench/single-node runs it beside redis-server and
// dynakv, so the -P1 targets can be read against what Node itself reaches.
//   node dist/bench/echo-server.js <port>
import { createServer } from 'node:net'

const OK = Buffer.from('+OK\r\n')
const VALUE = Buffer.from(`$100\r\n${'x'.repeat(100)}\r\n`)
const EMPTY = Buffer.from('*0\r\n')
const STAR = 0x2a
const LF = 0x0a

const port = Number(process.argv[2])
createServer((socket) => {
  socket.setNoDelay(true)
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => {
    const replies: Buffer[] = []
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== STAR || (i > 0 && chunk[i - 1] !== LF)) continue
      // `*<n>\r\n$<len>\r\n<NAME>`: the name's first letter is 8 bytes on for a 1-digit n and len.
      const first = chunk[i + 8] | 0x20
      replies.push(first === 0x67 ? VALUE : first === 0x63 ? EMPTY : OK) // GET, CONFIG, anything else
    }
    if (replies.length > 0) socket.write(replies.length === 1 ? replies[0] : Buffer.concat(replies))
  })
}).listen(port, '127.0.0.1', () => process.stdout.write(`echo ready on ${port}\n`))
