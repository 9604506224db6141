// Canonical varints on top of lib/util/bytes.ts. Reader.varint accepts
// over-long encodings (1 as 0x81 0x00); canonical formats must not, or two
// byte strings would decode to the same object and digests would differ.

import { DecodeError, type Reader } from '../util/bytes.js'

/** A varint in its shortest form; DecodeError otherwise. */
export function readVarint (r: Reader): number {
  const start = r.pos
  const v = r.varint()
  if (r.pos - start > 1 && r.buf[r.pos - 1] === 0) throw new DecodeError('over-long varint')
  return v
}

/** A count in its shortest form, at most `max` (bound it by the bytes left before allocating). */
export function readCount (r: Reader, max: number): number {
  const n = readVarint(r)
  if (n > max) throw new DecodeError(`count ${n} exceeds ${max}`)
  return n
}
