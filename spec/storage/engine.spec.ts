import t from 'tap'
import { Engine, Overlay, type CommittedWrite } from '../../lib/storage/engine.js'
import { memoryLevelStore, type Store, type WriteOp } from '../../lib/storage/store.js'
import { ByteCache } from '../../lib/storage/cache.js'
import { realClock, type TimeSource } from '../../lib/runtime/clock.js'

const b = (s: string): Buffer => Buffer.from(s)
/** An engine key named s (stored under the same bytes). */
const k = (s: string) => ({ ks: s, skey: Buffer.from(s) })
const asText = (buf: Buffer): string => buf.toString()
const text = (e: { bytes: Buffer } | undefined): string | undefined => e?.bytes.toString()

/**
 * A store whose writes and reads are recorded and can be held back. Unless
 * `proves`, it never proves a key absent (mayHold always true), so that every
 * miss is a read.
 */
function observed (inner: Store, proves = false) {
  const writes: WriteOp[][] = []
  const reads: Array<{ sync: boolean, keys: Buffer[] }> = []
  let gate: Promise<void> | null = null
  let failNext: Error | null = null
  const control = { proves }
  const store: Store = {
    ...inner,
    kind: inner.kind,
    open: () => inner.open(),
    close: () => inner.close(),
    get: (s, k) => inner.get(s, k),
    getSync: (s, k) => {
      reads.push({ sync: true, keys: [k] })
      return inner.getSync(s, k)
    },
    range: (s, o) => inner.range(s, o),
    snapshot: () => inner.snapshot(),
    clear: (s) => inner.clear(s),
    mayHold: (s, k) => !control.proves || inner.mayHold(s, k),
    filterBuilt: () => inner.filterBuilt(),
    getMany: async (s, keys) => {
      reads.push({ sync: false, keys })
      return await inner.getMany(s, keys)
    },
    write: async (ops, sync) => {
      writes.push([...ops])
      if (gate !== null) await gate
      if (failNext !== null) {
        const e = failNext
        failNext = null
        throw e
      }
      await inner.write(ops, sync)
    }
  }
  return {
    store,
    control,
    writes,
    reads,
    hold () {
      let release!: () => void
      gate = new Promise(resolve => { release = resolve })
      return () => {
        gate = null
        release()
      }
    },
    failOnce (e: Error) { failNext = e }
  }
}

async function setup (cacheBytes = 1 << 20, proves = false, maxInflight?: number) {
  const inner = memoryLevelStore()
  await inner.open()
  const o = observed(inner, proves)
  const committed: CommittedWrite[] = []
  // A listener copies what it keeps: a write's key and before may be views of the cache's slabs, reused after the call.
  const keep = (w: CommittedWrite): CommittedWrite => ({ space: w.space, key: Buffer.from(w.key), value: w.value, before: w.before === undefined ? undefined : Buffer.from(w.before) })
  const engine = new Engine({ store: o.store, clock: realClock, sync: true, cacheBytes, maxInflight, onCommit: (w) => committed.push(...w.map(keep)) })
  return { ...o, inner, engine, committed }
}

