import { Buffer } from 'node:buffer'
// Byte-level building blocks shared by every binary encoding in dynakv (objects,
// context tokens, peer frames). Numbers are unsigned integers up to 2^53 - 1
// written as LEB128 varints; byte strings are a varint length then the bytes.

/**
 * Width of a ring position: an MD5 digest (lib/ring/hash.ts), the prefix of
 * every storage key and of every Merkle leaf bound. The one such constant.
 */
export const HASH_BYTES = 16

/**
 * A value at least this long is kept by reference, not copied: the reply
 * writer holds it until take() (lib/resp/reply.ts), so the object cache pins
 * the slab of a value this long it hands a reader (lib/storage/cache.ts,
 * getBytes). One constant: a smaller writer's bound would hold slab views the
 * cache may reuse.
 */
export const BY_REFERENCE_BYTES = 16 * 1024

/**
 * TypedArray#set, called as `copyInto.call(target, source, at)`: `buf.set(…)`
 * on a Buffer makes optimised code load `set` through a generic IC at each call
 * (LoadICTrampoline, ~77 instructions under callgrind) before the builtin.
 */
export const copyInto = Uint8Array.prototype.set

/**
 * Buffer's species (Node's FastBuffer, what Buffer#subarray constructs), called
 * with a chunk's ArrayBuffer and offset. Buffer#subarray reads the buffer's
 * length, buffer and byteOffset itself, through generic loads (its code is
 * shared by every caller in the process): ~450 instructions a view more
 * (docs/performance.md, "Session 13, hash13"). The caller checks the range.
 */
export type ViewOf = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer
export const FastBuffer: ViewOf = speciesView() ?? class {
  constructor (buffer: ArrayBufferLike, byteOffset: number, length: number) {
    return Buffer.from(buffer, byteOffset, length)
  }
} as unknown as ViewOf

// %TypedArray%.prototype's buffer and byteOffset getters, called straight
// (`bufferOf.call(buf)`): on a Buffer, `buf.buffer` and `buf.byteOffset` are
// loaded through a generic IC in optimised code (LoadICTrampoline, ~100
// instructions each under callgrind), the getters called ~20.
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
export const bufferOf = (Object.getOwnPropertyDescriptor(typedArrayPrototype, 'buffer') as PropertyDescriptor).get as (this: Uint8Array) => ArrayBufferLike
export const byteOffsetOf = (Object.getOwnPropertyDescriptor(typedArrayPrototype, 'byteOffset') as PropertyDescriptor).get as (this: Uint8Array) => number

/** Buffer's species, if it makes a Buffer view of an ArrayBuffer (Node's own, from 4 on); null: use Buffer.from. */
function speciesView (): ViewOf | null {
  const species = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species]
  if (typeof species !== 'function') return null
  const ab = new ArrayBuffer(4)
  const view = new (species as ViewOf)(ab, 1, 2)
  return Buffer.isBuffer(view) && view.buffer === ab && view.byteOffset === 1 && view.length === 2 ? species as ViewOf : null
}

export class DecodeError extends Error {
  override readonly name = 'DecodeError'
  readonly code = 'DYNAKV_DECODE'
}

/** Grows as needed; `finish()` returns a Buffer view of what was written. */
export class Writer {
  protected buf: Buffer
  protected pos = 0

  constructor (sizeHint = 64) {
    this.buf = Buffer.allocUnsafe(sizeHint)
  }

  get length (): number { return this.pos }

  /** Makes room for n more bytes at pos. */
  protected ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = Math.max(64, this.buf.length * 2)
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  u8 (v: number): this {
    this.ensure(1)
    this.buf[this.pos++] = v
    return this
  }

  u32 (v: number): this {
    this.ensure(4)
    this.buf.writeUInt32BE(v, this.pos)
    this.pos += 4
    return this
  }

  varint (v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`)
    this.ensure(8)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
    return this
  }

  raw (b: Uint8Array): this {
    this.ensure(b.length)
    copyInto.call(this.buf, b, this.pos)
    this.pos += b.length
    return this
  }

  bytes (b: Uint8Array): this {
    return this.varint(b.length).raw(b)
  }

  /** A string's UTF-8 bytes, written in place (no Buffer made for them). */
  string (s: string): this {
    const n = Buffer.byteLength(s, 'utf8')
    this.varint(n)
    this.ensure(n)
    this.pos += this.buf.write(s, this.pos, n, 'utf8')
    return this
  }

  finish (): Buffer {
    return this.buf.subarray(0, this.pos)
  }
}

/** Reads what Writer wrote; every read is bounds-checked and throws DecodeError. */
export class Reader {
  pos: number

  constructor (public buf: Buffer, start = 0, public end = buf.length) {
    this.pos = start
  }

  /** Reads buf[start, end) from now on: one Reader for many inputs (the peer frames of a connection). */
  reset (buf: Buffer, start: number, end: number): void {
    this.buf = buf
    this.pos = start
    this.end = end
  }

  get remaining (): number { return this.end - this.pos }

  done (): boolean { return this.pos >= this.end }

  private need (n: number): void {
    if (this.pos + n > this.end) throw new DecodeError('truncated input')
  }

  u8 (): number {
    this.need(1)
    return this.buf[this.pos++]
  }

  u32 (): number {
    this.need(4)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }

  varint (): number {
    let v = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      this.need(1)
      const b = this.buf[this.pos++]
      v += (b & 0x7f) * scale
      if (b < 0x80) {
        if (!Number.isSafeInteger(v)) throw new DecodeError('varint out of range')
        return v
      }
      scale *= 0x80
    }
    throw new DecodeError('varint too long')
  }

  raw (n: number): Buffer {
    this.need(n)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }

  bytes (): Buffer {
    return this.raw(this.varint())
  }

  string (): string {
    return this.bytes().toString('utf8')
  }

  /** Bounds a count read from the input before anything is allocated for it. */
  count (max: number): number {
    const n = this.varint()
    if (n > max) throw new DecodeError(`count ${n} exceeds ${max}`)
    return n
  }

  expectEnd (): void {
    if (this.pos !== this.end) throw new DecodeError('trailing bytes')
  }
}
