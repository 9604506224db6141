// Client requests in, argument vectors out: the front half of the RESP
// server. No sockets, no timers: a connection feeds it the bytes it reads.
//
// A request is either a multibulk frame (RESP array of bulk strings, what
// every client library sends) or an inline line (`PING\r\n`). Multibulk
// frames pass through a streaming guard:
//
//   socket bytes ─▶ guard ───────────────────────────▶ onCommand(args)
//                   │ reads `*<n>` / `$<len>` headers, checks them exactly
//                   │ as Redis's processMultibulkBuffer() does, and skips
//                   │ payloads by length (no per-byte work on them);
//                   │ a complete frame with plain headers (all of them in
//                   │ practice) becomes its arguments right there: views
//                   │ of the chunk, where the header scan found them
//                   ├─ a valid frame with a length of 16+ digits (only
//                   │  reachable with limits of 10^15 or more)
//                   │    ─▶ redis-parser ─▶ onCommand(args)
//                   ├─ inline lines ─▶ splitInlineArgs ─▶ onCommand(args)
//                   └─ the first bad byte ─▶ onError(message), then nothing
//
// redis-parser is a reply parser: it does not validate lengths (`$1x` is read
// as some number), accepts reply types no request may hold (`+`, `:`, nested
// arrays), and knows neither inline commands nor Redis's limits. Fed only
// complete frames, it also never takes its slow path for a bulk split across
// chunks, which copies into a pool shared by the whole process and starts a
// setInterval. It used to parse every frame the guard had checked; reading
// the arguments where the guard found them saves its second pass over the
// headers (with the shared GET/SET names below, the parser alone went from
// 4 470 to 3 120 instructions per SET, 3 951 to 1 929 per GET: callgrind,
// docs/performance.md). See the notes at the end of this file.
//
// Error wording, limits and edge cases are those of redis-server 7.0
// (networking.c: processInputBuffer, processMultibulkBuffer,
// processInlineBuffer); spec/resp/parser-redis.spec.ts checks them against a
// live redis-server byte for byte.

import RedisParser from 'redis-parser'
import { splitInlineArgs } from './inline.js'
import { FastBuffer, bufferOf, byteOffsetOf, copyInto } from '../util/bytes.js'
import { Buffer } from 'node:buffer'

/** Redis proto-max-bulk-len: the largest bulk argument. */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024
/** Redis PROTO_INLINE_MAX_SIZE: longest inline request or header line. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024
/** Most arguments in one request (Redis up to 6.2; 7.0 allows 2^31 - 1). */
export const PROTO_MAX_MULTIBULK_LEN = 1024 * 1024
/** Redis client-query-buffer-limit: the largest request, in bytes. */
export const PROTO_MAX_REQUEST_LEN = 1024 * 1024 * 1024
/** Redis 7 limits for a client that must authenticate but has not yet. */
export const UNAUTH_MAX_MULTIBULK_LEN = 10
export const UNAUTH_MAX_BULK_LEN = 16384

/** Every message onError() can receive, except expectedDollar()'s. */
export const PROTOCOL_ERRORS = {
  invalidMultibulkLength: 'Protocol error: invalid multibulk length',
  invalidBulkLength: 'Protocol error: invalid bulk length',
  tooBigMbulkCount: 'Protocol error: too big mbulk count string',
  tooBigBulkCount: 'Protocol error: too big bulk count string',
  tooBigInline: 'Protocol error: too big inline request',
  unbalancedQuotes: 'Protocol error: unbalanced quotes in request',
  unauthMultibulkLength: 'Protocol error: unauthenticated multibulk length',
  unauthBulkLength: 'Protocol error: unauthenticated bulk length',
  /** Not a Redis reply: Redis closes such a client without one. */
  tooBigRequest: 'Protocol error: request exceeds the query buffer limit'
} as const

/**
 * `expected '$', got 'c'`, where c is the offending byte as one latin1
 * character; CR and LF become a space, as Redis's addReplyErrorFormat does.
 */
export function expectedDollar (byte: number): string {
  const c = byte === 13 || byte === 10 ? ' ' : String.fromCharCode(byte)
  return `Protocol error: expected '$', got '${c}'`
}

/**
 * The bytes Redis sends for a protocol error: `-ERR <message>\r\n`. The
 * message is latin1 (one char per byte), so the offending byte in
 * expectedDollar() goes out as the byte Redis would send.
 */
