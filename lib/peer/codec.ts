// The peer frame codec: one generic encoder and decoder driven by the schema
// table in messages.ts. Pure: no sockets, files, timers or randomness.
//
//   +------------+---------+---------------+---------------------------+
//   | u32 length | u8 type | u32 request id| body (fields, schema order)|
//   +------------+---------+---------------+---------------------------+
//                 \______________ length bytes ________________________/
//
// Decoding rejects, with DecodeError: a length below 5 or above maxFrameBytes,
// an unknown type, a count larger than the bytes left, a bool or option tag
// other than 0|1, invalid UTF-8, parallel lists of different lengths, and
// trailing bytes. A bytes field is copied out of the frame (decodeFrame), or,
// from a FrameReader made with `views`, is a view of the chunk it arrived in:
// that reader's caller hands it chunks nobody reuses (a connection copies each
// read out of its socket's receive buffer: one copy a read, not one a field).

import { Buffer, isUtf8 } from 'node:buffer'
import { DecodeError, FastBuffer, Reader, Writer, bufferOf, byteOffsetOf } from '../util/bytes.js'
import { InvalidMessageError } from './errors.js'
import { isMessageName, nameOfCode, schemaOf, type FieldKind, type Message, type MessageName } from './messages.js'

/** u32 length + u8 type + u32 id. */
export const FRAME_HEADER_BYTES = 9
/** The smallest value of the length field: type and id, empty body. */
export const FRAME_LENGTH_MIN = 5
/** Default bound on the length field (type + id + body). */
export const MAX_FRAME_BYTES_DEFAULT = 16 * 1024 * 1024
/** The bound before a peer has authenticated: HELLO, AUTH and ERROR are small. */
export const HANDSHAKE_FRAME_BYTES_MAX = 4096
export const REQUEST_ID_MAX = 0xffffffff

export interface Frame {
  id: number
  msg: Message
}

/** Encodes one frame; throws InvalidMessageError when msg does not fit its schema or the frame exceeds maxFrameBytes. */
export function encodeFrame (id: number, msg: Message, maxFrameBytes = MAX_FRAME_BYTES_DEFAULT): Buffer {
  const name = checkHeader(id, msg)
  const w = new FrameWriter(FRAME_HEADER_BYTES + sizeHint(schemaOf(name).fields, msg as unknown as Record<string, unknown>))
  w.frame(id, msg, maxFrameBytes)
  return w.take()
}

function checkHeader (id: number, msg: Message): MessageName {
  if (!Number.isInteger(id) || id < 0 || id > REQUEST_ID_MAX) throw new InvalidMessageError(`request id out of range: ${id}`)
  const name = (msg as { type?: unknown }).type
  if (typeof name !== 'string' || !isMessageName(name)) throw new InvalidMessageError(`unknown message type: ${String(name)}`)
  return name
}

const NO_BYTES = Buffer.alloc(0)
/** The bytes a connection's outbox starts with, and gets again after a turn that needed more. */
export const FRAME_SLAB_BYTES = 16 * 1024

/**
 * Frames encoded one after another into one buffer, taken as one view for a
 * socket write (a connection's outbox: no buffer, Writer or view per frame,
 * and no copy to join a turn's frames). Bytes taken are never written again:
 * a socket may still hold them. When a frame does not fit, the bytes not yet
 * taken move to a new buffer (FRAME_SLAB_BYTES, twice what it keeps, or what
 * it keeps and the next field's bytes, whichever is largest);
 * a buffer grown past FRAME_SLAB_BYTES is let go once everything is taken.
 */
export class FrameWriter extends Writer {
  /** The first byte not taken yet. */
  private start = 0
  /** Where the frame being written begins (moved with the bytes by ensure). */
  private frameAt = 0

  /** (the buffer is made by the first frame) */
  constructor (private readonly slabBytes = FRAME_SLAB_BYTES) {
    super(0)
  }

  /** Bytes written and not taken. */
  get pending (): number { return this.pos - this.start }

