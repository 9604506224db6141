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

import { HASH_BYTES } from '../util/bytes.js'
import { CursorRangeError, PartitionCountError, PartitionRangeError } from './errors.js'
import { Buffer } from 'node:buffer'

export { HASH_BYTES }
export const PARTITIONS_MAX = 65536
export const CURSOR_LIMIT = 1n << 63n

// MD5 (RFC 1321) in JavaScript, written where the caller wants it: a storage
// key's first 16 bytes are its key's MD5 (lib/node/keys.ts). Node's
// crypto.hash costs ~7k instructions a call for a 16-byte key (the algorithm's
// name normalised, an EVP fetch, a Buffer made in C++ for the result); this
// ~2k, and it allocates nothing (callgrind, 50 000 calls). Not for secrets:
// MD5 here only places keys.
const md5State = new Int32Array(4)
/** The last block or two: the input's tail, the 0x80, zeros, the bit length. */
const md5Tail = new Uint8Array(128)

/** One 64-byte block of m at p into md5State: the 64 steps written out (as a loop: ~4.5k instructions a 16-byte key, not ~2k). */
function md5Block (m: Uint8Array, p: number): void {
  const x0 = m[p + 0] | (m[p + 1] << 8) | (m[p + 2] << 16) | (m[p + 3] << 24)
  const x1 = m[p + 4] | (m[p + 5] << 8) | (m[p + 6] << 16) | (m[p + 7] << 24)
  const x2 = m[p + 8] | (m[p + 9] << 8) | (m[p + 10] << 16) | (m[p + 11] << 24)
  const x3 = m[p + 12] | (m[p + 13] << 8) | (m[p + 14] << 16) | (m[p + 15] << 24)
  const x4 = m[p + 16] | (m[p + 17] << 8) | (m[p + 18] << 16) | (m[p + 19] << 24)
  const x5 = m[p + 20] | (m[p + 21] << 8) | (m[p + 22] << 16) | (m[p + 23] << 24)
  const x6 = m[p + 24] | (m[p + 25] << 8) | (m[p + 26] << 16) | (m[p + 27] << 24)
  const x7 = m[p + 28] | (m[p + 29] << 8) | (m[p + 30] << 16) | (m[p + 31] << 24)
  const x8 = m[p + 32] | (m[p + 33] << 8) | (m[p + 34] << 16) | (m[p + 35] << 24)
  const x9 = m[p + 36] | (m[p + 37] << 8) | (m[p + 38] << 16) | (m[p + 39] << 24)
  const x10 = m[p + 40] | (m[p + 41] << 8) | (m[p + 42] << 16) | (m[p + 43] << 24)
  const x11 = m[p + 44] | (m[p + 45] << 8) | (m[p + 46] << 16) | (m[p + 47] << 24)
  const x12 = m[p + 48] | (m[p + 49] << 8) | (m[p + 50] << 16) | (m[p + 51] << 24)
  const x13 = m[p + 52] | (m[p + 53] << 8) | (m[p + 54] << 16) | (m[p + 55] << 24)
  const x14 = m[p + 56] | (m[p + 57] << 8) | (m[p + 58] << 16) | (m[p + 59] << 24)
  const x15 = m[p + 60] | (m[p + 61] << 8) | (m[p + 62] << 16) | (m[p + 63] << 24)
  let a = md5State[0]
  let b = md5State[1]
  let c = md5State[2]
  let d = md5State[3]
  a = (a + ((b & c) | (~b & d)) + x0 - 680876936) | 0
  a = (((a << 7) | (a >>> 25)) + b) | 0
  d = (d + ((a & b) | (~a & c)) + x1 - 389564586) | 0
  d = (((d << 12) | (d >>> 20)) + a) | 0
  c = (c + ((d & a) | (~d & b)) + x2 + 606105819) | 0
  c = (((c << 17) | (c >>> 15)) + d) | 0
  b = (b + ((c & d) | (~c & a)) + x3 - 1044525330) | 0
  b = (((b << 22) | (b >>> 10)) + c) | 0
  a = (a + ((b & c) | (~b & d)) + x4 - 176418897) | 0
  a = (((a << 7) | (a >>> 25)) + b) | 0
  d = (d + ((a & b) | (~a & c)) + x5 + 1200080426) | 0
  d = (((d << 12) | (d >>> 20)) + a) | 0
  c = (c + ((d & a) | (~d & b)) + x6 - 1473231341) | 0
  c = (((c << 17) | (c >>> 15)) + d) | 0
  b = (b + ((c & d) | (~c & a)) + x7 - 45705983) | 0
  b = (((b << 22) | (b >>> 10)) + c) | 0
  a = (a + ((b & c) | (~b & d)) + x8 + 1770035416) | 0
  a = (((a << 7) | (a >>> 25)) + b) | 0
  d = (d + ((a & b) | (~a & c)) + x9 - 1958414417) | 0
  d = (((d << 12) | (d >>> 20)) + a) | 0
  c = (c + ((d & a) | (~d & b)) + x10 - 42063) | 0
  c = (((c << 17) | (c >>> 15)) + d) | 0
  b = (b + ((c & d) | (~c & a)) + x11 - 1990404162) | 0
  b = (((b << 22) | (b >>> 10)) + c) | 0
  a = (a + ((b & c) | (~b & d)) + x12 + 1804603682) | 0
  a = (((a << 7) | (a >>> 25)) + b) | 0
  d = (d + ((a & b) | (~a & c)) + x13 - 40341101) | 0
  d = (((d << 12) | (d >>> 20)) + a) | 0
  c = (c + ((d & a) | (~d & b)) + x14 - 1502002290) | 0
  c = (((c << 17) | (c >>> 15)) + d) | 0
  b = (b + ((c & d) | (~c & a)) + x15 + 1236535329) | 0
  b = (((b << 22) | (b >>> 10)) + c) | 0
  a = (a + ((d & b) | (~d & c)) + x1 - 165796510) | 0
  a = (((a << 5) | (a >>> 27)) + b) | 0
  d = (d + ((c & a) | (~c & b)) + x6 - 1069501632) | 0
  d = (((d << 9) | (d >>> 23)) + a) | 0
  c = (c + ((b & d) | (~b & a)) + x11 + 643717713) | 0
  c = (((c << 14) | (c >>> 18)) + d) | 0
  b = (b + ((a & c) | (~a & d)) + x0 - 373897302) | 0
  b = (((b << 20) | (b >>> 12)) + c) | 0
  a = (a + ((d & b) | (~d & c)) + x5 - 701558691) | 0
  a = (((a << 5) | (a >>> 27)) + b) | 0
  d = (d + ((c & a) | (~c & b)) + x10 + 38016083) | 0
  d = (((d << 9) | (d >>> 23)) + a) | 0
  c = (c + ((b & d) | (~b & a)) + x15 - 660478335) | 0
  c = (((c << 14) | (c >>> 18)) + d) | 0
  b = (b + ((a & c) | (~a & d)) + x4 - 405537848) | 0
  b = (((b << 20) | (b >>> 12)) + c) | 0
  a = (a + ((d & b) | (~d & c)) + x9 + 568446438) | 0
  a = (((a << 5) | (a >>> 27)) + b) | 0
  d = (d + ((c & a) | (~c & b)) + x14 - 1019803690) | 0
  d = (((d << 9) | (d >>> 23)) + a) | 0
  c = (c + ((b & d) | (~b & a)) + x3 - 187363961) | 0
  c = (((c << 14) | (c >>> 18)) + d) | 0
  b = (b + ((a & c) | (~a & d)) + x8 + 1163531501) | 0
  b = (((b << 20) | (b >>> 12)) + c) | 0
  a = (a + ((d & b) | (~d & c)) + x13 - 1444681467) | 0
  a = (((a << 5) | (a >>> 27)) + b) | 0
  d = (d + ((c & a) | (~c & b)) + x2 - 51403784) | 0
  d = (((d << 9) | (d >>> 23)) + a) | 0
  c = (c + ((b & d) | (~b & a)) + x7 + 1735328473) | 0
  c = (((c << 14) | (c >>> 18)) + d) | 0
  b = (b + ((a & c) | (~a & d)) + x12 - 1926607734) | 0
  b = (((b << 20) | (b >>> 12)) + c) | 0
  a = (a + (b ^ c ^ d) + x5 - 378558) | 0
  a = (((a << 4) | (a >>> 28)) + b) | 0
  d = (d + (a ^ b ^ c) + x8 - 2022574463) | 0
  d = (((d << 11) | (d >>> 21)) + a) | 0
  c = (c + (d ^ a ^ b) + x11 + 1839030562) | 0
  c = (((c << 16) | (c >>> 16)) + d) | 0
  b = (b + (c ^ d ^ a) + x14 - 35309556) | 0
  b = (((b << 23) | (b >>> 9)) + c) | 0
  a = (a + (b ^ c ^ d) + x1 - 1530992060) | 0
  a = (((a << 4) | (a >>> 28)) + b) | 0
  d = (d + (a ^ b ^ c) + x4 + 1272893353) | 0
  d = (((d << 11) | (d >>> 21)) + a) | 0
  c = (c + (d ^ a ^ b) + x7 - 155497632) | 0
  c = (((c << 16) | (c >>> 16)) + d) | 0
  b = (b + (c ^ d ^ a) + x10 - 1094730640) | 0
  b = (((b << 23) | (b >>> 9)) + c) | 0
  a = (a + (b ^ c ^ d) + x13 + 681279174) | 0
  a = (((a << 4) | (a >>> 28)) + b) | 0
  d = (d + (a ^ b ^ c) + x0 - 358537222) | 0
  d = (((d << 11) | (d >>> 21)) + a) | 0
  c = (c + (d ^ a ^ b) + x3 - 722521979) | 0
  c = (((c << 16) | (c >>> 16)) + d) | 0
  b = (b + (c ^ d ^ a) + x6 + 76029189) | 0
  b = (((b << 23) | (b >>> 9)) + c) | 0
  a = (a + (b ^ c ^ d) + x9 - 640364487) | 0
  a = (((a << 4) | (a >>> 28)) + b) | 0
  d = (d + (a ^ b ^ c) + x12 - 421815835) | 0
  d = (((d << 11) | (d >>> 21)) + a) | 0
  c = (c + (d ^ a ^ b) + x15 + 530742520) | 0
  c = (((c << 16) | (c >>> 16)) + d) | 0
  b = (b + (c ^ d ^ a) + x2 - 995338651) | 0
  b = (((b << 23) | (b >>> 9)) + c) | 0
  a = (a + (c ^ (b | ~d)) + x0 - 198630844) | 0
  a = (((a << 6) | (a >>> 26)) + b) | 0
  d = (d + (b ^ (a | ~c)) + x7 + 1126891415) | 0
  d = (((d << 10) | (d >>> 22)) + a) | 0
  c = (c + (a ^ (d | ~b)) + x14 - 1416354905) | 0
  c = (((c << 15) | (c >>> 17)) + d) | 0
  b = (b + (d ^ (c | ~a)) + x5 - 57434055) | 0
  b = (((b << 21) | (b >>> 11)) + c) | 0
  a = (a + (c ^ (b | ~d)) + x12 + 1700485571) | 0
  a = (((a << 6) | (a >>> 26)) + b) | 0
  d = (d + (b ^ (a | ~c)) + x3 - 1894986606) | 0
  d = (((d << 10) | (d >>> 22)) + a) | 0
  c = (c + (a ^ (d | ~b)) + x10 - 1051523) | 0
  c = (((c << 15) | (c >>> 17)) + d) | 0
  b = (b + (d ^ (c | ~a)) + x1 - 2054922799) | 0
  b = (((b << 21) | (b >>> 11)) + c) | 0
  a = (a + (c ^ (b | ~d)) + x8 + 1873313359) | 0
  a = (((a << 6) | (a >>> 26)) + b) | 0
  d = (d + (b ^ (a | ~c)) + x15 - 30611744) | 0
  d = (((d << 10) | (d >>> 22)) + a) | 0
  c = (c + (a ^ (d | ~b)) + x6 - 1560198380) | 0
  c = (((c << 15) | (c >>> 17)) + d) | 0
  b = (b + (d ^ (c | ~a)) + x13 + 1309151649) | 0
  b = (((b << 21) | (b >>> 11)) + c) | 0
  a = (a + (c ^ (b | ~d)) + x4 - 145523070) | 0
  a = (((a << 6) | (a >>> 26)) + b) | 0
  d = (d + (b ^ (a | ~c)) + x11 - 1120210379) | 0
  d = (((d << 10) | (d >>> 22)) + a) | 0
  c = (c + (a ^ (d | ~b)) + x2 + 718787259) | 0
  c = (((c << 15) | (c >>> 17)) + d) | 0
  b = (b + (d ^ (c | ~a)) + x9 - 343485551) | 0
  b = (((b << 21) | (b >>> 11)) + c) | 0
  md5State[0] += a
  md5State[1] += b
  md5State[2] += c
  md5State[3] += d
}

