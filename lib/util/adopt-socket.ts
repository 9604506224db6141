// Accepted sockets that read into a buffer of the caller's, without Node's
// stream read path. net.connect takes an `onread` option (bytes go straight
// into a user buffer: no ArrayBuffer per read, no 'data' event, no `push`, no
// read-ahead tick and its promise-rejection pass); net.Server has none. So
// a server made with `pauseOnConnect: true` (its sockets never start reading)
// hands each accepted socket here, and its handle is re-wrapped in a second
// net.Socket made with `onread`, as Node's own onconnection wraps it:
//
//   accepted Socket (paused, never read) ──_handle──► new Socket({ handle, onread })
//
// The first socket is left without a handle (never destroyed: its destroy
// would count the connection off the server a second time); the adopted one
// takes its place in the server's connection count (`_server`), so
// server.close() still waits for it and its destroy counts it off.
//
// This relies on Node internals (`_handle`, `_server`, the `handle` option and
// the handle's useUserBuffer, all as in Node 20's net.js), checked here before
// use: where anything is missing, adoptAccepted returns null and the caller
// keeps the stream path (resume() and a 'data' listener).
// spec/util/adopt-socket.spec.ts fails if an adopted socket stops reading
// through the user buffer.
import { Socket } from 'node:net'

export interface ReadInto {
  /** Every read lands here, from offset 0; the bytes are valid only during the callback. */
  buffer: Buffer
  /** nread bytes arrived in buffer. */
  callback: (nread: number, buffer: Buffer) => void
}

interface Internals {
  _handle?: {
    reading?: boolean
    useUserBuffer?: unknown
    readStart?: unknown
    readStop?: unknown
  } | null
  _server?: unknown
  server?: unknown
}

/** Set to false to force the stream path (tests of the fallback). */
export const adoption = { enabled: true }

/**
 * The socket, re-wrapped to read into into.buffer, or null (the stream path
 * stays: the caller resumes the socket it has). socket must come from a
 * net.Server made with `pauseOnConnect: true`, unread, in its 'connection'
 * event.
 */
export function adoptAccepted (socket: Socket, into: ReadInto): Socket | null {
  const old = socket as unknown as Internals
  const handle = old._handle
  if (!adoption.enabled || handle === null || handle === undefined || handle.reading === true || socket.destroyed ||
    typeof handle.useUserBuffer !== 'function' || typeof handle.readStart !== 'function' || typeof handle.readStop !== 'function' ||
    old._server === undefined || old._server === null || socket.readableLength > 0) return null
  const server = old._server
  old._handle = null
  // (onread's callback returning false would stop reading; ReadInto's returns nothing: the caller pauses explicitly.)
  const adopted = new Socket({
    handle,
    allowHalfOpen: socket.allowHalfOpen,
    readable: true,
    writable: true,
    onread: into
  } as unknown as ConstructorParameters<typeof Socket>[0])
  const next = adopted as unknown as Internals
  if (next._handle !== handle) {
    // Not wrapped as expected: give the handle back (no byte was read: the socket was paused).
    next._handle = null
    old._handle = handle
    return null
  }
  next.server = server
  next._server = server
  return adopted
}

// ---------------------------------------------------------------- writes
//
// A reply through socket.write goes Writable.write → writeOrBuffer → _write →
// Socket._writeGeneric → writeGeneric (a WriteWrap) → handle.writeBuffer, then
// the write's callback and a process.nextTick(afterWriteTick) per socket and
// turn (a -P1 connection writes once a turn: a tick each). Written straight to
// the handle instead, as Node's writeGeneric does it: a WriteWrap, its
// `handle`, `oncomplete` and `buffer` (kept until an asynchronous write ends),
// and handle.writeBuffer, which tries the write at once (uv_try_write) and
// queues what is left behind the handle's earlier writes (libuv keeps the
// order; writeQueueSize counts the bytes queued: the output back-pressure reads
// it). WriteWrap is internal (internalBinding('stream_wrap')): it is taken
// from the first write that goes the stream path (the handle's writeBuffer
// looked up on the handle itself for that one call), checked by name. Until
// then, and whenever the stream path has bytes of its own, has ended (a
// client's FIN, socket.end) or the handle is gone, writes take the stream path.

