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
 * TypedArray#set, called as `copyInto.call(target, source, at)`: `buf.set(…)`
 * on a Buffer makes optimised code load `set` through a generic IC at each call
 * (LoadICTrampoline, ~77 instructions under callgrind) before the builtin.
 */
export const copyInto = Uint8Array.prototype.set

// %TypedArray%.prototype's buffer and byteOffset getters, called straight
// (`bufferOf.call(buf)`): on a Buffer, `buf.buffer` and `buf.byteOffset` are
// loaded through a generic IC in optimised code (LoadICTrampoline, ~100
// instructions each under callgrind), the getters called ~20.
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
export const bufferOf = (Object.getOwnPropertyDescriptor(typedArrayPrototype, 'buffer') as PropertyDescriptor).get as (this: Uint8Array) => ArrayBufferLike
export const byteOffsetOf = (Object.getOwnPropertyDescriptor(typedArrayPrototype, 'byteOffset') as PropertyDescriptor).get as (this: Uint8Array) => number

/**
 * A Uint8Array's bytes read four at a time (DataView#getUint32, which TurboFan
 * inlines): a byte loop over a Buffer costs ~17–35 instructions a byte in
 * optimised code (each load checks the array's map and bounds and reloads its
 * base pointer), a word ~4 a byte. Finding a Buffer's ArrayBuffer and offset
 * costs two getter calls (~170 instructions): they are read again only when
 * the array is not the last one given (a cache slab, the node's actor id
 * stay), and a DataView made only when the ArrayBuffer changes. One reader an
 * operand of each caller, so that none alternates between two arrays. It holds
 * the last array alive until the next call.
 */
export class WordReader {
  private array: Uint8Array | null = null
  private buffer: ArrayBufferLike | null = null
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))
  /** Where the last array given to `of` starts in its ArrayBuffer. */
  offset = 0

  /** A DataView of b's ArrayBuffer; b[i] is at `offset + i` in it. */
  of (b: Uint8Array): DataView<ArrayBufferLike> {
    if (b !== this.array) {
      this.array = b
      const buffer = bufferOf.call(b)
      if (buffer !== this.buffer) {
        this.buffer = buffer
        this.view = new DataView(buffer)
      }
      this.offset = byteOffsetOf.call(b)
    }
    return this.view
  }
}

/** Shorter ranges are read byte by byte: below it, the readers' two getter calls cost more than they save. */
export const WORDS_FROM = 8

const leftWords = new WordReader()
const rightWords = new WordReader()

/**
 * a[aFrom, aTo) against b[bFrom, bTo) in byte order: the difference of the
 * first bytes that differ, else of the lengths (what a byte loop returns).
 */
export function compareBytes (a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array, bFrom: number, bTo: number): number {
  const n = Math.min(aTo - aFrom, bTo - bFrom)
  let k = 0
  if (n >= WORDS_FROM) {
    const av = leftWords.of(a)
    const ao = leftWords.offset + aFrom
    const bv = rightWords.of(b)
    const bo = rightWords.offset + bFrom
    while (k + 4 <= n && av.getUint32(ao + k) === bv.getUint32(bo + k)) k += 4
  }
  for (; k < n; k++) {
    const d = a[aFrom + k] - b[bFrom + k]
    if (d !== 0) return d
  }
  return (aTo - aFrom) - (bTo - bFrom)
}

export class DecodeError extends Error {
  override readonly name = 'DecodeError'
  readonly code = 'DYNAKV_DECODE'
}

/** Grows as needed; `finish()` returns a Buffer view of what was written. */
export class Writer {
  private buf: Buffer
  private pos = 0

  constructor (sizeHint = 64) {
    this.buf = Buffer.allocUnsafe(sizeHint)
  }

  get length (): number { return this.pos }

  private ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
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
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  bytes (b: Uint8Array): this {
    return this.varint(b.length).raw(b)
  }

  string (s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'))
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
