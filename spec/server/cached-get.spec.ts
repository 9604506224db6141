// A plain GET on a single node answered from the cache's bytes (strings.ts
// writeCachedGet, docs/performance.md "getpath"): the same replies as the
// general path, in RESP2 and RESP3, counted the same, and the cases it must
// leave to the general path (another type, a counter, MULTI, a pipeline
// behind a write). A real node in this process and real TCP clients; the
// dispatcher's writeGet is wrapped only to record which path answered.
import t from 'tap'
import { rmSync } from 'node:fs'
import { parseServerArgs } from '../../lib/cli/args.js'
import { startServer, type RunningServer } from '../../lib/cli/server.js'
import { RawClient } from '../helpers/clients.js'
import { tempDir } from '../helpers/server.js'

let server: RunningServer
let dir: string
/** What writeFast answered for each GET it was asked about, since the last take(). */
let fast: boolean[] = []
const take = (): boolean[] => { const f = fast; fast = []; return f }

t.before(async () => {
  dir = tempDir()
  server = await startServer(parseServerArgs(['--dir', dir, '--port', '0', '--peer-port', '0', '--host', '127.0.0.1', '--n', '1', '--r', '1', '--w', '1', '--sweep-interval-ms', '0', '--log-level', 'warn']))
  // writeGet: what a connection offers a GET the parser found whole (its key in place), and what writeFast asks for any other GET.
  const d = server.resp.dispatcher
  const writeGet = d.writeGet.bind(d)
  d.writeGet = (session, key, from, to, out) => {
    const done = writeGet(session, key, from, to, out)
    fast.push(done)
    return done
  }
})

t.teardown(async () => {
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
})

const info = async (c: RawClient, field: string): Promise<number> => {
  const text = (await c.call('INFO', 'all')).toString('latin1')
  const m = new RegExp(`${field}[:=](\\d+)`).exec(text)
  return m === null ? 0 : Number(m[1])
}

t.test('a cached plain string: its value from the cache, counted as a hit and a call', async t => {
  const c = await RawClient.connect(server.resp.port)
  t.equal((await c.call('SET', 'k', 'value')).toString(), '+OK\r\n')
  t.equal((await c.call('GET', 'k')).toString(), '$5\r\nvalue\r\n') // the SET left it cached
  const hits = await info(c, 'keyspace_hits')
  const calls = await info(c, 'cmdstat_get:calls')
  take()
  t.equal((await c.call('GET', 'k')).toString(), '$5\r\nvalue\r\n')
  t.equal((await c.call('get', 'k')).toString(), '$5\r\nvalue\r\n')
  t.same(take(), [true, true], 'both answered from the cache')
  t.equal(await info(c, 'keyspace_hits'), hits + 2, 'keyspace_hits counts them')
  t.equal(await info(c, 'cmdstat_get:calls'), calls + 2, 'INFO commandstats counts them')
  // A key that is not latin1 text: looked up by its bytes all the same.
  const key = Buffer.from([0xff, 0x00, 0x6b, 0xe9])
  await c.call('SET', key, Buffer.from([1, 2, 3]))
  take()
  t.same(await c.call('GET', key), Buffer.from('$3\r\n\x01\x02\x03\r\n', 'latin1'))
  t.same(take(), [true])
  c.socket.destroy()
})

t.test('expiry as the general path reads it: a value until its time, nil after', async t => {
  const c = await RawClient.connect(server.resp.port)
  await c.call('SET', 'future', 'v', 'EXAT', '4102444800')
  await c.call('SET', 'past', 'v', 'EXAT', '1000000000')
  take()
  t.equal((await c.call('GET', 'future')).toString(), '$1\r\nv\r\n')
  t.equal((await c.call('GET', 'past')).toString(), '$-1\r\n')
  t.equal((await c.call('PTTL', 'past')).toString(), ':-2\r\n', 'expired for every command')
  t.same(take().slice(0, 2), [true, true], 'both from the cache')
  // 1 s, not 100 ms: the GET right after the SET must still find the key on a loaded machine too.
  await c.call('SET', 'soon', 'v', 'PX', '1000')
  t.equal((await c.call('GET', 'soon')).toString(), '$1\r\nv\r\n')
  await new Promise(resolve => setTimeout(resolve, 1050))
  take()
  t.equal((await c.call('GET', 'soon')).toString(), '$-1\r\n', 'nil once its time has passed')
  t.same(take(), [true])
  c.socket.destroy()
})

t.test('deleted and missing keys: nil, in RESP2 and RESP3', async t => {
  const c = await RawClient.connect(server.resp.port)
  await c.call('SET', 'gone', 'v')
  await c.call('DEL', 'gone')
  take()
  t.equal((await c.call('GET', 'gone')).toString(), '$-1\r\n')
  t.equal((await c.call('GET', 'never-set')).toString(), '$-1\r\n')
  t.same(take(), [true, false], 'a tombstone from the cache; a key never written is proved absent by the general path')
  t.equal((await c.call('GET', 'never-set')).toString(), '$-1\r\n')
  t.same(take(), [true], 'and known absent from then on')
  c.write('*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n')
  await c.readUntil(b => b.includes('proto'))
  await c.call('SET', 'k3', 'abc')
  take()
  c.write('*2\r\n$3\r\nGET\r\n$2\r\nk3\r\n*2\r\n$3\r\nGET\r\n$4\r\ngone\r\n')
  t.equal((await c.readUntil(b => b.toString().endsWith('_\r\n'))).toString(), '$3\r\nabc\r\n_\r\n', 'RESP3: the value, then _ for nil')
  t.same(take(), [true, true])
  c.socket.destroy()
})

t.test('what the cache cannot answer goes the general way: other types, counters, MULTI, a GET behind a write', async t => {
  const c = await RawClient.connect(server.resp.port)
  await c.call('SADD', 'set', 'a')
  await c.call('INCR', 'counter')
  await c.call('SET', 'k', 'v')
  take()
  t.match((await c.call('GET', 'set')).toString(), /^-WRONGTYPE /)
  t.equal((await c.call('GET', 'counter')).toString(), '$1\r\n1\r\n')
  t.same(take(), [false, false], 'a collection and a counter are not plain strings')
  t.equal((await c.call('MULTI')).toString(), '+OK\r\n')
  t.equal((await c.call('GET', 'k')).toString(), '+QUEUED\r\n')
  t.equal((await c.call('EXEC')).toString(), '*1\r\n$1\r\nv\r\n')
  t.same(take(), [], 'inside MULTI the connection does not ask')
  // One read event: the GET's reply must follow the SET's, and read its value.
  c.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nw\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n')
  t.equal((await c.readReplies(2)).toString(), '+OK\r\n$1\r\nw\r\n')
  t.same(take(), [], 'behind an unanswered SET the connection does not ask')
  c.socket.destroy()
})
