// Redis string commands on Dynamo objects. A key's value is its newest live
// sibling (DESIGN.md §2). Blind writes (SET, MSET) supersede every version the
// coordinator knows; read-modify-write commands run serialized per key on the
// coordinator over a quorum read and a quorum write (not atomic cluster-wide).
import { liveValue, type VObject } from '../../versioning/index.js'
import { OK, NULL, ZERO, ONE, array, bulk, bulkOrNull, int, type Reply } from '../reply.js'
import type { Call, CommandSpec, KeySpec } from './types.js'
import { E, fail, formatHumanFloat, inInt64, intArg, lower, parseFloatStrict, parseInt64 } from './util.js'

const valueOf = (obj: VObject | undefined): Buffer | null => obj === undefined ? null : liveValue(obj)

function then<T> (v: T | Promise<T>, f: (v: T) => Reply): Reply | Promise<Reply> {
  return v instanceof Promise ? v.then(f) : f(v)
}

const ok = (): Reply => OK

function checkSize (c: Call, n: number): void {
  if (n > c.node.config.protoMaxBulkLen) fail(E.tooBig)
}

export function get (c: Call): Reply | Promise<Reply> {
  return then(c.node.value(c.node.ref(c.args[1])), bulkOrNull)
}

function set (c: Call): Reply | Promise<Reply> {
  const [, key, value] = c.args
  let mode: 'nx' | 'xx' | null = null
  let getOld = false
  for (let i = 3; i < c.args.length; i++) {
    const opt = lower(c.args[i])
    if (opt === 'nx' && mode === null) mode = 'nx'
    else if (opt === 'xx' && mode === null) mode = 'xx'
    else if (opt === 'get' && !getOld) getOld = true
    else if (opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat' || opt === 'keepttl') fail(E.expiry)
    else fail(E.syntax)
  }
  const ref = c.node.ref(key)
  if (mode === null && !getOld) return c.node.set(ref, value).then(ok)
  return c.node.modify<Reply>(ref, (cur) => {
    const old = valueOf(cur)
    const write = mode === null || (mode === 'nx' ? old === null : old !== null)
    const reply: Reply = getOld ? bulkOrNull(old) : write ? OK : NULL
    return write ? { value, result: reply } : { result: reply }
  })
}

function setnx (c: Call): Promise<Reply> {
  return c.node.modify<Reply>(c.node.ref(c.args[1]), (cur) =>
    valueOf(cur) === null ? { value: c.args[2], result: ONE } : { result: ZERO })
}

function getset (c: Call): Promise<Reply> {
  return c.node.modify<Reply>(c.node.ref(c.args[1]), (cur) => ({ value: c.args[2], result: bulkOrNull(valueOf(cur)) }))
}

function getdel (c: Call): Promise<Reply> {
  return c.node.modify<Reply>(c.node.ref(c.args[1]), (cur) => {
    const old = valueOf(cur)
    return old === null ? { result: NULL } : { value: null, result: bulk(old) }
  })
}

function append (c: Call): Promise<Reply> {
  return c.node.modify<Reply>(c.node.ref(c.args[1]), (cur) => {
    const old = valueOf(cur)
    const next = old === null ? c.args[2] : Buffer.concat([old, c.args[2]])
    checkSize(c, next.length)
    return { value: next, result: int(next.length) }
  })
}

function strlen (c: Call): Reply | Promise<Reply> {
  return then(c.node.value(c.node.ref(c.args[1])), (v) => int(v?.length ?? 0))
}

function getrange (c: Call): Reply | Promise<Reply> {
  let start = intArg(c.args[2])
  let end = intArg(c.args[3])
  return then(c.node.value(c.node.ref(c.args[1])), (found) => {
    const v = found ?? Buffer.alloc(0)
    const n = v.length
    if (start < 0 && end < 0 && start > end) return bulk('')
    if (start < 0) start = Math.max(0, n + start)
    if (end < 0) end = Math.max(0, n + end)
    end = Math.min(end, n - 1)
    if (start > end || n === 0) return bulk('')
    return bulk(v.subarray(start, end + 1))
  })
}

function setrange (c: Call): Promise<Reply> | Reply {
  const offset = intArg(c.args[2])
  if (offset < 0) fail(E.offsetRange)
  const patch = c.args[3]
  checkSize(c, offset + patch.length)
  return c.node.modify<Reply>(c.node.ref(c.args[1]), (cur) => {
    const old = valueOf(cur)
    if (patch.length === 0) return { result: int(old?.length ?? 0) }
    const len = Math.max(old?.length ?? 0, offset + patch.length)
    const next = Buffer.alloc(len)
    old?.copy(next, 0)
    patch.copy(next, offset)
    return { value: next, result: int(len) }
  })
}

function incrBy (c: Call, delta: bigint): Promise<Reply> {
  return c.node.modify<Reply>(c.node.ref(c.args[1]), (cur) => {
    const old = valueOf(cur)
    const base = old === null ? 0n : parseInt64(old)
    if (base === null) fail(E.notInteger)
    const next = base + delta
    if (!inInt64(next)) fail(E.overflow)
    return { value: Buffer.from(next.toString()), result: int(next) }
  })
}

function deltaArg (b: Buffer): bigint {
  const v = parseInt64(b)
  if (v === null) fail(E.notInteger)
  return v
}

function incrbyfloat (c: Call): Promise<Reply> {
  const delta = parseFloatStrict(c.args[2])
  if (delta === null) fail(E.notFloat)
  return c.node.modify<Reply>(c.node.ref(c.args[1]), (cur) => {
    const old = valueOf(cur)
    const base = old === null ? 0 : parseFloatStrict(old)
    if (base === null) fail(E.notFloat)
    const next = base + delta
    if (!Number.isFinite(next)) fail(E.nanOrInf)
    const s = formatHumanFloat(next)
    return { value: Buffer.from(s), result: bulk(s) }
  })
}

async function mget (c: Call): Promise<Reply> {
  const replies = await Promise.all(c.args.slice(1).map(k => c.exec([Buffer.from('GET'), k])))
  return array(replies)
}

async function mset (c: Call): Promise<Reply> {
  if (c.args.length % 2 !== 1) fail("ERR wrong number of arguments for 'mset' command")
  const writes: Array<Reply | Promise<Reply>> = []
  for (let i = 1; i < c.args.length; i += 2) writes.push(c.exec([Buffer.from('SET'), c.args[i], c.args[i + 1]]))
  const replies = await Promise.all(writes)
  return replies.find(r => r.type === 'error') ?? OK
}

async function msetnx (c: Call): Promise<Reply> {
  if (c.args.length % 2 !== 1) fail("ERR wrong number of arguments for 'msetnx' command")
  const keys: Buffer[] = []
  for (let i = 1; i < c.args.length; i += 2) keys.push(c.args[i])
  const exists = await c.exec([Buffer.from('EXISTS'), ...keys])
  if (exists.type === 'error') return exists
  if (exists.type === 'int' && Number(exists.value) > 0) return ZERO
  const done = await mset(c)
  return done.type === 'error' ? done : ONE
}

const noExpiry = (): never => fail(E.expiry)

const STRING = { group: 'string', acl: ['string'], firstKey: 1, lastKey: 1, step: 1, route: 'key' } as const
/** Redis's key spec of a one-key string command, by its flags. */
const on = (...flags: string[]): { keySpecs: KeySpec[] } => ({ keySpecs: [{ flags, index: 1, range: [0, 1, 0] }] })

export const stringCommands: CommandSpec[] = [
  { name: 'get', arity: 2, flags: ['readonly', 'fast'], ...STRING, ...on('RO', 'access'), summary: 'Returns the newest value of a key.', since: '1.0.0', handler: get },
  { name: 'set', arity: -3, flags: ['write', 'denyoom'], ...STRING, ...on('RW', 'access', 'update', 'variable_flags'), summary: 'Sets the value of a key, superseding every version the coordinator knows. NX/XX/GET read first (not atomic cluster-wide).', since: '1.0.0', handler: set },
  { name: 'setnx', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('OW', 'insert'), summary: 'Sets a key only when it has no value (read-modify-write on the coordinator).', since: '1.0.0', handler: setnx },
  { name: 'getset', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Sets a key and returns its previous value.', since: '1.0.0', handler: getset },
  { name: 'getdel', arity: 2, flags: ['write', 'fast'], ...STRING, ...on('RW', 'access', 'delete'), summary: 'Returns the value of a key and deletes it.', since: '6.2.0', handler: getdel },
  { name: 'append', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'insert'), summary: 'Appends to the value of a key.', since: '2.0.0', handler: append },
  { name: 'strlen', arity: 2, flags: ['readonly', 'fast'], ...STRING, ...on('RO'), summary: 'Returns the length of a value.', since: '2.2.0', handler: strlen },
  { name: 'getrange', arity: 4, flags: ['readonly'], ...STRING, ...on('RO', 'access'), summary: 'Returns a substring of a value.', since: '2.4.0', handler: getrange },
  { name: 'substr', arity: 4, flags: ['readonly'], ...STRING, ...on('RO', 'access'), summary: 'Returns a substring of a value (GETRANGE\'s old name).', since: '1.0.0', handler: getrange },
  { name: 'setrange', arity: 4, flags: ['write', 'denyoom'], ...STRING, ...on('RW', 'update'), summary: 'Overwrites part of a value at an offset.', since: '2.2.0', handler: setrange },
  { name: 'incr', arity: 2, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Increments an integer value by one.', since: '1.0.0', handler: (c) => incrBy(c, 1n) },
  { name: 'decr', arity: 2, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Decrements an integer value by one.', since: '1.0.0', handler: (c) => incrBy(c, -1n) },
  { name: 'incrby', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Increments an integer value by a number.', since: '1.0.0', handler: (c) => incrBy(c, deltaArg(c.args[2])) },
  {
    name: 'decrby',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    ...STRING,
    ...on('RW', 'access', 'update'),
    summary: 'Decrements an integer value by a number.',
    since: '1.0.0',
    handler: (c) => {
      const d = deltaArg(c.args[2])
      if (d === -(2n ** 63n)) fail('ERR decrement would overflow')
      return incrBy(c, -d)
    }
  },
  { name: 'incrbyfloat', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Increments a floating point value.', since: '2.6.0', handler: incrbyfloat },
  { name: 'mget', arity: -2, flags: ['readonly', 'fast'], group: 'string', acl: ['string'], firstKey: 1, lastKey: -1, step: 1, keySpecs: [{ flags: ['RO', 'access'], index: 1, range: [-1, 1, 0] }], tips: ['request_policy:multi_shard'], summary: 'Returns the values of several keys (one quorum read per key).', since: '1.0.0', handler: mget },
  { name: 'mset', arity: -3, flags: ['write', 'denyoom'], group: 'string', acl: ['string'], firstKey: 1, lastKey: -1, step: 2, keySpecs: [{ flags: ['OW', 'update'], index: 1, range: [-1, 2, 0] }], tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'], summary: 'Sets several keys (one quorum write per key; not atomic).', since: '1.0.1', handler: mset },
  { name: 'msetnx', arity: -3, flags: ['write', 'denyoom'], group: 'string', acl: ['string'], firstKey: 1, lastKey: -1, step: 2, keySpecs: [{ flags: ['OW', 'insert'], index: 1, range: [-1, 2, 0] }], tips: ['request_policy:multi_shard', 'response_policy:agg_min'], summary: 'Sets several keys when none has a value (checked first; not atomic cluster-wide).', since: '1.0.1', handler: msetnx },
  { name: 'setex', arity: 4, flags: ['write', 'denyoom'], ...STRING, ...on('OW', 'update'), summary: 'Not supported: keys never expire.', since: '2.0.0', handler: noExpiry },
  { name: 'psetex', arity: 4, flags: ['write', 'denyoom'], ...STRING, ...on('OW', 'update'), summary: 'Not supported: keys never expire.', since: '2.6.0', handler: noExpiry }
]
