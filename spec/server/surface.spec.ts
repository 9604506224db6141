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

t.test('SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP', { skip: noRedis }, async tt => {
  await sameAsRedis(tt, [
    ['SET', 'b', 'abc'], ['SETBIT', 'b', '3', '1'], ['GET', 'b'], ['GETBIT', 'b', '3'], ['GETBIT', 'b', '100'], ['SETBIT', 'b', '7', '0'],
    ['SETBIT', 'b', '-1', '1'], ['SETBIT', 'b', 'x', '1'], ['SETBIT', 'b', '4294967296', '1'], ['SETBIT', 'b', '1', '2'], ['GETBIT', 'b', '-1'],
    ['SETBIT', 'n', '10', '1'], ['GET', 'n'], ['SETBIT', 'n', '10', '1'], ['STRLEN', 'n'],
    ['BITCOUNT', 'b'], ['BITCOUNT', 'b', '0', '0'], ['BITCOUNT', 'b', '1', '-1'], ['BITCOUNT', 'b', '-2', '-1', 'BIT'], ['BITCOUNT', 'b', '5', '30', 'BIT'],
    ['BITCOUNT', 'b', '-100', '100', 'BYTE'], ['BITCOUNT', 'b', '0'], ['BITCOUNT', 'b', '0', '1', 'BOGUS'], ['BITCOUNT', 'b', 'a', '1'], ['BITCOUNT', 'none', '0', '1'],
    ['BITCOUNT', 'b', '-1', '-2'], ['BITCOUNT', 'none'],
    ['BITPOS', 'b', '1'], ['BITPOS', 'b', '0'], ['BITPOS', 'b', '1', '1'], ['BITPOS', 'b', '0', '1', '2'], ['BITPOS', 'b', '1', '2', '20', 'BIT'],
    ['BITPOS', 'b', '0', '7', '15', 'BIT'], ['BITPOS', 'b', '2'], ['BITPOS', 'b', 'x'], ['BITPOS', 'none', '0'], ['BITPOS', 'none', '1'], ['BITPOS', 'none', '1', 'x'],
    ['SET', 'ones', '\xff\xff'], ['BITPOS', 'ones', '0'], ['BITPOS', 'ones', '0', '0', '-1'], ['BITPOS', 'ones', '0', '0', '-1', 'BIT'], ['BITPOS', 'ones', '1', '-1'],
    ['SET', 'zeros', '\x00\x00\x00'], ['BITPOS', 'zeros', '1'], ['BITPOS', 'zeros', '0', '1'], ['BITPOS', 'zeros', '1', '0', '-1', 'BIT'],
    ['BITPOS', 'b', '1', '100'], ['BITPOS', 'b', '1', 'x'], ['BITPOS', 'b', '1', '0', '1', 'BOGUS'], ['BITPOS', 'b', '1', '0', '1', 'BIT', 'x'],
    ['BITOP', 'AND', 'd', 'b', 'n'], ['GET', 'd'], ['BITOP', 'OR', 'd', 'b', 'n', 'none'], ['GET', 'd'], ['BITOP', 'XOR', 'd', 'b', 'n'], ['GET', 'd'],
    ['BITOP', 'NOT', 'd', 'b'], ['GET', 'd'], ['BITOP', 'NOT', 'd', 'b', 'n'], ['BITOP', 'FOO', 'd', 'b'], ['BITOP', 'and', 'd', 'none', 'none2'], ['EXISTS', 'd']
  ])
})