export function protocolErrorReply (message: string): Buffer {
  return Buffer.from(`-ERR ${message}\r\n`, 'latin1')
}

export interface RequestParserLimits {
  /** Largest bulk argument in bytes (Redis proto-max-bulk-len). Default 512 MB. */
  maxBulkLen?: number
  /** Longest inline request or `*` / `$` header line (Redis PROTO_INLINE_MAX_SIZE). Default 64 KB. */
  maxInlineLen?: number
  /** Most arguments in one request. Default 1024 * 1024. */
  maxMultibulkLen?: number
  /**
   * Largest multibulk request in bytes, headers included (the bound on what
   * one connection buffers; Redis's client-query-buffer-limit). Default 1 GB.
   */
  maxRequestLen?: number
}

/**
 * What the parser reports to: methods of one object, called on it. A
 * connection is its own handler, so each call site in the parser sees the same
 * functions (Connection's prototype methods) for every connection; closures
 * made per connection were a new call target at each one.
 */
export interface RequestHandler {
  /**
   * False while the server requires a password that this client has not
   * given; then a request may hold at most 10 arguments of at most 16384
   * bytes, as in Redis 7. Asked at each header that exceeds those limits, so
   * an AUTH earlier in the same pipeline counts. Absent: always true.
   */
  isAuthenticated? (): boolean
  /**
   * One request, never empty. The Buffers are views of the bytes fed in (or
   * of one buffer assembled for a request split across chunks): copy one
   * before keeping it long, or it pins the whole chunk.
   */
  onCommand (args: Buffer[]): void
  /**
   * A GET (any case) of one key, chunk[from, to), offered before its
   * arguments are made: true when it was answered (no onCommand follows),
   * false to have it delivered to onCommand as any other. Only whole frames
   * of one chunk are offered; the range is valid during the call only.
   */
  onGet? (chunk: Buffer, from: number, to: number): boolean
  /**
   * A SET (any case) of 3 arguments, offered before its argument array is
   * made: true when it was taken (no onCommand follows), false to have it
   * delivered to onCommand with the same key and value. Only whole frames of
   * one chunk are offered; key and value are views as onCommand's are.
   */
  onSet? (key: Buffer, value: Buffer): boolean
  /** A protocol error: reply `-ERR <message>` and close. Called at most once; nothing follows it. */
  onError (message: string): void
}

const START = 0 // between requests
const MB_LINE = 1 // in the `*<count>` line; the `*` is consumed
const BULK_LINE = 2 // in a `$<len>` line
const PAYLOAD = 3 // skipping a bulk's bytes and the two after them
const INLINE = 4 // in an inline line, up to its `\n`
const STUCK = 5 // a NUL came before the line's terminator (see notes)
const STOPPED = 6

export class RequestParser {
  /** CONFIG SET proto-max-bulk-len changes it for the next header read. */
  maxBulkLen: number
  private readonly maxInlineLen: number
  private readonly maxMultibulkLen: number
  private readonly maxRequestLen: number
  /** Does the handler say whether the client has authenticated (isAuthenticated)? */
  private readonly checksAuth: boolean
  private readonly frames: RedisParser

  private phase = START
  private feeding = false
  /** Stream offset of the first byte of the chunk being fed. */
  private base = 0
  /** Stream offset of the first byte of the request in progress. */
  private requestAt = 0
  /** The request in progress's bytes from earlier chunks, contiguous. */
  private asm: Buffer | null = null
  private asmLen = 0
  /** Payload bytes (plus 2) of the current bulk not yet skipped. */
  private payloadLeft = 0
  private argsLeft = 0
  /** Bytes after the line's start in a NUL-stuck state. */
  private stuckLen = 0
  private stuckMessage = ''

  // The header line in progress: its bytes before '\r' (type byte
  // included), its first byte, whether '\r' was its last byte so far, and
  // the number after the type byte as Redis's string2ll() reads it.
  private lineLen = 0
  private lineType = -1
  private lineCR = false
  private numNeg = false
  private numBad = false
  private numZero = false
  private numDigits = 0
  private numVal = 0
  private numBig = 0n

