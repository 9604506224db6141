// `node dist/bench/request-allocs.js`: JavaScript heap bytes allocated per
// request by one durable node (--sync, the default) under a fixed workload, a
// figure that does not depend on what else the machine runs (unlike CPU time).
// Garbage is most of a request's cost that is not a syscall or LevelDB: every
// byte allocated is scavenged later. spec/server/request-cost.spec.ts guards it.
//
// The node runs in this process (no valgrind, no sockets of other programs);
// one client connection sends pipelines of PIPELINE requests (redis-benchmark's
// shape: SET key:<12 digits> with a 100-byte value, or GET of a key that holds
// one) and waits for every reply before the next pipeline. After a warm-up (V8
// compiles the hot code, the cache holds every key), the heap's used size is read
// around REQUESTS requests with a young generation large enough that no
// collection runs in between (checked: a run with a GC is retried). The
// client's own part (one write and a few reads per pipeline) is counted too:
// measured here as ~1 % of a GET.
//   node dist/bench/request-allocs.js [--json] (re-runs itself with --expose-gc and a 64 MB semi-space)
//   DYNAKV_ALLOC_REQUESTS=10000 DYNAKV_ALLOC_PIPELINE=16 DYNAKV_ALLOC_WARMUP=30000
//   DYNAKV_ALLOC_PROFILE=<prefix>: also a sampling heap profile of each measured run, <prefix>-SET.heapprofile
//   (nothing is collected during the run, so it holds every allocation; open it in Chrome DevTools)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { Session } from 'node:inspector/promises'
import { writeFileSync } from 'node:fs'
import { parseServerArgs } from '../lib/cli/args.js'
import { startServer } from '../lib/cli/server.js'

const REQUESTS = Number(process.env.DYNAKV_ALLOC_REQUESTS ?? 10000)
const PIPELINE = Number(process.env.DYNAKV_ALLOC_PIPELINE ?? 16)
const WARMUP = Number(process.env.DYNAKV_ALLOC_WARMUP ?? 30000)
/** Keys drawn from this many (redis-benchmark -r); every GET finds one. */
const KEYS = 10000
const VALUE = Buffer.alloc(100, 'x')
const PROFILE = process.env.DYNAKV_ALLOC_PROFILE ?? ''
const FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64']

export interface AllocResult {
  op: 'SET' | 'GET'
  requests: number
  pipeline: number
  bytesPerRequest: number
  /** Runs discarded because a collection ran during them. */
  retries: number
}

function frame (...args: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n'))
  return Buffer.concat(parts)
}

/** A fixed pseudo-random key sequence (xorshift), so every run sends the same bytes. */
function keys (n: number, seed: number): Buffer[] {
  let x = seed
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.push(Buffer.from(`key:${String((x >>> 0) % KEYS).padStart(12, '0')}`))
  }
  return out
}

/** Pipelines of `pipeline` requests, each one Buffer, built before anything is measured. */
function pipelines (op: 'SET' | 'GET', requests: number, pipeline: number, seed: number): Buffer[] {
  const name = Buffer.from(op)
  const ks = keys(requests, seed)
  const out: Buffer[] = []
  for (let i = 0; i < ks.length; i += pipeline) {
    out.push(Buffer.concat(ks.slice(i, i + pipeline).map(k => op === 'SET' ? frame(name, k, VALUE) : frame(name, k))))
  }
  return out
}

/** Sends each pipeline and waits for its replies (their total size is known: +OK, or a 100-byte bulk). */
async function send (socket: Socket, chunks: Buffer[], replyBytes: number, pipeline: number): Promise<void> {
  for (const chunk of chunks) {
    let want = replyBytes * pipeline
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error): void => {
        socket.off('data', onData)
        socket.off('error', done)
        socket.off('close', onClose)
        if (e === undefined) resolve()
        else reject(e)
      }
      const onClose = (): void => done(new Error('connection closed'))
      const onData = (d: Buffer): void => {
        want -= d.length
        if (want > 0) return
        done(want < 0 ? new Error(`unexpected reply bytes: ${d.toString('latin1').slice(0, 80)}`) : undefined)
      }
      socket.on('data', onData)
      socket.on('error', done)
      socket.on('close', onClose)
      socket.write(chunk)
    })
  }
}

