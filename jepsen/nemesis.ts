// Runs a schedule (schedule.ts) against the hosts: starts each phase's faults
// at its time, undoes them at its end, and settles after a wipe. Every action
// goes to the timeline (nemesis.jsonl) and, as a nemesis op, to the history;
// the phases as they really ran (times, partition, hosts down) are kept for
// the checkers and the plot.
import { WRITE_FS } from './checkers/availability.js'
import type { PhaseRecord } from './checkers/types.js'
import { fieldsOf, type NodeClient, type Outcome } from './client.js'
import type { History } from './history.js'
import type { Host } from './hosts.js'
import { applyGrudge, netemDelay, type Net } from './net.js'
import { complete, type Grudge } from './partitions.js'
import { describeFault, type Fault, type Phase } from './schedule.js'
import { sleep } from './sleep.js'

const SETTLE_TIMEOUT_MS = 30_000
/** partition-wipe kills its primary this far into the phase, or later, up to WIPE_LATEST. */
const WIPE_AT = 0.6
const WIPE_LATEST = 0.9

export interface NemesisDeps {
  net: Net
  hosts: Host[]
  history: History
  /** An admin client per host. */
  admin: Map<string, NodeClient>
  /** The key partition-wipe aims at. */
  hotKey: () => string
  /** When the workload is planned to stop (history time). */
  endMs: number
  /** Slow links by tc netem (else DEBUG FAULT DELAY on the nodes' peer requests). */
  netem: boolean
  timeline: (event: Record<string, unknown>) => void
  log: (line: string) => void
}

export class Nemesis {
  readonly phases: PhaseRecord[] = []

  constructor (private readonly d: NemesisDeps) {}

  private host (name: string): Host {
    const h = this.d.hosts.find(x => x.name === name)
    if (h === undefined) throw new Error(`no host ${name}`)
    return h
  }

  async call (host: string, args: string[]): Promise<Outcome> {
    const c = this.d.admin.get(host)
    if (c === undefined) throw new Error(`no admin client for ${host}`)
    return await c.call(args, 'read')
  }

  private event (what: string, detail: Record<string, unknown>): void {
    const time = this.d.history.now()
    this.d.timeline({ time, event: what, ...detail })
    this.d.history.add({ process: 'nemesis', type: 'info', f: what, value: detail })
    this.d.log(`${(time / 1000).toFixed(1).padStart(6)}s nemesis ${what} ${String(detail.description ?? '')}`)
  }

  /** A running host other than `name`, for --join. */
  private joinFor (name: string): Host | null {
    return this.d.hosts.find(h => h.name !== name && h.running && !h.paused) ?? null
  }

  private async restart (h: Host): Promise<void> {
    if (h.running) return
    await h.start(this.joinFor(h.name)?.net ?? null)
  }

  /**
   * Runs the phases at their times. Restarts are slow on a busy machine, so
   * phases slip; a phase that cannot have half its length before its limit is
   * skipped. The limit is the workload's end, or, when the last phase is a
   * partition-wipe, that phase's planned start: it always runs, for its whole
   * length from when it really starts (the workload waits for it), and before
   * it is undone quiesce() stops the clients and waits for their operations:
   * what the final heal brings back is judged by the final reads alone.
   */
  async run (phases: readonly Phase[], quiesce: () => Promise<void>): Promise<void> {
    const final = phases[phases.length - 1]
    const anchored = final?.faults.some(f => f.kind === 'partition-wipe') === true
    for (let i = 0; i < phases.length; i++) {
      const p = phases[i]
      await sleep(p.startMs - this.d.history.now())
      const now = this.d.history.now()
      const lengthMs = p.endMs - p.startMs
      if (anchored && i === phases.length - 1) {
        await this.runPhase(i, p, { lengthMs }, quiesce)
        continue
      }
      const limit = anchored ? final.startMs : this.d.endMs
      if (now + lengthMs / 2 > limit) {
        this.event('skip', { phase: i, description: `${p.faults.map(describeFault).join(' + ')}: ${Math.round(now - p.startMs)} ms late` })
        continue
      }
      await this.runPhase(i, p, { atMs: Math.min(Math.max(p.endMs, now + lengthMs / 2), limit) }, null)
    }
  }

