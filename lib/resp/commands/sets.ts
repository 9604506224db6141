// Sets (docs/types.md): an observed-remove set. Each member is a record of its
// own under the key (versioning's sibling set of adds and removes): SADD writes
// a new version over what the coordinator read of the member, SREM a tombstone
// covering exactly the adds it read — so an add it did not see survives (add
// wins), and no per-member tombstone outlives the reaping rule.
import { NULL, ZERO, ONE, array, bulk, int, set as setReply, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { redisMeta } from './redis-table.js'
import { E, fail, intArg, lower } from './util.js'
import {
  countArg, removeElements, elementRefs, expectType, readElements, isLive, randomPicks, readAll, removeElement, scanArgs, scanPage, scanReply,
  storeCollection, writeElement, type Element
} from './collections.js'
import { Buffer } from 'node:buffer'

const EMPTY = Buffer.alloc(0)

function members (items: Element[] | Buffer[]): Reply[] {
  return items.map(e => bulk(Buffer.isBuffer(e) ? e : e.element))
}

/** RESP3 answers a set of members as a set. */
function memberSet (c: Call, items: Element[] | Buffer[]): Reply {
  return c.session.proto === 3 ? setReply(members(items)) : array(members(items))
}

function unique (bufs: Buffer[]): Buffer[] {
  const seen = new Set<string>()
  return bufs.filter((b) => {
    const k = b.toString('latin1')
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

function sadd (c: Call): Promise<Reply> {
  const key = c.node.ref(c.args[1])
  const added = unique(c.args.slice(2))
  const refs = elementRefs(key, 'set', added)
  return c.node.records.txn(key, refs, async (view) => {
    const writes = await c.node.records.ensureCollection(view, 'set')
    // A member left by an expired set (not cleaned yet) is not there any more.
    const had = view.state.type === 'set'
    let n = 0
    refs.forEach((ref, i) => {
      if (!had || !isLive(view.elements[i])) n++
      writes.push(writeElement(ref, view.elements[i], EMPTY))
    })
    return { writes, result: int(n) }
  })
}


async function smembers (c: Call): Promise<Reply> {
  return memberSet(c, await readAll(c, c.node.ref(c.args[1]), 'set') ?? [])
}

/** SISMEMBER / SMISMEMBER: one quorum read of the key record and the members asked. */
async function isMembers (c: Call, asked: Buffer[]): Promise<boolean[]> {
  const objs = await readElements(c, 'set', asked)
  return objs === null ? asked.map(() => false) : objs.map(isLive)
}

async function scard (c: Call): Promise<Reply> {
  return int((await readAll(c, c.node.ref(c.args[1]), 'set'))?.length ?? 0)
}

async function srandmember (c: Call): Promise<Reply> {
  const count = c.args.length === 3 ? countArg(c.args[2]) : null
  if (c.args.length > 3) fail(E.syntax)
  const all = await readAll(c, c.node.ref(c.args[1]), 'set') ?? []
  if (count === null) return all.length === 0 ? NULL : bulk(randomPicks(c, all, 1)[0].element)
  return array(members(randomPicks(c, all, count)))
}

async function spop (c: Call): Promise<Reply> {
  if (c.args.length > 3) fail(E.syntax)
  const count = c.args.length === 3 ? intArg(c.args[2], 'ERR value is out of range, must be positive') : null
  if (count !== null && count < 0) fail('ERR value is out of range, must be positive')
  const key = c.node.ref(c.args[1])
  return c.node.records.txn(key, [], async (view) => {
    if (!expectType(view, 'set')) return { writes: [], result: count === null ? NULL : memberSet(c, []) }
    const all = await readAll(c, key, 'set') ?? []
    const picked = randomPicks(c, all, count ?? 1)
    const writes = picked.map(e => removeElement(key.element('set', e.element), e.obj))
    return { writes, result: count === null ? (picked.length === 0 ? NULL : bulk(picked[0].element)) : memberSet(c, picked) }
  })
}

/** SMOVE source destination member: a remove from source, then an add to destination (not atomic across keys). */
async function smove (c: Call): Promise<Reply> {
  const [, src, dst, member] = c.args
  const srcKey = c.node.ref(src)
  const dstKey = c.node.ref(dst)
  // Destination of another type: refused before anything is removed.
  const dstState = await c.node.records.state(dstKey, 'set')
  expectType(dstState, 'set')
  const ref = srcKey.element('set', member)
  const moved = await c.node.records.txn(srcKey, [ref], (view) => {
    if (!expectType(view, 'set') || !isLive(view.elements[0])) return { writes: [], result: false }
    return { writes: src.equals(dst) ? [] : [removeElement(ref, view.elements[0])], result: true }
  })
  if (!moved) return ZERO
  if (!src.equals(dst)) await c.exec([Buffer.from('SADD'), dst, member])
  return ONE
}

/** The members of each key, as sets of latin1 strings with their bytes (absent key: empty). */
async function memberSets (c: Call, keys: Buffer[]): Promise<Array<Map<string, Buffer>>> {
  return await Promise.all(keys.map(async (k) => {
    const all = await readAll(c, c.node.ref(k), 'set') ?? []
    return new Map(all.map(e => [e.element.toString('latin1'), e.element]))
  }))
}

type SetOp = 'inter' | 'union' | 'diff'

function combine (op: SetOp, sets: Array<Map<string, Buffer>>): Buffer[] {
  if (sets.length === 0) return []
  const [first, ...rest] = sets
  if (op === 'union') {
    const out = new Map(first)
    for (const s of rest) for (const [k, v] of s) out.set(k, v)
    return [...out.values()]
  }
  const out: Buffer[] = []
  for (const [k, v] of first) {
    if (op === 'inter' ? rest.every(s => s.has(k)) : !rest.some(s => s.has(k))) out.push(v)
  }
  return out
}

function setOp (op: SetOp) {
  return async (c: Call): Promise<Reply> => memberSet(c, combine(op, await memberSets(c, c.args.slice(1))))
}

function setOpStore (op: SetOp) {
  return async (c: Call): Promise<Reply> => {
    const result = combine(op, await memberSets(c, c.args.slice(2)))
    return int(await storeCollection(c, c.node.ref(c.args[1]), 'set', result.map(m => [m, EMPTY])))
  }
}

async function sintercard (c: Call): Promise<Reply> {
  const numkeys = intArg(c.args[1])
  if (numkeys <= 0) fail('ERR numkeys should be greater than 0')
  if (numkeys > c.args.length - 2) fail("ERR Number of keys can't be greater than number of args")
  let limit = 0
  for (let i = 2 + numkeys; i < c.args.length; i++) {
    if (lower(c.args[i]) !== 'limit' || i + 1 >= c.args.length) fail(E.syntax)
    limit = intArg(c.args[++i])
    if (limit < 0) fail("ERR LIMIT can't be negative")
  }
  const n = combine('inter', await memberSets(c, c.args.slice(2, 2 + numkeys))).length
  return int(limit > 0 ? Math.min(n, limit) : n)
}

async function sscan (c: Call): Promise<Reply> {
  const a = scanArgs(c)
  const page = await scanPage(c, c.node.ref(c.args[1]), 'set', a)
  if (page === null) return scanReply(0n, [])
  return scanReply(page.cursor, members(page.elements))
}

const KEY = { group: 'set', firstKey: 1, lastKey: 1, step: 1, route: 'key' } as const
const KEYS = { group: 'set', firstKey: 1, lastKey: -1, step: 1 } as const

export const setCommands: CommandSpec[] = [
  { name: 'sadd', ...KEY, ...redisMeta('sadd'), summary: 'Adds members to a set (an add wins over a concurrent remove that did not see it).', since: '1.0.0', handler: sadd },
  { name: 'srem', ...KEY, ...redisMeta('srem'), summary: 'Removes members from a set (exactly the adds the coordinator read).', since: '1.0.0', handler: c => removeElements(c, 'set') },
  { name: 'smembers', ...KEY, ...redisMeta('smembers'), summary: 'Returns every member of a set.', since: '1.0.0', handler: smembers },
  { name: 'sismember', ...KEY, ...redisMeta('sismember'), summary: 'Is a value a member of a set?', since: '1.0.0', handler: async c => (await isMembers(c, [c.args[2]]))[0] ? ONE : ZERO },
  { name: 'smismember', ...KEY, ...redisMeta('smismember'), summary: 'Are values members of a set?', since: '6.2.0', handler: async c => array((await isMembers(c, c.args.slice(2))).map(b => b ? ONE : ZERO)) },
  { name: 'scard', ...KEY, ...redisMeta('scard'), summary: 'Returns the number of members of a set (reads them all).', since: '1.0.0', handler: scard },
  { name: 'srandmember', ...KEY, ...redisMeta('srandmember'), summary: 'Returns random members of a set.', since: '1.0.0', handler: srandmember },
  { name: 'spop', ...KEY, ...redisMeta('spop'), summary: 'Removes and returns random members of a set.', since: '1.0.0', handler: spop },
  { name: 'smove', group: 'set', ...redisMeta('smove'), summary: 'Moves a member from one set to another (a remove, then an add; not atomic).', since: '1.0.0', handler: smove },
  { name: 'sinter', ...KEYS, ...redisMeta('sinter'), summary: 'Returns the intersection of sets.', since: '1.0.0', handler: setOp('inter') },
  { name: 'sunion', ...KEYS, ...redisMeta('sunion'), summary: 'Returns the union of sets.', since: '1.0.0', handler: setOp('union') },
  { name: 'sdiff', ...KEYS, ...redisMeta('sdiff'), summary: 'Returns the members of the first set not in the others.', since: '1.0.0', handler: setOp('diff') },
  { name: 'sinterstore', ...KEYS, ...redisMeta('sinterstore'), summary: 'Stores the intersection of sets (replaces the destination; not atomic).', since: '1.0.0', handler: setOpStore('inter') },
  { name: 'sunionstore', ...KEYS, ...redisMeta('sunionstore'), summary: 'Stores the union of sets.', since: '1.0.0', handler: setOpStore('union') },
  { name: 'sdiffstore', ...KEYS, ...redisMeta('sdiffstore'), summary: 'Stores the difference of sets.', since: '1.0.0', handler: setOpStore('diff') },
  { name: 'sintercard', group: 'set', ...redisMeta('sintercard'), summary: 'Returns the size of the intersection of sets.', since: '7.0.0', handler: sintercard },
  { name: 'sscan', ...KEY, ...redisMeta('sscan'), summary: 'Iterates the members of a set (a stateless cursor any node resumes).', since: '2.8.0', handler: sscan }
]

