// Hashes (docs/types.md): fields added and removed by the same observed-remove
// rule as set members; a field's value follows the string rule (the newest
// write wins for plain readers) and a field used with HINCRBY/HINCRBYFLOAT is a
// counter whose increments through every coordinator count.
import { elementState, type VObject } from '../../versioning/index.js'
import { NULL, ZERO, ONE, OK, array, bulk, bulkOrNull, int, map, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { redisMeta } from './redis-table.js'
import { E, fail, formatHumanFloat, inInt64, lower, parseFloatStrict, parseInt64 } from './util.js'
import {
  countArg, removeElements, elementRefs, expectType, readElements, incrementElement, isLive, randomPicks, readAll, scanArgs, scanPage,
  scanReply, writeElement, type Element
} from './collections.js'

function valueOf (obj: VObject | undefined): Buffer | null {
  return obj === undefined ? null : elementState(obj).value
}

/** Field-value pairs as Redis answers them: a map in RESP3, a flat array in RESP2. */
function pairs (c: Call, items: Array<[Buffer, Buffer | null]>): Reply {
  if (c.session.proto === 3) return map(items.map(([f, v]) => [bulk(f), bulkOrNull(v)]))
  return array(items.flatMap(([f, v]) => [bulk(f), bulkOrNull(v)]))
}

/** HSET / HMSET / HSETNX: each field written over what the coordinator read of it. */
function hsetGeneric (c: Call, nx: boolean): Promise<number> {
  if (c.args.length < 4 || c.args.length % 2 !== 0) fail(`ERR wrong number of arguments for '${lower(c.args[0])}' command`)
  const key = c.node.ref(c.args[1])
  // A field given twice: the last value wins, as in Redis.
  const fields = new Map<string, [Buffer, Buffer]>()
  for (let i = 2; i < c.args.length; i += 2) fields.set(c.args[i].toString('latin1'), [c.args[i], c.args[i + 1]])
  const list = [...fields.values()]
  const refs = elementRefs(key, 'hash', list.map(f => f[0]))
  return c.node.records.txn(key, refs, async (view) => {
    if (nx && expectType(view, 'hash') && isLive(view.elements[0])) return { writes: [], result: 0 }
    const writes = await c.node.records.ensureCollection(view, 'hash')
    // A field left by an expired hash (not cleaned yet) is not there any more.
    const had = view.state.type === 'hash'
    let added = 0
    refs.forEach((ref, i) => {
      if (!had || !isLive(view.elements[i])) added++
      writes.push(writeElement(ref, view.elements[i], list[i][1]))
    })
    return { writes, result: added }
  })
}


async function hget (c: Call): Promise<Reply> {
  const objs = await readElements(c, 'hash', [c.args[2]])
  return bulkOrNull(objs === null ? null : valueOf(objs[0]))
}

async function hmget (c: Call): Promise<Reply> {
  const fields = c.args.slice(2)
  const objs = await readElements(c, 'hash', fields)
  return array(fields.map((_, i) => bulkOrNull(objs === null ? null : valueOf(objs[i]))))
}

async function hexists (c: Call): Promise<Reply> {
  const objs = await readElements(c, 'hash', [c.args[2]])
  return objs !== null && isLive(objs[0]) ? ONE : ZERO
}

async function hstrlen (c: Call): Promise<Reply> {
  const objs = await readElements(c, 'hash', [c.args[2]])
  return int(objs === null ? 0 : valueOf(objs[0])?.length ?? 0)
}


async function all (c: Call): Promise<Element[]> {
  return await readAll(c, c.node.ref(c.args[1]), 'hash') ?? []
}

/** HINCRBY / HINCRBYFLOAT: a counter contribution on the field, as INCR on a string. */
function hincr (c: Call, float: boolean): Promise<Reply> {
  const key = c.node.ref(c.args[1])
  const ref = key.element('hash', c.args[2])
  const intDelta = float ? null : parseInt64(c.args[3])
  const floatDelta = float ? parseFloatStrict(c.args[3]) : null
  if (!float && intDelta === null) fail(E.notInteger)
  if (float && floatDelta === null) fail(E.notFloat)
  if (float && !Number.isFinite(floatDelta)) fail('ERR value is NaN or Infinity')
  return c.node.records.txn<Reply>(key, [ref], async (view) => {
    const writes = await c.node.records.ensureCollection(view, 'hash')
    const old = view.state.type === 'hash' ? valueOf(view.elements[0]) : null
    if (!float) {
      const base = old === null ? 0n : parseInt64(old)
      if (base === null) fail('ERR hash value is not an integer')
      const next = base + (intDelta as bigint)
      if (!inInt64(next)) fail(E.overflow)
      writes.push(incrementElement(ref, intDelta as bigint))
      return { writes, result: int(next) }
    }
    const base = old === null ? 0 : parseFloatStrict(old)
    if (base === null) fail('ERR hash value is not a float')
    const next = base + (floatDelta as number)
    if (!Number.isFinite(next)) fail(E.nanOrInf)
    writes.push(incrementElement(ref, floatDelta as number))
    return { writes, result: bulk(formatHumanFloat(next)) }
  })
}

async function hrandfield (c: Call): Promise<Reply> {
  if (c.args.length > 4 || (c.args.length === 4 && lower(c.args[3]) !== 'withvalues')) fail(E.syntax)
  const count = c.args.length >= 3 ? countArg(c.args[2]) : null
  const items = await all(c)
  if (count === null) return items.length === 0 ? NULL : bulk(randomPicks(c, items, 1)[0].element)
  const picked = randomPicks(c, items, count)
  if (c.args.length === 4) {
    if (c.session.proto === 3) return array(picked.map(e => array([bulk(e.element), bulkOrNull(valueOf(e.obj))])))
    return array(picked.flatMap(e => [bulk(e.element), bulkOrNull(valueOf(e.obj))]))
  }
  return array(picked.map(e => bulk(e.element)))
}

async function hscan (c: Call): Promise<Reply> {
  const a = scanArgs(c, true)
  const page = await scanPage(c, c.node.ref(c.args[1]), 'hash', a)
  if (page === null) return scanReply(0n, [])
  return scanReply(page.cursor, page.elements.flatMap(e => a.novalues ? [bulk(e.element)] : [bulk(e.element), bulkOrNull(valueOf(e.obj))]))
}

const KEY = { group: 'hash', firstKey: 1, lastKey: 1, step: 1, route: 'key' } as const

export const hashCommands: CommandSpec[] = [
  { name: 'hset', ...KEY, ...redisMeta('hset'), summary: 'Sets fields of a hash; returns how many were new.', since: '2.0.0', handler: async c => int(await hsetGeneric(c, false)) },
  { name: 'hmset', ...KEY, ...redisMeta('hmset'), summary: 'Sets fields of a hash.', since: '2.0.0', handler: async (c) => { await hsetGeneric(c, false); return OK } },
  { name: 'hsetnx', ...KEY, ...redisMeta('hsetnx'), summary: 'Sets a field of a hash when it has none.', since: '2.0.0', handler: async c => int(await hsetGeneric(c, true)) },
  { name: 'hget', ...KEY, ...redisMeta('hget'), summary: 'Returns the value of a field.', since: '2.0.0', handler: hget },
  { name: 'hmget', ...KEY, ...redisMeta('hmget'), summary: 'Returns the values of fields.', since: '2.0.0', handler: hmget },
  { name: 'hgetall', ...KEY, ...redisMeta('hgetall'), summary: 'Returns every field and value of a hash.', since: '2.0.0', handler: async c => pairs(c, (await all(c)).map(e => [e.element, valueOf(e.obj)])) },
  { name: 'hkeys', ...KEY, ...redisMeta('hkeys'), summary: 'Returns the fields of a hash.', since: '2.0.0', handler: async c => array((await all(c)).map(e => bulk(e.element))) },
  { name: 'hvals', ...KEY, ...redisMeta('hvals'), summary: 'Returns the values of a hash.', since: '2.0.0', handler: async c => array((await all(c)).map(e => bulkOrNull(valueOf(e.obj)))) },
  { name: 'hlen', ...KEY, ...redisMeta('hlen'), summary: 'Returns the number of fields of a hash (reads them all).', since: '2.0.0', handler: async c => int((await all(c)).length) },
  { name: 'hdel', ...KEY, ...redisMeta('hdel'), summary: 'Removes fields from a hash (exactly the writes the coordinator read).', since: '2.0.0', handler: c => removeElements(c, 'hash') },
  { name: 'hexists', ...KEY, ...redisMeta('hexists'), summary: 'Does a field exist?', since: '2.0.0', handler: hexists },
  { name: 'hstrlen', ...KEY, ...redisMeta('hstrlen'), summary: 'Returns the length of a field\'s value.', since: '3.2.0', handler: hstrlen },
  { name: 'hincrby', ...KEY, ...redisMeta('hincrby'), summary: 'Increments a field as a counter (increments through every node count).', since: '2.0.0', handler: c => hincr(c, false) },
  { name: 'hincrbyfloat', ...KEY, ...redisMeta('hincrbyfloat'), summary: 'Increments a field by a floating point number, as a counter.', since: '2.6.0', handler: c => hincr(c, true) },
  { name: 'hrandfield', ...KEY, ...redisMeta('hrandfield'), summary: 'Returns random fields of a hash.', since: '6.2.0', handler: hrandfield },
  { name: 'hscan', ...KEY, ...redisMeta('hscan'), summary: 'Iterates the fields of a hash (a stateless cursor any node resumes).', since: '2.8.0', handler: hscan }
]
