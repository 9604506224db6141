import t from 'tap'
import { ByteCache, ENTRY_OVERHEAD_BYTES, SlabEntry, entryCost, hashOf, hashOfBytes } from '../../lib/storage/cache.js'

const b = (s: string): Buffer => Buffer.from(s)
/** getBytes's answer as a view of the value's range in the slab. */
function bytesOf (cache: ByteCache, key: Buffer): Buffer | null | undefined {
  const range = { start: -1, end: -1 }
  const slab = cache.getBytes(key, range)
  return slab == null ? slab : slab.subarray(range.start, range.end)
}
const text = (e: { bytes: Buffer } | null | undefined): string | undefined => e?.bytes.toString()
const name = (i: number): string => `key:${String(i).padStart(12, '0')}`

t.test('an entry costs about its bytes: the slabs and the table are what the cache counts', async (t) => {
  t.equal(entryCost('abc', { bytes: Buffer.alloc(100), skey: Buffer.alloc(20) }), ENTRY_OVERHEAD_BYTES + 3 + 120)
  t.equal(entryCost('abc', null), ENTRY_OVERHEAD_BYTES + 3, 'a known-absent key costs its record and slot')
  const cache = new ByteCache(1 << 30)
  const skey = Buffer.alloc(33, 7)
  for (let i = 0; i < 10_000; i++) cache.set(name(i), { bytes: Buffer.alloc(113, i % 256), skey })
  const per = cache.sizeBytes / cache.count
  t.ok(per >= 16 + 33 + 113 + 13 && per <= 16 + 33 + 113 + 13 + 64, `${per.toFixed(1)} B an entry: record (13 B header, key, storage key, value) and table slot`)
  t.ok(per <= entryCost(name(0), { bytes: Buffer.alloc(113), skey }) + 30, 'the estimate is near what is held')
  const e = cache.get(name(5))
  t.same(e?.bytes, Buffer.alloc(113, 5))
  t.same(e?.skey, skey, 'the storage key comes back')
  t.equal(cache.get(name(5))?.derived, undefined)
  cache.delete(name(5))
  t.equal(cache.get(name(5)), undefined)
  t.equal(cache.count, 9_999)
  cache.clear()
  t.equal(cache.count, 0)
  t.ok(cache.sizeBytes < 1024, 'clear lets the slabs go')
})

t.test('never over its bound, and never a stale value, whatever the mix of sets, hits, overwrites and deletes', async (t) => {
  for (const capacity of [4096, 50_000, 1 << 20]) {
    const cache = new ByteCache(capacity)
    const model = new Map<string, string | null>()
    let seed = 7
    const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
    let hits = 0
    let bad = 0
    const inPlace = new SlabEntry()
    const byBytesInPlace = new SlabEntry()
    /** Where each key's value was last read in place: the writer's hint to set, stale once the record moved, was overwritten or deleted. */
    const reads = new Map<string, { slab: Buffer, start: number }>()
    for (let i = 0; i < 30_000; i++) {
      const key = (next(4) === 0 ? '\u0100' : 'k') + next(2000)
      const op = next(10)
      if (op < 5) {
        const value = next(20) === 0 ? null : String(i).repeat(next(40))
        const read = next(2) === 0 ? reads.get(key) : undefined
        cache.set(key, value === null ? null : { bytes: b(value), skey: next(2) === 0 ? undefined : b('s' + key) }, hashOf(key), read?.slab, read?.start)
        model.set(key, value)
      } else if (op < 9) {
        // A key record's key is also looked up by its bytes (a cached GET): the same answer; an element's never.
        const plain = key.charCodeAt(0) === 0x100 ? key.slice(1) : key
        const byBytes = bytesOf(cache, b(plain))
        const same = cache.get(plain)
        if ((byBytes === undefined) !== (same === undefined) || (byBytes === null) !== (same === null) || (byBytes != null && !byBytes.equals((same as { bytes: Buffer }).bytes))) bad++
        const e = cache.get(key)
        // The write's read in place (one SlabEntry refilled): the same answer, value and storage key.
        const r = cache.getInPlace(key, inPlace)
        if (r != null) reads.set(key, { slab: r.slab, start: r.start })
        // A key record's key read in place by its bytes (Engine.write's, with its KeyRef's bytes): the same record.
        if (key === plain) {
          const kb = Buffer.from(key, 'latin1')
          const rb = cache.getInPlace(key, byBytesInPlace, hashOfBytes(kb), kb)
          if ((rb === undefined) !== (r === undefined) || (rb === null) !== (r === null) || (rb != null && r != null && (rb.slab !== r.slab || rb.start !== r.start || rb.end !== r.end))) bad++
        }
        if ((r === undefined) !== (e === undefined) || (r === null) !== (e === null)) bad++
        else if (r != null && e != null && (r !== inPlace || !r.bytes.equals(e.bytes) || r.slab.subarray(r.start, r.end).toString() !== e.bytes.toString() ||
          (r.skey === undefined) !== (e.skey === undefined) || (r.skey !== undefined && !r.skey.equals(e.skey as Buffer)))) bad++
        if (e === undefined) continue
        hits++
        if ((e === null ? null : e.bytes.toString()) !== model.get(key)) bad++
        if (e !== null && e.skey !== undefined && !e.skey.equals(b('s' + key))) bad++
      } else {
        cache.delete(key)
        model.delete(key)
      }
      if (cache.sizeBytes > capacity) t.fail(`over the bound after step ${i}: ${cache.sizeBytes} > ${capacity}`)
    }
    t.equal(bad, 0, `capacity ${capacity}: every hit is the last value set (${hits} hits)`)
    t.ok(hits > 1000, 'it does hold things')
    let held = 0
    for (const key of model.keys()) if (cache.get(key) !== undefined) held++
    t.equal(held, cache.count, 'count is what a lookup finds')
    t.equal(liveBytesOf(cache), (cache as unknown as { liveBytes: number }).liveBytes, 'the live bytes counted are the live records\' (what eviction decides by)')
  }
})

