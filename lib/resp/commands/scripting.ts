// Scripting: dynakv runs no Lua and keeps no functions. EVAL and FUNCTION LOAD
// say so; what follows from there being none is answered as Redis answers it
// (EVALSHA: NOSCRIPT, so ioredis's EVALSHA-then-EVAL reaches EVAL's error;
// FCALL: function not found; SCRIPT EXISTS: 0s; SCRIPT/FUNCTION FLUSH: OK).
import { OK, ZERO, array, err, simple, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { container } from './table.js'
import { lower } from './util.js'

export const NO_SCRIPTING = 'ERR dynakv does not run scripts: EVAL, SCRIPT LOAD and FUNCTION LOAD are not supported (there are no scripts and no functions)'

const NOTBUSY = 'NOTBUSY No scripts in execution right now.'

function flushMode (c: Call): boolean {
  return c.args.length === 2 || (c.args.length === 3 && ['sync', 'async'].includes(lower(c.args[2])))
}

const SCRIPT_HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache (there are none: dynakv runs no scripts).',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Not supported: dynakv runs no scripts.',
  'HELP',
  '    Prints this help.'
]

const FUNCTION_HELP = [
  'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Not supported: dynakv runs no functions.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries (there are none).',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries (there are none).',
  'HELP',
  '    Prints this help.'
]

const help = (lines: string[]) => (): Reply => array(lines.map(l => simple(l)))

const SCRIPTS = { group: 'scripting', acl: ['scripting'], firstKey: 0, lastKey: 0, step: 0 } as const
const KEYNUM = { firstKey: 0, lastKey: 0, step: 0, group: 'scripting', acl: ['scripting'] } as const
const RW = [{ flags: ['RW', 'access', 'update'], index: 2, keynum: [0, 1, 1] }] as const
const RO = [{ flags: ['RO', 'access'], index: 2, keynum: [0, 1, 1] }] as const
const WRITE_FLAGS = ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'] as const
const READ_FLAGS = ['readonly', ...WRITE_FLAGS] as const

export const scriptingCommands: CommandSpec[] = [
  { name: 'eval', arity: -3, flags: WRITE_FLAGS, ...KEYNUM, keySpecs: RW, summary: 'Not supported: dynakv runs no scripts.', since: '2.6.0', handler: () => err(NO_SCRIPTING) },
  { name: 'eval_ro', arity: -3, flags: READ_FLAGS, ...KEYNUM, keySpecs: RO, summary: 'Not supported: dynakv runs no scripts.', since: '7.0.0', handler: () => err(NO_SCRIPTING) },
  { name: 'evalsha', arity: -3, flags: WRITE_FLAGS, ...KEYNUM, keySpecs: RW, summary: 'Runs a cached script: there are none (NOSCRIPT).', since: '2.6.0', handler: () => err('NOSCRIPT No matching script. Please use EVAL.') },
  { name: 'evalsha_ro', arity: -3, flags: READ_FLAGS, ...KEYNUM, keySpecs: RO, summary: 'Runs a cached script: there are none (NOSCRIPT).', since: '7.0.0', handler: () => err('NOSCRIPT No matching script. Please use EVAL.') },
  { name: 'fcall', arity: -3, flags: WRITE_FLAGS, ...KEYNUM, keySpecs: RW, summary: 'Calls a function: there are none.', since: '7.0.0', handler: () => err('ERR Function not found') },
  { name: 'fcall_ro', arity: -3, flags: READ_FLAGS, ...KEYNUM, keySpecs: RO, summary: 'Calls a function: there are none.', since: '7.0.0', handler: () => err('ERR Function not found') },
  container('script', 'scripting', 'The script cache, always empty: EXISTS, FLUSH, KILL; LOAD is refused.', '2.6.0', [
    { name: 'script|exists', arity: -3, flags: ['noscript'], ...SCRIPTS, tips: ['request_policy:all_shards', 'response_policy:agg_logical_and'], summary: 'Always 0: there are no scripts.', since: '2.6.0', handler: (c) => array(c.args.slice(2).map(() => ZERO)) },
    { name: 'script|flush', arity: -2, flags: ['noscript'], ...SCRIPTS, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], summary: 'OK: there are no scripts.', since: '2.6.0', handler: (c) => flushMode(c) ? OK : err('ERR SCRIPT FLUSH only support SYNC|ASYNC option') },
    { name: 'script|kill', arity: 2, flags: ['noscript', 'allow_busy'], ...SCRIPTS, tips: ['request_policy:all_shards', 'response_policy:one_succeeded'], summary: 'No script ever runs: NOTBUSY.', since: '2.6.0', handler: () => err(NOTBUSY) },
    { name: 'script|load', arity: 3, flags: ['noscript', 'stale'], ...SCRIPTS, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], summary: 'Not supported: dynakv runs no scripts.', since: '2.6.0', handler: () => err(NO_SCRIPTING) },
    { name: 'script|help', arity: 2, flags: ['loading', 'stale'], ...SCRIPTS, summary: 'Returns helpful text about the different subcommands.', since: '5.0.0', handler: help(SCRIPT_HELP) }
  ]),
  container('function', 'scripting', 'Function libraries, always none: LIST, DELETE, FLUSH, KILL; LOAD is refused.', '7.0.0', [
    { name: 'function|list', arity: -2, flags: ['noscript'], ...SCRIPTS, tips: ['nondeterministic_output_order'], summary: 'Empty: there are no libraries.', since: '7.0.0', handler: () => array([]) },
    { name: 'function|delete', arity: 3, flags: ['write', 'noscript'], ...SCRIPTS, tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], summary: 'There are no libraries to delete.', since: '7.0.0', handler: () => err('ERR Library not found') },
    {
      name: 'function|flush',
      arity: -2,
      flags: ['write', 'noscript'],
      ...SCRIPTS,
      tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
      summary: 'OK: there are no libraries.',
      since: '7.0.0',
      handler: (c) => flushMode(c)
        ? OK
        : err(c.args.length > 3 ? "ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP." : 'ERR FUNCTION FLUSH only supports SYNC|ASYNC option')
    },
    { name: 'function|kill', arity: 2, flags: ['noscript', 'allow_busy'], ...SCRIPTS, tips: ['request_policy:all_shards', 'response_policy:one_succeeded'], summary: 'No function ever runs: NOTBUSY.', since: '7.0.0', handler: () => err(NOTBUSY) },
    { name: 'function|load', arity: -3, flags: ['write', 'denyoom', 'noscript'], ...SCRIPTS, tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], summary: 'Not supported: dynakv runs no functions.', since: '7.0.0', handler: () => err(NO_SCRIPTING) },
    { name: 'function|help', arity: 2, flags: ['loading', 'stale'], ...SCRIPTS, summary: 'Returns helpful text about the different subcommands.', since: '7.0.0', handler: help(FUNCTION_HELP) }
  ])
]
