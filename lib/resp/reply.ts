// Replies as data, and their RESP2 / RESP3 encoding.
//
// Commands build Reply values (a tagged union, so one command serves both
// protocol versions); ReplyWriter encodes them for the connection's
// protocol, many replies into one Buffer per socket write.
//
//   Reply        RESP2                       RESP3
//   simple       +OK                         +OK
//   error        -ERR ...                    -ERR ...
//   int          :42                         :42
//   bulk         $3 abc                      $3 abc
//   null         $-1                         _
//   nullarray    *-1                         _
//   array        *n ...                      *n ...
//   map          *2n k v ...                 %n k v ...
//   set          *n ...                      ~n ...
//   double       $ <%.17g>                   ,<%.17g>  (,inf ,-inf ,nan)
//   bool         :1 / :0                     #t / #f
//   verbatim     $n <text>                   =n txt:<text>

import { BY_REFERENCE_BYTES, FastBuffer, bufferOf, byteOffsetOf, copyInto } from '../util/bytes.js'
import { Buffer } from 'node:buffer'

export interface SimpleReply { type: 'simple', value: string }
/** The full text, code included: 'ERR unknown command ...', 'NOQUORUM ...'. */
export interface ErrorReply { type: 'error', value: string }
/** A signed 64-bit integer: a safe integer number, or a bigint. */
export interface IntReply { type: 'int', value: number | bigint }
/** Bytes; a string is sent as UTF-8. */
export interface BulkReply { type: 'bulk', value: Buffer | string }
export interface NullReply { type: 'null' }
export interface NullArrayReply { type: 'nullarray' }
export interface ArrayReply { type: 'array', value: Reply[] }
export interface MapReply { type: 'map', value: Array<[Reply, Reply]> }
export interface SetReply { type: 'set', value: Reply[] }
export interface DoubleReply { type: 'double', value: number }
export interface BoolReply { type: 'bool', value: boolean }
/** Free text (RESP3 verbatim string, format `txt`). */
export interface VerbatimReply { type: 'verbatim', value: string }

export type Reply =
  | SimpleReply | ErrorReply | IntReply | BulkReply | NullReply | NullArrayReply
  | ArrayReply | MapReply | SetReply | DoubleReply | BoolReply | VerbatimReply

export type Proto = 2 | 3

/** Deepest nesting of aggregates the writer and the binary codec accept. */
export const MAX_REPLY_DEPTH = 64

export function simple (value: string): SimpleReply {
  return { type: 'simple', value }
}

export function err (value: string): ErrorReply {
  return { type: 'error', value }
}

/** Throws RangeError for a number that is not a safe integer or a bigint outside int64. */
export function int (value: number | bigint): IntReply {
  checkInt(value)
  return { type: 'int', value: value === 0 ? 0 : value }
}

export function bulk (value: Buffer | string): BulkReply {
  return { type: 'bulk', value }
}

/** bulk(value), or NULL for null / undefined: what GET replies. */
export function bulkOrNull (value: Buffer | string | null | undefined): BulkReply | NullReply {
  return value === null || value === undefined ? NULL : { type: 'bulk', value }
}

export function array (value: Reply[]): ArrayReply {
  return { type: 'array', value }
}

export function map (value: Array<[Reply, Reply]>): MapReply {
  return { type: 'map', value }
}

export function set (value: Reply[]): SetReply {
  return { type: 'set', value }
}

export function double (value: number): DoubleReply {
  return { type: 'double', value }
}

export function bool (value: boolean): BoolReply {
  return { type: 'bool', value }
}

export function verbatim (value: string): VerbatimReply {
  return { type: 'verbatim', value }
}

// Shared replies: frozen, as every connection uses the same objects.
export const OK: SimpleReply = Object.freeze(simple('OK'))
export const PONG: SimpleReply = Object.freeze(simple('PONG'))
export const NULL: NullReply = Object.freeze({ type: 'null' as const })
export const NULL_ARRAY: NullArrayReply = Object.freeze({ type: 'nullarray' as const })
export const ZERO: IntReply = Object.freeze(int(0))
export const ONE: IntReply = Object.freeze(int(1))
export const EMPTY_ARRAY: ArrayReply = Object.freeze(array(Object.freeze([]) as unknown as Reply[]))

