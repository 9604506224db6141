// `make bench/micro`: benchmark.js micro benchmarks of the hot pure code — the
// context codec, DVV put/merge and object codec, the RESP parser and encoder.
import Benchmark from 'benchmark'
import { addVersioningBenchmarks } from './versioning.js'
import { addRespBenchmarks } from './resp.js'
import { writeResult } from '../lib.js'

const suite = new Benchmark.Suite()
addVersioningBenchmarks(suite)
addRespBenchmarks(suite)
const rows: Array<{ name: string, opsPerSec: number, rme: number }> = []
suite.on('cycle', (e: Benchmark.Event) => {
  const b = e.target as unknown as Benchmark & { name: string }
  rows.push({ name: b.name, opsPerSec: Math.round(b.hz), rme: Number(b.stats.rme.toFixed(1)) })
  process.stdout.write(`${String(b.name).padEnd(72)} ${Math.round(b.hz).toLocaleString('en').padStart(12)} ops/s ±${b.stats.rme.toFixed(1)}%\n`)
})
suite.on('complete', () => {
  process.stdout.write(`results: ${writeResult('micro', { rows })}\n`)
})
suite.run({ async: false })
