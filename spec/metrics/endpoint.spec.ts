// /metrics of real nodes, scraped and parsed as Prometheus would: the figures
// must be the ones the node actually saw (exact counts of the commands this
// spec sent), LATENCY HISTOGRAM must have Redis's shape and agree with them,
// and in a cluster the per-peer, quorum and handoff series must follow what
// happens to the peers.
import t from 'tap'
import { Redis } from 'ioredis'
import { freePort, haveRedisServer, startServer, startRedisServer, type ServerProc } from '../helpers/server.js'
import { startCluster, until } from '../helpers/cluster.js'
import { httpGet, histogram, metricsPortOf, samples, scrape, value } from '../helpers/metrics.js'

async function client (p: ServerProc): Promise<Redis> {
  const c = new Redis({ host: '127.0.0.1', port: p.port, maxRetriesPerRequest: 0, lazyConnect: true })
  await c.connect()
  return c
}

t.test('one node: the endpoint, and exact counts of what it served', async (t) => {
  const metricsPort = await freePort()
  const node = await startServer(['--metrics-port', String(metricsPort)], { t })
  const kv = await client(node)
  t.teardown(() => kv.disconnect())

  t.equal((await httpGet(metricsPort, '/nope')).status, 404, 'only /metrics is served')
  t.equal((await httpGet(metricsPort, '/metrics', 'POST')).status, 405, 'and only to GET and HEAD')
  const head = await httpGet(metricsPort, '/metrics', 'HEAD')
  t.equal(head.status, 200)
  t.equal(head.body, '', 'HEAD has no body')

  const before = await scrape(metricsPort)
  const batchesBefore = histogram(before, 'dynakv_storage_batch_ops')
  for (let i = 0; i < 40; i++) await kv.set(`k${i}`, `v${i}`)
  for (let i = 0; i < 25; i++) t.equal(await kv.get(`k${i}`), `v${i}`)
  await kv.set('n', 'not a number')
  for (let i = 0; i < 3; i++) await t.rejects(kv.incr('n'), /ERR value is not an integer/)
  await t.rejects(kv.call('NOSUCHCOMMAND'), /ERR unknown command/)
  const m = await scrape(metricsPort)

  const set = histogram(m, 'dynakv_command_duration_seconds', { command: 'set' })
  const get = histogram(m, 'dynakv_command_duration_seconds', { command: 'get' })
  t.equal(set?.count, 41, 'every SET counted')
  t.equal(get?.count, 25, 'every GET counted')
  t.equal(histogram(m, 'dynakv_command_duration_seconds', { command: 'incr' })?.count, 3)
  t.equal(histogram(m, 'dynakv_command_duration_seconds', { command: 'unknown' })?.count, 1, 'an unknown command is counted as unknown')
  for (const h of [set, get]) {
    const bounds = Object.keys(h?.buckets ?? {}).filter(b => b !== '+Inf').map(Number)
    const counts = bounds.sort((a, b) => a - b).map(b => h?.buckets[String(b)] ?? NaN)
    t.ok(counts.every((c, i) => i === 0 || c >= counts[i - 1]), 'buckets are cumulative')
    t.equal(h?.buckets['+Inf'], h?.count, 'the +Inf bucket is the count')
    t.ok((h?.sum ?? 0) > 0, 'and the sum of latencies is positive')
  }
  t.equal(value(m, 'dynakv_command_errors_total', { command: 'incr' }), 3, 'INCR failed three times')
  t.equal(value(m, 'dynakv_command_errors_total', { command: 'unknown' }), 1)
  t.same(samples(m, 'dynakv_command_errors_total', { command: 'set' }), [], 'SET never failed')
  t.equal(value(m, 'dynakv_error_replies_total', { code: 'ERR' }), 4, 'four -ERR replies')
  t.equal(value(m, 'dynakv_coordinated_writes_total'), 41)
  t.equal(value(m, 'dynakv_keys_live'), 41)
  t.equal(value(m, 'dynakv_partitions_owned'), 64, 'alone, it owns the whole ring')
  t.equal(value(m, 'dynakv_ring_members', { status: 'valid' }), 1)
  t.ok(value(m, 'dynakv_storage_disk_bytes') > 0, 'the data directory has a size')
  const batches = histogram(m, 'dynakv_storage_batch_ops')
  const written = (batches?.sum ?? 0) - (batchesBefore?.sum ?? 0)
  t.ok(written >= 41 && written <= 41 + 4, `the store wrote the 41 SETs in batches (${written} writes, counter-lease records included)`)
  t.ok((batches?.count ?? 0) - (batchesBefore?.count ?? 0) >= 1, 'in at least one batch')
  t.equal(histogram(m, 'dynakv_storage_batch_write_seconds')?.count, batches?.count, 'every batch timed')
  t.ok(value(m, 'nodejs_eventloop_lag_seconds') >= 0, 'prom-client\'s default metrics are there')
  t.ok(samples(m, 'process_cpu_seconds_total').length === 1)
  t.ok(Object.values(m).every(f => f.data.every(d => d.labels.node === node.name)), `every sample is labelled node="${node.name}"`)

  // LATENCY HISTOGRAM agrees with /metrics, in Redis 7's shape.
  const lh = await kv.call('LATENCY', 'HISTOGRAM', 'set', 'get') as unknown[]
  t.same(lh.filter((_, i) => i % 2 === 0), ['set', 'get'], 'one entry per command asked')
  const setEntry = lh[1] as unknown[]
  t.same([setEntry[0], setEntry[2]], ['calls', 'histogram_usec'])
  t.equal(setEntry[1], 41, 'calls as /metrics counted them')
  const buckets = setEntry[3] as number[]
  const cumulative = buckets.filter((_, i) => i % 2 === 1)
  t.ok(buckets.filter((_, i) => i % 2 === 0).every(b => Number.isInteger(Math.log2(b))), 'bucket bounds are powers of two (µs)')
  t.ok(cumulative.every((c, i) => i === 0 || c > cumulative[i - 1]), 'counts are cumulative and empty buckets left out')
  t.equal(cumulative[cumulative.length - 1], 41)
})

