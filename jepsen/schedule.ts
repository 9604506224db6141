// The nemesis schedule: phases of faults separated by quiet gaps, drawn from a
// seed before the run starts and printed, so a run can be replayed with
// `--seed`. Pure: the hosts' names and the seed in, the phases out.
//
//   warm-up │ phase ─ faults ─ │ gap (heal, restart, settle) │ phase │ ... │ final heal
//
//   partition       one of the partitions.ts topologies
//   kill            kill -9 one or two hosts; restarted at the phase's end
//   pause           SIGSTOP one or two hosts; SIGCONT at the end
//   wipe            kill -9 one host and delete its data directory (kv679);
//                   restarted empty at the end
//   clock           restart one or two hosts with --clock-offset-ms; back to 0 at the end
//   slow            delay the peer traffic of some hosts (tc netem, or DEBUG FAULT DELAY)
//   partition-wipe  the run's last phase, ending at the final heal: a workload
//                   key's first primary (chosen when the phase starts) and one host that is not a replica of it are cut off
//                   together; writes there are acknowledged by that primary and a
//                   hint on the other host; then the primary is killed and wiped.
//                   After healing, the hint is the only copy of those writes.
//
// Every kind runs once before any kind runs twice. With combine, a phase may
// hold two kinds at once. At most two hosts are down
// (killed, paused or wiped) at a time, and a wipe is always followed by a
// settle (hints delivered, anti-entropy rounds) before the next one: Dynamo
// keeps W copies of a write and promises nothing once all of them are gone.
import { seededRandom, type Random } from '../lib/runtime/random.js'
import { TOPOLOGIES, grudge, reach, shuffled, type Grudge, type Topology } from './partitions.js'

export const FAULT_KINDS = ['partition', 'kill', 'pause', 'wipe', 'clock', 'slow', 'partition-wipe'] as const
export type FaultKind = typeof FAULT_KINDS[number]

export type Fault =
  | { kind: 'partition', topology: Topology, grudge: Grudge }
  | { kind: 'kill', hosts: string[] }
  | { kind: 'pause', hosts: string[] }
  | { kind: 'wipe', host: string }
  | { kind: 'clock', offsetsMs: Record<string, number> }
  | { kind: 'slow', hosts: string[], delayMs: number }
  | { kind: 'partition-wipe' }

export interface Phase {
  startMs: number
  endMs: number
  faults: Fault[]
}

export interface ScheduleOptions {
  hosts: readonly string[]
  seed: number
  /** The workload's length; the last phase ends by then. */
  timeMs: number
  kinds: readonly FaultKind[]
  /** Two kinds in one phase, sometimes. */
  combine: boolean
  warmupMs: number
  phaseMs: readonly [number, number]
  gapMs: readonly [number, number]
  /** Largest clock offset a clock fault sets. */
  clockOffsetMsMax: number
}

const DOWN_MAX = 2

function between (rng: Random, [lo, hi]: readonly [number, number]): number {
  return lo + rng.int(hi - lo + 1)
}

/**
 * The faults of one phase: one kind, or with combine sometimes two. The first
 * kind comes from a bag holding every kind once, refilled when empty: every
 * kind runs once before any runs twice.
 */
