// The anti-entropy exchange between two replicas of a partition, as pure
// logic in the style of riak_core's hashtree:compare: the remote tree is a
// function, so the same comparison runs against a local tree in a test, over
// the simulated network, or over TCP (MERKLE_NODES) in production.
//
//   level 0   compare the roots                     1 hash
//   level 1   children of differing roots           <= fanout hashes
//   ...       children of differing nodes only      <= differing * fanout
//   depth     differing leaves  -> KEY_DIGESTS per leaf -> diffDigests
//             -> FETCH_OBJECTS / push, merged by the versioning module
//
// So the hashes exchanged grow with (differing keys x fanout x depth), not
// with the number of keys.

import { RemoteReplyError, UnsortedDigestsError } from './errors.js'
import { DIGEST_BYTES } from './hash.js'
import type { MerkleTree } from './merkle-tree.js'
import { NODES_PER_REQUEST_MAX } from './merkle-tree.js'
import type { ExchangeStats } from './stats.js'
import { Buffer } from 'node:buffer'

/** Reads the hashes of the given nodes of one level of the remote tree, in order. */
export type RemoteNodes = (level: number, indices: number[]) => Promise<readonly Uint8Array[]>

export interface CompareOptions {
  /** Most node hashes asked for in one remote call, in [1, NODES_PER_REQUEST_MAX]. */
  maxNodesPerRequest: number
  /** Counters to add this exchange to. */
  stats?: ExchangeStats
}

/**
 * The leaves (ascending) whose hashes differ between `local` and the remote
 * tree, which must have the same leaves and fanout. Descends level by level
 * into the children of differing nodes only, in requests of at most
 * maxNodesPerRequest indices. The local tree may change between requests
 * (writes go on); whatever that hides or adds is settled by the next exchange.
 */
export async function compareTrees (local: MerkleTree, remote: RemoteNodes, opts: CompareOptions): Promise<number[]> {
  const perRequestMax = opts.maxNodesPerRequest
  if (!Number.isInteger(perRequestMax) || perRequestMax < 1 || perRequestMax > NODES_PER_REQUEST_MAX) {
    throw new RangeError(`maxNodesPerRequest must be an integer in [1, ${NODES_PER_REQUEST_MAX}], got ${perRequestMax}`)
  }
  const stats = opts.stats
  let differing: number[] = [0]
  for (let level = 0; level <= local.depth && differing.length > 0; level++) {
    const candidates = level === 0 ? differing : childrenOf(local, level, differing)
    differing = []
    for (let start = 0; start < candidates.length; start += perRequestMax) {
      const indices = candidates.slice(start, start + perRequestMax)
      const theirs = await remote(level, indices)
      checkReply(theirs, indices.length, level)
      if (stats !== undefined) {
        stats.requests++
        stats.nodesCompared += indices.length
      }
      const ours = local.nodesAt(level, indices)
      for (let i = 0; i < indices.length; i++) {
        if (!ours[i].equals(theirs[i])) differing.push(indices[i])
      }
    }
  }
  if (stats !== undefined) {
    stats.exchanges++
    stats.leavesDiffering += differing.length
  }
  return differing
}

// Children (at `level`) of the given ascending nodes of level - 1, ascending.
function childrenOf (tree: MerkleTree, level: number, parents: readonly number[]): number[] {
  const width = tree.width(level)
  const children: number[] = []
  for (const parent of parents) {
    const end = Math.min((parent + 1) * tree.fanout, width)
    for (let child = parent * tree.fanout; child < end; child++) children.push(child)
  }
  return children
}

function checkReply (reply: readonly Uint8Array[], expected: number, level: number): void {
  if (!Array.isArray(reply) || reply.length !== expected) {
    throw new RemoteReplyError(`asked for ${expected} hashes at level ${level}, got ${Array.isArray(reply) ? reply.length : typeof reply}`)
  }
  for (const h of reply) {
    if (!(h instanceof Uint8Array) || h.length !== DIGEST_BYTES) {
      throw new RemoteReplyError(`a node hash is ${DIGEST_BYTES} bytes (level ${level})`)
    }
  }
}

/** A storage key (md5 ‖ key) and the objectDigest of what it holds. */
export type KeyDigest = readonly [key: Buffer, digest: Buffer]

export interface DigestDiff {
  /** Keys only the local side holds: push them. */
  onlyLocal: Buffer[]
  /** Keys only the remote side holds: fetch them. */
  onlyRemote: Buffer[]
  /** Keys both hold with different digests: fetch, merge, push back. */
  differ: Buffer[]
}

/**
 * Compares two (storage key, digest) lists of one leaf, each strictly
 * ascending by key (storage order), in one merge pass. Throws
 * UnsortedDigestsError otherwise (the remote list comes from a peer).
 */
export function diffDigests (local: readonly KeyDigest[], remote: readonly KeyDigest[], stats?: ExchangeStats): DigestDiff {
  checkSorted(local, 'local')
  checkSorted(remote, 'remote')
  const diff: DigestDiff = { onlyLocal: [], onlyRemote: [], differ: [] }
  let i = 0
  let j = 0
  while (i < local.length && j < remote.length) {
    const order = Buffer.compare(local[i][0], remote[j][0])
    if (order < 0) {
      diff.onlyLocal.push(local[i++][0])
    } else if (order > 0) {
      diff.onlyRemote.push(remote[j++][0])
    } else {
      if (!local[i][1].equals(remote[j][1])) diff.differ.push(local[i][0])
      i++
      j++
    }
  }
  for (; i < local.length; i++) diff.onlyLocal.push(local[i][0])
  for (; j < remote.length; j++) diff.onlyRemote.push(remote[j][0])
  if (stats !== undefined) stats.keysDiffering += diff.onlyLocal.length + diff.onlyRemote.length + diff.differ.length
  return diff
}

function checkSorted (list: readonly KeyDigest[], side: string): void {
  for (let i = 1; i < list.length; i++) {
    if (Buffer.compare(list[i - 1][0], list[i][0]) >= 0) {
      throw new UnsortedDigestsError(`${side} digests not strictly ascending at ${i}`)
    }
  }
}
