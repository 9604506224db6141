// Connection and introspection commands: what redis-cli, redis-benchmark,
// ioredis, node-redis and redis-py send on their own (DESIGN.md §2, "Client
// handshakes"), with Redis's replies and error wording.
import { OK, NULL, PONG, array, bulk, err, int, map, simple, verbatim, type Reply } from '../reply.js'
import type { Session } from '../session.js'
import type { Call, CommandSpec } from './types.js'
import { E, echo, fail, globMatcher, intArg, lower, text } from './util.js'

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
  s.authenticated = c.node.config.requirepass === null
  return simple('RESET')
}

function clientLine (s: Session, nowMs: number): string {
  const age = Math.floor((nowMs - s.createdAtMs) / 1000)
  const idle = Math.floor((nowMs - s.lastCommandAtMs) / 1000)
  return `id=${s.id} addr=${s.addr} laddr=${s.laddr} fd=-1 name=${s.name} age=${age} idle=${idle} flags=N db=${s.db} sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${s.lastCommand} user=default redir=-1 resp=${s.proto} lib-name=${s.libName} lib-ver=${s.libVer}`
}

const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ID', '    Return the ID of the current connection.',
  'GETNAME', '    Return the name of the current connection.',
  'SETNAME <name>', '    Assign the name <name> to the current connection.',
  'SETINFO <option> <value>', '    Set client meta attr. Options are: LIB-NAME, LIB-VER.',
  'LIST [TYPE <type>] [ID <id> ...]', '    Return information about client connections.',
  'INFO', '    Return information about the current client connection.',
  'HELP', '    Print this help.'
]

