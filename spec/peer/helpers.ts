// Shared helpers of the TCP specs: transports on 127.0.0.1 with OS-chosen
// ports, a log that records its lines, and polling for a condition.
import type { Socket } from 'node:net'
import { FrameReader, Handshake, NONCE_BYTES, TcpTransport, encodeFrame, type PeerLimits, type RequestHandler, type Request, type Response, type TcpTransportOptions } from '../../lib/peer/index.js'
import type { Logger } from '../../lib/runtime/log.js'
import { seededRandom } from '../../lib/runtime/random.js'

export interface RecordingLogger extends Logger {
  lines: string[]
}

export function recordingLogger (): RecordingLogger {
  const lines: string[] = []
  const at = (level: string) => (msg: string): void => { lines.push(`${level} ${msg}`) }
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

let seed = 1

export interface Node {
  transport: TcpTransport
  log: RecordingLogger
  received: Array<{ from: string, req: Request }>
}

/** An echo handler: PING answers PONG with `<own name>:<digest>`, COUNT_KEYS answers the number of requests seen, FLUSH throws. */
export function echo (name: string, received: Array<{ from: string, req: Request }>, delayMs = 0): RequestHandler {
  return async (from, req): Promise<Response> => {
    received.push({ from, req })
    if (delayMs > 0) await new Promise(resolve => setTimeout(resolve, delayMs))
    switch (req.type) {
      case 'PING': return { type: 'PONG', digest: `${name}:${req.digest}` }
      case 'GET_REPLICA': return { type: 'OBJECT', obj: Buffer.concat([Buffer.from(`${name}:`), req.key]) }
      case 'PUT_REPLICA': return { type: 'OK' }
      case 'COUNT_KEYS': return { type: 'COUNT', n: received.length, expires: 0, avgTtlMs: 0 }
      case 'FLUSH': throw Object.assign(new Error(`flush refused by ${name}`), { code: 'DYNAKV_TEST_REFUSED' })
      default: throw new Error(`unexpected ${req.type}`)
    }
  }
}

export async function startNode (
  name: string,
  opts: Partial<TcpTransportOptions> & { handler?: RequestHandler, limits?: Partial<PeerLimits> } = {}
): Promise<Node> {
  const log = recordingLogger()
  const received: Array<{ from: string, req: Request }> = []
  const transport = new TcpTransport({
    name,
    host: '127.0.0.1',
    port: 0,
    clusterName: 'test',
    clusterSecret: 'secret',
    random: seededRandom(seed++),
    log,
    ...opts
  })
  await transport.start(opts.handler ?? echo(name, received))
  return { transport, log, received }
}

export async function waitFor (what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now()
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** The rejection's code, or 'resolved'. */
export async function outcome (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

/**
 * Completes the peer handshake as `name` on a raw socket (either end), then
 * pauses it: a misbehaving or stuck peer, driven by hand.
 */
export async function handshakeAs (socket: Socket, name: string, secret = 'secret', nonceByte = 7): Promise<void> {
  const hs = new Handshake({ nodeName: name, clusterName: 'test', clusterSecret: secret, expectedPeer: null, nonce: Buffer.alloc(NONCE_BYTES, nonceByte) })
  socket.write(encodeFrame(0, hs.hello))
  const reader = new FrameReader()
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      reader.push(chunk)
      for (let f = reader.next(); f !== null && !hs.complete; f = reader.next()) {
        const reply = hs.receive(f.msg)
        if (reply !== null) socket.write(encodeFrame(0, reply))
      }
      if (hs.complete) {
        socket.off('data', onData)
        socket.pause()
        resolve()
      }
    }
    socket.on('data', onData)
    socket.once('error', reject)
  })
}
