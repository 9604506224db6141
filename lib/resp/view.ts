// Buffer views made from an ArrayBuffer, and the copy of a range through one:
// what the parser hands out as arguments and what the reply writer copies a
// cached value with.
import { copyInto } from '../util/bytes.js'
import { Buffer } from 'node:buffer'

export { copyInto }

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
