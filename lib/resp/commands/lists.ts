// Lists are not in dynakv yet: every list command is known (so COMMAND and
// redis-cli hints work) and answers one clear error instead of "unknown command".
import type { CommandSpec } from './types.js'
import { fail } from './util.js'

export const LISTS_UNSUPPORTED = 'ERR lists are not supported by dynakv yet (strings, counters, sets, hashes and sorted sets are)'

const unsupported = (): never => fail(LISTS_UNSUPPORTED)

/** name, arity, flags, first key, last key (Redis 7's table). */
const TABLE: Array<[string, number, string[], number, number]> = [
  ['lpush', -3, ['write', 'denyoom', 'fast'], 1, 1],
  ['rpush', -3, ['write', 'denyoom', 'fast'], 1, 1],
  ['lpushx', -3, ['write', 'denyoom', 'fast'], 1, 1],
  ['rpushx', -3, ['write', 'denyoom', 'fast'], 1, 1],
  ['lpop', -2, ['write', 'fast'], 1, 1],
  ['rpop', -2, ['write', 'fast'], 1, 1],
  ['llen', 2, ['readonly', 'fast'], 1, 1],
  ['lrange', 4, ['readonly'], 1, 1],
  ['lindex', 3, ['readonly'], 1, 1],
  ['lset', 4, ['write', 'denyoom'], 1, 1],
  ['lrem', 4, ['write'], 1, 1],
  ['linsert', 5, ['write', 'denyoom'], 1, 1],
  ['ltrim', 4, ['write'], 1, 1],
  ['lpos', -3, ['readonly'], 1, 1],
  ['lmove', 5, ['write', 'denyoom'], 1, 2],
  ['rpoplpush', 3, ['write', 'denyoom'], 1, 2],
  ['lmpop', -4, ['write', 'movablekeys'], 0, 0],
  ['blpop', -3, ['write', 'noscript', 'blocking'], 1, -2],
  ['brpop', -3, ['write', 'noscript', 'blocking'], 1, -2],
  ['blmove', 6, ['write', 'denyoom', 'noscript', 'blocking'], 1, 2],
  ['brpoplpush', 4, ['write', 'denyoom', 'noscript', 'blocking'], 1, 2],
  ['blmpop', -5, ['write', 'blocking', 'movablekeys'], 0, 0]
]

export const listCommands: CommandSpec[] = TABLE.map(([name, arity, flags, firstKey, lastKey]) => ({
  name, arity, flags, firstKey, lastKey, step: firstKey === 0 ? 0 : 1, group: 'list', summary: 'Not supported: dynakv has no lists yet.', since: '1.0.0', handler: unsupported
}))
