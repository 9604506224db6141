// One partition's Merkle tree, with a fixed number of leaves so that its
// memory does not depend on how many keys the partition holds.
//
//   level 0             [ root ]                    depth = 3 for
//   level 1        [n0]  [n1]  [n2]  [n3]            leaves 1024, fanout 16:
//   level 2      16 nodes under each: 64             widths 1, 4, 64, 1024
//   level 3      16 leaves under each: 1024 leaves
//
// A key's leaf is given by the log2(leaves) bits of its md5 that follow the
// partition bits, so each leaf is one contiguous range of storage keys
// (md5 ‖ key), see leafRange.
//
// leaf  = XOR of itemHash(key, digest) over the keys in the leaf: a write is
//         O(1) and order-independent, replace(leaf, old, new) XORs out the old
//         item and XORs in the new one.
// inner = hash64 of its children's hashes (hashWordsInto over the words
//         hi0, lo0, hi1, lo1, ... with SEED_NODE), recomputed lazily: a write
//         only marks the leaf's ancestors dirty, and reading a node (root,
//         nodesAt) recomputes the dirty nodes below it.
//
// Layout: every node of every level in one Uint32Array, root first, level by
// level, two words (hi, lo) per node; one dirty byte per inner node.
// Invariant: an inner node that is dirty has only dirty ancestors, so marking
// stops at the first ancestor already dirty and a write costs amortized O(1).

import { HASH_BYTES } from '../util/bytes.js'
import type { Hash64 } from './hash.js'
import { DIGEST_BYTES, SEED_NODE, hashWordsInto } from './hash.js'
import { NodeRangeError } from './errors.js'
import { Buffer } from 'node:buffer'

export const LEAVES_DEFAULT = 1024
export const FANOUT_DEFAULT = 16
export const LEAVES_MAX = 1 << 20
export const FANOUT_MAX = 256
/** Partitions are at most 2^32 (ring sizes are far smaller). */
export const PARTITION_BITS_MAX = 32
/** Bound on the indices one nodesAt call (one MERKLE_NODES request) may ask for. */
export const NODES_PER_REQUEST_MAX = 4096

export interface MerkleTreeOptions {
  /** Power of two in [1, LEAVES_MAX]; default LEAVES_DEFAULT. */
  leaves?: number
  /** Power of two in [2, FANOUT_MAX]; default FANOUT_DEFAULT. */
  fanout?: number
}

/** [gte, lt) bounds on storage keys (md5 ‖ key); lt null = to the end of the key space. */
export interface KeyRange {
  gte: Buffer
  lt: Buffer | null
}

function log2Exact (n: number, what: string, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max || (n & (n - 1)) !== 0) {
    throw new RangeError(`${what} must be a power of two in [${min}, ${max}], got ${n}`)
  }
  return 31 - Math.clz32(n)
}

function checkPartitionBits (partitionBits: number): void {
  if (!Number.isInteger(partitionBits) || partitionBits < 0 || partitionBits > PARTITION_BITS_MAX) {
    throw new RangeError(`partitionBits must be an integer in [0, ${PARTITION_BITS_MAX}], got ${partitionBits}`)
  }
}

// Writes the low `count` bits of `value` (count <= 32) big-endian into `buf`
// starting at bit `offsetBits`.
function writeBits (buf: Buffer, offsetBits: number, value: number, count: number): void {
  for (let i = 0; i < count; i++) {
    if (((value >>> (count - 1 - i)) & 1) === 0) continue
    const bit = offsetBits + i
    buf[bit >> 3] |= 0x80 >> (bit & 7)
  }
}

export class MerkleTree {
  readonly leaves: number
  readonly fanout: number
  /** Level of the leaves; the root is level 0, so there are depth + 1 levels. */
  readonly depth: number
  readonly leafBits: number
  private readonly fanoutBits: number
  /** Nodes per level, root first. */
  private readonly widths: Int32Array
  /** Index of each level's first node in the node order. */
  private readonly offsets: Int32Array
  /** Two words (hi, lo) per node, root first, level by level. */
  private readonly hashes: Uint32Array
  /** One byte per inner node (levels 0 .. depth - 1), same order. */
  private readonly dirty: Uint8Array
  private itemCountNet = 0

