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
//   DYNAKV_ALLOC_REQUESTS=10000 DYNAKV_ALLOC_PIPELINE=16 DYNAKV_ALLOC_WARMUP=30000 DYNAKV_ALLOC_KEYS=10000
//   DYNAKV_ALLOC_PROFILE=<prefix>: also a sampling heap profile of each measured run, <prefix>-SET.heapprofile
//   (nothing is collected during the run, so it holds every allocation; open it in Chrome DevTools)
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseServerArgs } from '../lib/cli/args.js'
import { startServer } from '../lib/cli/server.js'
import { REPLY_BYTES, allocatedPerRequest, keyNumbers, printJson, request, runChild } from './allocs.js'

const REQUESTS = Number(process.env.DYNAKV_ALLOC_REQUESTS ?? 10000)
const PIPELINE = Number(process.env.DYNAKV_ALLOC_PIPELINE ?? 16)
const WARMUP = Number(process.env.DYNAKV_ALLOC_WARMUP ?? 30000)
/** Keys drawn from this many (redis-benchmark -r); every GET finds one. redis-benchmark's -r 100000 spreads writes wider than the default. */
const KEYS = Number(process.env.DYNAKV_ALLOC_KEYS ?? 10000)
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

/** Pipelines of PIPELINE requests to the given keys, each one Buffer, built before anything is measured. */
function pipelines (op: 'SET' | 'GET', keys: number[]): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < keys.length; i += PIPELINE) out.push(Buffer.concat(keys.slice(i, i + PIPELINE).map(k => request(op, k))))
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
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-allocs-'))
  const config = parseServerArgs(['--dir', dir, '--port', '0', '--peer-port', '0', '--host', '127.0.0.1', '--n', '1', '--r', '1', '--w', '1', '--sweep-interval-ms', '0', '--log-level', 'warn'])
  const server = await startServer(config)
  const socket = connect(server.resp.port, '127.0.0.1')
  socket.setNoDelay(true)
  const results: AllocResult[] = []
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    // Every key written first (the last pipeline may be short), so GETs all find a value in the cache.
    const every = Array.from({ length: KEYS }, (_, k) => k)
    for (const chunk of pipelines('SET', every)) await send(socket, [chunk], REPLY_BYTES.SET, chunk.length / request('SET', 0).length)
    for (const op of ['SET', 'GET'] as const) {
      await send(socket, pipelines(op, keyNumbers(WARMUP, KEYS, 7)), REPLY_BYTES[op], PIPELINE)
      const r = await allocatedPerRequest(op, REQUESTS, PROFILE, (seed) => {
        const chunks = pipelines(op, keyNumbers(REQUESTS, KEYS, seed))
        return async () => { await send(socket, chunks, REPLY_BYTES[op], PIPELINE) }
      })
      results.push({ op, requests: REQUESTS, pipeline: PIPELINE, ...r })
    }
  } finally {
    socket.destroy()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}

/** Runs the measurement in a child node with --expose-gc and a young generation no run fills. */
export function measureAllocs (env: NodeJS.ProcessEnv = {}): AllocResult[] {
  return runChild<AllocResult[]>(fileURLToPath(import.meta.url), FLAGS, env, 180_000)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    const results = measureAllocs()
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(results) + '\n')
    else for (const r of results) process.stdout.write(`${r.op} -P${r.pipeline}: ${r.bytesPerRequest} heap bytes allocated per request (${r.requests} requests${r.retries > 0 ? `, ${r.retries} runs retried after a GC` : ''})\n`)
  } else {
    printJson(measureHere)
  }
}