t.test('SUBSTR and LCS', { skip: noRedis }, async tt => {
  await sameAsRedis(tt, [
    ['SET', 's', 'This is a string'], ['SUBSTR', 's', '0', '3'], ['SUBSTR', 's', '-3', '-1'], ['SUBSTR', 's', '5', '3'], ['SUBSTR', 'none', '0', '-1'], ['SUBSTR', 's', 'a', '1'],
    ['SET', 'k1', 'ohmytext'], ['SET', 'k2', 'mynewtext'], ['LCS', 'k1', 'k2'], ['LCS', 'k1', 'k2', 'LEN'], ['LCS', 'k1', 'k2', 'IDX'],
    ['LCS', 'k1', 'k2', 'IDX', 'MINMATCHLEN', '4'], ['LCS', 'k1', 'k2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'], ['LCS', 'k1', 'k2', 'IDX', 'WITHMATCHLEN', 'MINMATCHLEN', '-5'],
    ['LCS', 'k1', 'k2', 'IDX', 'LEN'], ['LCS', 'k1', 'k2', 'BOGUS'], ['LCS', 'k1', 'k2', 'MINMATCHLEN', 'x'], ['LCS', 'k1', 'k2', 'MINMATCHLEN'], ['LCS', 'k1', 'none'],
    ['LCS', 'none', 'none2', 'IDX'], ['SET', 'a', 'GTAAGGCTAGACCGTTAGCCA'], ['SET', 'c', 'GGTCTAGCACAAGGTAGGCTGTTA'], ['LCS', 'a', 'c'], ['LCS', 'a', 'c', 'IDX', 'WITHMATCHLEN']
  ])
})

t.test('RENAME, RENAMENX, COPY, TOUCH', { skip: noRedis }, async tt => {
  await sameAsRedis(tt, [
    ['SET', 'r1', 'v1'], ['RENAME', 'r1', 'r2'], ['GET', 'r1'], ['GET', 'r2'], ['RENAME', 'none', 'r3'], ['RENAME', 'r2', 'r2'], ['RENAME', 'none', 'none'],
    ['SET', 'r4', 'v4'], ['RENAME', 'r2', 'r4'], ['GET', 'r4'], ['EXISTS', 'r2'], ['RENAMENX', 'r4', 'r4'], ['RENAMENX', 'r4', 'r5'], ['RENAMENX', 'none', 'r6'],
    ['SET', 'r7', 'v7'], ['RENAMENX', 'r5', 'r7'], ['GET', 'r5'], ['GET', 'r7'],
    ['COPY', 'r5', 'r8'], ['GET', 'r8'], ['COPY', 'r5', 'r8'], ['SET', 'r5', 'new'], ['COPY', 'r5', 'r8', 'REPLACE'], ['GET', 'r8'], ['COPY', 'r5', 'r5'], ['COPY', 'none', 'r9'],
    ['COPY', 'r5', 'r9', 'DB', '0'], ['GET', 'r9'], ['COPY', 'r5', 'r9', 'DB', 'x'], ['COPY', 'r5', 'r9', 'DB'], ['COPY', 'r5', 'r9', 'FOO'], ['COPY', 'r5', 'r10', 'REPLACE', 'DB', '0'],
    ['COPY', 'r5', 'r11', 'DB', '16'], ['COPY', 'r5', 'r11', 'DB', '-1'], ['COPY', 'r5', 'r11', 'DB', '99999999999'],
    ['TOUCH', 'r5', 'r8', 'none', 'r5'], ['TOUCH', 'none'], ['RENAME', 'r5'], ['COPY', 'r5']
  ])
})

t.test('COPY to a database other than 0 is refused like SELECT', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  await c.call('SET', 'cp:src', 'v')
  tt.equal((await c.call('COPY', 'cp:src', 'cp:dst', 'DB', '1')).toString(), '-ERR DB index is out of range\r\n')
  tt.equal((await c.call('EXISTS', 'cp:dst')).toString(), ':0\r\n', 'nothing copied')
})

