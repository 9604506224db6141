// `dynakv admin ring`: the members, then the ring drawn as one row per member
// and one column per partition (in blocks of 64):
//
//   O  the member is the partition's owner (its first primary)
//   o  one of its other primaries (a replica)
//   >  the member still holds the partition's data and is handing it off
//   .  none of these
//
// The preference lists come from the node asked (RING PARTITIONS); transfers
// in flight from each member (RING STATUS), since only a node knows what it
// still has to hand off.
import { table } from './table.js'
import type { Member } from './cluster-view.js'

const BLOCK = 64
/** Past this many partitions the map is not drawn (the table's counts remain). */
const DRAW_PARTITIONS_MAX = 1024

/** RING PARTITIONS lines ("p a,b,c") as each partition's primaries. */
export function parsePartitions (lines: string[]): string[][] {
  const out: string[][] = []
  for (const line of lines) {
    const [p, list] = line.split(' ')
    out[Number(p)] = list === undefined || list === '' ? [] : list.split(',')
  }
  return out
}

/**
 * members: RING NODES; primaries: per partition; transferring: per member, the
 * partitions it is handing off (absent: that member could not be asked).
 */
export function renderRing (members: Member[], primaries: string[][], transferring: Map<string, readonly number[]>): string {
  const out: string[] = []
  out.push(table([['NAME', 'PEER', 'CLIENT', 'STATUS', 'WEIGHT', 'PARTITIONS', 'STATE'], ...members.map(m => [m.name, m.peer, m.client, m.status, String(m.weight), String(m.partitions), m.state])]))
  const q = primaries.length
  const n = Math.max(0, ...primaries.map(p => p.length))
  out.push(`\nring: ${q} partitions, N=${n}; O owner (first primary), o replica, > handing its data off, . none\n`)
  const inRing = members.filter(m => m.status !== 'removed' || (transferring.get(m.name)?.length ?? 0) > 0)
  const width = Math.max(...inRing.map(m => m.name.length), 4) + 2
  if (q <= DRAW_PARTITIONS_MAX) {
    for (let start = 0; start < q; start += BLOCK) {
      const end = Math.min(q, start + BLOCK)
      const cols = Array.from({ length: end - start }, (_, i) => start + i)
      out.push(`${' '.repeat(width)}${cols.map(p => p % 10 === 0 ? String(Math.floor(p / 10) % 10) : ' ').join('')}\n`)
      out.push(`${String(start).padEnd(width)}${cols.map(p => String(p % 10)).join('')}\n`)
      for (const m of inRing) {
        const handing = new Set(transferring.get(m.name) ?? [])
        const cells = cols.map(p => {
          const i = primaries[p]?.indexOf(m.name) ?? -1
          return i === 0 ? 'O' : i > 0 ? 'o' : handing.has(p) ? '>' : '.'
        })
        out.push(`${m.name.padEnd(width)}${cells.join('')}\n`)
      }
      out.push('\n')
    }
  } else {
    out.push(`(${q} partitions: too many to draw; the PARTITIONS column counts them)\n\n`)
  }
  const flows: string[] = []
  for (const m of members) {
    const parts = transferring.get(m.name)
    if (parts === undefined && m.status !== 'removed') flows.push(`  ${m.name}: could not be asked`)
    else if (parts !== undefined && parts.length > 0) flows.push(`  ${m.name} → ${parts.map(p => `p${p} (to ${(primaries[p] ?? []).join(',')})`).join(', ')}`)
  }
  out.push(flows.length === 0 ? 'transfers in flight: none\n' : `transfers in flight:\n${flows.join('\n')}\n`)
  return out.join('')
}
