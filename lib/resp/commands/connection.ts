// Connection and introspection commands: what redis-cli, redis-benchmark,
// ioredis, node-redis and redis-py send on their own (docs/design.md#client-handshakes, "Client
// handshakes"), with Redis's replies and error wording.
import { OK, NULL, PONG, array, bulk, err, int, map, simple, verbatim, type Reply } from '../reply.js'
import type { Session } from '../session.js'
import type { Call, CommandSpec } from './types.js'
import { container } from './table.js'
import { E, echo, fail, intArg, lower, text } from './util.js'

export const REDIS_VERSION = '7.2.0'
export const DYNAKV_VERSION = '0.1.0'

export const NOAUTH = 'NOAUTH Authentication required.'
const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.'

/** The only user is `default`; without --requirepass it has no password and any password passes (as Redis's nopass). */
function checkPassword (c: Call, user: string, pass: Buffer): boolean {
  const want = c.node.config.requirepass
  return user === 'default' && (want === null || pass.toString('utf8') === want)
}

function ping (c: Call): Reply {
  if (c.args.length > 2) fail("ERR wrong number of arguments for 'ping' command")
  return c.args.length === 2 ? bulk(c.args[1]) : PONG
}

function auth (c: Call): Reply {
  if (c.args.length > 3) fail(E.syntax)
  if (c.node.config.requirepass === null && c.args.length === 2) {
    fail('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?')
  }
  const user = c.args.length === 3 ? text(c.args[1]) : 'default'
  if (!checkPassword(c, user, c.args[c.args.length - 1])) return err(WRONGPASS)
  c.session.authenticated = true
  return OK
}

function helloReply (c: Call): Reply {
  const s = c.session
  return map([
    [bulk('server'), bulk('redis')],
    [bulk('version'), bulk(REDIS_VERSION)],
    [bulk('proto'), int(s.proto)],
    [bulk('id'), int(s.id)],
    [bulk('mode'), bulk('standalone')],
    [bulk('role'), bulk('master')],
    [bulk('modules'), array([])],
    [bulk('dynakv'), bulk(DYNAKV_VERSION)]
  ])
}

function hello (c: Call): Reply {
  let proto = c.session.proto
  let i = 1
  if (c.args.length > 1) {
    const v = Number(c.args[1].toString('latin1'))
    if (!/^-?\d+$/.test(c.args[1].toString('latin1'))) fail('ERR Protocol version is not an integer or out of range')
    if (v < 2 || v > 3) return err('NOPROTO unsupported protocol version')
    proto = v as 2 | 3
    i = 2
  }
  let authOk = c.session.authenticated
  let setname: string | null = null
  for (; i < c.args.length; i++) {
    const opt = lower(c.args[i])
    if (opt === 'auth' && i + 2 < c.args.length) {
      if (!checkPassword(c, text(c.args[i + 1]), c.args[i + 2])) return err(WRONGPASS)
      authOk = true
      i += 2
    } else if (opt === 'setname' && i + 1 < c.args.length) {
      setname = validName(c.args[i + 1])
      i += 1
    } else {
      fail(`ERR Syntax error in HELLO option '${echo(c.args[i])}'`)
    }
  }
  if (!authOk) {
    return err('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time')
  }
  c.session.authenticated = true
  c.session.proto = proto
  if (setname !== null) c.session.name = setname
  return helloReply(c)
}

function validName (b: Buffer): string {
  for (const ch of b) {
    if (ch < 33 || ch > 126) fail('ERR Client names cannot contain spaces, newlines or special characters.')
  }
  return b.toString('latin1')
}

function select (c: Call): Reply {
  const idx = intArg(c.args[1])
  if (idx !== 0) fail(E.dbRange)
  return OK
}

function reset (c: Call): Reply {
  const s = c.session
  s.proto = 2
  s.name = ''
  s.db = 0
  s.tx = null
  s.authenticated = c.node.config.requirepass === null
  return simple('RESET')
}

function clientLine (s: Session, nowMs: number): string {
  const age = Math.floor((nowMs - s.createdAtMs) / 1000)
  // At least 0: a connection's last read time is worked out on a clock read after nowMs (Connection.lastCommandAtMs).
  const idle = Math.max(0, Math.floor((nowMs - s.lastCommandAtMs) / 1000))
  const queued = s.tx?.queue ?? null
  const flags = queued === null ? 'N' : 'x'
  const multi = queued === null ? -1 : queued.length
  return `id=${s.id} addr=${s.addr} laddr=${s.laddr} fd=-1 name=${s.name} age=${age} idle=${idle} flags=${flags} db=${s.db} sub=0 psub=0 ssub=0 multi=${multi} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${s.lastCommand} user=default redir=-1 resp=${s.proto} lib-name=${s.libName} lib-ver=${s.libVer}`
}

