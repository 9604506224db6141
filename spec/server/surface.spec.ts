// The commands of issue 9 beyond transactions, on one node, against a live
// redis-server given the same steps: replies and errors byte for byte where
// Redis's semantics apply (bitmaps, SUBSTR, LCS, RENAME/RENAMENX/COPY, TOUCH,
// OBJECT, MEMORY USAGE's errors, SCRIPT/FUNCTION, EVALSHA/FCALL, CONFIG SET/GET
// wording). Then what is dynakv's own: COPY to another DB, EVAL's error,
// MEMORY USAGE's figure, CONFIG parameters that take effect, INFO's fields,
// commandstats, RANDOMKEY.
import t, { type Test } from 'tap'
import { haveRedisServer, startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import { RawClient, exchange, frame, parseReplies, transcript } from '../helpers/clients.js'
import { SAME_AS_REDIS } from '../helpers/surface-cases.js'

let node: ServerProc
let redis: RedisProc | null = null

t.before(async () => {
  node = await startServer()
  redis = await startRedisServer()
})

const noRedis = !haveRedisServer() && 'no redis-server'

/** Runs the command lines on both servers (one connection each, after FLUSHALL) and compares reply by reply. */
async function sameAsRedis (tt: Test, lines: string[][]): Promise<void> {
  const steps: Array<[number, string[]]> = [[-1, ['FLUSHALL']], ...lines.map((a): [number, string[]] => [1, a])]
  const [ours, theirs] = await Promise.all([transcript(node.port, steps), transcript((redis as RedisProc).port, steps)])
  lines.forEach((l, i) => tt.equal(ours[i], theirs[i], l.join(' ')))
}

for (const [name, lines] of Object.entries(SAME_AS_REDIS)) {
  t.test(name, { skip: noRedis }, async tt => { await sameAsRedis(tt, lines) })
}



t.test('COPY to a database other than 0 is refused like SELECT', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  await c.call('SET', 'cp:src', 'v')
  tt.equal((await c.call('COPY', 'cp:src', 'cp:dst', 'DB', '1')).toString(), '-ERR DB index is out of range\r\n')
  tt.equal((await c.call('EXISTS', 'cp:dst')).toString(), ':0\r\n', 'nothing copied')
})


t.test('OBJECT IDLETIME and MEMORY USAGE figures', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  await c.call('SET', 'mu:k', 'x'.repeat(1000))
  tt.equal((await c.call('OBJECT', 'IDLETIME', 'mu:k')).toString(), ':0\r\n', 'just written: idle 0 s')
  const usage = Number((await c.call('MEMORY', 'USAGE', 'mu:k', 'SAMPLES', '0')).toString().slice(1))
  tt.ok(usage >= 1000 + 4 && usage < 2000, `MEMORY USAGE counts the stored record (${usage} bytes for a 1000-byte value)`)
})


t.test('EVAL, SCRIPT LOAD, FUNCTION LOAD: a clear error', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  for (const args of [['EVAL', 'return 1', '0'], ['EVAL_RO', 'return 1', '0'], ['SCRIPT', 'LOAD', 'return 1'], ['FUNCTION', 'LOAD', '#!lua name=x\n']]) {
    tt.match((await c.call(...args)).toString(), /^-ERR dynakv does not run scripts/, args[0])
  }
})


/** A CONFIG GET reply as name → value. */
async function configGet (port: number, ...patterns: string[]): Promise<Map<string, string>> {
  const c = await RawClient.connect(port)
  const r = parseReplies(await c.call('CONFIG', 'GET', ...patterns))[0] as Buffer[]
  c.close()
  const m = new Map<string, string>()
  for (let i = 0; i + 1 < r.length; i += 2) m.set(r[i].toString(), r[i + 1].toString())
  return m
}

t.test('CONFIG GET with globs: the same parameters and values as redis-server', { skip: noRedis }, async tt => {
  for (const p of ['hash-max-*', 'list-max-*', 'lazyfree*', 'slowlog*', 'zset-max-*-value', 'maxmemory*', 'h?', 'activ[e]rehashing']) {
    const [ours, theirs] = await Promise.all([configGet(node.port, p), configGet((redis as RedisProc).port, p)])
    // maxmemory-clients is Redis 7's and not kept by dynakv.
    theirs.delete('maxmemory-clients')
    tt.same(new Map([...ours].sort()), new Map([...theirs].sort()), `CONFIG GET ${p}`)
  }
})

