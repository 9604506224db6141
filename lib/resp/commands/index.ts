// The command table and the dispatcher: name and subcommand lookup, AUTH gate,
// arity check, MULTI queueing, the coordinator rule (forward a key's command to
// a primary), and error replies.
import { noQuorumMessage } from '../../coordinator/quorum.js'
import { HandshakeError, isHandshakeRefusal } from '../../peer/errors.js'
import { err, type ErrorReply, type Reply, type ReplyWriter } from '../reply.js'
import { internalSession, type Session } from '../session.js'
import { decodeReplyBinary, encodeReplyBinary } from '../reply-binary.js'
import type { DynakvNode } from '../../node/node.js'
import type { KeyRef } from '../../node/keys.js'
import type { Call, CommandSpec, ServerInfo } from './types.js'
import { CommandError } from './util.js'
import { COMMANDS, keyPositions, register, subcommandOf } from './table.js'
import { connectionCommands, NOAUTH } from './connection.js'
import { plainSet, stringCommands, writeCachedGet } from './strings.js'
import { bitCommands } from './bits.js'
import { lcsCommand } from './lcs.js'
import { keyCommands } from './keys.js'
import { copyCommands } from './copy.js'
import { objectCommands } from './object.js'
import { dynamoCommands } from './dynamo.js'
import { expiryCommands } from './expiry.js'
import { setCommands } from './sets.js'
import { hashCommands } from './hashes.js'
import { zsetCommands } from './zsets.js'
import { listCommands } from './lists.js'
import { infoCommand } from './info.js'
import { configCommand } from './config.js'
import { ringCommands } from './ring.js'
import { scriptingCommands } from './scripting.js'
import { discardTransaction, inMulti, markDirty, queueCommand, transactionCommands } from './transactions.js'
import { commandCommand, unknownSubcommand } from './command.js'
import { recordCall } from './stats.js'
import { latencyCommand } from './latency.js'
import { Buffer } from 'node:buffer'

export type { ServerInfo }
export { COMMANDS }

register([
  ...connectionCommands, ...stringCommands, ...bitCommands, lcsCommand, ...keyCommands, ...expiryCommands, ...setCommands, ...hashCommands, ...zsetCommands, ...listCommands,
  ...copyCommands, ...objectCommands, ...dynamoCommands, infoCommand, configCommand, ...transactionCommands, ...scriptingCommands, ...ringCommands, commandCommand, latencyCommand
])

/** Commands whose first argument is a subcommand without a table entry of its own: CLIENT LIST names them `ring|join`. */
const UNLISTED_CONTAINERS = new Set(['ring', 'debug', 'latency'])

/** Redis's rejectCommandFormat: newlines in the text become spaces. */
function sanitize (s: string): string {
  return s.replace(/[\r\n]/g, ' ')
}

export function unknownCommand (args: Buffer[]): ErrorReply {
  let rest = ''
  for (let i = 1; i < args.length && rest.length < 128; i++) rest += `'${args[i].toString('latin1').slice(0, 128 - rest.length)}' `
  return err(sanitize(`ERR unknown command '${args[0].toString('latin1').slice(0, 128)}', with args beginning with: ${rest}`))
}

/** Any error a handler throws, as the reply the client gets. */
export function errorReply (e: unknown, log?: (msg: string) => void): Reply {
  if (e instanceof CommandError) return e.toReply()
  const code = (e as { code?: string }).code
  const message = (e as Error).message ?? String(e)
  switch (code) {
    case 'DYNAKV_NOQUORUM':
      return err(message)
    case 'DYNAKV_ARGUMENT':
      return err('ERR ' + message)
    case 'DYNAKV_INVALID_CONTEXT':
      return err('ERR invalid context')
    case 'DYNAKV_FORWARD':
    case 'DYNAKV_WRONGTYPE':
      return err(message)
    default:
      log?.(`command failed: ${(e as Error).stack ?? message}`)
      return err(sanitize('ERR internal error: ' + message))
  }
}

/** A failure that proves the request never reached the peer (no connection, a handshake that timed out, refused before sending). */
function notSent (e: unknown): boolean {
  if (e instanceof HandshakeError) return !isHandshakeRefusal(e)
  const code = (e as { code?: string }).code ?? ''
  return ['DYNAKV_PEER_UNREACHABLE', 'DYNAKV_PEER_OVERLOADED', 'DYNAKV_PEER_UNKNOWN'].includes(code)
}

