// An ioredis load generator: C clients (one connection each, no pipelining),
// spread round-robin over the given ports, each issuing SET or GET (half and
// half) on random keys until the duration or the request budget is spent.
// Latencies go into an HDR histogram; a progress bar shows the run.
import { Redis } from 'ioredis'
import * as hdr from 'hdr-histogram-js'
import cliProgress from 'cli-progress'

export interface LoadResult {
  requests: number
  errors: number
  seconds: number
  rps: number
  p50Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
  /** CPU of this load generator (user + system) per request: what the client side costs. */
  clientCpuUsPerRequest: number
}

export async function runLoad (ports: number[], options: { clients: number, seconds: number, maxRequests: number, keys: number, valueBytes: number, label: string }): Promise<LoadResult> {
  const clients = Array.from({ length: options.clients }, (_, i) => new Redis({ host: '127.0.0.1', port: ports[i % ports.length], protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1 }))
  await Promise.all(clients.map(c => c.connect()))
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  const value = 'v'.repeat(options.valueBytes)
  const bar = new cliProgress.SingleBar({ format: `${options.label.padEnd(14)} {bar} {percentage}% | {value}/{total} requests | {eta}s left`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
  bar.start(options.maxRequests, 0)
  let issued = 0
  let done = 0
  let errors = 0
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const deadline = started + options.seconds * 1000
  await Promise.all(clients.map(async (c) => {
    while (issued < options.maxRequests && performance.now() < deadline) {
      issued++
      const key = `key:${Math.floor(Math.random() * options.keys)}`
      const t0 = performance.now()
      try {
        if (Math.random() < 0.5) await c.set(key, value)
        else await c.get(key)
        histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)))
      } catch {
        errors++
      }
      if (++done % 1000 === 0) bar.update(done)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  bar.update(done)
  bar.stop()
  for (const c of clients) c.disconnect()
  const ms = (p: number): number => Number((histogram.getValueAtPercentile(p) / 1000).toFixed(3))
  return { requests: done, errors, seconds: Number(seconds.toFixed(2)), rps: Math.round(done / seconds), p50Ms: ms(50), p99Ms: ms(99), p999Ms: ms(99.9), maxMs: Number((histogram.maxValue / 1000).toFixed(3)), clientCpuUsPerRequest: Math.round((cpu.user + cpu.system) / Math.max(1, done)) }
}
