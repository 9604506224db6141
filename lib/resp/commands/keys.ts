// Keyspace commands over the whole cluster: per-key fan-out for DEL/EXISTS, and a
// stateless ring-position cursor for SCAN/KEYS (any node resumes any cursor).
import { objectClock, type KeyState } from '../../versioning/index.js'
import { parseCursor } from '../../ring/hash.js'
import type { RecordWrite } from '../../coordinator/coordinator.js'
import type { TxnView } from '../../node/records.js'
import { OK, ZERO, ONE, array, bulk, bulkOrNull, int, simple, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { E, fail, globMatcher, intArg, lower } from './util.js'
import { Buffer } from 'node:buffer'

const KEYS_MAX = 10_000_000
const SCAN_PAGES_MAX = 1_000_000

/**
 * The key's state when it exists now: a string, or a collection with at least
 * one live element (a marker alone is an empty collection, which Redis does not
 * have); null otherwise.
 */
export async function liveState (c: Call, view: TxnView): Promise<KeyState | null> {
  const { state } = view
  if (state.type === 'none') return null
  if (state.type === 'string') return state
  return await c.node.records.hasElements(view.key, state.type) ? state : null
}

/** The writes that delete the key as the view read it: its elements (each as seen) and its key record. */
export async function deleteKey (c: Call, view: TxnView): Promise<RecordWrite[]> {
  if (view.obj === undefined || view.obj.siblings.length === 0) return []
  const writes = view.state.type === 'none' || view.state.type === 'string' ? [] : await c.node.records.cleanupWrites(view.key)
  writes.push({ ref: view.key, change: { op: 'tombstone', context: objectClock(view.obj) } })
  return writes
}

function delOne (c: Call): Promise<Reply> {
  return c.node.records.txn(c.node.ref(c.args[1]), [], async (view) => {
    const live = await liveState(c, view)
    if (live === null) return { writes: [], result: ZERO }
    return { writes: await deleteKey(c, view), result: ONE }
  })
}

/** The key's type now ('none' when it does not exist). */
export async function typeOf (c: Call, key: Buffer): Promise<string> {
  const ref = c.node.ref(key)
  const { obj, state } = await c.node.records.state(ref)
  const live = await liveState(c, { key: ref, obj, state, elements: [], nowMs: c.node.clock.now() })
  return live === null ? 'none' : live.type
}

function existsOne (c: Call): Reply | Promise<Reply> {
  const found = c.node.value(c.node.ref(c.args[1]))
  const f = (v: unknown): Reply | Promise<Reply> => v === null ? ZERO : v instanceof Buffer ? ONE : typeOf(c, c.args[1]).then(t => t === 'none' ? ZERO : ONE)
  return found instanceof Promise ? found.then(f) : f(found)
}

/** DEL/EXISTS/UNLINK with one key run where the key lives; with several, once per key. */
function perKey (single: (c: Call) => Reply | Promise<Reply>, name: string) {
  return async (c: Call): Promise<Reply> => {
    if (c.args.length === 2) return await single(c)
    const replies = await Promise.all(c.args.slice(1).map(k => c.exec([Buffer.from(name), k])))
    let n = 0
    for (const r of replies) {
      if (r.type === 'error') return r
      n += Number((r as { value: number }).value)
    }
    return int(n)
  }
}


async function scan (c: Call): Promise<Reply> {
  const cursor = parseCursor(c.args[1].toString('latin1'))
  if (cursor === null) fail(E.invalidCursor)
  let count = 10
  let match: ((k: Buffer) => boolean) | null = null
  let typeFilter: string | null = null
  for (let i = 2; i < c.args.length; i++) {
    const opt = lower(c.args[i])
    if (i + 1 >= c.args.length) fail(E.syntax)
    if (opt === 'count') {
      count = intArg(c.args[++i])
      if (count < 1) fail(E.syntax)
    } else if (opt === 'match') {
      match = globMatcher(c.args[++i])
    } else if (opt === 'type') {
      typeFilter = lower(c.args[++i])
    } else {
      fail(E.syntax)
    }
  }
  const page = await c.node.scan(cursor, count)
  let keys = page.keys
  if (match !== null) keys = keys.filter(match)
  if (typeFilter !== null) {
    const types = await Promise.all(keys.map(k => typeOf(c, k)))
    keys = keys.filter((_, i) => types[i] === typeFilter)
  }
  return array([bulk(page.cursor.toString()), array(keys.map(k => bulk(k)))])
}

async function keys (c: Call): Promise<Reply> {
  const match = globMatcher(c.args[1])
  const out: Reply[] = []
  let cursor = 0n
  for (let pages = 0; pages < SCAN_PAGES_MAX; pages++) {
    const page = await c.node.scan(cursor, 1000)
    for (const k of page.keys) if (match(k)) out.push(bulk(k))
    if (out.length > KEYS_MAX) fail(`ERR KEYS would return more than ${KEYS_MAX} keys: use SCAN`)
    cursor = page.cursor
    if (cursor === 0n) break
  }
  return array(out)
}

async function randomkey (c: Call): Promise<Reply> {
  return bulkOrNull(await c.node.keyspace.randomKey())
}

async function flushall (c: Call): Promise<Reply> {
  if (c.args.length > 2) fail(E.syntax)
  if (c.args.length === 2 && !['async', 'sync'].includes(lower(c.args[1]))) fail(E.syntax)
  await c.node.flushall()
  return OK
}

const KEY = { firstKey: 1, lastKey: 1, step: 1 } as const
const MULTI = { firstKey: 1, lastKey: -1, step: 1 } as const
const NOKEY = { firstKey: 0, lastKey: 0, step: 0 } as const
const GENERIC = { group: 'generic', acl: ['keyspace'] } as const
const PER_KEY_SUM = ['request_policy:multi_shard', 'response_policy:agg_sum']
const ALL_SHARDS = ['request_policy:all_shards', 'response_policy:all_succeeded']
const RM = [{ flags: ['RM', 'delete'], index: 1, range: [-1, 1, 0] }] as const
const RO_ALL = [{ flags: ['RO'], index: 1, range: [-1, 1, 0] }] as const

export const keyCommands: CommandSpec[] = [
  { name: 'del', arity: -2, flags: ['write'], ...GENERIC, ...MULTI, keySpecs: RM, tips: PER_KEY_SUM, route: 'key', summary: 'Deletes keys (tombstones; per-key quorum writes).', since: '1.0.0', handler: perKey(delOne, 'DEL') },
  { name: 'unlink', arity: -2, flags: ['write', 'fast'], ...GENERIC, ...MULTI, keySpecs: RM, tips: PER_KEY_SUM, route: 'key', summary: 'Deletes keys (same as DEL here).', since: '4.0.0', handler: perKey(delOne, 'UNLINK') },
  { name: 'exists', arity: -2, flags: ['readonly', 'fast'], ...GENERIC, ...MULTI, keySpecs: RO_ALL, tips: PER_KEY_SUM, route: 'key', summary: 'Counts the given keys that have a value.', since: '1.0.0', handler: perKey(existsOne, 'EXISTS') },
  { name: 'touch', arity: -2, flags: ['readonly', 'fast'], ...GENERIC, ...MULTI, keySpecs: RO_ALL, tips: PER_KEY_SUM, route: 'key', summary: 'Counts the given keys that have a value (dynakv keeps no access times to update).', since: '3.2.1', handler: perKey(existsOne, 'TOUCH') },
  { name: 'type', arity: 2, flags: ['readonly', 'fast'], ...GENERIC, ...KEY, keySpecs: [{ flags: ['RO'], index: 1, range: [0, 1, 0] }], route: 'key', summary: "Returns a key's type: string, set, hash, zset, or none.", since: '1.0.0', handler: async (c) => simple(await typeOf(c, c.args[1])) },
  { name: 'scan', arity: -2, flags: ['readonly'], ...GENERIC, ...NOKEY, tips: ['nondeterministic_output', 'request_policy:special'], summary: 'Iterates keys in ring order; the cursor is a ring position any node accepts.', since: '2.8.0', handler: scan },
  { name: 'keys', arity: 2, flags: ['readonly'], group: 'generic', acl: ['keyspace', 'dangerous'], ...NOKEY, tips: ['request_policy:all_shards', 'nondeterministic_output_order'], summary: 'Returns every key matching a pattern (a full SCAN).', since: '1.0.0', handler: keys },
  { name: 'randomkey', arity: 1, flags: ['readonly'], ...GENERIC, ...NOKEY, tips: ['request_policy:all_shards', 'nondeterministic_output'], summary: 'Returns a live key found from a random ring position (one seek of this node\'s data, confirmed by a quorum read).', since: '1.0.0', handler: randomkey },
  { name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], group: 'server', acl: ['keyspace'], ...NOKEY, tips: ['request_policy:all_shards', 'response_policy:agg_sum'], summary: 'Returns an estimate of the number of keys with a value (cluster-wide: the sum of each node\'s count divided by N).', since: '1.0.0', handler: async (c) => int(await c.node.dbsize()) },
  { name: 'flushall', arity: -1, flags: ['write'], group: 'server', acl: ['keyspace', 'dangerous'], ...NOKEY, tips: ALL_SHARDS, summary: 'Deletes every key on every node; -NOQUORUM unless every node answers.', since: '1.0.0', handler: flushall },
  { name: 'flushdb', arity: -1, flags: ['write'], group: 'server', acl: ['keyspace', 'dangerous'], ...NOKEY, tips: ALL_SHARDS, summary: 'Same as FLUSHALL (one database).', since: '1.0.0', handler: flushall }
]
