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