/** Whether the cache holds the key, looked up without marking it read. */
function isCached (cache: ByteCache, key: string): boolean {
  return (cache as unknown as { find: (hash: number, key: string) => number }).find(hashOf(key), key) !== -1
}

/** The bytes of the records the tables point at, counted from the records themselves. */
function liveBytesOf (cache: ByteCache): number {
  const c = cache as unknown as { positions: Float64Array, oldPositions: Float64Array | null, slabs: Buffer[], firstSeq: number }
  let sum = 0
  for (const table of [c.positions, c.oldPositions ?? new Float64Array(0)]) {
    for (const pos of table) {
      if (pos <= 0) continue
      const slab = c.slabs[Math.floor(pos / 2 ** 21) - c.firstSeq]
      const at = pos % 2 ** 21
      sum += 13 + slab.readUInt16LE(at + 4) + Math.max(slab.readUInt16LE(at + 6) - 1, 0) + slab.readUInt32LE(at + 8)
    }
  }
  return sum
}

t.test('second chance: a key read since the hand last passed survives a round; cold keys go oldest first, old ones too', async (t) => {
  const capacity = 64 * 1024
  const cache = new ByteCache(capacity)
  const v = Buffer.alloc(100, 1)
  let n = 0
  while (cache.count === n) cache.set(name(n++), { bytes: v }) // until the first eviction
  const full = cache.count
  t.ok(full > 200, `${full} entries fit`)
  t.equal(cache.get(name(0)), undefined, 'the oldest went first')
  // (The eviction that made room may have taken several: the table's growth holds two tables a while.)
  let first = 1
  while (cache.get(name(first)) === undefined) first++
  t.ok(first < full / 2, `the oldest ${first} went`)
  const newest = n - 1
  cache.get(name(first + 10))
  cache.get(name(first + 20))
  // New keys until the hand has passed the first fill (its newest key gone; within twice as many sets as
  // it had): every old key not read is gone, the two read ones are not. (Peeked without a read: get sets
  // the hot bit.)
  const bound = n
  for (let i = 0; i < 2 * bound && isCached(cache, name(newest)); i++) cache.set(name(n++), { bytes: v })
  t.equal(cache.get(name(newest)), undefined, 'the newest of the first fill went')
  t.equal(cache.get(name(first + 11)), undefined, 'so did a cold key')
  t.ok(cache.get(name(first + 10)) !== undefined && cache.get(name(first + 20)) !== undefined, 'the keys read were moved, not evicted')
  // A long run of new keys replaces every key not read again (a hand that wrapped around
  // would chase the new keys appended just ahead of it and keep the moved ones for ever).
  for (let i = 0; i < 3 * full; i++) cache.set(name(n++), { bytes: v })
  t.equal(cache.get(name(first + 10)), undefined, 'a key read, then not again, is evicted')
  t.same(cache.get(name(n - 1))?.bytes, v, 'the newest key is there')
  t.ok(cache.sizeBytes <= capacity)
})

