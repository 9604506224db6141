// One run, start to end:
//
//   preflight ─ slot ─ namespaces + bridge ─ 5 dynakv hosts, one ring
//     ─ client processes (workloads) ∥ nemesis (schedule)     for timeMs
//     ─ final heal ─ wait for replicas to agree (convergence) ─ final reads
//     through every host ─ hosts stopped, namespaces removed ─ checkers
//
// A results directory per run: history.jsonl, nemesis.jsonl (the timeline),
// nodes/<host>.log, schedule.txt, results.json, plot.svg. Whatever happens
// (an error, a signal, a timeout of the caller), the hosts are killed and the
// namespaces, links and lock removed; a run that was SIGKILLed is swept by the
// next one.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { onExit } from 'signal-exit'
import { decodeContext } from '../lib/versioning/index.js'
import { checkAvailability } from './checkers/availability.js'
import { checkConvergence } from './checkers/convergence.js'
import { verdict, type CheckContext, type CheckResult, type Validity } from './checkers/types.js'
import { NodeClient, fieldsOf } from './client.js'
import { finalReads, runClients } from './driver.js'
import { History } from './history.js'
import { Host, RESP_PORT } from './hosts.js'
import { acquireSlot, cannotRun, createNet, dataDirOf, netemProblem, releaseSlot, sweep } from './net.js'
import { Nemesis } from './nemesis.js'
import { sleep } from './sleep.js'
import { plot } from './plot.js'
import { describePhase, schedule, type FaultKind, type Phase } from './schedule.js'
import { WORKLOADS, type WorkloadName } from './workloads/index.js'
import type { Workload } from './workloads/types.js'

/**
 * How far past its deadline an expired value may still be read: the clock skew
 * between the test hosts (one machine here, so about none) plus the time a read
 * takes in flight, well under a second; docs/types.md "Clock skew" says why the
 * bound is the skew. Runs with the clock nemesis add twice the offset they give.
 */
export const EXPIRY_SKEW_MS = 1000

export interface RunOptions {
  hosts: number
  timeMs: number
  seed: number
  nemesis: FaultKind[]
  combine: boolean
  workloads: WorkloadName[]
  /** Client processes (each bound to host p mod hosts). */
  concurrency: number
  /** Operations per second, all processes together. */
  rate: number
  opTimeoutMs: number
  /** Where the run's directory is made. */
  resultsDir: string
  /** A fault that breaks dynakv on purpose, to show the checkers catch it. */
  mutation: 'lose-hints' | null
  convergeLimitMs: number
  warmupMs: number
  phaseMs: [number, number]
  gapMs: [number, number]
  clockOffsetMsMax: number
  n: number
  r: number
  w: number
  downAfterMs: number
  requestTimeoutMs: number
  aeIntervalMs: number
  /** Progress lines (the nemesis's actions, the summary). */
  log: (line: string) => void
}

export const DEFAULTS: RunOptions = {
  hosts: 5,
  timeMs: 60_000,
  seed: 1,
  nemesis: ['partition', 'kill', 'pause', 'wipe'],
  combine: true,
  workloads: ['set', 'register'],
  concurrency: 10,
  rate: 60,
  opTimeoutMs: 5000,
  resultsDir: 'jepsen/results',
  mutation: null,
  convergeLimitMs: 60_000,
  warmupMs: 3000,
  phaseMs: [8000, 14_000],
  gapMs: [4000, 7000],
  clockOffsetMsMax: 2000,
  n: 3,
  r: 2,
  w: 2,
  downAfterMs: 1000,
  requestTimeoutMs: 1000,
  aeIntervalMs: 1000,
  log: (line) => process.stdout.write(line + '\n')
}

export interface RunResult {
  /** Why the run could not happen here (no namespaces): the caller skips with it. */
  skipped: string | null
  valid: Validity
  dir: string
  seed: number
  schedule: Phase[]
  results: CheckResult[]
  historyOps: number
  convergenceMs: number | null
  /** Hosts of partition-wipe and the like, as the timeline recorded them. */
  phases: CheckContext['phases']
  notes: string[]
}

function nodeArgs (o: RunOptions): string[] {
  return [
    '--n', String(o.n), '--r', String(o.r), '--w', String(o.w), '--partitions', '32',
    '--gossip-interval-ms', '200', '--probe-interval-ms', '200',
    '--down-after-ms', String(o.downAfterMs), '--request-timeout-ms', String(o.requestTimeoutMs),
    '--handoff-interval-ms', '500', '--ae-interval-ms', String(o.aeIntervalMs), '--read-repair-wait-ms', '50',
    '--log-level', 'info'
  ]
}

function stamp (): string {
  return new Date().toISOString().replace(/[:.]/g, '').replace('T', '-').slice(0, 17)
}

