// Ring positions, partitions and SCAN cursors.
//
// A key's ring position is MD5(key), 128 bits read big-endian. The ring is cut
// into Q = 2^b equal partitions; a partition is the top b bits of a position.
// Storage keys start with `md5(key)` (lib/node/keys.ts), so each partition is one
// contiguous key range [partitionStart(p), partitionEnd(p)):
//
//   position  0x0000…                                              0xffff…
//             |  p = 0  |  p = 1  |  p = 2  |   …   |  p = Q - 1  |
//             ^start(0) ^start(1) ^start(2)         ^start(Q-1)    end = null
//
// A SCAN cursor is the top 63 bits of the position to resume from, printed in
// decimal (clients parse it with int()): it names a place on the ring, not a
// server-side iterator, so any node can resume any cursor.

import * as crypto from 'node:crypto'
import { HASH_BYTES } from '../util/bytes.js'
import { CursorRangeError, PartitionCountError, PartitionRangeError } from './errors.js'

export { HASH_BYTES }
export const PARTITIONS_MAX = 65536
export const CURSOR_LIMIT = 1n << 63n

type Md5 = (data: Uint8Array) => Buffer

// crypto.hash (one-shot, no Hash object) exists from Node 20.12; older 20.x
// builds fall back to createHash.
const md5: Md5 = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('md5', data, 'buffer')
  /* c8 ignore next */
  : (data) => crypto.createHash('md5').update(data).digest()

/** The 16-byte ring position of a key. */
export function keyHash (key: Uint8Array): Buffer {
  return md5(key)
}

export function isPowerOfTwo (n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 1) return false
  const b = BigInt(n)
  return (b & (b - 1n)) === 0n
}

/** log2(Q), after checking that Q is a power of two in 1..65536. */
export function partitionBits (partitions: number): number {
  if (!isPowerOfTwo(partitions) || partitions > PARTITIONS_MAX) {
    throw new PartitionCountError(`partition count must be a power of two in 1..${PARTITIONS_MAX}, got ${partitions}`)
  }
  return 31 - Math.clz32(partitions)
}

/** The partition of a ring position: its top log2(Q) bits. */
export function partitionOf (hash: Uint8Array, partitions: number): number {
  const bits = partitionBits(partitions)
  if (hash.length < 2) throw new PartitionRangeError(`a ring position has ${HASH_BYTES} bytes, got ${hash.length}`)
  return partitionOfHash(hash, bits)
}

/**
 * partitionOf with bits = log2(Q) already known (the hot path; unchecked): the
 * top `bits` bits of a position, or of any storage key that starts with one.
 */
export function partitionOfHash (hash: Uint8Array, bits: number): number {
  return bits === 0 ? 0 : ((hash[0] << 8) | hash[1]) >>> (16 - bits)
}

function checkPartition (partition: number, partitions: number): number {
  const bits = partitionBits(partitions)
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new PartitionRangeError(`partition ${partition} is not in 0..${partitions - 1}`)
  }
  return bits
}

/** The first ring position of a partition (16 bytes, inclusive bound). */
export function partitionStart (partition: number, partitions: number): Buffer {
  const bits = checkPartition(partition, partitions)
  const start = Buffer.alloc(HASH_BYTES)
  // bits = 0 (Q = 1) shifts by 16 and leaves 0: the one partition starts at 0.
  start.writeUInt16BE((partition << (16 - bits)) & 0xffff, 0)
  return start
}

/** The exclusive end of a partition: the next partition's start, null for the last. */
export function partitionEnd (partition: number, partitions: number): Buffer | null {
  checkPartition(partition, partitions)
  return partition === partitions - 1 ? null : partitionStart(partition + 1, partitions)
}

/** A SCAN cursor for a ring position: its top 63 bits. */
export function cursorFromHash (hash: Uint8Array): bigint {
  if (hash.length < 8) throw new PartitionRangeError(`a ring position has ${HASH_BYTES} bytes, got ${hash.length}`)
  return Buffer.from(hash.buffer, hash.byteOffset, 8).readBigUInt64BE(0) >> 1n
}

/** The smallest ring position whose top 63 bits are `cursor`: where a scan resumes. */
export function hashFloorFromCursor (cursor: bigint): Buffer {
  if (cursor < 0n || cursor >= CURSOR_LIMIT) throw new CursorRangeError(`cursor must be in 0..2^63-1, got ${cursor}`)
  const floor = Buffer.alloc(HASH_BYTES)
  floor.writeBigUInt64BE(cursor << 1n, 0)
  return floor
}

// 2^63 - 1 has 19 digits; leading zeros are accepted (as Redis does), up to a
// bound so that no input makes us parse a huge string.
const CURSOR_TEXT_MAX = 64
const DIGITS = /^[0-9]+$/

/** A SCAN cursor as a client sent it: decimal digits only, 0 <= c < 2^63; null otherwise. */
export function parseCursor (text: string): bigint | null {
  if (text.length === 0 || text.length > CURSOR_TEXT_MAX || !DIGITS.test(text)) return null
  const cursor = BigInt(text)
  return cursor < CURSOR_LIMIT ? cursor : null
}
