// COMMAND as Redis 7 answers it, compared with a live redis-server for every
// command both have: arity, flags, key positions, ACL categories, tips, key
// specs and subcommands (what cluster-aware clients and redis-cli's hints read),
// then COUNT/LIST/INFO/DOCS/GETKEYS/GETKEYSANDFLAGS side by side.
import t from 'tap'
import { haveRedisServer, startServer, startRedisServer, type RedisProc, type ServerProc } from '../helpers/server.js'
import { RawClient, frame, parseReplies, type Resp2 } from '../helpers/clients.js'

/** dynakv's own meaning of the command, documented in docs/semantics.md: not compared. */
const OWN = new Set(['debug'])

type Plain = string | number | null | Plain[]

function plain (r: Resp2): Plain {
  if (r instanceof Error) return `ERR:${r.message}`
  if (Buffer.isBuffer(r)) return r.toString('latin1')
  if (Array.isArray(r)) return r.map(plain)
  return r
}

async function call (port: number, ...args: string[]): Promise<Plain> {
  const c = await RawClient.connect(port)
  try {
    return plain(parseReplies(await c.call(...args))[0])
  } finally {
    c.close()
  }
}

/** A COMMAND INFO entry with its unordered parts sorted (Redis lists flags, tips and subcommands in table order). */
function normalize (entry: Plain): Plain {
  if (!Array.isArray(entry)) return entry
  const [name, arity, flags, first, last, step, acl, tips, keySpecs, subs] = entry as Plain[][]
  const sorted = (x: Plain[]): Plain[] => [...x].map(v => JSON.stringify(v)).sort().map(v => JSON.parse(v) as Plain)
  const specs = (keySpecs).map((ks) => {
    const m = ks as Plain[]
    const i = m.indexOf('notes')
    return i < 0 ? m : [...m.slice(0, i), ...m.slice(i + 2)] // notes are prose
  })
  return [name, arity, sorted(flags), first, last, step, acl, sorted(tips), specs, sorted(subs.map(normalize))]
}

let node: ServerProc
let redis: RedisProc | null = null

t.before(async () => {
  node = await startServer()
  redis = await startRedisServer()
})

t.test('COMMAND INFO of every command both have is Redis\'s', { skip: !haveRedisServer() && 'no redis-server' }, async tt => {
  const ref = (redis as RedisProc).port
  const names = (await call(node.port, 'COMMAND', 'LIST') as string[]).filter(n => !n.includes('|') && !OWN.has(n))
  const ours = await call(node.port, 'COMMAND', 'INFO', ...names) as Plain[]
  const theirs = await call(ref, 'COMMAND', 'INFO', ...names) as Plain[]
  let compared = 0
  names.forEach((name, i) => {
    const mine = ours[i] as Plain[]
    const want = theirs[i] as Plain[] | null
    if (want === null) return // dynakv's own (GETCTX, PUT, RING...) or newer than the reference
    compared++
    // Subcommands: only those both have (Redis has CLIENT KILL, CONFIG... dynakv a subset; 7.2 adds some).
    const theirSubs = new Map((want[9] as Plain[][]).map(s => [s[0], s]))
    const mySubs = (mine[9] as Plain[][]).filter(s => theirSubs.has(s[0]))
    const a = normalize([...mine.slice(0, 9), mySubs])
    const b = normalize([...want.slice(0, 9), mySubs.map(s => theirSubs.get(s[0]) as Plain)])
    tt.same(a, b, `COMMAND INFO ${name}`)
  })
  tt.ok(compared > 60, `compared ${compared} commands`)
})

t.test('COMMAND COUNT, LIST, INFO of unknown names, DOCS', async tt => {
  const count = await call(node.port, 'COMMAND', 'COUNT') as number
  const list = await call(node.port, 'COMMAND', 'LIST') as string[]
  tt.equal(list.filter(n => !n.includes('|')).length, count, 'COUNT is the number of top-level commands')
  tt.ok(list.includes('config|get') && list.includes('object|encoding'), 'LIST holds subcommands too')
  const all = await call(node.port, 'COMMAND') as Plain[][]
  tt.equal(all.length, count, 'COMMAND lists every command')
  tt.same((await call(node.port, 'COMMAND', 'INFO', 'get', 'nosuch'))?.[1 as never], null, 'an unknown name is nil')
  const docs = await call(node.port, 'COMMAND', 'DOCS', 'get', 'nosuch') as Plain[]
  tt.equal(docs[0], 'get', 'DOCS is a map keyed by name, unknown names left out')
  tt.equal(docs.length, 2)
})

t.test('COMMAND LIST FILTERBY and errors: same replies as redis-server (GETKEYS: spec/helpers/surface-cases.ts)', { skip: !haveRedisServer() && 'no redis-server' }, async tt => {
  const ref = (redis as RedisProc).port
  const cases: string[][] = [
    ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'transaction'],
    ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'obj*'],
    ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuch'],
    ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'],
    ['COMMAND', 'LIST', 'FILTERBY', 'BOGUS', 'x'],
    ['COMMAND', 'LIST', 'x'],
    ['COMMAND', 'COUNT', 'x'],
    ['COMMAND', 'FOO'],
    ['COMMAND', 'HELP'],
    ['COMMAND', 'INFO', 'config|get', 'object|encoding']
  ]
  for (const args of cases) {
    const [a, b] = await Promise.all([call(node.port, ...args), call(ref, ...args)])
    const order = (x: Plain): Plain => args[2] === 'FILTERBY' && Array.isArray(x) ? [...x].sort() : x
    tt.same(order(a), order(b), args.join(' '))
  }
})

t.test('redis-cli hints: COMMAND gives arity and first key for dynakv\'s own commands', async tt => {
  const all = await call(node.port, 'COMMAND', 'INFO', 'getctx', 'put', 'delctx', 'ring') as Plain[][]
  tt.same(all.map(e => [e[0], e[1], e[3]]), [['getctx', -2, 1], ['put', -4, 1], ['delctx', -3, 1], ['ring', -2, 0]])
  const raw = await RawClient.connect(node.port)
  raw.write(Buffer.concat([frame('HELLO', '3'), frame('COMMAND', 'INFO', 'get')]))
  const out = (await raw.readUntil(b => b.includes(Buffer.from('limit')))).toString('latin1')
  raw.close()
  tt.match(out, /~2\r\n\+readonly\r\n\+fast\r\n/, 'RESP3: flags are a set')
  tt.match(out, /%3\r\n\$5\r\nflags\r\n~2\r\n\+RO\r\n\+access\r\n\$12\r\nbegin_search\r\n%2\r\n/, 'RESP3: key specs are maps')
})