const INT64_MAX = 0x7fffffffffffffffn
const INT64_MIN = -0x8000000000000000n

function checkInt (value: number | bigint): void {
  if (typeof value === 'bigint') {
    if (value > INT64_MAX || value < INT64_MIN) throw new RangeError(`integer reply out of int64 range: ${value}`)
  } else if (!Number.isSafeInteger(value)) {
    throw new RangeError(`integer reply is not a safe integer: ${value} (use a bigint)`)
  }
}

/**
 * A double as Redis 7.0 prints it (printf "%.17g": 1.1 is
 * "1.1000000000000001", 3 is "3", 1e20 is "1e+20"), and "inf", "-inf",
 * "nan". Redis 7.2 and later print the shortest round-trip form instead.
 */
export function formatDouble (d: number): string {
  if (d !== d) return 'nan'
  if (d === Infinity) return 'inf'
  if (d === -Infinity) return '-inf'
  if (d === 0) return Object.is(d, -0) ? '-0' : '0'
  const sign = d < 0 ? '-' : ''
  const rounded = round17(exactDecimal(Math.abs(d)))
  const exp = rounded.exp
  let digits = rounded.digits
  // %g: exponent form when the exponent is < -4 or >= the precision.
  if (exp < -4 || exp >= 17) {
    digits = digits.replace(/0+$/, '')
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const e = Math.abs(exp)
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`
  }
  let int: string
  let frac: string
  if (exp >= 0) {
    int = digits.slice(0, exp + 1)
    frac = digits.slice(exp + 1)
  } else {
    int = '0'
    frac = '0'.repeat(-exp - 1) + digits
  }
  frac = frac.replace(/0+$/, '')
  return frac.length > 0 ? `${sign}${int}.${frac}` : `${sign}${int}`
}

const f64 = new Float64Array(1)
const u64 = new BigUint64Array(f64.buffer)

/** The exact decimal value of a positive finite double: digits × 10^-scale. */
function exactDecimal (d: number): { digits: string, scale: number } {
  f64[0] = d
  const bits = u64[0]
  const biased = Number((bits >> 52n) & 0x7ffn)
  const fraction = bits & 0xfffffffffffffn
  const mantissa = biased === 0 ? fraction : fraction | 0x10000000000000n
  const e = (biased === 0 ? 1 : biased) - 1075
  if (e >= 0) return { digits: (mantissa << BigInt(e)).toString(), scale: 0 }
  // m / 2^k = m * 5^k / 10^k
  return { digits: (mantissa * 5n ** BigInt(-e)).toString(), scale: -e }
}

/** Rounds to 17 significant digits, ties to even (glibc printf); exp is the
 * decimal exponent of the first digit. */
function round17 ({ digits, scale }: { digits: string, scale: number }): { digits: string, exp: number } {
  let exp = digits.length - 1 - scale
  if (digits.length <= 17) return { digits: digits.padEnd(17, '0'), exp }
  let head = digits.slice(0, 17)
  const next = digits.charCodeAt(17)
  const tail = digits.slice(18)
  const up = next > 53 || (next === 53 && (/[1-9]/.test(tail) || (head.charCodeAt(16) & 1) === 1))
  if (up) {
    head = (BigInt(head) + 1n).toString()
    if (head.length > 17) {
      head = head.slice(0, 17)
      exp++
    }
  }
  return { digits: head, exp }
}

const RESP2_NULL = Buffer.from('$-1\r\n')
/** The shared OK (every SET's reply), encoded once. */
const OK_BYTES = Buffer.from('+OK\r\n')
const RESP2_NULL_ARRAY = Buffer.from('*-1\r\n')
const RESP3_NULL = Buffer.from('_\r\n')
const RESP2_TRUE = Buffer.from(':1\r\n')
const RESP2_FALSE = Buffer.from(':0\r\n')
const RESP3_TRUE = Buffer.from('#t\r\n')
const RESP3_FALSE = Buffer.from('#f\r\n')

/**
 * A range shorter than this is copied byte by byte; a longer one through a view
 * of it and TypedArray#set. Optimised code checks both arrays' maps and bounds
 * at every byte (~35 instructions a byte under callgrind), a view and the set
 * cost ~870 whatever the length: a cached GET's 100-byte value took ~3 800 by
 * the loop (docs/performance.md, "Session 14, get14").
 */
const SHORT_COPY = 24

export interface ReplyWriterOptions {
  /** Size of the buffers replies are encoded into. Default 16 KB (Redis's reply chunk). */
  slabSize?: number
}

/**
 * Accumulates encoded replies for one socket write.
 *
 * Replies go into a slab; take() returns the bytes written since the last
 * take() as a view of it when they are all there (no copy), otherwise as
 * one concatenated Buffer. Later writes go after the taken bytes, never
 * over them, so a taken Buffer stays valid while the socket holds it.
 *
 *   slab: [ taken ... | pending: start..pos | free ]
 *   pieces: earlier slabs' pending parts and big payloads, in order
 *
 * A bulk Buffer of 16 KB or more is kept by reference until take(): do not
 * change it before then. A write that throws (a bad integer, a structure
 * nested deeper than MAX_REPLY_DEPTH, not a Reply) writes nothing.
 */
export class ReplyWriter {
  private readonly slabSize: number
  private slab: Buffer = Buffer.alloc(0)
  /** slab's ArrayBuffer and byteOffset, read when it is made: take()'s view, without the getters' calls a take (`buffer` is a C++ builtin). */
  private slabBuffer: ArrayBufferLike = bufferOf.call(this.slab)
  private slabOffset = 0
  private start = 0
  private pos = 0
  private pieces: Uint8Array[] = []
  private piecesLen = 0

  constructor (options: ReplyWriterOptions = {}) {
    this.slabSize = options.slabSize ?? 16 * 1024
    if (!Number.isSafeInteger(this.slabSize) || this.slabSize < 64) throw new RangeError(`slabSize must be an integer >= 64, got ${this.slabSize}`)
  }

  /** Bytes written since the last take(). */
  get length (): number {
    return this.piecesLen + this.pos - this.start
  }

  /** Encodes a reply for protocol 2 or 3. */
  write (reply: Reply, proto: Proto): void {
    if (proto !== 2 && proto !== 3) throw new RangeError(`protocol must be 2 or 3, got ${String(proto)}`)
    // Every SET's reply: not through encode, whose switch on the type, once other
    // replies have gone through it, is deoptimised and left to baseline code;
    // its five bytes stored one by one (TypedArray#set of OK_BYTES: ~175 instructions).
    if (reply === OK) return this.short(43, 79, 75) // '+OK'
    // A GET's nil (a cached absent key's) as well.
    if (reply === NULL && proto === 2) return this.short(36, 45, 49) // '$-1'
    const slab = this.slab
    const slabBuffer = this.slabBuffer
    const slabOffset = this.slabOffset
    const start = this.start
    const pos = this.pos
    const count = this.pieces.length
    const piecesLen = this.piecesLen
    try {
      this.encode(reply, proto, 0)
    } catch (e) {
      this.slab = slab
      this.slabBuffer = slabBuffer
      this.slabOffset = slabOffset
      this.start = start
      this.pos = pos
      this.pieces.length = count
      this.piecesLen = piecesLen
      throw e
    }
  }

  /** Three bytes and CRLF, stored one by one. */
  private short (a: number, b: number, c: number): void {
    const slab = this.room(5)
    const p = this.pos
    slab[p] = a
    slab[p + 1] = b
    slab[p + 2] = c
    slab[p + 3] = 13
    slab[p + 4] = 10
    this.pos = p + 5
  }

  /** A bulk string reply: `$<len>\r\n<bytes>\r\n`. */
  bulk (value: Buffer | string): void {
    if (typeof value === 'string') {
      const n = Buffer.byteLength(value)
      if (n >= BY_REFERENCE_BYTES) return this.bulk(Buffer.from(value))
      const slab = this.room(n + 16)
      let p = this.header(slab, this.pos, 36, n)
      p += slab.write(value, p, n, 'utf8')
      slab[p] = 13
      slab[p + 1] = 10
      this.pos = p + 2
      return
    }
    this.bulkOf(value, 0, value.length)
  }

  /** A bulk string reply of src[start, end): a value read in place, no view of it made (a cached GET). */
  bulkOf (src: Buffer, start: number, end: number): void {
    const n = end - start
    if (n >= BY_REFERENCE_BYTES) {
      this.pos = this.header(this.room(16), this.pos, 36, n)
      this.ref(start === 0 && end === src.length ? src : src.subarray(start, end))
      this.crlf()
      return
    }
    const slab = this.room(n + 16)
    let p = this.header(slab, this.pos, 36, n)
    if (n < SHORT_COPY) for (let i = 0; i < n; i++) slab[p + i] = src[start + i]
    else copyInto.call(slab, start === 0 && end === src.length ? src : new FastBuffer(bufferOf.call(src), byteOffsetOf.call(src) + start, n), p)
    p += n
    slab[p] = 13
    slab[p + 1] = 10
    this.pos = p + 2
  }

  /** Bytes already in RESP form, sent as they are. */
  raw (bytes: Uint8Array): void {
    const n = bytes.length
    if (n >= BY_REFERENCE_BYTES) return this.ref(bytes)
    const slab = this.room(n)
    slab.set(bytes, this.pos)
    this.pos += n
  }

  /** Everything written since the last take(), or null if nothing was. */
  take (): Buffer | null {
    if (this.pieces.length === 0) {
      if (this.pos === this.start) return null
      const out = new FastBuffer(this.slabBuffer, this.slabOffset + this.start, this.pos - this.start)
      this.start = this.pos
      return out
    }
    this.flush()
    const out = Buffer.concat(this.pieces, this.piecesLen)
    this.pieces = []
    this.piecesLen = 0
    return out
  }

  private encode (r: Reply, proto: Proto, depth: number): void {
    switch (r.type) {
      case 'bulk':
        return this.bulk(r.value)
      case 'simple':
        return r === OK ? this.raw(OK_BYTES) : this.line(43, r.value)
      case 'error':
        return this.line(45, r.value, 'latin1')
      case 'int':
        checkInt(r.value)
        return this.ascii(58, String(r.value))
      case 'null':
        return this.raw(proto === 3 ? RESP3_NULL : RESP2_NULL)
      case 'nullarray':
        return this.raw(proto === 3 ? RESP3_NULL : RESP2_NULL_ARRAY)
      case 'array':
      case 'set': {
        if (depth >= MAX_REPLY_DEPTH) throw new RangeError(`reply nested deeper than ${MAX_REPLY_DEPTH}`)
        const items = r.value
        this.pos = this.header(this.room(24), this.pos, r.type === 'set' && proto === 3 ? 126 : 42, items.length)
        for (let i = 0; i < items.length; i++) this.encode(items[i], proto, depth + 1)
        return
      }
      case 'map': {
        if (depth >= MAX_REPLY_DEPTH) throw new RangeError(`reply nested deeper than ${MAX_REPLY_DEPTH}`)
        const entries = r.value
        this.pos = proto === 3
          ? this.header(this.room(24), this.pos, 37, entries.length)
          : this.header(this.room(24), this.pos, 42, entries.length * 2)
        for (let i = 0; i < entries.length; i++) {
          this.encode(entries[i][0], proto, depth + 1)
          this.encode(entries[i][1], proto, depth + 1)
        }
        return
      }
      case 'double': {
        const text = formatDouble(r.value)
        return proto === 3 ? this.ascii(44, text) : this.bulk(text)
      }
      case 'bool':
        return this.raw(proto === 3 ? (r.value ? RESP3_TRUE : RESP3_FALSE) : (r.value ? RESP2_TRUE : RESP2_FALSE))
      case 'verbatim':
        if (proto === 2) return this.bulk(r.value)
        return this.verbatim(r.value)
      default:
        throw new TypeError(`not a Reply: ${JSON.stringify((r as { type?: unknown }).type)}`)
    }
  }

  /**
   * A simple string or error: CR and LF become spaces, as in Redis. Errors are
   * latin1 text (one character per byte): they echo the client's bytes as sent.
   */
  private line (prefix: number, text: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    if (text.includes('\r') || text.includes('\n')) text = text.replace(/[\r\n]/g, ' ')
    const slab = this.room(text.length * 3 + 3)
    let p = this.pos
    slab[p++] = prefix
    p += slab.write(text, p, encoding)
    slab[p] = 13
    slab[p + 1] = 10
    this.pos = p + 2
  }

  /** prefix, ASCII text, CRLF. */
  private ascii (prefix: number, text: string): void {
    const slab = this.room(text.length + 3)
    let p = this.pos
    slab[p++] = prefix
    p += slab.write(text, p, 'latin1')
    slab[p] = 13
    slab[p + 1] = 10
    this.pos = p + 2
  }

  private verbatim (text: string): void {
    const n = Buffer.byteLength(text)
    if (n >= BY_REFERENCE_BYTES) {
      this.pos = this.header(this.room(24), this.pos, 61, n + 4)
      this.pos += this.room(4).write('txt:', this.pos, 'latin1')
      this.ref(Buffer.from(text))
      this.crlf()
      return
    }
    const slab = this.room(n + 24)
    let p = this.header(slab, this.pos, 61, n + 4)
    p += slab.write('txt:', p, 'latin1')
    p += slab.write(text, p, n, 'utf8')
    slab[p] = 13
    slab[p + 1] = 10
    this.pos = p + 2
  }

  private crlf (): void {
    const slab = this.room(2)
    slab[this.pos] = 13
    slab[this.pos + 1] = 10
    this.pos += 2
  }

  /** prefix, a non-negative length in decimal, CRLF; returns the new position. */
  private header (slab: Buffer, p: number, prefix: number, n: number): number {
    slab[p++] = prefix
    if (n < 10) {
      slab[p++] = 48 + n
    } else if (n < 100) {
      slab[p++] = 48 + Math.floor(n / 10)
      slab[p++] = 48 + (n % 10)
    } else {
      // Digit by digit: String(n) and Buffer#write cost more than copying a 100-byte payload.
      let digits = 0
      for (let q = n; q > 0; q = Math.floor(q / 10)) digits++
      for (let i = p + digits - 1; i >= p; i--) {
        slab[i] = 48 + (n % 10)
        n = Math.floor(n / 10)
      }
      p += digits
    }
    slab[p] = 13
    slab[p + 1] = 10
    return p + 2
  }

  /** Makes room for n more bytes in the slab and returns it. */
  private room (n: number): Buffer {
    if (this.pos + n <= this.slab.length) return this.slab
    this.flush()
    const slab = this.slab = Buffer.allocUnsafe(Math.max(this.slabSize, n))
    this.slabBuffer = bufferOf.call(slab)
    this.slabOffset = byteOffsetOf.call(slab)
    this.start = 0
    this.pos = 0
    return this.slab
  }

  /** Moves the slab's pending bytes to pieces. */
  private flush (): void {
    if (this.pos > this.start) {
      this.pieces.push(this.slab.subarray(this.start, this.pos))
      this.piecesLen += this.pos - this.start
      this.start = this.pos
    }
  }

  private ref (bytes: Uint8Array): void {
    this.flush()
    this.pieces.push(bytes)
    this.piecesLen += bytes.length
  }
}
