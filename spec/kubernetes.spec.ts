// No Kubernetes here either, so this spec proves deploy/kubernetes/ as
// compose.spec.ts proves docker-compose.yml: the manifests are checked for the
// structure Kubernetes needs (every reference resolves: selectors, services,
// ports, volumes, the secret, the service account and its one permission) and
// the container's command line is parsed by the CLI parser as each pod would
// run it; then the pods run as local processes, their DNS names and ports
// mapped to loopback and free ports, started one at a time behind their
// readiness probe, and the StatefulSet is scaled 3 → 4 → 3 with its preStop
// hook run as the kubelet runs it (against a stand-in for the API server's
// StatefulSet endpoint), under a write load: no acknowledged write is lost.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { parse, parseAllDocuments } from 'yaml'
import { parseServerArgs } from '../lib/cli/args.js'
import { ROOT, MAIN, freePorts, runDynakv, startServer, tempDir, type ServerProc } from './helpers/server.js'
import { FAST, TestCluster, until } from './helpers/cluster.js'
import { startLoad, unreadable } from './helpers/load.js'

type Doc = Record<string, any>

const DIR = `${ROOT}/deploy/kubernetes`
const files = readdirSync(DIR).filter(f => f.endsWith('.yaml')).sort()
const kustomization = parse(readFileSync(`${DIR}/kustomization.yaml`, 'utf8')) as { resources: string[] }
const docs: Doc[] = files.filter(f => f !== 'kustomization.yaml').flatMap(f => parseAllDocuments(readFileSync(`${DIR}/${f}`, 'utf8')).map(d => d.toJS() as Doc))
const find = (kind: string, name?: string): Doc => {
  const d = docs.find(x => x.kind === kind && (name === undefined || x.metadata?.name === name))
  if (d === undefined) throw new Error(`no ${kind} ${name ?? ''}`)
  return d
}
const sts = find('StatefulSet')
const pod = sts.spec.template
const container = pod.spec.containers[0]
const headless = find('Service', sts.spec.serviceName)
const portOf = (name: string): number => (container.ports as Doc[]).find(p => p.name === name)?.containerPort
const subset = (a: Record<string, string>, b: Record<string, string>): boolean => Object.entries(a).every(([k, v]) => b[k] === v)
const secretOf = (ref: Doc): string => {
  const s = find('Secret', ref.name)
  return s.stringData?.[ref.key] ?? Buffer.from(String(s.data?.[ref.key] ?? ''), 'base64').toString()
}
/** The image's entrypoint (Dockerfile), which exec hooks must call. */
const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(readFileSync(`${ROOT}/Dockerfile`, 'utf8'))?.[1] ?? '[]') as string[]

/**
 * The pod's environment as the kubelet builds it: fieldRefs of this pod,
 * secretKeyRefs, and $(VAR) references to variables defined before.
 */
function podEnv (name: string, namespace: string): Record<string, string> {
  const env: Record<string, string> = {}
  const expand = (v: string): string => v.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, k: string) => env[k] ?? m)
  for (const e of container.env as Doc[]) {
    if (e.value !== undefined) env[e.name] = expand(String(e.value))
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = name
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = namespace
    else if (e.valueFrom?.secretKeyRef !== undefined) env[e.name] = secretOf(e.valueFrom.secretKeyRef)
    else throw new Error(`env ${String(e.name)}: unsupported source`)
  }
  return env
}
const podArgs = (env: Record<string, string>): string[] => (container.args as string[]).map(a => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, k: string) => env[k] ?? m))
const dnsName = (name: string, namespace: string): string => `${name}.${headless.metadata.name as string}.${namespace}.svc.cluster.local`

