// CONFIG GET/SET/RESETSTAT/REWRITE with Redis 7's parameters and wording.
//
// Three kinds of parameter:
//   tunable   has no meaning in dynakv (encodings, hz, eviction, lazyfree...):
//             validated as Redis validates it, kept, read back, no effect
//   live      dynakv changes it at run time (maxclients, requirepass,
//             proto-max-bulk-len, loglevel, the handoff rate and batch, the
//             peer request timeout): takes effect at once
//   fixed     set at start (port, N, R, W...): CONFIG GET reads it, CONFIG SET
//             answers Redis's "can't set immutable config"
// Anything else: Redis's "Unknown option or number of arguments for CONFIG SET".
// CONFIG SET of several parameters applies all or none, as Redis 7 does.
import { OK, array, bulk, err, map, simple, type Reply } from '../reply.js'
import type { LogLevel } from '../../runtime/log.js'
import type { Call, CommandSpec } from './types.js'
import { container } from './table.js'
import { E, echo, fail, globMatch, parseInt64 } from './util.js'
import { resetCommandstats } from './stats.js'
import { Buffer } from 'node:buffer'

type Kind =
  | { kind: 'int', min: bigint, max: bigint, memory?: boolean }
  | { kind: 'bool' }
  | { kind: 'enum', values: readonly string[] }
  | { kind: 'string' }
  | { kind: 'save' }

interface Param {
  name: string
  alias?: string
  type: Kind
  /** Tunables: the default (their value is kept in ServerInfo.tunables). */
  initial?: string
  /** Live and fixed parameters: the value now. */
  get?: (c: Call) => string
  /** Live parameters: applies an already validated value. */
  set?: (c: Call, value: string) => void
  /** What Redis keeps of an accepted value, when not the value itself (hz is clamped to 1..500). */
  kept?: (value: string) => string
}

const INT_MAX = 2n ** 31n - 1n
const INT_MIN = -(2n ** 31n)
const LLONG_MAX = 2n ** 63n - 1n
const UINT_MAX = 2n ** 32n - 1n
const ULLONG_MAX = 2n ** 64n - 1n

const int = (min: bigint, max: bigint): Kind => ({ kind: 'int', min, max })
const memory = (min: bigint, max: bigint): Kind => ({ kind: 'int', min, max, memory: true })
const bool: Kind = { kind: 'bool' }
const tunable = (name: string, type: Kind, initial: string, alias?: string): Param => ({ name, type, initial, alias })
const fixed = (name: string, get: (c: Call) => string, type: Kind = { kind: 'string' }): Param => ({ name, type, get })

/** dynakv's log levels as Redis's loglevel names, and back. */
const REDIS_LOGLEVEL: Record<LogLevel, string> = { debug: 'debug', info: 'notice', warn: 'warning', error: 'warning', silent: 'nothing' }
const DYNAKV_LOGLEVEL: Record<string, LogLevel> = { debug: 'debug', verbose: 'debug', notice: 'info', warning: 'warn', nothing: 'silent' }