/** A failure to reach the peer, as opposed to an answer from it: never sent, or sent and no answer came. */
function unreachable (e: unknown): boolean {
  const code = (e as { code?: string }).code
  return notSent(e) || code === 'DYNAKV_PEER_TIMEOUT' || code === 'DYNAKV_PEER_CONNECTION_LOST'
}

/**
 * Commands that must wait for everything a connection has in flight, and that
 * everything after them waits for: keyspace-wide ones, connection state, and
 * transaction state (MULTI... EXEC must run as if alone on its connection).
 */
const BARRIERS = new Set([
  'scan', 'keys', 'randomkey', 'dbsize', 'flushall', 'flushdb', 'ring', 'debug', 'hello', 'auth', 'reset', 'select', 'client',
  'config', 'multi', 'exec', 'discard', 'unwatch'
])

/** What a command does to its connection, known when it arrives (see Connection). */
const EFFECTS = new Map<string, 'begin' | 'end' | 'quit'>([['multi', 'begin'], ['exec', 'end'], ['discard', 'end'], ['reset', 'end'], ['quit', 'quit']])

/** Command names as clients spell them ('GET', 'get', 'Get') → spec: one Map lookup, no lower-casing. Bounded. */
const BY_SPELLING = new Map<string, { name: string, spec: CommandSpec | undefined }>()
const SPELLINGS_MAX = 4096

let GET: { name: string, spec: CommandSpec | undefined } | undefined
let SET: typeof GET

function theGet (): { name: string, spec: CommandSpec | undefined } {
  return (GET ??= { name: 'get', spec: COMMANDS.get('get') })
}

function theSet (): { name: string, spec: CommandSpec | undefined } {
  return (SET ??= { name: 'set', spec: COMMANDS.get('set') })
}

function lookup (arg0: Buffer): { name: string, spec: CommandSpec | undefined } {
  // GET and SET in any case, straight from the bytes: no string for the hottest two.
  if (arg0.length === 3 && (arg0[1] | 0x20) === 0x65 && (arg0[2] | 0x20) === 0x74) {
    const first = arg0[0] | 0x20
    if (first === 0x67) return theGet()
    if (first === 0x73) return theSet()
  }
  const raw = arg0.toString('latin1')
  let found = BY_SPELLING.get(raw)
  if (found === undefined) {
    const name = raw.toLowerCase()
    found = { name, spec: COMMANDS.get(name) }
    if (found.spec !== undefined && BY_SPELLING.size < SPELLINGS_MAX) BY_SPELLING.set(raw, found)
  }
  return found
}

export class Dispatcher {
  constructor (private readonly node: DynakvNode, private readonly server: ServerInfo) {}

  /**
   * The keys a command touches (latin1), 'all' for a barrier, null for none: a
   * connection runs two commands with a key in common in the order it got them.
   */
  keysOf (args: Buffer[]): string[] | 'all' | null {
    const { name, spec: found } = lookup(args[0])
    if (BARRIERS.has(name)) return 'all'
    let spec = found
    if (spec?.subcommands !== undefined && args.length > 1) spec = subcommandOf(spec, args[1])
    if (spec === undefined) return null
    if (spec.keySpecs !== undefined) {
      // One key at a fixed place (SET, GET...): keyPositions' answer without its arrays.
      const ks = spec.keySpecs
      if (ks.length === 1 && ks[0].keynum === undefined && (ks[0].range === undefined || (ks[0].range[0] === 0 && ks[0].range[2] === 0))) {
        return ks[0].index < args.length ? [args[ks[0].index].toString('latin1')] : []
      }
      return keyPositions(spec, args, true)?.map(k => args[k.index].toString('latin1')) ?? null
    }
    if (spec.firstKey === 0) return null
    const last = spec.lastKey < 0 ? args.length + spec.lastKey : Math.min(spec.lastKey, args.length - 1)
    const keys: string[] = []
    for (let i = spec.firstKey; i <= last; i += spec.step) keys.push(args[i].toString('latin1'))
    return keys
  }

  connectionEffect (args: Buffer[]): 'begin' | 'end' | 'quit' | null {
    if (args[0].length < 4 || args[0].length > 7) return null
    return EFFECTS.get(lookup(args[0]).name) ?? null
  }