t.test('OBJECT and MEMORY USAGE: answers and errors', { skip: noRedis }, async tt => {
  await sameAsRedis(tt, [
    ['SET', 'i', '123'], ['SET', 'big', '12345678901234567890'], ['SET', 'e', 'hello'], ['SET', 'raw', 'a'.repeat(45)], ['SET', 'neg', '-5'], ['SET', 'lz', '007'],
    ['OBJECT', 'ENCODING', 'i'], ['OBJECT', 'ENCODING', 'big'], ['OBJECT', 'ENCODING', 'e'], ['OBJECT', 'ENCODING', 'raw'], ['OBJECT', 'ENCODING', 'neg'], ['OBJECT', 'ENCODING', 'lz'],
    ['OBJECT', 'ENCODING', 'none'], ['OBJECT', 'REFCOUNT', 'i'], ['OBJECT', 'REFCOUNT', 'e'], ['OBJECT', 'REFCOUNT', 'neg'], ['OBJECT', 'REFCOUNT', 'none'],
    ['OBJECT', 'FREQ', 'e'], ['OBJECT', 'FREQ', 'none'], ['OBJECT', 'IDLETIME', 'none'], ['OBJECT', 'FOO', 'e'], ['OBJECT'], ['OBJECT', 'ENCODING'], ['OBJECT', 'HELP'],
    ['MEMORY', 'USAGE', 'none'], ['MEMORY', 'USAGE', 'e', 'SAMPLES'], ['MEMORY', 'USAGE', 'e', 'SAMPLES', '-1'], ['MEMORY', 'USAGE', 'e', 'SAMPLES', 'x'],
    ['MEMORY', 'USAGE', 'e', 'FOO', '1'], ['MEMORY', 'FOO'], ['MEMORY', 'USAGE'],
    ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'], ['OBJECT', 'FREQ', 'e'], ['OBJECT', 'IDLETIME', 'e'], ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']
  ])
})

t.test('OBJECT IDLETIME and MEMORY USAGE figures', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  await c.call('SET', 'mu:k', 'x'.repeat(1000))
  tt.equal((await c.call('OBJECT', 'IDLETIME', 'mu:k')).toString(), ':0\r\n', 'just written: idle 0 s')
  const usage = Number((await c.call('MEMORY', 'USAGE', 'mu:k', 'SAMPLES', '0')).toString().slice(1))
  tt.ok(usage >= 1000 + 4 && usage < 2000, `MEMORY USAGE counts the stored record (${usage} bytes for a 1000-byte value)`)
})

t.test('SCRIPT, FUNCTION, EVALSHA, FCALL: Redis\'s answers when there are none', { skip: noRedis }, async tt => {
  await sameAsRedis(tt, [
    ['SCRIPT', 'FLUSH'], ['SCRIPT', 'FLUSH', 'ASYNC'], ['SCRIPT', 'FLUSH', 'sync'], ['SCRIPT', 'FLUSH', 'x'], ['SCRIPT', 'FLUSH', 'a', 'b'], ['SCRIPT', 'EXISTS', 'a', 'b'], ['SCRIPT', 'KILL'],
    ['FUNCTION', 'FLUSH'], ['FUNCTION', 'FLUSH', 'SYNC'], ['FUNCTION', 'FLUSH', 'x'], ['FUNCTION', 'FLUSH', 'a', 'b'], ['FUNCTION', 'LIST'], ['FUNCTION', 'DELETE', 'x'], ['FUNCTION', 'KILL'],
    ['EVALSHA', 'abc', '0'], ['EVALSHA', 'abc', 'x'], ['EVALSHA_RO', 'abc', '0'], ['FCALL', 'f', '0'], ['FCALL_RO', 'f', '1', 'k'], ['EVAL'], ['FCALL', 'f'], ['SCRIPT'], ['SCRIPT', 'NOPE']
  ])
})

t.test('EVAL, SCRIPT LOAD, FUNCTION LOAD: a clear error', async tt => {
  const c = await RawClient.connect(node.port)
  tt.teardown(() => c.close())
  for (const args of [['EVAL', 'return 1', '0'], ['EVAL_RO', 'return 1', '0'], ['SCRIPT', 'LOAD', 'return 1'], ['FUNCTION', 'LOAD', '#!lua name=x\n']]) {
    tt.match((await c.call(...args)).toString(), /^-ERR dynakv does not run scripts/, args[0])
  }
})

