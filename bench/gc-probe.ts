// Loaded into a dynakv server by bench/memory (`node --expose-gc --import
// .../gc-probe.js`): on SIGUSR2 it collects garbage twice and prints one line,
// `gc-probe <json>`, with process.memoryUsage() after it (the live heap, not
// the garbage a quiet server has not collected yet) and the size V8 keeps
// committed per heap space (MB) before and after it: what the heap holds beyond
// what is live.
// Nothing else changes.
import { memoryUsage } from 'node:process'
import { getHeapSpaceStatistics } from 'node:v8'

const gc = (globalThis as { gc?: () => void }).gc
/** Committed MB by heap space. */
function spaceSizes (): Record<string, number> {
  const spaces: Record<string, number> = {}
  for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = Math.round(s.space_size / 1048576)
  return spaces
}

process.on('SIGUSR2', () => {
  const before = spaceSizes()
  gc?.()
  gc?.()
  process.stderr.write(`gc-probe ${JSON.stringify({ gc: gc !== undefined, ...memoryUsage(), spaces: spaceSizes(), before })}\n`)
})
