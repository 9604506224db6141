// The run at a glance, as SVG written by hand: the latency of every client
// operation over time (log scale; ok, fail, unknown), and below it the fraction
// of operations acknowledged per second, with the nemesis phases shaded and
// named and the final heal marked.
import { pairs, type Op } from './history.js'
import type { PhaseRecord } from './checkers/types.js'

const W = 1200
const LEFT = 60
const RIGHT = 20
const TOP = 40
const LAT_H = 300
const GAP = 40
const AV_H = 140
const H = TOP + LAT_H + GAP + AV_H + 50
const POINTS_MAX = 20_000
const COLORS = { ok: '#2a9d47', fail: '#d62828', unknown: '#f4a100' } as const
const SHADES: Record<string, string> = { partition: '#9ecae1', kill: '#fcae91', pause: '#d9d9d9', wipe: '#fb6a4a', clock: '#c2a5cf', slow: '#fee391', 'partition-wipe': '#e7969c' }

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function plot (history: readonly Op[], phases: readonly PhaseRecord[], title: string, finalHealMs: number | null): string {
  const ops = pairs(history).filter(p => p.invoke.process !== 'final' && p.complete !== null)
  const endMs = Math.max(1000, ...ops.map(p => p.complete?.time ?? 0), ...phases.map(p => p.endMs))
  const x = (ms: number): number => LEFT + (W - LEFT - RIGHT) * ms / endMs
  const latMax = 10_000
  const yLat = (ms: number): number => TOP + LAT_H - LAT_H * Math.log10(Math.min(latMax, Math.max(1, ms))) / Math.log10(latMax)
  const avTop = TOP + LAT_H + GAP
  const yAv = (f: number): number => avTop + AV_H * (1 - f)
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`)
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(`<text x="${LEFT}" y="20" font-size="14">${esc(title)}</text>`)
  for (const p of phases) {
    const fill = SHADES[p.kinds[0]] ?? '#cccccc'
    out.push(`<rect x="${x(p.startMs).toFixed(1)}" y="${TOP}" width="${Math.max(1, x(p.endMs) - x(p.startMs)).toFixed(1)}" height="${LAT_H + GAP + AV_H}" fill="${fill}" opacity="0.45"><title>${esc(p.description)}</title></rect>`)
    out.push(`<text x="${(x(p.startMs) + 2).toFixed(1)}" y="${TOP + 10}" font-size="9">${esc(p.description.slice(0, 40))}</text>`)
  }
  if (finalHealMs !== null) out.push(`<line x1="${x(finalHealMs)}" x2="${x(finalHealMs)}" y1="${TOP}" y2="${avTop + AV_H}" stroke="black" stroke-dasharray="4 3"/><text x="${x(finalHealMs) + 3}" y="${avTop + AV_H - 4}">final heal</text>`)
  // axes
  for (const ms of [1, 10, 100, 1000, 10000]) {
    out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${yLat(ms)}" y2="${yLat(ms)}" stroke="#eee"/><text x="${LEFT - 5}" y="${yLat(ms) + 4}" text-anchor="end">${ms} ms</text>`)
  }
  for (const f of [0, 0.5, 1]) out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${yAv(f)}" y2="${yAv(f)}" stroke="#eee"/><text x="${LEFT - 5}" y="${yAv(f) + 4}" text-anchor="end">${f * 100}%</text>`)
  const stepS = Math.max(1, Math.ceil(endMs / 1000 / 20))
  for (let s = 0; s * 1000 <= endMs; s += stepS) out.push(`<text x="${x(s * 1000)}" y="${avTop + AV_H + 15}" text-anchor="middle">${s}s</text>`)
  out.push(`<text x="${LEFT}" y="${TOP - 4}">latency of each operation (log)</text><text x="${LEFT}" y="${avTop - 4}">acknowledged per second (fraction of operations completed)</text>`)
  // latency points
  const every = Math.max(1, Math.ceil(ops.length / POINTS_MAX))
  for (let i = 0; i < ops.length; i += every) {
    const p = ops[i]
    const type = p.complete?.type as keyof typeof COLORS
    out.push(`<circle cx="${x(p.invoke.time).toFixed(1)}" cy="${yLat((p.complete?.time ?? 0) - p.invoke.time).toFixed(1)}" r="1.6" fill="${COLORS[type] ?? '#888'}"/>`)
  }
  // availability per second
  const buckets = new Map<number, { ok: number, all: number }>()
  for (const p of ops) {
    const b = Math.floor((p.complete?.time ?? 0) / 1000)
    const v = buckets.get(b) ?? { ok: 0, all: 0 }
    v.all++
    if (p.complete?.type === 'ok') v.ok++
    buckets.set(b, v)
  }
  const line = [...buckets].sort(([a], [b]) => a - b).map(([b, v]) => `${x(b * 1000 + 500).toFixed(1)},${yAv(v.ok / v.all).toFixed(1)}`)
  out.push(`<polyline points="${line.join(' ')}" fill="none" stroke="#1d3557" stroke-width="1.5"/>`)
  // legend
  let lx = W - RIGHT - 260
  for (const [k, c] of Object.entries(COLORS)) {
    out.push(`<circle cx="${lx}" cy="16" r="4" fill="${c}"/><text x="${lx + 7}" y="20">${k}</text>`)
    lx += 60
  }
  out.push('</svg>')
  return out.join('\n')
}