  /** A command's name for statistics: a known command's name, else 'unknown' (so the names are bounded). */
  statName (args: Buffer[]): string {
    const { name, spec } = lookup(args[0])
    return spec === undefined ? 'unknown' : name
  }

  /**
   * Does the command order itself? True for a plain GET or SET on a single
   * node: each reaches the engine synchronously, in arrival order (or queues
   * on the load of its key, which runs updates in arrival order), so a later
   * command on the key sees its effect without waiting for it at the
   * connection. Anything that reads first and writes later (INCR, SET NX…) or
   * goes through quorum logic does not.
   */
  selfOrdered (args: Buffer[]): boolean {
    if (args.length > 3 || args.length < 2) return false
    const name = lookup(args[0]).name
    return (name === 'get' ? args.length === 2 : name === 'set' && args.length === 3) && this.node.isSolo()
  }

  /**
   * Answers a plain GET on a single node (R 1) from the cache, writing its
   * reply to out itself (strings.ts writeCachedGet): true when it did, with
   * session.callStats set as exec sets it. false, nothing done: run exec. The
   * caller (a connection) asks only when the reply goes out at once: nothing
   * before it unanswered, no MULTI, no latency tracking.
   */
  writeFast (session: Session, args: Buffer[], out: ReplyWriter): boolean {
    // (the length first: lookup makes a string of any other name, which exec then makes again)
    if (args.length !== 2 || args[0].length !== 3 || lookup(args[0]).name !== 'get') return false
    return this.writeGet(session, args[1], 0, args[1].length, out)
  }

  /**
   * writeFast of a GET whose key is key[from, to): the connection offers the
   * GETs the parser found whole in a chunk this way, before any argument is
   * made (the key is read where it lies).
   */
  writeGet (session: Session, key: Buffer, from: number, to: number, out: ReplyWriter): boolean {
    if (!session.authenticated || inMulti(session) || this.node.config.r !== 1 || !this.node.isSolo() || !writeCachedGet(this.node, key, from, to, session.proto, out)) return false
    session.lastCommand = 'get'
    session.callStats = (theGet() as { spec: CommandSpec }).spec.stats ?? null
    return true
  }

  /**
   * A plain SET (3 arguments) as exec runs it, where exec would run the
   * handler's first case on this node: authenticated, no MULTI, a single
   * node (a cluster's SET is routed). null, nothing done: exec it.
   */
  execSet (session: Session, key: Buffer, value: Buffer): Reply | Promise<Reply> | null {
    if (!session.authenticated || inMulti(session) || !this.node.isSolo()) return null
    session.lastCommand = 'set'
    let reply: Reply | Promise<Reply>
    try {
      reply = plainSet(this.node, key, value)
    } catch (e) {
      reply = errorReply(e, this.node.log.error)
    }
    session.callStats = (theSet().spec as CommandSpec).stats ?? null
    return reply
  }

  /** A command another node forwarded here (Peers' CommandExecutor): its reply in the binary relay form. */
  async execForwarded (proto: number, args: Buffer[]): Promise<Buffer> {
    return encodeReplyBinary(await this.exec(internalSession(proto === 3 ? 3 : 2, true), args))
  }

  /**
   * Runs a command. A failure becomes an error reply, except that with
   * `rejects` an asynchronous one may reject instead (the caller turns it into
   * the same reply, without one more promise per command). Sets
   * session.callStats to the counters the caller records the call in (null:
   * refused or queued).
   */
  exec (session: Session, args: Buffer[], rejects = false): Reply | Promise<Reply> {
    session.callStats = null
    const { name, spec: found } = lookup(args[0])
    if (found === undefined) return this.refuse(session, null, name, unknownCommand(args))
    let spec = found
    if (spec.subcommands !== undefined && args.length > 1) {
      const sub = subcommandOf(spec, args[1])
      if (sub === undefined) return this.refuse(session, null, name, err(unknownSubcommand(name, args[1])))
      spec = sub
    }
    if (!session.authenticated && found.noauth !== true) return this.refuse(session, spec, name, err(NOAUTH))
    if ((spec.arity > 0 && args.length !== spec.arity) || args.length < -spec.arity) {
      return this.refuse(session, spec, name, err(`ERR wrong number of arguments for '${spec.name}' command`))
    }
    if (inMulti(session) && spec.notQueued !== true) {
      return spec.flags.includes('no_multi') ? this.refuse(session, spec, name, err('ERR Command not allowed inside a transaction')) : queueCommand(session, args)
    }
    session.lastCommand = spec !== found ? spec.name : UNLISTED_CONTAINERS.has(name) && args.length > 1 ? `${name}|${args[1].toString('latin1').toLowerCase()}` : name
    let reply: Reply | Promise<Reply>
    if (spec.route === 'key' && !session.forwarded && (spec.lastKey !== -1 || args.length === 2) && !this.node.isSolo()) {
      reply = this.routed(spec, session, args, rejects)
    } else {
      reply = this.run(spec, session, args, rejects)
    }
    // After the handler: commands it ran itself (MGET's GETs) must not take the call.
    session.callStats = spec.stats ?? null
    return reply
  }

