// Redis string commands on Dynamo objects (docs/semantics.md, docs/types.md). A
// key's value is its anchor's value (the newest write) plus the counter
// contributions it did not supersede. Blind writes (SET, MSET) supersede every
// version the coordinator knows; INCR and friends add a contribution on the
// coordinator's counter chain, so concurrent increments on different nodes all
// count; other read-modify-write commands run serialized per key on the
// coordinator over a quorum read and a quorum write (not atomic cluster-wide).
import { anchorRange, newestValueRange, objectClock, type KeyState } from '../../versioning/index.js'
import { WRONGTYPE, type StringRead } from '../../node/local.js'
import { WrongTypeError, type TxnOutcome, type TxnView } from '../../node/records.js'
import type { KeyRef } from '../../node/keys.js'
import type { DynakvNode } from '../../node/node.js'
import { OK, NULL, ZERO, ONE, array, bulk, bulkOrNull, int, type Proto, type Reply, type ReplyWriter } from '../reply.js'
import type { Call, CommandSpec, KeySpec } from './types.js'
import { E, fail, formatHumanFloat, inInt64, intArg, lower, parseFloatStrict, parseInt64 } from './util.js'
import { expiryOption, type ExpiryOption } from './expiry.js'
import { Buffer } from 'node:buffer'

export function then<T> (v: T | Promise<T>, f: (v: T) => Reply): Reply | Promise<Reply> {
  return v instanceof Promise ? v.then(f) : f(v)
}

const ok = (): Reply => OK

// Plain SETs of one group commit resolve with the engine's one batch promise:
// they share one OK promise too (and a connection then one reaction for all).
let lastWrite: Promise<unknown> | null = null
let lastOk: Promise<Reply> | null = null

/** OK once `write` resolves; the same promise for the same write promise. */
function okWhen (write: Promise<unknown>): Promise<Reply> {
  if (write !== lastWrite || lastOk === null) {
    lastWrite = write
    lastOk = write.then(ok)
  }
  return lastOk
}

/** A plain SET (no options) of key to value on this node: strings.ts `set`'s first case, for a connection's fast path. */
export function plainSet (node: DynakvNode, key: Buffer, value: Buffer): Promise<Reply> {
  return okWhen(node.set(node.ref(key), value, 0))
}

function checkSize (c: Call, n: number): void {
  if (n > c.node.config.protoMaxBulkLen) fail(E.tooBig)
}

/** A string read's value; WRONGTYPE for a key of another type. */
export function stringValue (v: StringRead): Buffer | null {
  if (v === WRONGTYPE) throw new WrongTypeError()
  return v
}

/** The string a transaction's view holds (null: none); WRONGTYPE for a collection. */
export function viewString (view: TxnView): Buffer | null {
  if (view.state.type === 'none') return null
  if (view.state.type !== 'string') throw new WrongTypeError()
  return view.state.value
}

/** The write of a new string value (null: delete) over what the view read; expireAt 0: none. */
export function writeString (view: TxnView, value: Buffer | null, expireAt = 0): TxnOutcome<undefined>['writes'][number] {
  const context = objectClock(view.obj ?? { siblings: [] })
  return { ref: view.key, change: value === null ? { op: 'tombstone', context } : { op: 'value', context, value, expireAt } }
}

/** A read-modify-write of a string key through the node's transaction. */
export function modifyString<R> (c: Call, key: KeyRef, fn: (view: TxnView, old: Buffer | null) => { value?: Buffer | null, expireAt?: number, result: R }): Promise<R> {
  return c.node.records.txn(key, [], (view) => {
    const old = viewString(view)
    const { value, expireAt, result } = fn(view, old)
    return { writes: value === undefined ? [] : [writeString(view, value, expireAt)], result }
  })
}

/** GET's reply to a read (no closure per GET: the hottest read). */
const getReply = (v: StringRead): Reply => bulkOrNull(stringValue(v))

export function get (c: Call): Reply | Promise<Reply> {
  const v = c.node.value(c.keyRef())
  return v instanceof Promise ? v.then(getReply) : getReply(v)
}

/** Where engine.cachedBytes found a cached GET's bytes in the slab it returns. */
const cachedRange = { start: 0, end: 0 }

/**
 * A plain GET on a single node (R 1) answered from the cache's bytes straight
 * into the connection's output: no KeyRef, Entry, parsed state, reply object
 * or view of the value (docs/performance.md, "getpath"). The answer is get's:
 * the newest value of a plain string, nil once its expiry has passed (the key
 * stays until the sweep takes it, as there) and nil for a key known absent or
 * a tombstone; counted as get counts a cache hit. false, nothing written nor
 * counted: not cached, a write of it pending, or not a plain string (a
 * collection's WRONGTYPE, a counter), and get runs as usual. The key is
 * key[from, to) (a view of it, or the request's bytes where the parser found them).
 */
