// Records and their storage keys. Every record of a client key lives under the
// key's ring position, so a partition is one key range of the data space (for
// scans, handoff, Merkle trees and reaping) and a key's records are adjacent:
//
//   key record      md5(key) ‖ 0x00 ‖ key                          the key's own object:
//                                                                   a string, a counter, or a
//                                                                   collection marker (TTL, type)
//   element record  md5(key) ‖ 0x01 ‖ varint len ‖ key ‖ kind ‖ h8 ‖ element
//                   kind 1 set member, 2 hash field, 3 sorted-set member;
//                   h8 the first 8 bytes of md5(element)
//
// The key record sorts first, then the key's elements, by kind then h8: a
// collection is walked in hash order, so a *SCAN cursor is a position in a
// uniform 62-bit space however alike the elements are (Redis's cursors are
// hash-table positions too).
// Two keys whose MD5s collide still keep their records apart (the key itself
// is part of every storage key). A KeyRef computes the hash, partition and
// storage key only when first needed: a GET of a cached key on a single node
// needs none of them (MD5 is the dearest step of the read path).
import { Buffer } from 'node:buffer'
import { HASH_BYTES, keyHash, md5Into, partitionOfHash } from '../ring/hash.js'
import { DecodeError, Reader, Writer, copyInto } from '../util/bytes.js'

export const RECORD_KEY = 0
export const RECORD_ELEMENT = 1

export type ElementKind = 'set' | 'hash' | 'zset'
const KIND_BYTE: Record<ElementKind, number> = { set: 1, hash: 2, zset: 3 }
const KIND_OF_BYTE: Array<ElementKind | undefined> = [undefined, 'set', 'hash', 'zset']

/** Any record: how the engine (ks, skey) and placement (partition) name it. */
export interface RecordRef {
  /** The engine's index of the record (latin1; element records start with U+0100, which no key can). */
  readonly ks: string
  /** The storage key. */
  readonly skey: Buffer
  readonly partition: number
  /** The client key the record belongs to. */
  readonly key: Buffer
}

/**
 * Node's own Buffer#latin1Slice, which `toString('latin1')` reaches through
 * its argument checks, getEncodingOps and the encoding's `slice` (generic
 * loads in optimised code): ~200 instructions a call fewer called as a method
 * (not through `.call` of an imported binding, which takes V8's generic Call
 * builtin: no fewer). docs/performance.md, "Session 16, setmain16".
 */
interface Latin1Slicing { latin1Slice: (from: number, to: number) => string }

export class KeyRef implements RecordRef {
  /** The key as a latin1 string: what the engine indexes a key record by. */
  readonly ks: string
  private hashBytes: Buffer | undefined
  private storageKey: Buffer | undefined
  private keyBytes: Buffer | undefined

  /** key undefined: a ref made from its storage key (skey given), the key's view made only when asked (a replica write never does). */
  constructor (key: Buffer | undefined, private readonly partitionBits: number, hash?: Buffer, skey?: Buffer) {
    this.ks = key !== undefined ? (key as unknown as Latin1Slicing).latin1Slice(0, key.length) : (skey as Buffer).toString('latin1', HASH_BYTES + 1)
    this.keyBytes = key
    this.hashBytes = hash
    this.storageKey = skey
  }

  get key (): Buffer {
    this.keyBytes ??= (this.storageKey as Buffer).subarray(HASH_BYTES + 1)
    return this.keyBytes
  }

  /** EngineKey.ksBytes: the key's bytes when this ref has them (made from them, or `key` read), else undefined. */
  get ksBytes (): Buffer | undefined {
    return this.keyBytes
  }

  get hash (): Buffer {
    // (a view of the storage key, which starts with it: the MD5 is computed once, into the storage key)
    this.hashBytes ??= this.skey.subarray(0, HASH_BYTES)
    return this.hashBytes
  }

  /**
   * The partition: the top log2(Q) bits of the ring position (the storage key
   * starts with it). Not memoised: two byte loads and a shift, where a field
   * would add 8 B to every KeyRef, the single node's too.
   */
  get partition (): number {
    return partitionOfHash(this.hashBytes ?? this.skey, this.partitionBits)
  }

  get bits (): number {
    return this.partitionBits
  }

