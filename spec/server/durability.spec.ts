// Durability of one node's data directory across restarts: a clean stop
// (SIGTERM, exit 0) and a crash (SIGKILL right after the replies arrived; the
// node fsyncs acknowledged writes by default, docs/design.md#storage-and-durability).

import t from 'tap'
import { Redis } from 'ioredis'
import { dynamo } from '../../lib/client/index.js'
import { connectIoredis } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'

/** Reads every key in batches of 200 with MGET; returns key → value (null: absent). */
async function readAll (r: Redis, keys: string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>()
  for (let i = 0; i < keys.length; i += 200) {
    const batch = keys.slice(i, i + 200)
    const values = await r.mget(...batch)
    batch.forEach((k, j) => out.set(k, values[j]))
  }
  return out
}

function mismatches (got: Map<string, string | null>, want: Map<string, string | null>): string[] {
  const bad: string[] = []
  for (const [k, v] of want) {
    const g = got.get(k) ?? null
    if (g !== v) bad.push(`${k}: want ${v === null ? 'nil' : JSON.stringify(v.slice(0, 20))}, got ${g === null ? 'nil' : JSON.stringify(g.slice(0, 20))}`)
  }
  return bad
}

t.test('SIGTERM exits 0; a restart on the same --dir reads back 2000 keys exactly', async tt => {
  let node = await startServer([], { t: tt })
  let r = await connectIoredis(tt, node)
  const kv = dynamo(r)
  const want = new Map<string, string | null>()
  const keys = Array.from({ length: 2000 }, (_, i) => `dur:${i}`)
  const value = (i: number): string => i % 250 === 0 ? `big-${i}-` + 'x'.repeat(32 * 1024) : `value-${i}`

  // Writes: two thirds SET (pipelined), one third PUT with an empty context.
  for (let i = 0; i < keys.length; i += 100) {
    const p = r.pipeline()
    const puts: Array<Promise<string>> = []
    for (let j = i; j < i + 100; j++) {
      if (j % 3 === 0) puts.push(kv.put(keys[j], '', value(j)))
      else p.set(keys[j], value(j))
      want.set(keys[j], value(j))
    }
    const res = await p.exec()
    tt.ok(res?.every(([e]) => e === null), `batch ${i}: SETs acknowledged`)
    await Promise.all(puts)
  }
  // Deletes after the writes were acknowledged: DEL on some, DELCTX on others.
  for (let i = 0; i < keys.length; i += 7) {
    if (i % 2 === 0) {
      tt.equal(await r.del(keys[i]), 1, `DEL ${keys[i]}`)
    } else {
      const { context } = await kv.getWithContext(keys[i])
      await kv.del(keys[i], context)
    }
    want.set(keys[i], null)
  }
  // Siblings survive too.
  const stale = await kv.put('dur:sib', '', 'base')
  await kv.put('dur:sib', stale, 'left')
  await kv.put('dur:sib', stale, 'right')
  const live = [...want.values()].filter(v => v !== null).length + 1

  tt.same(mismatches(await readAll(r, keys), want), [], 'before the stop: every key as written')
  tt.equal(await r.dbsize(), live, 'DBSIZE before the stop')

  r.disconnect()
  const code = await node.stop('SIGTERM')
  tt.equal(code, 0, 'SIGTERM: exit code 0')
  tt.notMatch(node.output(), /\n\s+at /, 'no stack trace on the way out')

  node = await node.restart()
  r = await connectIoredis(tt, node)
  tt.same(mismatches(await readAll(r, keys), want), [], 'after the restart: every key reads back exactly, deleted ones absent')
  tt.equal(await r.dbsize(), live, 'DBSIZE matches after the restart')
  tt.same((await dynamo(r).getWithContext('dur:sib')).values.sort(), ['left', 'right'], 'siblings survive the restart')
  tt.equal(await r.set('dur:after', 'ok'), 'OK', 'the restarted node takes writes')
  tt.equal(await r.get('dur:after'), 'ok')
})