const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ID', '    Return the ID of the current connection.',
  'GETNAME', '    Return the name of the current connection.',
  'SETNAME <name>', '    Assign the name <name> to the current connection.',
  'SETINFO <option> <value>', '    Set client meta attr. Options are: LIB-NAME, LIB-VER.',
  'LIST [TYPE <type>] [ID <id> ...]', '    Return information about client connections.',
  'INFO', '    Return information about the current client connection.',
  'NO-EVICT (ON|OFF)', '    Accepted; dynakv evicts no client.',
  'NO-TOUCH (ON|OFF)', '    Accepted; dynakv keeps no access times.',
  'HELP', '    Print this help.'
]

function clientSetinfo (c: Call): Reply {
  const attr = lower(c.args[2])
  if (attr !== 'lib-name' && attr !== 'lib-ver') fail(`ERR Unrecognized option '${echo(c.args[2])}'`)
  const value = validName(c.args[3])
  if (attr === 'lib-name') c.session.libName = value
  else c.session.libVer = value
  return OK
}

function clientList (c: Call): Reply {
  const n = c.args.length
  const now = c.node.clock.now()
  let ids: Set<number> | null = null
  for (let i = 2; i < n; i++) {
    const opt = lower(c.args[i])
    if (opt === 'type' && i + 1 < n) {
      const t = lower(c.args[++i])
      if (!['normal', 'master', 'replica', 'pubsub'].includes(t)) fail(`ERR Unknown client type '${echo(c.args[i])}'`)
      if (t !== 'normal') ids = new Set()
    } else if (opt === 'id' && i + 1 < n) {
      ids ??= new Set()
      while (i + 1 < n) ids.add(intArg(c.args[++i], 'ERR Invalid client ID'))
    } else {
      fail(E.syntax)
    }
  }
  const lines: string[] = []
  for (const s of c.server.clients()) if (ids === null || ids.has(s.id)) lines.push(clientLine(s, now) + '\n')
  return verbatim(lines.join(''))
}

/** CLIENT NO-EVICT / NO-TOUCH: ON or OFF, nothing to do. */
function onOff (c: Call): Reply {
  const v = lower(c.args[2])
  if (v !== 'on' && v !== 'off') fail(E.syntax)
  return OK
}

function time (c: Call): Reply {
  // The node clock counts milliseconds; the sub-millisecond part comes from the monotonic timer.
  const us = c.node.clock.now() * 1000 + Math.floor((performance.now() % 1) * 1000)
  return array([bulk(String(Math.floor(us / 1e6))), bulk(String(us % 1e6))])
}

const NOKEY = { firstKey: 0, lastKey: 0, step: 0 } as const

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: the node stops as on SIGTERM
 * (writes flushed, the database closed) and, as Redis, sends no reply: the
 * connection closes. Nothing to save: every acknowledged write is in storage.
 */
function shutdown (c: Call): Reply | Promise<Reply> {
  let save = 0
  let abort = false
  for (const a of c.args.slice(1)) {
    const o = lower(a)
    if (o === 'nosave' || o === 'save') save++
    else if (o === 'abort') abort = true
    else if (o !== 'now' && o !== 'force') return err(E.syntax)
  }
  if (save > 1 || (abort && c.args.length > 2)) return err(E.syntax)
  if (abort) return err('ERR No shutdown in progress.')
  if (c.server.shutdown === null) return err('ERR SHUTDOWN is not available: this node does not run as a process of its own')
  c.server.shutdown()
  // No reply: the stop closes this connection.
  return new Promise<Reply>(() => {})
}

/** LASTSAVE: with --sync every acknowledged write is on disk at once, so the last save is now; else the start. */
function lastsave (c: Call): Reply {
  return int(Math.floor((c.node.config.sync ? c.node.clock.now() : c.node.startedAtMs) / 1000))
}

function bgsave (c: Call): Reply {
  if (c.args.length > 2 || (c.args.length === 2 && lower(c.args[1]) !== 'schedule')) return err(E.syntax)
  return simple('Background saving started')
}
const CONN = { group: 'connection', ...NOKEY } as const

const QUICK = ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'] as const
const CLIENT = { flags: ['noscript', 'loading', 'stale'], group: 'connection', acl: ['connection'], ...NOKEY } as const
const CLIENT_ADMIN = { ...CLIENT, flags: ['admin', 'noscript', 'loading', 'stale'] } as const

