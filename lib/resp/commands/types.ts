// The shape of a command: Redis's command table entry (name, arity, flags, key
// positions, ACL categories, tips, key specs, subcommands — what COMMAND INFO
// and COMMAND DOCS report) plus its handler and its call statistics.
import type { Reply } from '../reply.js'
import type { CallStats, Session } from '../session.js'
import type { DynakvNode } from '../../node/node.js'
import type { KeyRef } from '../../node/keys.js'
import type { CommandStats } from '../../metrics/command-stats.js'
import { Buffer } from 'node:buffer'

export interface ServerInfo {
  /** Client connections open now, and the sessions behind them. */
  clients (): Iterable<Session>
  totalConnections: number
  totalCommands: number
  rejectedConnections: number
  port: number
  /** CONFIG SET values of the Redis tunables dynakv keeps without using them. */
  readonly tunables: Map<string, string>
  /** The largest proto-max-bulk-len CONFIG SET may set: the value at start (the peer protocol's frames are sized by it). */
  readonly protoMaxBulkLenMax: number
  /** CONFIG RESETSTAT: the counters above start again from zero. */
  resetStats (): void
  /** CONFIG SET changed a setting the server holds (proto-max-bulk-len). */
  configChanged (): void
  /** Per-command statistics (null: latency tracking is off). */
  readonly commandStats: CommandStats | null
  /** SHUTDOWN: stops the process as SIGTERM does (null: the node is not a process of its own). */
  shutdown: (() => void) | null
}

export interface Call {
  readonly session: Session
  readonly args: Buffer[]
  readonly node: DynakvNode
  readonly server: ServerInfo
  /** Runs another command (a multi-key command's per-key part) with the same routing. */
  exec (args: Buffer[]): Reply | Promise<Reply>
  /**
   * Runs a command as if the client had sent it (EXEC's queued commands):
   * the checks, routing and statistics of a top-level command.
   */
  dispatch (args: Buffer[]): Promise<Reply>
  /** The keys a command touches, 'all' for a barrier (see Dispatcher.keysOf). */
  keysOf (args: Buffer[]): string[] | 'all' | null
  /** The ref of args[1]: the one routing made for a key's command (its hash computed once), else a new one. */
  keyRef (): KeyRef
}

export type Handler = (call: Call) => Reply | Promise<Reply>

/**
 * A key specification (Redis 7 `key-specs`): where the keys start
 * (begin_search index) and how to find the rest (a range or a key count).
 */
export interface KeySpec {
  /** RO/RW/OW/RM and access/update/insert/delete, as Redis names them. */
  flags: readonly string[]
  /** begin_search: the argument index of the first key. */
  index: number
  /** find_keys range: [lastkey relative to index (-1: the last argument), keystep, limit]. */
  range?: readonly [number, number, number]
  /** find_keys keynum: [keynumidx, firstkey, keystep], relative to index. */
  keynum?: readonly [number, number, number]
}

export interface CommandSpec {
  /** Lower case; subcommands are `parent|sub` as in Redis 7. */
  name: string
  /** Redis convention: n > 0 exactly n arguments (name included), n < 0 at least -n. */
  arity: number
  flags: readonly string[]
  firstKey: number
  lastKey: number
  step: number
  group: string
  summary: string
  since: string
  complexity?: string
  /** ACL categories beyond those the flags imply (@read, @write, @fast, @slow, @admin...): 'keyspace', 'string'... */
  acl?: readonly string[]
  /** Command tips (request_policy:..., nondeterministic_output...). */
  tips?: readonly string[]
  /** Default: one spec from firstKey/lastKey/step, RO access for readonly commands, RW access update otherwise. */
  keySpecs?: readonly KeySpec[]
  /**
   * 'key': runs on a primary of args[1]; a node that is not one forwards the
   * whole command (the paper's coordinator rule).
   */
  route?: 'key'
  /** Usable before AUTH. */
  noauth?: boolean
  /** Runs at once inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). */
  notQueued?: boolean
  handler?: Handler
  /** A container (CLIENT, CONFIG, OBJECT...): args[1] names one of these, `parent|sub`. */
  subcommands?: CommandSpec[]
  /** Filled in when the table is built. */
  stats?: CallStats
}
