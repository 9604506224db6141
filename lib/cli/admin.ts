// `dynakv admin`: a thin wrapper over the RING commands, printing tables; the
// live views `top` and `ring`; and the probes and hooks of a deployment (`ping`
// for readiness, `prestop` for Kubernetes).
import { UsageError, parseFlags, parseHostPort } from './args.js'
import { RespClient, type RespValue } from './resp-client.js'
import { table } from './table.js'
import { ClusterClients, flatMap } from './cluster-view.js'
import { parsePartitions, renderRing } from './ring-map.js'
import { runTop } from './admin-top.js'
import { prestopDefaults, runPrestop } from './k8s-prestop.js'

const FLAGS = {
  host: { kind: 'string', default: '127.0.0.1', help: 'node to talk to' },
  port: { kind: 'int', default: 6379, min: 1, max: 65535, help: 'its RESP port' },
  password: { kind: 'string', help: 'AUTH password (--requirepass of the node)' },
  'interval-ms': { kind: 'int', default: 1000, min: 100, max: 3600000, help: 'top: refresh period' },
  count: { kind: 'int', default: 0, min: 0, max: 1000000, help: 'top: frames to print, then exit (0: until Ctrl-C)' },
  'k8s-api': { kind: 'string', help: 'prestop: API server URL (default: from KUBERNETES_SERVICE_HOST/PORT)' },
  pod: { kind: 'string', help: 'prestop: this pod\'s name (default: $DYNAKV_NAME, else $HOSTNAME)' },
  namespace: { kind: 'string', help: 'prestop: the pod\'s namespace (default: $POD_NAMESPACE, else the service account\'s)' },
  statefulset: { kind: 'string', help: 'prestop: the StatefulSet (default: the pod name without its ordinal)' },
  'timeout-ms': { kind: 'int', default: 300000, min: 1000, max: 86400000, help: 'prestop: how long to wait for the handoff' }
} as const

const USAGE = `usage: dynakv admin <command> [--host H] [--port P] [--password X]
  join HOST:PEERPORT   make the node at --host/--port join the cluster of that member
  leave                the node at --host/--port hands its partitions off and leaves
  remove NAME          take a dead node out of the ring for good
  ring                 the members, and the ring drawn: who owns which partition, transfers in flight
  top                  a live table of every member: state, partitions, ops/s, p99, hints, anti-entropy
                       [--interval-ms 1000] [--count N]
  status               ring version, convergence, transfers in progress
  owners KEY           the preference list of a key
  ping                 exit 0 if the node answers PING (a readiness probe)
  prestop              Kubernetes preStop hook: leave the ring only if the StatefulSet is scaling this pod away
                       [--k8s-api URL] [--pod NAME] [--namespace NS] [--statefulset NAME] [--timeout-ms 300000]`

function asText (v: RespValue): string {
  if (v instanceof Error) throw v
  if (Array.isArray(v)) return v.map(asText).join(' ')
  return String(v)
}

export async function runAdmin (argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const positional: string[] = []
  const o = parseFlags(argv, FLAGS, {}, positional)
  const [cmd, arg] = positional
  if (cmd === undefined) throw new UsageError(USAGE)
  const need = (n: number): void => {
    if (positional.length !== n) throw new UsageError(USAGE)
  }
  const host = o.host as string
  const port = o.port as number
  const password = o.password as string | undefined
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`
  let command: string[]
  switch (cmd) {
    case 'join':
      need(2)
      if (parseHostPort(arg) === null) throw new UsageError(`join: expected HOST:PEERPORT, got '${arg}'`)
      command = ['RING', 'JOIN', arg]
      break
    case 'leave': need(1); command = ['RING', 'LEAVE']; break
    case 'remove': need(2); command = ['RING', 'REMOVE', arg]; break
    case 'status': need(1); command = ['RING', 'STATUS']; break
    case 'owners': need(2); command = ['RING', 'OWNERS', arg]; break
    case 'ping': need(1); command = ['PING']; break
    case 'ring':
      need(1)
      return await ringMap(address, password)
    case 'top':
      need(1)
      return await runTop({ address, password, intervalMs: o.intervalMs as number, count: o.count as number, out: (s) => process.stdout.write(s), clear: process.stdout.isTTY })
    case 'prestop': {
      need(1)
      const d = prestopDefaults(env)
      const api = (o.k8sApi as string | undefined) ?? d.api
      const pod = (o.pod as string | undefined) ?? d.pod
      const namespace = (o.namespace as string | undefined) ?? d.namespace
      if (api === undefined || pod === undefined || namespace === undefined) throw new UsageError('prestop: not in a pod (set --k8s-api, --pod and --namespace)')
      const statefulSet = (o.statefulset as string | undefined) ?? pod.replace(/-\d+$/, '')
      return await runPrestop({ host, port, password, api, pod, namespace, statefulSet, timeoutMs: o.timeoutMs as number, say: (l) => process.stdout.write(l + '\n') })
    }
    default: throw new UsageError(`unknown admin command '${cmd}'\n${USAGE}`)
  }
  const client = await RespClient.connect(host, port)
  try {
    if (password !== undefined) {
      const auth = await client.call('AUTH', password)
      if (auth instanceof Error) throw auth
    }
    const reply = await client.call(...command)
    if (reply instanceof Error) {
      process.stderr.write(`dynakv admin: ${reply.message}\n`)
      return 1
    }
    process.stdout.write(render(cmd, reply))
    return 0
  } finally {
    client.close()
  }
}

/** `admin ring`: the members and the ring as the node at address sees them, with each member's transfers. */
async function ringMap (address: string, password: string | undefined): Promise<number> {
  const clients = new ClusterClients(password)
  try {
    const members = await clients.members(address)
    const lines = await clients.call(address, 'RING', 'PARTITIONS')
    if (lines instanceof Error) throw lines
    const transferring = new Map<string, readonly number[]>()
    await Promise.all(members.filter(m => m.status !== 'removed').map(async (m) => {
      const s = flatMap(await clients.call(m.client, 'RING', 'STATUS').catch(() => null)).get('transferring_partitions')
      if (Array.isArray(s)) transferring.set(m.name, s.map(Number))
    }))
    process.stdout.write(renderRing(members, parsePartitions((lines as RespValue[]).map(String)), transferring))
    return 0
  } finally {
    clients.close()
  }
}

function render (cmd: string, reply: RespValue): string {
  if (cmd === 'owners') {
    const rows = (reply as string[]).map(l => l.split(' '))
    return table([['NAME', 'CLIENT', 'ROLE', 'STATE'], ...rows])
  }
  if (cmd === 'status') {
    const flat = reply as RespValue[]
    const rows: string[][] = []
    for (let i = 0; i + 1 < flat.length; i += 2) rows.push([asText(flat[i]), asText(flat[i + 1])])
    return table(rows)
  }
  return asText(reply) + '\n'
}
