// The command table and the dispatcher: name lookup, AUTH gate, arity check,
// the coordinator rule (forward a key's command to a primary), and error replies.
import { noQuorumMessage } from '../../coordinator/quorum.js'
import { HandshakeError, isHandshakeRefusal } from '../../peer/errors.js'
import { err, array, bulk, int, map, set, simple, NULL, type Reply } from '../reply.js'
import type { Session } from '../session.js'
import type { DynakvNode } from '../../node/node.js'
import type { Call, CommandSpec, ServerInfo } from './types.js'
import { CommandError, lower } from './util.js'
import { connectionCommands, NOAUTH } from './connection.js'
import { stringCommands } from './strings.js'
import { keyCommands } from './keys.js'
import { dynamoCommands } from './dynamo.js'
import { infoCommand } from './info.js'
import { ringCommands } from './ring.js'
import { latencyCommand } from './latency.js'

export type { ServerInfo }

const ALL: CommandSpec[] = [...connectionCommands, ...stringCommands, ...keyCommands, ...dynamoCommands, infoCommand, ...ringCommands, latencyCommand]

export const COMMANDS = new Map<string, CommandSpec>()
for (const spec of ALL) COMMANDS.set(spec.name, spec)
COMMANDS.set('command', {
  name: 'command',
  arity: -1,
  flags: ['loading', 'stale'],
  group: 'server',
  firstKey: 0,
  lastKey: 0,
  step: 0,
  summary: 'Returns the command table: COUNT, LIST, INFO, DOCS.',
  since: '2.8.13',
  handler: commandCmd
})

function commandInfo (spec: CommandSpec, proto: 2 | 3): Reply {
  const flags = spec.flags.map(f => simple(f))
  return array([
    bulk(spec.name),
    int(spec.arity),
    proto === 3 ? set(flags) : array(flags),
    int(spec.firstKey),
    int(spec.lastKey),
    int(spec.step),
    proto === 3 ? set([simple('@' + spec.group)]) : array([simple('@' + spec.group)]),
    array([]),
    array([]),
    array([])
  ])
}

function commandDocs (spec: CommandSpec): Reply {
  const doc: Array<[Reply, Reply]> = [
    [bulk('summary'), bulk(spec.summary)],
    [bulk('since'), bulk(spec.since)],
    [bulk('group'), bulk(spec.group)]
  ]
  if (spec.complexity !== undefined) doc.push([bulk('complexity'), bulk(spec.complexity)])
  return map(doc)
}

/** Redis 7's arities of COMMAND's subcommands (name included). */
const COMMAND_SUBCOMMAND_ARITY: Record<string, number> = { count: 2, list: -2, info: -2, docs: -2, help: 2 }

/** Commands whose first argument is a subcommand: CLIENT LIST reports them as `client|list`. */
const CONTAINERS = new Set(['client', 'config', 'command', 'ring', 'debug', 'latency'])

function commandCmd (c: Call): Reply {
  if (c.args.length === 1) return array([...COMMANDS.values()].map(s => commandInfo(s, c.session.proto)))
  const sub = lower(c.args[1])
  const names = c.args.slice(2).map(lower)
  const arity = COMMAND_SUBCOMMAND_ARITY[sub]
  if (arity !== undefined && ((arity > 0 && c.args.length !== arity) || c.args.length < -arity)) {
    return err(`ERR wrong number of arguments for 'command|${sub}' command`)
  }
  switch (sub) {
    case 'count':
      return int(COMMANDS.size)
    case 'list':
      return array([...COMMANDS.keys()].map(n => bulk(n)))
    case 'info': {
      const specs = names.length === 0 ? [...COMMANDS.values()] : names.map(n => COMMANDS.get(n))
      return array(specs.map(s => s === undefined ? NULL : commandInfo(s, c.session.proto)))
    }
    case 'docs': {
      const specs = names.length === 0 ? [...COMMANDS.values()] : names.map(n => COMMANDS.get(n)).filter((s): s is CommandSpec => s !== undefined)
      return map(specs.map(s => [bulk(s.name), commandDocs(s)]))
    }
    case 'help':
      return array(['COMMAND <subcommand>. Subcommands are:', '(no subcommand)', '    Return details about all commands.', 'COUNT', 'LIST', 'INFO [<command-name> ...]', 'DOCS [<command-name> ...]'].map(l => simple(l)))
    default:
      return err(`ERR unknown subcommand '${c.args[1].toString('latin1').slice(0, 128)}'. Try COMMAND HELP.`)
  }
}