t.test('a hot key survives a stream of new keys; known-absent keys; an oversized entry is not kept', async (t) => {
  const cache = new ByteCache(16 * 1024)
  for (let i = 0; i < 5000; i++) {
    cache.set('k' + String(i).padStart(4, '0'), { bytes: b(String(i).padStart(4, '0')) })
    cache.get('k0000')
  }
  t.equal(text(cache.get('k0000')), '0000', 'hot entry survived')
  t.equal(cache.get('k0001'), undefined, 'cold entry evicted')
  cache.set('absent', null)
  t.equal(cache.get('absent'), null, 'a known-absent key')
  cache.set('absent', { bytes: b('now here') })
  t.equal(text(cache.get('absent')), 'now here', 'overwritten')
  cache.set('huge', { bytes: Buffer.alloc(4097) })
  t.equal(cache.get('huge'), undefined, 'an entry over a quarter of the cache is not kept')
  cache.set('k0000', { bytes: Buffer.alloc(8000) })
  t.equal(cache.get('k0000'), undefined, 'nor is an oversized overwrite: the old value goes')
  cache.set('\u0101 not latin1', { bytes: b('x') })
  t.equal(cache.get('\u0101 not latin1'), undefined, 'a key that is not latin1 (but for a leading U+0100) is not kept')
  cache.set('\u0100element', { bytes: b('e') })
  t.equal(text(cache.get('\u0100element')), 'e', 'an element record\'s key is')
  t.equal(cache.get('element'), undefined, 'and is not the same key as without its U+0100')
  cache.clear()
  t.equal(cache.count, 0)
  cache.set('after', { bytes: b('x') })
  t.equal(text(cache.get('after')), 'x', 'usable after clear')
})

t.test('a cache of 0 bytes keeps nothing', async (t) => {
  const cache = new ByteCache(0)
  cache.set('a', { bytes: b('x') })
  t.equal(cache.get('a'), undefined)
  t.equal(cache.sizeBytes, 0)
})

t.test('values are copied (the caller keeps its Buffer); an entry handed out stays valid after overwrites and evictions', async (t) => {
  const cache = new ByteCache(32 * 1024)
  const original = Buffer.from('v'.repeat(113))
  cache.set('a', { bytes: original, derived: { memo: true } })
  original.fill('w')
  const a = cache.get('a')
  t.equal(text(a), 'v'.repeat(113), 'a copy: a later change to the Buffer handed in does not reach the cache')
  t.equal(a?.derived, undefined, 'what was derived is not kept: a reader memoises on the entry it was handed')
  for (let i = 0; i < 5000; i++) cache.set(i % 2 === 0 ? 'a' : name(i), { bytes: Buffer.alloc(113, i % 256) })
  t.equal(text(a), 'v'.repeat(113), 'the entry read before still holds its bytes: its slab is pinned, never reused')
  const large = Buffer.alloc(4096, 1)
  cache.set('c', { bytes: large })
  t.same(cache.get('c')?.bytes, large, 'a value larger than a slab gets a slab of its own')
})

t.test('while the table grows (its entries move a few per set), every key is found once, overwritten and deleted as in one table', async (t) => {
  const cache = new ByteCache(1 << 30)
  const model = new Map<string, string>()
  let bad = 0
  for (let i = 0; i < 60_000; i++) {
    cache.set(name(i), { bytes: b(`v${i}`) })
    model.set(name(i), `v${i}`)
    if (i % 3 === 0) {
      cache.set(name(i >> 1), { bytes: b(`w${i}`) })
      model.set(name(i >> 1), `w${i}`)
    }
    if (i % 5 === 0) {
      cache.delete(name(Math.floor(i / 3)))
      model.delete(name(Math.floor(i / 3)))
    }
    if (i % 7 === 0) {
      const k = name((i * 7919) % (i + 1))
      if (text(cache.get(k)) !== model.get(k) || bytesOf(cache, b(k))?.toString() !== model.get(k)) bad++
    }
  }
  t.equal(bad, 0, 'every lookup on the way agrees with the model')
  t.equal(cache.count, model.size)
  let wrong = 0
  for (let i = 0; i < 60_000; i++) if (text(cache.get(name(i))) !== model.get(name(i))) wrong++
  t.equal(wrong, 0, 'and every key at the end')
})

