// `dynakv admin top`: a live table of the cluster, refreshed every interval:
// each member's status and up/down state, partitions owned, requests per
// second and p99 latency over the last interval, hints pending, transfers
// pending and anti-entropy. Figures come from every member itself (INFO,
// LATENCY HISTOGRAM, RING STATUS); the member list from the node asked.
import { quantileUsec } from '../metrics/command-stats.js'
import { table } from './table.js'
import { ClusterClients, type Member, type NodeSample } from './cluster-view.js'

export interface TopOptions {
  address: string
  password: string | undefined
  intervalMs: number
  /** Frames to print before exiting; 0: until interrupted. */
  count: number
  out: (text: string) => void
  /** Clear the screen before each frame (a terminal). */
  clear: boolean
}

export interface TopRow {
  member: Member
  before: NodeSample | null
  now: NodeSample | null
  error: string | null
}

const num = (m: Map<string, string> | undefined, k: string): number => Number(m?.get(k) ?? NaN)
const show = (v: number, digits = 0): string => Number.isFinite(v) ? v.toFixed(digits) : '-'

/**
 * Client requests per second between two samples: counted by the latency
 * histogram when the node tracks it (the view's own commands left out), else
 * by INFO's total (less the three commands of a sample).
 */
export function opsPerSecond (before: NodeSample, now: NodeSample): number {
  const dt = (now.atMs - before.atMs) / 1000
  const n = now.buckets !== null
    ? now.calls - before.calls
    : num(now.info, 'total_commands_processed') - num(before.info, 'total_commands_processed') - 3
  return dt > 0 ? Math.max(0, n) / dt : NaN
}

/** p99 latency in ms of the commands answered between two samples. */
export function p99Ms (before: NodeSample, now: NodeSample): number {
  if (now.buckets === null) return NaN
  const delta = now.buckets.map((n, i) => n - (before.buckets?.[i] ?? 0))
  return quantileUsec(delta, 0.99) / 1000
}

/** Anti-entropy: trees ready / kept, and how long ago the least recent partition was exchanged. */
export function aeStatus (s: NodeSample): string {
  const trees = num(s.info, 'ae_trees')
  if (trees === 0) return 'idle (alone)'
  let oldestMs = -1
  for (const [k, v] of s.info) if (k.startsWith('ae_last_exchange_p')) oldestMs = Math.max(oldestMs, Number.parseInt(v, 10))
  return `${show(num(s.info, 'ae_trees_ready'))}/${show(trees)} trees, ${oldestMs < 0 ? 'no exchange yet' : `oldest exchange ${Math.round(oldestMs / 1000)}s ago`}`
}

export function renderTop (address: string, rows: TopRow[], intervalMs: number): string {
  const up = rows.filter(r => r.member.state === 'up' && r.error === null).length
  const anyStatus = rows.find(r => r.now !== null)?.now?.status
  const header = `dynakv top: ${rows.length} members (${up} reachable and up) via ${address}, ring converged: ${String(anyStatus?.get('converged') ?? '?')}, refresh ${intervalMs} ms\n\n`
  const lines = [['NODE', 'STATUS', 'STATE', 'OWNED', 'OPS/S', 'P99 MS', 'HINTS', 'XFERS', 'ANTI-ENTROPY']]
  for (const r of rows) {
    const m = r.member
    if (r.now === null) {
      lines.push([m.name, m.status, m.state, String(m.partitions), '-', '-', '-', '-', r.error === null ? '-' : `unreachable: ${r.error}`])
      continue
    }
    const rates = r.before === null ? { ops: NaN, p99: NaN } : { ops: opsPerSecond(r.before, r.now), p99: p99Ms(r.before, r.now) }
    lines.push([
      m.name, m.status, m.state, String(m.partitions),
      show(rates.ops), show(rates.p99, 2),
      show(num(r.now.info, 'hints_pending')), show(num(r.now.info, 'transfers_pending')),
      aeStatus(r.now)
    ])
  }
  return header + table(lines)
}

export async function runTop (o: TopOptions): Promise<number> {
  const clients = new ClusterClients(o.password)
  const last = new Map<string, NodeSample>()
  let stopped = false
  const stop = (): void => { stopped = true }
  process.once('SIGINT', stop)
  try {
    const sampleAll = async (): Promise<TopRow[]> => {
      const members = await clients.members(o.address)
      return await Promise.all(members.map(async (member): Promise<TopRow> => {
        const before = last.get(member.name) ?? null
        if (member.status === 'removed') return { member, before, now: null, error: null }
        try {
          const now = await clients.sample(member.client)
          last.set(member.name, now)
          return { member, before, now, error: null }
        } catch (e) {
          last.delete(member.name)
          return { member, before, now: null, error: (e as Error).message }
        }
      }))
    }
    // A node that cannot be asked for the members makes a frame that says so; the view goes on.
    const frameText = async (): Promise<{ ok: boolean, text: string }> => {
      try {
        return { ok: true, text: renderTop(o.address, await sampleAll(), o.intervalMs) }
      } catch (e) {
        return { ok: false, text: `dynakv top: cannot read the members from ${o.address}: ${(e as Error).message}\n` }
      }
    }
    await frameText()
    let shown = 0
    for (let frame = 0; !stopped && (o.count === 0 || frame < o.count); frame++) {
      await new Promise(resolve => setTimeout(resolve, o.intervalMs))
      if (stopped) break
      const { ok, text } = await frameText()
      if (ok) shown++
      o.out((o.clear ? '\x1b[H\x1b[2J' : frame > 0 ? '\n' : '') + text)
    }
    // Exit 1 only if no frame could be drawn at all.
    return shown > 0 || stopped ? 0 : 1
  } finally {
    process.off('SIGINT', stop)
    clients.close()
  }
}