export async function run (options: Partial<RunOptions> = {}): Promise<RunResult> {
  const o: RunOptions = { ...DEFAULTS, ...options }
  const names = Array.from({ length: o.hosts }, (_, i) => `n${i + 1}`)
  const phases = schedule({ hosts: names, seed: o.seed, timeMs: o.timeMs, kinds: o.nemesis, combine: o.combine, warmupMs: o.warmupMs, phaseMs: o.phaseMs, gapMs: o.gapMs, clockOffsetMsMax: o.clockOffsetMsMax })
  const dir = join(o.resultsDir, `${stamp()}-seed${o.seed}`)
  const base: RunResult = { skipped: null, valid: 'unknown', dir, seed: o.seed, schedule: phases, results: [], historyOps: 0, convergenceMs: null, phases: [], notes: [] }
  const skip = cannotRun()
  if (skip !== null) return { ...base, skipped: skip }
  const notes = base.notes
  const netem = o.nemesis.includes('slow') ? netemProblem() : null
  if (o.nemesis.includes('slow')) notes.push(netem === null ? 'slow links: tc netem' : `slow links: ${netem}; using dynakv's DEBUG FAULT DELAY on peer requests instead`)
  mkdirSync(join(dir, 'nodes'), { recursive: true })
  const planned = [`seed ${o.seed}, ${o.hosts} hosts, ${o.timeMs / 1000} s, workloads ${o.workloads.join(',')}, nemesis ${o.nemesis.join(',') || 'none'}${o.combine && o.nemesis.length > 1 ? ' (combined)' : ''}${o.mutation === null ? '' : `, MUTATION ${o.mutation}`}`, ...phases.map(describePhase)]
  writeFileSync(join(dir, 'schedule.txt'), planned.join('\n') + '\n')
  for (const l of planned) o.log(l)
  for (const n of notes) o.log(n)

  const slot = acquireSlot()
  const dataDir = dataDirOf(slot)
  let hosts: Host[] = []
  // Synchronous: it runs on exit too. The sweep takes whatever of the slot exists, even half a createNet.
  const cleanup = (): void => {
    for (const h of hosts) h.killNow()
    sweep(slot)
    releaseSlot(slot)
  }
  const removeExitHook = onExit(() => { cleanup() })
  const clients: NodeClient[] = []
  // Written out even when the run fails half way: what happened up to there.
  const history = new History(join(dir, 'history.jsonl'))
  const timeline: string[] = []
  try {
    const n = createNet(slot, names)
    hosts = n.hosts.map(h => new Host(h, join(dataDir, h.name), join(dir, 'nodes', `${h.name}.log`), nodeArgs(o)))
    await hosts[0].start(null)
    await Promise.all(hosts.slice(1).map(h => h.start(n.hosts[0])))
    const admin = new Map(n.hosts.map(h => [h.name, new NodeClient(h.name, h.addr, RESP_PORT, 15_000)]))
    clients.push(...admin.values())
    await ringConverged(admin, o.hosts)
    if (o.mutation === 'lose-hints') {
      for (const c of admin.values()) await expectOk(c, ['DEBUG', 'FAULT', 'LOSE-HINTS'])
    }
    const workloads: Workload[] = o.workloads.map(w => WORKLOADS[w]())
    const nemesis = new Nemesis({
      net: n,
      hosts,
      history,
      admin,
      hotKey: () => workloads[0].hotKey(),
      endMs: o.timeMs,
      netem: netem === null && o.nemesis.includes('slow'),
      timeline: (e) => timeline.push(JSON.stringify(e)),
      log: o.log
    })
    // The clients stop at --time, or when the last phase is a partition-wipe, when it ends (run() calls quiesce).
    const anchored = phases[phases.length - 1]?.faults.some(f => f.kind === 'partition-wipe') === true
    let stopped = false
    const endpoints = n.hosts.map(h => ({ name: h.name, host: h.addr, port: RESP_PORT }))
    const clientsDone = runClients({ endpoints, workloads, history, running: () => !stopped && (anchored || history.now() < o.timeMs), concurrency: o.concurrency, rate: o.rate, opTimeoutMs: o.opTimeoutMs, seed: o.seed, clients })
    try {
      await nemesis.run(phases, async () => {
        stopped = true
        await clientsDone
      })
    } catch (e) {
      stopped = true
      await clientsDone
      throw e
    }
    await clientsDone
    await nemesis.healAll()
    const healedMs = history.now()
    const snapshot: ReplicaSnapshot = {}
    const convergenceMs = await converge(admin, workloads, o.convergeLimitMs, history, healedMs, snapshot)
    const truncations = Object.fromEntries(await Promise.all([...admin].map(async ([name, c]) => [name, infoField(await expectOk(c, ['INFO', 'everything']) as string, 'vclock_truncations')])))
    writeFileSync(join(dir, 'replicas.json'), JSON.stringify({ vclockTruncations: truncations, keys: snapshot }, null, 1))
    o.log(convergenceMs === null ? `replicas did not agree within ${o.convergeLimitMs} ms` : `replicas agreed ${convergenceMs} ms after the final heal`)
    timeline.push(JSON.stringify({ time: history.now(), event: convergenceMs === null ? 'not-converged' : 'converged', convergenceMs }))
    await finalReads(endpoints, workloads, history)
    for (const c of clients) c.close()
    await Promise.all(hosts.map(h => h.stop()))
    for (const h of hosts) h.closeLog()

    const ctx: CheckContext = {
      hosts: names,
      n: o.n,
      r: o.r,
      w: o.w,
      phases: nemesis.phases,
      convergenceMs,
      detectMs: o.downAfterMs + 2 * o.requestTimeoutMs,
      expirySkewMs: EXPIRY_SKEW_MS + (o.nemesis.includes('clock') ? 2 * o.clockOffsetMsMax : 0)
    }
    const results = [
      ...workloads.flatMap(w => w.check(history.ops, ctx)),
      checkConvergence(ctx, o.convergeLimitMs),
      checkAvailability(history.ops, ctx)
    ]
    const valid = verdict(results)
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ valid, seed: o.seed, options: { ...o, log: undefined }, notes, phases: nemesis.phases, results }, null, 2))
    writeFileSync(join(dir, 'plot.svg'), plot(history.ops, nemesis.phases, `dynakv jepsen: ${o.workloads.join(', ')} | ${o.nemesis.join(', ')} | seed ${o.seed} | ${valid === true ? 'valid' : valid === false ? 'INVALID' : 'unknown'}`, healedMs))
    for (const r of results) o.log(`${r.valid === true ? 'ok  ' : r.valid === false ? 'FAIL' : '??  '} ${r.checker}${r.workload === null ? '' : ` (${r.workload})`}: ${r.summary}`)
    o.log(`${valid === true ? 'valid' : valid === false ? 'INVALID' : 'unknown'}: ${history.ops.length} history entries in ${dir}`)
    return { ...base, valid, results, historyOps: history.ops.length, convergenceMs, phases: nemesis.phases }
  } finally {
    history.flush()
    writeFileSync(join(dir, 'nemesis.jsonl'), timeline.join('\n') + '\n')
    for (const c of clients) c.close()
    await Promise.all(hosts.map(h => h.stop(2000).catch(() => {})))
    cleanup()
    removeExitHook()
  }
}