async function measureHere (): Promise<AllocResult[]> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-allocs-'))
  const config = parseServerArgs(['--dir', dir, '--port', '0', '--peer-port', '0', '--host', '127.0.0.1', '--n', '1', '--r', '1', '--w', '1', '--sweep-interval-ms', '0', '--log-level', 'warn'])
  const server = await startServer(config)
  let collections = 0
  const observer = new PerformanceObserver((list) => { collections += list.getEntries().length })
  observer.observe({ entryTypes: ['gc'] })
  const socket = connect(server.resp.port, '127.0.0.1')
  socket.setNoDelay(true)
  const results: AllocResult[] = []
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    const replyBytes = { SET: 5, GET: 1 + String(VALUE.length).length + 2 + VALUE.length + 2 }
    // Every key written first, so GETs all find a value in the cache.
    const all: Buffer[] = []
    for (let k = 0; k < KEYS; k += PIPELINE) {
      all.push(Buffer.concat(Array.from({ length: Math.min(PIPELINE, KEYS - k) }, (_, i) => frame(Buffer.from('SET'), Buffer.from(`key:${String(k + i).padStart(12, '0')}`), VALUE))))
    }
    for (const chunk of all) await send(socket, [chunk], replyBytes.SET, chunk.length / all[0].length * PIPELINE)
    for (const op of ['SET', 'GET'] as const) {
      await send(socket, pipelines(op, WARMUP, PIPELINE, 7), replyBytes[op], PIPELINE)
      let retries = 0
      for (;;) {
        const chunks = pipelines(op, REQUESTS, PIPELINE, 11 + retries)
        const session = PROFILE === '' ? null : new Session()
        if (session !== null) {
          session.connect()
          await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
        }
        gc()
        await new Promise(resolve => setTimeout(resolve, 50)) // gc entries of the collection above arrive first
        const before = collections
        const used = getHeapStatistics().used_heap_size
        await send(socket, chunks, replyBytes[op], PIPELINE)
        const allocated = getHeapStatistics().used_heap_size - used
        await new Promise(resolve => setTimeout(resolve, 50))
        const after = collections
        if (session !== null) {
          const { profile } = await session.post('HeapProfiler.stopSampling')
          writeFileSync(`${PROFILE}-${op}.heapprofile`, JSON.stringify(profile))
          session.disconnect()
        }
        if (after === before) {
          results.push({ op, requests: REQUESTS, pipeline: PIPELINE, bytesPerRequest: Math.round(allocated / REQUESTS), retries })
          break
        }
        if (++retries >= 5) throw new Error(`a collection ran during each of ${retries} ${op} runs: lower DYNAKV_ALLOC_REQUESTS`)
      }
    }
  } finally {
    observer.disconnect()
    socket.destroy()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}

/** Runs the measurement in a child node with --expose-gc and a young generation no run fills. */
export function measureAllocs (env: NodeJS.ProcessEnv = {}): AllocResult[] {
  const child = spawnSync(process.execPath, [...FLAGS, fileURLToPath(import.meta.url), '--json'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 180_000 })
  if (child.status !== 0) throw new Error(`request-allocs failed (${String(child.status ?? child.signal)}): ${child.stderr}`)
  const line = child.stdout.trim().split('\n').at(-1) ?? ''
  return JSON.parse(line) as AllocResult[]
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes('--json')
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    const results = measureAllocs()
    if (json) process.stdout.write(JSON.stringify(results) + '\n')
    else for (const r of results) process.stdout.write(`${r.op} -P${r.pipeline}: ${r.bytesPerRequest} heap bytes allocated per request (${r.requests} requests${r.retries > 0 ? `, ${r.retries} runs retried after a GC` : ''})\n`)
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
