// Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP, with
// Redis's offsets (bit 0 is the most significant bit of byte 0), ranges
// (negative from the end, BYTE or BIT units) and error wording. SETBIT is a
// read-modify-write on the key's coordinator; BITOP reads every source and
// writes the destination, each on its own key's coordinator (not atomic).
import { keepTtl, modifyString, stringValue } from './strings.js'
import { ONE, ZERO, int, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { E, CommandError, fail, lower, parseInt64 } from './util.js'
import { Buffer } from 'node:buffer'

const BIT_OFFSET = 'ERR bit offset is not an integer or out of range'

/** Popcount of every byte value. */
const POPCOUNT = new Uint8Array(256)
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]

/** A bit offset below proto-max-bulk-len bytes, as Redis's getBitOffsetFromArgument. */
function bitOffset (c: Call, b: Buffer): number {
  const v = parseInt64(b)
  if (v === null || v < 0n || (v >> 3n) >= BigInt(c.node.config.protoMaxBulkLen)) fail(BIT_OFFSET)
  return Number(v)
}

function int64Arg (b: Buffer): bigint {
  const v = parseInt64(b)
  if (v === null) fail(E.notInteger)
  return v
}

async function read (c: Call): Promise<Buffer | null> {
  return stringValue(await c.node.value(c.node.ref(c.args[1])))
}

function bitAt (v: Buffer | null, offset: number): number {
  const byte = offset >> 3
  return v !== null && byte < v.length ? (v[byte] >> (7 - (offset & 7))) & 1 : 0
}

function setbit (c: Call): Promise<Reply> {
  const offset = bitOffset(c, c.args[2])
  const on = parseInt64(c.args[3])
  if (on === null || (on !== 0n && on !== 1n)) fail('ERR bit is not an integer or out of range')
  return modifyString<Reply>(c, c.node.ref(c.args[1]), (view, old) => {
    const byte = offset >> 3
    const next = Buffer.alloc(Math.max(old?.length ?? 0, byte + 1))
    old?.copy(next)
    const mask = 1 << (7 - (offset & 7))
    const was = (next[byte] & mask) !== 0 ? ONE : ZERO
    next[byte] = on === 1n ? next[byte] | mask : next[byte] & ~mask
    return { value: next, expireAt: keepTtl(view.state), result: was }
  })
}

async function getbit (c: Call): Promise<Reply> {
  const offset = bitOffset(c, c.args[2])
  return int(bitAt(await read(c), offset))
}

/** A BYTE|BIT unit argument. */
function unitIsBit (b: Buffer): boolean {
  const u = lower(b)
  if (u !== 'bit' && u !== 'byte') fail(E.syntax)
  return u === 'bit'
}

/** Redis's range normalization: negative from the end, clamped to [0, total - 1]. */
function clamp (start: bigint, end: bigint, total: bigint): [bigint, bigint] {
  if (start < 0n) start += total
  if (end < 0n) end += total
  if (start < 0n) start = 0n
  if (end < 0n) end = 0n
  if (end >= total) end = total - 1n
  return [start, end]
}

function countBits (v: Buffer, firstBit: number, lastBit: number): number {
  let n = 0
  let i = firstBit
  while (i <= lastBit && (i & 7) !== 0) n += bitAt(v, i++)
  for (; i + 7 <= lastBit; i += 8) n += POPCOUNT[v[i >> 3]]
  while (i <= lastBit) n += bitAt(v, i++)
  return n
}

async function bitcount (c: Call): Promise<Reply> {
  const n = c.args.length
  let range: [bigint, bigint] | null = null
  let isBit = false
  if (n === 4 || n === 5) {
    range = [int64Arg(c.args[2]), int64Arg(c.args[3])]
    if (n === 5) isBit = unitIsBit(c.args[4])
  } else if (n !== 2) {
    fail(E.syntax)
  }
  const v = await read(c)
  if (v === null) return ZERO
  if (range === null) return int(countBits(v, 0, v.length * 8 - 1))
  if (range[0] < 0n && range[1] < 0n && range[0] > range[1]) return ZERO
  const total = BigInt(isBit ? v.length * 8 : v.length)
  const [start, end] = clamp(range[0], range[1], total)
  if (start > end) return ZERO
  return int(isBit ? countBits(v, Number(start), Number(end)) : countBits(v, Number(start) * 8, Number(end) * 8 + 7))
}