  /**
   * One phase, then undone: until end.atMs, or for end.lengthMs once its
   * faults are in force. The last one (quiesce given) stops the workload
   * first, and needs no settle (the final heal and convergence follow).
   */
  private async runPhase (index: number, p: Phase, end: { atMs: number } | { lengthMs: number }, quiesce: (() => Promise<void>) | null): Promise<void> {
    const lengthMs = 'lengthMs' in end ? end.lengthMs : end.atMs - this.d.history.now()
    const rec: PhaseRecord = { index, startMs: this.d.history.now(), endMs: 0, grudge: null, down: [], kinds: p.faults.map(f => f.kind), description: p.faults.map(describeFault).join(' + ') }
    const undo: Array<() => Promise<void>> = []
    let wiped = false
    const descriptions: string[] = []
    for (const f of p.faults) {
      const { grudge, down, wipes, end: stop, description } = await this.begin(f, rec, lengthMs)
      if (grudge !== null) rec.grudge = grudge
      rec.down.push(...down)
      wiped ||= wipes
      undo.push(stop)
      descriptions.push(description)
      this.event('start', { phase: index, description, fault: f.kind, grudge, down })
    }
    rec.description = descriptions.join(' + ')
    this.phases.push(rec)
    await sleep(('atMs' in end ? end.atMs : this.d.history.now() + lengthMs) - this.d.history.now())
    if (quiesce !== null) await quiesce()
    await Promise.all(undo.map(end => end()))
    rec.endMs = this.d.history.now()
    this.event('end', { phase: index, description: rec.description })
    if (wiped && quiesce === null) await this.settle()
  }

  /** Starts one fault: what it does to the phase, and how to undo it. */
  private async begin (f: Fault, rec: PhaseRecord, lengthMs: number): Promise<{ grudge: Grudge | null, down: string[], wipes: boolean, end: () => Promise<void>, description: string }> {
    const description = describeFault(f)
    const nothing = { grudge: null, down: [], wipes: false, description }
    switch (f.kind) {
      case 'partition':
        await applyGrudge(this.d.net, f.grudge)
        return { ...nothing, grudge: f.grudge, end: () => applyGrudge(this.d.net, {}) }
      case 'kill':
        await Promise.all(f.hosts.map(h => this.host(h).kill()))
        return { ...nothing, down: f.hosts, end: async () => { await Promise.all(f.hosts.map(h => this.restart(this.host(h)))) } }
      case 'pause':
        await Promise.all(f.hosts.map(h => this.host(h).signal('SIGSTOP')))
        return { ...nothing, down: f.hosts, end: async () => { await Promise.all(f.hosts.map(h => this.host(h).signal('SIGCONT'))) } }
      case 'wipe': {
        const h = this.host(f.host)
        await h.kill()
        h.wipe()
        return { ...nothing, down: [f.host], wipes: true, end: () => this.restart(h) }
      }
      case 'clock': {
        const reclock = async (offsets: Record<string, number>): Promise<void> => {
          await Promise.all(Object.entries(offsets).map(async ([name, ms]) => {
            const h = this.host(name)
            await h.kill()
            h.clockOffsetMs = ms
            await this.restart(h)
          }))
        }
        await reclock(f.offsetsMs)
        return { ...nothing, down: Object.keys(f.offsetsMs), end: () => reclock(Object.fromEntries(Object.keys(f.offsetsMs).map(h => [h, 0]))) }
      }
      case 'slow': {
        const delay = async (ms: number): Promise<void> => {
          await Promise.all(f.hosts.map(h => this.d.netem ? netemDelay(this.d.net, h, ms) : this.call(h, ['DEBUG', 'FAULT', 'DELAY', String(ms)])))
        }
        await delay(f.delayMs)
        return { ...nothing, description: `${description} (${this.d.netem ? 'tc netem' : 'DEBUG FAULT DELAY'})`, end: () => delay(0) }
      }
      case 'partition-wipe':
        return await this.partitionWipe(rec, lengthMs)
    }
  }