/** Lets the event loop run until cond holds (bounded): waits that do not depend on the machine's speed. */
async function until (cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not reached within ${ms} ms`)
    await pause(1)
  }
}

const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const setTo = (v: string) => (cur: { bytes: Buffer } | undefined) => ({ next: { bytes: b(v) }, result: text(cur) })

t.test('writes of one tick are one batch, and resolve only once it is written', async (t) => {
  const { engine, writes, hold } = await setup()
  const release = hold()
  let resolved = 0
  const ps = []
  for (let i = 0; i < 100; i++) ps.push(engine.update('data', k('k' + i), setTo('v' + i)).then(() => { resolved++ }))
  await until(() => writes.length > 0)
  await pause(20) // room for a (wrong) second batch
  t.equal(writes.length, 1, 'one batch for 100 writes of one tick')
  t.equal(writes[0].length, 100)
  t.equal(resolved, 0, 'nothing acknowledged before the batch is durable')
  release()
  await Promise.all(ps)
  t.equal(resolved, 100)
})

t.test('writes waiting on a load, then a later write of the same key, across commits: each sees the one before, the store ends with the last', async (t) => {
  // Two batches in flight: y's commit is written while a's is held.
  const { engine, writes, reads, hold, inner, committed } = await setup(1 << 20, false, 2)
  await inner.write([{ space: 'data', key: b('y'), value: b('0') }, { space: 'data', key: b('a'), value: b('A') }], false)
  t.same(text(await engine.read('data', k('a'))), 'A') // cached: a's update below needs no read
  const incr = (cur: { bytes: Buffer } | undefined) => {
    const next = String(Number(text(cur) ?? '0') + 1)
    return { next: { bytes: b(next) }, result: next }
  }
  const release = hold()
  const other = engine.update('data', k('a'), setTo('B')) // in this turn's batch at once
  const first = engine.update('data', k('y'), incr) // loaded
  const second = engine.update('data', k('y'), incr) // behind the same load
  await until(() => writes.length === 2)
  t.same(writes.map(w => w.map(o => o.key.toString())), [['a'], ['y', 'y']], 'both writes of y, in order, in the commit after a\'s')
  t.has(engine.read('data', k('y')), { bytes: b('2') }, 'both applied, readable before durable')
  const third = engine.update('data', k('y'), incr) // in the overlay: no read; behind the commit in flight
  await pause(10)
  t.equal(writes.length, 2, 'the third waits for the commit holding y')
  t.equal(reads.filter(r => r.keys.some(key => key.toString() === 'y')).length, 1, 'one read of y')
  release()
  t.same(await Promise.all([first, second, third]), ['1', '2', '3'], 'in arrival order, each seeing the one before')
  await other
  t.same(await inner.get('data', b('y')), b('3'))
  t.same(committed.filter(c => c.key.toString() === 'y').map(c => [c.before?.toString(), c.value?.toString()]), [['0', '1'], ['1', '2'], ['2', '3']], 'each commit of y replaced the one before')
  t.same(writes.map(w => w.map(o => o.key.toString())), [['a'], ['y', 'y'], ['y']], 'the third in a third commit')
})

t.test('a pending write is readable at once (overlay), and later writes queue behind the in-flight batch', async (t) => {
  const { engine, writes, hold } = await setup()
  t.same(await Promise.all([engine.read('data', k('a')), engine.read('data', k('b'))]), [undefined, undefined])
  const release = hold()
  const p1 = engine.update('data', k('a'), setTo('1'))
  t.has(engine.read('data', k('a')), { bytes: b('1') }, 'read-your-write before durability')
  await until(() => writes.length === 1)
  const p2 = engine.update('data', k('a'), setTo('2'))
  const p3 = engine.update('data', k('b'), setTo('3'))
  t.equal(text(engine.read('data', k('a')) as { bytes: Buffer }), '2')
  t.equal(writes.length, 1, 'second batch waits for the first')
  release()
  t.equal(await p1, undefined)
  t.equal(await p2, '1', 'the second update saw the first')
  await p3
  t.equal(writes.length, 2)
  t.same(writes[1].map(o => o.key.toString()), ['a', 'b'])
})

t.test('updates waiting on a load run in arrival order, each seeing the previous', async (t) => {
  const { engine, inner, reads } = await setup()
  await inner.write([{ space: 'data', key: b('n'), value: b('0') }], false)
  const incr = (cur: { bytes: Buffer } | undefined) => {
    const next = String(Number(text(cur) ?? '0') + 1)
    return { next: { bytes: b(next) }, result: next }
  }
  const results = await Promise.all([engine.update('data', k('n'), incr), engine.update('data', k('n'), incr), engine.update('data', k('n'), incr)])
  t.same(results, ['1', '2', '3'])
  t.equal(reads.length, 1, 'one read for the three')
  t.same(await inner.get('data', b('n')), b('3'))
})

t.test('cache misses of one tick: a few read synchronously, many in one getMany', async (t) => {
  const { engine, inner, reads } = await setup()
  await inner.write([{ space: 'data', key: b('x'), value: b('X') }, { space: 'data', key: b('y'), value: b('Y') }], false)
  const got = await Promise.all([engine.read('data', k('x')), engine.read('data', k('y')), engine.read('data', k('z')), engine.read('data', k('x'))])
  t.same(got.map(text), ['X', 'Y', undefined, 'X'])
  t.same(reads.map(r => [r.sync, r.keys.map(asText)]), [[true, ['x']], [true, ['y']], [true, ['z']]], 'each key read once')
  reads.length = 0
  const many = Array.from({ length: 20 }, (_, i) => 'm' + i)
  await inner.write([{ space: 'data', key: b('m3'), value: b('M3') }], false)
  const gotMany = await Promise.all(many.map(m => engine.read('data', k(m))))
  t.same(gotMany.map(text), many.map(m => m === 'm3' ? 'M3' : undefined))
  t.same(reads.map(r => [r.sync, r.keys.map(asText)]), [[false, many]], 'one getMany')
  t.notOk(engine.read('data', k('x')) instanceof Promise, 'now cached: answered synchronously')
  t.equal(engine.read('data', k('z')), undefined, 'known absent: synchronous too')
})

t.test('a key the store proves absent is neither read nor waited for', async (t) => {
  const { engine, inner, reads, writes } = await setup(1 << 20, true)
  await inner.write([{ space: 'data', key: b('x'), value: b('X') }], false)
  t.equal(await inner.filterBuilt(), true, 'the open-time scan ran')
  t.equal(engine.read('data', k('nope')), undefined, 'a read of an absent key: synchronous, no load')
  const p = engine.update('data', k('fresh'), setTo('F'))
  t.has(engine.read('data', k('fresh')), { bytes: b('F') }, 'a blind update of an absent key is in the overlay at once')
  t.equal(await p, undefined, 'fn saw no value')
  t.same(reads, [], 'no store read for either')
  t.equal(engine.stats.provedAbsent, 2)
  t.equal(text(await engine.read('data', k('x'))), 'X', 'a key the store holds is still read')
  t.same(reads.map(r => r.keys.map(asText)), [['x']])
  t.same(writes.map(w => w.map(o => o.key.toString())), [['fresh']])
})

t.test('an update behind a load in flight waits for it even when the key is proved absent', async (t) => {
  const { engine, inner, reads, control } = await setup(1 << 20, false)
  await inner.filterBuilt()
  const incr = (cur: { bytes: Buffer } | undefined) => {
    const next = String(Number(text(cur) ?? '0') + 1)
    return { next: { bytes: b(next) }, result: next }
  }
  const first = engine.update('data', k('y'), incr) // cannot be proved absent yet: a load is queued
  control.proves = true // from now on y is proved absent
  const second = engine.update('data', k('y'), incr)
  t.same(await Promise.all([first, second]), ['1', '2'], 'in arrival order, the second seeing the first')
  t.equal(reads.length, 1, 'the one load')
})

t.test('a no-op update on a pending value waits for that value to be durable', async (t) => {
  const { engine, hold } = await setup()
  const release = hold()
  const first = engine.update('data', k('k'), setTo('v'))
  let noopDone = false
  const noop = engine.update('data', k('k'), (cur) => ({ result: text(cur) })).then((r) => {
    noopDone = true
    return r
  })
  await pause(10)
  t.equal(noopDone, false)
  release()
  await first
  t.equal(await noop, 'v')
})

t.test('commit listeners see before and after bytes', async (t) => {
  const { engine, committed } = await setup()
  await engine.update('data', k('k'), setTo('one'))
  await engine.update('data', k('k'), setTo('two'))
  await engine.update('data', k('k'), () => ({ next: null, result: null }))
  t.same(committed.map(c => [c.before?.toString(), c.value?.toString()]), [[undefined, 'one'], ['one', 'two'], ['two', undefined]])
})

t.test('a failed batch rejects its writes and every later one; nothing stays visible', async (t) => {
  const { engine, failOnce } = await setup()
  await engine.update('data', k('k'), setTo('durable'))
  failOnce(new Error('disk on fire'))
  await t.rejects(engine.update('data', k('k'), setTo('lost')), /disk on fire/)
  await t.rejects(engine.update('data', k('j'), setTo('later')), /disk on fire/)
  const seen = await engine.read('data', k('k'))
  t.equal(text(seen), 'durable', 'the failed value is not served')
})

t.test('atBoundary runs between batches', async (t) => {
  const { engine, hold, writes } = await setup()
  const release = hold()
  engine.update('data', k('a'), setTo('1')).catch(() => {})
  await until(() => writes.length === 1)
  const order: string[] = []
  engine.atBoundary(() => order.push(`boundary after ${writes.length} batch(es)`))
  const p = engine.update('data', k('b'), setTo('2')).then(() => order.push('second batch done'))
  t.same(order, [])
  release()
  await p
  t.same(order, ['boundary after 1 batch(es)', 'second batch done'])
  let ran = false
  engine.atBoundary(() => { ran = true })
  t.ok(ran, 'idle: runs at once')
})

t.test('object cache stays within its byte bound and keeps hot entries', async (t) => {
  const cache = new ByteCache(20_000)
  for (let i = 0; i < 1000; i++) {
    cache.set('k' + i, { bytes: b(String(i)) })
    if (i >= 10) cache.get('k0') // k0 is always hot
    t.ok(cache.sizeBytes <= 20_000)
  }
  t.equal(text(cache.get('k0') ?? undefined), '0', 'hot entry survived')
  t.equal(cache.get('k1'), undefined, 'cold entry evicted')
  t.ok(cache.count < 1000, 'the cold ones were evicted')
  cache.set('absent', null)
  t.equal(cache.get('absent'), null, 'a known-absent key')
  cache.set('absent', { bytes: b('now here') })
  t.equal(text(cache.get('absent') ?? undefined), 'now here', 'updated in place')
  cache.set('huge', { bytes: Buffer.alloc(6000) })
  t.equal(cache.get('huge'), undefined, 'an entry over a quarter of the cache is not kept')
})

t.test('by default one batch is written at a time: what arrives meanwhile waits and joins one batch', async (t) => {
  const { engine, writes, hold } = await setup()
  await Promise.all([engine.read('data', k('x')), engine.read('data', k('y')), engine.read('data', k('z'))])
  const release = hold()
  const first = engine.update('data', k('x'), setTo('x1'))
  await until(() => writes.length === 1)
  const second = engine.update('data', k('y'), setTo('y1'))
  await pause(20) // room for a (wrong) second batch in flight
  const third = engine.update('data', k('z'), setTo('z1'))
  await pause(20)
  t.equal(writes.length, 1, 'disjoint keys, but the second batch waits for the first')
  release()
  await Promise.all([first, second, third])
  t.equal(writes.length, 2, 'the writes that waited went out as one batch')
  t.same(writes[1].map(o => o.key.toString()), ['y', 'z'])
})

t.test('with maxInflight 2, two batches of disjoint keys are written at once; a batch touching a key in flight waits', async (t) => {
  const { engine, writes, hold, inner } = await setup(1 << 20, false, 2)
  await Promise.all([engine.read('data', k('x')), engine.read('data', k('y'))])
  const release = hold()
  const first = engine.update('data', k('x'), setTo('x1'))
  await until(() => writes.length === 1)
  const second = engine.update('data', k('y'), setTo('y1'))
  await until(() => writes.length === 2)
  t.pass('the disjoint batch did not wait for the first')
  const third = engine.update('data', k('x'), setTo('x2'))
  await pause(20) // room for a (wrong) third batch
  t.equal(writes.length, 2, 'x is being written: its next write waits')
  release()
  await Promise.all([first, second, third])
  t.equal(writes.length, 3)
  t.same(await inner.get('data', b('x')), b('x2'), 'the store ends with the last write of x')
})

t.test('a written key leaves the overlay, and a pending write stays readable while thousands of others come and go', async (t) => {
  // A cache of 2 KB: most written keys are evicted, so a read that took a
  // written overlay entry for a pending one would return its value from there.
  const { engine, writes, hold, inner } = await setup(2048)
  for (let round = 0; round < 3; round++) {
    const ps = []
    for (let i = 0; i < 3000; i++) ps.push(engine.update('data', k(`k${i}`), setTo(`r${round}-${i}`)))
    await Promise.all(ps)
  }
  // Keys written and evicted: read from the store, not from the overlay.
  await inner.write([{ space: 'data', key: b('k7'), value: b('behind the engine'), before: undefined }], true)
  t.equal(text(await engine.read('data', k('k7'))), 'behind the engine', 'a written key is not answered from the overlay')
  t.equal(engine.cachedBytes(b('k8'), { start: 0, end: 0 })?.toString() ?? 'not cached', 'not cached', 'evicted')
  // A pending write while 5 000 more keys are written (the overlay grows, then empties) stays readable, and its key uncached.
  const release = hold()
  const held = engine.update('data', k('held'), setTo('pending'))
  await until(() => writes.length > 0 && writes[writes.length - 1].some(o => o.key.toString() === 'held'))
  const more = []
  for (let i = 0; i < 5000; i++) more.push(engine.update('data', k(`m${i}`), setTo(`m${i}`)))
  t.equal(text(engine.read('data', k('held')) as { bytes: Buffer }), 'pending')
  t.equal(engine.cachedBytes(b('held'), { start: 0, end: 0 }), undefined, 'a pending key is not read from the cache')
  release()
  await held
  await Promise.all(more)
  t.equal(text(await engine.read('data', k('held'))), 'pending')
  t.equal(text(await engine.read('data', k('m4999'))), 'm4999')
  t.equal(text(await engine.read('data', k('k2999'))), 'r2-2999')
})

t.test('the overlay table holds what a Map would through random sets and removes, and gives back its slots once empty', (t) => {
  const overlay = new Overlay()
  const model = new Map<string, unknown>()
  // What set stores is opaque to the table: any object stands for a write.
  const write = (n: number) => ({ n }) as unknown as Parameters<Overlay['set']>[1]
  let x = 12345
  const rand = (n: number): number => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) % n
  }
  let mismatches = 0
  for (let step = 0; step < 20000; step++) {
    // 300 keys, so runs of collisions form and removals shift them back.
    const ks = `key:${rand(300)}`
    const r = rand(10)
    if (r < 5) {
      const w = write(step)
      overlay.set(ks, w)
      model.set(ks, w)
    } else {
      // Remove the key's write, or (a later write replaced it) another object: then nothing changes.
      const w = r < 9 ? model.get(ks) : write(-1)
      const removed = overlay.remove(ks, w)
      if (removed !== (w !== undefined && model.get(ks) === w)) mismatches++
      if (removed) model.delete(ks)
    }
    if (step % 97 === 0) for (let i = 0; i < 300; i++) if (overlay.get(`key:${i}`) !== model.get(`key:${i}`)) mismatches++
    if (overlay.size !== model.size) mismatches++
  }
  t.equal(mismatches, 0, 'every get, remove and size as the Map\'s')
  // Grown for 10 000 pending writes, then emptied: back to its smallest table.
  const many = Array.from({ length: 10000 }, (_, i) => write(i))
  for (let i = 0; i < many.length; i++) overlay.set(`m${i}`, many[i])
  t.ok(overlay.slots >= 20000, `grown: ${overlay.slots} slots`)
  for (let i = 0; i < many.length; i++) if (overlay.get(`m${i}`) !== many[i]) mismatches++
  for (const [ks, w] of model) overlay.remove(ks, w)
  for (let i = 0; i < many.length; i++) overlay.remove(`m${i}`, many[i])
  t.equal(mismatches, 0, 'every grown key found')
  t.equal(overlay.size, 0)
  t.equal(overlay.slots, 64, 'given back once empty')
  t.end()
})

t.test('write reads a cached value in place: next sees it, the commit gets it as before, the store is told it replaces one', async (t) => {
  // A small cache and a store that proves keys absent: writes find their key in the overlay, the cache
  // (read in place, one SlabEntry refilled per write) or the store; deletes and re-creations mixed in.
  const { engine, committed, writes, inner } = await setup(4096, true)
  const model = new Map<string, string | null>()
  /** Writes whose next saw another value than the last one written. */
  let seenWrong = 0
  let inPlace = 0
  let seed = 11
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % n }
  /** A key that counts the reads of its storage key; half of them carry ks's bytes (a KeyRef's ksBytes: hashed and compared instead of ks). */
  class Key {
    skeyReads = 0
    readInPlace = false
    constructor (readonly ks: string, readonly ksBytes?: Buffer) {}
    get skey (): Buffer {
      this.skeyReads++
      return b('s' + this.ks)
    }
  }
  const keys: Key[] = []
  const next = (cur: { bytes: Buffer } | undefined, key: Key, value: string | null): Buffer | null => {
    if (cur?.constructor.name === 'SlabEntry') {
      inPlace++
      key.readInPlace = true
    }
    if ((cur?.bytes.toString() ?? null) !== (model.get(key.ks) ?? null)) seenWrong++
    model.set(key.ks, value)
    return value === null ? null : b(value)
  }
  for (let tick = 0; tick < 150; tick++) {
    const pending: Array<Promise<unknown>> = []
    for (let i = 0; i < 1 + rnd(20); i++) {
      const ks = 'w' + rnd(150)
      const value = rnd(8) === 0 ? null : `${tick}.${i}`.repeat(1 + rnd(4))
      const key = new Key(ks, rnd(2) === 0 ? Buffer.from(ks, 'latin1') : undefined)
      keys.push(key)
      pending.push(engine.write('data', key, next, value))
    }
    if (rnd(3) === 0) await Promise.all(pending)
  }
  await engine.flushed()
  t.equal(seenWrong, 0, 'every next saw the last value written')
  t.ok(inPlace > 100, `${inPlace} writes read their value in place`)
  t.ok(keys.filter(k => k.readInPlace && k.ksBytes !== undefined).length > 50, 'keys given by their bytes too')
  t.equal(keys.filter(k => k.readInPlace && k.skeyReads > 0).length, 0, 'a write that read its value in place takes the record\'s storage key (asks the caller for none)')
  // Replay the commits per key: each before is the value the previous commit of the key left.
  const last = new Map<string, string | undefined>()
  let beforeWrong = 0
  for (const c of committed) {
    const ks = c.key.toString().slice(1)
    if (c.key.toString() !== 's' + ks) beforeWrong++
    if (c.before?.toString() !== last.get(ks)) beforeWrong++
    last.set(ks, c.value?.toString())
  }
  t.equal(beforeWrong, 0, `${committed.length} commits: each under the key's storage key, its before the key's previous value`)
  t.ok(writes.flat().every(w => w.replaces === (w.before !== undefined)), 'replaces says whether there is a before')
  const held = [...model].filter(([, v]) => v !== null).map(([k]) => k)
  t.same(held.filter(k => !inner.mayHold('data', b('s' + k))), [], 'no key holding a value is proved absent')
  let wrong = 0
  for (const [ks, v] of model) if ((await engine.read('data', { ks, skey: b('s' + ks) }))?.bytes.toString() !== (v ?? undefined)) wrong++
  t.equal(wrong, 0, 'every key reads its last value')
})

/** realClock's defer and soon, with timers that fire only when the test moves time on. */
function manualClock () {
  let now = 0
  const timers: Array<{ at: number, fn: () => void, live: boolean }> = []
  const clock: TimeSource = {
    now: () => now,
    after (delayMs, fn) {
      const timer = { at: now + delayMs, fn, live: true }
      timers.push(timer)
      return { cancel () { timer.live = false } }
    },
    defer: realClock.defer,
    soon: realClock.soon
  }
  return {
    clock,
    /** Timers armed and not cancelled or fired. */
    armed: () => timers.filter(x => x.live).length,
    advance (ms: number) {
      now += ms
      for (const x of timers) {
        if (x.live && x.at <= now) {
          x.live = false
          x.fn()
        }
      }
    }
  }
}

async function holding (holdMs: number) {
  const inner = memoryLevelStore()
  await inner.open()
  const o = observed(inner, true) // new keys proved absent: every update here queues at once
  const time = manualClock()
  const engine = new Engine({ store: o.store, clock: time.clock, sync: true, cacheBytes: 1 << 20, holdMs })
  return { ...o, time, engine }
}

t.test('cohort hold: after a commit of n writes with fewer queued, the next batch waits until n more have come, then holds them all', async (t) => {
  const { engine, writes, hold, time } = await holding(5)
  const release = hold()
  const first = ['a1', 'a2', 'a3'].map(key => engine.update('data', k(key), setTo('1')))
  await until(() => writes.length === 1)
  // Arrive during the first commit: without the hold, they are the next batch at once.
  const queued = [engine.update('data', k('b1'), setTo('1')), engine.update('data', k('b2'), setTo('1'))]
  release()
  await Promise.all(first)
  await pause(20)
  t.equal(writes.length, 1, 'held: the three answered have not sent again')
  t.equal(time.armed(), 1, 'bounded by a timer')
  // The clients the first commit answered send again.
  queued.push(engine.update('data', k('a1'), setTo('2')), engine.update('data', k('a2'), setTo('2')))
  await pause(20)
  t.equal(writes.length, 1, 'four of five: still held')
  queued.push(engine.update('data', k('a3'), setTo('2')))
  t.equal(time.armed(), 0, 'the bound\'s timer cancelled')
  await Promise.all(queued)
  t.equal(writes.length, 2)
  t.same(writes[1].map(op => op.key.toString()), ['b1', 'b2', 'a1', 'a2', 'a3'], 'one batch for both cohorts')
  t.equal(time.armed(), 1, 'a commit of five, none queued: the next batch held in turn')
  t.equal(text(engine.read('data', k('a3')) as { bytes: Buffer }), '2')
})

t.test('cohort hold: when as many writes wait as the commit held (a deep pipeline\'s), the next batch is not held', async (t) => {
  const { engine, writes, hold, time } = await holding(5)
  const release = hold()
  const first = ['a1', 'a2'].map(key => engine.update('data', k(key), setTo('1')))
  await until(() => writes.length === 1)
  const queued = ['b1', 'b2'].map(key => engine.update('data', k(key), setTo('1')))
  release()
  await until(() => writes.length === 2, 1000) // held, it would wait for the clock
  await Promise.all([...first, ...queued])
  t.equal(engine.stats.holds, 1, 'only after the second commit, with nothing queued')
  t.equal(time.armed(), 1)
})

t.test('cohort hold: a commit of more than 128 writes holds nothing', async (t) => {
  const { engine, writes, time } = await holding(5)
  const many = []
  for (let i = 0; i < 129; i++) many.push(engine.update('data', k('m' + i), setTo('1')))
  await Promise.all(many)
  t.equal(writes[0].length, 129)
  const lone = engine.update('data', k('m0'), setTo('2'))
  await until(() => writes.length === 2, 1000)
  await lone
  t.equal(engine.stats.holds, 0)
  t.equal(time.armed(), 0)
})

t.test('cohort hold: when fewer come, the batch goes at the bound, and a commit of one write holds nothing', async (t) => {
  const { engine, writes, time } = await holding(5)
  await Promise.all([engine.update('data', k('a1'), setTo('1')), engine.update('data', k('a2'), setTo('1'))])
  let done = false
  const lone = engine.update('data', k('a1'), setTo('2')).then(() => { done = true })
  await pause(20)
  t.equal(writes.length, 1, 'held for the second client')
  time.advance(4)
  await pause(20)
  t.equal(writes.length, 1, 'not before the bound')
  time.advance(1)
  await lone
  t.ok(done)
  t.equal(writes.length, 2, 'written at the bound')
  t.equal(writes[1].length, 1)
  t.same([engine.stats.holds, engine.stats.holdsAtBound], [1, 1])
  // A lone client from now on: each commit of one write, none held, no timer (time never moves again).
  for (let i = 0; i < 5; i++) await engine.update('data', k('a1'), setTo('x' + i))
  t.equal(writes.length, 7, 'each lone write its own commit, none waiting for the clock')
  t.equal(time.armed(), 0)
})

t.test('without holdMs (the default, a cluster\'s nodes), the next batch starts as the commit ends', async (t) => {
  const { engine, writes, hold, time } = await holding(0)
  const release = hold()
  const first = [engine.update('data', k('a1'), setTo('1')), engine.update('data', k('a2'), setTo('1'))]
  await until(() => writes.length === 1)
  const queued = [engine.update('data', k('b1'), setTo('1'))]
  release()
  await Promise.all([...first, ...queued])
  t.equal(writes.length, 2)
  t.equal(time.armed(), 0)
})

t.test('cohort hold: writes read in the turn the bound expires still join the held batch', async (t) => {
  const { engine, writes, time } = await holding(5)
  await Promise.all([engine.update('data', k('a1'), setTo('1')), engine.update('data', k('a2'), setTo('1'))])
  // The timer fires before the loop polls; the two clients' writes are read in that same turn.
  time.advance(5)
  const next = [engine.update('data', k('a1'), setTo('2')), engine.update('data', k('a2'), setTo('2'))]
  await Promise.all(next)
  t.same(writes[1].map(op => op.key.toString()), ['a1', 'a2'], 'one batch')
  t.equal(engine.stats.holdsAtBound, 0, 'ended by its target')
})

t.test('cohort hold: flushed() ends a hold at once (a node stopping, FLUSHALL)', async (t) => {
  const { engine, writes, time } = await holding(5)
  await Promise.all([engine.update('data', k('a1'), setTo('1')), engine.update('data', k('a2'), setTo('1'))])
  const lone = engine.update('data', k('a1'), setTo('2'))
  await engine.flushed()
  await lone
  t.equal(writes.length, 2, 'written without the clock moving')
  t.equal(time.armed(), 0)
})

t.test('cohort hold: a held commit with writes queued behind it holds nothing (steady arrivals: no hold grows on the last)', async (t) => {
  const { engine, writes, hold, time } = await holding(5)
  let release = hold()
  const all = ['a1', 'a2'].map(key => engine.update('data', k(key), setTo('1')))
  await until(() => writes.length === 1)
  all.push(engine.update('data', k('b1'), setTo('1'))) // arrives during the commit
  release()
  await pause(20)
  t.equal(writes.length, 1, 'one queued of two answered: held')
  release = hold()
  all.push(engine.update('data', k('c1'), setTo('1')), engine.update('data', k('c2'), setTo('1')))
  await until(() => writes.length === 2)
  t.same(writes[1].map(op => op.key.toString()), ['b1', 'c1', 'c2'], 'the held batch')
  all.push(engine.update('data', k('d1'), setTo('1'))) // arrives during the held commit
  release()
  await until(() => writes.length === 3, 1000) // held again, it would wait for the clock
  await Promise.all(all)
  t.same(writes[2].map(op => op.key.toString()), ['d1'])
  t.equal(engine.stats.holds, 1)
  t.equal(time.armed(), 0)
})

t.test('cohort hold: after a hold the bound ended, the next holdable commit holds nothing; then holds resume', async (t) => {
  const { engine, writes, time } = await holding(5)
  const two = async (a: string, b: string, v: string): Promise<void> => { await Promise.all([engine.update('data', k(a), setTo(v)), engine.update('data', k(b), setTo(v))]) }
  await two('a1', 'a2', '1') // a commit of two, none queued: held
  const lone = engine.update('data', k('a1'), setTo('2'))
  time.advance(5)
  await lone
  t.same([engine.stats.holds, engine.stats.holdsAtBound, writes.length], [1, 1, 2], 'the bound ended the hold')
  await two('b1', 'b2', '1')
  t.same([engine.stats.holds, time.armed()], [1, 0], 'the next commit of two holds nothing')
  await two('c1', 'c2', '1')
  t.same([engine.stats.holds, time.armed()], [2, 1], 'the one after holds again')
  const next = two('c1', 'c2', '2') // the answered clients send again: the hold ends by its target
  await next
  t.same([engine.stats.holds, engine.stats.holdsAtBound], [3, 1], 'held after each commit since')
})
