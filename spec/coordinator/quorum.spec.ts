// The quorum tracker of one request (lib/coordinator/quorum.ts) against its
// definition, on every order of replies: won as soon as R/W replies (PW of
// them from primaries) succeeded, lost exactly when the replies still
// outstanding can no longer win it, pending otherwise; won and lost are final.
// And the -NOQUORUM text of docs/design.md#errors, which /metrics parses back.
import t from 'tap'
import fc from 'fast-check'
import { QuorumTracker, noQuorumMessage, parseNoQuorum, type QuorumState } from '../../lib/coordinator/quorum.js'

interface Reply { primary: boolean, ok: boolean }

/** The state by definition: won now, or can the outstanding replies (all succeeding at best) still win it? */
function expected (needed: number, primariesNeeded: number, replies: Reply[], asked: Reply[]): QuorumState {
  const ok = replies.filter(r => r.ok).length
  const okPrimaries = replies.filter(r => r.ok && r.primary).length
  if (ok >= needed && okPrimaries >= primariesNeeded) return 'won'
  const rest = asked.slice(replies.length)
  const best = ok + rest.length
  const bestPrimaries = okPrimaries + rest.filter(r => r.primary).length
  return best >= needed && bestPrimaries >= primariesNeeded ? 'pending' : 'lost'
}

const scenario = fc.integer({ min: 1, max: 7 }).chain(total => fc.record({
  total: fc.constant(total),
  needed: fc.integer({ min: 1, max: total + 1 }),
  primariesNeeded: fc.integer({ min: 0, max: total + 1 }),
  // every reply (in arrival order) with whether it came from a primary and succeeded
  replies: fc.array(fc.record({ primary: fc.boolean(), ok: fc.boolean() }), { minLength: total, maxLength: total })
}))

t.test('the state after every reply is the one the definition gives', async (t) => {
  fc.assert(fc.property(scenario, ({ total, needed, primariesNeeded, replies }) => {
    const primariesAsked = replies.filter(r => r.primary).length
    const q = new QuorumTracker(needed, total, primariesNeeded, primariesAsked)
    if (q.state !== expected(needed, primariesNeeded, [], replies)) return false
    let settled: QuorumState | null = null
    for (let i = 0; i < replies.length; i++) {
      const r = replies[i]
      const state = r.ok ? q.success(r.primary) : q.failure(r.primary)
      if (state !== expected(needed, primariesNeeded, replies.slice(0, i + 1), replies)) return false
      if (settled !== null && state !== settled) return false // won and lost are final
      if (state !== 'pending') settled = state
      if (q.outstanding !== total - i - 1) return false
    }
    return q.state !== 'pending' // every reply in: decided
  }), { numRuns: 3000 })
  t.pass('3000 random request shapes and reply orders')
})

t.test('more replies than replicas asked, or a quorum below 1, is a programmer error', async (t) => {
  const q = new QuorumTracker(1, 1)
  q.success(true)
  t.throws(() => q.success(true), /more replies than replicas asked/)
  t.throws(() => q.failure(false), /more replies than replicas asked/)
  t.throws(() => new QuorumTracker(0, 3), RangeError)
  t.throws(() => new QuorumTracker(2, 3, 0, 4), /more primaries asked than replicas/)
})

t.test('a request that asked nobody is lost at once; R=1 of one is won by its reply', async (t) => {
  t.equal(new QuorumTracker(1, 0).state, 'lost')
  const one = new QuorumTracker(1, 1)
  t.equal(one.state, 'pending')
  t.equal(one.success(false), 'won')
})

t.test('the -NOQUORUM text of docs/design.md#errors, and its parse', async (t) => {
  t.equal(noQuorumMessage('read', 2, 1), 'NOQUORUM read needed 2 replicas, 1 answered')
  t.equal(noQuorumMessage('write', 3, 1), 'NOQUORUM write needed 3 replicas, 1 answered; the write may still have been stored on some replicas')
  t.equal(noQuorumMessage('write', 2, 2, { needed: 2, answered: 1 }), 'NOQUORUM write needed 2 replicas, 2 answered (1 of 2 primaries); the write may still have been stored on some replicas')
  t.equal(noQuorumMessage('write', 2, 2, { needed: 0, answered: 0 }), 'NOQUORUM write needed 2 replicas, 2 answered; the write may still have been stored on some replicas', 'PW 0: no primaries clause')
  fc.assert(fc.property(fc.constantFrom<'read' | 'write'>('read', 'write'), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 16 }), (op, needed, answered, pw) => {
    const parsed = parseNoQuorum(noQuorumMessage(op, needed, answered, { needed: pw, answered: 0 }) + ' (forwarded to n1, which did not answer)')
    return parsed !== null && parsed.op === op && parsed.needed === needed
  }))
  t.equal(parseNoQuorum('ERR something else'), null)
  t.equal(parseNoQuorum('NOQUORUM FLUSHALL needs every node'), null, 'another NOQUORUM text is not a read or write quorum')
})
