import t from 'tap'
import fc from 'fast-check'
import {
  MemberError, NoMembersError, claim, claimEvents, claimSteps, distinctNodeCount, movedPartitions, quotas
} from '../../lib/ring/index.js'
import type { ClaimMember } from '../../lib/ring/index.js'
import { countsOf, naiveViolations, scenarioArb } from './helpers.js'

const member = (name: string, joinedAt: number, leftAt: number | null = null, weight = 1): ClaimMember =>
  ({ name, weight, joinedAt, leftAt })

t.test('events: time, then join before leave, then name; any input order', async (t) => {
  const events = claimEvents([member('b', 5), member('a', 5, 9), member('c', 1, 5), member('d', 9, 9)])
  t.same(events.map((e) => `${e.kind} ${e.name} ${e.time}`), [
    'join c 1', 'join a 5', 'join b 5', 'leave c 5', 'join d 9', 'leave a 9', 'leave d 9'
  ])
  fc.assert(fc.property(scenarioArb(), fc.infiniteStream(fc.nat()), ({ members }, draws) => {
    const shuffled = [...members]
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = draws.next().value % (i + 1)
      ;[shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
    }
    const a = claimEvents(members)
    t.same(claimEvents(shuffled), a)
    for (let i = 1; i < a.length; i++) {
      const [x, y] = [a[i - 1], a[i]]
      const ordered = x.time < y.time || (x.time === y.time && (x.kind < y.kind || (x.kind === y.kind && x.name < y.name)))
      if (!ordered) return false
    }
    return a.length === members.length + members.filter((m) => m.leftAt !== null).length
  }), { numRuns: 100 })
})

t.test('bad membership records are refused with stable codes', async (t) => {
  const bad: ClaimMember[][] = [
    [member('a', 0), member('a', 1)],
    [member('', 0)],
    [member('a', 0, null, 0)],
    [member('a', 0, null, 1.5)],
    [member('a', 0, null, 2_000_000)],
    [member('a', NaN)],
    [member('a', 5, 4)],
    [member('a', 5, Infinity)]
  ]
  for (const members of bad) t.throws(() => claim(members, 8, 3), MemberError, JSON.stringify(members))
  t.throws(() => claim([member('a', 0)], 12, 3), { code: 'DYNAKV_RING_PARTITION_COUNT' })
  t.throws(() => claim([member('a', 0)], 8, 0), { code: 'DYNAKV_RING_REPLICA_COUNT' })
  t.throws(() => claim([], 8, 3), NoMembersError)
  t.throws(() => claim([member('a', 0, 3)], 8, 3), { code: 'DYNAKV_RING_NO_MEMBERS' })
  t.throws(() => movedPartitions(['a'], ['a', 'b']), { code: 'DYNAKV_RING_OWNERS' })
  t.throws(() => quotas([{ name: 'a', weight: 1 }, { name: 'a', weight: 2 }], 8), MemberError)
})

t.test('small cases by hand', async (t) => {
  t.same(claim([member('a', 0)], 8, 3), new Array(8).fill('a'), 'the first node takes every partition')
  const two = claim([member('a', 0), member('b', 1)], 8, 2)
  t.same(countsOf(two), new Map([['a', 4], ['b', 4]]))
  t.equal(naiveViolations(two, 2), 0, 'two nodes, N = 2: they alternate')
  // k = N = 3 cannot be distinct (3 does not divide 64); four nodes can
  const four = [member('a', 0), member('b', 1), member('c', 2), member('d', 3)]
  t.ok(naiveViolations(claim(four.slice(0, 3), 64, 3), 3) > 0)
  t.equal(naiveViolations(claim(four, 64, 3), 3), 0)
  // the ring's history matters only through membership: a node that joined
  // and left leaves no trace in who owns what
  const steps = claimSteps([...four, member('e', 4, 6)], 64, 3)
  t.equal(steps.length, 6)
  t.same(steps.at(-1)?.owners, claim(four, 64, 3))
  // after everyone left, the next join starts afresh
  const again = claimSteps([member('a', 0, 1), member('b', 2)], 16, 3)
  t.same(again.map((s) => s.owners.length), [16, 0, 16])
  t.same(again[2].owners, new Array(16).fill('b'))
})

t.test('quotas: largest remainder, ties by name hash', async (t) => {
  const q = quotas([{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }], 64)
  t.same([...q.values()].sort(), [21, 21, 22])
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 40 }),
    fc.constantFrom(1, 8, 64, 1024, 65536),
    (weights, partitions) => {
      const nodes = weights.map((weight, i) => ({ name: `n${i}`, weight }))
      const got = quotas(nodes, partitions)
      const total = weights.reduce((a, b) => a + b, 0)
      let sum = 0
      for (const { name, weight } of nodes) {
        const share = partitions * weight / total
        const c = got.get(name) ?? -1
        if (!(c === Math.floor(share) || c === Math.ceil(share))) return false
        sum += c
      }
      // the same nodes in reverse order get the same quotas
      const reversed = quotas([...nodes].reverse(), partitions)
      return sum === partitions && nodes.every(({ name }) => reversed.get(name) === got.get(name))
    }
  ), { numRuns: 300 })
})

