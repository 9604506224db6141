// Preference lists over a claimed ring.
//
// The preference list of partition p walks the ring clockwise from p and
// takes each node the first time it is met: the first N are the primaries,
// every other node follows in the order first met (the fallbacks).
//
//   owners  0:a 1:b 2:a 3:c 4:d 5:b      N = 2
//   p = 2:  a c d b   primaries [a, c], fallbacks [d, b]
//   p = 5:  b a c d   primaries [b, a], fallbacks [c, d]
//
// Primaries are found walking clockwise until N distinct owners are met
// (about N steps on a claimed ring), for every partition when the ring is
// made; fallbacks, which need a walk past every node, on first use of each
// partition's list (a node recomputes its ring on every membership change).

import { OwnersError, PartitionRangeError } from './errors.js'
import { partitionBits, partitionOf } from './hash.js'
import { checkReplicaCount } from './layout.js'

export interface PreferenceList {
  readonly primaries: readonly string[]
  readonly fallbacks: readonly string[]
}

const EMPTY: readonly number[] = Object.freeze([])

/** A partition's list; its fallbacks are walked when first read. */
function preferenceList (owners: readonly string[], nodeCount: number, start: number, primaries: readonly string[]): PreferenceList {
  let rest: readonly string[] | null = null
  return Object.freeze({
    primaries,
    get fallbacks (): readonly string[] {
      rest ??= fallbacksFrom(owners, nodeCount, start, primaries)
      return rest
    }
  })
}

/** The nodes met walking clockwise from start, each once, other than the primaries. */
function fallbacksFrom (owners: readonly string[], nodeCount: number, start: number, primaries: readonly string[]): readonly string[] {
  const seen = new Set(primaries)
  const rest: string[] = []
  const q = owners.length
  for (let d = 0; d < q && seen.size < nodeCount; d++) {
    const owner = owners[(start + d) % q]
    if (seen.has(owner)) continue
    seen.add(owner)
    rest.push(owner)
  }
  return Object.freeze(rest)
}

export class Ring {
  /** Number of partitions, Q. */
  readonly partitions: number
  /** Replicas per key, N. */
  readonly n: number
  /** Owner of each partition. */
  readonly owners: readonly string[]
  /** Distinct owners, sorted by name. */
  readonly nodes: readonly string[]
  private readonly lists: readonly PreferenceList[]
  private readonly owned: ReadonlyMap<string, readonly number[]>
  private readonly replicas: ReadonlyMap<string, readonly number[]>

  constructor (owners: readonly string[], n: number) {
    checkReplicaCount(n)
    if (owners.length === 0) throw new OwnersError('a ring needs at least one partition')
    partitionBits(owners.length)
    for (const owner of owners) {
      if (typeof owner !== 'string' || owner.length === 0) throw new OwnersError('every partition needs an owner name')
    }
    const q = owners.length
    this.partitions = q
    this.n = n
    this.owners = Object.freeze([...owners])
    this.nodes = Object.freeze([...new Set(owners)].sort())
    const primaryCount = Math.min(n, this.nodes.length)
    const lists = new Array<PreferenceList>(q)
    const owned = new Map<string, number[]>(this.nodes.map((x) => [x, []]))
    const replicas = new Map<string, number[]>(this.nodes.map((x) => [x, []]))
    for (let p = 0; p < q; p++) {
      const primaries: string[] = []
      for (let d = 0; primaries.length < primaryCount; d++) {
        const owner = this.owners[(p + d) % q]
        if (!primaries.includes(owner)) primaries.push(owner)
      }
      lists[p] = preferenceList(this.owners, this.nodes.length, p, Object.freeze(primaries))
      owned.get(owners[p])?.push(p)
      for (const node of primaries) replicas.get(node)?.push(p)
    }
    this.lists = Object.freeze(lists)
    this.owned = new Map([...owned].map(([x, ps]) => [x, Object.freeze(ps)]))
    this.replicas = new Map([...replicas].map(([x, ps]) => [x, Object.freeze(ps)]))
  }

  ownerOf (partition: number): string {
    return this.owners[this.check(partition)]
  }

  preferenceList (partition: number): PreferenceList {
    return this.lists[this.check(partition)]
  }

  /** The partition of a 16-byte ring position (keyHash of a key). */
  partitionOfKey (keyHash: Uint8Array): number {
    return partitionOf(keyHash, this.partitions)
  }

  /** The preference list of a key's partition, given its ring position. */
  preferenceListForKey (keyHash: Uint8Array): PreferenceList {
    return this.lists[partitionOf(keyHash, this.partitions)]
  }

  /** The N primaries of a key (all nodes when there are fewer than N). */
  primariesForKey (keyHash: Uint8Array): readonly string[] {
    return this.preferenceListForKey(keyHash).primaries
  }

  /** Partitions owned by node, ascending (none for a node not in the ring). */
  partitionsOf (node: string): readonly number[] {
    return this.owned.get(node) ?? EMPTY
  }

  /** Partitions for which node is one of the primaries, ascending: what it stores. */
  replicaPartitions (node: string): readonly number[] {
    return this.replicas.get(node) ?? EMPTY
  }

  private check (partition: number): number {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new PartitionRangeError(`partition ${partition} is not in 0..${this.partitions - 1}`)
    }
    return partition
  }
}
