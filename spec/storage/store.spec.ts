// One compliance suite, run on both Store implementations (abstract-level style).
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import type { ClassicLevel } from 'classic-level'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { classicLevelStore, memoryLevelStore, type Store } from '../../lib/storage/store.js'
import { Engine } from '../../lib/storage/engine.js'
import { realClock } from '../../lib/runtime/clock.js'

const b = (s: string): Buffer => Buffer.from(s)
const sameBytes = (a: Buffer | undefined, b: Buffer | undefined): boolean => a === undefined ? b === undefined : b !== undefined && a.equals(b)

function compliance (name: string, make: () => { store: Store, cleanup: () => void }): void {
  t.test(name, async (t) => {
    const { store, cleanup } = make()
    t.teardown(cleanup)
    await store.open()
    t.teardown(() => store.close())

    t.test('get of a missing key is undefined', async (t) => {
      t.equal(await store.get('data', b('nope')), undefined)
    })

    t.test('write puts and deletes atomically across spaces', async (t) => {
      await store.write([
        { space: 'data', key: b('a'), value: b('1') },
        { space: 'hints', key: b('a'), value: b('h') },
        { space: 'meta', key: b('a'), value: b('m') }
      ], true)
      t.same(await store.get('data', b('a')), b('1'))
      t.same(await store.get('hints', b('a')), b('h'))
      t.same(await store.get('meta', b('a')), b('m'))
      await store.write([{ space: 'data', key: b('a'), value: null }, { space: 'data', key: b('b'), value: b('2') }], false)
      t.equal(await store.get('data', b('a')), undefined)
      t.same(await store.get('data', b('b')), b('2'))
      t.same(await store.get('hints', b('a')), b('h'), 'other spaces untouched')
    })

    t.test('getMany keeps order and reports misses', async (t) => {
      const got = await store.getMany('data', [b('b'), b('zz'), b('b')])
      t.same(got, [b('2'), undefined, b('2')])
    })

    t.test('range pages in key order within bounds and one space', async (t) => {
      const ops = []
      for (let i = 0; i < 50; i++) ops.push({ space: 'data' as const, key: Buffer.from([0x10, i]), value: Buffer.from([i]) })
      ops.push({ space: 'hints' as const, key: Buffer.from([0x10, 7]), value: b('x') })
      await store.write(ops, false)
      const page = await store.range('data', { gte: Buffer.from([0x10, 5]), lt: Buffer.from([0x10, 20]), limit: 10 })
      t.equal(page.length, 10)
      t.same(page.map(([k]) => k[1]), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
      t.same(page[2][1], Buffer.from([7]), 'data space value, not the hint')
      const rest = await store.range('data', { gte: Buffer.from([0x10, 15]), lt: Buffer.from([0x10, 20]), limit: 100 })
      t.same(rest.map(([k]) => k[1]), [15, 16, 17, 18, 19])
      t.equal((await store.range('data', { limit: 1000 })).length, 51, 'no bounds: the whole space')
      t.equal((await store.range('data', { lt: Buffer.from([0x10, 3]), limit: 1000 })).length, 3, 'upper bound only')
      const binary = await store.range('data', { gte: Buffer.from([0x10, 49]), limit: 100 })
      t.same(binary.map(([k]) => k.toString('hex')), ['1031', '62'], 'keys compare as unsigned bytes')
    })

    t.test('a snapshot does not see later writes', async (t) => {
      await store.write([{ space: 'data', key: b('snap'), value: b('before') }], false)
      const snap = store.snapshot()
      await store.write([{ space: 'data', key: b('snap'), value: b('after') }, { space: 'data', key: b('snap2'), value: b('new') }], false)
      const seen = await store.range('data', { gte: b('snap'), lt: b('snaq'), limit: 10, snapshot: snap })
      t.same(seen.map(([k, v]) => [k.toString(), v.toString()]), [['snap', 'before']])
      await snap.close()
      const now = await store.range('data', { gte: b('snap'), lt: b('snaq'), limit: 10 })
      t.same(now.map(([k, v]) => [k.toString(), v.toString()]), [['snap', 'after'], ['snap2', 'new']])
    })

    t.test('getSync, the engine\'s read of a few misses, reads what get reads', async (t) => {
      t.equal(store.getSync('data', b('never written')), undefined, 'a missing key is undefined')
      await store.write([{ space: 'data', key: b('s'), value: b('data') }, { space: 'hints', key: b('s'), value: b('hint') }], true)
      t.same(store.getSync('data', b('s')), b('data'), 'a durable write is read at once')
      t.same(store.getSync('hints', b('s')), b('hint'), 'each space apart')
      t.equal(store.getSync('meta', b('s')), undefined)
      const binary = Buffer.from([0x00, 0xff, 0x10, 0x00])
      await store.write([{ space: 'data', key: binary, value: Buffer.from([0x00, 0x01]) }], false)
      t.same(store.getSync('data', binary), Buffer.from([0x00, 0x01]), 'binary keys and values')
      t.equal(store.getSync('data', binary.subarray(0, 3)), undefined, 'a prefix of a key is another key')
      await store.write([{ space: 'data', key: b('s'), value: null }], false)
      t.equal(store.getSync('data', b('s')), undefined, 'a delete is seen')
    })

    t.test('after any sequence of batches, get, getSync, getMany and range agree with a model', async (t) => {
      const spaces = ['data', 'hints', 'meta'] as const
      const op = fc.record({
        space: fc.constantFrom(...spaces),
        key: fc.uint8Array({ minLength: 1, maxLength: 4, max: 3 }).map(k => Buffer.from(k)),
        value: fc.option(fc.uint8Array({ maxLength: 8 }).map(v => Buffer.from(v)), { nil: null })
      })
      await fc.assert(fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }), fc.boolean(), async (batches, sync) => {
        for (const space of spaces) await store.clear(space)
        const model = new Map<string, Buffer>()
        const id = (space: string, k: Buffer): string => `${space}:${k.toString('hex')}`
        for (const batch of batches) {
          await store.write(batch, sync)
          for (const o of batch) {
            if (o.value === null) model.delete(id(o.space, o.key))
            else model.set(id(o.space, o.key), o.value)
          }
        }
        const keys = batches.flat()
        for (const o of keys) {
          const want = model.get(id(o.space, o.key))
          const [got, many] = [await store.get(o.space, o.key), await store.getMany(o.space, [o.key, o.key])]
          const sync = store.getSync(o.space, o.key)
          if (!sameBytes(got, want) || !sameBytes(sync, want) || !sameBytes(many[0], want) || !sameBytes(many[1], want)) return false
          if (want !== undefined && !store.mayHold(o.space, o.key)) return false // never proves a stored key absent
        }
        for (const space of spaces) {
          const rows = await store.range(space, { limit: 1000 })
          const expected = [...model].filter(([k]) => k.startsWith(space + ':')).map(([k, v]) => [k.slice(space.length + 1), v.toString('hex')]).sort((x, y) => Buffer.compare(Buffer.from(x[0], 'hex'), Buffer.from(y[0], 'hex')))
          if (JSON.stringify(rows.map(([k, v]) => [k.toString('hex'), v.toString('hex')])) !== JSON.stringify(expected)) return false
        }
        return true
      }), { numRuns: 60 })
      t.pass('60 random batch sequences, sync and not; mayHold true for every stored key')
      for (const space of spaces) await store.clear(space)
      await store.write([{ space: 'data', key: b('a'), value: b('1') }, { space: 'hints', key: b('a'), value: b('h') }], false)
    })

    t.test('mayHold proves a never-written data key absent, never a written one', async (t) => {
      t.equal(await store.filterBuilt(), true, 'the open-time scan has run')
      const written = Array.from({ length: 200 }, (_, i) => b(`w${i}`))
      await store.write(written.map(key => ({ space: 'data' as const, key, value: b('v') })), false)
      t.ok(written.every(k => store.mayHold('data', k)), 'every written key may be held')
      const never = Array.from({ length: 1000 }, (_, i) => b(`never${i}`))
      const proved = never.filter(k => !store.mayHold('data', k)).length
      t.ok(proved >= 990, `${proved} of 1000 never-written keys proved absent`)
      t.ok(store.mayHold('hints', b('never0')) && store.mayHold('meta', b('never0')), 'other spaces: never proved absent')
    })

    t.test('clear empties one space', async (t) => {
      await store.clear('data')
      t.same(await store.range('data', { limit: 10 }), [])
      t.same(await store.get('hints', b('a')), b('h'))
    })
  })
}