async function bitpos (c: Call): Promise<Reply> {
  const bit = parseInt64(c.args[2])
  if (bit === null) fail(E.notInteger)
  if (bit !== 0n && bit !== 1n) fail('ERR The bit argument must be 1 or 0.')
  const want = Number(bit)
  const v = await read(c)
  if (v === null) return int(want === 1 ? -1 : 0)
  const n = c.args.length
  let start = 0n
  let end = BigInt(v.length) - 1n
  let isBit = false
  let endGiven = false
  if (n >= 4 && n <= 6) {
    start = int64Arg(c.args[3])
    if (n === 6) isBit = unitIsBit(c.args[5])
    if (n >= 5) {
      end = int64Arg(c.args[4])
      endGiven = true
    } else {
      end = isBit ? BigInt(v.length) * 8n + 7n : BigInt(v.length) - 1n
    }
    ;[start, end] = clamp(start, end, BigInt(isBit ? v.length * 8 : v.length))
  } else if (n !== 3) {
    fail(E.syntax)
  }
  if (start > end) return int(-1)
  const firstBit = isBit ? Number(start) : Number(start) * 8
  const lastBit = isBit ? Number(end) : Number(end) * 8 + 7
  for (let i = firstBit; i <= lastBit; i++) {
    // Whole bytes that cannot hold the bit are skipped.
    if ((i & 7) === 0 && i + 7 <= lastBit && v[i >> 3] === (want === 1 ? 0 : 0xff)) {
      i += 7
      continue
    }
    if (bitAt(v, i) === want) return int(i)
  }
  // Looking for a 0 past a range with no end given: the string is as if zero-padded.
  return int(want === 0 && !endGiven ? lastBit + 1 : -1)
}

const GET = Buffer.from('GET')
const SET = Buffer.from('SET')
const DEL = Buffer.from('DEL')

async function bitop (c: Call): Promise<Reply> {
  const op = lower(c.args[1])
  if (!['and', 'or', 'xor', 'not'].includes(op)) fail(E.syntax)
  if (op === 'not' && c.args.length !== 4) fail('ERR BITOP NOT must be called with a single source key.')
  const sources: Buffer[] = []
  for (const r of await Promise.all(c.args.slice(3).map(k => c.exec([GET, k])))) {
    if (r.type === 'error') throw new CommandError(r.value)
    sources.push(r.type === 'bulk' ? Buffer.from(r.value) : Buffer.alloc(0))
  }
  const len = Math.max(...sources.map(s => s.length))
  const out = Buffer.alloc(len)
  for (let i = 0; i < len; i++) {
    let b = sources[0][i] ?? 0
    if (op === 'not') b = ~b & 0xff
    for (let j = 1; j < sources.length; j++) {
      const x = sources[j][i] ?? 0
      b = op === 'and' ? b & x : op === 'or' ? b | x : b ^ x
    }
    out[i] = b
  }
  const stored = await c.exec(len > 0 ? [SET, c.args[2], out] : [DEL, c.args[2]])
  if (stored.type === 'error') throw new CommandError(stored.value)
  return int(len)
}

const BITMAP = { group: 'bitmap', acl: ['bitmap'], firstKey: 1, lastKey: 1, step: 1, route: 'key' } as const
const READ = [{ flags: ['RO', 'access'], index: 1, range: [0, 1, 0] }] as const

export const bitCommands: CommandSpec[] = [
  { name: 'setbit', arity: 4, flags: ['write', 'denyoom'], ...BITMAP, keySpecs: [{ flags: ['RW', 'access', 'update'], index: 1, range: [0, 1, 0] }], summary: 'Sets or clears the bit at an offset; returns the bit it had.', since: '2.2.0', complexity: 'O(1)', handler: setbit },
  { name: 'getbit', arity: 3, flags: ['readonly', 'fast'], ...BITMAP, keySpecs: READ, summary: 'Returns the bit at an offset.', since: '2.2.0', complexity: 'O(1)', handler: getbit },
  { name: 'bitcount', arity: -2, flags: ['readonly'], ...BITMAP, keySpecs: READ, summary: 'Counts the set bits, in a BYTE or BIT range.', since: '2.6.0', complexity: 'O(N)', handler: bitcount },
  { name: 'bitpos', arity: -3, flags: ['readonly'], ...BITMAP, keySpecs: READ, summary: 'Finds the first set or clear bit, in a BYTE or BIT range.', since: '2.8.7', complexity: 'O(N)', handler: bitpos },
  {
    name: 'bitop',
    arity: -4,
    flags: ['write', 'denyoom'],
    group: 'bitmap',
    acl: ['bitmap'],
    firstKey: 2,
    lastKey: -1,
    step: 1,
    keySpecs: [{ flags: ['OW', 'update'], index: 2, range: [0, 1, 0] }, { flags: ['RO', 'access'], index: 3, range: [-1, 1, 0] }],
    summary: 'AND, OR, XOR or NOT of strings into a destination key (reads and write on each key\'s coordinator: not atomic).',
    since: '2.6.0',
    complexity: 'O(N)',
    handler: bitop
  }
]