/** Replays the events to know who is live after each step. */
function liveAfterEach (members: readonly ClaimMember[]): Array<Set<string>> {
  const live = new Set<string>()
  return claimEvents(members).map((e) => {
    if (e.kind === 'join') live.add(e.name)
    else live.delete(e.name)
    return new Set(live)
  })
}

// Violations seen outside the guarantee, for the report.
const outside = { steps: 0, violations: 0, fewerNodesThanWindow: 0 }

t.test('every step: live owners, weighted counts, and distinct windows where guaranteed', async (t) => {
  let guaranteed = 0
  fc.assert(fc.property(scenarioArb(), ({ members, partitions: q, n }) => {
    const steps = claimSteps(members, q, n)
    const lives = liveAfterEach(members)
    const weight = new Map(members.map((m) => [m.name, m.weight]))
    const m = distinctNodeCount(q, n)
    const w = Math.min(n, q)
    steps.forEach((step, i) => {
      const live = lives[i]
      if (live.size === 0) {
        if (step.owners.length !== 0) throw new Error('an empty membership owns nothing')
        return
      }
      if (step.owners.length !== q) throw new Error(`step ${i}: ${step.owners.length} owners for Q = ${q}`)
      for (const o of step.owners) if (!live.has(o)) throw new Error(`step ${i}: ${o} is not live`)
      const counts = countsOf(step.owners)
      let total = 0
      for (const x of live) total += weight.get(x) ?? 0
      let countMax = 0
      for (const x of live) {
        const share = q * (weight.get(x) ?? 0) / total
        const c = counts.get(x) ?? 0
        if (Math.abs(c - share) >= 1) throw new Error(`step ${i}: ${x} owns ${c}, share ${share}`)
        countMax = Math.max(countMax, c)
      }
      const violations = naiveViolations(step.owners, n)
      if (live.size >= m && countMax * w <= q) {
        guaranteed++
        if (violations !== 0) throw new Error(`step ${i}: ${violations} violations, k = ${live.size} >= M = ${m}`)
      } else {
        outside.steps++
        outside.violations += violations
        // fewer owners than the window: every window must repeat one
        if (counts.size < w) {
          outside.fewerNodesThanWindow++
          if (violations !== q) throw new Error('a window of w with fewer than w owners must repeat')
        }
      }
    })
    return true
  }), { numRuns: 250 })
  t.ok(guaranteed > 500, `${guaranteed} steps inside the guarantee had no violation`)
  t.comment(`outside the guarantee: ${outside.steps} steps, ${outside.violations} violating windows in all, ` +
    `${outside.fewerNodesThanWindow} with fewer owners than N`)
})

t.test('equal weights: distinct windows from M nodes on, in every history', async (t) => {
  fc.assert(fc.property(scenarioArb({ nodesMax: 12 }), ({ members, partitions: q, n }) => {
    const equal = members.map((x) => ({ ...x, weight: 1 }))
    const steps = claimSteps(equal, q, n)
    const lives = liveAfterEach(equal)
    const m = distinctNodeCount(q, n)
    return steps.every((step, i) => lives[i].size < m || naiveViolations(step.owners, n) === 0)
  }), { numRuns: 200 })
})

t.test('deterministic: the members array order does not matter', async (t) => {
  fc.assert(fc.property(scenarioArb({ nodesMax: 10 }), fc.infiniteStream(fc.nat()), ({ members, partitions, n }, draws) => {
    if (!members.some((m) => m.leftAt === null)) return true
    const shuffled = [...members]
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = draws.next().value % (i + 1)
      ;[shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
    }
    const a = claim(members, partitions, n)
    const b = claim(shuffled.map((x) => ({ ...x })), partitions, n)
    return a.length === b.length && a.every((o, p) => o === b[p])
  }), { numRuns: 100 })
})

t.test('movedPartitions lists the partitions whose owner changed', async (t) => {
  t.same(movedPartitions(['a', 'b', 'c'], ['a', 'c', 'c']), [1])
  t.same(movedPartitions([], []), [])
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('a', 'b'))), (pairs) => {
    const moved = movedPartitions(pairs.map((p) => p[0]), pairs.map((p) => p[1]))
    return moved.length === pairs.filter(([x, y]) => x !== y).length && moved.every((p) => pairs[p][0] !== pairs[p][1])
  }))
})
