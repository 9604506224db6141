// The one command-line parser of dynakv. The binary uses it, and so does the
// docker-compose spec (a renamed flag fails that spec). Every server flag is also
// read from a DYNAKV_* environment variable (--peer-port ⇒ DYNAKV_PEER_PORT);
// a flag on the command line wins over the environment.

import { parseHostPort, type ServerConfig } from '../node/config.js'

export { parseHostPort, type ServerConfig }

export class UsageError extends Error {
  readonly code = 'DYNAKV_USAGE'
}

type Kind = 'string' | 'int' | 'bool' | 'hostport' | 'size' | 'enum'

interface FlagSpec {
  kind: Kind
  help: string
  default?: string | number | boolean
  min?: number
  max?: number
  values?: readonly string[]
  /** Accepted now, used by a later feature (still validated). */
  later?: boolean
}

export const SERVER_FLAGS = {
  name: { kind: 'string', help: 'stable node id (default: the data directory\'s name, else host-port)' },
  host: { kind: 'string', default: '127.0.0.1', help: 'address for client (RESP) and peer connections' },
  port: { kind: 'int', default: 6379, min: 0, max: 65535, help: 'RESP port' },
  'peer-port': { kind: 'int', min: 0, max: 65535, help: 'binary peer protocol port (default: port + 10000)' },
  'advertise-host': { kind: 'string', help: 'host name peers and clients use to reach this node (default: --host)' },
  dir: { kind: 'string', help: 'data directory (default: ./data/<name>)' },
  storage: { kind: 'enum', default: 'classic-level', values: ['classic-level', 'memory-level'], help: 'storage engine (memory-level keeps nothing across restarts)' },
  join: { kind: 'hostport', help: 'host:peerport of a member to join at start if not yet a member' },
  n: { kind: 'int', default: 3, min: 1, max: 16, help: 'replicas per key (N)' },
  r: { kind: 'int', default: 2, min: 1, max: 16, help: 'default read quorum (R)' },
  w: { kind: 'int', default: 2, min: 1, max: 16, help: 'default write quorum (W)' },
  partitions: { kind: 'int', default: 64, min: 1, max: 65536, help: 'ring size Q, a power of two, fixed at cluster creation' },
  weight: { kind: 'int', default: 1, min: 1, max: 1000, help: 'capacity: partitions are claimed in proportion' },
  sync: { kind: 'bool', default: true, help: 'fsync every write batch before acknowledging it (--no-sync to turn off)' },
  requirepass: { kind: 'string', help: 'password clients must AUTH with' },
  'cluster-name': { kind: 'string', default: 'dynakv', help: 'nodes only talk to nodes of the same cluster name' },
  'cluster-secret': { kind: 'string', default: 'dynakv-insecure-default-secret', help: 'shared secret proving peers belong to the cluster (HMAC handshake)' },
  'log-level': { kind: 'enum', default: 'info', values: ['debug', 'info', 'warn', 'error', 'silent'], help: 'log verbosity (logs go to stderr)' },
  'log-format': { kind: 'enum', default: 'text', values: ['text', 'json'], help: 'log lines as text, or one JSON object per line {time, level, node, msg}' },
  'metrics-port': { kind: 'int', min: 0, max: 65535, help: 'serve Prometheus metrics at http://host:port/metrics (default: off)' },
  'vclock-max': { kind: 'int', default: 50, min: 1, max: 1000, help: 'clock entries kept before truncating the oldest (Riak\'s default; the paper used 10)' },
  'commit-hold-ms': { kind: 'int', min: 0, max: 100, help: 'how long a group commit may wait for the clients the last one answered (default 2 with --n 1, 0 with replicas)' },
  'cache-mb': { kind: 'int', default: 64, min: 0, max: 1 << 20, help: 'object cache size in MB (counted at each entry\'s measured heap cost)' },
  'proto-max-bulk-len': { kind: 'size', default: 512 * 1024 * 1024, min: 1024 * 1024, max: 2 ** 32, help: 'largest bulk string a client may send (bytes, k/m/g suffixes)' },
  maxclients: { kind: 'int', default: 10000, min: 1, max: 1000000, help: 'client connections accepted at most' },
  'gossip-interval-ms': { kind: 'int', default: 1000, min: 10, max: 600000, help: 'membership gossip period' },
  'request-timeout-ms': { kind: 'int', default: 2000, min: 10, max: 600000, help: 'timeout of one peer request' },
  'down-after-ms': { kind: 'int', default: 2000, min: 10, max: 600000, help: 'a peer failing requests this long is down (for this node)' },
  'probe-interval-ms': { kind: 'int', default: 500, min: 10, max: 600000, help: 'how often down peers are probed' },
  sloppy: { kind: 'bool', default: true, help: 'sloppy quorum: a down primary is replaced by a fallback holding a hint' },
  'handoff-interval-ms': { kind: 'int', default: 1000, min: 10, max: 600000, help: 'how often hints and ownership transfers are attempted' },
  'handoff-batch': { kind: 'int', default: 500, min: 1, max: 100000, help: 'objects per handoff batch' },
  'handoff-rate': { kind: 'int', default: 20000, min: 1, max: 10000000, help: 'objects handed off per second at most' },
  'ae-interval-ms': { kind: 'int', default: 10000, min: 0, max: 86400000, help: 'anti-entropy exchange period (0 disables)' },
  'ae-leaves': { kind: 'int', default: 1024, min: 16, max: 65536, help: 'Merkle leaves per partition (power of two)' },
  'tombstone-grace-ms': { kind: 'int', default: 3600000, min: 0, max: 2 ** 40, help: 'age after which a tombstone (or an expired key) every primary holds is reaped' },
  'sweep-interval-ms': { kind: 'int', default: 1000, min: 0, max: 86400000, help: 'how often a bounded slice of the data is swept for expired keys and old tombstones (0 disables)' },
  'read-repair-wait-ms': { kind: 'int', default: 100, min: 0, max: 60000, help: 'how long a read waits for late replicas to repair them' },
  'allow-fault-injection': { kind: 'bool', default: false, help: 'accept DEBUG FAULT commands (tests only)' },
  'clock-offset-ms': { kind: 'int', default: 0, min: -86400000, max: 86400000, help: 'tests only: shift this node\'s wall clock (needs --allow-fault-injection)' }
} as const satisfies Record<string, FlagSpec>

