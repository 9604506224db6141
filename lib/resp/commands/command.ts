// COMMAND: the command table as Redis 7 reports it — COUNT, LIST [FILTERBY],
// INFO, DOCS, GETKEYS, GETKEYSANDFLAGS — what redis-cli (arity and first key
// for its hints), cluster-aware clients and tooling read.
import { err, array, bulk, int, map, set, simple, NULL, type Proto, type Reply } from '../reply.js'
import type { Call, CommandSpec, KeySpec } from './types.js'
import { COMMANDS, aclCategories, allCommands, keyPositions, keySpecs, subcommandOf } from './table.js'
import { echo, fail, globMatch, lower } from './util.js'
import { Buffer } from 'node:buffer'

function keySpecReply (ks: KeySpec, proto: Proto): Reply {
  const seq = (items: Reply[]): Reply => proto === 3 ? set(items) : array(items)
  const find: Array<[Reply, Reply]> = ks.keynum !== undefined
    ? [[bulk('type'), bulk('keynum')], [bulk('spec'), map([[bulk('keynumidx'), int(ks.keynum[0])], [bulk('firstkey'), int(ks.keynum[1])], [bulk('keystep'), int(ks.keynum[2])]])]]
    : [[bulk('type'), bulk('range')], [bulk('spec'), map([[bulk('lastkey'), int((ks.range ?? [0, 1, 0])[0])], [bulk('keystep'), int((ks.range ?? [0, 1, 0])[1])], [bulk('limit'), int((ks.range ?? [0, 1, 0])[2])]])]]
  return map([
    [bulk('flags'), seq(ks.flags.map(f => simple(f)))],
    [bulk('begin_search'), map([[bulk('type'), bulk('index')], [bulk('spec'), map([[bulk('index'), int(ks.index)]])]])],
    [bulk('find_keys'), map(find)]
  ])
}

export function commandInfo (spec: CommandSpec, proto: Proto): Reply {
  const seq = (items: Reply[]): Reply => proto === 3 ? set(items) : array(items)
  return array([
    bulk(spec.name),
    int(spec.arity),
    seq(spec.flags.map(f => simple(f))),
    int(spec.firstKey),
    int(spec.lastKey),
    int(spec.step),
    seq(aclCategories(spec).map(c => simple('@' + c))),
    seq((spec.tips ?? []).map(t => bulk(t))),
    array(keySpecs(spec).map(ks => keySpecReply(ks, proto))),
    seq((spec.subcommands ?? []).map(s => commandInfo(s, proto)))
  ])
}

function commandDocs (spec: CommandSpec): Reply {
  const doc: Array<[Reply, Reply]> = [
    [bulk('summary'), bulk(spec.summary)],
    [bulk('since'), bulk(spec.since)],
    [bulk('group'), bulk(spec.group)]
  ]
  if (spec.complexity !== undefined) doc.push([bulk('complexity'), bulk(spec.complexity)])
  if (spec.subcommands !== undefined) doc.push([bulk('subcommands'), map(spec.subcommands.map(s => [bulk(s.name), commandDocs(s)]))])
  return map(doc)
}

/** A name as COMMAND INFO/DOCS take it: `get`, or `config|get` for a subcommand. */
function findCommand (name: string): CommandSpec | undefined {
  const bar = name.indexOf('|')
  if (bar < 0) return COMMANDS.get(name)
  const parent = COMMANDS.get(name.slice(0, bar))
  return parent === undefined ? undefined : subcommandOf(parent, Buffer.from(name.slice(bar + 1), 'latin1'))
}

function list (c: Call): Reply {
  const names = [...allCommands()].map(s => s.name)
  if (c.args.length === 2) return array(names.map(n => bulk(n)))
  if (c.args.length !== 5 || lower(c.args[2]) !== 'filterby') fail('ERR syntax error')
  const by = lower(c.args[3])
  const value = c.args[4]
  let keep: (s: CommandSpec) => boolean
  if (by === 'module') keep = () => false
  else if (by === 'aclcat') keep = (s) => aclCategories(s).includes(lower(value))
  else if (by === 'pattern') keep = (s) => globMatch(Buffer.from(lower(value), 'latin1'), Buffer.from(s.name, 'latin1'))
  else return fail('ERR syntax error')
  return array([...allCommands()].filter(keep).map(s => bulk(s.name)))
}