  constructor (options: MerkleTreeOptions = {}) {
    const leaves = options.leaves ?? LEAVES_DEFAULT
    const fanout = options.fanout ?? FANOUT_DEFAULT
    this.leafBits = log2Exact(leaves, 'leaves', 1, LEAVES_MAX)
    this.fanoutBits = log2Exact(fanout, 'fanout', 2, FANOUT_MAX)
    this.leaves = leaves
    this.fanout = fanout
    this.depth = Math.ceil(this.leafBits / this.fanoutBits)
    this.widths = new Int32Array(this.depth + 1)
    this.offsets = new Int32Array(this.depth + 2)
    for (let level = this.depth; level >= 0; level--) {
      this.widths[level] = level === this.depth ? leaves : Math.max(1, this.widths[level + 1] >>> this.fanoutBits)
    }
    for (let level = 0; level <= this.depth; level++) {
      this.offsets[level + 1] = this.offsets[level] + this.widths[level]
    }
    this.hashes = new Uint32Array(this.offsets[this.depth + 1] * 2)
    this.dirty = new Uint8Array(this.offsets[this.depth])
    this.dirty.fill(1)
  }

  /** Number of nodes at a level (1 at the root, `leaves` at the leaves). */
  width (level: number): number {
    this.checkLevel(level)
    return this.widths[level]
  }

  /** Bytes held by the tree's arrays. */
  get byteLength (): number {
    return this.hashes.byteLength + this.dirty.byteLength + this.widths.byteLength + this.offsets.byteLength
  }

  /**
   * Items added minus items removed through replace, plus those of trees
   * XORed in: the key count for a tree built from a scan and writes (may be
   * negative for a delta tree).
   */
  get itemCount (): number {
    return this.itemCountNet
  }

  /**
   * The leaf of a key: the log2(leaves) bits of its md5 that follow the
   * first `partitionBits` bits. `keyHash` is the md5 or any bytes starting
   * with it, such as the storage key.
   */
  leafIndex (keyHash: Uint8Array, partitionBits: number): number {
    checkPartitionBits(partitionBits)
    const skipBits = partitionBits & 7
    const byteStart = partitionBits >> 3
    const byteCount = (skipBits + this.leafBits + 7) >> 3 // at most 4: 7 + 20 bits
    if (keyHash.length < byteStart + byteCount) {
      throw new RangeError(`key hash of ${keyHash.length} bytes is too short for ${partitionBits} partition bits`)
    }
    let v = 0
    for (let i = 0; i < byteCount; i++) v = v * 256 + keyHash[byteStart + i]
    return (v >>> (byteCount * 8 - skipBits - this.leafBits)) & (this.leaves - 1)
  }

  /**
   * The storage keys (md5 ‖ key) of one leaf of one partition: those whose
   * md5 starts with the partitionBits bits of `partition` then the leafBits
   * bits of `leaf`. Bounds are md5 prefixes of HASH_BYTES.
   */
  leafRange (partition: number, leaf: number, partitionBits: number): KeyRange {
    checkPartitionBits(partitionBits)
    if (!Number.isInteger(partition) || partition < 0 || partition >= 2 ** partitionBits) {
      throw new RangeError(`partition ${partition} out of range for ${partitionBits} partition bits`)
    }
    this.checkLeaf(leaf)
    const bound = (p: number, l: number): Buffer => {
      const b = Buffer.alloc(HASH_BYTES)
      writeBits(b, 0, p, partitionBits)
      writeBits(b, partitionBits, l, this.leafBits)
      return b
    }
    const gte = bound(partition, leaf)
    if (leaf + 1 < this.leaves) return { gte, lt: bound(partition, leaf + 1) }
    if (partition + 1 < 2 ** partitionBits) return { gte, lt: bound(partition + 1, 0) }
    return { gte, lt: null }
  }

  /**
   * One write to a key of `leaf`: XOR out the item hash of the object it
   * replaces (null if the key was absent) and XOR in the new one (null for a
   * removal). Passing the exact old item hash is the caller's contract.
   */
  replace (leaf: number, oldItem: Hash64 | null, newItem: Hash64 | null): void {
    this.checkLeaf(leaf)
    this.itemCountNet += (newItem === null ? 0 : 1) - (oldItem === null ? 0 : 1)
    const deltaHi = (oldItem === null ? 0 : oldItem.hi) ^ (newItem === null ? 0 : newItem.hi)
    const deltaLo = (oldItem === null ? 0 : oldItem.lo) ^ (newItem === null ? 0 : newItem.lo)
    this.xorLeaf(leaf, deltaHi, deltaLo)
  }