t.test('LATENCY HISTOGRAM has the shape of redis-server\'s; without --metrics-port it is empty', { skip: haveRedisServer() ? false : 'redis-server is not installed' }, async (t) => {
  const redis = await startRedisServer([], { t }) as NonNullable<Awaited<ReturnType<typeof startRedisServer>>>
  const node = await startServer([], { t })
  const [r, d] = await Promise.all([client({ port: redis.port } as ServerProc), client(node)])
  t.teardown(() => { r.disconnect(); d.disconnect() })
  t.same(await d.call('LATENCY', 'HISTOGRAM'), [], 'not tracking: no histograms')
  const tracked = await startServer(['--metrics-port', String(await freePort())], { t })
  const d2 = await client(tracked)
  t.teardown(() => d2.disconnect())
  await Promise.all([r.set('a', '1'), d2.set('a', '1')])
  const shape = (reply: unknown): unknown => {
    const [name, [calls, n, hist, buckets]] = reply as [string, [string, number, string, number[]]]
    return [name, calls, n, hist, buckets.length, buckets[buckets.length - 1]]
  }
  t.same(shape(await d2.call('LATENCY', 'HISTOGRAM', 'set')), shape(await r.call('LATENCY', 'HISTOGRAM', 'set')), 'the same reply as Redis, bucket bounds aside')
  t.same(await d2.call('LATENCY', 'HISTOGRAM', 'nosuch'), await r.call('LATENCY', 'HISTOGRAM', 'nosuch'), 'an unknown command: empty')
  const [dh, rh] = await Promise.all([d2.call('LATENCY', 'NOPE').catch((e: Error) => e.message), r.call('LATENCY', 'NOPE').catch((e: Error) => e.message)])
  t.equal(dh, rh, 'an unknown subcommand: Redis\'s error')
})