t.test('CONFIG SET of what dynakv changes at run time takes effect', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  const ok = async (...args: string[]): Promise<void> => { tt.equal((await c.call('CONFIG', 'SET', ...args)).toString(), '+OK\r\n', args.join(' ')) }

  await ok('maxclients', '1')
  const refused = await exchange(node.port, frame('PING'), { quietMs: 500 })
  tt.equal(refused.out.toString(), '-ERR max number of clients reached\r\n', 'maxclients 1: a second connection is refused')
  await ok('maxclients', '10000')
  tt.equal((await exchange(node.port, frame('PING'), { until: b => b.length >= 7 })).out.toString(), '+PONG\r\n', 'and accepted again')

  await ok('requirepass', 's3cret')
  tt.equal((await exchange(node.port, frame('GET', 'x'), { until: b => b.length > 0 })).out.toString(), '-NOAUTH Authentication required.\r\n', 'requirepass: a new connection must AUTH')
  tt.equal((await exchange(node.port, [frame('AUTH', 's3cret'), frame('PING')], { until: b => b.length >= 12 })).out.toString(), '+OK\r\n+PONG\r\n', 'and can')
  tt.equal((await c.call('PING')).toString(), '+PONG\r\n', 'a connection already authenticated stays so')
  await ok('requirepass', '')
  tt.equal((await exchange(node.port, frame('PING'), { until: b => b.length >= 7 })).out.toString(), '+PONG\r\n', 'requirepass "": no password again')

  await ok('proto-max-bulk-len', '1mb')
  const big = await exchange(node.port, `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${2 * 1024 * 1024}\r\n`, { until: b => b.length > 0 })
  tt.equal(big.out.toString(), '-ERR Protocol error: invalid bulk length\r\n', 'proto-max-bulk-len 1mb: a 2 MB bulk is refused')
  c.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${2 * 1024 * 1024}\r\n`)
  tt.equal((await c.readUntil(b => b.length > 0)).toString(), '-ERR Protocol error: invalid bulk length\r\n', 'on a connection open before too')
  tt.ok(await c.waitClosed(), 'which is then closed')
  const d = await RawClient.connect(node.port)
  tt.teardown(() => d.close())
  tt.match((await d.call('CONFIG', 'SET', 'proto-max-bulk-len', '4gb')).toString(), /^-ERR CONFIG SET failed \(possibly related to argument 'proto-max-bulk-len'\) - argument must be between 1048576 and 536870912 inclusive/, 'not above the size at start')
  tt.equal((await d.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb')).toString(), '+OK\r\n')

  for (const [name, value] of [['loglevel', 'warning'], ['dynakv-handoff-rate', '777'], ['dynakv-handoff-batch', '33'], ['dynakv-request-timeout-ms', '1500']]) {
    tt.equal((await d.call('CONFIG', 'SET', name, value)).toString(), '+OK\r\n', `CONFIG SET ${name} ${value}`)
    tt.same(await configGet(node.port, name), new Map([[name, value]]), 'read back')
  }
  tt.equal((await d.call('CONFIG', 'SET', 'loglevel', 'notice')).toString(), '+OK\r\n')
  for (const name of ['port', 'dynakv-n', 'appendfsync', 'dir']) {
    tt.equal((await d.call('CONFIG', 'SET', name, '1')).toString(), `-ERR CONFIG SET failed (possibly related to argument '${name}') - can't set immutable config\r\n`, `${name} is fixed at start`)
  }
  tt.same(await configGet(node.port, 'dynakv-n', 'port'), new Map([['dynakv-n', '1'], ['port', String(node.port)]]))
  tt.equal((await d.call('CONFIG', 'SET', 'maxclients', '5', 'hz', 'x')).toString().slice(0, 20), '-ERR CONFIG SET fail', 'a bad value anywhere…')
  tt.same(await configGet(node.port, 'maxclients'), new Map([['maxclients', '10000']]), '…and nothing is set')
})

/** INFO as section → field → value. */
async function info (port: number, ...sections: string[]): Promise<Map<string, Map<string, string>>> {
  const c = await RawClient.connect(port)
  const text = (parseReplies(await c.call('INFO', ...sections))[0] as Buffer).toString()
  c.close()
  const out = new Map<string, Map<string, string>>()
  let section = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) out.set(line.slice(2), section = new Map())
    else if (line.includes(':')) section.set(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1))
  }
  return out
}