const PARAMS: Param[] = [
  // Encodings and housekeeping of Redis's own data structures: accepted, no effect.
  tunable('hash-max-listpack-entries', int(0n, LLONG_MAX), '128', 'hash-max-ziplist-entries'),
  tunable('hash-max-listpack-value', int(0n, LLONG_MAX), '64', 'hash-max-ziplist-value'),
  tunable('set-max-intset-entries', int(0n, LLONG_MAX), '512'),
  tunable('set-max-listpack-entries', int(0n, LLONG_MAX), '128'),
  tunable('set-max-listpack-value', int(0n, LLONG_MAX), '64'),
  tunable('zset-max-listpack-entries', int(0n, LLONG_MAX), '128', 'zset-max-ziplist-entries'),
  tunable('zset-max-listpack-value', int(0n, LLONG_MAX), '64', 'zset-max-ziplist-value'),
  tunable('list-max-listpack-size', int(INT_MIN, INT_MAX), '-2', 'list-max-ziplist-size'),
  tunable('list-compress-depth', int(0n, INT_MAX), '0'),
  tunable('stream-node-max-bytes', memory(0n, LLONG_MAX), '4096'),
  tunable('stream-node-max-entries', int(0n, LLONG_MAX), '100'),
  tunable('hll-sparse-max-bytes', memory(0n, LLONG_MAX), '3000'),
  tunable('activerehashing', bool, 'yes'),
  { ...tunable('hz', int(0n, INT_MAX), '10'), kept: (v) => String(Math.min(500, Math.max(1, Number(v)))) },
  tunable('dynamic-hz', bool, 'yes'),
  tunable('maxmemory', memory(0n, ULLONG_MAX), '0'),
  tunable('maxmemory-policy', { kind: 'enum', values: ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'] }, 'noeviction'),
  tunable('maxmemory-samples', int(1n, INT_MAX), '5'),
  tunable('maxmemory-eviction-tenacity', int(0n, 100n), '10'),
  tunable('lfu-log-factor', int(0n, INT_MAX), '10'),
  tunable('lfu-decay-time', int(0n, INT_MAX), '1'),
  tunable('lazyfree-lazy-eviction', bool, 'no'),
  tunable('lazyfree-lazy-expire', bool, 'no'),
  tunable('lazyfree-lazy-server-del', bool, 'no'),
  tunable('lazyfree-lazy-user-del', bool, 'no'),
  tunable('lazyfree-lazy-user-flush', bool, 'no'),
  tunable('timeout', int(0n, INT_MAX), '0'),
  tunable('tcp-keepalive', int(0n, INT_MAX), '300'),
  tunable('slowlog-log-slower-than', int(-1n, LLONG_MAX), '10000'),
  tunable('slowlog-max-len', int(0n, LLONG_MAX), '128'),
  tunable('latency-monitor-threshold', int(0n, LLONG_MAX), '0'),
  tunable('latency-tracking', bool, 'yes'),
  tunable('busy-reply-threshold', int(0n, LLONG_MAX), '5000', 'lua-time-limit'),
  tunable('active-expire-effort', int(1n, 10n), '1'),
  // Persistence is always on in dynakv (LevelDB, fsync per --sync): Redis's RDB/AOF switches change nothing.
  tunable('save', { kind: 'save' }, ''),
  tunable('appendonly', bool, 'no'),
  // Live.
  {
    name: 'maxclients',
    type: int(1n, UINT_MAX),
    get: (c) => String(c.node.config.maxclients),
    set: (c, v) => { c.node.config.maxclients = Number(v) }
  },
  {
    name: 'requirepass',
    type: { kind: 'string' },
    get: (c) => c.node.config.requirepass ?? '',
    set: (c, v) => { c.node.config.requirepass = v === '' ? null : v }
  },
  {
    name: 'proto-max-bulk-len',
    type: memory(1024n * 1024n, LLONG_MAX),
    get: (c) => String(c.node.config.protoMaxBulkLen),
    set: (c, v) => {
      c.node.config.protoMaxBulkLen = Number(v)
      c.server.configChanged()
    }
  },
  {
    name: 'loglevel',
    type: { kind: 'enum', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'] },
    get: (c) => c.server.tunables.get('loglevel') ?? REDIS_LOGLEVEL[c.node.config.logLevel],
    set: (c, v) => {
      c.server.tunables.set('loglevel', v)
      c.node.log.setLevel?.(DYNAKV_LOGLEVEL[v])
    }
  },
  { name: 'dynakv-handoff-rate', type: int(1n, 10_000_000n), get: (c) => String(c.node.config.handoffRate), set: (c, v) => { c.node.config.handoffRate = Number(v) } },
  { name: 'dynakv-handoff-batch', type: int(1n, 100_000n), get: (c) => String(c.node.config.handoffBatch), set: (c, v) => { c.node.config.handoffBatch = Number(v) } },
  { name: 'dynakv-request-timeout-ms', type: int(10n, 600_000n), get: (c) => String(c.node.config.requestTimeoutMs), set: (c, v) => { c.node.config.requestTimeoutMs = Number(v) } },
  // Fixed at start.
  fixed('appendfsync', (c) => c.node.config.sync ? 'always' : 'no'),
  fixed('databases', () => '1'),
  fixed('port', (c) => String(c.server.port)),
  fixed('bind', (c) => c.node.config.host),
  fixed('dir', (c) => c.node.config.dir),
  fixed('daemonize', () => 'no'),
  fixed('cluster-enabled', () => 'no'),
  fixed('dynakv-n', (c) => String(c.node.config.n)),
  fixed('dynakv-r', (c) => String(c.node.config.r)),
  fixed('dynakv-w', (c) => String(c.node.config.w)),
  fixed('dynakv-partitions', (c) => String(c.node.config.partitions)),
  fixed('dynakv-sync', (c) => c.node.config.sync ? 'yes' : 'no'),
  fixed('dynakv-vclock-max', (c) => String(c.node.config.vclockMax)),
  fixed('dynakv-cache-mb', (c) => String(c.node.config.cacheMb)),
  fixed('dynakv-read-repair-wait-ms', (c) => String(c.node.config.readRepairWaitMs))
]

const BY_NAME = new Map<string, Param>()
for (const p of PARAMS) {
  BY_NAME.set(p.name, p)
  if (p.alias !== undefined) BY_NAME.set(p.alias, p)
}

function valueOf (c: Call, p: Param): string {
  return p.get?.(c) ?? c.server.tunables.get(p.name) ?? p.initial ?? ''
}

/** Redis's memtoull: digits, then b, k (1000), kb (1024), m, mb, g, gb in any case. */
function parseMemory (s: string): bigint | null {
  const m = /^([0-9]+)(b|k|kb|m|mb|g|gb)?$/i.exec(s)
  if (m === null) return null
  const unit = (m[2] ?? 'b').toLowerCase()
  const mult = { b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n }[unit] as bigint
  return BigInt(m[1]) * mult
}

/** The value to keep, or the reason Redis gives for refusing it. */
function validate (p: Param, raw: string): { value: string } | { error: string } {
  const t = p.type
  switch (t.kind) {
    case 'bool': {
      const v = raw.toLowerCase()
      return v === 'yes' || v === 'no' ? { value: v } : { error: "argument must be 'yes' or 'no'" }
    }
    case 'enum': {
      const v = raw.toLowerCase()
      return t.values.includes(v) ? { value: v } : { error: `argument(s) must be one of the following: ${t.values.join(', ')}` }
    }
    case 'int': {
      const v = t.memory === true ? parseMemory(raw) : parseInt64(raw)
      if (v === null) return { error: t.memory === true ? 'argument must be a memory value' : "argument couldn't be parsed into an integer" }
      if (v < t.min || v > t.max) return { error: `argument must be between ${t.min} and ${t.max} inclusive` }
      return { value: v.toString() }
    }
    case 'save': {
      const parts = raw.split(' ').filter(x => x !== '')
      if (parts.length % 2 !== 0 || parts.some(x => parseInt64(x) === null || (parseInt64(x) as bigint) < 0n)) return { error: 'Invalid save parameters' }
      return { value: parts.join(' ') }
    }
    case 'string':
      return { value: raw }
  }
}

function configGet (c: Call): Reply {
  const out: Array<[Reply, Reply]> = []
  const seen = new Set<string>()
  for (const arg of c.args.slice(2)) {
    const pattern = echo(arg)
    if (!/[[*?]/.test(pattern)) {
      // An exact name is answered under the client's own spelling, as Redis does.
      const p = BY_NAME.get(pattern.toLowerCase())
      if (p !== undefined && !seen.has(pattern)) {
        seen.add(pattern)
        out.push([bulk(pattern), bulk(valueOf(c, p))])
      }
      continue
    }
    const glob = Buffer.from(pattern.toLowerCase(), 'latin1')
    for (const p of PARAMS) {
      for (const name of p.alias === undefined ? [p.name] : [p.name, p.alias]) {
        if (seen.has(name) || !globMatch(glob, Buffer.from(name, 'latin1'))) continue
        seen.add(name)
        out.push([bulk(name), bulk(valueOf(c, p))])
      }
    }
  }
  return map(out)
}

function configSet (c: Call): Reply {
  const args = c.args.slice(2)
  if (args.length % 2 !== 0) fail(E.syntax)
  const chosen: Array<{ p: Param, spelled: string, raw: string }> = []
  for (let i = 0; i < args.length; i += 2) {
    const spelled = echo(args[i])
    const p = BY_NAME.get(spelled.toLowerCase())
    if (p === undefined) fail(`ERR Unknown option or number of arguments for CONFIG SET - '${spelled}'`)
    const failed = (why: string): never => fail(`ERR CONFIG SET failed (possibly related to argument '${spelled}') - ${why}`)
    if (p.initial === undefined && p.set === undefined) failed("can't set immutable config")
    // An alias and its parameter are two names to Redis 7: both are set, the later wins.
    if (chosen.some(x => x.spelled.toLowerCase() === spelled.toLowerCase())) failed('duplicate parameter')
    chosen.push({ p, spelled, raw: echo(args[i + 1]) })
  }
  const values: string[] = []
  for (const { p, spelled, raw } of chosen) {
    const r = validate(p, raw)
    if ('error' in r) fail(`ERR CONFIG SET failed (possibly related to argument '${spelled}') - ${r.error}`)
    if (p.name === 'proto-max-bulk-len' && BigInt(r.value) > BigInt(c.server.protoMaxBulkLenMax)) {
      fail(`ERR CONFIG SET failed (possibly related to argument '${spelled}') - argument must be between 1048576 and ${c.server.protoMaxBulkLenMax} inclusive (the peer protocol's frames were sized at start)`)
    }
    values.push(r.value)
  }
  chosen.forEach(({ p }, i) => {
    if (p.set !== undefined) p.set(c, values[i])
    else c.server.tunables.set(p.name, p.kept?.(values[i]) ?? values[i])
  })
  return OK
}

const HELP = [
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
  'HELP',
  '    Prints this help.'
]

const ADMIN = { flags: ['admin', 'noscript', 'loading', 'stale'], group: 'server', firstKey: 0, lastKey: 0, step: 0 } as const

export const configCommand: CommandSpec = container('config', 'server', 'Reads and changes the settings: Redis tunables dynakv has no use for are kept and read back; maxclients, requirepass, proto-max-bulk-len, loglevel and dynakv-handoff-*/request-timeout take effect.', '2.0.0', [
  { name: 'config|get', arity: -3, ...ADMIN, summary: 'Returns the effective values of configuration parameters.', since: '2.0.0', handler: configGet },
  { name: 'config|set', arity: -4, ...ADMIN, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], summary: 'Sets configuration parameters in-flight (all or none).', since: '2.0.0', handler: configSet },
  {
    name: 'config|resetstat',
    arity: 2,
    ...ADMIN,
    summary: 'Resets the server\'s statistics: commandstats and the connection and command counters.',
    since: '2.0.0',
    handler: (c) => {
      resetCommandstats()
      c.server.resetStats()
      return OK
    }
  },
  { name: 'config|rewrite', arity: 2, ...ADMIN, summary: 'There is no configuration file: dynakv is configured by flags and environment variables.', since: '2.8.0', handler: () => err('ERR The server is running without a config file') },
  { name: 'config|help', arity: 2, ...ADMIN, flags: ['loading', 'stale'], summary: 'Returns helpful text about the different subcommands.', since: '5.0.0', handler: () => array(HELP.map(l => simple(l))) }
])
