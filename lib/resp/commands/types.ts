// The shape of a command: Redis's command table entry (name, arity, flags, key
// positions — what COMMAND INFO and COMMAND DOCS report) plus its handler.
import type { Reply } from '../reply.js'
import type { Session } from '../session.js'
import type { DynakvNode } from '../../node/node.js'
import type { CommandStats } from '../../metrics/command-stats.js'

export interface ServerInfo {
  /** Client connections open now, and the sessions behind them. */
  clients (): Iterable<Session>
  totalConnections: number
  totalCommands: number
  rejectedConnections: number
  port: number
  /** Per-command statistics (null: latency tracking is off). */
  readonly commandStats: CommandStats | null
}

export interface Call {
  readonly session: Session
  readonly args: Buffer[]
  readonly node: DynakvNode
  readonly server: ServerInfo
  /** Runs another command (a multi-key command's per-key part) with the same routing. */
  exec (args: Buffer[]): Reply | Promise<Reply>
}

export type Handler = (call: Call) => Reply | Promise<Reply>

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
  /**
   * 'key': runs on a primary of args[1]; a node that is not one forwards the
   * whole command (the paper's coordinator rule).
   */
  route?: 'key'
  /** Usable before AUTH. */
  noauth?: boolean
  handler?: Handler
  subcommands?: CommandSpec[]
}
