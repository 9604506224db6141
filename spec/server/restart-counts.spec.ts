// The key counts (DBSIZE, INFO keyspace) across restarts: a clean stop saves
// them and the next start takes them instead of reading every key
// (INFO key_counts_at_start:saved); a crash (kill -9) leaves none, and the
// next start counts every key (scanned). Either way the counts are right.

import t from 'tap'
import { Redis } from 'ioredis'
import { connectIoredis } from '../helpers/clients.js'
import { startServer, tempDir } from '../helpers/server.js'

async function infoField (r: Redis, field: string): Promise<string | undefined> {
  const info = await r.info()
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(info)?.[1]
}

async function counts (r: Redis): Promise<{ dbsize: number, keyspace: string | undefined, from: string | undefined }> {
  return { dbsize: await r.dbsize(), keyspace: await infoField(r, 'db0'), from: await infoField(r, 'key_counts_at_start') }
}

t.test('clean stops save the counts, a crash makes the next start count every key', async tt => {
  const dir = tempDir()
  let node = await startServer([], { t: tt, dir })
  let r = await connectIoredis(tt, node)
  tt.equal((await counts(r)).from, 'scanned', 'a first start counts')
  const p = r.pipeline()
  for (let i = 0; i < 500; i++) p.set(`k:${i}`, `v${i}`)
  for (let i = 0; i < 100; i++) p.set(`ttl:${i}`, 'v', 'EX', 3600)
  p.sadd('set', 'a', 'b')
  await p.exec()
  await r.del('k:0', 'k:1')
  const want = await counts(r)
  tt.equal(want.dbsize, 599)
  tt.match(want.keyspace ?? '', /^keys=599,expires=100,/)

  tt.equal(await node.stop(), 0, 'a clean stop')
  r.disconnect()
  node = await startServer([], { t: tt, dir })
  r = await connectIoredis(tt, node)
  let got = await counts(r)
  tt.equal(got.from, 'saved', 'the start took the saved counts')
  tt.equal(got.dbsize, 599)
  tt.match(got.keyspace ?? '', /^keys=599,expires=100,/)

  // Writes after a start from saved counts, then a crash: nothing saved any more.
  await r.set('k:new', 'x')
  await r.del('k:2')
  await r.set('k:3', 'overwritten')
  await node.kill9()
  r.disconnect()
  node = await startServer([], { t: tt, dir })
  r = await connectIoredis(tt, node)
  got = await counts(r)
  tt.equal(got.from, 'scanned', 'after kill -9 the start counts every key')
  tt.equal(got.dbsize, 599, 'one key added, one deleted, one overwritten')
  tt.match(got.keyspace ?? '', /^keys=599,expires=100,/)

  // And a crash right after a start from saved counts also scans (the record is gone once read).
  tt.equal(await node.stop(), 0)
  r.disconnect()
  node = await startServer([], { t: tt, dir })
  r = await connectIoredis(tt, node)
  tt.equal((await counts(r)).from, 'saved')
  await r.set('k:after', 'y')
  await node.kill9()
  r.disconnect()
  node = await startServer([], { t: tt, dir })
  r = await connectIoredis(tt, node)
  got = await counts(r)
  tt.equal(got.from, 'scanned', 'a saved record is not reused after a crash')
  tt.equal(got.dbsize, 600)
  await node.stop()
  r.disconnect()
})