compliance('classic-level', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-store-'))
  return { store: classicLevelStore(dir, realClock), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
})
compliance('memory-level', () => ({ store: memoryLevelStore(), cleanup: () => {} }))

t.test('classic-level: data survives close and reopen; a second opener gets LOCKED', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const a = classicLevelStore(dir, realClock)
  await a.open()
  await a.write([{ space: 'data', key: b('k'), value: b('v') }], true)
  const second = classicLevelStore(dir, realClock)
  await t.rejects(second.open(), { code: 'DYNAKV_STORE_LOCKED', message: /is locked/ })
  await a.close()
  const c = classicLevelStore(dir, realClock)
  await c.open()
  t.same(await c.get('data', b('k')), b('v'))
  await c.close()
})

t.test('classic-level: batches written at once each apply once (their native batches are reused), and a closed store refuses a write', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = classicLevelStore(dir, realClock)
  await store.open()
  const put = (k: string, v: string): Array<{ space: 'data', key: Buffer, value: Buffer }> => [{ space: 'data', key: b(k), value: b(v) }]
  await Promise.all([store.write(put('k1', 'a'), true), store.write(put('k2', 'b'), true), store.write(put('k3', 'c'), false)])
  await store.write([{ space: 'data', key: b('k1'), value: null }], true)
  // Every batch of the first three is taken again: none may still hold its earlier put of k1.
  await Promise.all([store.write(put('k4', 'd'), true), store.write(put('k5', 'e'), true), store.write(put('k6', 'f'), true)])
  t.equal(await store.get('data', b('k1')), undefined, 'k1 stays deleted')
  t.same((await store.range('data', { limit: 100 })).map(([k, v]) => `${k.toString()}=${v.toString()}`), ['k2=b', 'k3=c', 'k4=d', 'k5=e', 'k6=f'])
  await store.close()
  await t.rejects(store.write(put('k7', 'g'), true), { code: 'LEVEL_DATABASE_NOT_OPEN' })
  const again = classicLevelStore(dir, realClock)
  await again.open()
  await again.write(put('k8', 'h'), true)
  t.same(await again.get('data', b('k8')), b('h'))
  t.same(await again.get('data', b('k2')), b('b'))
  t.equal(await again.get('data', b('k1')), undefined)
  await again.close()
})

