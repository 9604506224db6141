// Errors of the peer layer. Every one is a PeerError with a stable `code`
// (API; messages may change). They are operating errors — a peer down, slow,
// misconfigured or misbehaving — to be counted and handled, never a reason to
// crash. Malformed input throws DecodeError (lib/util/bytes.ts) inside the
// codec; the transport turns that into a dropped connection.

export abstract class PeerError extends Error {
  abstract readonly code: string
}

/** No response within the request's timeout (a partition looks like this too). */
export class PeerTimeoutError extends PeerError {
  override readonly name = 'PeerTimeoutError'
  readonly code = 'DYNAKV_PEER_TIMEOUT'
}

/** The peer could not be reached, or reconnection is backing off after a failure. */
export class PeerUnreachableError extends PeerError {
  override readonly name = 'PeerUnreachableError'
  readonly code = 'DYNAKV_PEER_UNREACHABLE'
}

/** Too many requests outstanding, or too many bytes waiting to be written: failed fast. */
export class PeerOverloadedError extends PeerError {
  override readonly name = 'PeerOverloadedError'
  readonly code = 'DYNAKV_PEER_OVERLOADED'
}

/** The connection carrying the request closed before its response arrived: it may or may not have run. */
export class PeerConnectionLostError extends PeerError {
  override readonly name = 'PeerConnectionLostError'
  readonly code = 'DYNAKV_PEER_CONNECTION_LOST'
}

/** The local transport was stopped (or, in the simulator, its endpoint crashed). */
export class PeerStoppedError extends PeerError {
  override readonly name = 'PeerStoppedError'
  readonly code = 'DYNAKV_PEER_STOPPED'
}

/** The peer broke the protocol: an unexpected message, or a response of the wrong type. */
export class PeerProtocolError extends PeerError {
  override readonly name = 'PeerProtocolError'
  readonly code = 'DYNAKV_PEER_PROTOCOL'
}

/** A message that does not fit its schema or the frame size limit, caught before sending (a programmer error). */
export class InvalidMessageError extends PeerError {
  override readonly name = 'InvalidMessageError'
  readonly code = 'DYNAKV_PEER_INVALID_MESSAGE'
}

/** The peer answered ERROR: its code and message, as the remote handler reported them. */
export class PeerRemoteError extends PeerError {
  override readonly name = 'PeerRemoteError'
  constructor (readonly code: string, message: string) {
    super(message)
  }
}

export const HANDSHAKE_CODES = [
  'DYNAKV_PEER_BAD_MAGIC',
  'DYNAKV_PEER_VERSION_MISMATCH',
  'DYNAKV_PEER_WRONG_CLUSTER',
  'DYNAKV_PEER_WRONG_SECRET',
  'DYNAKV_PEER_WRONG_NAME',
  'DYNAKV_PEER_SELF',
  'DYNAKV_PEER_HANDSHAKE_TIMEOUT',
  'DYNAKV_PEER_HANDSHAKE'
] as const
export type HandshakeCode = typeof HANDSHAKE_CODES[number]

/** The handshake failed: refused by this side or by the peer (see `code`), or timed out. */
export class HandshakeError extends PeerError {
  override readonly name = 'HandshakeError'
  constructor (readonly code: HandshakeCode, message: string) {
    super(message)
  }
}

export function isHandshakeCode (code: string): code is HandshakeCode {
  return (HANDSHAKE_CODES as readonly string[]).includes(code)
}

/**
 * The peer, or this node, refused the handshake (wrong secret, cluster name,
 * version, name...): a configuration error that retrying does not cure. A
 * handshake that timed out is not a refusal.
 */
export function isHandshakeRefusal (err: unknown): err is HandshakeError {
  return err instanceof HandshakeError && err.code !== 'DYNAKV_PEER_HANDSHAKE_TIMEOUT'
}

/** The code to report for an error thrown by a request handler. */
export function errorCode (err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.length > 0 ? code : 'DYNAKV_PEER_HANDLER'
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