/** A WriteWrap as Node's createWriteWrap fills it (the native side calls `oncomplete(status)` when an asynchronous write ends). */
interface WriteReq {
  handle: unknown
  oncomplete: (this: WriteReq, status: number) => void
  buffer: Buffer | null
  writer: DirectWriter
}

interface WritableHandle {
  writeBuffer: (req: object, data: Buffer) => number
  readonly writeQueueSize: number
}

let WriteWrap: (new () => WriteReq) | null = null

/** Set to false to keep every write on the stream path (tests). */
export const directWrites = { enabled: true }

function onWriteComplete (this: WriteReq, status: number): void {
  this.buffer = null
  this.writer.written(status)
}

/** Writes to a socket's handle without the stream path (lib/resp/connection.ts: its replies). */
export class DirectWriter {
  /** A WriteWrap no write holds (the last one, when the kernel took its write at once), or null. */
  private spare: WriteReq | null = null

  constructor (private readonly socket: Socket, private readonly handle: WritableHandle, private readonly onWritten: () => void) {}

  /** Output not handed to the kernel yet: the stream path's buffer and the handle's queue (bytes). */
  get queued (): number {
    return this.socket.writableLength + this.handle.writeQueueSize
  }

  write (data: Buffer): void {
    const socket = this.socket
    if (WriteWrap === null || socket.writableLength > 0 || !socket.writable || (socket as unknown as Internals)._handle !== this.handle) {
      this.viaStream(data)
      return
    }
    let req = this.spare
    this.spare = null
    if (req === null) {
      req = new WriteWrap()
      req.handle = this.handle
      req.oncomplete = onWriteComplete
      req.writer = this
    }
    req.buffer = data
    // 0, or a negative errno (the peer reset): the stream path destroys the socket then too.
    if (this.handle.writeBuffer(req, data) !== 0) {
      socket.destroy()
      return
    }
    // The native side wraps req only for a write it queues (uv_write of what the kernel did not take at once,
    // so the handle's queue is not empty); one it did not wrap is free for the next write.
    if (this.handle.writeQueueSize === 0) {
      req.buffer = null
      this.spare = req
    }
  }

  /** An asynchronous write ended (status < 0: failed, or cancelled by the socket's close). */
  written (status: number): void {
    if (status < 0) this.socket.destroy()
    else this.onWritten()
  }

  private viaStream (data: Buffer): void {
    if (WriteWrap !== null || !directWrites.enabled) {
      this.socket.write(data)
      return
    }
    // The WriteWrap of this write, if it reaches the handle now (the stream path is idle).
    const handle = this.handle as unknown as { writeBuffer?: WritableHandle['writeBuffer'] }
    const inherited = this.handle.writeBuffer
    handle.writeBuffer = function (this: WritableHandle, req: object, d: Buffer): number {
      const ctor = (req as { constructor?: unknown }).constructor
      if (typeof ctor === 'function' && ctor.name === 'WriteWrap') WriteWrap = ctor as new () => WriteReq
      return inherited.call(this, req, d)
    }
    try {
      this.socket.write(data)
    } finally {
      delete handle.writeBuffer
    }
  }
}

/** A DirectWriter for socket (onWritten: an asynchronous write ended, as 'drain'), or null: no handle that can take one. */
export function directWriter (socket: Socket, onWritten: () => void): DirectWriter | null {
  const handle = (socket as unknown as Internals)._handle as unknown as Partial<WritableHandle> | null | undefined
  if (!directWrites.enabled || handle === null || handle === undefined || typeof handle.writeBuffer !== 'function' || typeof handle.writeQueueSize !== 'number') return null
  return new DirectWriter(socket, handle as WritableHandle, onWritten)
}
