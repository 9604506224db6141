// The node's Prometheus metrics (prom-client). Almost everything is read at
// scrape time from the counters the services keep anyway (coordinator, peers,
// transport, handoff, anti-entropy, engine, membership, failure detector):
// collect() callbacks copy them into prom-client metrics, so serving metrics
// adds nothing to the request path. Only three figures are measured for
// metrics: per-command latency (CommandStats, fed by the RESP connections),
// and the size and duration of each store write batch (instrumentStore).
//
// Counters mirrored from a service's running total are reset and set to it at
// each scrape; they only ever grow between restarts, as counters must.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client'
import type { DynakvNode } from '../node/node.js'
import type { Store } from '../storage/store.js'
import { TcpTransport } from '../peer/tcp.js'
import { BUCKETS, CommandStats } from './command-stats.js'

/** Per-command latency buckets exported: 2^i µs for these i (32 µs … 4.2 s), then +Inf. */
const EXPORTED_BUCKETS = Array.from({ length: BUCKETS - 5 }, (_, k) => k + 5)
/** The data directory is walked at most this deep and this wide per scrape. */
const DIR_ENTRIES_MAX = 100_000

type Labels = Record<string, string | number>
type Sample = [Labels, number]

export class NodeMetrics {
  readonly registry = new Registry()
  readonly commands = new CommandStats()
  private readonly batchOps: Histogram
  private readonly batchSeconds: Histogram

  constructor () {
    collectDefaultMetrics({ register: this.registry })
    this.batchOps = new Histogram({
      name: 'dynakv_storage_batch_ops',
      help: 'Writes per store batch (group commit): puts and deletes written and fsynced together.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers: [this.registry]
    })
    this.batchSeconds = new Histogram({
      name: 'dynakv_storage_batch_write_seconds',
      help: 'Time to write one store batch, fsync included when --sync (the default).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry]
    })
    this.registry.registerMetric(commandHistogram(this.commands) as unknown as Metric)
    this.counter('dynakv_command_errors_total', 'Client commands answered with an error, by command.', ['command'], () =>
      [...this.commands.commands].filter(([, t]) => t.failed > 0).map(([command, t]) => [{ command }, t.failed]))
    this.counter('dynakv_error_replies_total', 'Error replies to clients by error code (the first word: ERR, NOQUORUM, ...).', ['code'], () =>
      [...this.commands.errors].map(([code, n]) => [{ code }, n]))
    this.counter('dynakv_noquorum_total', 'NOQUORUM replies to clients, by operation and the quorum (R or W) that was not met.', ['op', 'quorum'], () =>
      [...this.commands.noQuorum.values()].map(q => [{ op: q.op, quorum: q.needed }, q.count]))
  }

  /** Times every batch the store writes (the engine's group commits, and meta records). */
  instrument (store: Store): Store {
    const write = store.write.bind(store)
    const { batchOps, batchSeconds } = this
    store.write = async (ops, sync) => {
      const began = performance.now()
      await write(ops, sync)
      batchSeconds.observe((performance.now() - began) / 1000)
      batchOps.observe(ops.length)
    }
    return store
  }