t.test('the manifests hold together', async (t) => {
  t.same([...kustomization.resources].sort(), files.filter(f => f !== 'kustomization.yaml' && f !== 'secret.yaml'), 'kustomization lists every manifest but the example secret (a re-apply must not replace the real one)')
  const apiVersions: Record<string, string> = { Secret: 'v1', ServiceAccount: 'v1', Service: 'v1', Role: 'rbac.authorization.k8s.io/v1', RoleBinding: 'rbac.authorization.k8s.io/v1', StatefulSet: 'apps/v1', PodDisruptionBudget: 'policy/v1' }
  for (const d of docs) t.ok(apiVersions[d.kind] === d.apiVersion && typeof d.metadata?.name === 'string', `${String(d.kind)} ${String(d.metadata?.name)}: ${String(d.apiVersion)}`)
  const labels = pod.metadata.labels as Record<string, string>
  t.ok(subset(sts.spec.selector.matchLabels, labels), 'the StatefulSet selects its pods')
  t.equal(headless.spec.clusterIP, 'None', 'the peer service is headless (a DNS name per pod)')
  t.equal(headless.spec.publishNotReadyAddresses, true, 'and publishes pods before they are ready (they join first)')
  const client = docs.find(d => d.kind === 'Service' && d !== headless) as Doc
  for (const svc of [headless, client]) {
    t.ok(subset(svc.spec.selector, labels), `service ${String(svc.metadata.name)} selects the pods`)
    for (const p of svc.spec.ports as Doc[]) t.equal(portOf(p.targetPort), p.port, `service ${String(svc.metadata.name)} port ${String(p.name)} targets the container port of that name`)
  }
  t.same(client.spec.ports.map((p: Doc) => p.targetPort), ['resp'], 'clients reach the RESP port')
  t.same(sts.spec.volumeClaimTemplates.map((v: Doc) => v.metadata.name), container.volumeMounts.map((m: Doc) => m.name), 'one claim per node for its data volume')
  t.same(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Delete' }, 'a scaled-away node\'s volume goes with it')
  t.equal(sts.spec.podManagementPolicy, 'OrderedReady', 'pods start (and scale down) one at a time')
  const sa = find('ServiceAccount', pod.spec.serviceAccountName)
  const role = find('Role')
  const binding = find('RoleBinding')
  t.same(role.rules, [{ apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: [sts.metadata.name], verbs: ['get'] }], 'the pod may read its StatefulSet, nothing else')
  t.ok(binding.roleRef.name === role.metadata.name && binding.subjects.some((s: Doc) => s.kind === 'ServiceAccount' && s.name === sa.metadata.name), 'granted to the pods\' service account')
  t.ok(subset(find('PodDisruptionBudget').spec.selector.matchLabels, labels), 'the disruption budget covers the pods')
  t.equal(pod.metadata.annotations['prometheus.io/port'], String(portOf('metrics')), 'Prometheus annotations point at the metrics port')

  const ping = container.readinessProbe.exec.command as string[]
  t.same(ping, [...entrypoint, 'admin', 'ping', '--port', String(portOf('resp'))], 'readiness: admin ping on the RESP port, through the image\'s entrypoint')
  const prestop = container.lifecycle.preStop.exec.command as string[]
  t.same(prestop.slice(0, entrypoint.length + 4), [...entrypoint, 'admin', 'prestop', '--port', String(portOf('resp'))], 'preStop: admin prestop')
  const timeoutMs = Number(prestop[prestop.indexOf('--timeout-ms') + 1])
  t.ok(pod.spec.terminationGracePeriodSeconds * 1000 > timeoutMs, `the grace period (${String(pod.spec.terminationGracePeriodSeconds)} s) outlasts prestop's handoff wait (${timeoutMs} ms)`)

  const env = podEnv('dynakv-1', 'prod')
  const config = parseServerArgs(podArgs(env).slice(1), env)
  t.equal(podArgs(env)[0], 'server')
  t.equal(config.name, 'dynakv-1', 'the node is named after its pod')
  t.equal(config.advertiseHost, dnsName('dynakv-1', 'prod'), 'and advertises its stable DNS name')
  t.same(config.join, { host: dnsName('dynakv-0', 'prod'), port: portOf('peer') }, 'it joins through dynakv-0\'s stable name')
  t.same([config.port, config.peerPort, config.metricsPort], [portOf('resp'), portOf('peer'), portOf('metrics')], 'on the container\'s ports')
  t.same([config.n, config.r, config.w], [3, 2, 2])
  t.equal(config.clusterSecret, secretOf({ name: 'dynakv-cluster', key: 'cluster-secret' }), 'with the secret from the Secret')
  t.equal(config.dir, container.volumeMounts[0].mountPath, 'data on the volume')
  const seed = parseServerArgs(podArgs(podEnv('dynakv-0', 'prod')).slice(1), podEnv('dynakv-0', 'prod'))
  t.same(seed.join, { host: seed.advertiseHost, port: seed.peerPort }, 'dynakv-0\'s --join is its own address: it is the seed')
})

