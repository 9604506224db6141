// `node dist/bench/cluster-allocs.js`: JavaScript heap bytes allocated per
// client request by a 3-node cluster (N3 R2 W2, --sync), every node a
// coordinator, under a fixed workload: the cluster twin of
// bench/request-allocs.ts, a figure that does not depend on what else the
// machine runs (unlike CPU time, which swings with the other sessions' load).
// Garbage is a large part of a clustered request's cost: the main threads'
// scavenges and V8's helper threads (bench/profile, docs/performance.md).
//
// The three nodes run in this process (one heap: the figure is the sum over
// the nodes, coordinator and replicas); their peers talk over loopback TCP, as
// separate processes do. CLIENTS connections per node each send one request
// and wait for its reply (redis-benchmark -P1's shape: SET key:<12 digits>
// with a 100-byte value, or GET of a key that holds one). After a warm-up (V8
// compiles the hot code, the caches hold every key), the heap's used size is
// read around REQUESTS requests with a young generation large enough that no
// collection runs in between (a run with a GC is retried). How many requests
// one event-loop turn gathers changes how many frames share a write, so the
// figure moves a little between runs (a few %).
//   node dist/bench/cluster-allocs.js (re-runs itself with --expose-gc and a 128 MB semi-space)
//   DYNAKV_ALLOC_REQUESTS=1500 DYNAKV_ALLOC_CLIENTS=4 DYNAKV_ALLOC_WARMUP=12000 (more requests fill the young generation)
//   DYNAKV_ALLOC_PROFILE=<prefix>: also a sampling heap profile of each measured run
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseServerArgs } from '../lib/cli/args.js'
import { startServer, type RunningServer } from '../lib/cli/server.js'
import { REPLY_BYTES, allocatedPerRequest, keyNumbers, printJson, request, runChild } from './allocs.js'
import { freePort } from './lib.js'

const REQUESTS = Number(process.env.DYNAKV_ALLOC_REQUESTS ?? 1500)
const CLIENTS = Number(process.env.DYNAKV_ALLOC_CLIENTS ?? 4)
const WARMUP = Number(process.env.DYNAKV_ALLOC_WARMUP ?? 12000)
const NODES = 3
const KEYS = 5000
const PROFILE = process.env.DYNAKV_ALLOC_PROFILE ?? ''
const FLAGS = ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128']

export interface ClusterAllocResult {
  op: 'SET' | 'GET'
  requests: number
  clients: number
  bytesPerRequest: number
  retries: number
}

/** A fixed pseudo-random sequence of requests, built before anything is measured. */
function requests (op: 'SET' | 'GET', n: number, seed: number): Buffer[] {
  return keyNumbers(n, KEYS, seed).map(k => request(op, k))
}

/** One -P1 client: sends each request and waits for its whole reply. */
async function client (socket: Socket, reqs: Buffer[], replyBytes: number): Promise<void> {
  for (const req of reqs) {
    let want = replyBytes
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error): void => {
        socket.off('data', onData)
        socket.off('error', done)
        if (e === undefined) resolve()
        else reject(e)
      }
      const onData = (d: Buffer): void => {
        want -= d.length
        if (want > 0) return
        done(want < 0 ? new Error(`unexpected reply: ${d.toString('latin1').slice(0, 80)}`) : undefined)
      }
      socket.on('data', onData)
      socket.on('error', done)
      socket.write(req)
    })
  }
}

/** All requests, dealt round-robin to the clients of every node, run at once. */
async function load (sockets: Socket[], reqs: Buffer[], replyBytes: number): Promise<void> {
  const shares: Buffer[][] = sockets.map(() => [])
  reqs.forEach((r, i) => shares[i % sockets.length].push(r))
  await Promise.all(sockets.map((s, i) => client(s, shares[i], replyBytes)))
}

async function converged (servers: RunningServer[]): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (servers.every(s => s.node.membership.active().length === NODES && s.node.gossip.converged())) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error('the cluster did not converge')
}

async function measureHere (): Promise<ClusterAllocResult[]> {
  const dirs: string[] = []
  const servers: RunningServer[] = []
  const sockets: Socket[] = []
  const results: ClusterAllocResult[] = []
  try {
    for (let i = 0; i < NODES; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'dynakv-cluster-allocs-'))
      dirs.push(dir)
      const join_ = i === 0 ? [] : ['--join', `127.0.0.1:${servers[0].node.config.peerPort}`]
      // A fixed peer port: the port a node advertises to the others.
      const config = parseServerArgs(['--name', `n${i + 1}`, '--dir', dir, '--port', '0', '--peer-port', String(await freePort()), '--host', '127.0.0.1',
        '--n', '3', '--r', '2', '--w', '2', '--sweep-interval-ms', '0', '--ae-interval-ms', '0', '--log-level', 'warn', ...join_])
      servers.push(await startServer(config))
    }
    await converged(servers)
    for (const s of servers) {
      for (let c = 0; c < CLIENTS; c++) {
        const socket = connect(s.resp.port, '127.0.0.1')
        socket.setNoDelay(true)
        await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
        sockets.push(socket)
      }
    }
    // Every key written first, so GETs all find a value.
    await load(sockets, Array.from({ length: KEYS }, (_, k) => request('SET', k)), REPLY_BYTES.SET)
    for (const op of ['SET', 'GET'] as const) {
      await load(sockets, requests(op, WARMUP, 7), REPLY_BYTES[op])
      const r = await allocatedPerRequest(op, REQUESTS, PROFILE, (seed) => {
        const reqs = requests(op, REQUESTS, seed)
        return async () => { await load(sockets, reqs, REPLY_BYTES[op]) }
      })
      results.push({ op, requests: REQUESTS, clients: CLIENTS * NODES, ...r })
    }
  } finally {
    for (const s of sockets) s.destroy()
    for (const s of servers.reverse()) await s.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
  return results
}

/** Runs the measurement in a child node with --expose-gc and a young generation no run fills. */
export function measureClusterAllocs (env: NodeJS.ProcessEnv = {}): ClusterAllocResult[] {
  return runChild<ClusterAllocResult[]>(fileURLToPath(import.meta.url), FLAGS, env, 600_000)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    const results = measureClusterAllocs()
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(results) + '\n')
    else for (const r of results) process.stdout.write(`cluster ${r.op} -P1 (${r.clients} clients over 3 nodes): ${r.bytesPerRequest} heap bytes allocated per client request, all nodes (${r.requests} requests${r.retries > 0 ? `, ${r.retries} runs retried after a GC` : ''})\n`)
  } else {
    printJson(measureHere)
  }
}
