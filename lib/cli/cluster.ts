// `dynakv cluster --nodes 3`: a whole local cluster as child processes. Node i
// listens on base-port + i - 1 (peers on base-port + 10000 + i - 1, Prometheus
// metrics on metrics-base-port + i - 1), keeps its data in <dir>/node<i>, and
// nodes 2..n join node 1. It waits until every node
// sees the same converged ring, prints how to connect, and stops them all on
// Ctrl-C / SIGTERM. Run again on the same --dir, the same cluster comes back.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SERVER_FLAGS, parseFlags, parseServerArgs } from './args.js'
import { RespClient, type RespValue } from './resp-client.js'
import { EXIT } from './server.js'
import { SERVER_NODE_FLAGS, serverEnv } from './launch.js'

const CLUSTER_FLAGS = {
  nodes: { kind: 'int', default: 3, min: 1, max: 32, help: 'how many nodes' },
  'base-port': { kind: 'int', default: 6379, min: 1, max: 55535, help: 'RESP port of node 1' },
  'ready-timeout-ms': { kind: 'int', default: 60000, min: 100, max: 3600000, help: 'how long to wait for the ring to converge' },
  'metrics-base-port': { kind: 'int', min: 0, max: 65535, help: 'metrics port of node 1 (default: base-port + 3000; 0: no metrics)' },
  ...SERVER_FLAGS
} as const

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))
const OWN = new Set(['nodes', 'base-port', 'ready-timeout-ms', 'metrics-base-port', 'name', 'port', 'peer-port', 'metrics-port', 'dir', 'join'])

interface Child {
  name: string
  port: number
  proc: ChildProcess
  exited: Promise<number | null>
}

function statusField (reply: RespValue, field: string): string | null {
  if (!Array.isArray(reply)) return null
  for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === field) return String(reply[i + 1])
  return null
}

async function ringStatus (host: string, port: number, password: string | undefined): Promise<RespValue> {
  const c = await RespClient.connect(host, port, 1000)
  try {
    if (password !== undefined) await c.call('AUTH', password)
    return await c.call('RING', 'STATUS')
  } finally {
    c.close()
  }
}

export async function runCluster (argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const o = parseFlags(argv, CLUSTER_FLAGS, {})
  const nodes = o.nodes as number
  const basePort = o.basePort as number
  const dir = (o.dir as string | undefined) ?? './data'
  const host = o.host as string
  const metricsBase = (o.metricsBasePort as number | undefined) ?? basePort + 3000
  // Every other flag goes to each node unchanged (validated here with the server's own parser).
  const passThrough: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--(no-)?/, '').split('=')[0]
    if (OWN.has(name)) {
      if (!argv[i].includes('=')) i++ // each of these takes a value
      continue
    }
    passThrough.push(argv[i])
  }
  const specs = Array.from({ length: nodes }, (_, k) => {
    const i = k + 1
    const args = ['--name', `node${i}`, '--port', String(basePort + k), '--peer-port', String(basePort + 10000 + k), '--dir', `${dir}/node${i}`, ...passThrough]
    if (i > 1) args.push('--join', `${host}:${basePort + 10000}`)
    if (metricsBase > 0) args.push('--metrics-port', String(metricsBase + k))
    parseServerArgs(args, env) // a bad flag fails here, before anything starts
    return { name: `node${i}`, port: basePort + k, args }
  })

  const children: Child[] = []
  let stopping = false
  const stopAll = async (): Promise<void> => {
    stopping = true
    for (const c of children) c.proc.kill('SIGTERM')
    const deadline = setTimeout(() => { for (const c of children) c.proc.kill('SIGKILL') }, 10000)
    await Promise.all(children.map(c => c.exited))
    clearTimeout(deadline)
  }
  for (const s of specs) {
    const proc = spawn(process.execPath, [...SERVER_NODE_FLAGS, MAIN, 'server', ...s.args], { stdio: ['ignore', 'inherit', 'inherit'], env: serverEnv(env) })
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => {
      if (!stopping) process.stderr.write(`dynakv cluster: ${s.name} exited with code ${String(code)}\n`)
      resolve(code)
    }))
    children.push({ name: s.name, port: s.port, proc, exited })
  }
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })

  const password = o.requirepass as string | undefined
  const deadline = Date.now() + (o.readyTimeoutMs as number)
  let ready = false
  while (!ready && Date.now() < deadline && !stopping) {
    const race = await Promise.race([signalled.then(() => 'signal'), new Promise(resolve => setTimeout(resolve, 200))])
    if (race === 'signal') break
    const statuses = await Promise.all(children.map(c => ringStatus(host, c.port, password).catch(() => null)))
    ready = statuses.every(s => s !== null && statusField(s, 'converged') === 'yes' && statusField(s, 'members') === String(nodes)) &&
      new Set(statuses.map(s => statusField(s as RespValue, 'membership_digest'))).size === 1
  }
  if (!ready) {
    process.stderr.write(stopping ? 'dynakv cluster: stopping\n' : `dynakv cluster: the ring did not converge within ${String(o.readyTimeoutMs)} ms\n`)
    await stopAll()
    return stopping ? EXIT.ok : EXIT.failure
  }
  const lines = children.map((c, k) => `  ${c.name}  redis://${host}:${c.port}${metricsBase > 0 ? `  metrics http://${host}:${metricsBase + k}/metrics` : ''}`)
  process.stdout.write(`dynakv cluster of ${nodes} node(s) is ready (N=${String(o.n)} R=${String(o.r)} W=${String(o.w)}, data in ${dir}):\n${lines.join('\n')}\n` +
    `connect with: redis-cli -h ${host} -p ${basePort}\nwatch with: dynakv admin top --port ${basePort}\nstop with Ctrl-C\n`)
  const sig = await signalled
  process.stderr.write(`dynakv cluster: ${sig}: stopping every node\n`)
  await stopAll()
  return EXIT.ok
}
