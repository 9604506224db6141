// OBJECT and MEMORY USAGE: Redis's introspection of a key, answered from what
// dynakv knows of it (one quorum read, coordinated here).
//   OBJECT ENCODING  what Redis would use for the value: int, embstr or raw; a
//                    collection's intset/listpack/hashtable/skiplist by its size
//   OBJECT REFCOUNT  2147483647 for the integers Redis shares (0..9999), else 1
//   OBJECT IDLETIME  seconds since the key's newest write (dynakv keeps no read times)
//   OBJECT FREQ      0 (no access counts are kept), under an LFU policy only, as Redis
//   MEMORY USAGE     bytes of the key's stored records on a replica: their sibling
//                    sets as encoded, plus their storage keys
import { elementState, encodeObject, newest } from '../../versioning/index.js'
import { readAll, type Element } from './collections.js'
import { NULL, array, bulk, int, simple, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { container } from './table.js'
import { E, fail, lower, parseInt64 } from './util.js'

interface KeyDescription {
  /** A string's value; null for a collection. */
  value: Buffer | null
  /** Redis's encoding of the value. */
  encoding: string
  writtenAtMs: number
  storedBytes: number
}

/** Redis 7.0's defaults for the small encodings of collections. */
const LISTPACK_ENTRIES = 128
const LISTPACK_VALUE = 64
const INTSET_ENTRIES = 512

/** What Redis would use for a collection of these elements (and values). */
function collectionEncoding (type: string, items: Element[]): string {
  if (type === 'set') {
    return items.length <= INTSET_ENTRIES && items.every(e => stringEncoding(e.element) === 'int') ? 'intset' : 'hashtable'
  }
  const small = items.length <= LISTPACK_ENTRIES && items.every(e => e.element.length <= LISTPACK_VALUE && (elementState(e.obj).value?.length ?? 0) <= LISTPACK_VALUE)
  return small ? 'listpack' : type === 'hash' ? 'hashtable' : 'skiplist'
}

/** What OBJECT and MEMORY report of a key; null when it does not exist. */
async function describe (c: Call, key: Buffer): Promise<KeyDescription | null> {
  const ref = c.node.ref(key)
  const { obj, state } = await c.node.records.state(ref)
  const top = obj === undefined ? undefined : newest(obj)
  if (obj === undefined || top === undefined || state.type === 'none') return null
  const storedBytes = encodeObject(obj).length + ref.skey.length
  if (state.type === 'string') return { value: state.value, encoding: stringEncoding(state.value as Buffer), writtenAtMs: top.ts, storedBytes }
  const items = await readAll(c, ref, state.type) ?? []
  if (items.length === 0) return null
  let bytes = storedBytes
  for (const e of items) bytes += encodeObject(e.obj).length + ref.skey.length + e.element.length + 10
  return { value: null, encoding: collectionEncoding(state.type, items), writtenAtMs: top.ts, storedBytes: bytes }
}

/** Redis's choice for a string (tryObjectEncoding): an integer that fits a long, a short embedded string, or raw. */
export function stringEncoding (v: Buffer): 'int' | 'embstr' | 'raw' {
  if (v.length <= 20 && parseInt64(v) !== null) return 'int'
  return v.length <= 44 ? 'embstr' : 'raw'
}

const SHARED_REFCOUNT = 2147483647

function policy (c: Call): string {
  return c.server.tunables.get('maxmemory-policy') ?? 'noeviction'
}

async function refcount (c: Call): Promise<Reply> {
  const d = await describe(c, c.args[2])
  if (d === null) return NULL
  // Redis shares the integers 0..9999 unless an LRU/LFU policy needs per-object access data.
  const maxmemory = c.server.tunables.get('maxmemory') ?? '0'
  const sharing = maxmemory === '0' || !/lru|lfu/.test(policy(c))
  const n = d.value !== null && d.encoding === 'int' ? Number(parseInt64(d.value)) : -1
  return int(sharing && n >= 0 && n < 10000 ? SHARED_REFCOUNT : 1)
}

async function idletime (c: Call): Promise<Reply> {
  const d = await describe(c, c.args[2])
  if (d === null) return NULL
  if (policy(c).includes('lfu')) fail('ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.')
  return int(Math.max(0, Math.floor((c.node.clock.now() - d.writtenAtMs) / 1000)))
}

async function freq (c: Call): Promise<Reply> {
  const d = await describe(c, c.args[2])
  if (d === null) return NULL
  if (!policy(c).includes('lfu')) fail('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.')
  return int(0)
}

async function memoryUsage (c: Call): Promise<Reply> {
  for (let j = 3; j < c.args.length; j++) {
    if (lower(c.args[j]) === 'samples' && j + 1 < c.args.length) {
      const n = parseInt64(c.args[++j])
      if (n === null) fail(E.notInteger)
      if (n < 0n) fail(E.syntax)
    } else {
      fail(E.syntax)
    }
  }
  const d = await describe(c, c.args[2])
  return d === null ? NULL : int(d.storedBytes)
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.'
]

const MEMORY_HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.'
]

const help = (lines: string[]) => (): Reply => array(lines.map(l => simple(l)))
const ON_KEY = { flags: ['readonly'], group: 'generic', acl: ['keyspace'], firstKey: 2, lastKey: 2, step: 1, keySpecs: [{ flags: ['RO'], index: 2, range: [0, 1, 0] }], tips: ['nondeterministic_output'] } as const
const HELP = { arity: 2, flags: ['loading', 'stale'], firstKey: 0, lastKey: 0, step: 0, summary: 'Returns helpful text about the different subcommands.', since: '6.2.0' } as const

export const objectCommands: CommandSpec[] = [
  container('object', 'generic', 'Introspection of a key: ENCODING, FREQ, IDLETIME, REFCOUNT.', '2.2.3', [
    {
      name: 'object|encoding',
      arity: 3,
      ...ON_KEY,
      summary: 'Returns the internal encoding Redis would use for the value.',
      since: '2.2.3',
      handler: async (c) => {
        const d = await describe(c, c.args[2])
        return d === null ? NULL : bulk(d.encoding)
      }
    },
    { name: 'object|freq', arity: 3, ...ON_KEY, summary: 'Returns the logarithmic access frequency counter: 0, dynakv counts no accesses.', since: '4.0.0', handler: freq },
    { name: 'object|idletime', arity: 3, ...ON_KEY, summary: 'Returns the seconds since the key was last written (dynakv keeps no read times).', since: '2.2.3', handler: idletime },
    { name: 'object|refcount', arity: 3, ...ON_KEY, summary: 'Returns the reference count Redis would report.', since: '2.2.3', handler: refcount },
    { name: 'object|help', ...HELP, group: 'generic', acl: ['keyspace'], handler: help(OBJECT_HELP) }
  ]),
  container('memory', 'server', 'Memory introspection: USAGE.', '4.0.0', [
    {
      name: 'memory|usage',
      arity: -3,
      flags: ['readonly'],
      group: 'server',
      firstKey: 2,
      lastKey: 2,
      step: 1,
      keySpecs: [{ flags: ['RO'], index: 2, range: [0, 1, 0] }],
      summary: 'Returns the bytes of the key\'s stored record on a replica (sibling set and storage key).',
      since: '4.0.0',
      handler: memoryUsage
    },
    { name: 'memory|help', ...HELP, group: 'server', since: '4.0.0', handler: help(MEMORY_HELP) }
  ])
]