  /**
   * Appends one frame; returns its length (prefix included). Throws
   * InvalidMessageError (and appends nothing) when msg does not fit its
   * schema or the frame exceeds maxFrameBytes.
   */
  frame (id: number, msg: Message, maxFrameBytes = MAX_FRAME_BYTES_DEFAULT): number {
    const name = checkHeader(id, msg)
    const schema = schemaOf(name)
    const record = msg as unknown as Record<string, unknown>
    this.frameAt = this.pos
    try {
      this.ensure(FRAME_HEADER_BYTES)
      this.buf.writeUInt32BE(0, this.pos)
      this.buf[this.pos + 4] = schema.code
      this.buf.writeUInt32BE(id, this.pos + 5)
      this.pos += FRAME_HEADER_BYTES
      // (indexed loops: a for-of with destructuring allocated an iterator per frame and field)
      const fields = schema.fields
      for (let i = 0; i < fields.length; i++) writeField(this, fields[i][1], record[fields[i][0]], name, fields[i][0])
      if (schema.sameLength !== undefined) {
        const [a, b] = schema.sameLength
        if ((record[a] as unknown[]).length !== (record[b] as unknown[]).length) {
          throw new InvalidMessageError(`${name}: ${a} and ${b} must have the same length`)
        }
      }
      const length = this.pos - this.frameAt - 4
      if (length > maxFrameBytes) throw new InvalidMessageError(`${name} frame of ${length} bytes exceeds the limit of ${maxFrameBytes}`)
      this.buf.writeUInt32BE(length, this.frameAt)
      return length + 4
    } catch (err) {
      this.pos = this.frameAt
      throw err
    }
  }

  /** The bytes written and not taken, as one view; they are never written again. */
  take (): Buffer {
    const out = this.buf.subarray(this.start, this.pos)
    this.start = this.pos
    if (this.buf.length > this.slabBytes) {
      // (a large turn's buffer is not kept: the next frame makes one of the usual size)
      this.buf = NO_BYTES
      this.pos = this.start = 0
    }
    return out
  }

  /** Keeps only the bytes not taken yet when it grows. */
  protected override ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    const keep = this.pos - this.start
    // (doubles what is kept, so many small frames copy each byte a bounded number of times; a large field adds only itself)
    const size = Math.max(this.slabBytes, keep + n, 2 * keep)
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, this.start, this.pos)
    this.frameAt -= this.start
    this.buf = next
    this.start = 0
    this.pos = keep
  }
}

/** Decodes exactly one whole frame (length prefix included); throws DecodeError on anything malformed. */
export function decodeFrame (frame: Buffer, maxFrameBytes = MAX_FRAME_BYTES_DEFAULT): Frame {
  const out = { id: 0 }
  const msg = decodeMessageAt(new Reader(frame), frame, 0, frame.length, maxFrameBytes, out, false)
  return { id: out.id, msg }
}

/**
 * The message of the frame buf[start, end), read in place with r (no view of
 * the frame, no Frame object); its request id in out.id. views: its bytes
 * fields are views of buf, not copies.
 */
function decodeMessageAt (r: Reader, buf: Buffer, start: number, end: number, maxFrameBytes: number, out: { id: number }, views: boolean): Message {
  r.reset(buf, start, end)
  const length = r.u32()
  checkLength(length, maxFrameBytes)
  if (length !== r.remaining) throw new DecodeError(`frame length ${length} but ${r.remaining} bytes follow`)
  const code = r.u8()
  const id = r.u32()
  const name = nameOfCode(code)
  if (name === undefined) throw new DecodeError(`unknown message type 0x${code.toString(16).padStart(2, '0')}`)
  const schema = schemaOf(name)
  const msg: Record<string, unknown> = { type: name }
  const fields = schema.fields
  for (let i = 0; i < fields.length; i++) msg[fields[i][0]] = readField(r, fields[i][1], views)
  if (schema.sameLength !== undefined) {
    const [a, b] = schema.sameLength
    if ((msg[a] as unknown[]).length !== (msg[b] as unknown[]).length) throw new DecodeError(`${name}: ${a} and ${b} differ in length`)
  }
  r.expectEnd()
  out.id = id
  return msg as Message
}

function checkLength (length: number, maxFrameBytes: number): void {
  if (length < FRAME_LENGTH_MIN) throw new DecodeError(`frame length ${length} below ${FRAME_LENGTH_MIN}`)
  if (length > maxFrameBytes) throw new DecodeError(`frame of ${length} bytes exceeds the limit of ${maxFrameBytes}`)
}