t.test('a working set that fits in half the cache stays whole under overwrites: no write of it misses', async (t) => {
  const capacity = 256 * 1024
  const cache = new ByteCache(capacity)
  const keys = 400 // ~140 B a record: ~56 KB live, under half the capacity
  let seed = 11
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  for (let k = 0; k < keys; k++) cache.set(name(k), { bytes: Buffer.alloc(100, k % 256), skey: b('s' + String(k)) })
  let misses = 0
  // Overwrites only (no reads): 50 passes of the cache's bytes, so the hand passes every record many times.
  for (let i = 0; i < 100_000; i++) {
    const k = next(keys)
    if (cache.get(name(k)) === undefined) misses++
    cache.set(name(k), { bytes: Buffer.alloc(100, i % 256), skey: b('s' + String(k)) })
    if (cache.sizeBytes > capacity) t.fail(`over the bound after step ${i}`)
  }
  t.equal(misses, 0, 'every key written stays cached')
  t.equal(cache.count, keys)
  // Then a set larger than the cache: cold keys go again, and the bound holds.
  for (let i = 0; i < 20_000; i++) cache.set(name(keys + i), { bytes: Buffer.alloc(100, 1) })
  t.ok(cache.sizeBytes <= capacity)
  t.equal(cache.get(name(0)), undefined, 'an old cold key went once the live records passed half the capacity')
})

t.test('set finds a key by the record its writer read only while the table points at that record: two keys of one hash stay apart', async (t) => {
  // k32728 and k261234 have the same hashOf: one probe run, told apart by their records.
  const [a, z] = ['k32728', 'k261234']
  t.equal(hashOf(a), hashOf(z))
  t.equal(hashOfBytes(b(a)), hashOf(a), 'a key hashed from its bytes hashes as its string')
  const cache = new ByteCache(1 << 20)
  cache.set(z, { bytes: b('z1') })
  cache.set(a, { bytes: b('a1') })
  const inPlace = new SlabEntry()
  const read = cache.getInPlace(a, inPlace) as SlabEntry
  const [slab, start] = [read.slab, read.start]
  // z's record is in the same slab, ahead of a's in the probe run: only a's own record may match a's hint.
  cache.set(a, { bytes: b('a2') }, hashOf(a), slab, start)
  t.equal(text(cache.get(z)), 'z1', 'the other key of the hash is untouched')
  t.equal(text(cache.get(a)), 'a2')
  t.equal(cache.count, 2)
  // The hint is now stale (a's record is the new one): a second write with it still finds a's slot, and z's hint is another record.
  cache.set(a, { bytes: b('a3') }, hashOf(a), slab, start)
  cache.delete(z)
  cache.set(z, { bytes: b('z2') }, hashOf(z), slab, start)
  t.equal(text(cache.get(a)), 'a3')
  t.equal(text(cache.get(z)), 'z2')
  t.equal(cache.count, 2, 'one slot a key')
  // Looked up by their bytes (compared, not their char codes): each its own record.
  const zb = cache.getInPlace(z, inPlace, hashOfBytes(b(z)), b(z)) as SlabEntry
  t.equal(zb.bytes.toString(), 'z2', 'the other key of the hash, by its bytes')
  t.equal((cache.getInPlace(a, inPlace, hashOfBytes(b(a)), b(a)) as SlabEntry).bytes.toString(), 'a3')
})

t.test('hashOfBytes of a key\'s bytes is hashOf of their latin1 string, every byte value', async (t) => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  t.equal(hashOfBytes(all), hashOf(all.toString('latin1')))
  for (let i = 0; i < 256; i++) {
    const one = all.subarray(i, i + 1)
    if (hashOfBytes(one) !== hashOf(one.toString('latin1'))) t.fail(`byte ${i}`)
  }
  t.equal(hashOfBytes(Buffer.alloc(0)), hashOf(''))
})

/** Sets n new keys of 200-byte values (SET-heavy churn): the hand passes and drops slabs. */
function churn (cache: ByteCache, from: number, n: number): number {
  const v = Buffer.alloc(200, 7)
  for (let i = 0; i < n; i++) cache.set(`churn:${from + i}`, { bytes: v })
  return from + n
}

