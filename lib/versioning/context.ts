// The context token that GETCTX/PUT/DELCTX clients carry: printable, opaque,
// checked. `''` is the empty context.
//
// token = base64url (no padding) of:
//   u8      version = 1
//   varint  entry count N (≥ 1)
//   varint  tsBase                the smallest entry ts
//   N ×     varint length, ASCII actor id (strictly increasing),
//           varint counter (≥ 1), varint ts − tsBase
//   u32     CRC-32 (big-endian) of everything before it, preceded by the key
//           when the caller binds tokens to keys (then a token copied to another
//           key is rejected instead of superseding that key's versions)
//
// Decoding is strict (canonical base64url, known version, checksum, order,
// no trailing bytes), so every accepted token re-encodes to itself.

import { crc32 } from 'node:zlib'
import { DecodeError, Reader, Writer } from '../util/bytes.js'
import { readActor, writeActor } from './actor.js'
import { InvalidContextError } from './errors.js'
import { sortByKey } from './codec.js'
import type { Clock } from './types.js'
import { readCount, readVarint } from './varint.js'
import { Buffer } from 'node:buffer'

export const CONTEXT_FORMAT_VERSION = 1
/** Longest token accepted, in characters (48 KiB of binary clock). */
export const CONTEXT_TOKEN_LENGTH_MAX = 64 * 1024

const ENTRY_BYTES_MIN = 6 // length, 3 characters, counter, ts
const CHECKSUM_BYTES = 4

/** The CRC-32 seed: a key-bound token's checksum covers key ‖ body. */
function seed (key: Uint8Array | string | undefined): number {
  return key === undefined ? 0 : crc32(key)
}

/** `key`, if given, must be given to decodeContext too. */
export function encodeContext (clock: Clock, key?: Uint8Array | string): string {
  if (clock.size === 0) return ''
  const entries = [...clock]
  sortByKey(entries)
  let tsBase = Number.MAX_SAFE_INTEGER
  let sizeHint = 16
  for (const [actor, entry] of entries) {
    if (entry.ts < tsBase) tsBase = entry.ts
    sizeHint += actor.length + 16
  }
  const w = new Writer(sizeHint)
  w.u8(CONTEXT_FORMAT_VERSION)
  w.varint(entries.length)
  w.varint(tsBase)
  for (const [actor, entry] of entries) {
    writeActor(w, actor)
    w.varint(entry.counter)
    w.varint(entry.ts - tsBase)
  }
  w.u32(crc32(w.finish(), seed(key)))
  return w.finish().toString('base64url')
}

function invalid (reason: string, cause?: unknown): InvalidContextError {
  return new InvalidContextError(`invalid context: ${reason}`, cause === undefined ? undefined : { cause })
}

/** Decodes a token from encodeContext (with the same key, if any); anything else throws InvalidContextError. */
export function decodeContext (token: string, key?: Uint8Array | string): Clock {
  if (typeof token !== 'string') throw invalid('not a string')
  if (token.length === 0) return new Map()
  if (token.length > CONTEXT_TOKEN_LENGTH_MAX) throw invalid('token too long')
  const buf = Buffer.from(token, 'base64url')
  // also rejects every character outside the alphabet, which Buffer.from skips
  if (buf.toString('base64url') !== token) throw invalid('not canonical base64url')
  if (buf.length <= CHECKSUM_BYTES) throw invalid('too short')
  const end = buf.length - CHECKSUM_BYTES
  if (crc32(buf.subarray(0, end), seed(key)) !== buf.readUInt32BE(end)) throw invalid('bad checksum (or a token of another key)')
  try {
    return readClock(new Reader(buf, 0, end))
  } catch (err) {
    // only DecodeError is expected here; anything else is a bug and goes up as it is
    throw err instanceof DecodeError ? invalid(err.message, err) : err
  }
}

function readClock (r: Reader): Clock {
  const version = r.u8()
  if (version !== CONTEXT_FORMAT_VERSION) throw new DecodeError(`unknown context format version ${version}`)
  const count = readCount(r, Math.floor(r.remaining / ENTRY_BYTES_MIN))
  if (count === 0) throw new DecodeError('empty context must be the empty token')
  const tsBase = readVarint(r)
  let sawTsBase = false
  const clock: Clock = new Map()
  let prev = ''
  for (let i = 0; i < count; i++) {
    const actor = readActor(r)
    if (i > 0 && prev >= actor) throw new DecodeError('entries out of order')
    prev = actor
    const counter = readVarint(r)
    if (counter === 0) throw new DecodeError('zero counter')
    const delta = readVarint(r)
    const ts = tsBase + delta
    if (!Number.isSafeInteger(ts)) throw new DecodeError('ts out of range')
    if (delta === 0) sawTsBase = true
    clock.set(actor, { counter, ts })
  }
  r.expectEnd()
  if (!sawTsBase) throw new DecodeError('ts base is not the smallest ts')
  return clock
}
