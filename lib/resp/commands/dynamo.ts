// The Dynamo commands: reads that return every concurrent version with one
// opaque context, and writes that say which versions they supersede.
//   GETCTX key [R r]                      → [context, [values...]]
//   PUT    key context value [W w] [PW n] → new context
//   DELCTX key context [W w] [PW n]       → new context (a tombstone)
import { decodeContext, encodeContext, keyState, liveValues, objectClock, type Clock, type VObject } from '../../versioning/index.js'
import { WrongTypeError } from '../../node/records.js'
import { array, bulk, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { E, fail, lower, parseInt64 } from './util.js'
import { Buffer } from 'node:buffer'

/** Tokens are bound to their key (folded into the checksum): one from another key is refused. */
function contextArg (b: Buffer, key: Buffer): Clock {
  try {
    return decodeContext(b.toString('latin1'), key)
  } catch {
    return fail(E.invalidContext)
  }
}

/** Parses trailing `NAME n` options; an unknown name or a missing value is a syntax error. */
function options (args: Buffer[], from: number, allowed: readonly string[]): Map<string, number> {
  const out = new Map<string, number>()
  for (let i = from; i < args.length; i += 2) {
    const name = lower(args[i])
    if (!allowed.includes(name) || i + 1 >= args.length || out.has(name)) fail(E.syntax)
    const v = parseInt64(args[i + 1])
    if (v === null) fail(E.notInteger)
    if (name === 'pw' ? v < 0n : v < 1n) fail(name === 'pw' ? 'ERR PW must be between 0 and N' : E.quorumRange)
    out.set(name, Number(v > 1000n ? 1000n : v))
  }
  return out
}

function getctx (c: Call): Reply | Promise<Reply> {
  const opts = options(c.args, 2, ['r'])
  const found = c.node.get(c.node.ref(c.args[1]), opts.get('r'))
  const f = (obj: VObject | undefined): Reply => {
    if (obj === undefined) return array([bulk(''), array([])])
    const now = c.node.clock.now()
    const type = keyState(obj, now).type
    if (type !== 'none' && type !== 'string') throw new WrongTypeError()
    return array([bulk(encodeContext(objectClock(obj), c.args[1])), array(liveValues(obj, now).map(v => bulk(v)))])
  }
  return found instanceof Promise ? found.then(f) : f(found)
}

async function putctx (c: Call): Promise<Reply> {
  const context = contextArg(c.args[2], c.args[1])
  const opts = options(c.args, 4, ['w', 'pw'])
  const next = await c.node.put(c.node.ref(c.args[1]), context, c.args[3], opts.get('w'), opts.get('pw') ?? 0)
  return bulk(encodeContext(next, c.args[1]))
}

async function delctx (c: Call): Promise<Reply> {
  const context = contextArg(c.args[2], c.args[1])
  const opts = options(c.args, 3, ['w', 'pw'])
  const next = await c.node.put(c.node.ref(c.args[1]), context, null, opts.get('w'), opts.get('pw') ?? 0)
  return bulk(encodeContext(next, c.args[1]))
}

const KEY = { group: 'dynamo', acl: ['keyspace'], firstKey: 1, lastKey: 1, step: 1, route: 'key' } as const

export const dynamoCommands: CommandSpec[] = [
  { name: 'getctx', arity: -2, flags: ['readonly'], ...KEY, summary: 'Returns [context, [every concurrent value]] after R replicas answered.', since: 'dynakv 0.1', handler: getctx },
  { name: 'put', arity: -4, flags: ['write', 'denyoom'], ...KEY, summary: 'Writes a value superseding exactly what the context covers; returns the new context after W replicas stored it.', since: 'dynakv 0.1', handler: putctx },
  { name: 'delctx', arity: -3, flags: ['write'], ...KEY, keySpecs: [{ flags: ['RM', 'delete'], index: 1, range: [0, 1, 0] }], summary: 'Writes a tombstone superseding what the context covers; returns the new context.', since: 'dynakv 0.1', handler: delctx }
]