function pickFaults (o: ScheduleOptions, rng: Random, bag: FaultKind[]): Fault[] {
  const pool = o.kinds.filter(k => k !== 'partition-wipe')
  if (pool.length === 0) return []
  if (bag.length === 0) bag.push(...shuffled(pool, rng))
  const kinds = [bag.pop() as FaultKind]
  if (o.combine && pool.length > 1 && rng.next() < 0.35) {
    const others = pool.filter(k => k !== kinds[0])
    kinds.push(others[rng.int(others.length)])
  }
  const free = shuffled(o.hosts, rng)
  let down = 0
  const take = (n: number): string[] => free.splice(0, n)
  const faults: Fault[] = []
  for (const kind of kinds) {
    switch (kind) {
      case 'partition': {
        const topology = TOPOLOGIES[rng.int(TOPOLOGIES.length)]
        faults.push({ kind, topology, grudge: grudge(topology, o.hosts, rng) })
        break
      }
      case 'kill':
      case 'pause': {
        const n = Math.min(DOWN_MAX - down, rng.next() < 0.3 ? 2 : 1)
        if (n <= 0) break
        down += n
        faults.push({ kind, hosts: take(n) })
        break
      }
      case 'wipe':
        if (down >= DOWN_MAX) break
        down++
        faults.push({ kind, host: take(1)[0] })
        break
      case 'clock': {
        const offsetsMs: Record<string, number> = {}
        for (const h of take(rng.next() < 0.5 ? 2 : 1)) {
          const size = Math.round(o.clockOffsetMsMax * (0.25 + 0.75 * rng.next()))
          offsetsMs[h] = rng.next() < 0.5 ? -size : size
        }
        faults.push({ kind, offsetsMs })
        break
      }
      case 'slow':
        faults.push({ kind, hosts: shuffled(o.hosts, rng).slice(0, 1 + rng.int(o.hosts.length)), delayMs: 20 * (1 + rng.int(15)) })
        break
    }
  }
  return faults
}

export function schedule (o: ScheduleOptions): Phase[] {
  const rng = seededRandom(o.seed)
  const phases: Phase[] = []
  let end = o.timeMs
  let last: Phase | null = null
  if (o.kinds.includes('partition-wipe')) {
    const d = Math.min(between(rng, o.phaseMs) + 5000, o.timeMs - o.warmupMs)
    last = { startMs: o.timeMs - d, endMs: o.timeMs, faults: [{ kind: 'partition-wipe' }] }
    end = last.startMs - between(rng, o.gapMs)
  }
  let t = o.warmupMs
  const bag: FaultKind[] = []
  for (let guard = 0; guard < 10_000; guard++) {
    const d = between(rng, o.phaseMs)
    if (t + Math.min(d, o.phaseMs[0]) > end) break
    const faults = pickFaults(o, rng, bag)
    if (faults.length === 0) break
    phases.push({ startMs: t, endMs: Math.min(t + d, end), faults })
    t += d + between(rng, o.gapMs)
  }
  if (last !== null) phases.push(last)
  return phases
}

/** Sides (a | b) when the grudge cuts the hosts both ways into groups that hear only each other, else who drops whom. */
export function describeGrudge (g: Grudge): string {
  const hosts = Object.keys(g).sort()
  const sides = new Map<string, string[]>()
  for (const h of hosts) {
    const side = reach(g, hosts, h).join(',')
    sides.set(side, [...(sides.get(side) ?? []), h])
  }
  const symmetric = hosts.every(a => g[a].every(b => g[b]?.includes(a)))
  if (symmetric && [...sides].every(([side, members]) => side === members.join(','))) return [...sides.keys()].join(' | ')
  return hosts.filter(h => g[h].length > 0).map(h => `${h} drops ${[...g[h]].sort().join(',')}`).join('; ')
}

export function describeFault (f: Fault): string {
  switch (f.kind) {
    case 'partition':
      return `partition ${f.topology} ${describeGrudge(f.grudge)}`
    case 'kill':
    case 'pause':
      return `${f.kind} ${f.hosts.join(',')}`
    case 'wipe':
      return `wipe ${f.host}`
    case 'clock':
      return `clock ${Object.entries(f.offsetsMs).map(([h, ms]) => `${h}${ms >= 0 ? '+' : ''}${ms}ms`).join(' ')}`
    case 'slow':
      return `slow ${f.hosts.join(',')} +${f.delayMs}ms`
    case 'partition-wipe':
      return 'partition-wipe (around the primary of a workload key)'
  }
}

export function describePhase (p: Phase): string {
  const s = (ms: number): string => (ms / 1000).toFixed(1)
  return `${s(p.startMs).padStart(6)}s-${s(p.endMs).padStart(6)}s  ${p.faults.map(describeFault).join(' + ')}`
}
