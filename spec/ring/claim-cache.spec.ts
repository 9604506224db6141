// ClaimCache (incremental claim) against claim() (the fold from scratch) on
// random membership histories: a node sees its membership change one view at
// a time; each view is a join or leave at or after every earlier event (the
// case the cache folds incrementally), or an event sorted in among old ones,
// a weight changed, or an unrelated membership (the cases it refolds). The
// cache must give claim()'s owners, or its error, for every view in turn.
import t from 'tap'
import fc from 'fast-check'
import { ClaimCache, NoMembersError, claim } from '../../lib/ring/index.js'
import type { ClaimMember } from '../../lib/ring/index.js'
import { N_CHOICES, PARTITION_CHOICES, scenarioArb } from './helpers.js'

type Op =
  | { kind: 'join', weight: number, dt: number, early: number | null }
  | { kind: 'leave', pick: number, dt: number, early: number | null }
  | { kind: 'reweight', pick: number, weight: number }
  | { kind: 'unrelated', members: ClaimMember[] }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('join' as const), weight: fc.integer({ min: 1, max: 3 }), dt: fc.integer({ min: 0, max: 3 }), early: fc.option(fc.nat(30), { freq: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat(), dt: fc.integer({ min: 0, max: 3 }), early: fc.option(fc.nat(30), { freq: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reweight' as const), pick: fc.nat(), weight: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: scenarioArb({ nodesMax: 6 }).map((s) => ({ kind: 'unrelated' as const, members: s.members })) }
)

/** The views a node sees, one per op (each a full membership, as gossip delivers it). */
function views (salt: number, ops: readonly Op[]): ClaimMember[][] {
  let members: ClaimMember[] = []
  let now = 0
  let joins = 0
  const out: ClaimMember[][] = []
  for (const op of ops) {
    const live = members.filter((m) => m.leftAt === null)
    if (op.kind === 'join') {
      now += op.dt
      // `early`: a join stamped before events already folded (a node's clock behind)
      const joinedAt = op.early === null ? now : Math.max(0, now - op.early)
      members = [...members, { name: `n${joins++}-${salt}`, weight: op.weight, joinedAt, leftAt: null }]
    } else if (op.kind === 'leave' && live.length > 0) {
      now += op.dt
      const leaver = live[op.pick % live.length]
      const leftAt = op.early === null ? now : Math.max(leaver.joinedAt, now - op.early)
      members = members.map((m) => m === leaver ? { ...m, leftAt } : m)
    } else if (op.kind === 'reweight' && members.length > 0) {
      const target = members[op.pick % members.length]
      members = members.map((m) => m === target ? { ...m, weight: op.weight } : m)
    } else if (op.kind === 'unrelated') {
      members = op.members.map((m) => ({ ...m }))
      now = Math.max(0, ...members.map((m) => Math.max(m.joinedAt, m.leftAt ?? 0)))
    }
    out.push(members)
  }
  return out
}

/** claim()'s owners, or the error's code. */
function outcome (f: () => readonly string[]): readonly string[] | string {
  try {
    return f()
  } catch (e) {
    return (e as { code?: string }).code ?? String(e)
  }
}

t.test('the cache gives claim()\'s owners for every view of a random history', async (t) => {
  let incremental = 0
  let views_ = 0
  fc.assert(fc.property(
    fc.constantFrom(...PARTITION_CHOICES), fc.constantFrom(...N_CHOICES), fc.integer({ min: 0, max: 1e9 }),
    fc.array(opArb, { minLength: 1, maxLength: 24 }),
    (partitions, n, salt, ops) => {
      const cache = new ClaimCache(partitions, n)
      let previous: ClaimMember[] | null = null
      for (const members of views(salt, ops)) {
        views_++
        const expected = outcome(() => claim(members, partitions, n))
        const got = outcome(() => cache.owners(members))
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          throw new Error(`after ${JSON.stringify(previous)}\nview ${JSON.stringify(members)}: cache ${JSON.stringify(got)}, claim ${JSON.stringify(expected)}`)
        }
        if (previous !== null && members.length > previous.length) incremental++
        previous = members
      }
      return true
    }
  ), { numRuns: 400 })
  t.ok(incremental > 1000, `${views_} views compared, ${incremental} of them after a join`)
})

t.test('a long run of joins and leaves at 256 partitions, as a 100-node cluster grows', async (t) => {
  const cache = new ClaimCache(256, 3)
  const members: ClaimMember[] = []
  let mismatches = 0
  for (let i = 0; i < 100; i++) {
    members.push({ name: `node${i + 1}`, weight: 1, joinedAt: 10 * i, leftAt: null })
    if (i % 17 === 16) members[i - 5] = { ...members[i - 5], leftAt: 10 * i + 5 }
    // each node sees every view more than once (gossip repeats it)
    const once = cache.owners(members)
    const again = cache.owners(members)
    const expected = claim(members, 256, 3)
    if (once.join() !== expected.join() || again.join() !== expected.join()) mismatches++
  }
  t.equal(mismatches, 0, 'every view of the run: the same owners as claim()')
})

t.test('ring(): the same Ring object while no partition moves, a new one when one does', async (t) => {
  const cache = new ClaimCache(16, 3)
  const a: ClaimMember = { name: 'a', weight: 1, joinedAt: 0, leftAt: null }
  const b: ClaimMember = { name: 'b', weight: 1, joinedAt: 5, leftAt: null }
  const first = cache.ring([a])
  t.equal(cache.ring([{ ...a }]), first, 'an equal membership: the same ring')
  const second = cache.ring([a, b])
  t.not(second, first)
  t.same(second.owners, claim([a, b], 16, 3))
  t.equal(cache.ring([b, a]), second, 'member order does not matter')
  t.throws(() => cache.ring([{ ...a, leftAt: 1 }]), NoMembersError)
  t.same(cache.ring([a]).owners, first.owners, 'after an error the cache still answers right')
  const owners = cache.owners([a])
  owners[0] = 'mallory'
  t.same(cache.owners([a]), first.owners, 'the owners returned are a copy')
})