  /**
   * A key's first primary A and a host B that is not one of its replicas, cut
   * off together: writes through them are acknowledged by A and a hint on B.
   * A is killed and wiped at 60 % of the phase, or later (up to 90 %) until
   * the cut-off side has acknowledged a write of the key (failure detection is
   * slow on a busy machine: those writes are what the phase is about). At the
   * end the partition heals and A comes back empty: B's hints are then the
   * only copy of those writes.
   */
  private async partitionWipe (rec: PhaseRecord, lengthMs: number): Promise<{ grudge: Grudge, down: string[], wipes: boolean, end: () => Promise<void>, description: string }> {
    const key = this.d.hotKey()
    const names = this.d.hosts.map(h => h.name)
    const owners = await this.call(names[0], ['RING', 'OWNERS', key])
    if (owners.type !== 'ok') throw new Error(`partition-wipe: RING OWNERS ${key}: ${owners.error}`)
    const primaries = (owners.value as string[]).filter(l => l.split(' ')[2] === 'primary').map(l => l.split(' ')[0])
    const a = primaries[0]
    const b = names.find(n => !primaries.includes(n))
    if (a === undefined || b === undefined) throw new Error(`partition-wipe: ${key} has primaries ${primaries.join(',')}: no host outside them`)
    const grudge = complete([[a, b], names.filter(n => n !== a && n !== b)])
    await applyGrudge(this.d.net, grudge)
    const cutMs = this.d.history.now()
    const host = this.host(a)
    const target = { key, primary: a, partner: b, wipedMs: null as number | null }
    rec.partitionWipe = target
    const wipe = (async () => {
      await sleep(cutMs + WIPE_AT * lengthMs - this.d.history.now())
      while (this.d.history.now() < cutMs + WIPE_LATEST * lengthMs && !this.writeAcknowledged(key, [a, b], cutMs)) await sleep(200)
      await host.kill()
      host.wipe()
      target.wipedMs = this.d.history.now()
      this.event('wipe', { description: `kill -9 and wipe ${a} (primary of ${key}), still cut off with ${b}`, host: a })
    })()
    return {
      grudge,
      down: [a],
      wipes: true,
      description: `partition-wipe: ${key} (primaries ${primaries.join(',')}): ${a} and ${b} cut off, ${a} wiped at ${Math.round(WIPE_AT * 100)}-${Math.round(WIPE_LATEST * 100)}%`,
      end: async () => {
        await wipe
        await applyGrudge(this.d.net, {})
        await this.restart(host)
      }
    }
  }

  /**
   * After a wipe: until every host's hints are delivered (bounded), then two
   * anti-entropy rounds on every host, so the wiped host holds its data again
   * before the next wipe.
   */
  private async settle (): Promise<void> {
    const began = this.d.history.now()
    const deadline = Date.now() + SETTLE_TIMEOUT_MS
    let drained = false
    while (!drained && Date.now() < deadline) {
      const hints = await Promise.all(this.d.hosts.map(async h => {
        const s = await this.call(h.name, ['RING', 'STATUS'])
        return s.type === 'ok' ? Number(fieldsOf(s.value).hints_pending) : Infinity
      }))
      drained = hints.every(n => n === 0)
      if (!drained) await sleep(250)
    }
    const drainedMs = Math.round(this.d.history.now() - began)
    for (let round = 0; round < 2; round++) {
      await Promise.all(this.d.hosts.map(h => this.call(h.name, ['DEBUG', 'AE-ROUND'])))
    }
    this.event('settled', { description: `${drained ? `hints delivered in ${drainedMs} ms` : 'hints still pending'}, anti-entropy rounds done at ${Math.round(this.d.history.now() - began)} ms` })
  }

  /** Whether a write of key through one of hosts was acknowledged since a time (the history, read backwards). */
  private writeAcknowledged (key: string, hosts: readonly string[], sinceMs: number): boolean {
    const ops = this.d.history.ops
    for (let i = ops.length - 1; i >= 0 && ops[i].time >= sinceMs; i--) {
      const o = ops[i]
      if (o.type === 'ok' && o.key === key && WRITE_FS.has(o.f) && hosts.includes(o.node ?? '')) return true
    }
    return false
  }

  /** Undoes whatever may still be in force: partitions, pauses, delays, hosts down. */
  async healAll (): Promise<void> {
    await applyGrudge(this.d.net, {})
    for (const h of this.d.hosts) {
      if (h.paused) await h.signal('SIGCONT')
    }
    for (const h of this.d.hosts) await this.restart(h)
    for (const h of this.d.hosts) {
      if (this.d.netem) await netemDelay(this.d.net, h.name, 0)
      else await this.call(h.name, ['DEBUG', 'FAULT', 'DELAY', '0'])
    }
    this.event('final-heal', { description: 'every partition healed, every host up' })
  }
}
