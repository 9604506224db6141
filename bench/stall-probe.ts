// Preloaded into a dynakv server by bench/stalls.ts (`node --import`): records
// what may stall the event loop, with times on the epoch clock so the load
// generator's slow requests can be matched with them:
//   lag     gaps of a 2 ms interval timer longer than LAG_MS (the loop was busy or
//           blocked from start to start + duration), each with how much of it the
//           main thread spent on a CPU and waiting in the kernel's run queue
//           (/proc/thread-self/schedstat): a gap mostly on CPU is work on the loop
//           (JavaScript, GC), mostly in the run queue is the machine's other
//           processes, neither is the thread asleep (a blocking call)
//   gc      every GC pause (PerformanceObserver 'gc': kind, duration)
//   spans   the periodic tasks' spans (lib/runtime/trace.ts's channel)
//   eld     monitorEventLoopDelay's histogram (µs percentiles)
// SIGUSR2 writes everything since the last SIGUSR2 to $DYNAKV_STALL_OUT/<pid>-<n>.json
// and starts over. Bounded: EVENTS_MAX events of each kind per window.
import { channel } from 'node:diagnostics_channel'
import { openSync, readSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PerformanceObserver, monitorEventLoopDelay, constants } from 'node:perf_hooks'

const LAG_MS = 4
const TICK_MS = 2
const EVENTS_MAX = 100_000
const out = process.env.DYNAKV_STALL_OUT ?? '.'
const t0 = performance.timeOrigin
const epoch = (ms: number): number => Number((t0 + ms).toFixed(3))

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb'
}

/** [start, duration, of which on CPU, of which in the run queue] (ms). */
let lag: Array<[number, number, number, number]> = []
let gc: Array<[number, number, string]> = []
let spans: Array<[string, number, number]> = []
let windowStart = performance.now()
const eld = monitorEventLoopDelay({ resolution: 1 })
eld.enable()

// The main thread's schedstat: ns on a CPU, ns waiting in the run queue, timeslices (NaN where absent).
let schedFd = -1
try {
  schedFd = openSync('/proc/thread-self/schedstat', 'r')
} catch {}
const schedBuf = Buffer.alloc(128)
function sched (): [number, number] {
  if (schedFd < 0) return [NaN, NaN]
  const n = readSync(schedFd, schedBuf, 0, schedBuf.length, 0)
  const f = schedBuf.toString('latin1', 0, n).split(' ')
  return [Number(f[0]) / 1e6, Number(f[1]) / 1e6]
}

let last = performance.now()
let lastSched = sched()
setInterval(() => {
  const now = performance.now()
  const s = sched()
  if (now - last > LAG_MS && lag.length < EVENTS_MAX) {
    lag.push([epoch(last), Number((now - last).toFixed(3)), Number((s[0] - lastSched[0]).toFixed(3)), Number((s[1] - lastSched[1]).toFixed(3))])
  }
  last = now
  lastSched = s
}, TICK_MS).unref()

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1
    if (gc.length < EVENTS_MAX) gc.push([epoch(e.startTime), Number(e.duration.toFixed(3)), GC_KINDS[kind] ?? String(kind)])
  }
}).observe({ entryTypes: ['gc'] })

channel('dynakv:task').subscribe((m) => {
  const s = m as { name: string, startMs: number, endMs: number }
  if (spans.length < EVENTS_MAX) spans.push([s.name, epoch(s.startMs), Number((s.endMs - s.startMs).toFixed(3))])
})

let n = 0
process.on('SIGUSR2', () => {
  const now = performance.now()
  const pct = (p: number): number => Number((eld.percentile(p) / 1e3).toFixed(0))
  writeFileSync(join(out, `${process.pid}-${n++}.json`), JSON.stringify({
    pid: process.pid,
    fromMs: epoch(windowStart),
    toMs: epoch(now),
    eldUs: { p50: pct(50), p99: pct(99), p999: pct(99.9), max: Number((eld.max / 1e3).toFixed(0)), count: eld.count },
    lag,
    gc,
    spans
  }))
  lag = []
  gc = []
  spans = []
  eld.reset()
  windowStart = now
})
