import t from 'tap'
import { ByteCache, ENTRY_OVERHEAD_BYTES, entryCost } from '../../lib/storage/cache.js'

const b = (s: string): Buffer => Buffer.from(s)
const text = (e: { bytes: Buffer } | null | undefined): string | undefined => e?.bytes.toString()

t.test('an entry costs the measured overhead, its key string and its bytes', async (t) => {
  t.equal(entryCost('abc', { bytes: Buffer.alloc(100), skey: Buffer.alloc(20) }), ENTRY_OVERHEAD_BYTES + 6 + 120)
  t.equal(entryCost('abc', null), ENTRY_OVERHEAD_BYTES + 6, 'a known-absent key costs its slot')
  const cache = new ByteCache(1 << 20)
  cache.set('abc', { bytes: Buffer.alloc(100) })
  t.equal(cache.sizeBytes, ENTRY_OVERHEAD_BYTES + 6 + 100)
  cache.set('abc', { bytes: Buffer.alloc(10) })
  t.equal(cache.sizeBytes, ENTRY_OVERHEAD_BYTES + 6 + 10, 'an overwrite counts the new size only')
  cache.delete('abc')
  t.equal(cache.sizeBytes, 0)
  t.equal(cache.count, 0)
})

t.test('never over its bound, whatever the mix of sets, hits, overwrites and deletes', async (t) => {
  const capacity = 50 * (ENTRY_OVERHEAD_BYTES + 200)
  const cache = new ByteCache(capacity)
  let seed = 7
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  for (let i = 0; i < 20_000; i++) {
    const key = 'k' + next(500)
    const op = next(10)
    if (op < 5) cache.set(key, next(20) === 0 ? null : { bytes: Buffer.alloc(next(400)) })
    else if (op < 9) cache.get(key)
    else cache.delete(key)
    if (cache.sizeBytes > capacity) t.fail(`over the bound after step ${i}: ${cache.sizeBytes}`)
  }
  let sum = 0
  // Whatever is left adds up to what the cache counts.
  for (let i = 0; i < 500; i++) {
    const e = cache.get('k' + i)
    if (e === undefined) continue
    sum += entryCost('k' + i, e)
  }
  t.equal(sum, cache.sizeBytes, 'the count is the sum of what is cached')
  t.ok(cache.count * ENTRY_OVERHEAD_BYTES <= capacity)
})

t.test('second chance: a key read since the hand last passed is moved last; cold keys go oldest first, old ones too', async (t) => {
  const per = entryCost('k00', { bytes: b('v') })
  const cache = new ByteCache(10 * per)
  for (let i = 0; i < 10; i++) cache.set('k0' + i, { bytes: b('v') })
  cache.get('k00')
  cache.get('k03')
  // Each new key evicts one: k01, k02, k04, ... in insertion order, skipping the two read.
  cache.set('k10', { bytes: b('v') })
  t.equal(cache.get('k01'), undefined, 'the oldest cold key went first')
  t.equal(text(cache.get('k00')), 'v')
  cache.get('k00')
  cache.set('k11', { bytes: b('v') })
  cache.set('k12', { bytes: b('v') })
  t.equal(cache.get('k02'), undefined)
  t.equal(cache.get('k04'), undefined, 'k03 was read: k04 went instead')
  t.equal(text(cache.get('k03')), 'v')
  t.equal(cache.count, 10)
  // A long run of new keys replaces every key not read again, the old ones as well (a hand that
  // wrapped around would chase the new keys appended just ahead of it and keep k00 and k03 for ever).
  for (let i = 0; i < 40; i++) cache.set('n' + String(i).padStart(2, '0'), { bytes: b('v') })
  t.equal(cache.get('k03'), undefined, 'a key read once, then not again, is evicted')
  t.equal(cache.get('k00'), undefined, 'so is the key read twice')
  t.equal(text(cache.get('n39')), 'v', 'the newest key is there')
  t.ok(cache.sizeBytes <= 10 * per)
})

t.test('a hot key survives a stream of new keys; known-absent keys; an oversized entry is not kept', async (t) => {
  const cache = new ByteCache(20 * entryCost('k000', { bytes: b('000') }))
  for (let i = 0; i < 1000; i++) {
    cache.set('k' + String(i).padStart(3, '0'), { bytes: b(String(i).padStart(3, '0')) })
    cache.get('k000')
  }
  t.equal(text(cache.get('k000')), '000', 'hot entry survived')
  t.equal(cache.get('k001'), undefined, 'cold entry evicted')
  cache.set('absent', null)
  t.equal(cache.get('absent'), null, 'a known-absent key')
  cache.set('absent', { bytes: b('now here') })
  t.equal(text(cache.get('absent')), 'now here', 'updated in place')
  cache.set('huge', { bytes: Buffer.alloc(cache.sizeBytes) })
  t.equal(cache.get('huge'), undefined, 'an entry over a quarter of the cache is not kept')
  cache.clear()
  t.equal(cache.count, 0)
  t.equal(cache.sizeBytes, 0)
  cache.set('after', { bytes: b('x') })
  t.equal(text(cache.get('after')), 'x', 'usable after clear')
})

t.test('a cache of 0 bytes keeps nothing', async (t) => {
  const cache = new ByteCache(0)
  cache.set('a', { bytes: b('x') })
  t.equal(cache.get('a'), undefined)
  t.equal(cache.sizeBytes, 0)
})

t.test('small values are copied into shared slabs (the caller keeps its Buffer), moved ones are copied again, large ones kept', async (t) => {
  const cache = new ByteCache(1 << 30)
  const original = Buffer.from('v'.repeat(113))
  cache.set('a', { bytes: original, derived: { memo: true } })
  original.fill('w')
  const a = cache.get('a')
  t.equal(text(a), 'v'.repeat(113), 'a copy: a later change to the Buffer handed in does not reach the cache')
  t.equal(a?.derived, undefined, 'what was derived from the old bytes is not kept beside the copy')
  cache.set('b', { bytes: b('second') })
  t.equal(cache.get('a')?.bytes.buffer, cache.get('b')?.bytes.buffer, 'small values share a slab')
  t.not(cache.get('a')?.bytes.buffer, original.buffer)
  const large = Buffer.alloc(4096, 1)
  cache.set('c', { bytes: large, derived: 'kept' })
  t.equal(cache.get('c')?.bytes, large, 'a large value keeps its own allocation')
  t.equal(cache.get('c')?.derived, 'kept')

  // A hot slot the hand moves gets its bytes copied into the newest slab: once the
  // hand has passed every slot of a slab, no slot refers to it.
  const name = (i: number): string => `k${String(i).padStart(4, '0')}`
  const small = new ByteCache(entryCost(name(0), { bytes: Buffer.alloc(100) }) * 300)
  for (let i = 0; i < 300; i++) small.set(name(i), { bytes: Buffer.alloc(100, i % 256) })
  const firstSlab = small.get(name(0))?.bytes.buffer
  for (let i = 300; i < 600; i++) small.set(name(i), { bytes: Buffer.alloc(100, i % 256) })
  const moved = small.get(name(0))
  t.ok(moved !== undefined && moved !== null, 'the hot key survived the hand')
  t.same(moved?.bytes, Buffer.alloc(100, 0), 'with its bytes')
  t.not(moved?.bytes.buffer, firstSlab, 'now in a newer slab')
  let firstSlabRefs = 0
  for (let i = 0; i < 600; i++) if (small.get(name(i))?.bytes.buffer === firstSlab) firstSlabRefs++
  t.equal(firstSlabRefs, 0, 'no cached slot refers to the first slab any more')
})
