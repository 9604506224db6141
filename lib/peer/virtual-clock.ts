// Virtual time for the simulator: the TimeSource interface over a queue of timers
// that runs only when told to. Deterministic: timers run in order of due time,
// ties in the order they were scheduled, and defer(fn) is a timer due now.
//
// Promise continuations (async handlers, awaits in node code) run between two
// timers: advance(), runUntilIdle() and runUntilSettled() yield to the event
// loop (settleRounds setImmediate turns) after every timer, before virtual
// time moves on. step() runs one timer without yielding.

import type { TimeSource, Timer } from '../runtime/clock.js'

interface Entry {
  atMs: number
  seq: number
  fn: () => void
  cancelled: boolean
}

export interface VirtualClockOptions {
  /** now() at the start; default 0. */
  startMs?: number
  /** Bound on timers scheduled at once; scheduling past it throws (a runaway loop). Default 1,000,000. */
  timersMax?: number
  /** Event-loop turns given to promise continuations after each timer. Default 2. */
  settleRounds?: number
}

export const VIRTUAL_STEPS_MAX_DEFAULT = 1_000_000

export class VirtualClock implements TimeSource {
  private nowMs: number
  private seq = 0
  private readonly heap: Entry[] = []
  private live = 0
  private readonly timersMax: number
  private readonly settleRounds: number

  constructor (opts: VirtualClockOptions = {}) {
    this.nowMs = opts.startMs ?? 0
    this.timersMax = opts.timersMax ?? 1_000_000
    this.settleRounds = opts.settleRounds ?? 2
  }

  now (): number {
    return this.nowMs
  }

  after (delayMs: number, fn: () => void): Timer {
    if (this.heap.length >= this.timersMax) this.compact()
    if (this.heap.length >= this.timersMax) throw new RangeError(`virtual clock: more than ${this.timersMax} timers scheduled`)
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0
    const entry: Entry = { atMs: this.nowMs + delay, seq: this.seq++, fn, cancelled: false }
    this.push(entry)
    this.live++
    return {
      cancel: () => {
        if (entry.cancelled) return
        entry.cancelled = true
        this.live--
      }
    }
  }

  defer (fn: () => void): void {
    this.after(0, fn)
  }

  /** A microtask, as on real time: deterministic, and no virtual time passes. */
  soon (fn: () => void): void {
    queueMicrotask(fn)
  }

  /** Timers scheduled and not yet run or cancelled. */
  get pending (): number {
    return this.live
  }

  /** When the next timer is due, or null when none is. */
  nextAtMs (): number | null {
    this.dropCancelledTop()
    return this.heap.length === 0 ? null : this.heap[0].atMs
  }

  /** Runs the next timer, moving time to when it is due; false when none is scheduled. */
  step (): boolean {
    this.dropCancelledTop()
    const entry = this.pop()
    if (entry === undefined) return false
    entry.cancelled = true
    this.live--
    if (entry.atMs > this.nowMs) this.nowMs = entry.atMs
    entry.fn()
    return true
  }

  /** Runs every timer due within ms from now, in order, then sets now() to now + ms. */
  async advance (ms: number, stepsMax = VIRTUAL_STEPS_MAX_DEFAULT): Promise<void> {
    const target = this.nowMs + Math.max(0, ms)
    await this.settle()
    for (let steps = 0; ; steps++) {
      if (steps >= stepsMax) throw new RangeError(`virtual clock: advance took more than ${stepsMax} steps`)
      const next = this.nextAtMs()
      if (next === null || next > target) break
      this.step()
      await this.settle()
    }
    if (target > this.nowMs) this.nowMs = target
  }

  /** Runs timers until none is left. Periodic timers never let this end: use advance() or runUntilSettled(). */
  async runUntilIdle (stepsMax = VIRTUAL_STEPS_MAX_DEFAULT): Promise<void> {
    await this.settle()
    for (let steps = 0; this.step(); steps++) {
      if (steps >= stepsMax) throw new RangeError(`virtual clock: not idle after ${stepsMax} steps`)
      await this.settle()
    }
  }

  /** Runs timers until promise settles, and returns (or throws) its outcome. */
  async runUntilSettled<T> (promise: Promise<T>, stepsMax = VIRTUAL_STEPS_MAX_DEFAULT): Promise<T> {
    let settled = false
    const watched = promise.finally(() => { settled = true })
    watched.catch(() => {})
    await this.settle()
    for (let steps = 0; !settled; steps++) {
      if (steps >= stepsMax) throw new RangeError(`virtual clock: promise not settled after ${stepsMax} steps`)
      if (!this.step()) break
      await this.settle()
    }
    if (!settled) throw new Error('virtual clock: idle, and the promise never settled')
    return await watched
  }

  /** Lets promise continuations run without moving time. */
  async settle (): Promise<void> {
    for (let i = 0; i < this.settleRounds; i++) await new Promise<void>(resolve => setImmediate(resolve))
  }

  // ---- binary min-heap on (atMs, seq) ----

  private dropCancelledTop (): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop()
  }

  private compact (): void {
    const keep = this.heap.filter(e => !e.cancelled)
    this.heap.length = 0
    for (const e of keep) this.push(e)
  }

  private push (entry: Entry): void {
    const heap = this.heap
    heap.push(entry)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i], heap[parent])) break
      ;[heap[i], heap[parent]] = [heap[parent], heap[i]]
      i = parent
    }
  }

  private pop (): Entry | undefined {
    const heap = this.heap
    if (heap.length === 0) return undefined
    const top = heap[0]
    const last = heap.pop() as Entry
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let min = i
        if (l < heap.length && before(heap[l], heap[min])) min = l
        if (r < heap.length && before(heap[r], heap[min])) min = r
        if (min === i) break
        ;[heap[i], heap[min]] = [heap[min], heap[i]]
        i = min
      }
    }
    return top
  }
}

function before (a: Entry, b: Entry): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq)
}