t.test('a cluster: per-peer state, hints for a stopped node, NOQUORUM by quorum', async (t) => {
  // N=2 on three nodes: a key has two primaries and a fallback, which keeps a hint while a primary is down.
  // A 2 s request timeout: the NOQUORUM below must count the fallback's answer
  // (at 500 ms a loaded machine once timed it out: "1 answered").
  const c = await startCluster({ nodes: 3, n: 2, r: 1, w: 2, t, partitions: 16, args: ['--metrics-port', '0', '--request-timeout-ms', '2000', '--down-after-ms', '3000'] })
  const port = new Map(c.nodes.map(p => [p.name, metricsPortOf(p)]))
  const at = async (name: string): Promise<Awaited<ReturnType<typeof scrape>>> => await scrape(port.get(name) as number)
  await until('node1 connected to both peers', async () => {
    const m = await at('node1')
    return ['node2', 'node3'].every(p => value(m, 'dynakv_peer_connected', { peer: p }) === 1 && value(m, 'dynakv_peer_up', { peer: p }) === 1)
  }, 20_000)
  const owned = new Map<string, string[]>()
  for (let i = 0; i < 60; i++) owned.set(`c${i}`, (await c.call('node1', 'RING', 'OWNERS', `c${i}`) as string[]).filter(l => l.split(' ')[2] === 'primary').map(l => l.split(' ')[0]))
  const before = await at('node1')
  for (const key of owned.keys()) await c.call('node1', 'SET', key, 'x')
  let m = await at('node1')
  const sentTo = (peer: string): number => value(m, 'dynakv_peer_frames_total', { peer, direction: 'sent' }) - value(before, 'dynakv_peer_frames_total', { peer, direction: 'sent' })
  // Every SET sends at least one frame: a replica write when node1 is a primary, else the forward to a primary.
  t.ok(sentTo('node2') + sentTo('node3') >= owned.size, `node1 sent at least one frame per key (${sentTo('node2') + sentTo('node3')} ≥ ${owned.size})`)
  for (const peer of ['node2', 'node3']) {
    const replicated = [...owned.values()].filter(ps => ps.includes(peer) && ps.includes('node1')).length
    t.ok(sentTo(peer) >= replicated, `node1 sent ${peer} at least one frame per key they both replicate (${sentTo(peer)} ≥ ${replicated})`)
    t.ok(value(m, 'dynakv_peer_bytes_total', { peer, direction: 'received' }) > value(m, 'dynakv_peer_frames_total', { peer, direction: 'received' }), `bytes received from ${peer}`)
  }

  await c.node('node3').stop()
  await until('node1 and node2 to see node3 down', async () => {
    const [a, b] = [await at('node1'), await at('node2')]
    return value(a, 'dynakv_peer_up', { peer: 'node3' }) === 0 && value(b, 'dynakv_peer_up', { peer: 'node3' }) === 0
  }, 20_000)
  m = await at('node1')
  t.equal(value(m, 'dynakv_peer_connected', { peer: 'node3' }), 0, 'no connection to node3')
  t.equal(value(m, 'dynakv_peer_up', { peer: 'node2' }), 1, 'node2 still up')
  const ofNode3 = [...owned].filter(([, ps]) => ps.includes('node3')).map(([k]) => k)
  t.ok(ofNode3.length > 0, `${ofNode3.length} keys have node3 as a primary`)
  for (const key of ofNode3) t.equal(await c.call('node1', 'SET', key, 'y'), 'OK', `${key}: W=2 met with a fallback`)
  const hints = async (): Promise<number> => {
    let n = 0
    for (const name of ['node1', 'node2']) n += value(await at(name), 'dynakv_hints_pending', { target: 'node3' }) || 0
    return n
  }
  t.equal(await hints(), ofNode3.length, 'the fallbacks hold one hint for node3 per key written')
  // PW=2: both primaries must acknowledge; node3 cannot.
  for (const key of ofNode3.slice(0, 2)) await t.rejects(c.call('node1', 'PUT', key, '', 'z', 'W', '2', 'PW', '2'), /^NOQUORUM write needed 2 replicas, 2 answered \(1 of 2 primaries\)/)
  m = await at('node1')
  t.equal(value(m, 'dynakv_noquorum_total', { op: 'write', quorum: '2' }), Math.min(2, ofNode3.length), 'NOQUORUM counted by operation and quorum')
  t.equal(value(m, 'dynakv_error_replies_total', { code: 'NOQUORUM' }), Math.min(2, ofNode3.length))

  const back = await c.node('node3').restart()
  c.nodes[c.nodes.findIndex(p => p.name === 'node3')] = back
  await until('every hint delivered', async () => await hints() === 0, 30_000)
  let delivered = 0
  for (const name of ['node1', 'node2']) delivered += value(await at(name), 'dynakv_hints_delivered_total')
  t.ok(delivered >= ofNode3.length, `hints delivered: ${delivered}`)
  t.equal(value(await scrape(metricsPortOf(back)), 'dynakv_hints_received_total'), delivered, 'node3 received exactly what was delivered')
})
