// `dynakv admin prestop`: the preStop hook of a dynakv pod in a Kubernetes
// StatefulSet (deploy/kubernetes/). A pod stops for two reasons that look the
// same from inside: a restart (rolling update, eviction, node drain), after
// which it comes back with its volume, and a scale-down, after which it does
// not. Only the second must leave the ring (hand its partitions off first);
// leaving on every restart would move data twice for nothing. The StatefulSet
// tells them apart: pods are removed from the highest ordinal down, so a pod
// whose ordinal is at or above spec.replicas is being scaled away.
//
// The API is asked with the pod's service account (get on its StatefulSet);
// if it cannot be asked, the pod does not leave (a restart is the common case,
// and a node that stays in the ring by mistake can be removed by an operator).
import { readFileSync, existsSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { RespClient, type RespValue } from './resp-client.js'
import { flatMap } from './cluster-view.js'
import { Buffer } from 'node:buffer'

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount'

export interface PrestopOptions {
  host: string
  port: number
  password: string | undefined
  /** Base URL of the API server. */
  api: string
  pod: string
  namespace: string
  statefulSet: string
  timeoutMs: number
  say: (line: string) => void
}

/** Defaults from the pod's environment, as Kubernetes sets it up. */
export function prestopDefaults (env: NodeJS.ProcessEnv): { api: string | undefined, pod: string | undefined, namespace: string | undefined } {
  const host = env.KUBERNETES_SERVICE_HOST
  const api = host === undefined ? undefined : `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`
  const nsFile = `${SERVICE_ACCOUNT}/namespace`
  return { api, pod: env.DYNAKV_NAME ?? env.HOSTNAME, namespace: env.POD_NAMESPACE ?? (existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined) }
}

/** The StatefulSet's desired replicas (spec.replicas). */
export async function desiredReplicas (api: string, namespace: string, statefulSet: string, timeoutMs = 5000): Promise<number> {
  const url = new URL(`/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/statefulsets/${encodeURIComponent(statefulSet)}`, api)
  const tokenFile = `${SERVICE_ACCOUNT}/token`
  const caFile = `${SERVICE_ACCOUNT}/ca.crt`
  const headers: Record<string, string> = { accept: 'application/json' }
  if (existsSync(tokenFile)) headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`
  const body = await new Promise<string>((resolve, reject) => {
    const options = { method: 'GET', headers, timeout: timeoutMs, ...(url.protocol === 'https:' && existsSync(caFile) ? { ca: readFileSync(caFile) } : {}) }
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode === 200) resolve(text)
        else reject(new Error(`GET ${url.pathname}: HTTP ${String(res.statusCode)} ${text.slice(0, 200)}`))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
  const replicas = (JSON.parse(body) as { spec?: { replicas?: unknown } }).spec?.replicas
  // spec.replicas defaults to 1 when unset.
  if (replicas === undefined) return 1
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) throw new Error(`GET ${url.pathname}: spec.replicas is ${JSON.stringify(replicas)}`)
  return replicas
}

export function ordinalOf (pod: string): number | null {
  const m = /-(\d+)$/.exec(pod)
  return m === null ? null : Number(m[1])
}

export async function runPrestop (o: PrestopOptions): Promise<number> {
  const ordinal = ordinalOf(o.pod)
  if (ordinal === null) {
    o.say(`prestop: ${o.pod} is not a StatefulSet pod name (name-ordinal): not leaving`)
    return 1
  }
  let replicas: number
  try {
    replicas = await desiredReplicas(o.api, o.namespace, o.statefulSet)
  } catch (e) {
    o.say(`prestop: cannot tell a scale-down from a restart (${(e as Error).message}): not leaving`)
    return 1
  }
  if (ordinal < replicas) {
    o.say(`prestop: ${o.pod} is ordinal ${ordinal} of ${replicas} replicas: a restart, staying in the ring`)
    return 0
  }
  o.say(`prestop: ${o.pod} is ordinal ${ordinal}, the StatefulSet wants ${replicas}: scaling down, leaving the ring`)
  const client = await RespClient.connect(o.host, o.port)
  try {
    const call = async (...args: string[]): Promise<RespValue> => {
      const r = await client.call(...args)
      if (r instanceof Error) throw r
      return r
    }
    if (o.password !== undefined) await call('AUTH', o.password)
    try {
      await call('RING', 'LEAVE')
    } catch (e) {
      o.say(`prestop: RING LEAVE refused: ${(e as Error).message}`)
      return 0
    }
    const deadline = Date.now() + o.timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      const s = flatMap(await call('RING', 'STATUS'))
      if (s.get('status') === 'removed') {
        o.say('prestop: every partition handed off: out of the ring')
        return 0
      }
      const now = `transfers pending ${String(s.get('transfers_pending'))}, hints pending ${String(s.get('hints_pending'))}`
      if (now !== last) o.say(`prestop: leaving: ${now}`)
      last = now
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    o.say(`prestop: still handing off after ${o.timeoutMs} ms (${last}): stopping anyway; the other replicas and anti-entropy keep the data`)
    return 1
  } finally {
    client.close()
  }
}
