// One dynakv node (N=1) as a real process, driven by redis-cli one-shot
// commands. Expected replies are Redis's (redis.io command reference, as
// redis-cli --no-raw renders them) or docs/semantics.md where dynakv differs on
// purpose (one database). Generic error wording is checked against
// a live redis-server given the same inputs.

import t, { type Test } from 'tap'
import { startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import { cliFormatted, cliRaw, cliScript, missing, redisCli } from '../helpers/clients.js'

const skip = missing('redis-cli')
if (skip !== false) {
  t.plan(0, skip)
} else {
  let node: ServerProc
  let redis: RedisProc | null = null

  t.before(async () => {
    node = await startServer()
    redis = await startRedisServer()
  })

  /** dynakv's reply to args, as redis-cli --no-raw prints it. */
  const dk = async (...args: string[]): Promise<string> => await cliFormatted(node.port, ...args)

  /** A table of [args, expected --no-raw output], run in order on the node. */
  async function steps (tt: Test, table: Array<[string[], string]>): Promise<void> {
    for (const [args, expected] of table) tt.equal(await dk(...args), expected, args.join(' '))
  }

  t.test('PING and ECHO', async tt => {
    await steps(tt, [
      [['PING'], 'PONG'],
      [['PING', 'hello world'], '"hello world"'],
      [['ECHO', 'x y'], '"x y"'],
      [['ECHO', ''], '""']
    ])
  })

  t.test('SET and GET, NX, XX, GET option', async tt => {
    await steps(tt, [
      [['GET', 's:k'], '(nil)'],
      [['SET', 's:k', 'v1'], 'OK'],
      [['GET', 's:k'], '"v1"'],
      [['SET', 's:k', 'v2', 'NX'], '(nil)'],
      [['GET', 's:k'], '"v1"'],
      [['SET', 's:k', 'v3', 'XX'], 'OK'],
      [['GET', 's:k'], '"v3"'],
      [['SET', 's:none', 'v', 'XX'], '(nil)'],
      [['GET', 's:none'], '(nil)'],
      [['SET', 's:nx', 'v', 'NX'], 'OK'],
      [['GET', 's:nx'], '"v"'],
      [['SET', 's:k', 'v4', 'GET'], '"v3"'],
      [['GET', 's:k'], '"v4"'],
      [['SET', 's:fresh', 'v', 'GET'], '(nil)'],
      [['GET', 's:fresh'], '"v"'],
      [['SET', 's:k', 'v5', 'NX', 'GET'], '"v4"'],
      [['GET', 's:k'], '"v4"'],
      [['SET', 's:k', 'v', 'NX', 'XX'], '(error) ERR syntax error'],
      [['SET', 's:k', 'v', 'bogus'], '(error) ERR syntax error'],
      [['SET', 's:empty', ''], 'OK'],
      [['GET', 's:empty'], '""'],
      [['EXISTS', 's:empty'], '(integer) 1']
    ])
  })

  t.test('binary-safe values (NUL, CR, LF, high bytes)', async tt => {
    const out = await cliScript(node.port, ['SET s:bin "a\\x00b\\r\\n\\xff"', 'GET s:bin', 'STRLEN s:bin'], ['--no-raw'])
    tt.equal(out, 'OK\n"a\\x00b\\r\\n\\xff"\n(integer) 6')
  })

  t.test('SETNX, GETSET, GETDEL', async tt => {
    await steps(tt, [
      [['SETNX', 'g:a', '1'], '(integer) 1'],
      [['SETNX', 'g:a', '2'], '(integer) 0'],
      [['GET', 'g:a'], '"1"'],
      [['GETSET', 'g:a', '3'], '"1"'],
      [['GET', 'g:a'], '"3"'],
      [['GETSET', 'g:new', 'x'], '(nil)'],
      [['GET', 'g:new'], '"x"'],
      [['GETDEL', 'g:a'], '"3"'],
      [['GET', 'g:a'], '(nil)'],
      [['GETDEL', 'g:a'], '(nil)'],
      [['EXISTS', 'g:a'], '(integer) 0']
    ])
  })

  t.test('MSET, MGET, MSETNX', async tt => {
    await steps(tt, [
      [['MSET', 'm:a', '1', 'm:b', '2', 'm:c', '3'], 'OK'],
      [['MGET', 'm:a', 'm:b', 'm:none', 'm:c'], '1) "1"\n2) "2"\n3) (nil)\n4) "3"'],
      [['MSET', 'm:a', '10', 'm:a', '11'], 'OK'],
      [['GET', 'm:a'], '"11"'],
      [['MSETNX', 'm:a', 'x', 'm:d', 'y'], '(integer) 0'],
      [['EXISTS', 'm:d'], '(integer) 0'],
      [['GET', 'm:a'], '"11"'],
      [['MSETNX', 'm:d', 'y', 'm:e', 'z'], '(integer) 1'],
      [['MGET', 'm:d', 'm:e'], '1) "y"\n2) "z"']
    ])
  })

  t.test('APPEND and STRLEN', async tt => {
    await steps(tt, [
      [['APPEND', 'a:k', 'Hello'], '(integer) 5'],
      [['APPEND', 'a:k', ' World'], '(integer) 11'],
      [['GET', 'a:k'], '"Hello World"'],
      [['STRLEN', 'a:k'], '(integer) 11'],
      [['STRLEN', 'a:none'], '(integer) 0'],
      [['SET', 'a:utf8', 'é'], 'OK'],
      [['STRLEN', 'a:utf8'], '(integer) 2']
    ])
  })

  t.test('GETRANGE: negative indexes, clamping, empty results', async tt => {
    await steps(tt, [
      [['SET', 'r:s', 'This is a string'], 'OK'],
      [['GETRANGE', 'r:s', '0', '3'], '"This"'],
      [['GETRANGE', 'r:s', '-3', '-1'], '"ing"'],
      [['GETRANGE', 'r:s', '0', '-1'], '"This is a string"'],
      [['GETRANGE', 'r:s', '10', '100'], '"string"'],
      [['GETRANGE', 'r:s', '5', '3'], '""'],
      [['GETRANGE', 'r:s', '-1', '-5'], '""'],
      [['GETRANGE', 'r:s', '-100', '3'], '"This"'],
      [['GETRANGE', 'r:s', '100', '200'], '""'],
      [['GETRANGE', 'r:none', '0', '-1'], '""'],
      [['GETRANGE', 'r:s', '0', 'x'], '(error) ERR value is not an integer or out of range']
    ])
  })

  t.test('SETRANGE: overwrite, zero padding, limits', async tt => {
    await steps(tt, [
      [['SET', 'r:k', 'Hello World'], 'OK'],
      [['SETRANGE', 'r:k', '6', 'Redis'], '(integer) 11'],
      [['GET', 'r:k'], '"Hello Redis"'],
      [['SETRANGE', 'r:pad', '5', 'abc'], '(integer) 8'],
      [['GET', 'r:pad'], '"\\x00\\x00\\x00\\x00\\x00abc"'],
      [['SETRANGE', 'r:k', '13', '!'], '(integer) 14'],
      [['GET', 'r:k'], '"Hello Redis\\x00\\x00!"'],
      [['SETRANGE', 'r:k', '0', ''], '(integer) 14'],
      [['SETRANGE', 'r:empty', '3', ''], '(integer) 0'],
      [['EXISTS', 'r:empty'], '(integer) 0'],
      [['SETRANGE', 'r:k', '-1', 'x'], '(error) ERR offset is out of range'],
      [['SETRANGE', 'r:k', '536870912', 'x'], '(error) ERR string exceeds maximum allowed size (proto-max-bulk-len)']
    ])
  })

  t.test('INCR family: integers, overflow, not-an-integer', async tt => {
    await steps(tt, [
      [['INCR', 'i:n'], '(integer) 1'],
      [['INCR', 'i:n'], '(integer) 2'],
      [['DECR', 'i:n'], '(integer) 1'],
      [['INCRBY', 'i:n', '10'], '(integer) 11'],
      [['DECRBY', 'i:n', '5'], '(integer) 6'],
      [['INCRBY', 'i:n', '-10'], '(integer) -4'],
      [['GET', 'i:n'], '"-4"'],
      [['DECR', 'i:fresh'], '(integer) -1'],
      [['SET', 'i:max', '9223372036854775807'], 'OK'],
      [['INCR', 'i:max'], '(error) ERR increment or decrement would overflow'],
      [['GET', 'i:max'], '"9223372036854775807"'],
      [['SET', 'i:min', '-9223372036854775808'], 'OK'],
      [['DECR', 'i:min'], '(error) ERR increment or decrement would overflow'],
      [['INCRBY', 'i:n', '9223372036854775808'], '(error) ERR value is not an integer or out of range'],
      [['INCRBY', 'i:n', '1.5'], '(error) ERR value is not an integer or out of range'],
      [['SET', 'i:str', 'abc'], 'OK'],
      [['INCR', 'i:str'], '(error) ERR value is not an integer or out of range'],
      [['SET', 'i:sp', ' 1'], 'OK'],
      [['INCR', 'i:sp'], '(error) ERR value is not an integer or out of range'],
      [['SET', 'i:lz', '01'], 'OK'],
      [['INCR', 'i:lz'], '(error) ERR value is not an integer or out of range'],
      [['GET', 'i:str'], '"abc"']
    ])
  })

  t.test('INCRBYFLOAT', async tt => {
    await steps(tt, [
      [['INCRBYFLOAT', 'f:x', '10.5'], '"10.5"'],
      [['INCRBYFLOAT', 'f:x', '0.25'], '"10.75"'],
      [['INCRBYFLOAT', 'f:x', '-10.75'], '"0"'],
      [['INCRBYFLOAT', 'f:y', '3'], '"3"'],
      [['INCRBYFLOAT', 'f:z', '1e3'], '"1000"'],
      [['GET', 'f:z'], '"1000"'],
      [['INCRBYFLOAT', 'f:x', 'abc'], '(error) ERR value is not a valid float'],
      [['SET', 'f:s', 'abc'], 'OK'],
      [['INCRBYFLOAT', 'f:s', '1'], '(error) ERR value is not a valid float'],
      [['INCRBYFLOAT', 'f:x', 'inf'], '(error) ERR increment would produce NaN or Infinity']
    ])
  })

  t.test('DEL, UNLINK, EXISTS (duplicates counted), TYPE', async tt => {
    await steps(tt, [
      [['MSET', 'd:a', '1', 'd:b', '2', 'd:c', '3'], 'OK'],
      [['EXISTS', 'd:a', 'd:a', 'd:b', 'd:none'], '(integer) 3'],
      [['TYPE', 'd:a'], 'string'],
      [['TYPE', 'd:none'], 'none'],
      [['DEL', 'd:a', 'd:a', 'd:none'], '(integer) 1'],
      [['EXISTS', 'd:a'], '(integer) 0'],
      [['GET', 'd:a'], '(nil)'],
      [['UNLINK', 'd:b', 'd:c', 'd:b'], '(integer) 2'],
      [['EXISTS', 'd:b', 'd:c'], '(integer) 0'],
      [['DEL', 'd:b'], '(integer) 0'],
      [['SET', 'd:a', 'again'], 'OK'],
      [['GET', 'd:a'], '"again"']
    ])
  })

  t.test('SELECT: only database 0', async tt => {
    await steps(tt, [
      [['SELECT', '0'], 'OK'],
      [['SELECT', '1'], '(error) ERR DB index is out of range'],
      [['SELECT', '15'], '(error) ERR DB index is out of range']
    ])
  })

  t.test('TIME: seconds and microseconds of now', async tt => {
    const [sec, usec] = (await cliRaw(node.port, 'TIME')).split('\n')
    tt.match(sec, /^\d+$/)
    tt.match(usec, /^\d+$/)
    tt.ok(Math.abs(Number(sec) - Date.now() / 1000) < 30, 'seconds are the wall clock')
    tt.ok(Number(usec) >= 0 && Number(usec) < 1e6, 'microseconds within a second')
  })

  t.test('CLIENT SETNAME / GETNAME / ID / INFO / LIST / SETINFO on one connection', async tt => {
    const out = (await cliScript(node.port, [
      'CLIENT GETNAME',
      'CLIENT SETNAME spec-conn',
      'CLIENT GETNAME',
      'CLIENT ID',
      'CLIENT SETINFO LIB-NAME speclib',
      'CLIENT SETINFO LIB-VER 1.2.3',
      'CLIENT INFO',
      'CLIENT LIST',
      'CLIENT SETNAME "with space"'
    ], ['--no-raw'])).split('\n')
    tt.equal(out[0], '(nil)', 'no name at first')
    tt.equal(out[1], 'OK')
    tt.equal(out[2], '"spec-conn"')
    const id = /^\(integer\) (\d+)$/.exec(out[3])
    tt.ok(id, 'CLIENT ID is an integer')
    tt.equal(out[4], 'OK')
    tt.equal(out[5], 'OK')
    const info = out[6] ?? ''
    tt.match(info, new RegExp(`^id=${id?.[1] ?? 'x'} .*\\bname=spec-conn\\b`), 'CLIENT INFO: this connection, its id and name')
    tt.match(info, /lib-name=speclib/, 'SETINFO LIB-NAME shows')
    tt.match(info, /lib-ver=1\.2\.3/, 'SETINFO LIB-VER shows')
    const all = out.join('\n')
    tt.ok((all.match(new RegExp(`id=${id?.[1] ?? 'x'} `, 'g')) ?? []).length >= 2, 'CLIENT LIST holds this connection too')
    tt.equal(out[out.length - 1], '(error) ERR Client names cannot contain spaces, newlines or special characters.')
  })

  t.test('COMMAND COUNT / LIST / INFO / DOCS', async tt => {
    const count = Number((await dk('COMMAND', 'COUNT')).replace('(integer) ', ''))
    tt.ok(count > 20, 'COMMAND COUNT is a positive integer')
    const list = (await cliRaw(node.port, 'COMMAND', 'LIST')).split('\n')
    tt.equal(list.filter(n => !n.includes('|')).length, count, 'COMMAND LIST has COUNT commands (and, as Redis 7, their subcommands)')
    for (const name of ['get', 'set', 'del', 'scan', 'getctx', 'put', 'delctx', 'info', 'hello', 'client', 'command', 'config']) {
      tt.ok(list.includes(name), `COMMAND LIST has ${name}`)
    }
    const info = await dk('COMMAND', 'INFO', 'get', 'nosuchcmd')
    tt.match(info, /^1\) +1\) "get"\n +2\) \(integer\) 2\n/, 'COMMAND INFO get: name and arity 2')
    tt.match(info, /\n2\) \(nil\)$/, 'COMMAND INFO of an unknown command is nil')
    const docs = await dk('COMMAND', 'DOCS', 'get')
    tt.match(docs, /^1\) "get"\n2\) /, 'COMMAND DOCS get is a map keyed by name')
    tt.match(docs, /"summary"/)
    const dbsize = await dk('COMMAND', 'DOCS', 'dbsize')
    tt.match(dbsize, /estimate/i, 'docs/semantics.md: DBSIZE is an estimate and says so in COMMAND DOCS')
    const alldocs = await redisCli(node.port, ['COMMAND', 'DOCS'])
    tt.equal(alldocs.code, 0, 'COMMAND DOCS with no names does not break redis-cli')
    tt.match(alldocs.stdout, /\bsummary\b/, 'and it holds the docs')
  })

  t.test('CONFIG GET save / appendonly (what redis-benchmark asks)', async tt => {
    await steps(tt, [
      [['CONFIG', 'GET', 'save'], '1) "save"\n2) ""'],
      [['CONFIG', 'GET', 'appendonly'], '1) "appendonly"\n2) "no"'],
      [['CONFIG', 'GET', 'nosuchparam'], '(empty array)']
    ])
  })

  t.test('INFO: # Section headers, key:value lines, loading:0', async tt => {
    const text = await cliRaw(node.port, 'INFO')
    const lines = text.split(/\r?\n/)
    const sections = lines.filter(l => l.startsWith('# ')).map(l => l.slice(2))
    for (const s of ['Server', 'Clients', 'Persistence', 'Replication']) tt.ok(sections.includes(s), `section ${s}`)
    for (const l of lines) {
      if (l === '' || l.startsWith('# ')) continue
      tt.match(l, /^[a-z0-9_]+:/i, `key:value line: ${l}`)
    }
    const kv = new Map(lines.filter(l => l.includes(':') && !l.startsWith('#')).map(l => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]))
    tt.equal(kv.get('loading'), '0')
    tt.match(kv.get('redis_version') ?? '', /^\d+\.\d+\.\d+$/)
    tt.equal(kv.get('redis_mode'), 'standalone')
    tt.equal(kv.get('role'), 'master')
    const one = await cliRaw(node.port, 'INFO', 'persistence')
    tt.match(one, /^# Persistence\r?\n/, 'INFO <section> starts with that section')
    tt.notMatch(one, /# Server/, 'and holds only it')
  })

  t.test('SCAN, KEYS, RANDOMKEY, DBSIZE, FLUSHALL', async tt => {
    tt.equal(await dk('FLUSHALL'), 'OK')
    tt.equal(await dk('DBSIZE'), '(integer) 0')
    tt.equal(await dk('RANDOMKEY'), '(nil)')
    tt.equal(await dk('KEYS', '*'), '(empty array)')
    tt.equal(await dk('SCAN', '0'), '1) "0"\n2) (empty array)')

    const keys: string[] = []
    for (let i = 0; i < 300; i++) keys.push(`scan:${i}`)
    for (let i = 0; i < keys.length; i += 100) {
      tt.equal(await dk('MSET', ...keys.slice(i, i + 100).flatMap(k => [k, 'v'])), 'OK')
    }
    await steps(tt, [[['MSET', 'hello', '1', 'hallo', '2', 'hxllo', '3', 'heeeello', '4', 'a*b', '5', 'hllo', '6'], 'OK']])
    tt.equal(await dk('DBSIZE'), '(integer) 306', 'DBSIZE counts every key (one node, N=1)')

    // SCAN by hand: every key at least once, cursors decimal, ends at 0.
    const seen = new Map<string, number>()
    let cursor = '0'
    let rounds = 0
    do {
      const lines = (await cliRaw(node.port, 'SCAN', cursor, 'COUNT', '7', 'MATCH', 'scan:*')).split('\n')
      cursor = lines[0]
      tt.match(cursor, /^\d+$/, 'cursor is a decimal integer')
      for (const k of lines.slice(1)) if (k !== '') seen.set(k, (seen.get(k) ?? 0) + 1)
      rounds++
    } while (cursor !== '0' && rounds < 2000)
    tt.equal(cursor, '0', 'the iteration ends at cursor 0')
    tt.ok(rounds > 1, 'COUNT 7 takes several rounds')
    tt.same(keys.filter(k => !seen.has(k)), [], 'every key returned at least once')
    tt.same([...seen.keys()].filter(k => !k.startsWith('scan:')), [], 'MATCH filters')

    // redis-cli --scan runs the same loop itself.
    const byCli = (await redisCli(node.port, ['--scan', '--pattern', 'scan:*'])).stdout.split('\n').filter(k => k !== '')
    tt.same([...new Set(byCli)].sort(), [...keys].sort(), 'redis-cli --scan finds them all')

    const sortedKeys = async (pattern: string): Promise<string[]> =>
      (await cliRaw(node.port, 'KEYS', pattern)).split('\n').filter(k => k !== '').sort()
    tt.same(await sortedKeys('h?llo'), ['hallo', 'hello', 'hxllo'])
    tt.same(await sortedKeys('h*llo'), ['hallo', 'heeeello', 'hello', 'hllo', 'hxllo'])
    tt.same(await sortedKeys('h[ae]llo'), ['hallo', 'hello'])
    tt.same(await sortedKeys('h[^e]llo'), ['hallo', 'hxllo'])
    tt.same(await sortedKeys('h[a-b]llo'), ['hallo'])
    tt.same(await sortedKeys('a\\*b'), ['a*b'])
    tt.equal((await sortedKeys('scan:*')).length, 300)
    tt.equal((await sortedKeys('*')).length, 306)

    const all = new Set([...keys, 'hello', 'hallo', 'hxllo', 'heeeello', 'a*b', 'hllo'])
    for (let i = 0; i < 5; i++) {
      const k = await cliRaw(node.port, 'RANDOMKEY')
      tt.ok(all.has(k), `RANDOMKEY returns an existing key (${k})`)
    }

    await steps(tt, [
      [['SCAN', 'notanumber'], '(error) ERR invalid cursor'],
      [['SCAN', '0', 'COUNT', '0'], '(error) ERR syntax error'],
      [['SCAN', '0', 'BOGUS', '1'], '(error) ERR syntax error']
    ])

    tt.equal(await dk('FLUSHALL'), 'OK')
    tt.equal(await dk('DBSIZE'), '(integer) 0', 'FLUSHALL empties the node')
    tt.equal(await dk('GET', 'hello'), '(nil)')
    tt.equal(await dk('KEYS', '*'), '(empty array)')
    tt.equal(await dk('SET', 'after', 'flush'), 'OK')
    tt.equal(await dk('GET', 'after'), '"flush"', 'writes work after FLUSHALL')
  })

  t.test('SCAN and KEYS list keys stored after large values', async tt => {
    tt.equal(await dk('FLUSHALL'), 'OK')
    const small = Array.from({ length: 200 }, (_, i) => `lv:small:${i}`)
    tt.equal(await dk('MSET', ...small.flatMap(k => [k, 'v'])), 'OK')
    const big = Array.from({ length: 16 }, (_, i) => `lv:big:${i}`)
    for (const k of big) tt.equal(await dk('SET', k, 'x'.repeat(100 * 1024)), 'OK', `SET ${k} (100 KB)`)
    const every = [...small, ...big].sort()
    tt.equal(await dk('DBSIZE'), `(integer) ${every.length}`)
    const keys = (await cliRaw(node.port, 'KEYS', '*')).split('\n').filter(k => k !== '').sort()
    tt.same(keys, every, 'KEYS * returns every key')
    const scanned = (await redisCli(node.port, ['--scan'])).stdout.split('\n').filter(k => k !== '')
    tt.same([...new Set(scanned)].sort(), every, 'SCAN (redis-cli --scan) returns every key')
    tt.equal(await dk('FLUSHALL'), 'OK')
  })

  t.test('generic error wording is Redis\'s (compared with a live redis-server)', async tt => {
    if (redis === null) return tt.plan(0, 'redis-server is not installed')
    const ref = redis
    const inputs: string[][] = [
      // unknown command
      ['NOSUCHCMD'],
      ['nosuchcmd', 'a', 'b c', ''],
      ['FOO', 'x'.repeat(200)],
      // wrong arity
      ['GET'],
      ['GET', 'a', 'b'],
      ['SET', 'a'],
      ['PING', 'a', 'b'],
      ['ECHO'],
      ['MSET', 'a'],
      ['MSET', 'a', '1', 'b'],
      ['INCRBY', 'a'],
      ['DEL'],
      ['EXISTS'],
      ['STRLEN'],
      ['GETRANGE', 'a', '0'],
      ['SETRANGE', 'a', '0'],
      ['TIME', 'x'],
      ['DBSIZE', 'x'],
      ['CLIENT'],
      ['CLIENT', 'SETNAME'],
      ['CLIENT', 'ID', 'x'],
      ['CONFIG', 'GET'],
      ['COMMAND', 'COUNT', 'x'],
      // syntax error
      ['SET', 'w:k', 'v', 'NX', 'XX'],
      ['SET', 'w:k', 'v', 'NOPE'],
      ['SCAN', '0', 'COUNT'],
      ['SCAN', '0', 'NOPE', 'x'],
      ['FLUSHALL', 'NOPE'],
      // not an integer / out of range / overflow
      ['INCRBY', 'w:n', 'abc'],
      ['INCRBY', 'w:n', '1.0'],
      ['DECRBY', 'w:n', '99999999999999999999'],
      ['DECRBY', 'w:n', '-9223372036854775808'],
      ['GETRANGE', 'w:k', 'a', '1'],
      ['SETRANGE', 'w:k', 'a', 'x'],
      ['SETRANGE', 'w:k', '-1', 'x'],
      ['SELECT', 'x'],
      ['INCRBYFLOAT', 'w:n', 'abc'],
      ['SCAN', 'abc'],
      // DB index
      ['SELECT', '-1'],
      ['SELECT', '16'],
      ['SELECT', '100000']
    ]
    for (const args of inputs) {
      const [a, b] = await Promise.all([cliFormatted(node.port, ...args), cliFormatted(ref.port, ...args)])
      tt.equal(a, b, `same reply as redis-server: ${args.join(' ').slice(0, 60)}`)
    }
  })
}