/** MD5 of data[start, end), written into out[at, at + 16). */
export function md5Into (data: Uint8Array, start: number, end: number, out: Uint8Array, at: number): void {
  md5State[0] = 0x67452301
  md5State[1] = 0xefcdab89 | 0
  md5State[2] = 0x98badcfe | 0
  md5State[3] = 0x10325476
  let p = start
  for (; end - p >= 64; p += 64) md5Block(data, p)
  const tail = md5Tail
  const r = end - p
  for (let i = 0; i < r; i++) tail[i] = data[p + i]
  tail[r] = 0x80
  const size = r < 56 ? 64 : 128
  tail.fill(0, r + 1, size - 8)
  const bits = (end - start) * 8
  const lo = bits >>> 0
  const hi = Math.floor(bits / 2 ** 32) >>> 0
  for (let i = 0; i < 4; i++) {
    tail[size - 8 + i] = lo >>> (8 * i)
    tail[size - 4 + i] = hi >>> (8 * i)
  }
  md5Block(tail, 0)
  if (size === 128) md5Block(tail, 64)
  for (let i = 0; i < 4; i++) {
    const v = md5State[i]
    out[at++] = v
    out[at++] = v >>> 8
    out[at++] = v >>> 16
    out[at++] = v >>> 24
  }
}

function md5 (data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HASH_BYTES)
  md5Into(data, 0, data.length, out, 0)
  return out
}

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