/** Redis's rejectCommandFormat: newlines in the text become spaces. */
function sanitize (s: string): string {
  return s.replace(/[\r\n]/g, ' ')
}

export function unknownCommand (args: Buffer[]): Reply {
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
 * everything after them waits for: keyspace-wide ones and connection state.
 */
const BARRIERS = new Set(['scan', 'keys', 'randomkey', 'dbsize', 'flushall', 'flushdb', 'ring', 'debug', 'hello', 'auth', 'reset', 'select', 'client'])

/** Command names as clients spell them ('GET', 'get', 'Get') → spec: one Map lookup, no lower-casing. Bounded. */
const BY_SPELLING = new Map<string, { name: string, spec: CommandSpec | undefined }>()
const SPELLINGS_MAX = 4096

let GET: { name: string, spec: CommandSpec | undefined } | undefined
let SET: typeof GET

function lookup (arg0: Buffer): { name: string, spec: CommandSpec | undefined } {
  // GET and SET in any case, straight from the bytes: no string for the hottest two.
  if (arg0.length === 3 && (arg0[1] | 0x20) === 0x65 && (arg0[2] | 0x20) === 0x74) {
    const first = arg0[0] | 0x20
    if (first === 0x67) return (GET ??= { name: 'get', spec: COMMANDS.get('get') })
    if (first === 0x73) return (SET ??= { name: 'set', spec: COMMANDS.get('set') })
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
    const { name, spec } = lookup(args[0])
    if (BARRIERS.has(name)) return 'all'
    if (spec === undefined || spec.firstKey === 0) return null
    const last = spec.lastKey < 0 ? args.length + spec.lastKey : Math.min(spec.lastKey, args.length - 1)
    const keys: string[] = []
    for (let i = spec.firstKey; i <= last; i += spec.step) keys.push(args[i].toString('latin1'))
    return keys
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
   * Runs a command. A failure becomes an error reply, except that with
   * `rejects` an asynchronous one may reject instead (the caller turns it into
   * the same reply, without one more promise per command).
   */
  exec (session: Session, args: Buffer[], rejects = false): Reply | Promise<Reply> {
    const { name, spec } = lookup(args[0])
    if (spec === undefined) return unknownCommand(args)
    if (!session.authenticated && spec.noauth !== true) return err(NOAUTH)
    if ((spec.arity > 0 && args.length !== spec.arity) || args.length < -spec.arity) {
      return err(`ERR wrong number of arguments for '${spec.name}' command`)
    }
    session.lastCommand = CONTAINERS.has(name) && args.length > 1 ? `${name}|${args[1].toString('latin1').toLowerCase()}` : name
    if (spec.route === 'key' && !session.forwarded && (spec.lastKey !== -1 || args.length === 2)) {
      const target = this.node.isSolo() ? null : this.node.forwardTarget(this.node.ref(args[1]))
      if (target !== null) {
        // The paper's coordinator rule. If the primary cannot be reached, coordinate
        // here (sloppy) — unless the forwarded write may have run there already: a
        // second run would store a second version with the same context (a sibling
        // its writer never saw), so the client hears that the outcome is unknown.
        return this.node.peers.forward(target, session, args).catch((e) => {
          // The peer refused our handshake (a misconfigured member): a configuration error, said as such.
          if (isHandshakeRefusal(e)) return err(sanitize(`ERR cannot forward to ${target}: ${e.message}`))
          if (notSent(e) || (unreachable(e) && spec.flags.includes('readonly'))) return this.run(spec, session, args)
          if (unreachable(e)) return err(`${noQuorumMessage('write', this.node.config.w, 0)} (forwarded to ${target}, which did not answer)`)
          return errorReply(e, this.node.log.error)
        })
      }
    }
    return this.run(spec, session, args, rejects)
  }

  private run (spec: CommandSpec, session: Session, args: Buffer[], rejects = false): Reply | Promise<Reply> {
    try {
      const call: Call = { session, args, node: this.node, server: this.server, exec: (a) => this.exec(session, a) }
      const reply = (spec.handler as NonNullable<CommandSpec['handler']>)(call)
      if (reply instanceof Promise && !rejects) return reply.catch(e => errorReply(e, this.node.log.error))
      return reply
    } catch (e) {
      return errorReply(e, this.node.log.error)
    }
  }
}
