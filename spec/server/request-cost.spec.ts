// The cost of a request, guarded: JavaScript heap bytes allocated per plain
// SET and GET on one durable node, on bench/request-allocs's fixed workload
// (-P16, 100-byte values, every GET a hit). Allocations, not time: the count
// does not depend on the machine's load. Measured at 1 796-1 854 B (SET) and 611-664 B
// (GET) on the setpath branch, 2 044-2 066 and 1 045-1 047 B once merged with the lean cache
// (a hit builds its Entry and the GET parses it again: docs/performance.md, "A lean cache
// entry"), when these bounds were set (GET's: 471-507 B once a cached GET skipped the Entry and
// the reply object, docs/performance.md "getpath"); the
// bounds leave room for V8's variation between runs (±10 %), not for one more
// object graph per request. A failure names what to look at: run
// `DYNAKV_ALLOC_PROFILE=/tmp/p node dist/bench/request-allocs.js` and read the
// heap profile of the op that grew.
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../helpers/server.js'

const BOUNDS: Record<string, number> = { SET: 1700, GET: 320 } // SET: 1 926-2 091 B measured on setpath2 (reused reply slots), 1 883-1 900 on setjs (a plain SET without a CommandCall), 1 862-1 875 on session 7's setjs (no [slab, at] pair per cache append), 1 774-1 794 (once 1 882) on setalloc (no Map shrink per batch in the engine's overlay, a blind write its own Entry), 1 586-1 605 on session 8's merge (a reused native batch per group commit; the overlay a table that keeps its size; once 1 879 on setbytes alone), 1 431-1 465 (once 1 539) on session 9's setjs9 (a SET of a cached key reads the old record in place: no CachedEntry, no view of the old value), 1 516-1 552 on session 12's merge (the single node's cohort hold, whose commits one client's -P16 pipelines each end: 1 493-1 514 with --commit-hold-ms 0); GET: 471-507 B on getpath (the cached GET), 459-466 on session 7's getview, 363-369 on session 8's getview2 (no view of the cached value), 387-416 on session 9's merge (reply9's connection changes add ~25-30 B a GET -P16 that the sampling heap profiler does not see: 365 B on both builds under it, so an optimiser difference, not an object) , 270-280 on session 14's get14 (a cached value copied through a view, a whole GET's key read in place: no argument array) (bounds ~10-15 % over the highest seen)

interface AllocResult { op: string, pipeline: number, bytesPerRequest: number, retries: number }

// Without tap's coverage: V8 coverage changes what the JIT allocates (GET +30 %).
// tap's process hooks put its settings back into any child's environment, so
// env(1) removes them in the child itself.
const PLAIN = ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE']

t.test('heap bytes allocated per request stay within their bounds', async t => {
  const out = await new Promise<string>((resolve, reject) => {
    execFile('/usr/bin/env', [...PLAIN, process.execPath, join(ROOT, 'dist', 'bench', 'request-allocs.js'), '--json'], { timeout: 240_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${err.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
  const results = JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as AllocResult[]
  t.same(results.map(r => r.op), ['SET', 'GET'], 'both ops measured')
  for (const r of results) {
    t.comment(`${r.op} -P${r.pipeline}: ${r.bytesPerRequest} B/request`)
    t.ok(r.bytesPerRequest > 0, `${r.op}: a positive count`)
    t.ok(r.bytesPerRequest <= BOUNDS[r.op], `${r.op}: ${r.bytesPerRequest} B allocated per request, at most ${BOUNDS[r.op]}`)
  }
})
