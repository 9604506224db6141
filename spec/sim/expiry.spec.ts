// Expiry (docs/types.md "Expiry", "Clock skew") under partitions, crashes, a
// wiped replica, a lossy network and node clocks off by up to ±D/2: SET PX/EX,
// PEXPIRE, EXPIRE and GET/EXISTS/PTTL/PEXPIRETIME through random nodes, with a
// short sweep interval and tombstone grace so that stripping and reaping run.
//   - no read reports a key live later than its expiry on the clock of every
//     node that could have answered it (spec/sim/expiry.ts);
//   - after healing, every replica holds the same bytes for every key;
//   - once everything has expired, every node reads every key as absent, the
//     sweep reaps every record, and none comes back while anti-entropy and
//     handoff keep running.
// DYNAKV_SEED=<n> replays one seed; DYNAKV_SEEDS=a-b sweeps a range.
import t from 'tap'
import { SimCluster } from './harness.js'
import { divergentPartitions, quiesce } from './checkers.js'
import { ExpiryHistory } from './expiry.js'
import { seededRandom } from '../../lib/runtime/random.js'
import { decodeObject, isDead } from '../../lib/versioning/index.js'
import type { Reply } from '../../lib/resp/reply.js'
import { outcomeOf, replicaDifferences, scheduleOf, seedsFrom, shapeOf, storedRecords, typedPlan, underFaults, type Op } from './typed.js'

const seeds = seedsFrom([1, 2, 3])
/** The largest skew between two nodes' clocks (ms). */
const D = 400
const GRACE_MS = 1000

/** Every record of the keys on every running node: "node key skey" → bytes. */
async function snapshot (c: SimCluster, keys: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const n of c.running()) {
    for (const key of keys) for (const [skey, bytes] of await storedRecords(c, n, key)) out.set(`${n} ${key} ${skey}`, bytes)
  }
  return out
}

async function scenario (seed: number): Promise<{ problems: string[], h: ExpiryHistory, faults: string[], notes: string[] }> {
  const { nodes, r, w, wipe } = shapeOf(seed)
  const skew = seededRandom(seed ^ 0x5eed)
  const offsets = new Map(Array.from({ length: nodes }, (_, i) => [`node${i + 1}`, skew.int(D + 1) - D / 2]))
  const keys = ['x0', 'x1', 'x2', 'x3', 'x4']
  const h = new ExpiryHistory(keys)
  const c = await SimCluster.create({
    seed,
    nodes,
    r,
    w,
    partitions: 16,
    startMs: 1_000_000,
    clockOffsetMs: (name) => offsets.get(name) ?? 0,
    onBoot: (_name, node) => h.watch(node),
    args: ['--sweep-interval-ms', '200', '--tombstone-grace-ms', String(GRACE_MS)]
  })
  h.cluster = c
  const notes: string[] = [`clock offsets ${[...offsets].map(([n, o]) => `${n}=${o}`).join(' ')}`]
  try {
    const rnd = c.net.forkRandom()
    const { faults } = await underFaults(c, rnd, { schedule: scheduleOf(seed, typedPlan(c.names, { wipe, writers: 6, steps: 40 })), writers: 6, steps: 40, write: () => h.step(c, rnd), read: () => h.step(c, rnd) })
    const problems: string[] = [...divergentPartitions(c)]

    // Healed: every replica of every key holds the same bytes (a strip due meanwhile may
    // land on one replica a moment before another: converged means it stays equal once
    // anti-entropy has run).
    let differences: string[] = []
    for (let attempt = 0; attempt < 5; attempt++) {
      differences = (await Promise.all(keys.map(k => replicaDifferences(c, k)))).flat()
      if (differences.length === 0) break
      await quiesce(c, 3)
    }
    problems.push(...differences)
    for (const n of c.running()) for (const key of keys) for (const cmd of ['GET', 'PTTL']) await c.settle(h.run(c, n, cmd, key))

    // Everything expires, is stripped and reaped; a record gone from every node must not come back.
    const until = Math.max(h.lastExpiry(), c.clock.now()) + D + GRACE_MS + 3000
    const slowest = Math.min(...offsets.values())
    let previous = new Set<string>()
    const gone = new Set<string>()
    let comeBackDead = 0
    await c.run(500)
    while (c.clock.now() < until) {
      await c.run(250)
      // record ("key skey") → its copies' bytes
      const present = new Map<string, string[]>()
      for (const [where, bytes] of await snapshot(c, keys)) {
        const record = where.slice(where.indexOf(' ') + 1)
        present.set(record, [...present.get(record) ?? [], bytes])
      }
      for (const [record, copies] of present) {
        if (!gone.has(record)) continue
        gone.delete(record)
        // Dead on the slowest clock: dead everywhere, only churn (a replica whose clock is
        // behind copied it back before it saw it as reapable). Live anywhere: a resurrection.
        const element = record.slice(record.indexOf(' ') + 1).slice(32, 34) === '01'
        if (copies.every(b => isDead(decodeObject(Buffer.from(b, 'hex')), c.clock.now() + slowest, element))) comeBackDead++
        else problems.push(`${record} came back live after it was gone from every node: ${copies.map(b => b.slice(0, 120)).join(' / ')}`)
      }
      for (const record of previous) if (!present.has(record)) gone.add(record)
      previous = new Set(present.keys())
    }
    notes.push(`records copied back dead after being reaped everywhere: ${comeBackDead}`)

    await quiesce(c)
    const left = await snapshot(c, keys)
    if (left.size > 0) problems.push(`records not reaped: ${[...left.keys()].slice(0, 10).join('; ')}`)
    for (const n of c.running()) {
      if (c.node(n).local.hintsPendingTotal() > 0) problems.push(`${n} still holds ${c.node(n).local.hintsPendingTotal()} hints`)
      for (const key of keys) for (const cmd of ['GET', 'EXISTS', 'PTTL']) await c.settle(h.run(c, n, cmd, key))
    }
    const finals = h.log.ops.slice(-c.running().length * keys.length * 3)
    for (const op of finals) if (!['null', 'int'].includes(op.reply.type) || (op.reply.type === 'int' && Number(op.reply.value) !== (op.args[0] === 'PTTL' ? -2 : 0))) problems.push(`after everything expired: ${op.args.join(' ')} via ${op.node} = ${JSON.stringify(op.reply)}`)
    problems.push(...divergentPartitions(c), ...h.check())
    return { problems, h, faults, notes }
  } finally {
    await c.stop()
  }
}

