// Lists are not in dynakv yet: every list command is known (so COMMAND and
// redis-cli hints work) and answers one clear error instead of "unknown command".
import type { CommandSpec } from './types.js'
import { fail } from './util.js'
import { redisMeta } from './redis-table.js'

export const LISTS_UNSUPPORTED = 'ERR lists are not supported by dynakv yet (strings, counters, sets, hashes and sorted sets are)'

const unsupported = (): never => fail(LISTS_UNSUPPORTED)

const NAMES = ['lpush', 'rpush', 'lpushx', 'rpushx', 'lpop', 'rpop', 'llen', 'lrange', 'lindex', 'lset', 'lrem', 'linsert', 'ltrim', 'lpos', 'lmove', 'rpoplpush', 'lmpop', 'blpop', 'brpop', 'blmove', 'brpoplpush', 'blmpop']

export const listCommands: CommandSpec[] = NAMES.map(name => ({
  name, group: 'list', ...redisMeta(name), summary: 'Not supported: dynakv has no lists yet.', since: '1.0.0', handler: unsupported
}))