t.test('CONFIG SET/GET: Redis\'s wording for tunables, unknown and immutable parameters', { skip: noRedis }, async tt => {
  await sameAsRedis(tt, [
    ['CONFIG', 'SET', 'foo', 'bar'], ['CONFIG', 'SET', 'hz'], ['CONFIG', 'SET', 'daemonize', 'yes'], ['CONFIG', 'SET', 'databases', '5'], ['CONFIG', 'SET', 'hz', 'abc'],
    ['CONFIG', 'SET', 'hz', '0'], ['CONFIG', 'GET', 'hz'], ['CONFIG', 'SET', 'hz', '10', 'hz', '11'], ['CONFIG', 'SET', 'hz', '12', 'foo', '1'], ['CONFIG', 'SET', 'hz', 'abc', 'foo', '1'],
    ['CONFIG', 'SET', 'hz', '10', 'x'], ['CONFIG', 'SET', 'HZ', '15'], ['CONFIG', 'GET', 'HZ'], ['CONFIG', 'GET', 'hz'], ['CONFIG', 'SET', 'hz', '-1'], ['CONFIG', 'SET', 'hz', '05'],
    ['CONFIG', 'SET', 'hz', ' 5'], ['CONFIG', 'SET', 'hz', '9999999999999'], ['CONFIG', 'SET', 'hz', '10'],
    ['CONFIG', 'SET', 'maxclients', 'abc'], ['CONFIG', 'SET', 'maxclients', '0'], ['CONFIG', 'SET', 'maxclients', '99999999999'],
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '256'], ['CONFIG', 'GET', 'hash-max-listpack-entries'], ['CONFIG', 'GET', 'hash-max-ziplist-entries'],
    ['CONFIG', 'SET', 'hash-max-ziplist-entries', '1', 'hash-max-listpack-entries', '2'], ['CONFIG', 'GET', 'hash-max-ziplist-entries'],
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '-1'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '1kb'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '128'],
    ['CONFIG', 'SET', 'list-max-ziplist-size', '5'], ['CONFIG', 'GET', 'list-max-listpack-size'], ['CONFIG', 'SET', 'list-max-listpack-size', '-2'],
    ['CONFIG', 'SET', 'maxmemory-policy', 'bogus'], ['CONFIG', 'SET', 'maxmemory-policy', 'ALLKEYS-LRU'], ['CONFIG', 'GET', 'maxmemory-policy'], ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
    ['CONFIG', 'SET', 'maxmemory', 'abc'], ['CONFIG', 'SET', 'maxmemory', '-1'], ['CONFIG', 'SET', 'maxmemory', '1.5mb'], ['CONFIG', 'SET', 'maxmemory', '1kb'], ['CONFIG', 'GET', 'maxmemory'],
    ['CONFIG', 'SET', 'maxmemory', '2GB'], ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'SET', 'maxmemory', '0'],
    ['CONFIG', 'SET', 'activerehashing', 'maybe'], ['CONFIG', 'SET', 'activerehashing', 'NO'], ['CONFIG', 'GET', 'activerehashing'], ['CONFIG', 'SET', 'activerehashing', 'yes'],
    ['CONFIG', 'SET', 'timeout', '-1'], ['CONFIG', 'SET', 'stream-node-max-bytes', '4kb'], ['CONFIG', 'GET', 'stream-node-max-bytes'],
    ['CONFIG', 'SET', 'save', '100 10 200'], ['CONFIG', 'SET', 'save', '100 10 200 20'], ['CONFIG', 'GET', 'save'], ['CONFIG', 'SET', 'save', ''],
    ['CONFIG', 'SET', 'slowlog-log-slower-than', '-5'], ['CONFIG', 'SET', 'active-expire-effort', '11'], ['CONFIG', 'SET', 'maxmemory-samples', '0'],
    ['CONFIG', 'SET', 'proto-max-bulk-len', '10'], ['CONFIG', 'REWRITE'], ['CONFIG', 'RESETSTAT', 'x'], ['CONFIG', 'FOO'], ['CONFIG'], ['CONFIG', 'GET'], ['CONFIG', 'HELP'],
    ['CONFIG', 'GET', 'nosuchparam'], ['CONFIG', 'GET', 'appendonly']
  ])
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