  /** Registers everything read from the node at scrape time; its name becomes the `node` label of every metric. */
  bind (node: DynakvNode, dataDir: string | null): void {
    this.registry.setDefaultLabels({ node: node.identity.name })
    const self = node.identity.name
    const others = (): string[] => node.membership.all().filter(r => r.name !== self && r.status !== 'removed').map(r => r.name)
    const one = (v: number): Sample[] => [[{}, v]]
    const c = (name: string, help: string, read: () => number): void => { this.counter(name, help, [], () => one(read())) }
    const g = (name: string, help: string, read: () => number): void => { this.gauge(name, help, [], () => one(read())) }

    // Quorums and coordination
    c('dynakv_coordinated_reads_total', 'Reads this node coordinated.', () => node.coordinator.stats.reads)
    c('dynakv_coordinated_writes_total', 'Writes this node coordinated.', () => node.coordinator.stats.writes)
    c('dynakv_coordinator_noquorum_total', 'Reads and writes this node coordinated that missed their quorum.', () => node.coordinator.stats.noQuorum)
    c('dynakv_read_repairs_total', 'Replicas sent a newer version after a read found them behind.', () => node.coordinator.stats.readRepairs)
    this.counter('dynakv_forwarded_total', 'Client commands forwarded to a primary (out) and run here for another node (in).', ['direction'], () =>
      [[{ direction: 'out' }, node.peers.stats.forwardedOut], [{ direction: 'in' }, node.peers.stats.forwardedIn]])
    this.counter('dynakv_replica_requests_served_total', 'Replica reads and writes served to coordinators on other nodes.', ['op'], () =>
      [[{ op: 'read' }, node.peers.stats.replicaReadsServed], [{ op: 'write' }, node.peers.stats.replicaWritesServed]])

    // Peers: the transport as a whole, then per peer
    const t = (): ReturnType<DynakvNode['peers']['transport']['stats']> => node.peers.transport.stats()
    c('dynakv_peer_requests_sent_total', 'Requests sent to peers.', () => t().requestsSent)
    c('dynakv_peer_requests_received_total', 'Requests received from peers.', () => t().requestsReceived)
    c('dynakv_peer_request_timeouts_total', 'Peer requests that timed out.', () => t().timeouts)
    c('dynakv_peer_error_responses_total', 'Peer requests answered with an error.', () => t().errorsReceived)
    c('dynakv_peer_handshakes_refused_total', 'Peer handshakes this node refused (wrong secret, cluster name, version...).', () => t().refusedHandshakes)
    c('dynakv_peer_handshakes_failed_total', 'Peer handshakes that failed for any reason.', () => t().failedHandshakes)
    c('dynakv_peer_connections_opened_total', 'Peer sockets opened, dialed or accepted.', () => t().connectionsOpened)
    c('dynakv_peer_malformed_frames_total', 'Peer connections dropped for a malformed frame.', () => t().malformedFrames)
    g('dynakv_peer_connections', 'Authenticated peer connections open now.', () => t().connections)
    const tcp = node.peers.transport instanceof TcpTransport ? node.peers.transport : null
    const traffic = (field: 'framesSent' | 'framesReceived' | 'bytesSent' | 'bytesReceived'): Sample[] =>
      tcp === null ? [] : [...tcp.peerTraffic()].map(([peer, x]) => [{ peer }, x[field]])
    this.counter('dynakv_peer_frames_total', 'Frames exchanged with each peer after the handshake.', ['peer', 'direction'], () =>
      [...traffic('framesSent').map(([l, v]): Sample => [{ ...l, direction: 'sent' }, v]), ...traffic('framesReceived').map(([l, v]): Sample => [{ ...l, direction: 'received' }, v])])
    this.counter('dynakv_peer_bytes_total', 'Bytes exchanged with each peer after the handshake.', ['peer', 'direction'], () =>
      [...traffic('bytesSent').map(([l, v]): Sample => [{ ...l, direction: 'sent' }, v]), ...traffic('bytesReceived').map(([l, v]): Sample => [{ ...l, direction: 'received' }, v])])
    this.gauge('dynakv_peer_connected', 'Whether this node holds an authenticated connection to the peer (1) or not (0).', ['peer'], () => {
      const ready = new Set((tcp?.connectionInfo() ?? []).filter(x => x.state === 'ready').map(x => x.peer))
      return others().map(peer => [{ peer }, ready.has(peer) ? 1 : 0])
    })
    this.gauge('dynakv_peer_up', 'Failure detector: the peer is up (1) or down (0) as this node sees it.', ['peer'], () =>
      others().map(peer => [{ peer }, node.detector.isUp(peer) ? 1 : 0]))
    this.counter('dynakv_peer_failures_total', 'Failure detector: failed requests and heartbeats to the peer.', ['peer'], () =>
      others().map(peer => [{ peer }, node.detector.state(peer)?.failures ?? 0]))

    // Hinted handoff and ownership transfer
    this.gauge('dynakv_hints_pending', 'Hints held here for a node that was down, per intended node.', ['target'], () =>
      [...node.local.hintsPending()].map(([target, n]) => [{ target }, n]))
    c('dynakv_hints_written_total', 'Writes stored here as hints for another node.', () => node.coordinator.stats.hintsWritten)
    c('dynakv_hints_delivered_total', 'Hints delivered to their node.', () => node.handoff.stats.hintsDelivered)
    c('dynakv_hints_received_total', 'Hints received from fallbacks.', () => node.handoff.stats.hintsReceived)
    this.counter('dynakv_transfer_objects_total', 'Ownership transfer: objects sent to, received from and dropped after handing to new owners.', ['kind'], () =>
      [[{ kind: 'sent' }, node.handoff.stats.objectsSent], [{ kind: 'received' }, node.handoff.stats.objectsReceived], [{ kind: 'dropped' }, node.handoff.stats.objectsDropped]])
    g('dynakv_transfers_pending', 'Partitions with data here that now belong to other nodes.', () => node.handoff.stats.transfersPending)
    c('dynakv_handoff_failures_total', 'Handoff batches that failed (retried next round).', () => node.handoff.stats.failures)

    // Anti-entropy
    const ae = node.antiEntropy.stats
    c('dynakv_ae_rounds_total', 'Anti-entropy rounds.', () => ae.rounds)
    c('dynakv_ae_exchanges_total', 'Merkle tree comparisons completed.', () => ae.exchanges)
    c('dynakv_ae_keys_repaired_total', 'Keys repaired by anti-entropy (pulled or pushed).', () => ae.keysRepaired)
    this.counter('dynakv_ae_bytes_total', 'Anti-entropy bytes exchanged.', ['direction'], () => [[{ direction: 'sent' }, ae.bytesSent], [{ direction: 'received' }, ae.bytesReceived]])
    c('dynakv_ae_rebuilds_total', 'Merkle trees rebuilt from a scan.', () => ae.rebuilds)
    c('dynakv_ae_failures_total', 'Anti-entropy exchanges that failed.', () => ae.failures)
    c('dynakv_tombstones_reaped_total', 'Dead records (tombstones, emptied collections) removed once every primary held them past --tombstone-grace-ms.', () => node.sweeper.stats.reaped)
    g('dynakv_ae_trees', 'Merkle trees kept (one per partition this node replicates, while it has peers).', () => node.antiEntropy.treeCount)
    g('dynakv_ae_trees_ready', 'Merkle trees built and usable for exchanges.', () => node.antiEntropy.readyTrees)
    g('dynakv_ae_oldest_exchange_age_seconds', 'Age of the least recent anti-entropy exchange over the partitions exchanged so far (0: none yet).', () => {
      const now = node.clock.now()
      let oldest = 0
      for (const at of node.antiEntropy.lastExchangeMs.values()) oldest = Math.max(oldest, now - at)
      return oldest / 1000
    })

    // Ring and membership
    g('dynakv_ring_version', 'Sum of the members\' record versions: grows with every membership change.', () => node.membership.all().reduce((n, r) => n + r.version, 0))
    this.gauge('dynakv_ring_members', 'Members by status as this node sees them.', ['status'], () => {
      const counts = new Map<string, number>([['joining', 0], ['valid', 0], ['leaving', 0], ['removed', 0]])
      for (const r of node.membership.all()) counts.set(r.status, (counts.get(r.status) ?? 0) + 1)
      return [...counts].map(([status, n]) => [{ status }, n])
    })
    g('dynakv_ring_partitions', 'Partitions of the ring (Q).', () => node.config.partitions)
    g('dynakv_partitions_owned', 'Partitions whose first primary is this node.', () => node.currentRing().partitionsOf(self).length)
    g('dynakv_partitions_replicated', 'Partitions this node is one of the N primaries of.', () => node.currentRing().replicaPartitions(self).length)
    g('dynakv_ring_converged', 'Every live member reported this node\'s membership digest at its last contact (1) or not (0).', () => node.gossip.converged() ? 1 : 0)

    // Storage
    const e = node.local.engine
    g('dynakv_keys_live', 'Keys whose newest version here is a value (DBSIZE\'s count on one node).', () => Math.max(0, node.local.liveKeys))
    g('dynakv_cache_bytes', 'Object cache size (bytes, estimated).', () => e.cacheBytes)
    g('dynakv_cache_keys', 'Keys in the object cache.', () => e.cacheCount)
    this.counter('dynakv_cache_lookups_total', 'Engine reads by outcome: served from memory (hit) or loaded from the store (miss).', ['result'], () =>
      [[{ result: 'hit' }, e.stats.cacheHits], [{ result: 'miss' }, e.stats.cacheMisses]])
    g('dynakv_storage_pending_writes', 'Writes queued or being written.', () => e.pendingWrites)
    if (dataDir !== null) g('dynakv_storage_disk_bytes', 'Bytes in the data directory (LevelDB files).', () => directoryBytes(dataDir))
  }