t.test('SHUTDOWN (redis-cli shutdown) stops the node as SIGTERM does: no reply, exit 0, the data there after a restart', async tt => {
  let node = await startServer([], { t: tt })
  let r = await connectIoredis(tt, node)
  await r.pipeline().set('shut:a', '1').sadd('shut:s', 'x', 'y').incr('shut:c').exec()
  tt.equal(await r.call('SHUTDOWN', 'ABORT').catch((e: Error) => e.message), 'ERR No shutdown in progress.', 'SHUTDOWN ABORT with none in progress')
  tt.equal(await r.call('SHUTDOWN', 'NOSAVE', 'SAVE').catch((e: Error) => e.message), 'ERR syntax error', 'NOSAVE and SAVE together')
  tt.equal(await r.multi().call('SHUTDOWN').exec().catch((e: Error) => e.message), 'EXECABORT Transaction discarded because of previous errors.', 'not inside MULTI')
  const replied = await r.call('SHUTDOWN', 'NOW').then(v => `replied ${String(v)}`, (e: Error) => `closed: ${e.message}`)
  tt.match(replied, /^closed/, `no reply; the connection closed (${replied})`)
  const exit = await node.exited
  tt.same(exit, { code: 0, signal: null }, 'the process exited 0')
  tt.match(node.output(), /SHUTDOWN: stopping/, 'it said why it stopped')
  node = await node.restart()
  r = await connectIoredis(tt, node)
  tt.same([await r.get('shut:a'), (await r.smembers('shut:s')).sort(), await r.get('shut:c')], ['1', ['x', 'y'], '1'], 'the writes are there after the restart')
})

t.test('SIGKILL right after acknowledged writes: a restart has every one of them', async tt => {
  let node = await startServer([], { t: tt })
  let r = await connectIoredis(tt, node)
  const kv = dynamo(r)
  const want = new Map<string, string | null>()
  const keys = Array.from({ length: 1000 }, (_, i) => `crash:${i}`)
  for (let i = 0; i < keys.length; i += 50) {
    const p = r.pipeline()
    for (let j = i; j < i + 50; j++) {
      if (j % 4 === 0) continue
      p.set(keys[j], `v${j}`)
      want.set(keys[j], `v${j}`)
    }
    await p.exec()
  }
  await Promise.all(keys.filter((_, j) => j % 4 === 0).map(async (k, n) => {
    await kv.put(k, '', `put${n}`)
    want.set(k, `put${n}`)
  }))
  for (let j = 1; j < keys.length; j += 10) {
    await r.del(keys[j])
    want.set(keys[j], null)
  }
  // The last writes, acknowledged, then kill -9 at once.
  const last = await r.pipeline().set('crash:last', 'L').incr('crash:counter').incr('crash:counter').exec()
  tt.same(last?.map(([, v]) => v), ['OK', 1, 2], 'last writes acknowledged')
  want.set('crash:last', 'L')
  want.set('crash:counter', '2')
  await node.kill9()
  tt.equal(node.exitSignal, 'SIGKILL', 'killed with SIGKILL')

  node = await node.restart()
  r = await connectIoredis(tt, node)
  const all = [...want.keys()]
  tt.same(mismatches(await readAll(r, all), want), [], 'every acknowledged write survived kill -9')
  tt.equal(await r.dbsize(), [...want.values()].filter(v => v !== null).length, 'DBSIZE matches')
})

t.test('SIGKILL during a write load: every write acknowledged before the kill survives', async tt => {
  let node = await startServer([], { t: tt })
  const writers = 4
  const acked = new Map<string, number>()
  const clients = await Promise.all(Array.from({ length: writers }, async () => await connectIoredis(tt, node)))
  let stop = false
  const loops = clients.map(async (r, w) => {
    // Each writer owns 25 keys and writes increasing values to them in turn.
    for (let n = 1; !stop && n <= 100_000; n++) {
      const key = `load:${w}:${n % 25}`
      try {
        await r.set(key, String(n))
      } catch {
        return
      }
      if (!stop) acked.set(key, n)
    }
  })
  await new Promise(resolve => setTimeout(resolve, 1500))
  // Snapshot of the acknowledgements, then the kill; writes acked in between
  // are a subset of those in flight and may or may not be there.
  const before = new Map(acked)
  stop = true
  await node.kill9()
  await Promise.all(loops)
  tt.ok(before.size > 0, `${before.size} keys acknowledged before the kill`)

  node = await node.restart()
  const r = await connectIoredis(tt, node)
  const got = await readAll(r, [...before.keys()])
  const lost: string[] = []
  for (const [k, n] of before) {
    const v = Number(got.get(k) ?? 0)
    if (!(v >= n)) lost.push(`${k}: acknowledged ${n}, read ${String(got.get(k))}`)
  }
  tt.same(lost, [], 'no acknowledged write lost (each key holds its last acknowledged value or a later one)')
})
