// The command table: every command by name, each container's subcommands, and
// what Redis derives from an entry — ACL categories, key specs, and the keys
// of a concrete call (COMMAND GETKEYS, a connection's ordering).
import type { CommandSpec, KeySpec } from './types.js'
import { Buffer } from 'node:buffer'

export const COMMANDS = new Map<string, CommandSpec>()

/** A container (CLIENT, CONFIG, OBJECT...): no flags or keys of its own; args[1] names the subcommand that runs. */
export function container (name: string, group: string, summary: string, since: string, subcommands: CommandSpec[]): CommandSpec {
  return { name, arity: -2, flags: [], group, firstKey: 0, lastKey: 0, step: 0, summary, since, subcommands }
}

function withStats (spec: CommandSpec): void {
  spec.stats = { calls: 0, usec: 0, rejected: 0, failed: 0 }
  for (const sub of spec.subcommands ?? []) withStats(sub)
}

export function register (specs: readonly CommandSpec[]): void {
  for (const spec of specs) {
    if (COMMANDS.has(spec.name)) throw new Error(`command ${spec.name} registered twice`)
    withStats(spec)
    COMMANDS.set(spec.name, spec)
  }
}

/** The subcommand args[1] names (any case), or undefined. */
export function subcommandOf (spec: CommandSpec, arg: Buffer): CommandSpec | undefined {
  const full = `${spec.name}|${arg.toString('latin1').toLowerCase()}`
  return spec.subcommands?.find(s => s.name === full)
}

/** Every command and subcommand, containers first. */
export function * allCommands (): Iterable<CommandSpec> {
  for (const spec of COMMANDS.values()) {
    yield spec
    if (spec.subcommands !== undefined) yield * spec.subcommands
  }
}

/** Redis's ACL category table, in its order (COMMAND INFO lists categories in this order). */
const CATEGORIES = ['keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting']

/** The explicit categories plus those Redis implies from the flags (setImplicitACLCategories). */
export function aclCategories (spec: CommandSpec): string[] {
  const cats = new Set(spec.acl ?? [])
  const flags = spec.flags
  if (flags.includes('write')) cats.add('write')
  if (flags.includes('readonly') && !cats.has('scripting')) cats.add('read')
  if (flags.includes('admin')) {
    cats.add('admin')
    cats.add('dangerous')
  }
  if (flags.includes('pubsub')) cats.add('pubsub')
  if (flags.includes('fast')) cats.add('fast')
  if (flags.includes('blocking')) cats.add('blocking')
  if (!cats.has('fast')) cats.add('slow')
  return CATEGORIES.filter(c => cats.has(c))
}

/** The key specs of a command: its own, or one derived from firstKey/lastKey/step. */
export function keySpecs (spec: CommandSpec): readonly KeySpec[] {
  if (spec.keySpecs !== undefined) return spec.keySpecs
  if (spec.firstKey === 0) return []
  const last = spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey
  return [{ flags: spec.flags.includes('readonly') ? ['RO', 'access'] : ['RW', 'access', 'update'], index: spec.firstKey, range: [last, spec.step, 0] }]
}

export interface KeyPosition {
  index: number
  flags: readonly string[]
}

/**
 * The keys of a call, as Redis's getKeysUsingKeySpecs finds them. A spec that
 * does not fit the arguments (a bad key count, too few arguments) makes the
 * whole answer null, unless partial: then it is skipped.
 */
export function keyPositions (spec: CommandSpec, args: readonly Buffer[], partial: boolean): KeyPosition[] | null {
  const out: KeyPosition[] = []
  const argc = args.length
  for (const ks of keySpecs(spec)) {
    let first = ks.index
    let last: number
    let step: number
    if (ks.keynum !== undefined) {
      const [numIdx, firstKey, keyStep] = ks.keynum
      step = keyStep
      const raw = first + numIdx < argc ? args[first + numIdx].toString('latin1') : ''
      const numkeys = /^(0|-?[1-9][0-9]{0,18})$/.test(raw) ? Number(raw) : -1
      if (numkeys < 0) {
        if (partial) continue
        return null
      }
      first += firstKey
      last = first + numkeys - 1
      if (numkeys === 0) continue
    } else {
      const [lastKey, keyStep, limit] = ks.range ?? [0, 1, 0]
      step = keyStep
      last = lastKey >= 0 ? first + lastKey : limit === 0 ? argc + lastKey : first + Math.floor((argc - first) / limit) + lastKey
    }
    if (last >= argc || last < first || first >= argc) {
      if (partial) continue
      return null
    }
    for (let i = first; i <= last; i += step) out.push({ index: i, flags: ks.flags })
  }
  return out
}