/**
 * Cuts a byte stream into frames. push() each chunk received, then call next()
 * until it returns null; it throws DecodeError on the first malformed frame
 * (the connection must then be dropped). Holds at most one partial frame plus
 * the last chunk, and rejects an oversized frame from its header, before
 * buffering its body.
 */
export class FrameReader {
  private chunks: Buffer[] = []
  /** Bytes of chunks[0] already read: frames are decoded where they lie, without a view of each. */
  private offset = 0
  /** Bytes not read yet. */
  private buffered = 0
  /** Bytes of the frame being read (prefix included), 0 while its header is incomplete. */
  private frameBytes = 0
  /** Reads each frame in place (one Reader for all). */
  private readonly r = new Reader(NO_BYTES)
  /** The request id of the message nextMessage returned last. */
  id = 0

  /**
   * views: the bytes fields of the messages it decodes are views of the chunks
   * pushed, which the caller must never reuse or change (a retained field keeps
   * its whole chunk alive); else copies.
   */
  constructor (public maxFrameBytes = MAX_FRAME_BYTES_DEFAULT, private readonly views = false) {}

  get bufferedBytes (): number { return this.buffered }

  push (chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
  }

  next (): Frame | null {
    const msg = this.nextMessage()
    return msg === null ? null : { id: this.id, msg }
  }

  /** next() without a Frame object: the message, its request id in `id`. */
  nextMessage (): Message | null {
    if (this.frameBytes === 0) {
      if (this.buffered < 4) return null
      const length = this.gather(4).readUInt32BE(this.offset)
      checkLength(length, this.maxFrameBytes)
      this.frameBytes = 4 + length
    }
    if (this.buffered < this.frameBytes) return null
    const n = this.frameBytes
    const first = this.gather(n)
    const start = this.offset
    this.frameBytes = 0
    this.buffered -= n
    if (start + n === first.length) {
      this.chunks.shift()
      this.offset = 0
    } else {
      this.offset = start + n
    }
    const msg = decodeMessageAt(this.r, first, start, start + n, this.maxFrameBytes, this, this.views)
    this.r.buf = NO_BYTES // (holds no chunk past its frame)
    return msg
  }

  /** Makes the first n unread bytes contiguous in chunks[0] (from offset) and returns that chunk. */
  private gather (n: number): Buffer {
    if (this.chunks[0].length - this.offset < n) {
      this.chunks[0] = this.chunks[0].subarray(this.offset)
      this.offset = 0
      this.chunks = [Buffer.concat(this.chunks, this.buffered)]
    }
    return this.chunks[0]
  }
}

// ---- fields ----

function sizeHint (fields: readonly (readonly [string, FieldKind])[], record: Record<string, unknown>): number {
  let n = 0
  for (let i = 0; i < fields.length; i++) {
    const kind = fields[i][1]
    const v = record[fields[i][0]]
    if (kind === 'string' || kind === 'optString') n += 10 + (typeof v === 'string' ? v.length * 3 : 0)
    else if (kind === 'bytes' || kind === 'optBytes') n += 10 + (v instanceof Uint8Array ? v.length : 0)
    else if (kind === 'bytesList' && Array.isArray(v)) {
      n += 10
      for (const b of v) n += 10 + (b instanceof Uint8Array ? b.length : 0)
    } else if (kind === 'varintList' && Array.isArray(v)) n += 10 + 8 * v.length
    else n += 10
  }
  return n
}