for (const seed of seeds) {
  t.test(`seed ${seed} (${JSON.stringify(shapeOf(seed))})`, async (t) => {
    const { problems, h, faults, notes } = await scenario(seed)
    t.ok(h.reads() >= 60 && h.stored.size >= 30, `enough reads and expiring values to mean something (${h.log.summary()}; ${h.stored.size} values stored)`)
    t.same(problems, [], `no expired value read, replicas identical, everything reaped for good (replay with DYNAKV_SEED=${seed})`)
    if (problems.length > 0) t.comment([...notes, ...faults, ...problems.slice(0, 30)].join('\n'))
    t.comment([...notes, `GETs answered within the skew of the value's expiry: ${h.nearExpiry}`].join('\n'))
  })
}

// The checker's rule on hand-made histories (spec/sim/expiry.ts): a node holds
// a version expired once its clock reads the expiry (expireAt ≤ now), so a
// read may return a value only if its expiry is after the earliest clock
// reading of a node that could answer: invoked + that node's offset, strictly.
// node1 is on time, node2 200 ms behind (the skew the checker is told of).
t.test('expiry checker: the read at the expiry millisecond, reads within the skew and past it, expiries no write computed', async (t) => {
  const offsets: Record<string, number> = { node1: 0, node2: -200 }
  let seq = 0
  const op = (node: string, args: string[], invokedMs: number, doneMs: number, reply: Reply): Op =>
    ({ node, args, invokedMs, doneMs, invokedSeq: ++seq, doneSeq: ++seq, outcome: outcomeOf(reply), reply })
  /** SET x0 x0-v0 PX 300 through node1 at 1000, stored (expiry 1300) at 1001; then the reads. */
  const history = (reads: Op[], stored = 1300, told = offsets): string[] => {
    const h = new ExpiryHistory(['x0'], n => told[n] ?? 0)
    h.recordWrite(op('node1', ['SET', 'x0', 'x0-v0', 'PX', '300'], 1000, 1002, { type: 'simple', value: 'OK' }), 300)
    h.recordStored('x0-v0', stored, 1001)
    h.log.ops.push(...reads)
    return h.check()
  }
  const get = (node: string, atMs: number, value: string | null): Op => op(node, ['GET', 'x0'], atMs, atMs, value === null ? { type: 'null' } : { type: 'bulk', value })

  t.same(history([get('node1', 1299, 'x0-v0')]), [], 'valid: read 1 ms before the expiry')
  t.same(history([get('node1', 1300, null)]), [], 'valid: absent at the expiry millisecond')
  t.match(history([get('node1', 1300, 'x0-v0')]), [/^GET x0 via node1 \[1300, 1300\]: returned x0-v0, which expired at 1300 ≤ 1300/],
    'invalid: the value read at exactly its expiry millisecond (the tie)')
  t.same(history([get('node2', 1499, 'x0-v0')]), [], 'valid: node2, 200 ms behind, returns it 199 ms after the expiry (within its skew)')
  t.match(history([get('node2', 1500, 'x0-v0')]), [/^GET x0 via node2 \[1500, 1500\]: returned x0-v0, which expired at 1300 ≤ 1300/],
    'invalid: node2 returns it when its own clock reads the expiry')
  t.match(history([get('node2', 1450, 'x0-v0')], 1300, { node1: 0, node2: 0 }), [/returned x0-v0, which expired at 1300 ≤ 1450/],
    'invalid: the same read as valid above, when the checker is told the clocks agree')
  t.same(history([get('node1', 1100, null)]), [], 'valid: a read may miss a live value (R < N)')
  t.match(history([], 1400), [/^x0-v0 was stored at 1001 with expiry 1400, which no write of it could have computed/],
    'invalid: an expiry 100 ms past what SET PX 300 at [1000, 1001] on an on-time clock computes')
})
