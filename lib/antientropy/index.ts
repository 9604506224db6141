// Anti-entropy: per-partition Merkle trees and the exchange between replicas
// (docs/design.md#merkle-anti-entropy). Pure: no I/O, timers, clocks or randomness.

export {
  ANTIENTROPY_FORMAT_VERSION,
  DIGEST_BYTES,
  hash64,
  hashFromBuffer,
  hashToBuffer,
  itemHash,
  objectDigest,
  objectItemHash,
  objectItemHashes
} from './hash.js'
export type { Hash64 } from './hash.js'
export {
  FANOUT_DEFAULT,
  FANOUT_MAX,
  LEAVES_DEFAULT,
  LEAVES_MAX,
  MerkleTree,
  NODES_PER_REQUEST_MAX,
  PARTITION_BITS_MAX
} from './merkle-tree.js'
export type { KeyRange, MerkleTreeOptions } from './merkle-tree.js'
export { compareTrees, diffDigests } from './exchange.js'
export type { CompareOptions, DigestDiff, KeyDigest, RemoteNodes } from './exchange.js'
export { addExchangeStats, emptyExchangeStats } from './stats.js'
export type { ExchangeStats } from './stats.js'
export { NodeRangeError, RemoteReplyError, UnsortedDigestsError } from './errors.js'