t.test('the pods boot on loopback; scaling 3 → 4 → 3 under load loses no acknowledged write', async (t) => {
  const namespace = 'dynakv-spec'
  // A stand-in for the API server: the StatefulSet's desired replicas.
  let replicas = 3
  const api: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === `/apis/apps/v1/namespaces/${namespace}/statefulsets/${String(sts.metadata.name)}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'StatefulSet', spec: { replicas } }))
    } else {
      res.writeHead(404).end()
    }
  })
  api.listen(0, '127.0.0.1')
  await once(api, 'listening')
  t.teardown(() => { api.close() })
  const apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`

  const ports = new Map<string, { resp: number, peer: number, metrics: number }>()
  const local = (args: string[], name: string): string[] => {
    // The pod's network: its own address and ports; the peers' DNS names → loopback and their ports.
    const p = ports.get(name) as { resp: number, peer: number, metrics: number }
    const out = [...args]
    const set = (flag: string, v: string): void => { out[out.indexOf(`--${flag}`) + 1] = v }
    set('host', '127.0.0.1')
    set('port', String(p.resp))
    set('peer-port', String(p.peer))
    set('metrics-port', String(p.metrics))
    set('dir', tempDir())
    const join = out[out.indexOf('--join') + 1]
    const target = [...ports.keys()].find(n => join.startsWith(dnsName(n, namespace) + ':')) as string
    set('join', `127.0.0.1:${ports.get(target)?.peer ?? 0}`)
    return out
  }
  /** An exec hook or probe of the pod, run as the kubelet would (the image's entrypoint is this checkout's). */
  const exec = async (name: string, command: string[], extra: string[] = []): Promise<{ code: number | null, output: string }> => {
    const argv = command.slice(entrypoint.length)
    argv[argv.indexOf('--port') + 1] = String(ports.get(name)?.resp)
    return await runDynakv([...argv, ...extra], { env: podEnv(name, namespace), timeoutMs: 120_000 })
  }
  t.equal(entrypoint[entrypoint.length - 1], '/app/dist/lib/cli/main.js', 'exec hooks run the image\'s dynakv')
  t.ok(MAIN.endsWith('/dist/lib/cli/main.js'), 'which is this checkout\'s dist/ here')

  const procs: ServerProc[] = []
  const c = new TestCluster(procs, t)
  t.teardown(() => c.close())
  /** StatefulSet OrderedReady: start pod i, and go on only once its readiness probe passes. */
  const startPod = async (i: number): Promise<void> => {
    const name = `dynakv-${i}`
    const [resp, peer, metrics] = await freePorts(3)
    ports.set(name, { resp, peer, metrics })
    const env = podEnv(name, namespace)
    const args = local(podArgs(env), name).slice(1)
    procs.push(await startServer([...args, '--partitions', '16', ...FAST], { env: { ...env, DYNAKV_ADVERTISE_HOST: '127.0.0.1' }, t }))
    await until(`${name} ready`, async () => (await exec(name, container.readinessProbe.exec.command)).code === 0, 30_000)
  }
  for (let i = 0; i < 3; i++) await startPod(i)
  t.same(procs.map(p => p.name), ['dynakv-0', 'dynakv-1', 'dynakv-2'], 'pods named after their ordinals')
  await c.converged(3)
  t.notMatch(procs[0].output(), /join through/, 'dynakv-0 did not try to join itself (its --join is its own address)')

  const running = (): string[] => procs.filter(p => p.running).map(p => p.name)
  const load = startLoad(c, running)
  await until('writes before scaling', async () => load.report.acked.size >= 50, 30_000)
  const settled = async (): Promise<boolean> => {
    for (const p of procs.filter(x => x.running)) {
      const s = await c.status(p.name)
      if (Number(s.transfers_pending) > 0 || Number(s.hints_pending) > 0 || s.converged !== 'yes') return false
    }
    return true
  }

  replicas = 4
  await startPod(3)
  await c.converged(4)
  await until('the join\'s transfers', settled, 60_000)
  t.ok(Number((await c.call('dynakv-3', 'RING', 'NODES') as string[]).find(l => l.startsWith('dynakv-3 '))?.split(' ')[5]) > 0, 'dynakv-3 owns partitions')

  const restart = await exec('dynakv-1', container.lifecycle.preStop.exec.command, ['--k8s-api', apiUrl])
  t.equal(restart.code, 0, 'preStop of dynakv-1 while replicas=4 (a restart)')
  t.match(restart.output, /ordinal 1 of 4 replicas: a restart, staying in the ring/)
  t.equal((await c.status('dynakv-1')).status, 'valid', 'dynakv-1 is still a member')

  replicas = 3
  const before = load.report.acked.size
  const leave = await exec('dynakv-3', container.lifecycle.preStop.exec.command, ['--k8s-api', apiUrl])
  t.equal(leave.code, 0, `preStop of dynakv-3 while replicas=3 (a scale-down): ${leave.output.trim().split('\n').pop() ?? ''}`)
  t.match(leave.output, /scaling down, leaving the ring[\s\S]*every partition handed off: out of the ring/)
  t.equal((await c.status('dynakv-3')).status, 'removed', 'dynakv-3 left the ring')
  t.equal(await procs[3].stop('SIGTERM'), 0, 'then the kubelet\'s SIGTERM stops it cleanly')
  await c.converged(3)
  await until('writes after the scale-down', async () => load.report.acked.size > before + 20, 30_000)
  const r = await load.stop()
  t.same(r.other, [], `no request failed otherwise (${r.acked.size} writes acknowledged, ${r.noQuorum} NOQUORUM, ${r.unavailable} at a stopping node)`)
  await until('hints and transfers settled', settled, 60_000)
  for (const p of procs.filter(x => x.running)) t.same(await unreadable(c, p.name, r.acked), [], `every acknowledged write readable through ${p.name}`)
})
