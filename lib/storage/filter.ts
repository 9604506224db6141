// A Bloom filter over storage keys: a superset of the keys a space holds, so
// that "not in the filter" proves a key absent without reading the store.
//
//   add(k)  sets K bits chosen by two 32-bit hashes of k (h1 + i·h2, i < K)
//   has(k)  false only if one of those bits is clear: k was never added
//
// Nothing is ever removed (a deleted key stays in, a false positive and no
// more): whatever was added stays a superset of what was stored. The store
// adds a key before it writes it, and builds the filter from a scan of the
// keys present at open (docs/performance.md, "Third pass").
//
// 2^23 bits (1 MB), K = 3: ~0.3 % false positives at 300 000 keys, ~2.7 % at
// 1 000 000; past that it degrades gracefully (more reads, never a wrong one).
//
// A key record's storage key starts with its key's MD5 (lib/node/keys.ts:
// md5(key) ‖ 0 ‖ key): its first eight bytes are the two hashes, read, not
// computed (FNV-1a over a 36-byte key cost ~700 instructions, twice for a new
// key: proved absent, then added; docs/performance.md, "Session 14,
// engine14"). Other keys (element records, whose MD5 is their collection's)
// are hashed. Any function of the key keeps the filter a superset; only its
// false positives depend on the hashes' spread.
import { HASH_BYTES } from '../util/bytes.js'

const BITS_LOG2 = 23
const MASK = (1 << BITS_LOG2) - 1
const K = 3

export class KeyFilter {
  private readonly words = new Int32Array(1 << (BITS_LOG2 - 5))
  /** The last key's two hashes (hash): fields, not an object a call. */
  private h1 = 0
  private h2 = 0

  add (key: Uint8Array): void {
    this.hash(key)
    const h1 = this.h1
    const h2 = this.h2
    for (let i = 0; i < K; i++) {
      const bit = (h1 + Math.imul(i, h2)) & MASK
      this.words[bit >>> 5] |= 1 << (bit & 31)
    }
  }

  has (key: Uint8Array): boolean {
    this.hash(key)
    const h1 = this.h1
    const h2 = this.h2
    for (let i = 0; i < K; i++) {
      const bit = (h1 + Math.imul(i, h2)) & MASK
      if ((this.words[bit >>> 5] & (1 << (bit & 31))) === 0) return false
    }
    return true
  }

  /** h1, h2 of a key: a key record's from its MD5's first eight bytes (see the header), another's by FNV-1a. */
  private hash (key: Uint8Array): void {
    if (key.length > HASH_BYTES && key[HASH_BYTES] === 0) {
      this.h1 = key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)
      this.h2 = key[4] | (key[5] << 8) | (key[6] << 16) | (key[7] << 24) | 1
    } else {
      this.h1 = fnv1a(key)
      this.h2 = mix(this.h1) | 1
    }
  }
}

/** FNV-1a, 32 bits, over every byte. */
function fnv1a (key: Uint8Array): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i], 0x01000193)
  return h
}

/** murmur3's finaliser: a second hash, independent enough of the first for double hashing. */
function mix (h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return h ^ (h >>> 16)
}
