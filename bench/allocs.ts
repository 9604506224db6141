// What bench/request-allocs.ts and bench/cluster-allocs.ts share: the requests
// they send, the measured run (heap used around a run no collection interrupts)
// and the child process with --expose-gc and a large young generation.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { Session } from 'node:inspector/promises'

export const VALUE = Buffer.alloc(100, 'x')
/** The reply to each request: +OK, or the 100-byte value as a bulk string. */
export const REPLY_BYTES = { SET: 5, GET: 1 + String(VALUE.length).length + 2 + VALUE.length + 2 }

/** One RESP request. */
export function frame (...args: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n'))
  return Buffer.concat(parts)
}

/** key:<12 digits> of key number i (redis-benchmark's shape). */
export function keyName (i: number): Buffer {
  return Buffer.from(`key:${String(i).padStart(12, '0')}`)
}

/** SET of key i with VALUE, or GET of it. */
export function request (op: 'SET' | 'GET', i: number): Buffer {
  return op === 'SET' ? frame(Buffer.from(op), keyName(i), VALUE) : frame(Buffer.from(op), keyName(i))
}

/** A fixed pseudo-random sequence of n key numbers below keys (xorshift), so every run sends the same bytes. */
export function keyNumbers (n: number, keys: number, seed: number): number[] {
  let x = seed
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.push((x >>> 0) % keys)
  }
  return out
}

/**
 * Heap bytes allocated per request by a run of `requests` requests: prepare(seed)
 * builds the run's requests outside the measurement and returns the run; the
 * heap's used size is read around a run during which no collection ran (a run
 * with one is retried with the next seed, 5 times at most). With profile set, also a
 * sampling heap profile of the measured run, <profile>-<op>.heapprofile.
 */
export async function allocatedPerRequest (op: string, requests: number, profile: string, prepare: (seed: number) => () => Promise<void>): Promise<{ bytesPerRequest: number, retries: number }> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  let collections = 0
  const observer = new PerformanceObserver((list) => { collections += list.getEntries().length })
  observer.observe({ entryTypes: ['gc'] })
  try {
    for (let retries = 0; retries < 5; retries++) {
      const run = prepare(11 + retries)
      const session = profile === '' ? null : new Session()
      if (session !== null) {
        session.connect()
        await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
      }
      gc()
      await new Promise(resolve => setTimeout(resolve, 50)) // gc entries of the collection above arrive first
      const before = collections
      const used = getHeapStatistics().used_heap_size
      await run()
      const allocated = getHeapStatistics().used_heap_size - used
      await new Promise(resolve => setTimeout(resolve, 50))
      if (session !== null) {
        const { profile: p } = await session.post('HeapProfiler.stopSampling')
        writeFileSync(`${profile}-${op}.heapprofile`, JSON.stringify(p))
        session.disconnect()
      }
      if (collections === before) return { bytesPerRequest: Math.round(allocated / requests), retries }
    }
  } finally {
    observer.disconnect()
  }
  throw new Error(`a collection ran during each of 5 ${op} runs: lower DYNAKV_ALLOC_REQUESTS`)
}

/** Runs script (a bench's own file) in a child node with flags and --json; its last stdout line, parsed. */
export function runChild<T> (script: string, flags: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): T {
  const child = spawnSync(process.execPath, [...flags, script, '--json'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutMs })
  if (child.status !== 0) throw new Error(`${script} failed (${String(child.status ?? child.signal)}): ${child.stderr}`)
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as T
}

/** The child's side: runs measure and prints its results as one JSON line (exit 1 with the stack on failure). */
export function printJson (measure: () => Promise<unknown>): void {
  measure().then((results) => {
    process.stdout.write(JSON.stringify(results) + '\n')
    process.exit(0)
  }, (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`)
    process.exit(1)
  })
}