t.test('INFO: the fields clients and tools read are there, as redis-server names them', { skip: noRedis }, async tt => {
  const [ours, theirs] = await Promise.all([info(node.port, 'all'), info((redis as RedisProc).port, 'all')])
  const wanted: Record<string, string[]> = {
    Memory: ['used_memory', 'used_memory_human', 'used_memory_rss', 'used_memory_rss_human', 'used_memory_peak', 'used_memory_peak_human', 'used_memory_peak_perc', 'used_memory_overhead', 'used_memory_startup', 'used_memory_dataset', 'total_system_memory', 'maxmemory', 'maxmemory_human', 'maxmemory_policy', 'mem_fragmentation_ratio', 'mem_allocator'],
    CPU: ['used_cpu_sys', 'used_cpu_user', 'used_cpu_sys_children', 'used_cpu_user_children', 'used_cpu_sys_main_thread', 'used_cpu_user_main_thread'],
    Replication: ['role', 'connected_slaves', 'master_failover_state', 'master_replid', 'master_replid2', 'master_repl_offset', 'second_repl_offset', 'repl_backlog_active', 'repl_backlog_size', 'repl_backlog_first_byte_offset', 'repl_backlog_histlen']
  }
  for (const [section, fields] of Object.entries(wanted)) {
    for (const f of fields) {
      tt.ok(theirs.get(section)?.has(f), `redis-server has ${section}.${f}`)
      tt.ok(ours.get(section)?.has(f), `dynakv has ${section}.${f}`)
      const shape = (v: string | undefined): string => (v ?? '').replace(/[0-9]/g, '9').replace(/9+/g, '9')
      if (f === 'master_replid') tt.match(ours.get(section)?.get(f), /^[0-9a-f]{40}$/, 'master_replid: 40 hex digits')
      else if (!['mem_allocator', 'maxmemory_human'].includes(f)) tt.equal(shape(ours.get(section)?.get(f)), shape(theirs.get(section)?.get(f)), `${section}.${f} has Redis's shape`)
    }
  }
  tt.equal(ours.get('Replication')?.get('role'), 'master')
  tt.ok(Number(ours.get('CPU')?.get('used_cpu_user')) > 0, 'CPU time is the process\'s')
  tt.ok(Number(ours.get('Memory')?.get('used_memory_peak')) >= Number(ours.get('Memory')?.get('used_memory')), 'peak ≥ used')
  const def = await info(node.port)
  tt.notOk(def.has('Commandstats'), 'INFO without arguments leaves Commandstats out, as Redis')
  tt.ok(def.has('CPU') && def.has('Replication'))
})

t.test('INFO commandstats: calls, rejected_calls, failed_calls; CONFIG RESETSTAT clears them', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  tt.equal((await c.call('CONFIG', 'RESETSTAT')).toString(), '+OK\r\n')
  for (let i = 0; i < 3; i++) await c.call('GET', 'cs:k')
  await c.call('GET')
  await c.call('SET', 'cs:s', 'abc')
  await c.call('INCR', 'cs:s')
  await c.call('MULTI')
  await c.call('INCR', 'cs:n')
  await c.call('EXEC')
  await c.call('MGET', 'cs:a', 'cs:b')
  const stats = (await info(node.port, 'commandstats')).get('Commandstats') as Map<string, string>
  tt.match(stats.get('cmdstat_get'), /^calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0$/, 'GET: 3 calls (MGET\'s own GETs not counted), 1 rejected')
  tt.match(stats.get('cmdstat_incr'), /^calls=2,.*rejected_calls=0,failed_calls=1$/, 'INCR: the one in EXEC counted, one failed')
  tt.match(stats.get('cmdstat_exec'), /^calls=1,/)
  tt.match(stats.get('cmdstat_mget'), /^calls=1,/)
  tt.equal((await c.call('CONFIG', 'RESETSTAT')).toString(), '+OK\r\n')
  const after = (await info(node.port, 'commandstats')).get('Commandstats') as Map<string, string>
  tt.notOk(after.has('cmdstat_get'), 'RESETSTAT cleared them')
  tt.match(after.get('cmdstat_config|resetstat') ?? 'counted after the reset', /calls=|counted/)
})

t.test('RANDOMKEY: nil on an empty keyspace, only live keys, every key reachable', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  await c.call('FLUSHALL')
  tt.equal((await c.call('RANDOMKEY')).toString(), '$-1\r\n', 'empty: nil')
  await c.call('SET', 'rk:only', 'v')
  tt.equal((await c.call('RANDOMKEY')).toString(), '$7\r\nrk:only\r\n', 'the one key')
  const keys = Array.from({ length: 300 }, (_, i) => `rk:${i}`)
  await c.call('MSET', ...keys.flatMap(k => [k, 'v']))
  await c.call('DEL', 'rk:only', ...keys.slice(0, 290))
  const live = new Set(keys.slice(290))
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) {
    const k = (parseReplies(await c.call('RANDOMKEY'))[0] as Buffer).toString()
    tt.ok(live.has(k), `a live key, never a deleted one (${k})`)
    seen.add(k)
  }
  tt.ok(seen.size >= 5, `several keys come up (${seen.size} of ${live.size})`)
})