t.test('slabs the hand passed are reused: a write-heavy load allocates none once the cache is full, and stays under its capacity', async (t) => {
  const capacity = 1 << 20
  const cache = new ByteCache(capacity)
  let n = churn(cache, 0, 20_000) // ~4.5 MB through a 1 MB cache
  const allocated = cache.slabsAllocated
  n = churn(cache, n, 50_000)
  t.equal(cache.slabsAllocated, allocated, `no slab allocated over 50 000 more sets (${allocated} before)`)
  t.ok(cache.sizeBytes <= capacity, `${cache.sizeBytes} B held, spares included, under ${capacity}`)
  // Epochs that open and settle (an owner's batches committing), each appending less than a slab: the same.
  for (let i = 0; i < 1000; i++) {
    cache.epoch++
    n = churn(cache, n, 50)
    cache.release(cache.epoch)
  }
  t.equal(cache.slabsAllocated, allocated, 'none either while epochs open and settle')
})

t.test('a view a reader may keep stays valid: get pins its slab, getBytes pins a large value\'s', async (t) => {
  // (16 MB: slabs of 256 KB, which a 20 KB value shares with others)
  const capacity = 16 << 20
  const cache = new ByteCache(capacity)
  let n = churn(cache, 0, 100_000)
  // get: a CachedEntry (value and storage-key views) kept across any number of writes.
  const v = Buffer.alloc(100, 0x61)
  cache.set('kept', { bytes: v, skey: b('skey-of-kept') })
  const entry = cache.get('kept')
  // getBytes: a value the reply writer would hand the socket by reference.
  // (each after 2 000 sets: a slab of its own)
  n = churn(cache, n, 2_000)
  const big = Buffer.alloc(20_000, 0x62)
  cache.set('big', { bytes: big })
  const range = { start: 0, end: 0 }
  const bigSlab = cache.getBytes(b('big'), range) as Buffer
  const bigView = bigSlab.subarray(range.start, range.end)
  // A small value getBytes found is copied by its caller at once: its slab is reused.
  n = churn(cache, n, 2_000)
  cache.set('small', { bytes: Buffer.alloc(100, 0x64) })
  const smallSlab = cache.getBytes(b('small'), range) as Buffer
  const smallView = smallSlab.subarray(range.start, range.end)
  const before = cache.slabsAllocated
  n = churn(cache, n, 200_000) // the hand passes their slabs, several times over
  t.notOk(isCached(cache, 'kept') || isCached(cache, 'big') || isCached(cache, 'small'), 'all three evicted, their slabs passed')
  t.ok(cache.slabsAllocated - before <= 2, `${cache.slabsAllocated - before} slabs allocated: the pinned ones' successors at most`)
  t.equal(entry?.bytes.toString(), v.toString(), 'the CachedEntry\'s value')
  t.equal(entry?.skey?.toString(), 'skey-of-kept', 'and its storage key')
  t.ok(bigView.equals(big), 'the large value getBytes found')
  t.notOk(smallView.equals(Buffer.alloc(100, 0x64)), 'the small one\'s slab was reused (nothing pins it)')
  t.ok(cache.sizeBytes <= capacity)
})

t.test('an in-place read\'s slab is not reused before its epoch settles', async (t) => {
  const capacity = 1 << 20
  const cache = new ByteCache(capacity)
  let n = churn(cache, 0, 10_000)
  cache.set('inplace', { bytes: Buffer.alloc(100, 0x63), skey: b('skey-of-inplace') })
  cache.epoch++ // the owner's batch opens; its write reads the record in place and keeps views of it
  const inPlace = cache.getInPlace('inplace', new SlabEntry()) as SlabEntry
  const skeyView = inPlace.skey as Buffer
  const valueView = inPlace.bytes
  const before = cache.slabsAllocated
  n = churn(cache, n, 20_000)
  t.notOk(isCached(cache, 'inplace'), 'evicted, its slab passed')
  t.ok(cache.slabsAllocated > before, 'the epoch not settled: slabs allocated meanwhile')
  t.equal(skeyView.toString(), 'skey-of-inplace', 'the in-place read\'s storage key')
  t.ok(valueView.equals(Buffer.alloc(100, 0x63)), 'and its value')
  cache.release(cache.epoch)
  const settled = cache.slabsAllocated
  n = churn(cache, n, 20_000)
  t.equal(cache.slabsAllocated, settled, 'no slab allocated once the epoch settled')
  t.ok(cache.sizeBytes <= capacity)
})
