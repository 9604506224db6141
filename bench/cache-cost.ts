// What one entry of the object cache really costs, beside what it counts
// (sizeBytes, and the estimate entryCost with ENTRY_OVERHEAD_BYTES in
// lib/storage/cache.ts): `node --expose-gc dist/bench/cache-cost.js`.
// An engine over classic-level in a temporary directory, with a cache large
// enough to hold everything; KEYS keys of 100-byte values (blindWrite's
// encoding, as a SET stores them). Heap + external after a forced GC, before
// and after filling the cache, divided by the entries:
//   set    filled by SETs (the engine caches what it wrote)
//   get    filled by reads from the store (getMany, as pipelined GETs read),
//          then read again as a GET does (stateOf, on the Entry a hit builds)
// Then the time of a set into a full ByteCache of 1M entries (each set evicts)
// beside a set into one that never fills: eviction is O(1) a set. Then the
// longest set while a cache fills from empty (the table's growth).
//   DYNAKV_BENCH_KEYS=200000
import { Engine } from '../lib/storage/engine.js'
import { ByteCache, entryCost } from '../lib/storage/cache.js'
import { classicLevelStore, type Store } from '../lib/storage/store.js'
import { realClock } from '../lib/runtime/clock.js'
import { blindWrite } from '../lib/versioning/encoded.js'
import { KeyRef } from '../lib/node/keys.js'
import { stateOf } from '../lib/node/local.js'
import { removeDir, tempDir } from './lib.js'

const KEYS = Number(process.env.DYNAKV_BENCH_KEYS ?? 200_000)
const gc = (globalThis as { gc?: () => void }).gc

function live (): number {
  if (gc === undefined) throw new Error('run with node --expose-gc')
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

function ref (i: number): KeyRef {
  return new KeyRef(Buffer.from(`key:${String(i).padStart(12, '0')}`), 8)
}

const VALUE = Buffer.alloc(100, 'x')
function encoded (): Buffer {
  const r = blindWrite(undefined, { actor: 'n1', nowMs: 1, counterFloor: 0, vclockMax: 64, value: VALUE })
  if (r === null) throw new Error('blindWrite refused')
  return r.bytes
}

async function fill (store: Store, how: 'set' | 'get'): Promise<{ perEntry: number, counted: number, entries: number }> {
  const engine = new Engine({ store, clock: realClock, sync: false, cacheBytes: 2 ** 40 })
  const before = live()
  if (how === 'set') {
    for (let i = 0; i < KEYS; i += 1000) {
      const writes: Array<Promise<unknown>> = []
      for (let k = i; k < Math.min(KEYS, i + 1000); k++) writes.push(engine.update('data', ref(k), () => ({ next: { bytes: encoded() }, result: undefined })))
      await Promise.all(writes)
    }
  } else {
    for (let i = 0; i < KEYS; i += 100) {
      const reads: Array<Promise<unknown>> = []
      for (let k = i; k < Math.min(KEYS, i + 100); k++) reads.push(Promise.resolve(engine.read('data', ref(k))))
      await Promise.all(reads)
    }
    for (let k = 0; k < KEYS; k++) {
      const e = engine.read('data', ref(k))
      if (e === undefined || e instanceof Promise) throw new Error('not cached')
      stateOf(e)
    }
  }
  const after = live()
  const entries = engine.cacheCount
  const result = { perEntry: (after - before) / entries, counted: engine.cacheBytes / entries, entries }
  engine.dropCache()
  return result
}

/** µs per set of a new key, after 1M keys, in a cache holding 1M entries (full: each set evicts) or 10M. */
function setMicros (full: boolean): number {
  const N = 1_000_000
  const name = (i: number): string => `key:${String(i).padStart(12, '0')}`
  const cache = new ByteCache(entryCost(name(0), { bytes: VALUE }) * N * (full ? 1 : 10))
  for (let i = 0; i < N; i++) cache.set(name(i), { bytes: VALUE })
  const M = 200_000
  const started = performance.now()
  for (let i = N; i < N + M; i++) {
    cache.set(name(i), { bytes: VALUE })
    if (i % 3 === 0) cache.get(name(i - N / 2)) // some hits: hot slots to move
  }
  return (performance.now() - started) * 1000 / M
}

/**
 * The longest single set while 1.5M new keys fill a 1 GB cache from empty (the
 * table grows from 16 slots to 4M), and the sets that took over 1 ms: a table
 * that rehashed everything at once paused once per doubling.
 */
function fillPauses (): { maxMs: number, slowSets: number, totalMs: number } {
  const name = (i: number): string => `key:${String(i).padStart(12, '0')}`
  const cache = new ByteCache(1 << 30)
  let maxMs = 0
  let slowSets = 0
  const started = performance.now()
  for (let i = 0; i < 1_500_000; i++) {
    const t0 = performance.now()
    cache.set(name(i), { bytes: VALUE })
    const ms = performance.now() - t0
    if (ms > maxMs) maxMs = ms
    if (ms > 1) slowSets++
  }
  return { maxMs, slowSets, totalMs: performance.now() - started }
}

async function main (): Promise<void> {
  const dir = tempDir('dynakv-cache-cost-')
  const store = classicLevelStore(dir, realClock)
  await store.open()
  try {
    const set = await fill(store, 'set')
    const get = await fill(store, 'get')
    const get2 = await fill(store, 'get')
    process.stdout.write(`${KEYS} keys of 16 bytes, values of 100 bytes (${encoded().length} encoded)\n`)
    for (const [name, r] of [['set', set], ['get', get], ['get again', get2]] as const) {
      process.stdout.write(`${name.padEnd(10)} real ${Math.round(r.perEntry)} B/entry, counted ${Math.round(r.counted)} B/entry (${r.entries} entries)\n`)
    }
    process.stdout.write(`set of a new key, 1M entries: ${setMicros(true).toFixed(1)} µs evicting, ${setMicros(false).toFixed(1)} µs not full\n`)
    const p = fillPauses()
    process.stdout.write(`filling 1.5M keys from empty: longest set ${p.maxMs.toFixed(1)} ms, ${p.slowSets} sets over 1 ms, ${(p.totalMs / 1000).toFixed(1)} s in all\n`)
  } finally {
    await store.close()
    removeDir(dir)
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
