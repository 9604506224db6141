// Loaded into a dynakv server by bench/memory (`node --expose-gc --import
// .../gc-probe.js`): on SIGUSR2 it collects garbage twice and prints one line,
// `gc-probe <json>`, with process.memoryUsage() after it: the live heap, not
// the garbage a quiet server has not collected yet. Nothing else changes.
import { memoryUsage } from 'node:process'

const gc = (globalThis as { gc?: () => void }).gc
process.on('SIGUSR2', () => {
  gc?.()
  gc?.()
  process.stderr.write(`gc-probe ${JSON.stringify({ gc: gc !== undefined, ...memoryUsage() })}\n`)
})