export function writeCachedGet (node: DynakvNode, key: Buffer, from: number, to: number, proto: Proto, out: ReplyWriter): boolean {
  const engine = node.local.engine
  const slab = engine.cachedBytes(key, cachedRange, from, to)
  if (slab === undefined || (slab !== null && !plainString(slab, cachedRange.start, cachedRange.end))) return false
  engine.stats.reads++
  engine.stats.cacheHits++
  node.coordinator.stats.reads++
  if (slab === null || anchorRange.start < 0 || (anchorRange.expireAt > 0 && anchorRange.expireAt <= node.clock.now())) out.write(NULL, proto)
  else out.bulkOf(slab, anchorRange.start, anchorRange.end)
  return true
}

/** newestValueRange of bytes[start, end), false for bytes it cannot read (the general path answers them with its error). */
function plainString (bytes: Buffer, start: number, end: number): boolean {
  try {
    return newestValueRange(bytes, start, end)
  } catch {
    return false
  }
}

/** The expiry a SET-like command asks for: 0 none, -1 KEEPTTL, else an absolute time. */
function expiryOf (opt: ExpiryOption | null, nowMs: number): number {
  if (opt === null) return 0
  if (opt.kind !== 'at') return -1
  return opt.atMs(nowMs)
}

function set (c: Call): Reply | Promise<Reply> {
  const value = c.args[2]
  // A plain SET (the hottest write): no options to read, no clock.
  if (c.args.length === 3) return okWhen(c.node.set(c.keyRef(), value, 0))
  let mode: 'nx' | 'xx' | null = null
  let getOld = false
  let expiry: ExpiryOption | null = null
  for (let i = 3; i < c.args.length; i++) {
    const opt = lower(c.args[i])
    if (opt === 'nx' && mode === null) mode = 'nx'
    else if (opt === 'xx' && mode === null) mode = 'xx'
    else if (opt === 'get' && !getOld) getOld = true
    else if (expiry === null && (expiry = expiryOption(c.args, i, 'set', true)) !== null) i += expiry.argc - 1
    else fail(E.syntax)
  }
  const ref = c.keyRef()
  const now = c.node.clock.now()
  const expireAt = expiryOf(expiry, now)
  if (mode === null && !getOld && expireAt >= 0) return c.node.set(ref, value, expireAt).then(ok)
  return modifyString<Reply>(c, ref, (view, old) => {
    const write = mode === null || (mode === 'nx' ? old === null : old !== null)
    const reply: Reply = getOld ? bulkOrNull(old) : write ? OK : NULL
    return write ? { value, expireAt: expireAt < 0 ? view.state.expireAt : expireAt, result: reply } : { result: reply }
  })
}

function setex (c: Call, unitMs: number): Promise<Reply> {
  const name = unitMs === 1000 ? 'setex' : 'psetex'
  const n = intArg(c.args[2])
  if (n <= 0) fail(`ERR invalid expire time in '${name}' command`)
  const now = c.node.clock.now()
  const at = now + n * unitMs
  if (!Number.isSafeInteger(at)) fail(`ERR invalid expire time in '${name}' command`)
  return c.node.set(c.node.ref(c.args[1]), c.args[3], at).then(ok)
}

function setnx (c: Call): Promise<Reply> {
  return modifyString<Reply>(c, c.node.ref(c.args[1]), (_v, old) =>
    old === null ? { value: c.args[2], result: ONE } : { result: ZERO })
}

function getset (c: Call): Promise<Reply> {
  return modifyString<Reply>(c, c.node.ref(c.args[1]), (_v, old) => ({ value: c.args[2], result: bulkOrNull(old) }))
}

function getdel (c: Call): Promise<Reply> {
  return modifyString<Reply>(c, c.node.ref(c.args[1]), (_v, old) => old === null ? { result: NULL } : { value: null, result: bulk(old) })
}

function getex (c: Call): Promise<Reply> {
  let expiry: ExpiryOption | null = null
  for (let i = 2; i < c.args.length; i++) {
    if (expiry !== null) fail(E.syntax)
    expiry = expiryOption(c.args, i, 'getex', false, true)
    if (expiry === null) fail(E.syntax)
    i += expiry.argc - 1
  }
  return modifyString<Reply>(c, c.node.ref(c.args[1]), (view, old) => {
    if (old === null || expiry === null) return { result: bulkOrNull(old) }
    if (expiry.kind !== 'at') return view.state.expireAt === 0 ? { result: bulk(old) } : { value: old, expireAt: 0, result: bulk(old) }
    const at = expiry.atMs(view.nowMs)
    // A time already past deletes the key, as Redis does.
    return at <= view.nowMs ? { value: null, result: bulk(old) } : { value: old, expireAt: at, result: bulk(old) }
  })
}

