// The cost of a clustered request, guarded: JavaScript heap bytes allocated
// per client SET and GET by a 3-node cluster (N3 R2 W2, every node a
// coordinator), summed over the nodes, on bench/cluster-allocs's fixed
// workload (-P1, 12 clients, 100-byte values, every GET a hit). Allocations,
// not time: the count does not depend on the machine's load. Measured at
// 14.1-15.3 kB (SET) and 10.1-10.3 kB (GET) when these bounds were set, against
// 16.5-17.9 kB and 11.1-11.6 kB on the session's starting build (8b76dcc),
// alternating runs at load 7-11 (docs/performance.md "Session 10, cluster10":
// a replica's key count without states, keys of a one-key command without
// arrays, in-flight tables never emptied, the routed ref reused, a replica's
// ref without a key view, the Merkle feed's hashes in place; earlier
// "Session 9, cluster9" and "Session 8, replica"). Session 11 (cluster11: a
// turn's peer lists filled in place, a round's promise without an executor
// closure, a write round without one-item arrays, one object for the rounds
// awaiting a write and for the requests one handler promise answers, a GET's
// string answered by its round) measured 12.7-13.9 kB (SET) and 8.5-8.8 kB
// (GET) against 13.3-14.4 and 9.3-9.8 kB on fc1ed0f, 5 alternating pairs at
// load 9-15. Session 14 (cluster14: a connection's frames encoded into one
// outbox buffer, a received frame decoded without a Reader or a Frame object,
// one OK object for an OKS frame's ids) measured 11.2-12.8 kB (SET) and
// 7.6-8.0 kB (GET) against 12.4-13.8 and 8.3-8.7 kB on fdce79e, 8 alternating
// pairs at load 3-19. The bounds leave room for V8's
// variation and for how many frames a turn gathers (±10 %), not for the
// garbage that was cut. A
// failure names what to look at: run
// `DYNAKV_ALLOC_PROFILE=/tmp/p node dist/bench/cluster-allocs.js` and read the
// heap profile of the op that grew.
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../helpers/server.js'

const BOUNDS: Record<string, number> = { SET: 14_000, GET: 8_800 }

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
