// A client key and what derives from it: its ring position (MD5), partition and
// storage key `md5 ‖ key`, each computed only when first needed — a GET of a
// cached key on a single node needs none of them, and MD5 is the dearest step
// of the read path.
import { keyHash } from '../ring/hash.js'

export class KeyRef {
  /** The key as a latin1 string: what the engine indexes the data space by. */
  readonly ks: string
  private hashBytes: Buffer | undefined
  private storageKey: Buffer | undefined

  constructor (readonly key: Buffer, private readonly partitionBits: number, hash?: Buffer, skey?: Buffer) {
    this.ks = key.toString('latin1')
    this.hashBytes = hash
    this.storageKey = skey
  }

  get hash (): Buffer {
    this.hashBytes ??= keyHash(this.key)
    return this.hashBytes
  }

  /** The partition: the top log2(Q) bits of the ring position. */
  get partition (): number {
    const bits = this.partitionBits
    if (bits === 0) return 0
    const h = this.hash
    return ((h[0] << 8) | h[1]) >>> (16 - bits)
  }

  /** md5(key) ‖ key: the data-space storage key. */
  get skey (): Buffer {
    if (this.storageKey === undefined) {
      const skey = Buffer.allocUnsafe(16 + this.key.length)
      skey.set(this.hash, 0)
      skey.set(this.key, 16)
      this.storageKey = skey
    }
    return this.storageKey
  }
}

export function keyRef (key: Buffer, partitionBits: number): KeyRef {
  return new KeyRef(key, partitionBits)
}

/** The KeyRef of a data-space storage key (scans, handoff, anti-entropy). */
export function refOfStorageKey (skey: Buffer, partitionBits: number): KeyRef {
  return new KeyRef(skey.subarray(16), partitionBits, skey.subarray(0, 16), skey)
}