/** COMMAND GETKEYS / GETKEYSANDFLAGS: the keys of the command in args[2..], with Redis's errors. */
function getkeys (c: Call, withFlags: boolean): Reply {
  const args = c.args.slice(2)
  let spec = COMMANDS.get(lower(args[0]))
  if (spec !== undefined && spec.subcommands !== undefined && args.length >= 2) spec = subcommandOf(spec, args[1])
  if (spec === undefined) return err('ERR Invalid command specified')
  if (keySpecs(spec).length === 0) return err('ERR The command has no key arguments')
  if ((spec.arity > 0 && spec.arity !== args.length) || args.length < -spec.arity) return err('ERR Invalid number of arguments specified for command')
  const keys = keyPositions(spec, args, false)
  if (keys === null) return spec.flags.includes('no_mandatory_keys') ? array([]) : err('ERR Invalid arguments specified for command')
  return array(keys.map(k => withFlags
    ? array([bulk(args[k.index]), array(keyFlags(spec as CommandSpec, args, k.flags).map(f => simple(f)))])
    : bulk(args[k.index])))
}

/** SET's flags depend on its options (variable_flags): OW update, unless GET makes it RW access update. */
function keyFlags (spec: CommandSpec, args: Buffer[], flags: readonly string[]): readonly string[] {
  if (!flags.includes('variable_flags')) return flags
  if (spec.name === 'set' && !args.slice(3).some(a => lower(a) === 'get')) return ['OW', 'update']
  return flags.filter(f => f !== 'variable_flags')
}

const HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
  'HELP',
  '    Prints this help.'
]

const SUB = { flags: ['loading', 'stale'], firstKey: 0, lastKey: 0, step: 0, group: 'server', acl: ['connection'] } as const

export const commandCommand: CommandSpec = {
  name: 'command',
  arity: -1,
  flags: ['loading', 'stale'],
  group: 'server',
  acl: ['connection'],
  tips: ['nondeterministic_output_order'],
  firstKey: 0,
  lastKey: 0,
  step: 0,
  summary: 'Returns detailed information about all commands.',
  since: '2.8.13',
  complexity: 'O(N) where N is the total number of commands',
  handler: (c) => array([...COMMANDS.values()].map(s => commandInfo(s, c.session.proto))),
  subcommands: [
    { name: 'command|count', arity: 2, ...SUB, summary: 'Returns a count of commands.', since: '2.8.13', handler: () => int(COMMANDS.size) },
    { name: 'command|list', arity: -2, ...SUB, tips: ['nondeterministic_output_order'], summary: 'Returns a list of command names.', since: '7.0.0', handler: list },
    {
      name: 'command|info',
      arity: -2,
      ...SUB,
      tips: ['nondeterministic_output_order'],
      summary: 'Returns information about one, multiple or all commands.',
      since: '2.8.13',
      handler: (c) => {
        const specs = c.args.length === 2 ? [...COMMANDS.values()] : c.args.slice(2).map(n => findCommand(lower(n)))
        return array(specs.map(s => s === undefined ? NULL : commandInfo(s, c.session.proto)))
      }
    },
    {
      name: 'command|docs',
      arity: -2,
      ...SUB,
      tips: ['nondeterministic_output_order'],
      summary: 'Returns documentary information about one, multiple or all commands.',
      since: '7.0.0',
      handler: (c) => {
        const specs = c.args.length === 2 ? [...COMMANDS.values()] : c.args.slice(2).map(n => findCommand(lower(n))).filter((s): s is CommandSpec => s !== undefined)
        return map(specs.map(s => [bulk(s.name), commandDocs(s)]))
      }
    },
    { name: 'command|getkeys', arity: -4, ...SUB, summary: 'Extracts the key names from an arbitrary command.', since: '2.8.13', handler: (c) => getkeys(c, false) },
    { name: 'command|getkeysandflags', arity: -4, ...SUB, summary: 'Extracts the key names and access flags for an arbitrary command.', since: '7.0.0', handler: (c) => getkeys(c, true) },
    { name: 'command|help', arity: 2, ...SUB, summary: 'Returns helpful text about the different subcommands.', since: '5.0.0', handler: () => array(HELP.map(l => simple(l))) }
  ]
}

/** Redis's error for an unknown subcommand of a container. */
export function unknownSubcommand (container: string, arg: Buffer): string {
  return `ERR unknown subcommand '${echo(arg).slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`
}
