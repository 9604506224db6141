// No Docker engine runs on our machines, so this spec proves docker-compose.yml
// another way: every node service's command goes through the CLI parser the
// binary uses (a renamed or removed flag fails here), the monitoring services'
// files (Prometheus targets, Grafana provisioning and dashboard) are checked
// against the node services, then the nodes run as local processes, their host
// names and ports mapped to free loopback ports: the topology must boot,
// converge and serve the benchmark service's load, and each node's /metrics
// must parse and export every metric the dashboard's panels query.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse } from 'yaml'
import { parseServerArgs } from '../lib/cli/args.js'
import { ROOT, startServer, freePorts, tempDir, type ServerProc } from './helpers/server.js'
import { TestCluster } from './helpers/cluster.js'
import { missing, redisBenchmark } from './helpers/clients.js'
import { familyOf, histogram, promqlGroupLabels, promqlMetricNames, scrape, type PromMetrics } from './helpers/metrics.js'

interface Service { command?: string[], environment?: Record<string, string>, image?: string, build?: unknown, depends_on?: string[], volumes?: string[], ports?: string[] }
interface Panel { type: string, title: string, datasource?: { uid: string }, targets?: Array<{ expr: string, datasource?: { uid: string } }> }

const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> }
const services = compose.services
const nodes = Object.entries(services).filter(([, s]) => s.build !== undefined)

/** ${VAR:-default} as docker compose interpolates it, with an empty environment. */
const interpolate = (v: string): string => v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
const envOf = (s: Service): Record<string, string> => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]))

