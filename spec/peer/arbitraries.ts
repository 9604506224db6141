// fast-check arbitraries for every peer message, written from the message list
// in the brief (docs/design.md#peer-protocol), not generated from lib/peer's schema table: the
// compiler checks each against the types derived from the table, and the
// round-trip spec checks the table covers exactly these.
import fc from 'fast-check'
import type { MessageName, MessageOf } from '../../lib/peer/index.js'

const bytes = (maxLength = 40): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map(b => Buffer.from(b))
const str = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 12 }))
const varint = fc.oneof(fc.nat(300), fc.maxSafeNat())
const optStr = fc.option(str, { nil: null })
const optBytes = fc.option(bytes(), { nil: null })
const bytesList = fc.array(bytes(12), { maxLength: 8 })
const varintList = fc.array(varint, { maxLength: 10 })
/** Two parallel lists of one length. */
/** Plain objects (fc.record's default null prototype fails deepStrictEqual against decoded messages). */
const record: typeof fc.record = ((shape: never) => fc.record(shape, { noNullPrototype: true })) as never

const pairs = fc.array(fc.tuple(bytes(12), bytes(12)), { maxLength: 8 }).map(ps => [ps.map(p => p[0]), ps.map(p => p[1])] as const)

type Arbs = { [N in MessageName]: fc.Arbitrary<MessageOf<N>> }

export const messageArbs: Arbs = {
  HELLO: record({
    type: fc.constant('HELLO'),
    magic: fc.nat(0xffffffff),
    version: varint,
    cluster: str,
    node: str,
    nonce: bytes(16)
  }),
  AUTH: record({ type: fc.constant('AUTH'), proof: bytes(32) }),
  GOODBYE: fc.constant({ type: 'GOODBYE' }),
  OKS: record({ type: fc.constant('OKS'), ids: varintList }),
  PING: record({ type: fc.constant('PING'), digest: str }),
  PONG: record({ type: fc.constant('PONG'), digest: str }),
  GET_REPLICA: record({ type: fc.constant('GET_REPLICA'), key: bytes(), hintFor: optStr }),
  OBJECT: record({ type: fc.constant('OBJECT'), obj: optBytes }),
  PUT_REPLICA: record({ type: fc.constant('PUT_REPLICA'), key: bytes(), obj: bytes(), hintFor: optStr }),
  OK: fc.constant({ type: 'OK' }),
  FORWARD: record({ type: fc.constant('FORWARD'), proto: fc.nat(255), args: bytesList }),
  REPLY: record({ type: fc.constant('REPLY'), reply: bytes() }),
  GOSSIP: record({ type: fc.constant('GOSSIP'), membership: bytes() }),
  JOIN: record({ type: fc.constant('JOIN'), membership: bytes() }),
  MEMBERSHIP: record({ type: fc.constant('MEMBERSHIP'), membership: bytes() }),
  MERKLE_ROOTS: record({ type: fc.constant('MERKLE_ROOTS'), partitions: varintList, leaves: varint, fanout: varint }),
  ROOTS: record({ type: fc.constant('ROOTS'), roots: bytesList }),
  MERKLE_NODES: record({ type: fc.constant('MERKLE_NODES'), partition: varint, level: varint, indices: varintList }),
  NODES: record({ type: fc.constant('NODES'), hashes: bytesList }),
  KEY_DIGESTS: record({ type: fc.constant('KEY_DIGESTS'), partition: varint, leaves: varintList }),
  DIGESTS: pairs.map(([keys, digests]) => ({ type: 'DIGESTS' as const, keys, digests })),
  FETCH_OBJECTS: record({ type: fc.constant('FETCH_OBJECTS'), keys: bytesList }),
  OBJECTS: pairs.map(([keys, objs]) => ({ type: 'OBJECTS' as const, keys, objs })),
  HANDOFF_BATCH: fc.tuple(fc.constantFrom(0, 1), pairs).map(([kind, [keys, objs]]) => ({ type: 'HANDOFF_BATCH' as const, kind, keys, objs })),
  SCAN_KEYS: record({ type: fc.constant('SCAN_KEYS'), start: bytes(), end: optBytes, limit: varint }),
  KEYS: record({ type: fc.constant('KEYS'), keys: bytesList, more: fc.boolean() }),
  COUNT_KEYS: fc.constant({ type: 'COUNT_KEYS' }),
  COUNT: record({ type: fc.constant('COUNT'), n: varint, expires: varint, avgTtlMs: varint }),
  FLUSH: fc.constant({ type: 'FLUSH' }),
  READ_RECORDS: record({ type: fc.constant('READ_RECORDS'), keys: bytesList, hintFor: optStr }),
  PUT_RECORDS: fc.tuple(pairs, optStr).map(([[keys, objs], hintFor]) => ({ type: 'PUT_RECORDS' as const, keys, objs, hintFor })),
  READ_RANGE: record({ type: fc.constant('READ_RANGE'), start: bytes(), end: optBytes, limit: varint, hintFor: optStr }),
  ROWS: fc.tuple(pairs, fc.boolean()).map(([[keys, objs], more]) => ({ type: 'ROWS' as const, keys, objs, more })),
  ERROR: record({ type: fc.constant('ERROR'), code: str, message: str })
}

export const anyMessage = fc.oneof(...Object.values(messageArbs) as Array<fc.Arbitrary<MessageOf<MessageName>>>)
export const requestId = fc.nat(0xffffffff)
