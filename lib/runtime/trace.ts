// Spans of the node's periodic work (anti-entropy, sweep, gossip, handoff) on a
// diagnostics channel, for bench/stalls.ts (docs/performance.md, "The open-loop
// tail"): with no subscriber, traced() is one property read and a direct call.
import { channel } from 'node:diagnostics_channel'

/** What a subscriber of TASK_CHANNEL receives: one finished span (ms, performance.now() of this process). */
export interface TaskSpan {
  name: string
  startMs: number
  endMs: number
}

export const TASK_CHANNEL = 'dynakv:task'
const tasks = channel(TASK_CHANNEL)

/** Runs fn, and publishes its span (to its promise's settling) when someone listens. */
export function traced<T> (name: string, fn: () => T): T {
  if (!tasks.hasSubscribers) return fn()
  const startMs = performance.now()
  const done = (): void => { tasks.publish({ name, startMs, endMs: performance.now() } satisfies TaskSpan) }
  const out = fn()
  if (out instanceof Promise) out.then(done, done)
  else done()
  return out
}