export type ServerFlag = keyof typeof SERVER_FLAGS

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
export const envName = (flag: string): string => 'DYNAKV_' + flag.toUpperCase().replace(/-/g, '_')

function parseSize (s: string): number | null {
  const m = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(s.trim())
  if (m === null) return null
  const unit = (m[2] ?? '').toLowerCase()[0]
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1
  return Number(m[1]) * mult
}

function convert (flag: string, spec: FlagSpec, raw: string | boolean, source: string): unknown {
  const where = `${source} ${source === 'flag' ? '--' + flag : envName(flag)}`
  if (spec.kind === 'bool') {
    if (typeof raw === 'boolean') return raw
    if (/^(1|true|yes|on)$/i.test(raw)) return true
    if (/^(0|false|no|off)$/i.test(raw)) return false
    throw new UsageError(`${where}: expected a boolean, got '${raw}'`)
  }
  if (typeof raw === 'boolean') throw new UsageError(`${where} needs a value`)
  switch (spec.kind) {
    case 'string':
      if (raw === '') throw new UsageError(`${where} must not be empty`)
      return raw
    case 'enum':
      if (!(spec.values ?? []).includes(raw)) throw new UsageError(`${where}: expected one of ${(spec.values ?? []).join(', ')}, got '${raw}'`)
      return raw
    case 'hostport': {
      const hp = parseHostPort(raw)
      if (hp === null) throw new UsageError(`${where}: expected host:port, got '${raw}'`)
      return hp
    }
    case 'int':
    case 'size': {
      const v = spec.kind === 'size' ? parseSize(raw) : (/^-?\d+$/.test(raw.trim()) ? Number(raw) : null)
      if (v === null || !Number.isSafeInteger(v)) throw new UsageError(`${where}: expected an integer, got '${raw}'`)
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
        throw new UsageError(`${where}: ${v} is out of range [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}]`)
      }
      return v
    }
  }
}

/**
 * Splits argv into --flag value / --flag=value / --no-flag pairs for the given
 * table. Unknown flags and stray arguments are errors.
 */