  constructor (private readonly handler: RequestHandler, options: RequestParserLimits = {}) {
    this.maxBulkLen = options.maxBulkLen ?? PROTO_MAX_BULK_LEN
    this.maxInlineLen = options.maxInlineLen ?? PROTO_INLINE_MAX_SIZE
    this.maxMultibulkLen = options.maxMultibulkLen ?? PROTO_MAX_MULTIBULK_LEN
    this.maxRequestLen = options.maxRequestLen ?? PROTO_MAX_REQUEST_LEN
    for (const [name, v] of [['maxBulkLen', this.maxBulkLen], ['maxInlineLen', this.maxInlineLen],
      ['maxMultibulkLen', this.maxMultibulkLen], ['maxRequestLen', this.maxRequestLen]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`)
    }
    this.checksAuth = handler.isAuthenticated !== undefined
    this.frames = new RedisParser({
      returnBuffers: true,
      /* c8 ignore start: only frames with a 16+ digit length come here */
      returnReply: (reply: unknown) => {
        if (this.phase === STOPPED) return // stop() from an earlier onCommand of the same batch
        if (!Array.isArray(reply) || reply.length === 0) return this.fail('Protocol error: internal parser error')
        this.handler.onCommand(reply as Buffer[])
      },
      returnError: () => this.fail('Protocol error: internal parser error'),
      returnFatalError: () => this.fail('Protocol error: internal parser error')
      /* c8 ignore stop */
    })
  }

  /** Bytes of an unfinished request held between feeds. */
  get bufferedBytes (): number {
    return this.asmLen
  }

  /** True between the first byte of a request and its end (waiting for more). */
  get pending (): boolean {
    return this.phase !== START && this.phase !== STOPPED
  }

  /** True once an error was reported or stop() was called. */
  get stopped (): boolean {
    return this.phase === STOPPED
  }

  /**
   * Parses a chunk: calls onCommand for every complete request in it, in
   * order, and onError at the first protocol error. Keeps (a copy of) an
   * unfinished request's bytes for the next feed. Does not throw, unless a
   * callback does; then the parser stops and the exception propagates.
   *
   * transient: chunk is valid during this call only (a view of a receive
   * buffer the next read overwrites). It is copied once, when the parser
   * first needs to keep any of it (an argument view, a request split over
   * chunks, an inline or a long frame); GETs taken by onGet never do, so a
   * read of whole GETs is parsed where it lies.
   */
  feed (chunk: Buffer, transient = false): void {
    if (this.phase === STOPPED) return
    if (this.feeding) throw new Error('RequestParser.feed() called from one of its callbacks')
    this.feeding = true
    try {
      this.run(chunk, transient)
      this.base += chunk.length
    } catch (e) {
      this.stop()
      // A callback threw from inside redis-parser's execute(): drop its state.
      this.frames.reset()
      throw e
    } finally {
      this.feeding = false
    }
  }

  /**
   * No more callbacks, whatever is fed (for QUIT, or a closed socket).
   * Callable from onCommand: the rest of the chunk is dropped.
   */
  stop (): void {
    this.phase = STOPPED
    this.asm = null
    this.asmLen = 0
  }

  private run (chunk: Buffer, transient: boolean): void {
    const end = chunk.length
    // The chunk's ArrayBuffer and offset, for the argument views: read once a
    // chunk by the getters (util/bytes.ts), and only when a view is made — a
    // GET taken by onGet makes none (`buffer` is a C++ builtin).
    let buffer: ArrayBufferLike | null = null
    let offset = 0
    let pos = 0
    // Where the request in progress starts in this chunk; -1: it started in
    // an earlier one and its bytes so far are in this.asm.
    let start = -1
    while (pos < end) {
      // Off the whole-frame path every case may keep the chunk's bytes: a copy of it from here on (same offsets).
      if (transient && this.phase !== START) {
        chunk = copyOf(chunk)
        transient = false
      }
      switch (this.phase) {
        case START:
          start = pos
          this.requestAt = this.base + pos
          if (chunk[pos] === 42) { // '*'
            // The common case first: a whole, plain frame in this chunk.
            const next = this.wholeFrame(chunk, pos, end)
            // Its limits may depend on the auth state after the commands
            // before it, which have run: ask now.
            if (next > 0 && (!wholeFrameNeedsAuth || this.authenticated())) {
              // A GET's key offered where it lies first: no argument array, no view.
              if (wholeFrameArgs !== 2 || !isGet(chunk, argAt[0], argEnd[0]) || this.handler.onGet?.(chunk, argAt[1], argEnd[1]) !== true) {
                if (buffer === null) {
                  if (transient) {
                    chunk = copyOf(chunk)
                    transient = false
                  }
                  buffer = bufferOf.call(chunk)
                  offset = byteOffsetOf.call(chunk)
                }
                if (wholeFrameArgs === 3 && isSet(chunk, argAt[0], argEnd[0]) && this.handler.onSet !== undefined) {
                  // A SET offered with its key and value only: no argument array unless it is declined.
                  const key = new FastBuffer(buffer, offset + argAt[1], argEnd[1] - argAt[1])
                  const value = new FastBuffer(buffer, offset + argAt[2], argEnd[2] - argAt[2])
                  if (!this.handler.onSet(key, value)) this.handler.onCommand([commonName(chunk, argAt[0], argEnd[0]) ?? new FastBuffer(buffer, offset + argAt[0], 3), key, value])
                } else {
                  this.handler.onCommand(frameArgs(chunk, buffer, offset))
                }
              }
              if (this.phase !== START) return // stop() from onCommand
              pos = next
              break
            }
            pos++
            this.beginLine(1, 42)
            this.phase = MB_LINE
          } else {
            this.phase = INLINE
          }
          break

        case MB_LINE: {
          const next = this.scanLine(chunk, pos, end, PROTOCOL_ERRORS.tooBigMbulkCount)
          if (next < 0) return this.keep(chunk, start, end)
          pos = next
          const n = this.lineNumber()
          if (n === null || n > this.maxMultibulkLen) return this.fail(PROTOCOL_ERRORS.invalidMultibulkLength)
          if (n > UNAUTH_MAX_MULTIBULK_LEN && !this.authenticated()) return this.fail(PROTOCOL_ERRORS.unauthMultibulkLength)
          if (n <= 0) { // `*0`, `*-1`: nothing to run, as in Redis
            this.phase = START
            this.asm = null
            this.asmLen = 0
            break
          }
          this.argsLeft = Number(n)
          this.beginLine(0, -1)
          this.phase = BULK_LINE
          break
        }

        case BULK_LINE: {
          const next = this.scanLine(chunk, pos, end, PROTOCOL_ERRORS.tooBigBulkCount)
          if (next < 0) return this.keep(chunk, start, end)
          pos = next
          if (this.lineType !== 36) return this.fail(expectedDollar(this.lineType < 0 ? 13 : this.lineType))
          const n = this.lineNumber()
          if (n === null || n < 0 || n > this.maxBulkLen) return this.fail(PROTOCOL_ERRORS.invalidBulkLength)
          if (n > UNAUTH_MAX_BULK_LEN && !this.authenticated()) return this.fail(PROTOCOL_ERRORS.unauthBulkLength)
          const len = Number(n)
          if (this.base + pos - this.requestAt + len + 2 > this.maxRequestLen) return this.fail(PROTOCOL_ERRORS.tooBigRequest)
          this.payloadLeft = len + 2
          this.phase = PAYLOAD
          break
        }

        case PAYLOAD: {
          // Redis does not check the two bytes after a payload; neither
          // does redis-parser.
          const n = Math.min(this.payloadLeft, end - pos)
          pos += n
          this.payloadLeft -= n
          if (this.payloadLeft > 0) return this.keep(chunk, start, end)
          if (--this.argsLeft > 0) {
            this.beginLine(0, -1)
            this.phase = BULK_LINE
          } else {
            this.deliverFrame(chunk, start, pos)
          }
          break
        }

        case INLINE:
          pos = this.inline(chunk, start, pos, end)
          break

        case STUCK:
          this.stuck(this.stuckLen + end - pos)
          return

        default: // STOPPED, by onCommand or an error
          return
      }
    }
    if (this.phase !== START && this.phase !== STUCK && this.phase !== STOPPED) this.keep(chunk, start, end)
  }

  private authenticated (): boolean {
    return this.handler.isAuthenticated?.() !== false
  }

  private fail (message: string): void {
    this.stop()
    this.handler.onError(message)
  }

  /** A NUL before a line's terminator: Redis's strchr() never finds the
   * terminator, so it waits until more than maxInlineLen bytes follow the
   * line's start, then reports the line as too big. */
  private stuck (len: number): void {
    this.phase = STUCK
    this.stuckLen = len
    this.asm = null
    this.asmLen = 0
    if (len > this.maxInlineLen) this.fail(this.stuckMessage)
  }

  private beginLine (len: number, type: number): void {
    this.lineLen = len
    this.lineType = type
    this.lineCR = false
    this.numNeg = false
    this.numBad = false
    this.numZero = false
    this.numDigits = 0
    this.numVal = 0
  }

  /**
   * Consumes header line bytes from pos. Returns the position after the
   * line (its '\r' and the one byte after it, which Redis skips unchecked),
   * or -1 when the chunk ended first, the line got longer than Redis allows
   * (error reported) or it holds a NUL (now STUCK).
   */
  private scanLine (chunk: Buffer, pos: number, end: number, tooBig: string): number {
    if (this.lineCR) {
      this.lineCR = false
      return pos + 1
    }
    let len = this.lineLen
    let type = this.lineType
    let neg = this.numNeg
    let bad = this.numBad
    let zero = this.numZero
    let digits = this.numDigits
    let val = this.numVal
    // More than maxInlineLen bytes before '\r' is "too big", however the
    // bytes arrive (see notes).
    const stop = Math.min(end, pos + this.maxInlineLen + 1 - len)
    let p = pos
    let found = -1
    let nul = false
    for (; p < stop; p++) {
      const c = chunk[p]
      if (c === 13) {
        found = p
        break
      }
      if (c === 0) {
        nul = true
        break
      }
      if (type < 0) {
        type = c
      } else if (c >= 48 && c <= 57) {
        if (digits === 0 && c === 48) zero = true
        if (digits < 15) val = val * 10 + c - 48
        else if (digits < 20) this.numBig = (digits === 15 ? BigInt(val) : this.numBig) * 10n + BigInt(c - 48)
        digits++
      } else if (c === 45 && len === 1) {
        neg = true
      } else {
        bad = true
      }
      len++
    }
    this.lineLen = len
    this.lineType = type
    this.numNeg = neg
    this.numBad = bad
    this.numZero = zero
    this.numDigits = digits
    this.numVal = val
    if (found >= 0) {
      if (found + 1 < end) return found + 2
      this.lineCR = true
      return -1
    }
    if (nul) {
      this.stuckMessage = tooBig
      this.stuck(len + end - p)
      return -1
    }
    if (len > this.maxInlineLen) this.fail(tooBig)
    return -1
  }

  /** The header line's number as string2ll() parses it, or null where it fails. */
  private lineNumber (): number | bigint | null {
    const n = this.lineLen - 1
    if (this.numBad || this.numDigits === 0 || n >= 21 || (this.numZero && n !== 1)) return null
    if (this.numDigits <= 15) return this.numNeg ? -this.numVal : this.numVal
    const v = this.numNeg ? -this.numBig : this.numBig
    return v > 0x7fffffffffffffffn || v < -0x8000000000000000n ? null : v
  }

  private inline (chunk: Buffer, start: number, pos: number, end: number): number {
    const nl = chunk.indexOf(10, pos)
    const before = (start >= 0 ? -start : this.asmLen) + (nl < 0 ? end : nl)
    if (before > this.maxInlineLen) {
      this.fail(PROTOCOL_ERRORS.tooBigInline)
      return end
    }
    if (nl < 0) return end
    let line: Buffer
    if (start >= 0) {
      line = chunk.subarray(start, nl)
    } else {
      this.append(chunk, 0, nl)
      line = (this.asm as Buffer).subarray(0, this.asmLen)
      this.asm = null
      this.asmLen = 0
    }
    if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1)
    if (line.indexOf(0) >= 0) {
      this.stuckMessage = PROTOCOL_ERRORS.tooBigInline
      this.stuck(before + 1)
      return nl + 1
    }
    this.phase = START
    const args = splitInlineArgs(line)
    if (args === null) {
      this.fail(PROTOCOL_ERRORS.unbalancedQuotes)
    } else if (args.length > 0) {
      this.handler.onCommand(args)
    }
    return nl + 1
  }

  /**
   * The end of the frame starting at pos if the whole frame is in the chunk
   * and every header in it is plain (`*<n>` or `$<n>`, n of 1 to 15 digits,
   * within every limit), else -1: then the resumable path below takes over
   * from pos, and reaches the same result byte by byte. Sets
   * wholeFrameNeedsAuth when the frame is only valid for an authenticated
   * client (more than 10 arguments, or one longer than 16384 bytes).
   */
  private wholeFrame (chunk: Buffer, pos: number, end: number): number {
    let n = plainLength(chunk, pos + 1, end)
    if (n <= 0 || n > this.maxMultibulkLen || plainLengthEnd - pos - 2 > this.maxInlineLen) return -1
    let needsAuth = n > UNAUTH_MAX_MULTIBULK_LEN
    const last = pos + this.maxRequestLen
    let p = plainLengthEnd
    wholeFrameArgs = n
    for (let i = 0; i < n; i++) {
      if (p >= end || chunk[p] !== 36) return -1
      const len = plainLength(chunk, p + 1, end)
      if (len < 0 || len > this.maxBulkLen || plainLengthEnd - p - 2 > this.maxInlineLen) return -1
      if (len > UNAUTH_MAX_BULK_LEN) needsAuth = true
      argAt[i] = plainLengthEnd
      p = plainLengthEnd + len + 2
      argEnd[i] = p - 2
      if (p > end || p > last) return -1
    }
    wholeFrameNeedsAuth = needsAuth && this.checksAuth
    return p
  }

  /** A complete, valid multibulk frame ends at pos: parse and deliver it. */
  private deliverFrame (chunk: Buffer, start: number, pos: number): void {
    this.phase = START
    // wholeFrame() takes every frame that fits in one chunk (unless a limit
    // is 10^15 or more), so this one is nearly always assembled in this.asm.
    /* c8 ignore next */
    if (start >= 0) return this.frames.execute(chunk.subarray(start, pos))
    this.append(chunk, 0, pos)
    const frame = (this.asm as Buffer).subarray(0, this.asmLen)
    this.asm = null // the arguments are views of it now
    this.asmLen = 0
    // Valid (wholeFrame() checks the same limits), so plain unless a length
    // has more than 15 digits: such a frame goes through redis-parser.
    if (this.wholeFrame(frame, 0, frame.length) === frame.length) return this.handler.onCommand(frameArgs(frame, frame.buffer, frame.byteOffset))
    /* c8 ignore next 2 */
    this.frames.execute(frame)
  }

  /** The chunk ended inside a request: keep its bytes for the next feed. */
  private keep (chunk: Buffer, start: number, end: number): void {
    if (this.phase === STOPPED || this.phase === STUCK) return
    this.append(chunk, start >= 0 ? start : 0, end)
  }

  private append (chunk: Buffer, from: number, to: number): void {
    const n = to - from
    const need = this.asmLen + n
    let asm = this.asm
    if (asm === null || need > asm.length) {
      // Double, but not past the end of the payload being read: a 100 MB
      // bulk arriving in 64 KB chunks costs one final buffer of its size.
      let size = Math.max(need, asm === null ? 256 : asm.length * 2)
      if (this.phase === PAYLOAD) size = Math.min(size, Math.max(need, this.asmLen + n + this.payloadLeft))
      const next = Buffer.allocUnsafe(size)
      if (asm !== null) asm.copy(next, 0, 0, this.asmLen)
      this.asm = asm = next
    }
    chunk.copy(asm, this.asmLen, from, to)
    this.asmLen = need
  }
}

/** Where the line read by the last successful plainLength() ends. */
let plainLengthEnd = 0
/** Set by the last successful wholeFrame(). */
let wholeFrameNeedsAuth = false
/**
 * The arguments of the frame the last successful wholeFrame() read: their
 * count, and where each one's bytes start and end in its chunk. Grown, never
 * shrunk: as long as the most arguments one request has held.
 */
let wholeFrameArgs = 0
const argAt: number[] = []
const argEnd: number[] = []

/**
 * The arguments of the frame the last successful wholeFrame() read, as views
 * of its chunk (whose ArrayBuffer and byteOffset are buffer and offset): what
 * redis-parser would return, without parsing the headers a second time.
 */
/** A copy of a transient chunk, for the views and bytes the parser keeps (from Node's buffer pool below 4 KB). */
function copyOf (chunk: Buffer): Buffer {
  const copy = Buffer.allocUnsafe(chunk.length)
  copyInto.call(copy, chunk, 0)
  return copy
}

function frameArgs (chunk: Buffer, buffer: ArrayBufferLike, offset: number): Buffer[] {
  const n = wholeFrameArgs
  const args = new Array<Buffer>(n)
  args[0] = commonName(chunk, argAt[0], argEnd[0]) ?? new FastBuffer(buffer, offset + argAt[0], argEnd[0] - argAt[0])
  for (let i = 1; i < n; i++) args[i] = new FastBuffer(buffer, offset + argAt[i], argEnd[i] - argAt[i])
  return args
}

// GET and SET as clients spell them: one shared Buffer each for the command
// name instead of a view of the chunk per request (a view is a typed array
// creation, ~700 instructions). Nothing writes into arguments.
const NAME_GET = Buffer.from('GET')
const NAME_SET = Buffer.from('SET')
const NAME_get = Buffer.from('get')
const NAME_set = Buffer.from('set')

function commonName (chunk: Buffer, from: number, to: number): Buffer | undefined {
  if (to - from !== 3) return undefined
  const a = chunk[from]
  const b = chunk[from + 1]
  const c = chunk[from + 2]
  if (b === 0x45 && c === 0x54) return a === 0x47 ? NAME_GET : a === 0x53 ? NAME_SET : undefined // 'GET', 'SET'
  if (b === 0x65 && c === 0x74) return a === 0x67 ? NAME_get : a === 0x73 ? NAME_set : undefined // 'get', 'set'
  return undefined
}

/** Is chunk[from, to) GET, in any case? */
function isGet (chunk: Buffer, from: number, to: number): boolean {
  return to - from === 3 && (chunk[from] | 0x20) === 0x67 && (chunk[from + 1] | 0x20) === 0x65 && (chunk[from + 2] | 0x20) === 0x74
}

/** Is chunk[from, to) SET, in any case? */
function isSet (chunk: Buffer, from: number, to: number): boolean {
  return to - from === 3 && (chunk[from] | 0x20) === 0x73 && (chunk[from + 1] | 0x20) === 0x65 && (chunk[from + 2] | 0x20) === 0x74
}

/**
 * The number in `<digits>\r<any byte>` at p, all in the chunk: 0, or 1 to
 * 15 digits without a leading zero. -1 for anything else (a sign, a longer
 * or unterminated line...), left to the resumable path.
 */
function plainLength (chunk: Buffer, p: number, end: number): number {
  if (p >= end) return -1
  let c = chunk[p]
  if (c === 48) {
    if (p + 2 >= end || chunk[p + 1] !== 13) return -1
    plainLengthEnd = p + 3
    return 0
  }
  if (c < 49 || c > 57) return -1
  let v = c - 48
  const stop = Math.min(end, p + 15)
  let q = p + 1
  for (; q < stop; q++) {
    c = chunk[q]
    if (c === 13) break
    if (c < 48 || c > 57) return -1
    v = v * 10 + c - 48
  }
  if (q + 1 >= end || chunk[q] !== 13) return -1
  plainLengthEnd = q + 2
  return v
}

// Notes
//
// Why the guard and not redis-parser alone (redis-parser 3.0.0, checked):
// - parseLength() does `number * 10 + (byte - 48)` on whatever precedes
//   '\r': `*1x\r\n` waits forever for 82 elements, `$-5` is a null, `$abc`
//   some large length; nothing is rejected.
// - It parses replies: `+OK`, `:5`, `-ERR`, nested `*` all pass; an inline
//   command is a fatal error with its own wording.
// - A bulk that is not complete in the chunk being parsed goes through
//   concatBulkBuffer(): the bytes are copied into a pool shared by every
//   parser in the process (grown to 3x the largest such bulk, and the
//   argument Buffers are views of it, so a kept value pins it), and a
//   setInterval (not unref'd) shrinks the pool later. Handing it whole
//   frames only keeps it off that path.
// - It does not check the two bytes after a payload, nor does Redis.
// - It calls back from inside execute(), so onCommand runs there: stop()
//   from onCommand makes the rest of the batch ignored, and a callback that
//   throws leaves it mid-buffer (feed() resets it, and the parser stops).
//
// Authentication: a frame with at most 10 arguments of at most 16384 bytes
// is valid whether or not the client has authenticated. A frame that is only
// valid once authenticated is checked when it is reached, after the commands
// before it in the chunk have run, so that an AUTH (or RESET) among them
// counts, as in Redis, which checks each header after running the commands
// before it.
//
// Where this parser chooses, Redis's outcome depends on how reads split the
// input: Redis checks the 64 KB limit of a header or inline line only while
// the line's terminator has not arrived, so a 70 KB inline line is accepted
// when it arrives within one 16 KB read of its end and refused otherwise.
// Here a line with more than maxInlineLen bytes before its terminator is
// always too big, so every split of the input parses the same. A NUL before
// the terminator stops Redis's strchr(): Redis waits until more than 64 KB
// follow the line's start, then says the line is too big; so does this.
