// Expiry (docs/semantics.md "Expiry"): an absolute expiry time travels with the
// version a write creates, so every replica, anti-entropy and handoff agree on
// it byte for byte; each node judges "expired" by its own clock. EXPIRE and
// friends rewrite the key's anchor with a new expiry over what the coordinator
// read (a string's value, counter contributions folded in; a collection's marker).
import { objectClock } from '../../versioning/index.js'
import { WrongTypeError, type TxnView } from '../../node/records.js'
import type { KeyRef } from '../../node/keys.js'
import { ZERO, ONE, int, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { redisMeta } from './redis-table.js'
import { E, fail, lower, parseInt64 } from './util.js'
import { deleteKey, liveState } from './keys.js'
import { Buffer } from 'node:buffer'

export type ExpiryOption =
  | { kind: 'at', argc: 2, atMs: (nowMs: number) => number }
  | { kind: 'keepttl' | 'persist', argc: 1 }

const invalid = (cmd: string): never => fail(`ERR invalid expire time in '${cmd}' command`)

/**
 * The expiry option at args[i] of SET/GETEX (EX s | PX ms | EXAT s | PXAT ms |
 * KEEPTTL | PERSIST), with Redis's errors; null when args[i] is not one.
 */
export function expiryOption (args: Buffer[], i: number, cmd: string, keepTtl: boolean, persist = false): ExpiryOption | null {
  const opt = lower(args[i])
  if (opt === 'keepttl' && keepTtl) return { kind: 'keepttl', argc: 1 }
  if (opt === 'persist' && persist) return { kind: 'persist', argc: 1 }
  const unit = opt === 'ex' || opt === 'exat' ? 1000 : opt === 'px' || opt === 'pxat' ? 1 : 0
  if (unit === 0) return null
  if (i + 1 >= args.length) fail(E.syntax)
  const n = parseInt64(args[i + 1])
  if (n === null) fail(E.notInteger)
  if (n <= 0n) invalid(cmd)
  const absolute = opt.endsWith('at')
  return { kind: 'at', argc: 2, atMs: (nowMs) => expiryTime(n, unit, absolute, nowMs, cmd) }
}

const INT64_MAX = 2n ** 63n - 1n

/**
 * The absolute expiry (ms) of `n` units from now (or at n units since the
 * epoch), as Redis computes it: past int64 is Redis's error; a time beyond what
 * a ms clock reaches is kept as "never" (2^53 − 1 ms); a time in the past stays
 * in the past (the caller deletes the key).
 */
export function expiryTime (n: bigint, unitMs: number, absolute: boolean, nowMs: number, cmd: string): number {
  const ms = n * BigInt(unitMs)
  const when = absolute ? ms : ms + BigInt(nowMs)
  if (ms > INT64_MAX || when > INT64_MAX) invalid(cmd)
  if (when > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER
  return when < 0n ? 0 : Number(when)
}

/** Rewrites the key's anchor with a new expiry (0: none): a string's value, or a collection's marker. */
export function withExpiry (view: TxnView, expireAt: number): { ref: KeyRef, change: import('../../node/local.js').Change } {
  const context = objectClock(view.obj ?? { siblings: [] })
  const { state } = view
  if (state.type === 'string') return { ref: view.key, change: { op: 'value', context, value: state.value as Buffer, expireAt } }
  if (state.type === 'none') throw new WrongTypeError() // never: callers check for a live key
  return { ref: view.key, change: { op: 'marker', context, marker: state.type, expireAt } }
}

/** EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX | XX | GT | LT]. */
function expireCmd (name: string, unitMs: number, absolute: boolean) {
  return (c: Call): Promise<Reply> => {
    const n = parseInt64(c.args[2])
    if (n === null) fail(E.notInteger)
    let nx = false
    let xx = false
    let gt = false
    let lt = false
    for (const a of c.args.slice(3)) {
      const o = lower(a)
      if (o === 'nx') nx = true
      else if (o === 'xx') xx = true
      else if (o === 'gt') gt = true
      else if (o === 'lt') lt = true
      else fail(`ERR Unsupported option ${a.toString('latin1')}`)
    }
    if (nx && (xx || gt || lt)) fail('ERR NX and XX, GT or LT options at the same time are not compatible')
    if (gt && lt) fail('ERR GT and LT options at the same time are not compatible')
    const key = c.node.ref(c.args[1])
    // Redis checks the time before it looks at the key.
    expiryTime(n, unitMs, absolute, c.node.clock.now(), name)
    return c.node.records.txn(key, [], async (view) => {
      const state = await liveState(c, view)
      if (state === null) return { writes: [], result: ZERO }
      const when = expiryTime(n, unitMs, absolute, view.nowMs, name)
      const current = state.expireAt
      // A key without an expiry counts as never expiring for GT and LT.
      if ((nx && current !== 0) || (xx && current === 0) || (gt && (current === 0 || when <= current)) || (lt && current !== 0 && when >= current)) {
        return { writes: [], result: ZERO }
      }
      // A time not in the future deletes the key, as Redis does.
      if (when <= view.nowMs) return { writes: await deleteKey(c, view), result: ONE }
      return { writes: [withExpiry(view, when)], result: ONE }
    })
  }
}

/** TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 no such key, -1 no expiry. */
function ttlCmd (relative: boolean, unitMs: number) {
  return async (c: Call): Promise<Reply> => {
    const key = c.node.ref(c.args[1])
    const { obj, state } = await c.node.records.state(key)
    const live = await liveState(c, { key, obj, state, elements: [], nowMs: c.node.clock.now() })
    if (live === null) return int(-2)
    if (live.expireAt === 0) return int(-1)
    if (!relative) return int(unitMs === 1 ? live.expireAt : Math.floor(live.expireAt / 1000))
    const left = Math.max(0, live.expireAt - c.node.clock.now())
    return int(unitMs === 1 ? left : Math.floor((left + 500) / 1000))
  }
}

function persist (c: Call): Promise<Reply> {
  return c.node.records.txn(c.node.ref(c.args[1]), [], async (view) => {
    const state = await liveState(c, view)
    if (state === null || state.expireAt === 0) return { writes: [], result: ZERO }
    return { writes: [withExpiry(view, 0)], result: ONE }
  })
}

const KEY = { group: 'generic', firstKey: 1, lastKey: 1, step: 1, route: 'key' } as const

export const expiryCommands: CommandSpec[] = [
  { name: 'expire', ...KEY, ...redisMeta('expire'), summary: 'Sets a key\'s time to live in seconds.', since: '1.0.0', handler: expireCmd('expire', 1000, false) },
  { name: 'pexpire', ...KEY, ...redisMeta('pexpire'), summary: 'Sets a key\'s time to live in milliseconds.', since: '2.6.0', handler: expireCmd('pexpire', 1, false) },
  { name: 'expireat', ...KEY, ...redisMeta('expireat'), summary: 'Sets a key\'s expiry as a Unix time in seconds.', since: '1.2.0', handler: expireCmd('expireat', 1000, true) },
  { name: 'pexpireat', ...KEY, ...redisMeta('pexpireat'), summary: 'Sets a key\'s expiry as a Unix time in milliseconds.', since: '2.6.0', handler: expireCmd('pexpireat', 1, true) },
  { name: 'ttl', ...KEY, ...redisMeta('ttl'), summary: 'Returns a key\'s time to live in seconds (-2 no key, -1 no expiry).', since: '1.0.0', handler: ttlCmd(true, 1000) },
  { name: 'pttl', ...KEY, ...redisMeta('pttl'), summary: 'Returns a key\'s time to live in milliseconds.', since: '2.6.0', handler: ttlCmd(true, 1) },
  { name: 'expiretime', ...KEY, ...redisMeta('expiretime'), summary: 'Returns a key\'s expiry as a Unix time in seconds.', since: '7.0.0', handler: ttlCmd(false, 1000) },
  { name: 'pexpiretime', ...KEY, ...redisMeta('pexpiretime'), summary: 'Returns a key\'s expiry as a Unix time in milliseconds.', since: '7.0.0', handler: ttlCmd(false, 1) },
  { name: 'persist', ...KEY, ...redisMeta('persist'), summary: 'Removes a key\'s expiry.', since: '2.2.0', handler: persist }
]
