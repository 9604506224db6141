// INFO: Redis's `# Section` / `key:value` text, with the sections clients read
// (ioredis's ready check needs `loading:0`) and dynakv's own.
import { verbatim, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { DYNAKV_VERSION, REDIS_VERSION } from './connection.js'
import { lower } from './util.js'
import type { KeyCounts } from '../../node/keyspace.js'

type Section = [string, Array<[string, string | number]>]

function sections (c: Call, keys: KeyCounts): Section[] {
  const node = c.node
  const now = node.clock.now()
  const uptime = Math.floor((now - node.startedAtMs) / 1000)
  const mem = process.memoryUsage()
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
      ['node_version', process.version]
    ]],
    ['Clients', [
      ['connected_clients', clients],
      ['maxclients', node.config.maxclients],
      ['blocked_clients', 0]
    ]],
    ['Memory', [
      ['used_memory', mem.heapUsed],
      ['used_memory_rss', mem.rss],
      ['maxmemory', 0],
      ['object_cache_bytes', node.local.engine.cacheBytes],
      ['object_cache_keys', node.local.engine.cacheCount]
    ]],
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
      ['pending_writes', node.local.engine.pendingWrites]
    ]],
    ['Stats', [
      ['total_connections_received', c.server.totalConnections],
      ['total_commands_processed', c.server.totalCommands],
      ['rejected_connections', c.server.rejectedConnections],
      ['keyspace_hits', e.cacheHits],
      ['keyspace_misses', e.cacheMisses],
      ['read_batches', e.readBatches]
    ]],
    ['Replication', [
      ['role', 'master'],
      ['connected_slaves', 0]
    ]],
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
  const all = wanted.length === 0 || wanted.includes('all') || wanted.includes('everything') || wanted.includes('default')
  const keys = all || wanted.includes('keyspace') ? await c.node.keyspace.counts() : { n: 0, expires: 0, avgTtlMs: 0 }
  const out: string[] = []
  for (const [name, fields] of sections(c, keys)) {
    const key = name.toLowerCase()
    if (!all && !wanted.includes(key)) continue
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
  firstKey: 0,
  lastKey: 0,
  step: 0,
  summary: 'Returns server information and statistics, including the dynakv section (ring, quorums, handoff, anti-entropy).',
  since: '1.0.0',
  handler: info
}