  /**
   * A command refused before it ran: counted, and inside MULTI it dooms the
   * transaction. A refused EXEC ends the transaction, as Redis's execCommandAbort.
   */
  private refuse (session: Session, spec: CommandSpec | null, name: string, reply: ErrorReply): Reply {
    if (spec?.stats !== undefined) spec.stats.rejected++
    if (name === 'exec') {
      discardTransaction(session)
      return err(`EXECABORT Transaction discarded because of: ${reply.value.replace(/^ERR /, '')}`)
    }
    markDirty(session)
    return reply
  }

  /** The paper's coordinator rule: a key's command runs on one of its primaries. */
  private routed (spec: CommandSpec, session: Session, args: Buffer[], rejects: boolean): Reply | Promise<Reply> {
    const ref = this.node.ref(args[1])
    const target = this.node.forwardTarget(ref)
    // Coordinated here: the handler takes this ref (Call.keyRef), not a second one and a second md5.
    if (target === null) return this.run(spec, session, args, rejects, ref)
    // If the primary cannot be reached, coordinate here (sloppy) — unless the
    // forwarded write may have run there already: a second run would store a
    // second version with the same context (a sibling its writer never saw),
    // so the client hears that the outcome is unknown.
    return this.node.peers.forward(target, session.proto, args).then(decodeReplyBinary).catch((e) => {
      // The peer refused our handshake (a misconfigured member): a configuration error, said as such.
      if (isHandshakeRefusal(e)) return err(sanitize(`ERR cannot forward to ${target}: ${e.message}`))
      if (notSent(e) || (unreachable(e) && spec.flags.includes('readonly'))) return this.run(spec, session, args)
      if (unreachable(e)) return err(`${noQuorumMessage('write', this.node.config.w, 0)} (forwarded to ${target}, which did not answer)`)
      return errorReply(e, this.node.log.error)
    })
  }

  /** Runs a command as a client's own (EXEC's queued ones): checks, routing, and its call recorded. */
  async dispatch (session: Session, args: Buffer[]): Promise<Reply> {
    const startMs = performance.now()
    const pending = this.exec(session, args)
    const stats = session.callStats
    const reply = await pending
    recordCall(stats, reply, startMs)
    return reply
  }

  private run (spec: CommandSpec, session: Session, args: Buffer[], rejects = false, ref: KeyRef | null = null): Reply | Promise<Reply> {
    try {
      const reply = (spec.handler as NonNullable<CommandSpec['handler']>)(new CommandCall(this, session, args, this.node, this.server, ref))
      if (reply instanceof Promise && !rejects) return reply.catch(e => errorReply(e, this.node.log.error))
      return reply
    } catch (e) {
      return errorReply(e, this.node.log.error)
    }
  }
}

/** What a handler gets: one object per command, its methods on the prototype (no closures per command). */
class CommandCall implements Call {
  constructor (
    private readonly dispatcher: Dispatcher,
    readonly session: Session,
    readonly args: Buffer[],
    readonly node: DynakvNode,
    readonly server: ServerInfo,
    private readonly routedRef: KeyRef | null = null
  ) {}

  keyRef (): KeyRef {
    return this.routedRef ?? this.node.ref(this.args[1])
  }

  exec (args: Buffer[]): Reply | Promise<Reply> {
    return this.dispatcher.exec(this.session, args)
  }

  dispatch (args: Buffer[]): Promise<Reply> {
    return this.dispatcher.dispatch(this.session, args)
  }

  keysOf (args: Buffer[]): string[] | 'all' | null {
    return this.dispatcher.keysOf(args)
  }
}
