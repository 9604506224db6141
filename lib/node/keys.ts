// A client key and everything derived from it once: its ring position (MD5),
// partition, storage key `md5 ‖ key`, and the string the engine indexes by.
import { keyHash } from '../ring/hash.js'

export interface KeyRef {
  key: Buffer
  hash: Buffer
  partition: number
  /** md5(key) ‖ key: the data-space storage key. */
  skey: Buffer
  /** skey as a latin1 string (engine maps). */
  ks: string
}

/** The partition of a ring position, with log2(Q) precomputed (hot path: no validation). */
function partitionAt (hash: Buffer, partitionBits: number): number {
  return partitionBits === 0 ? 0 : ((hash[0] << 8) | hash[1]) >>> (16 - partitionBits)
}

export function keyRef (key: Buffer, partitionBits: number): KeyRef {
  const hash = keyHash(key)
  const skey = Buffer.allocUnsafe(16 + key.length)
  hash.copy(skey, 0)
  key.copy(skey, 16)
  return { key, hash, partition: partitionAt(hash, partitionBits), skey, ks: skey.toString('latin1') }
}

/** The KeyRef of a data-space storage key (scans, handoff, anti-entropy). */
export function refOfStorageKey (skey: Buffer, partitionBits: number): KeyRef {
  const hash = skey.subarray(0, 16)
  return { key: skey.subarray(16), hash, partition: partitionAt(hash, partitionBits), skey, ks: skey.toString('latin1') }
}
