// Time as an interface, so the node runtime runs on real time in production and
// on virtual time in the simulator (spec/sim), where the same seed replays the
// same history. A TimeSource, not a "clock": in lib/versioning a Clock is a
// version vector.

export interface Timer {
  cancel (): void
}

export interface TimeSource {
  /** Milliseconds since the epoch (real) or since the simulation began (virtual). */
  now (): number
  /** Runs fn once after delayMs. */
  after (delayMs: number, fn: () => void): Timer
  /** Runs fn after the current I/O callbacks have been processed (setImmediate). */
  defer (fn: () => void): void
  /**
   * Runs fn once the current task and its promise continuations are done (a
   * microtask): coalesces what one event produces without waiting for the
   * rest of the event loop turn. No time passes, so virtual clocks use it too.
   */
  soon (fn: () => void): void
}

export const realClock: TimeSource = {
  now: () => Date.now(),
  after (delayMs, fn) {
    const t = setTimeout(fn, delayMs)
    t.unref()
    return { cancel: () => clearTimeout(t) }
  },
  defer (fn) {
    setImmediate(fn)
  },
  soon (fn) {
    queueMicrotask(fn)
  }
}

/** base with its wall clock shifted by offsetMs (--clock-offset-ms: a skewed node in tests); timers are unchanged. */
export function shiftedClock (base: TimeSource, offsetMs: number): TimeSource {
  if (offsetMs === 0) return base
  return { ...base, now: () => base.now() + offsetMs }
}

/** Repeats fn every intervalMs until the returned timer is cancelled; fn's returned promise is awaited between runs. */
export function every (clock: TimeSource, intervalMs: number, fn: () => unknown): Timer {
  let cancelled = false
  let timer: Timer | null = null
  const schedule = (): void => {
    if (cancelled) return
    timer = clock.after(intervalMs, () => {
      Promise.resolve().then(fn).catch(() => {}).finally(schedule)
    })
  }
  schedule()
  return {
    cancel () {
      cancelled = true
      timer?.cancel()
    }
  }
}
