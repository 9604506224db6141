// A fake socket and a fake host for lib/resp/connection.ts's Connection (no
// node, no network): the socket keeps what is written and counts pause() and
// resume(); the host answers every command with what `exec` gives.
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { Connection, type ConnectionHost } from '../../lib/resp/connection.js'
import type { ReplyWriter, Reply } from '../../lib/resp/reply.js'

export class FakeSocket extends EventEmitter {
  readonly writes: string[] = []
  written = 0
  paused = false
  pauses = 0
  resumes = 0
  remoteAddress = '127.0.0.1'
  remotePort = 1
  localAddress = '127.0.0.1'
  localPort = 2
  writableLength = 0
  constructor (private readonly keepWrites = true) { super() }
  setNoDelay (): void {}
  write (b: Buffer): boolean {
    this.written += b.length
    if (this.keepWrites) this.writes.push(b.toString('latin1'))
    return true
  }

  end (cb?: () => void): void { cb?.() }
  destroy (): void {}
  pause (): void {
    this.paused = true
    this.pauses++
  }

  resume (): void {
    this.paused = false
    this.resumes++
  }
}

/** A host whose every command is answered by `answer`. */
export function host (answer: () => Reply | Promise<Reply>): ConnectionHost {
  return {
    exec: () => answer(),
    keysOf: () => null,
    connectionEffect: () => null,
    selfOrdered: () => true,
    writeFast: (_s: unknown, _a: Buffer[], _o: ReplyWriter) => false,
    writeGet: () => false,
    execSet: () => null,
    now: () => 0,
    maxBulkLen: 512 * 1024 * 1024,
    requirePassword: false,
    commandProcessed: () => {},
    closed: () => {},
    logError: () => {},
    tracker: null
  }
}

/** n connections to the host, over fake sockets (keeping what is written or only counting its bytes): the sockets. */
export function connections (h: ConnectionHost, n: number, keepWrites = true): FakeSocket[] {
  const sockets = Array.from({ length: n }, () => new FakeSocket(keepWrites))
  sockets.forEach((s, i) => new Connection(i + 1, s as unknown as Socket, h))
  return sockets
}