export function parseFlags (argv: readonly string[], table: Record<string, FlagSpec>, env: NodeJS.ProcessEnv = {}, positional: string[] = []): Record<string, unknown> {
  const raw = new Map<string, { value: string | boolean, source: string }>()
  for (const flag of Object.keys(table)) {
    const e = env[envName(flag)]
    if (e !== undefined) raw.set(flag, { value: e, source: 'environment variable' })
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) {
      positional.push(arg)
      continue
    }
    let name = arg.slice(2)
    let value: string | boolean | undefined
    const eq = name.indexOf('=')
    if (eq >= 0) {
      value = name.slice(eq + 1)
      name = name.slice(0, eq)
    }
    if (!(name in table) && name.startsWith('no-') && table[name.slice(3)]?.kind === 'bool' && value === undefined) {
      raw.set(name.slice(3), { value: false, source: 'flag' })
      continue
    }
    const spec = table[name]
    if (spec === undefined) throw new UsageError(`unknown flag --${name}`)
    if (value === undefined) {
      const next = argv[i + 1]
      if (spec.kind === 'bool' && (next === undefined || next.startsWith('--') || !/^(1|0|true|false|yes|no|on|off)$/i.test(next))) {
        value = true
      } else {
        if (next === undefined) throw new UsageError(`flag --${name} needs a value`)
        value = next
        i++
      }
    }
    raw.set(name, { value, source: 'flag' })
  }
  const out: Record<string, unknown> = {}
  for (const [flag, spec] of Object.entries(table)) {
    const r = raw.get(flag)
    out[camel(flag)] = r === undefined ? spec.default : convert(flag, spec, r.value, r.source)
  }
  return out
}

export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

export function parseServerArgs (argv: readonly string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
  const positional: string[] = []
  const o = parseFlags(argv, SERVER_FLAGS, env, positional)
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`)
  const port = o.port as number
  const host = o.host as string
  const advertiseHost = (o.advertiseHost as string | undefined) ?? host
  const name = (o.name as string | undefined) ?? `${advertiseHost}-${port}`.replace(/[^A-Za-z0-9._-]/g, '_')
  if (!NAME_PATTERN.test(name)) throw new UsageError(`--name '${name}': use 1-64 letters, digits, '.', '_' or '-'`)
  const peerPort = (o.peerPort as number | undefined) ?? port + 10000
  if (peerPort > 65535) throw new UsageError(`--peer-port: default ${peerPort} (port + 10000) is out of range; set --peer-port`)
  if (peerPort === port && port !== 0) throw new UsageError('--peer-port must differ from --port')
  const metricsPort = o.metricsPort as number | undefined
  if (metricsPort !== undefined && metricsPort !== 0 && (metricsPort === port || metricsPort === peerPort)) throw new UsageError('--metrics-port must differ from --port and --peer-port')
  const partitions = o.partitions as number
  if ((partitions & (partitions - 1)) !== 0) throw new UsageError(`--partitions ${partitions} is not a power of two`)
  const n = o.n as number
  const r = o.r as number
  const w = o.w as number
  if (r > n || w > n) throw new UsageError(`--r ${r} / --w ${w} must be between 1 and --n ${n}`)
  if (n > partitions) throw new UsageError(`--n ${n} exceeds --partitions ${partitions}`)
  if (o.clockOffsetMs !== 0 && o.allowFaultInjection !== true) throw new UsageError('--clock-offset-ms is for tests only: it needs --allow-fault-injection')
  const aeLeaves = o.aeLeaves as number
  if ((aeLeaves & (aeLeaves - 1)) !== 0) throw new UsageError(`--ae-leaves ${aeLeaves} is not a power of two`)
  // The flags' camel-cased names are ServerConfig's fields; the derived ones are set here.
  return {
    ...(o as unknown as ServerConfig),
    name,
    nameGiven: o.name !== undefined,
    peerPort,
    advertiseHost,
    dir: (o.dir as string | undefined) ?? `./data/${name}`,
    join: (o.join as ServerConfig['join'] | undefined) ?? null,
    metricsPort: metricsPort ?? null,
    // N=1: a node's writes are its clients' (docs/performance.md, "Session 12, cohort"); a cluster's
    // are replicas' too, released through other nodes' loops: held, they gather little ("Session 13,
    // cluster13"). Timers count whole ms: a 2 ms bound ends 1–2 ms on (1 ms: often before the
    // answered clients sent again).
    commitHoldMs: (o.commitHoldMs as number | undefined) ?? (n === 1 ? 2 : 0),
    requirepass: (o.requirepass as string | undefined) ?? null
  }
}

export function usage (table: Record<string, FlagSpec>): string {
  return Object.entries(table).map(([flag, spec]) => {
    const left = `  --${flag}${spec.kind === 'bool' ? '' : ' <' + (spec.kind === 'hostport' ? 'host:port' : spec.kind === 'enum' ? (spec.values ?? []).join('|') : spec.kind) + '>'}`
    const def = spec.default === undefined ? '' : ` (default ${String(spec.default)})`
    return `${left.padEnd(36)} ${spec.help}${def}  [${envName(flag)}]`
  }).join('\n')
}
