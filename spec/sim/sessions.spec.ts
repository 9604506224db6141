// Read-your-writes for client sessions (spec/sim/sessions.ts): where R + W > N
// promises it (every node up, no message lost, uneven delays), no session's
// GET returns anything but its last acknowledged SET (or a later one of
// unknown outcome). The checker's rule on hand-made histories first, then the
// scenario on seeds 1-3 (3, 4 and 5 nodes). The stale-read plant breaks it
// (sweep-finds.spec.ts). DYNAKV_SEED=<n> replays one seed; DYNAKV_SEEDS=a-b sweeps a range.
import t from 'tap'
import type { Reply } from '../../lib/resp/reply.js'
import { SessionHistory } from './sessions.js'
import { runSessions, sessions } from './scenarios/sessions.js'
import { outcomeOf, seedsFrom, type Op } from './typed.js'

let seq = 0
function op (args: string[], reply: Reply): Op {
  return { node: 'node1', args, invokedMs: 10, doneMs: 10, invokedSeq: ++seq, doneSeq: ++seq, outcome: outcomeOf(reply), reply }
}
const ok: Reply = { type: 'simple', value: 'OK' }
const set = (v: string, reply: Reply = ok): Op => op(['SET', 'rw0', v], reply)
const get = (v: string | null): Op => op(['GET', 'rw0'], v === null ? { type: 'null' } : { type: 'bulk', value: v })

function check (...ops: Op[]): string[] {
  const h = new SessionHistory()
  for (const o of ops) h.record(0, o)
  return h.check()
}

t.test('read-your-writes checker: valid and invalid session histories', async (t) => {
  t.same(check(get(null), set('a'), get('a'), set('b'), get('b'), get('b')), [], 'valid: every GET returns the last acknowledged SET (nil before any)')
  t.same(check(set('a'), set('b', { type: 'error', value: 'NOQUORUM write: 1 of 2 replicas acknowledged' }), get('a'), get('b'), get('a')), [],
    'valid: after a SET of unknown outcome, either value, in any order (the unknown write may sit on one replica)')
  t.same(check(set('a'), set('b', { type: 'error', value: 'ERR node1 is down' }), get('a')), [], 'valid: a SET that failed for sure is not required')
  t.match(check(set('a'), set('b'), get('a')), [/^session 0: GET rw0 via node1 at 10 returned a, not b \(read-your-writes\)$/], 'invalid: a GET missing the last acknowledged SET')
  t.match(check(set('a'), get(null)), [/returned nil, not a/], 'invalid: a GET missing the only SET')
  t.match(check(set('a'), get('z')), [/returned z, not a/], 'invalid: a value the session never wrote')
  t.match(check(set('a'), set('b', { type: 'error', value: 'NOQUORUM write: 1 of 2 replicas acknowledged' }), set('c'), get('b')), [/returned b, not c/],
    'invalid: an unknown write older than the last acknowledged one')
})

for (const seed of seedsFrom([1, 2, 3])) {
  t.test(`seed ${seed} (${3 + seed % 3} nodes, N=3 R=2 W=2)`, async (t) => {
    const { problems, h } = await runSessions(seed, sessions.defaults)
    t.ok(h.reads() >= 80, `enough reads to mean something (${h.log.summary()}; ${h.reads()} GETs checked)`)
    t.same(problems, [], `every session read its writes (replay: npm run sim -- --scenario sessions --seed ${seed})`)
  })
}
