// A compact binary form of a Reply, for relaying a forwarded command's
// reply between nodes without fixing its RESP version: the receiving node
// encodes it for its own client's protocol.
//
//   reply   = version:u8 (=1) node
//   node    = tag:u8 body
//   tag     body
//   1 simple, 2 error, 16 verbatim     varint length, UTF-8 bytes
//   3 int >= 0, 4 int < 0              varint |n| (a safe-integer number)
//   5 int                              int64 big-endian (a bigint)
//   6 bulk bytes, 7 bulk string        varint length, bytes
//   8 null, 9 nullarray                -
//   10 array, 12 set                   varint count, count nodes
//   11 map                             varint count, 2 * count nodes
//   13 double                          float64 big-endian
//   14 false, 15 true                  -
//
// number vs bigint and Buffer vs string survive the round trip. Decoding
// bounds every count by the bytes left and the nesting by maxDepth; any
// malformed input throws DecodeError. Decoded bulk Buffers are views of the
// input (a relayed reply is written out and dropped; copy one to keep it).

import { DecodeError, Reader, Writer } from '../util/bytes.js'
import { MAX_REPLY_DEPTH, type Reply } from './reply.js'
import { Buffer } from 'node:buffer'

const VERSION = 1

const SIMPLE = 1
const ERROR = 2
const INT_POS = 3
const INT_NEG = 4
const INT_BIG = 5
const BULK_BYTES = 6
const BULK_STRING = 7
const NULL = 8
const NULL_ARRAY = 9
const ARRAY = 10
const MAP = 11
const SET = 12
const DOUBLE = 13
const FALSE = 14
const TRUE = 15
const VERBATIM = 16

const scratch = Buffer.alloc(8)

export function encodeReplyBinary (reply: Reply): Buffer {
  const w = new Writer(64)
  w.u8(VERSION)
  encode(w, reply, 0)
  return w.finish()
}

export interface DecodeReplyOptions {
  /** Deepest nesting accepted. Default MAX_REPLY_DEPTH (64). */
  maxDepth?: number
}

export function decodeReplyBinary (buf: Buffer, options: DecodeReplyOptions = {}): Reply {
  const r = new Reader(buf)
  const version = r.u8()
  if (version !== VERSION) throw new DecodeError(`unknown reply encoding version ${version}`)
  const reply = decode(r, options.maxDepth ?? MAX_REPLY_DEPTH, 0)
  r.expectEnd()
  return reply
}

function encode (w: Writer, r: Reply, depth: number): void {
  switch (r.type) {
    case 'simple':
      w.u8(SIMPLE).string(r.value)
      return
    case 'error':
      w.u8(ERROR).string(r.value)
      return
    case 'verbatim':
      w.u8(VERBATIM).string(r.value)
      return
    case 'int': {
      const v = r.value
      if (typeof v === 'bigint') {
        scratch.writeBigInt64BE(v) // RangeError outside int64
        w.u8(INT_BIG).raw(scratch)
      } else if (v < 0) {
        w.u8(INT_NEG).varint(-v) // RangeError unless a safe integer
      } else {
        w.u8(INT_POS).varint(v)
      }
      return
    }
    case 'bulk':
      if (typeof r.value === 'string') w.u8(BULK_STRING).string(r.value)
      else w.u8(BULK_BYTES).bytes(r.value)
      return
    case 'null':
      w.u8(NULL)
      return
    case 'nullarray':
      w.u8(NULL_ARRAY)
      return
    case 'array':
    case 'set':
      if (depth >= MAX_REPLY_DEPTH) throw new RangeError(`reply nested deeper than ${MAX_REPLY_DEPTH}`)
      w.u8(r.type === 'array' ? ARRAY : SET).varint(r.value.length)
      for (const item of r.value) encode(w, item, depth + 1)
      return
    case 'map':
      if (depth >= MAX_REPLY_DEPTH) throw new RangeError(`reply nested deeper than ${MAX_REPLY_DEPTH}`)
      w.u8(MAP).varint(r.value.length)
      for (const [k, v] of r.value) {
        encode(w, k, depth + 1)
        encode(w, v, depth + 1)
      }
      return
    case 'double':
      scratch.writeDoubleBE(r.value)
      w.u8(DOUBLE).raw(scratch)
      return
    case 'bool':
      w.u8(r.value ? TRUE : FALSE)
      return
    default:
      throw new TypeError(`not a Reply: ${JSON.stringify((r as { type?: unknown }).type)}`)
  }
}

function decode (r: Reader, maxDepth: number, depth: number): Reply {
  const tag = r.u8()
  switch (tag) {
    case SIMPLE:
      return { type: 'simple', value: r.string() }
    case ERROR:
      return { type: 'error', value: r.string() }
    case VERBATIM:
      return { type: 'verbatim', value: r.string() }
    case INT_POS:
      return { type: 'int', value: r.varint() }
    case INT_NEG: {
      const n = r.varint()
      if (n === 0) throw new DecodeError('negative zero integer')
      return { type: 'int', value: -n }
    }
    case INT_BIG:
      return { type: 'int', value: r.raw(8).readBigInt64BE(0) }
    case BULK_BYTES:
      return { type: 'bulk', value: r.bytes() }
    case BULK_STRING:
      return { type: 'bulk', value: r.string() }
    case NULL:
      return { type: 'null' }
    case NULL_ARRAY:
      return { type: 'nullarray' }
    case ARRAY:
    case SET: {
      if (depth >= maxDepth) throw new DecodeError(`reply nested deeper than ${maxDepth}`)
      // Every element takes at least one byte.
      const n = r.count(r.remaining)
      const items: Reply[] = new Array(n)
      for (let i = 0; i < n; i++) items[i] = decode(r, maxDepth, depth + 1)
      return { type: tag === ARRAY ? 'array' : 'set', value: items }
    }
    case MAP: {
      if (depth >= maxDepth) throw new DecodeError(`reply nested deeper than ${maxDepth}`)
      const n = r.count(Math.floor(r.remaining / 2))
      const entries: Array<[Reply, Reply]> = new Array(n)
      for (let i = 0; i < n; i++) entries[i] = [decode(r, maxDepth, depth + 1), decode(r, maxDepth, depth + 1)]
      return { type: 'map', value: entries }
    }
    case DOUBLE:
      return { type: 'double', value: r.raw(8).readDoubleBE(0) }
    case FALSE:
      return { type: 'bool', value: false }
    case TRUE:
      return { type: 'bool', value: true }
    default:
      throw new DecodeError(`unknown reply tag ${tag}`)
  }
}