function flag (args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`)
  return i < 0 ? undefined : args[i + 1]
}

/** A service's bind mounts: repository path → container path. */
function mounts (s: Service): Map<string, string> {
  const out = new Map<string, string>()
  for (const v of s.volumes ?? []) {
    const [from, to] = v.split(':')
    if (from.startsWith('./')) out.set(resolve(ROOT, from), to)
  }
  return out
}

const repoPathOf = (s: Service, containerPath: string): string | undefined => {
  for (const [from, to] of mounts(s)) {
    if (containerPath === to) return from
    if (containerPath.startsWith(to + '/')) return resolve(from, containerPath.slice(to.length + 1))
  }
  return undefined
}

const grafana = services.grafana
const dashboardDir = repoPathOf(grafana, '/var/lib/grafana/dashboards') as string
const dashboard = JSON.parse(readFileSync(resolve(dashboardDir, 'dynakv.json'), 'utf8')) as { uid: string, panels: Panel[], templating: { list: Array<{ query: { query: string } }> } }
const queries = [
  ...dashboard.panels.flatMap(p => (p.targets ?? []).map(q => ({ panel: p.title, expr: q.expr }))),
  ...dashboard.templating.list.map(v => ({ panel: 'variable', expr: v.query.query.replace(/^label_values\(([^,]+),.*\)$/, '$1') }))
]

t.test('every node service is a valid `dynakv server` command serving metrics', async (t) => {
  t.ok(nodes.length >= 3, `${nodes.length} node services`)
  t.ok(services.benchmark?.command?.[0] === 'redis-benchmark', 'and a benchmark service')
  for (const [name, s] of nodes) {
    t.equal(s.command?.[0], 'server', `${name} runs a server`)
    const config = parseServerArgs((s.command ?? []).slice(1), envOf(s))
    t.equal(config.name, name, `${name} is named after its service`)
    t.equal(config.advertiseHost, name, `${name} advertises its host name`)
    t.equal(config.n, 3)
    t.equal(config.metricsPort, 9379, `${name} serves metrics on 9379`)
    t.equal(config.logFormat, 'json', `${name} logs JSON lines`)
    if (name !== 'node1') t.same(config.join, { host: 'node1', port: 16379 }, `${name} joins node1`)
  }
})

t.test('Prometheus scrapes every node; Grafana is provisioned with it and the dashboard', async (t) => {
  const prometheus = services.prometheus
  const configArg = (prometheus.command ?? []).find(a => a.startsWith('--config.file='))?.split('=')[1] as string
  const configFile = repoPathOf(prometheus, configArg)
  t.ok(configFile !== undefined && existsSync(configFile), `the config ${configArg} is mounted from the repository`)
  const config = parse(readFileSync(configFile as string, 'utf8')) as { scrape_configs: Array<{ job_name: string, metrics_path?: string, static_configs: Array<{ targets: string[] }> }> }
  const job = config.scrape_configs.find(j => j.job_name === 'dynakv')
  t.equal(job?.metrics_path ?? '/metrics', '/metrics')
  const expected = nodes.map(([name, s]) => `${name}:${flag(s.command ?? [], 'metrics-port') ?? '?'}`).sort()
  t.same(job?.static_configs.flatMap(c => c.targets).sort(), expected, 'its targets are the node services at their --metrics-port')

  t.ok((grafana.depends_on ?? []).includes('prometheus'), 'grafana starts after prometheus')
  const provisioning = repoPathOf(grafana, '/etc/grafana/provisioning') as string
  t.ok(provisioning !== undefined && existsSync(provisioning), 'the provisioning directory is mounted from the repository')
  const datasources = parse(readFileSync(resolve(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string, type: string, url: string }> }
  const ds = datasources.datasources[0]
  t.equal(ds.type, 'prometheus')
  t.equal(ds.url, `http://prometheus:${(prometheus.ports ?? [])[0]?.split(':')[1] ?? '9090'}`, 'the data source is the prometheus service')
  const providers = parse(readFileSync(resolve(provisioning, 'dashboards', 'dynakv.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> }
  t.equal(providers.providers[0].options.path, '/var/lib/grafana/dashboards', 'dashboards are loaded from the mounted directory')
  t.ok(existsSync(resolve(dashboardDir, 'dynakv.json')), 'which holds the dynakv dashboard')
  const panels = dashboard.panels.filter(p => p.type !== 'row')
  t.ok(panels.length >= 20, `${panels.length} panels`)
  for (const p of panels) {
    t.equal(p.datasource?.uid, ds.uid, `${p.title}: the provisioned data source`)
    t.ok((p.targets ?? []).length > 0 && (p.targets ?? []).every(q => q.expr.trim() !== ''), `${p.title}: has queries`)
  }
})

t.test('the topology boots on loopback, converges, serves the benchmark and its metrics feed the dashboard', async (t) => {
  // Host names and container ports → loopback and free ports.
  const ports = new Map<string, { port: number, peerPort: number, metricsPort: number }>()
  for (const [name] of nodes) {
    const [port, peerPort, metricsPort] = await freePorts(3)
    ports.set(name, { port, peerPort, metricsPort })
  }
  const procs: ServerProc[] = []
  for (const [name, s] of nodes) {
    const args = [...(s.command ?? []).slice(1)]
    const { port, peerPort, metricsPort } = ports.get(name) as { port: number, peerPort: number, metricsPort: number }
    const set = (f: string, v: string): void => { args[args.indexOf(`--${f}`) + 1] = v }
    set('host', '127.0.0.1')
    set('advertise-host', '127.0.0.1')
    set('port', String(port))
    set('peer-port', String(peerPort))
    set('metrics-port', String(metricsPort))
    set('dir', tempDir())
    const join = flag(args, 'join')
    if (join !== undefined) set('join', `127.0.0.1:${ports.get(join.split(':')[0])?.peerPort ?? 0}`)
    procs.push(await startServer([...args, '--gossip-interval-ms', '200', '--probe-interval-ms', '100', '--log-level', 'warn'], { env: envOf(s), t }))
  }
  const cluster = new TestCluster(procs, t)
  t.teardown(() => cluster.close())
  await cluster.converged(nodes.length)
  t.equal(await cluster.call('node1', 'SET', 'composed', 'yes'), 'OK')
  for (const [name] of nodes) t.equal(await cluster.call(name, 'GET', 'composed'), 'yes', `served by ${name}`)

  let benchmarked = 0
  const why = missing('redis-benchmark')
  if (why !== false) {
    t.comment(`skipping the benchmark service: ${why}`)
  } else {
    const bench = (services.benchmark.command ?? []).slice(1)
    const target = bench[bench.indexOf('-h') + 1]
    t.equal(target, 'node1', 'the benchmark loads node1')
    t.ok(Number(bench[bench.indexOf('-n') + 1]) > 0, 'the benchmark service sets -n')
    // Its flags, but -n 2000: the service's 40 000 durable requests outlasted the 120 s limit under load ~15.
    const args = bench.filter((_, i) => i !== bench.indexOf('-h') && i !== bench.indexOf('-h') + 1 && i !== bench.indexOf('-p') && i !== bench.indexOf('-p') + 1 && bench[i] !== '--csv')
      .map((a, i, all) => all[i - 1] === '-n' ? '2000' : a)
    const result = await redisBenchmark((ports.get(target) as { port: number }).port, args, { timeoutMs: 120_000 })
    t.same(result.rows.map(r => r.test), ['SET', 'GET'], 'the benchmark service ran both tests')
    for (const r of result.rows) t.ok(r.rps > 0, `${r.test}: ${Math.round(r.rps)} requests/s`)
    benchmarked = Number(args[args.indexOf('-n') + 1])
  }

  const scraped = new Map<string, PromMetrics>()
  for (const [name] of nodes) scraped.set(name, await scrape((ports.get(name) as { metricsPort: number }).metricsPort))
  for (const [name, m] of scraped) {
    const families = Object.values(m).filter(f => f.data.length > 0)
    t.ok(families.every(f => f.data.every(d => d.labels.node === name)), `every sample of ${name} carries node="${name}"`)
  }
  // node1 answered the benchmark's requests plus this spec's SET and GET; the others one GET each.
  const node1 = scraped.get('node1') as PromMetrics
  t.equal(histogram(node1, 'dynakv_command_duration_seconds', { command: 'set' })?.count, benchmarked + 1, 'node1 counted every SET it answered')
  t.equal(histogram(node1, 'dynakv_command_duration_seconds', { command: 'get' })?.count, benchmarked + 1, 'and every GET')
  t.equal(histogram(scraped.get('node2') as PromMetrics, 'dynakv_command_duration_seconds', { command: 'get' })?.count, 1, 'node2 answered one GET')

  // Every metric a panel queries is exported, and every label it groups by exists on it.
  const exported = new Map<string, Set<string>>()
  for (const m of scraped.values()) {
    for (const [name, f] of Object.entries(m)) {
      const labels = exported.get(name) ?? new Set<string>()
      for (const d of f.data) for (const l of Object.keys(d.labels)) labels.add(l)
      if (f.type === 'histogram') labels.add('le')
      exported.set(name, labels)
    }
  }
  const any = scraped.get('node1') as PromMetrics
  for (const q of queries) {
    const names = promqlMetricNames(q.expr)
    t.ok(names.length > 0, `${q.panel}: queries a metric`)
    const families = names.map(n => familyOf(any, n))
    t.same(names.filter((_, i) => families[i] === undefined), [], `${q.panel}: every metric of \`${q.expr}\` is exported`)
    const labels = new Set(families.flatMap(f => f === undefined ? [] : [...exported.get(f) ?? []]))
    const sampled = families.every(f => f !== undefined && (exported.get(f)?.size ?? 0) > 0)
    if (sampled) t.same(promqlGroupLabels(q.expr).filter(l => !labels.has(l)), [], `${q.panel}: it groups by labels the metrics have`)
  }
})
