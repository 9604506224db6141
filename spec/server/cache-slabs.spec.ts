// The object cache reuses the slabs its hand has passed (lib/storage/cache.ts'
// header). A SET of a cached key reads its old record in place and keeps a
// view of the record's storage key until its batch commits: that key is what
// the store writes under and what the commit listeners see. Overwrites of
// cached keys through a small cache turn its slabs over many times while
// writes are in flight; after a restart every key must read its last value
// (a slab reused too early would have written some under another key's
// bytes). A real node process and real TCP clients.
import t from 'tap'
import { RawClient } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { Buffer } from 'node:buffer'

/** One RESP command. */
const cmd = (...args: Array<string | Buffer>): Buffer => Buffer.concat([
  Buffer.from(`*${args.length}\r\n`),
  ...args.flatMap(a => [Buffer.from(`$${Buffer.byteLength(a)}\r\n`), Buffer.from(a), Buffer.from('\r\n')])
])

function countOf (b: Buffer, s: string): number {
  let n = 0
  for (let at = b.indexOf(s); at >= 0; at = b.indexOf(s, at + s.length)) n++
  return n
}

t.test('overwrites of cached keys while the cache turns over: every key keeps its last value, across a restart', async t => {
  // 1 MB: slabs of 16 KB; 2 000 keys of ~200 B records fit, and each round of overwrites passes every slab.
  const node = await startServer(['--cache-mb', '1', '--sweep-interval-ms', '0', '--log-level', 'warn'])
  const c = await RawClient.connect(node.port)
  const keys = 2000
  const last = new Map<string, string>()
  let seed = 7
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % n }
  for (let round = 0; round < 30; round++) {
    // A pipelined run of SETs, partly of keys just written (their writes still pending), partly of older ones.
    const n = 500 + rnd(1500)
    const batch: Buffer[] = []
    for (let i = 0; i < n; i++) {
      const key = `key:${rnd(keys)}`
      const value = `${round}.${i}.`.padEnd(100 + rnd(100), 'v')
      last.set(key, value)
      batch.push(cmd('SET', key, value))
    }
    c.write(Buffer.concat(batch))
    await c.readUntil((b) => countOf(b, '+OK\r\n') >= n, 30_000)
  }
  const check = async (client: RawClient): Promise<number> => {
    let wrong = 0
    const names = [...last.keys()]
    client.write(Buffer.concat(names.map(k => cmd('GET', k))))
    const expected = names.map(k => `$${last.get(k)?.length ?? 0}\r\n${last.get(k) ?? ''}\r\n`).join('')
    const got = (await client.readUntil((b) => b.length >= expected.length, 30_000)).toString('latin1')
    for (let i = 0, at = 0; i < names.length; i++) {
      const one = `$${last.get(names[i])?.length ?? 0}\r\n${last.get(names[i]) ?? ''}\r\n`
      if (got.slice(at, at + one.length) !== one) wrong++
      at += one.length
    }
    return wrong
  }
  t.equal(await check(c), 0, `${last.size} keys read their last value`)
  c.close()
  const again = await node.restart()
  const d = await RawClient.connect(again.port)
  t.equal(await check(d), 0, 'and after a restart (read from the store: written under their own keys)')
  d.close()
})
