// What the command layer knows of one client connection.
import type { Proto } from './reply.js'

export interface Session {
  readonly id: number
  proto: Proto
  authenticated: boolean
  name: string
  libName: string
  libVer: string
  db: number
  readonly addr: string
  readonly laddr: string
  readonly createdAtMs: number
  lastCommandAtMs: number
  lastCommand: string
  /** Set by QUIT / a protocol error: close once the pending replies are written. */
  closeAfterReply: boolean
  /** True on the node that runs a command another node forwarded: never forward again. */
  readonly forwarded: boolean
}

export function internalSession (proto: Proto, forwarded: boolean): Session {
  return {
    id: 0,
    proto,
    authenticated: true,
    name: '',
    libName: '',
    libVer: '',
    db: 0,
    addr: 'peer',
    laddr: 'peer',
    createdAtMs: 0,
    lastCommandAtMs: 0,
    lastCommand: '',
    closeAfterReply: false,
    forwarded
  }
}
