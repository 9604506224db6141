import t from 'tap'
import fc from 'fast-check'
import { ok } from 'node:assert'
import {
  ACTOR_ID_LENGTH_MAX,
  InvalidActorError,
  LANE_MAX,
  actorId,
  compareActors,
  isActorId,
  isPlainActorId,
  laneActor,
  parseActorId
} from '../../lib/versioning/index.js'

const nodeArb = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/)
const epochArb = fc.stringMatching(/^[0-9a-f]{1,32}$/)

t.test('actorId, lanes and parseActorId', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(nodeArb, epochArb, fc.integer({ min: 0, max: LANE_MAX }), (node, epoch, lane) => {
    const actor = actorId(node, epoch)
    ok(actor === `${node}#${epoch}` && isPlainActorId(actor) && isActorId(actor))
    const onLane = laneActor(actor, lane)
    ok(isActorId(onLane) && onLane.length <= ACTOR_ID_LENGTH_MAX)
    ok(isPlainActorId(onLane) === (lane === 0))
    const parsed = parseActorId(onLane)
    ok(parsed.node === node && parsed.epoch === epoch && parsed.lane === lane)
  }), { numRuns: 500 }))

  for (const node of ['', 'a b', 'a#b', 'x'.repeat(65), 'é']) t.throws(() => actorId(node, '1'), InvalidActorError, JSON.stringify(node))
  for (const epoch of ['', 'G', 'AB', '0'.repeat(33), '1.2']) t.throws(() => actorId('node', epoch), { code: 'DYNAKV_INVALID_ACTOR' }, JSON.stringify(epoch))
  t.throws(() => actorId(1 as unknown as string, '1'), InvalidActorError)
  t.throws(() => actorId('n', 1 as unknown as string), InvalidActorError)
  t.throws(() => parseActorId('nope'), InvalidActorError)
  t.throws(() => laneActor('n#1.2', 1), InvalidActorError, 'lanes of lanes')
  t.throws(() => laneActor('n#1', LANE_MAX + 1), InvalidActorError)
  t.throws(() => laneActor('n#1', 1.5), InvalidActorError)
  t.same(parseActorId('n.1#ab.12'), { node: 'n.1', epoch: 'ab', lane: 12 }, 'dots in node names are not lanes')
  for (const bad of ['n#1.0', 'n#1.100', 'n#1.', 'n#1.a', 'n#', '#1', 5]) t.notOk(isActorId(bad), String(bad))
})

t.test('compareActors is the string order', async t => {
  t.equal(compareActors('a#1', 'b#1'), -1)
  t.equal(compareActors('b#1', 'a#1'), 1)
  t.equal(compareActors('a#1', 'a#1'), 0)
  t.equal(compareActors('a#1', 'a#1.1'), -1)
})
