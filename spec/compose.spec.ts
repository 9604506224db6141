// No Docker engine runs on our machines, so this spec proves docker-compose.yml
// another way: every node service's command goes through the CLI parser the
// binary uses (a renamed or removed flag fails here), then the services run as
// local processes, their host names and ports mapped to free loopback ports,
// and the topology must boot, converge and serve the benchmark service's load.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { parseServerArgs } from '../lib/cli/args.js'
import { startServer, freePorts, tempDir, type ServerProc } from './helpers/server.js'
import { TestCluster } from './helpers/cluster.js'
import { missing, redisBenchmark } from './helpers/clients.js'

interface Service { command?: string[], environment?: Record<string, string>, image?: string, build?: unknown, depends_on?: string[] }

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

t.test('every node service is a valid `dynakv server` command', async (t) => {
  t.ok(nodes.length >= 3, `${nodes.length} node services`)
  t.ok(services.benchmark?.command?.[0] === 'redis-benchmark', 'and a benchmark service')
  for (const [name, s] of nodes) {
    t.equal(s.command?.[0], 'server', `${name} runs a server`)
    const config = parseServerArgs((s.command ?? []).slice(1), envOf(s))
    t.equal(config.name, name, `${name} is named after its service`)
    t.equal(config.advertiseHost, name, `${name} advertises its host name`)
    t.equal(config.n, 3)
    if (name !== 'node1') t.same(config.join, { host: 'node1', port: 16379 }, `${name} joins node1`)
  }
})

t.test('the topology boots on loopback, converges and serves the benchmark', async (t) => {
  // Host names and container ports → loopback and free ports.
  const ports = new Map<string, { port: number, peerPort: number }>()
  for (const [name] of nodes) {
    const [port, peerPort] = await freePorts(2)
    ports.set(name, { port, peerPort })
  }
  const procs: ServerProc[] = []
  for (const [name, s] of nodes) {
    const args = [...(s.command ?? []).slice(1)]
    const { port, peerPort } = ports.get(name) as { port: number, peerPort: number }
    const set = (f: string, v: string): void => { args[args.indexOf(`--${f}`) + 1] = v }
    set('host', '127.0.0.1')
    set('advertise-host', '127.0.0.1')
    set('port', String(port))
    set('peer-port', String(peerPort))
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

  const why = missing('redis-benchmark')
  if (why !== false) {
    t.comment(`skipping the benchmark service: ${why}`)
    return
  }
  const bench = (services.benchmark.command ?? []).slice(1)
  const target = bench[bench.indexOf('-h') + 1]
  const args = bench.filter((_, i) => i !== bench.indexOf('-h') && i !== bench.indexOf('-h') + 1 && i !== bench.indexOf('-p') && i !== bench.indexOf('-p') + 1 && bench[i] !== '--csv')
  const result = await redisBenchmark((ports.get(target) as { port: number }).port, args, { timeoutMs: 120_000 })
  t.same(result.rows.map(r => r.test), ['SET', 'GET'], 'the benchmark service ran both tests')
  for (const r of result.rows) t.ok(r.rps > 0, `${r.test}: ${Math.round(r.rps)} requests/s`)
})
