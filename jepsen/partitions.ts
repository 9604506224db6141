// Network partitions as grudges (Jepsen's word): for each host, the hosts whose
// packets it drops. The shapes of Jepsen's partition nemeses:
//
//   halves    a random split ⌊n/2⌋ | ⌈n/2⌉ (for odd n: a minority and a majority)
//   isolate   one host cut off from every other
//   bridge    two halves that cannot talk, and one host that talks to both
//   ring      hosts on a ring, each hears only its two neighbours: with 5 hosts
//             every host sees a majority, no two hosts the same one
//   one-way   a minority's packets are dropped by the rest, while the minority
//             still hears the rest (asymmetric)
//
// Pure: the randomness comes in.
import type { Random } from '../lib/runtime/random.js'

export const TOPOLOGIES = ['halves', 'isolate', 'bridge', 'ring', 'one-way'] as const
export type Topology = typeof TOPOLOGIES[number]

/** host → the hosts whose packets it drops. */
export type Grudge = Record<string, string[]>

export function shuffled<T> (items: readonly T[], rng: Random): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** Every host of a cannot hear any host of b, and the other way round. */
export function complete (sides: ReadonlyArray<readonly string[]>): Grudge {
  const g: Grudge = {}
  for (const side of sides) {
    for (const host of side) g[host] = sides.filter(s => s !== side).flat()
  }
  return g
}

export function grudge (topology: Topology, hosts: readonly string[], rng: Random): Grudge {
  const h = shuffled(hosts, rng)
  const n = h.length
  switch (topology) {
    case 'halves':
      return complete([h.slice(0, Math.floor(n / 2)), h.slice(Math.floor(n / 2))])
    case 'isolate':
      return complete([h.slice(0, 1), h.slice(1)])
    case 'bridge': {
      const mid = Math.floor(n / 2)
      const left = h.slice(0, mid)
      const right = h.slice(mid + 1)
      const g = complete([left, right])
      g[h[mid]] = []
      return g
    }
    case 'ring': {
      const g: Grudge = {}
      for (let i = 0; i < n; i++) {
        const near = [h[(i + n - 1) % n], h[i], h[(i + 1) % n]]
        g[h[i]] = h.filter(x => !near.includes(x))
      }
      return g
    }
    case 'one-way': {
      const minority = h.slice(0, Math.max(1, Math.floor((n - 1) / 2)))
      const g: Grudge = {}
      for (const x of h) g[x] = minority.includes(x) ? [] : [...minority]
      return g
    }
  }
}

/** The hosts a can exchange packets with both ways (a included). */
export function reach (g: Grudge, hosts: readonly string[], a: string): string[] {
  return hosts.filter(b => b === a || (!(g[a] ?? []).includes(b) && !(g[b] ?? []).includes(a)))
}
