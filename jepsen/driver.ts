// The client side of a run: client processes doing the workloads' operations
// against the hosts until a time, each bound to one host (process p to host
// p mod hosts, as Jepsen binds them), and the final reads. Every operation
// goes into the history as an invoke and a completion.
import { seededRandom } from '../lib/runtime/random.js'
import { NodeClient } from './client.js'
import type { History } from './history.js'
import { sleep } from './sleep.js'
import type { Workload } from './workloads/types.js'

export interface Endpoint {
  name: string
  host: string
  port: number
}

export interface ClientsOptions {
  endpoints: Endpoint[]
  workloads: Workload[]
  history: History
  /** Processes invoke while it returns true. */
  running: () => boolean
  concurrency: number
  /** Operations per second, all processes together. */
  rate: number
  opTimeoutMs: number
  seed: number
  /** Every client made is added here (closed by the caller). */
  clients: NodeClient[]
}

/** Runs the client processes while running() holds; resolves when the last operation completed. */
export async function runClients (o: ClientsOptions): Promise<void> {
  await Promise.all(Array.from({ length: o.concurrency }, (_, writer) => clientProcess(writer, o)))
}

/** One process; after an unknown outcome it continues under a new process number with a new connection (Jepsen's rule). */
async function clientProcess (writer: number, o: ClientsOptions): Promise<void> {
  const rng = seededRandom(o.seed * 7919 + writer)
  const at = o.endpoints[writer % o.endpoints.length]
  const intervalMs = 1000 * o.concurrency / o.rate
  const connect = (): NodeClient => {
    const c = new NodeClient(at.name, at.host, at.port, o.opTimeoutMs)
    o.clients.push(c)
    return c
  }
  let client = connect()
  let proc = writer
  await sleep(rng.int(Math.ceil(intervalMs)))
  while (o.running()) {
    const w = o.workloads[rng.int(o.workloads.length)]
    const op = w.next(writer, rng)
    o.history.add({ process: proc, type: 'invoke', f: op.f, workload: w.name, key: op.key, value: op.value, node: at.name })
    const started = o.history.now()
    const c = await w.invoke(client, op, writer)
    o.history.add({ process: proc, type: c.type, f: op.f, workload: w.name, key: op.key, value: c.value ?? op.value, node: at.name, ...(c.error === undefined ? {} : { error: c.error }), ...(c.read === undefined ? {} : { read: c.read }) })
    if (c.type === 'unknown') {
      proc += o.concurrency
      client.close()
      client = connect()
    }
    await sleep(intervalMs * (0.5 + rng.next()) - (o.history.now() - started))
  }
}

/** Every workload key read through every endpoint, one at a time (process 'final'). */
export async function finalReads (endpoints: readonly Endpoint[], workloads: readonly Workload[], history: History): Promise<void> {
  for (const e of endpoints) {
    const client = new NodeClient(e.name, e.host, e.port, 15_000)
    for (const w of workloads) {
      for (const key of w.keys()) {
        history.add({ process: 'final', type: 'invoke', f: 'read', workload: w.name, key, node: e.name })
        const c = await w.readFinal(client, key)
        history.add({ process: 'final', type: c.type, f: 'read', workload: w.name, key, value: c.value, node: e.name, ...(c.error === undefined ? {} : { error: c.error }) })
      }
    }
    client.close()
  }
}