  /** md5(key) ‖ 0 ‖ key: the key record's storage key. */
  get skey (): Buffer {
    if (this.storageKey === undefined) {
      const key = this.key
      const skey = Buffer.allocUnsafe(HASH_BYTES + 1 + key.length)
      // The MD5 written in place: no Buffer of its own (a ref is given one only from an element's storage key).
      if (this.hashBytes !== undefined) copyInto.call(skey, this.hashBytes, 0)
      else md5Into(key, 0, key.length, skey, 0)
      skey[HASH_BYTES] = RECORD_KEY
      copyInto.call(skey, key, HASH_BYTES + 1)
      this.storageKey = skey
    }
    return this.storageKey
  }

  /** md5(key) ‖ 1 ‖ len ‖ key: every element record of the key starts with it. */
  elementsPrefix (): Buffer {
    return new Writer(HASH_BYTES + 6 + this.key.length).raw(this.hash).u8(RECORD_ELEMENT).bytes(this.key).finish()
  }

  /** The prefix of the key's elements of one kind. */
  kindPrefix (kind: ElementKind): Buffer {
    const prefix = this.elementsPrefix()
    return Buffer.concat([prefix, Buffer.from([KIND_BYTE[kind]])])
  }

  element (kind: ElementKind, element: Buffer): ElementRef {
    return new ElementRef(this, kind, element, Buffer.concat([this.kindPrefix(kind), elementHash(element), element]))
  }
}

export class ElementRef implements RecordRef {
  readonly ks: string
  constructor (readonly parent: KeyRef, readonly kind: ElementKind, readonly element: Buffer, readonly skey: Buffer) {
    this.ks = '\u0100' + skey.toString('latin1')
  }

  get key (): Buffer { return this.parent.key }
  get partition (): number { return this.parent.partition }
}

export function keyRef (key: Buffer, partitionBits: number): KeyRef {
  return new KeyRef(key, partitionBits)
}

/** The record a storage key names (scans, handoff, anti-entropy, peers); DecodeError for a malformed one. */
export function refOfStorageKey (skey: Buffer, partitionBits: number): KeyRef | ElementRef {
  if (skey.length <= HASH_BYTES) throw new DecodeError('storage key too short')
  // (no view of the hash: the key record's partition and hash are read from skey when asked)
  if (skey[HASH_BYTES] === RECORD_KEY) return new KeyRef(undefined, partitionBits, undefined, skey)
  if (skey[HASH_BYTES] !== RECORD_ELEMENT) throw new DecodeError('unknown record type')
  const hash = skey.subarray(0, HASH_BYTES)
  const r = new Reader(skey, HASH_BYTES + 1)
  const key = r.bytes()
  const kind = KIND_OF_BYTE[r.u8()]
  if (kind === undefined) throw new DecodeError('unknown element kind')
  if (r.remaining < ELEMENT_HASH_BYTES) throw new DecodeError('element record without its hash')
  const parent = new KeyRef(key, partitionBits, hash)
  return new ElementRef(parent, kind, skey.subarray(r.pos + ELEMENT_HASH_BYTES), skey)
}

/** Bytes of an element's hash in its storage key. */
export const ELEMENT_HASH_BYTES = 8

/** Where an element sorts among its collection's: the first 8 bytes of its MD5. */
export function elementHash (element: Buffer): Buffer {
  return keyHash(element).subarray(0, ELEMENT_HASH_BYTES)
}

/** Does the ref name an element record (its ks starts with U+0100, which no latin1 key string can)? */
export function isElement (ref: RecordRef): boolean {
  return ref.ks.length > 0 && ref.ks.charCodeAt(0) === 0x100
}

/** The ref of an element record from its storage key, under a key whose ref is known. */
export function elementRefOf (key: RecordRef, skey: Buffer): RecordRef {
  return { ks: '\u0100' + skey.toString('latin1'), skey, partition: key.partition, key: key.key }
}

/** Is this storage key a key record (not an element)? */
export function isKeyRecord (skey: Buffer): boolean {
  return skey.length > HASH_BYTES && skey[HASH_BYTES] === RECORD_KEY
}

/** The first storage key after every key that starts with prefix (an exclusive upper bound); undefined past the end. */
export function prefixEnd (prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++
      return end.subarray(0, i + 1)
    }
  }
  return undefined
}