export const connectionCommands: CommandSpec[] = [
  { name: 'ping', arity: -1, flags: ['fast'], acl: ['connection'], tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], ...CONN, summary: 'Returns PONG, or the argument.', since: '1.0.0', handler: ping },
  { name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], acl: ['connection'], ...CONN, summary: 'Returns the argument.', since: '1.0.0', handler: (c) => bulk(c.args[1]) },
  { name: 'hello', arity: -1, flags: QUICK, acl: ['connection'], noauth: true, ...CONN, summary: 'Handshakes with the server: protocol 2 or 3, optional AUTH and SETNAME.', since: '6.0.0', handler: hello },
  { name: 'auth', arity: -2, flags: QUICK, acl: ['connection'], noauth: true, ...CONN, summary: 'Authenticates the connection (user default).', since: '1.0.0', handler: auth },
  { name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], acl: ['connection'], ...CONN, summary: 'Only database 0 exists.', since: '1.0.0', handler: select },
  {
    name: 'quit',
    arity: -1,
    flags: QUICK,
    acl: ['connection'],
    noauth: true,
    notQueued: true,
    ...CONN,
    summary: 'Closes the connection.',
    since: '1.0.0',
    handler: (c) => {
      c.session.closeAfterReply = true
      return OK
    }
  },
  { name: 'reset', arity: 1, flags: QUICK, acl: ['connection'], noauth: true, notQueued: true, ...CONN, summary: 'Resets the connection state: protocol, name, authentication, MULTI and WATCH.', since: '6.2.0', handler: reset },
  container('client', 'connection', 'Connection introspection: ID, SETNAME, GETNAME, SETINFO, LIST, INFO.', '2.4.0', [
    { name: 'client|id', arity: 2, ...CLIENT, summary: 'Returns the unique client ID of the connection.', since: '5.0.0', handler: (c) => int(c.session.id) },
    { name: 'client|getname', arity: 2, ...CLIENT, summary: 'Returns the name of the connection.', since: '2.6.9', handler: (c) => c.session.name === '' ? NULL : bulk(c.session.name) },
    {
      name: 'client|setname',
      arity: 3,
      ...CLIENT,
      summary: 'Sets the connection name.',
      since: '2.6.9',
      handler: (c) => {
        c.session.name = validName(c.args[2])
        return OK
      }
    },
    { name: 'client|setinfo', arity: 4, ...CLIENT, summary: 'Sets information specific to the client or connection.', since: '7.2.0', handler: clientSetinfo },
    { name: 'client|info', arity: 2, ...CLIENT, tips: ['nondeterministic_output'], summary: 'Returns information about the connection.', since: '6.2.0', handler: (c) => verbatim(clientLine(c.session, c.node.clock.now()) + '\n') },
    { name: 'client|list', arity: -2, ...CLIENT_ADMIN, tips: ['nondeterministic_output'], summary: 'Lists open connections.', since: '2.4.0', handler: clientList },
    { name: 'client|no-evict', arity: 3, ...CLIENT_ADMIN, summary: 'Accepted: dynakv evicts no client.', since: '7.0.0', handler: onOff },
    { name: 'client|no-touch', arity: 3, ...CLIENT, summary: 'Accepted: dynakv keeps no access times.', since: '7.2.0', handler: onOff },
    { name: 'client|help', arity: 2, ...CLIENT, flags: ['loading', 'stale'], summary: 'Returns helpful text about the different subcommands.', since: '5.0.0', handler: () => array(CLIENT_HELP.map(l => simple(l))) }
  ]),
  { name: 'shutdown', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'], group: 'server', acl: ['dangerous'], ...NOKEY, summary: 'Stops the node as SIGTERM does (writes flushed, database closed); no reply.', since: '1.0.0', handler: shutdown },
  { name: 'save', arity: 1, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], group: 'server', acl: ['dangerous'], ...NOKEY, summary: 'OK: every acknowledged write is already in storage (fsynced with --sync).', since: '1.0.0', handler: () => OK },
  { name: 'bgsave', arity: -1, flags: ['admin', 'noscript', 'no_async_loading'], group: 'server', acl: ['dangerous'], ...NOKEY, summary: 'Nothing to save: every acknowledged write is already in storage.', since: '1.0.0', handler: bgsave },
  { name: 'lastsave', arity: 1, flags: ['loading', 'stale', 'fast'], group: 'server', acl: ['admin', 'dangerous'], tips: ['nondeterministic_output'], ...NOKEY, summary: 'Now with --sync (every acknowledged write is on disk), else the start time.', since: '1.0.0', handler: lastsave },
  { name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], tips: ['nondeterministic_output'], group: 'server', ...NOKEY, summary: 'Returns the server time.', since: '2.6.0', handler: time }
]
