// INFO: Redis's `# Section` / `key:value` text, with the sections and fields
// clients and tools read (ioredis's ready check needs `loading:0`; redis-cli
// --stat, exporters and dashboards read Memory, CPU, Replication, Commandstats)
// and dynakv's own. Memory is the Node.js process's: used_memory is the V8 heap
// in use plus memory outside it (Buffers), the peak is the largest seen by INFO.
import { totalmem } from 'node:os'
import { verbatim, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { DYNAKV_VERSION, REDIS_VERSION } from './connection.js'
import { commandstats } from './stats.js'
import { lower } from './util.js'
import type { KeyCounts } from '../../node/keyspace.js'

type Section = [string, Array<[string, string | number]>]

/** Sections INFO shows only when named, or with `all` / `everything` (as Redis's non-default ones). */
const NOT_DEFAULT = new Set(['commandstats'])

const usedMemory = (): number => {
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}
const STARTUP_MEMORY = usedMemory()
let peakMemory = STARTUP_MEMORY

/** Redis's bytesToHuman: B, K, M, G... with two decimals. */
function human (n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${n}B` : `${v.toFixed(2)}${units[i]}`
}

const seconds = (us: number): string => (us / 1e6).toFixed(6)

function memorySection (c: Call): Section[1] {
  const node = c.node
  const rss = process.memoryUsage().rss
  const used = usedMemory()
  peakMemory = Math.max(peakMemory, used)
  const maxmemory = Number(c.server.tunables.get('maxmemory') ?? '0')
  const dataset = Math.max(0, used - STARTUP_MEMORY)
  return [
    ['used_memory', used],
    ['used_memory_human', human(used)],
    ['used_memory_rss', rss],
    ['used_memory_rss_human', human(rss)],
    ['used_memory_peak', peakMemory],
    ['used_memory_peak_human', human(peakMemory)],
    ['used_memory_peak_perc', `${(used * 100 / peakMemory).toFixed(2)}%`],
    ['used_memory_overhead', STARTUP_MEMORY],
    ['used_memory_startup', STARTUP_MEMORY],
    ['used_memory_dataset', dataset],
    ['used_memory_dataset_perc', `${(dataset * 100 / Math.max(1, used)).toFixed(2)}%`],
    ['total_system_memory', totalmem()],
    ['total_system_memory_human', human(totalmem())],
    ['maxmemory', maxmemory],
    ['maxmemory_human', human(maxmemory)],
    ['maxmemory_policy', c.server.tunables.get('maxmemory-policy') ?? 'noeviction'],
    ['mem_fragmentation_ratio', (rss / Math.max(1, used)).toFixed(2)],
    ['mem_allocator', 'libc'],
    ['object_cache_bytes', node.local.engine.cacheBytes],
    ['object_cache_keys', node.local.engine.cacheCount]
  ]
}

function sections (c: Call, keys: KeyCounts): Section[] {
  const node = c.node
  const now = node.clock.now()
  const uptime = Math.floor((now - node.startedAtMs) / 1000)
  const cpu = process.cpuUsage()
  let clients = 0
  for (const _ of c.server.clients()) clients++
  const e = node.local.engine.stats
  const co = node.coordinator.stats
  const extra = node.infoSections()
  return [
    ['Server', [
      ['redis_version', REDIS_VERSION],
      ['dynakv_version', DYNAKV_VERSION],
      ['redis_mode', 'standalone'],
      ['os', `${process.platform} ${process.arch}`],
      ['arch_bits', 64],
      ['process_id', process.pid],
      ['tcp_port', c.server.port],
      ['server_time_usec', now * 1000],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      ['executable', process.argv[1] ?? ''],
      ['hz', c.server.tunables.get('hz') ?? '10'],
      ['configured_hz', c.server.tunables.get('hz') ?? '10'],
      ['node_version', process.version]
    ]],
    ['Clients', [
      ['connected_clients', clients],
      ['maxclients', node.config.maxclients],
      ['blocked_clients', 0]
    ]],
    ['Memory', memorySection(c)],
    ['Persistence', [
      ['loading', 0],
      ['async_loading', 0],
      ['rdb_changes_since_last_save', 0],
      ['rdb_bgsave_in_progress', 0],
      ['aof_enabled', 0],
      ['storage_engine', node.store.kind],
      ['fsync_writes', node.config.sync ? 1 : 0],
      ['write_batches', e.batches],
      ['batched_writes', e.batchedWrites],
      ['batch_write_ms_total', e.writeMs],
      ['cohort_holds', e.holds],
      ['cohort_holds_at_bound', e.holdsAtBound],
      ['pending_writes', node.local.engine.pendingWrites],
      ['key_counts_at_start', node.keyCountsAtStart]
    ]],
    ['Stats', [
      ['total_connections_received', c.server.totalConnections],
      ['total_commands_processed', c.server.totalCommands],
      ['rejected_connections', c.server.rejectedConnections],
      ['keyspace_hits', e.cacheHits],
      ['keyspace_misses', e.cacheMisses],
      ['read_batches', e.readBatches],
      ['store_reads', e.storeReads],
      ['reads_proved_absent', e.provedAbsent]
    ]],
    // No Redis replication: every node is a master of its own, replicas are Dynamo's.
    ['Replication', [
      ['role', 'master'],
      ['connected_slaves', 0],
      ['master_failover_state', 'no-failover'],
      ['master_replid', node.actor.replace(/[^0-9a-f]/gi, '').toLowerCase().padEnd(40, '0').slice(0, 40)],
      ['master_replid2', '0'.repeat(40)],
      ['master_repl_offset', 0],
      ['second_repl_offset', -1],
      ['repl_backlog_active', 0],
      ['repl_backlog_size', 1048576],
      ['repl_backlog_first_byte_offset', 0],
      ['repl_backlog_histlen', 0]
    ]],
    ['CPU', [
      ['used_cpu_sys', seconds(cpu.system)],
      ['used_cpu_user', seconds(cpu.user)],
      ['used_cpu_sys_children', '0.000000'],
      ['used_cpu_user_children', '0.000000'],
      ['used_cpu_sys_main_thread', seconds(cpu.system)],
      ['used_cpu_user_main_thread', seconds(cpu.user)]
    ]],
    ['Commandstats', commandstats()],
    ['Keyspace', keys.n > 0 ? [['db0', `keys=${keys.n},expires=${keys.expires},avg_ttl=${keys.avgTtlMs}`]] : []],
    ['Dynakv', [
      ['node', node.identity.name],
      ['epoch', node.identity.epoch],
      ['actor', node.actor],
      ['n', node.config.n],
      ['r', node.config.r],
      ['w', node.config.w],
      ['partitions', node.config.partitions],
      ['coordinated_reads', co.reads],
      ['coordinated_writes', co.writes],
      ['read_repairs', co.readRepairs],
      ['hints_written', co.hintsWritten],
      ['noquorum_errors', co.noQuorum],
      ['vclock_truncations', node.local.truncations],
      ['live_keys_local', node.local.liveKeys]
    ]],
    ...extra
  ]
}

export async function infoText (c: Call, wanted: string[]): Promise<string> {
  const every = wanted.includes('all') || wanted.includes('everything')
  const defaults = every || wanted.length === 0 || wanted.includes('default')
  const keys = defaults || wanted.includes('keyspace') ? await c.node.keyspace.counts() : { n: 0, expires: 0, avgTtlMs: 0 }
  const out: string[] = []
  for (const [name, fields] of sections(c, keys)) {
    const key = name.toLowerCase()
    if (!(every || wanted.includes(key) || (defaults && !NOT_DEFAULT.has(key)))) continue
    if (out.length > 0) out.push('')
    out.push(`# ${name}`)
    for (const [k, v] of fields) out.push(`${k}:${v}`)
  }
  return out.join('\r\n') + '\r\n'
}

async function info (c: Call): Promise<Reply> {
  return verbatim(await infoText(c, c.args.slice(1).map(lower)))
}

export const infoCommand: CommandSpec = {
  name: 'info',
  arity: -1,
  flags: ['loading', 'stale'],
  group: 'server',
  acl: ['dangerous'],
  tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
  firstKey: 0,
  lastKey: 0,
  step: 0,
  summary: 'Returns server information and statistics, including the dynakv section (ring, quorums, handoff, anti-entropy).',
  since: '1.0.0',
  handler: info
}