function clientCmd (c: Call): Reply {
  const sub = lower(c.args[1])
  const n = c.args.length
  const arity = (): never => fail(`ERR wrong number of arguments for 'client|${sub}' command`)
  switch (sub) {
    case 'id':
      if (n !== 2) arity()
      return int(c.session.id)
    case 'getname':
      if (n !== 2) arity()
      return c.session.name === '' ? NULL : bulk(c.session.name)
    case 'setname':
      if (n !== 3) arity()
      c.session.name = validName(c.args[2])
      return OK
    case 'setinfo': {
      if (n !== 4) arity()
      const attr = lower(c.args[2])
      if (attr !== 'lib-name' && attr !== 'lib-ver') fail(`ERR Unrecognized option '${echo(c.args[2])}'`)
      const value = validName(c.args[3])
      if (attr === 'lib-name') c.session.libName = value
      else c.session.libVer = value
      return OK
    }
    case 'info':
      if (n !== 2) arity()
      return verbatim(clientLine(c.session, c.node.clock.now()) + '\n')
    case 'list': {
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
    case 'no-evict':
    case 'no-touch':
      if (n !== 3) arity()
      return OK
    case 'help':
      return array(CLIENT_HELP.map(l => simple(l)))
    default:
      return err(`ERR unknown subcommand '${echo(c.args[1]).slice(0, 128)}'. Try CLIENT HELP.`)
  }
}

function time (c: Call): Reply {
  // The node clock counts milliseconds; the sub-millisecond part comes from the monotonic timer.
  const us = c.node.clock.now() * 1000 + Math.floor((performance.now() % 1) * 1000)
  return array([bulk(String(Math.floor(us / 1e6))), bulk(String(us % 1e6))])
}

/** CONFIG GET: the parameters clients ask for (redis-benchmark: save, appendonly). */
function configParams (c: Call): Array<[string, string]> {
  const cfg = c.node.config
  return [
    ['save', ''],
    ['appendonly', 'no'],
    ['appendfsync', cfg.sync ? 'always' : 'no'],
    ['databases', '1'],
    ['maxmemory', '0'],
    ['maxmemory-policy', 'noeviction'],
    ['timeout', '0'],
    ['port', String(c.server.port)],
    ['bind', cfg.host],
    ['requirepass', cfg.requirepass ?? ''],
    ['proto-max-bulk-len', String(cfg.protoMaxBulkLen)],
    ['maxclients', String(cfg.maxclients)],
    ['cluster-enabled', 'no'],
    ['dynakv-n', String(cfg.n)],
    ['dynakv-r', String(cfg.r)],
    ['dynakv-w', String(cfg.w)],
    ['dynakv-partitions', String(cfg.partitions)],
    ['dynakv-sync', cfg.sync ? 'yes' : 'no'],
    ['dynakv-vclock-max', String(cfg.vclockMax)],
    ['dynakv-cache-mb', String(cfg.cacheMb)]
  ]
}

function config (c: Call): Reply {
  const sub = lower(c.args[1])
  if (sub === 'get') {
    if (c.args.length < 3) fail("ERR wrong number of arguments for 'config|get' command")
    const params = configParams(c)
    const out: Array<[Reply, Reply]> = []
    const seen = new Set<string>()
    for (const pattern of c.args.slice(2)) {
      const m = globMatcher(Buffer.from(pattern.toString('latin1').toLowerCase(), 'latin1'))
      for (const [k, v] of params) {
        if (!seen.has(k) && m(Buffer.from(k))) {
          seen.add(k)
          out.push([bulk(k), bulk(v)])
        }
      }
    }
    return map(out)
  }
  if (sub === 'set') return err('ERR CONFIG SET is not supported by dynakv: restart the node with the flag (see dynakv server --help)')
  if (sub === 'resetstat') {
    if (c.args.length !== 2) fail("ERR wrong number of arguments for 'config|resetstat' command")
    return OK
  }
  if (sub === 'help') return array(['CONFIG <subcommand>. Subcommands are:', 'GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.', 'RESETSTAT', '    Accepted; statistics are kept.'].map(l => simple(l)))
  return err(`ERR unknown subcommand '${echo(c.args[1]).slice(0, 128)}'. Try CONFIG HELP.`)
}

const NOKEY = { firstKey: 0, lastKey: 0, step: 0 } as const
const CONN = { group: 'connection', ...NOKEY } as const

export const connectionCommands: CommandSpec[] = [
  { name: 'ping', arity: -1, flags: ['fast'], ...CONN, summary: 'Returns PONG, or the argument.', since: '1.0.0', handler: ping },
  { name: 'echo', arity: 2, flags: ['fast'], ...CONN, summary: 'Returns the argument.', since: '1.0.0', handler: (c) => bulk(c.args[1]) },
  { name: 'hello', arity: -1, flags: ['noauth', 'fast'], noauth: true, ...CONN, summary: 'Handshakes with the server: protocol 2 or 3, optional AUTH and SETNAME.', since: '6.0.0', handler: hello },
  { name: 'auth', arity: -2, flags: ['noauth', 'fast'], noauth: true, ...CONN, summary: 'Authenticates the connection (user default).', since: '1.0.0', handler: auth },
  { name: 'select', arity: 2, flags: ['fast'], ...CONN, summary: 'Only database 0 exists.', since: '1.0.0', handler: select },
  {
    name: 'quit',
    arity: -1,
    flags: ['noauth', 'fast'],
    noauth: true,
    ...CONN,
    summary: 'Closes the connection.',
    since: '1.0.0',
    handler: (c) => {
      c.session.closeAfterReply = true
      return OK
    }
  },
  { name: 'reset', arity: 1, flags: ['noauth', 'fast'], noauth: true, ...CONN, summary: 'Resets the connection state.', since: '6.2.0', handler: reset },
  { name: 'client', arity: -2, flags: [], ...CONN, summary: 'Connection introspection: ID, SETNAME, GETNAME, SETINFO, LIST, INFO.', since: '2.4.0', handler: clientCmd },
  { name: 'time', arity: 1, flags: ['fast'], group: 'server', ...NOKEY, summary: 'Returns the server time.', since: '2.6.0', handler: time },
  { name: 'config', arity: -2, flags: ['admin'], group: 'server', ...NOKEY, summary: 'CONFIG GET reports the settings clients ask for.', since: '2.0.0', handler: config }
]
