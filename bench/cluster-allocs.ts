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
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { Session } from 'node:inspector/promises'
import { parseServerArgs } from '../lib/cli/args.js'
import { startServer, type RunningServer } from '../lib/cli/server.js'
import { freePort } from './lib.js'

const REQUESTS = Number(process.env.DYNAKV_ALLOC_REQUESTS ?? 1500)
const CLIENTS = Number(process.env.DYNAKV_ALLOC_CLIENTS ?? 4)
const WARMUP = Number(process.env.DYNAKV_ALLOC_WARMUP ?? 12000)
const NODES = 3
const KEYS = 5000
const VALUE = Buffer.alloc(100, 'x')
const PROFILE = process.env.DYNAKV_ALLOC_PROFILE ?? ''
const FLAGS = ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128']

export interface ClusterAllocResult {
  op: 'SET' | 'GET'
  requests: number
  clients: number
  bytesPerRequest: number
  retries: number
}

function frame (...args: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n'))
  return Buffer.concat(parts)
}

/** A fixed pseudo-random sequence of requests (xorshift), built before anything is measured. */
function requests (op: 'SET' | 'GET', n: number, seed: number): Buffer[] {
  let x = seed
  const name = Buffer.from(op)
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const key = Buffer.from(`key:${String((x >>> 0) % KEYS).padStart(12, '0')}`)
    out.push(op === 'SET' ? frame(name, key, VALUE) : frame(name, key))
  }
  return out
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
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  const dirs: string[] = []
  const servers: RunningServer[] = []
  const sockets: Socket[] = []
  let collections = 0
  const observer = new PerformanceObserver((list) => { collections += list.getEntries().length })
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
    const replyBytes = { SET: 5, GET: 1 + String(VALUE.length).length + 2 + VALUE.length + 2 }
    // Every key written first, so GETs all find a value.
    const all: Buffer[] = []
    for (let k = 0; k < KEYS; k++) all.push(frame(Buffer.from('SET'), Buffer.from(`key:${String(k).padStart(12, '0')}`), VALUE))
    await load(sockets, all, replyBytes.SET)
    observer.observe({ entryTypes: ['gc'] })
    for (const op of ['SET', 'GET'] as const) {
      await load(sockets, requests(op, WARMUP, 7), replyBytes[op])
      let retries = 0
      for (;;) {
        const reqs = requests(op, REQUESTS, 11 + retries)
        const session = PROFILE === '' ? null : new Session()
        if (session !== null) {
          session.connect()
          await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
        }
        gc()
        await new Promise(resolve => setTimeout(resolve, 50))
        const before = collections
        const used = getHeapStatistics().used_heap_size
        await load(sockets, reqs, replyBytes[op])
        const allocated = getHeapStatistics().used_heap_size - used
        await new Promise(resolve => setTimeout(resolve, 50))
        if (session !== null) {
          const { profile } = await session.post('HeapProfiler.stopSampling')
          writeFileSync(`${PROFILE}-${op}.heapprofile`, JSON.stringify(profile))
          session.disconnect()
        }
        if (collections === before) {
          results.push({ op, requests: REQUESTS, clients: CLIENTS * NODES, bytesPerRequest: Math.round(allocated / REQUESTS), retries })
          break
        }
        if (++retries >= 5) throw new Error(`a collection ran during each of ${retries} ${op} runs: lower DYNAKV_ALLOC_REQUESTS`)
      }
    }
  } finally {
    observer.disconnect()
    for (const s of sockets) s.destroy()
    for (const s of servers.reverse()) await s.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
  return results
}

/** Runs the measurement in a child node with --expose-gc and a young generation no run fills. */
export function measureClusterAllocs (env: NodeJS.ProcessEnv = {}): ClusterAllocResult[] {
  const child = spawnSync(process.execPath, [...FLAGS, fileURLToPath(import.meta.url), '--json'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000 })
  if (child.status !== 0) throw new Error(`cluster-allocs failed (${String(child.status ?? child.signal)}): ${child.stderr}`)
  const line = child.stdout.trim().split('\n').at(-1) ?? ''
  return JSON.parse(line) as ClusterAllocResult[]
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    const results = measureClusterAllocs()
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(results) + '\n')
    else for (const r of results) process.stdout.write(`cluster ${r.op} -P1 (${r.clients} clients over 3 nodes): ${r.bytesPerRequest} heap bytes allocated per client request, all nodes (${r.requests} requests${r.retries > 0 ? `, ${r.retries} runs retried after a GC` : ''})\n`)
  } else {
    measureHere().then((results) => {
      process.stdout.write(JSON.stringify(results) + '\n')
      process.exit(0)
    }, (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`)
      process.exit(1)
    })
  }
}
