// RENAME, RENAMENX, COPY: a snapshot of the source (snapshot.ts) written to
// the destination, then (RENAME) the source deleted. Three steps, each on its
// own key's coordinator: not atomic — a reader may see both keys, or a write
// to the source between the steps may be lost (docs/semantics.md).
import { OK, ONE, ZERO, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { E, CommandError, fail, lower, parseInt64 } from './util.js'
import { readSnapshot, writeSnapshot } from './snapshot.js'
import { Buffer } from 'node:buffer'

const DEL = Buffer.from('DEL')

async function rename (c: Call, nx: boolean): Promise<Reply> {
  const [, src, dst] = c.args
  const snap = await readSnapshot(c, src)
  if (snap === null) fail('ERR no such key')
  if (src.equals(dst)) return nx ? ZERO : OK
  if (!await writeSnapshot(c, dst, snap, nx ? 'nx' : 'replace')) return ZERO
  const deleted = await c.exec([DEL, src])
  if (deleted.type === 'error') throw new CommandError(deleted.value)
  return nx ? ONE : OK
}

async function copy (c: Call): Promise<Reply> {
  const [, src, dst] = c.args
  let replace = false
  for (let j = 3; j < c.args.length; j++) {
    const opt = lower(c.args[j])
    if (opt === 'replace') {
      replace = true
    } else if (opt === 'db' && j + 1 < c.args.length) {
      const db = parseInt64(c.args[++j])
      if (db === null) fail(E.notInteger)
      if (db < -(2n ** 31n) || db >= 2n ** 31n) fail('ERR value is out of range, value must between -2147483648 and 2147483647')
      if (db !== 0n) fail(E.dbRange) // one database, as SELECT
    } else {
      fail(E.syntax)
    }
  }
  if (src.equals(dst)) fail('ERR source and destination objects are the same')
  const snap = await readSnapshot(c, src)
  if (snap === null) return ZERO
  return await writeSnapshot(c, dst, snap, replace ? 'replace' : 'nx') ? ONE : ZERO
}

const TWO = { group: 'generic', acl: ['keyspace'], firstKey: 1, lastKey: 2, step: 1 } as const

export const copyCommands: CommandSpec[] = [
  {
    name: 'rename',
    arity: 3,
    flags: ['write'],
    ...TWO,
    keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, range: [0, 1, 0] }, { flags: ['OW', 'update'], index: 2, range: [0, 1, 0] }],
    summary: 'Renames a key (copy to the new name, then delete the old one: not atomic).',
    since: '1.0.0',
    complexity: 'O(1)',
    handler: (c) => rename(c, false)
  },
  {
    name: 'renamenx',
    arity: 3,
    flags: ['write', 'fast'],
    ...TWO,
    keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, range: [0, 1, 0] }, { flags: ['OW', 'insert'], index: 2, range: [0, 1, 0] }],
    summary: 'Renames a key only when the new name has no value (checked on its coordinator: not atomic).',
    since: '1.0.0',
    complexity: 'O(1)',
    handler: (c) => rename(c, true)
  },
  {
    name: 'copy',
    arity: -3,
    flags: ['write', 'denyoom'],
    ...TWO,
    keySpecs: [{ flags: ['RO', 'access'], index: 1, range: [0, 1, 0] }, { flags: ['OW', 'update'], index: 2, range: [0, 1, 0] }],
    summary: 'Copies the value of a key to a new key (DB other than 0 refused).',
    since: '6.2.0',
    complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.',
    handler: copy
  }
]
