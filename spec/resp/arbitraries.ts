// fast-check arbitraries for Reply trees.

import fc from 'fast-check'
import {
  NULL, NULL_ARRAY, array, bool, bulk, double, err, int, map, set, simple, verbatim, type Reply
} from '../../lib/resp/reply.js'

const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom('', 'OK', 'a\r\nb', '\n', 'ERR x\ry', 'é€😀')
)

/** Error texts are latin1 (one character per byte): they echo client bytes exactly. */
const latin1 = fc.oneof(
  fc.uint8Array({ maxLength: 20 }).map(a => Buffer.from(a).toString('latin1')),
  fc.constantFrom('', 'ERR x', 'a\r\nb', 'caf\u00e9')
)

export const leafArb: fc.Arbitrary<Reply> = fc.oneof(
  text.map(simple),
  latin1.map(err),
  fc.maxSafeInteger().map(int),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int),
  fc.uint8Array({ maxLength: 40 }).map(a => bulk(Buffer.from(a))),
  text.map(bulk),
  fc.constant(NULL),
  fc.constant(NULL_ARRAY),
  fc.double().map(double),
  fc.boolean().map(bool),
  text.map(verbatim),
  // Past the writer's 16 KB threshold for referencing a payload.
  fc.integer({ min: 16 * 1024 - 2, max: 17 * 1024 }).map(n => bulk(Buffer.alloc(n, 'z'))),
  fc.integer({ min: 16 * 1024 - 2, max: 17 * 1024 }).map(n => verbatim('v'.repeat(n)))
)

export const replyArb: fc.Arbitrary<Reply> = fc.letrec<{ node: Reply }>(tie => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('node'), { maxLength: 4 }).map(array),
    fc.array(fc.tuple(tie('node'), tie('node')), { maxLength: 3 }).map(map),
    fc.array(tie('node'), { maxLength: 4 }).map(set)
  )
})).node