function writeField (w: FrameWriter, kind: FieldKind, v: unknown, name: string, field: string): void {
  switch (kind) {
    case 'u8':
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xff) throw badField(name, field, 'an integer in [0, 255]', v)
      w.u8(v as number)
      return
    case 'u32':
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) throw badField(name, field, 'an integer in [0, 2^32)', v)
      w.u32(v as number)
      return
    case 'bool':
      if (typeof v !== 'boolean') throw badField(name, field, 'a boolean', v)
      w.u8(v ? 1 : 0)
      return
    case 'varint':
      if (!isVarint(v)) throw badField(name, field, 'a safe non-negative integer', v)
      w.varint(v)
      return
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw badField(name, field, 'bytes', v)
      w.bytes(v)
      return
    case 'string':
      if (typeof v !== 'string') throw badField(name, field, 'a string', v)
      w.string(v)
      return
    case 'optString':
      if (v === null) w.u8(0)
      else if (typeof v === 'string') {
        w.u8(1)
        w.string(v)
      }
      else throw badField(name, field, 'a string or null', v)
      return
    case 'optBytes':
      if (v === null) w.u8(0)
      else if (v instanceof Uint8Array) {
        w.u8(1)
        w.bytes(v)
      }
      else throw badField(name, field, 'bytes or null', v)
      return
    case 'bytesList':
      if (!Array.isArray(v)) throw badField(name, field, 'an array of bytes', v)
      w.varint(v.length)
      // (indexed: a for-of made an iterator per list)
      for (let i = 0; i < v.length; i++) {
        if (!(v[i] instanceof Uint8Array)) throw badField(name, field, 'an array of bytes', v)
        w.bytes(v[i] as Uint8Array)
      }
      return
    case 'varintList':
      if (!Array.isArray(v)) throw badField(name, field, 'an array of safe non-negative integers', v)
      w.varint(v.length)
      for (let i = 0; i < v.length; i++) {
        if (!isVarint(v[i])) throw badField(name, field, 'an array of safe non-negative integers', v)
        w.varint(v[i] as number)
      }
  }
}

/** (a function of its own: a closure for it was made for every field written) */
function badField (name: string, field: string, what: string, v: unknown): InvalidMessageError {
  return new InvalidMessageError(`${name}.${field} must be ${what}, got ${describe(v)}`)
}

function readField (r: Reader, kind: FieldKind, views: boolean): unknown {
  switch (kind) {
    case 'u8': return r.u8()
    case 'u32': return r.u32()
    case 'bool': return readFlag(r, 'bool')
    case 'varint': return r.varint()
    case 'bytes': return views ? viewBytes(r) : copyBytes(r)
    case 'string': return readString(r)
    case 'optString': return readFlag(r, 'option tag') ? readString(r) : null
    case 'optBytes': return readFlag(r, 'option tag') ? (views ? viewBytes(r) : copyBytes(r)) : null
    case 'bytesList': {
      // every element takes at least its one-byte length
      const n = r.count(r.remaining)
      const list: Buffer[] = new Array(n)
      for (let i = 0; i < n; i++) list[i] = views ? viewBytes(r) : copyBytes(r)
      return list
    }
    case 'varintList': {
      const n = r.count(r.remaining)
      const list: number[] = new Array(n)
      for (let i = 0; i < n; i++) list[i] = r.varint()
      return list
    }
  }
}

/** A length-prefixed bytes field, copied out of the frame (no view of it made first). */
function copyBytes (r: Reader): Buffer {
  const n = r.varint()
  if (n > r.remaining) throw new DecodeError('truncated input')
  const out = Buffer.allocUnsafe(n)
  r.buf.copy(out, 0, r.pos, r.pos + n)
  r.pos += n
  return out
}

/** A length-prefixed bytes field as a view of the frame (Buffer#copy of a range made a view of the source anyway, and a copy besides). */
function viewBytes (r: Reader): Buffer {
  const n = r.varint()
  if (n > r.remaining) throw new DecodeError('truncated input')
  const out = new FastBuffer(bufferOf.call(r.buf), byteOffsetOf.call(r.buf) + r.pos, n)
  r.pos += n
  return out
}

function readFlag (r: Reader, what: string): boolean {
  const b = r.u8()
  if (b > 1) throw new DecodeError(`${what} must be 0 or 1, got ${b}`)
  return b === 1
}

function readString (r: Reader): string {
  const b = r.bytes()
  if (!isUtf8(b)) throw new DecodeError('string is not valid UTF-8')
  return b.toString('utf8')
}

function isVarint (v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0
}

function describe (v: unknown): string {
  if (v === null || v === undefined) return String(v)
  if (v instanceof Uint8Array) return `${v.length} bytes`
  if (Array.isArray(v)) return `an array of ${v.length}`
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : String(v)
}