t.test('classic-level: after a reopen, the scan puts every stored key in the filter', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const a = classicLevelStore(dir, realClock)
  await a.open()
  const keys = Array.from({ length: 2500 }, (_, i) => b(`k${i}`)) // more than two pages of the scan
  await a.write(keys.map(key => ({ space: 'data' as const, key, value: b('v') })), true)
  await a.close()
  const c = classicLevelStore(dir, realClock)
  await c.open()
  t.equal(await c.filterBuilt(), true)
  t.ok(keys.every(k => c.mayHold('data', k)), 'every key found at open may be held')
  const proved = Array.from({ length: 1000 }, (_, i) => b(`never${i}`)).filter(k => !c.mayHold('data', k)).length
  t.ok(proved >= 990, `${proved} of 1000 never-written keys proved absent`)
  await c.close()
  const d = classicLevelStore(dir, realClock)
  await d.open()
  await d.close() // closing while the scan runs: the scan stops, close does not fail
  t.pass('closed during the scan')
})

t.test('classic-level: tables a compaction replaced while an iterator held them are deleted, and unmapped, once it lets go', async (t) => {
  // LevelDB deletes a compaction's replaced tables when it ends, but not those
  // a read or an iterator held then: they stayed mapped (in RSS) until the
  // next compaction or flush, which on a node that only reads may be never.
  const dir = mkdtempSync(join(tmpdir(), 'dynakv-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = classicLevelStore(dir, realClock)
  await store.open()
  await store.filterBuilt()
  const db = (store as unknown as { db: ClassicLevel<Buffer, Buffer> }).db
  const past = b('\xff')
  for (let round = 0; round < 4; round++) { // four tables: a flush each
    await store.write(Array.from({ length: 500 }, (_, i) => ({ space: 'data' as const, key: b(`k${(i * 7 + round) % 1000}`), value: Buffer.alloc(100, round) })), true)
    await db.compactRange(past, past)
  }
  const tableFiles = (): number[] => readdirSync(dir).filter(f => f.endsWith('.ldb')).map(f => Number.parseInt(f, 10))
  const live = (): number[] => Array.from(db.getProperty('leveldb.sstables').matchAll(/^ (\d+):/gm), m => Number(m[1]))
  const before = live()
  t.ok(before.length >= 2, `${before.length} tables before the compaction`)
  const it = db.iterator()
  await it.next()
  await db.compactRange(b(''), past)
  const replaced = tableFiles().filter(n => !live().includes(n))
  t.same(replaced.sort(), before.sort(), 'the iterator holds every replaced table on disk')
  await it.close()
  let left = replaced
  for (let i = 0; i < 100 && left.length > 0; i++) { // the check runs every second: 10 s at most
    await new Promise(resolve => setTimeout(resolve, 100))
    left = tableFiles().filter(n => replaced.includes(n))
  }
  t.same(left, [], 'the replaced tables are deleted')
  t.equal(await (store as unknown as { releaseReplacedTables: () => Promise<boolean> }).releaseReplacedTables(), false, 'a check then finds none')
  t.same(await store.get('data', b('k3')), Buffer.alloc(100, 3), 'the data is intact')
  await store.close()
})

t.test('the filter holds every key written through the engine, though a write replacing a value (WriteOp.before) does not add its key again', async (t) => {
  // A small cache: overwrites find their key in the overlay, the cache or the store (loads), and deletes and
  // re-creations are mixed in; the store proves keys absent from its filter.
  const store = memoryLevelStore()
  await store.open()
  t.teardown(() => store.close())
  t.equal(await store.filterBuilt(), true)
  const engine = new Engine({ store, clock: realClock, sync: true, cacheBytes: 2048 })
  const key = (s: string) => ({ ks: s, skey: b(s) })
  const model = new Map<string, string | null>()
  let seed = 5
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % n }
  for (let tick = 0; tick < 200; tick++) {
    const writes: Array<Promise<unknown>> = []
    for (let i = 0; i < 1 + next(20); i++) {
      const k = 'f' + next(600)
      const value = next(6) === 0 ? null : `${tick}.${i}`
      writes.push(engine.update('data', key(k), () => ({ next: value === null ? null : { bytes: b(value) }, result: undefined })))
      model.set(k, value)
    }
    if (next(3) === 0) await Promise.all(writes)
  }
  await engine.flushed()
  const held = [...model].filter(([, v]) => v !== null).map(([k]) => k)
  t.ok(held.length > 300, `${held.length} keys hold a value`)
  t.same(held.filter(k => !store.mayHold('data', b(k))), [], 'none is proved absent')
  let wrong = 0
  for (const k of held) if ((await engine.read('data', key(k)))?.bytes.toString() !== model.get(k)) wrong++
  t.equal(wrong, 0, 'every one reads its last value')
})
