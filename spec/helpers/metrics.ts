// Scraping a node's /metrics as Prometheus would, parsed by an independent
// text-format parser (prom2javascript), and reading PromQL expressions for the
// metric names they use (the dashboard spec checks those against a scrape).
import { request } from 'node:http'
import { getMetricsFromIterator, type PromHistogramData, type PromData, type PromMetrics } from 'prom2javascript'
import { HOST } from './server.js'

export type { PromMetrics, PromHistogramData, PromData }

export async function httpGet (port: number, path: string, method = 'GET'): Promise<{ status: number, type: string, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: HOST, port, path, method, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)))
    req.on('error', reject)
    req.end()
  })
}

/** The metrics port a node announced in its ready line (it may have been given --metrics-port 0). */
export function metricsPortOf (p: { output (): string }): number {
  const m = /metrics on http:\/\/[^\s/]+:(\d+)\/metrics/.exec(p.output())
  if (m === null) throw new Error('the node announced no metrics port')
  return Number(m[1])
}

/**
 * prom-client's event-loop delay figures with no sample since the previous
 * scrape (two scrapes within its 10 ms resolution): their mean and stddev are
 * written as `Nan`. Prometheus reads that (Go's ParseFloat, any case);
 * prom2javascript reads no NaN at all, so these samples are left out before
 * parsing. A NaN anywhere else is an error of the node's.
 */
const NAN_ALLOWED = /^nodejs_eventloop_lag_(mean|stddev)_seconds[{ ]/
const NAN_SAMPLE = /^[^#].*\s(?:NaN|Nan|nan)$/

/** GET /metrics, checked to be Prometheus text format 0.0.4, parsed. */
export async function scrape (port: number): Promise<PromMetrics> {
  const res = await httpGet(port, '/metrics')
  if (res.status !== 200) throw new Error(`/metrics: HTTP ${res.status}`)
  if (!res.type.startsWith('text/plain; version=0.0.4')) throw new Error(`/metrics: content-type ${res.type}`)
  const lines = res.body.split('\n')
  const nan = lines.filter(l => NAN_SAMPLE.test(l))
  const unexpected = nan.filter(l => !NAN_ALLOWED.test(l))
  if (unexpected.length > 0) throw new Error(`/metrics: NaN samples: ${unexpected.join(' | ')}`)
  return await getMetricsFromIterator(lines.filter(l => !nan.includes(l))[Symbol.iterator]())
}

/** The samples of a counter or gauge whose labels include `match`. */
export function samples (m: PromMetrics, name: string, match: Record<string, string> = {}): PromData[] {
  const family = m[name]
  if (family === undefined) throw new Error(`no metric ${name}`)
  return (family.data as PromData[]).filter(d => Object.entries(match).every(([k, v]) => d.labels[k] === v))
}

/** The one sample's value of a counter or gauge (labels matched as in samples()); NaN when there is none. */
export function value (m: PromMetrics, name: string, match: Record<string, string> = {}): number {
  const found = samples(m, name, match)
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(match)}: ${found.length} samples`)
  return found.length === 0 ? NaN : found[0].value
}

export function histogram (m: PromMetrics, name: string, match: Record<string, string> = {}): PromHistogramData | undefined {
  const family = m[name]
  if (family === undefined || family.type !== 'histogram') throw new Error(`no histogram ${name}`)
  return (family.data as PromHistogramData[]).find(d => Object.entries(match).every(([k, v]) => d.labels[k] === v))
}

/**
 * The metric names a PromQL expression reads: identifiers outside label
 * matchers and strings that are not functions, aggregations or keywords.
 */
export function promqlMetricNames (expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '')
  const names = new Set<string>()
  for (const m of bare.matchAll(/(?<![0-9.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    if (m[2] !== undefined) continue // a function call
    if (/^(by|without|on|ignoring|group_left|group_right|bool|and|or|unless|offset|sum|min|max|avg|group|stddev|stdvar|count|count_values|bottomk|topk|quantile)$/.test(m[1])) continue
    names.add(m[1])
  }
  // The label names of `by (...)` are not metrics.
  for (const m of bare.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) for (const l of m[1].split(',')) names.delete(l.trim())
  return [...names]
}

/** The label names a PromQL expression groups by. */
export function promqlGroupLabels (expr: string): string[] {
  const out = new Set<string>()
  for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) for (const l of m[1].split(',')) if (l.trim() !== '') out.add(l.trim())
  return [...out]
}

/** The family a sample name belongs to: a histogram's _bucket, _sum and _count are its own. */
export function familyOf (m: PromMetrics, sampleName: string): string | undefined {
  if (m[sampleName] !== undefined) return sampleName
  const base = sampleName.replace(/_(bucket|sum|count)$/, '')
  return m[base]?.type === 'histogram' || m[base]?.type === 'summary' ? base : undefined
}