function infoField (info: string, field: string): number {
  return Number(new RegExp(`^${field}:(\\S+)`, 'm').exec(info)?.[1] ?? NaN)
}

async function expectOk (c: NodeClient, args: string[]): Promise<unknown> {
  const r = await c.call(args, 'read')
  if (r.type !== 'ok') throw new Error(`${c.node}: ${args.join(' ')}: ${r.error}`)
  return r.value
}

/** Until every host reports one converged ring of all hosts. */
async function ringConverged (admin: Map<string, NodeClient>, members: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const all = await Promise.all([...admin.values()].map(async c => fieldsOf(await expectOk(c, ['RING', 'STATUS']))))
      last = JSON.stringify(all.map(s => [s.node, s.members, s.converged]))
      if (all.every(s => s.converged === 'yes' && Number(s.members) === members) && new Set(all.map(s => s.membership_digest)).size === 1) return
    } catch (e) {
      last = (e as Error).message
    }
    await sleep(200)
  }
  throw new Error(`the ring did not converge on ${members} members (peer traffic between the namespaces blocked?): ${last}`)
}

/** Each primary's copy of a key: its clock (actor → counter) and its siblings (DEBUG REPLICA). */
export type ReplicaSnapshot = Record<string, Record<string, { clock: Record<string, number>, siblings: string[] } | null>>

/**
 * Until, for every key, every primary holds the same versions (DEBUG REPLICA)
 * and no host holds hints: ms since the heal, or null past the limit. The last
 * look at the replicas is kept in `snapshot` (replicas.json: what to read when
 * a checker fails).
 */
async function converge (admin: Map<string, NodeClient>, workloads: Workload[], limitMs: number, history: History, healedMs: number, snapshot: ReplicaSnapshot): Promise<number | null> {
  const any = [...admin.values()][0]
  const keys = workloads.flatMap(w => w.keys())
  const owners = new Map<string, string[]>()
  for (const key of keys) {
    const lines = await expectOk(any, ['RING', 'OWNERS', key]) as string[]
    owners.set(key, lines.filter(l => l.split(' ')[2] === 'primary').map(l => l.split(' ')[0]))
  }
  while (history.now() - healedMs < limitMs) {
    let agreed = true
    try {
      for (const c of admin.values()) {
        if (Number(fieldsOf(await expectOk(c, ['RING', 'STATUS'])).hints_pending) !== 0) agreed = false
      }
      for (const key of keys) {
        const seen = new Set<string>()
        snapshot[key] = {}
        for (const p of owners.get(key) ?? []) {
          const r = await expectOk(admin.get(p) as NodeClient, ['DEBUG', 'REPLICA', key]) as [string, string[], string[], number] | null
          const siblings = r === null ? [] : r[2].slice().sort()
          snapshot[key][p] = r === null ? null : { clock: Object.fromEntries([...decodeContext(r[0], key)].map(([a, e]) => [a, e.counter])), siblings }
          seen.add(JSON.stringify(siblings))
        }
        if (seen.size > 1) agreed = false
      }
    } catch {
      agreed = false
    }
    if (agreed) return Math.round(history.now() - healedMs)
    await sleep(250)
  }
  return null
}