  /** XOR another tree's leaves (and item count) into this one: scanned tree ^ writes during the scan. */
  xorFrom (other: MerkleTree): void {
    if (other.leaves !== this.leaves || other.fanout !== this.fanout) {
      throw new RangeError(`tree shapes differ: ${other.leaves}/${other.fanout} into ${this.leaves}/${this.fanout}`)
    }
    const base = this.offsets[this.depth] * 2
    for (let leaf = 0; leaf < this.leaves; leaf++) {
      const w = base + leaf * 2
      this.xorLeaf(leaf, other.hashes[w], other.hashes[w + 1])
    }
    this.itemCountNet += other.itemCountNet
  }

  /** Back to the empty tree (as constructed). */
  clear (): void {
    this.hashes.fill(0)
    this.dirty.fill(1)
    this.itemCountNet = 0
  }

  /** An independent copy (for instance to serve an exchange from a snapshot). */
  clone (): MerkleTree {
    const copy = new MerkleTree({ leaves: this.leaves, fanout: this.fanout })
    copy.hashes.set(this.hashes)
    copy.dirty.set(this.dirty)
    copy.itemCountNet = this.itemCountNet
    return copy
  }

  /** The root hash, 8 bytes (big-endian hi, lo). */
  root (): Buffer {
    return this.nodesAt(0, [0])[0]
  }

  /**
   * Hashes of the given nodes of one level (level 0 = root, `depth` =
   * leaves), 8 bytes each (views into one allocation). Indices may come from
   * a peer: out-of-range ones throw NodeRangeError.
   */
  nodesAt (level: number, indices: readonly number[]): Buffer[] {
    this.checkLevel(level)
    if (indices.length > NODES_PER_REQUEST_MAX) {
      throw new NodeRangeError(`${indices.length} nodes requested, at most ${NODES_PER_REQUEST_MAX}`)
    }
    const width = this.widths[level]
    const out = Buffer.allocUnsafe(indices.length * DIGEST_BYTES)
    const views: Buffer[] = []
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i]
      if (!Number.isInteger(index) || index < 0 || index >= width) {
        throw new NodeRangeError(`node ${index} outside [0, ${width}) at level ${level}`)
      }
      this.settle(level, index)
      const w = (this.offsets[level] + index) * 2
      out.writeUInt32BE(this.hashes[w], i * DIGEST_BYTES)
      out.writeUInt32BE(this.hashes[w + 1], i * DIGEST_BYTES + 4)
      views.push(out.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES))
    }
    return views
  }

  private checkLevel (level: number): void {
    if (!Number.isInteger(level) || level < 0 || level > this.depth) {
      throw new NodeRangeError(`level ${level} outside [0, ${this.depth}]`)
    }
  }

  private checkLeaf (leaf: number): void {
    if (!Number.isInteger(leaf) || leaf < 0 || leaf >= this.leaves) {
      throw new RangeError(`leaf ${leaf} outside [0, ${this.leaves})`)
    }
  }

  private xorLeaf (leaf: number, deltaHi: number, deltaLo: number): void {
    if (deltaHi === 0 && deltaLo === 0) return
    const w = (this.offsets[this.depth] + leaf) * 2
    this.hashes[w] ^= deltaHi
    this.hashes[w + 1] ^= deltaLo
    let index = leaf
    for (let level = this.depth - 1; level >= 0; level--) {
      index >>>= this.fanoutBits
      const pos = this.offsets[level] + index
      if (this.dirty[pos] === 1) break
      this.dirty[pos] = 1
    }
  }

  // Recomputes node (level, index) if dirty, children first. Recursion depth
  // is at most `depth` (<= 20 levels).
  private settle (level: number, index: number): void {
    if (level === this.depth) return
    const pos = this.offsets[level] + index
    if (this.dirty[pos] === 0) return
    const childLevel = level + 1
    const first = index << this.fanoutBits
    const end = Math.min(first + this.fanout, this.widths[childLevel])
    for (let child = first; child < end; child++) this.settle(childLevel, child)
    const childWord = (this.offsets[childLevel] + first) * 2
    hashWordsInto(this.hashes, childWord, (end - first) * 2, SEED_NODE, this.hashes, pos * 2)
    this.dirty[pos] = 0
  }
}