/** A change that keeps the key's expiry (APPEND, SETRANGE, INCRBYFLOAT, SETBIT keep it in Redis). */
export function keepTtl (state: KeyState): number {
  return state.type === 'string' ? state.expireAt : 0
}

function append (c: Call): Promise<Reply> {
  return modifyString<Reply>(c, c.node.ref(c.args[1]), (view, old) => {
    const next = old === null ? c.args[2] : Buffer.concat([old, c.args[2]])
    checkSize(c, next.length)
    return { value: next, expireAt: keepTtl(view.state), result: int(next.length) }
  })
}

function strlen (c: Call): Reply | Promise<Reply> {
  return then(c.node.value(c.node.ref(c.args[1])), (v) => int(stringValue(v)?.length ?? 0))
}

function getrange (c: Call): Reply | Promise<Reply> {
  let start = intArg(c.args[2])
  let end = intArg(c.args[3])
  return then(c.node.value(c.node.ref(c.args[1])), (found) => {
    const v = stringValue(found) ?? Buffer.alloc(0)
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
  return modifyString<Reply>(c, c.node.ref(c.args[1]), (view, old) => {
    if (patch.length === 0) return { result: int(old?.length ?? 0) }
    const len = Math.max(old?.length ?? 0, offset + patch.length)
    const next = Buffer.alloc(len)
    old?.copy(next, 0)
    patch.copy(next, offset)
    return { value: next, expireAt: keepTtl(view.state), result: int(len) }
  })
}

/**
 * INCR and friends: a contribution on this coordinator's counter chain (see
 * versioning/counter.ts), so increments through different coordinators all
 * count — also on a deleted key (the DEL's base covers what it saw, so the count
 * starts from 0). On an expired key, or one holding an emptied collection's
 * marker, a tombstone covering what was read ends the old key first (what the
 * sweep would do; the expired anchor or the marker would hide a contribution),
 * so first increments through several coordinators all count too, without the
 * old key's expiry.
 */
function incrBy (c: Call, delta: bigint): Promise<Reply> {
  const key = c.node.ref(c.args[1])
  return c.node.records.txn(key, [], async (view) => {
    const old = viewString(view)
    const base = old === null ? 0n : parseInt64(old)
    if (base === null) fail(E.notInteger)
    const next = base + delta
    if (!inInt64(next)) fail(E.overflow)
    if (old === null && (view.state.expireAt > 0 || view.emptied === true)) {
      await c.node.records.writeAll(key, [{ ...writeString(view, null), incoming: view.obj }])
    }
    return { writes: [{ ref: key, change: { op: 'increment', delta } }], result: int(next) }
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
  return modifyString<Reply>(c, c.node.ref(c.args[1]), (view, old) => {
    const base = old === null ? 0 : parseFloatStrict(old)
    if (base === null) fail(E.notFloat)
    const next = base + delta
    if (!Number.isFinite(next)) fail(E.nanOrInf)
    const s = formatHumanFloat(next)
    return { value: Buffer.from(s), expireAt: keepTtl(view.state), result: bulk(s) }
  })
}

async function mget (c: Call): Promise<Reply> {
  // A key of another type reads as nil in MGET, as in Redis.
  const replies = await Promise.all(c.args.slice(1).map(k => c.exec([Buffer.from('GET'), k])))
  return array(replies.map(r => r.type === 'error' && r.value.startsWith('WRONGTYPE') ? NULL : r))
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

const STRING = { group: 'string', acl: ['string'], firstKey: 1, lastKey: 1, step: 1, route: 'key' } as const
/** Redis's key spec of a one-key string command, by its flags. */
const on = (...flags: string[]): { keySpecs: KeySpec[] } => ({ keySpecs: [{ flags, index: 1, range: [0, 1, 0] }] })

export const stringCommands: CommandSpec[] = [
  { name: 'get', arity: 2, flags: ['readonly', 'fast'], ...STRING, ...on('RO', 'access'), summary: 'Returns the value of a key.', since: '1.0.0', handler: get },
  { name: 'set', arity: -3, flags: ['write', 'denyoom'], ...STRING, ...on('RW', 'access', 'update', 'variable_flags'), summary: 'Sets the value of a key, superseding every version the coordinator knows; EX/PX/EXAT/PXAT/KEEPTTL set its expiry. NX/XX/GET/KEEPTTL read first (not atomic cluster-wide).', since: '1.0.0', handler: set },
  { name: 'setex', arity: 4, flags: ['write', 'denyoom'], ...STRING, ...on('OW', 'update'), summary: 'Sets a key with an expiry in seconds.', since: '2.0.0', handler: c => setex(c, 1000) },
  { name: 'psetex', arity: 4, flags: ['write', 'denyoom'], ...STRING, ...on('OW', 'update'), summary: 'Sets a key with an expiry in milliseconds.', since: '2.6.0', handler: c => setex(c, 1) },
  { name: 'setnx', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('OW', 'insert'), summary: 'Sets a key only when it has no value (read-modify-write on the coordinator).', since: '1.0.0', handler: setnx },
  { name: 'getset', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Sets a key and returns its previous value.', since: '1.0.0', handler: getset },
  { name: 'getdel', arity: 2, flags: ['write', 'fast'], ...STRING, ...on('RW', 'access', 'delete'), summary: 'Returns the value of a key and deletes it.', since: '6.2.0', handler: getdel },
  { name: 'getex', arity: -2, flags: ['write', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Returns the value of a key and sets or removes its expiry.', since: '6.2.0', handler: getex },
  { name: 'append', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'insert'), summary: 'Appends to the value of a key.', since: '2.0.0', handler: append },
  { name: 'strlen', arity: 2, flags: ['readonly', 'fast'], ...STRING, ...on('RO'), summary: 'Returns the length of a value.', since: '2.2.0', handler: strlen },
  { name: 'getrange', arity: 4, flags: ['readonly'], ...STRING, ...on('RO', 'access'), summary: 'Returns a substring of a value.', since: '2.4.0', handler: getrange },
  { name: 'substr', arity: 4, flags: ['readonly'], ...STRING, ...on('RO', 'access'), summary: 'Returns a substring of a value (GETRANGE\'s old name).', since: '1.0.0', handler: getrange },
  { name: 'setrange', arity: 4, flags: ['write', 'denyoom'], ...STRING, ...on('RW', 'update'), summary: 'Overwrites part of a value at an offset.', since: '2.2.0', handler: setrange },
  { name: 'incr', arity: 2, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Increments a counter by one (increments through every node count).', since: '1.0.0', handler: (c) => incrBy(c, 1n) },
  { name: 'decr', arity: 2, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Decrements a counter by one.', since: '1.0.0', handler: (c) => incrBy(c, -1n) },
  { name: 'incrby', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Increments a counter by a number.', since: '1.0.0', handler: (c) => incrBy(c, deltaArg(c.args[2])) },
  {
    name: 'decrby',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    ...STRING,
    ...on('RW', 'access', 'update'),
    summary: 'Decrements a counter by a number.',
    since: '1.0.0',
    handler: (c) => {
      const d = deltaArg(c.args[2])
      if (d === -(2n ** 63n)) fail('ERR decrement would overflow')
      return incrBy(c, -d)
    }
  },
  { name: 'incrbyfloat', arity: 3, flags: ['write', 'denyoom', 'fast'], ...STRING, ...on('RW', 'access', 'update'), summary: 'Increments a floating point value (a serialized read-modify-write on the coordinator).', since: '2.6.0', handler: incrbyfloat },
  { name: 'mget', arity: -2, flags: ['readonly', 'fast'], group: 'string', acl: ['string'], firstKey: 1, lastKey: -1, step: 1, keySpecs: [{ flags: ['RO', 'access'], index: 1, range: [-1, 1, 0] }], tips: ['request_policy:multi_shard'], summary: 'Returns the values of several keys (one quorum read per key).', since: '1.0.0', handler: mget },
  { name: 'mset', arity: -3, flags: ['write', 'denyoom'], group: 'string', acl: ['string'], firstKey: 1, lastKey: -1, step: 2, keySpecs: [{ flags: ['OW', 'update'], index: 1, range: [-1, 2, 0] }], tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'], summary: 'Sets several keys (one quorum write per key; not atomic).', since: '1.0.1', handler: mset },
  { name: 'msetnx', arity: -3, flags: ['write', 'denyoom'], group: 'string', acl: ['string'], firstKey: 1, lastKey: -1, step: 2, keySpecs: [{ flags: ['OW', 'insert'], index: 1, range: [-1, 2, 0] }], tips: ['request_policy:multi_shard', 'response_policy:agg_min'], summary: 'Sets several keys when none has a value (checked first; not atomic cluster-wide).', since: '1.0.1', handler: msetnx }
]
