// What the command layer knows of one client connection.
import type { Proto } from './reply.js'
import { Buffer } from 'node:buffer'

/** One watched key: its token as WATCH read it (null: the read failed, so EXEC aborts). */
export interface Watch {
  key: Buffer
  token: Buffer | null
}

/** MULTI/WATCH state of a connection (see commands/transactions.ts). */
export interface Transaction {
  /** Commands queued since MULTI; null outside MULTI. Each is a private copy of the arguments. */
  queue: Buffer[][] | null
  queuedBytes: number
  /** A command was refused while queueing: EXEC answers EXECABORT. */
  dirty: boolean
  /** Watched keys by latin1 key. */
  watched: Map<string, Watch>
}

/** INFO commandstats counters of one command (see commands/stats.ts). */
export interface CallStats {
  calls: number
  usec: number
  rejected: number
  failed: number
}

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
  readonly lastCommandAtMs: number
  lastCommand: string
  /** Set by QUIT / a protocol error: close once the pending replies are written. */
  closeAfterReply: boolean
  /** True on the node that runs a command another node forwarded: never forward again. */
  readonly forwarded: boolean
  /** MULTI/WATCH state; null until the connection uses either. */
  tx: Transaction | null
  /**
   * The counters of the command the dispatcher just started (null: rejected,
   * queued or unknown): read by the caller right after exec() returns, to
   * record the call once its reply is known.
   */
  callStats: CallStats | null
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
    forwarded,
    tx: null,
    callStats: null
  }
}