  /** A counter mirroring running totals read at scrape time. */
  private counter (name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    this.mirror('counter', name, help, labelNames, read)
  }

  /** A gauge read at scrape time. */
  private gauge (name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    this.mirror('gauge', name, help, labelNames, read)
  }

  /** Each scrape resets the metric and sets what read() returns (label sets that disappeared are dropped). */
  private mirror (type: 'counter' | 'gauge', name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    const config = { name, help, labelNames, registers: [this.registry] }
    if (type === 'counter') new Counter({ ...config, collect () { this.reset(); for (const [l, v] of read()) this.inc(l, v) } })
    else new Gauge({ ...config, collect () { this.reset(); for (const [l, v] of read()) this.set(l, v) } })
  }
}

/** A prom-client histogram built at scrape time from CommandStats' power-of-two buckets. */
function commandHistogram (stats: CommandStats): object {
  const name = 'dynakv_command_duration_seconds'
  const help = 'Client command latency, from reading the request to its reply being ready, by command (known commands only).'
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get () {
      const values: Array<{ labels: Labels, value: number, metricName: string }> = []
      for (const [command, t] of stats.commands) {
        for (const i of EXPORTED_BUCKETS) values.push({ metricName: `${name}_bucket`, labels: { command, le: 2 ** i / 1e6 }, value: t.cumulative(i) })
        values.push({ metricName: `${name}_bucket`, labels: { command, le: '+Inf' }, value: t.calls })
        values.push({ metricName: `${name}_sum`, labels: { command }, value: t.usecTotal / 1e6 })
        values.push({ metricName: `${name}_count`, labels: { command }, value: t.calls })
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' }
    }
  }
}

/** Total size of the files under dir (bounded walk; errors count as 0: files come and go during compactions). */
function directoryBytes (dir: string): number {
  let total = 0
  let seen = 0
  const walk = (d: string): void => {
    let names: string[]
    try { names = readdirSync(d) } catch { return }
    for (const n of names) {
      if (++seen > DIR_ENTRIES_MAX) return
      try {
        const st = statSync(join(d, n))
        if (st.isDirectory()) walk(join(d, n))
        else total += st.size
      } catch {}
    }
  }
  walk(dir)
  return total
}
