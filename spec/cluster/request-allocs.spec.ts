// The cost of a clustered request, guarded: JavaScript heap bytes allocated
// per client SET and GET by a 3-node cluster (N3 R2 W2, every node a
// coordinator), summed over the nodes, on bench/cluster-allocs's fixed
// workload (-P1, 12 clients, 100-byte values, every GET a hit). Allocations,
// not time: the count does not depend on the machine's load. Measured at
// 16.9-17.9 kB (SET) and 11.5-11.9 kB (GET) when these bounds were set, against
// 17.3-18.5 kB and 11.9-12.7 kB before, alternating runs at load 12-19; 18.2
// and 11.8 kB in a run of spec/cluster at load ~17
// (docs/performance.md "Session 9, cluster9": outbound peer sockets read
// through `onread`, one deferred flush per turn, a slot table of sent
// requests, targets sized at once; earlier "Session 8, replica"); the bounds
// leave room for V8's variation and for how many frames a turn gathers
// (±10 %), not for the garbage that was cut. A
// failure names what to look at: run
// `DYNAKV_ALLOC_PROFILE=/tmp/p node dist/bench/cluster-allocs.js` and read the
// heap profile of the op that grew.
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../helpers/server.js'

const BOUNDS: Record<string, number> = { SET: 20_000, GET: 13_000 }

interface ClusterAllocResult { op: string, clients: number, bytesPerRequest: number, retries: number }

// Without tap's coverage: V8 coverage changes what the JIT allocates.
// tap's process hooks put its settings back into any child's environment, so
// env(1) removes them in the child itself.
const PLAIN = ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE']

t.test('heap bytes allocated per clustered request stay within their bounds', async t => {
  const out = await new Promise<string>((resolve, reject) => {
    execFile('/usr/bin/env', [...PLAIN, process.execPath, join(ROOT, 'dist', 'bench', 'cluster-allocs.js'), '--json'], { timeout: 230_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${err.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
  const results = JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as ClusterAllocResult[]
  t.same(results.map(r => r.op), ['SET', 'GET'], 'both ops measured')
  for (const r of results) {
    t.comment(`cluster ${r.op} -P1, ${r.clients} clients: ${r.bytesPerRequest} B/request`)
    t.ok(r.bytesPerRequest > 0, `${r.op}: a positive count`)
    t.ok(r.bytesPerRequest <= BOUNDS[r.op], `${r.op}: ${r.bytesPerRequest} B allocated per request over the 3 nodes, at most ${BOUNDS[r.op]}`)
  }
})
