import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual } from 'node:assert'
import { DecodeError } from '../../lib/util/bytes.js'
import { decodeReplyBinary, encodeReplyBinary } from '../../lib/resp/reply-binary.js'
import {
  MAX_REPLY_DEPTH, NULL, NULL_ARRAY, OK, ONE, array, bool, bulk, double, err, int, map, set, simple, verbatim, type Reply
} from '../../lib/resp/reply.js'
import { replyArb } from './arbitraries.js'

const roundTrip = (r: Reply): Reply => decodeReplyBinary(encodeReplyBinary(r))

t.test('every kind of reply survives the round trip, types included', async t => {
  const replies: Reply[] = [
    OK, simple(''), err('ERR é'), verbatim('txt'), int(0), int(7), int(-7), int(Number.MAX_SAFE_INTEGER), int(-Number.MAX_SAFE_INTEGER),
    int(5n), int(-(2n ** 63n)), int(2n ** 63n - 1n), bulk('é'), bulk(Buffer.from([0, 255])), NULL, NULL_ARRAY,
    array([]), array([ONE, array([bulk('x')])]), set([bulk('a')]), map([[bulk('k'), map([])]]),
    double(1.5), double(-0), double(NaN), double(Infinity), bool(true), bool(false)
  ]
  for (const r of replies) deepStrictEqual(roundTrip(r), r, JSON.stringify(r, (_, v: unknown) => typeof v === 'bigint' ? `${v}n` : v))
  t.equal(typeof (roundTrip(int(5n)) as { value: unknown }).value, 'bigint', 'a bigint stays a bigint')
  t.equal(typeof (roundTrip(bulk('s')) as { value: unknown }).value, 'string', 'a string bulk stays a string')
  t.ok(Buffer.isBuffer((roundTrip(bulk(Buffer.from('b'))) as { value: unknown }).value), 'a Buffer bulk stays a Buffer')
  t.equal(encodeReplyBinary(ONE).length, 3, 'compact: version, tag, varint')
  t.pass('all kinds')
})

t.test('property: decode(encode(r)) equals r', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(replyArb, r => {
    deepStrictEqual(roundTrip(r), r)
  }), { numRuns: 2000 }))
})

t.test('the encoder refuses what the decoder would', async t => {
  const deep = Array.from({ length: MAX_REPLY_DEPTH + 1 }).reduce<Reply>(inner => array([inner]), ONE)
  t.throws(() => encodeReplyBinary(deep), RangeError)
  t.throws(() => encodeReplyBinary(Array.from({ length: MAX_REPLY_DEPTH + 1 }).reduce<Reply>(inner => map([[inner, ONE]]), ONE)), RangeError)
  t.throws(() => encodeReplyBinary({ type: 'int', value: 2 ** 60 }), RangeError)
  t.throws(() => encodeReplyBinary({ type: 'int', value: -1.5 }), RangeError)
  t.throws(() => encodeReplyBinary({ type: 'int', value: 2n ** 63n }), RangeError)
  t.throws(() => encodeReplyBinary({ type: 'what' } as unknown as Reply), TypeError)
  const ok = Array.from({ length: MAX_REPLY_DEPTH }).reduce<Reply>(inner => array([inner]), ONE)
  t.same(roundTrip(ok), ok, `${MAX_REPLY_DEPTH} levels are fine`)
})

t.test('malformed input throws DecodeError', async t => {
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['unknown version', Buffer.from([2, 8])],
    ['no reply', Buffer.from([1])],
    ['unknown tag', Buffer.from([1, 99])],
    ['trailing bytes', Buffer.from([1, 8, 8])],
    ['truncated string', Buffer.from([1, 1, 5, 65])],
    ['truncated int64', Buffer.from([1, 5, 0, 0])],
    ['truncated double', Buffer.from([1, 13, 0])],
    ['negative zero', Buffer.from([1, 4, 0])],
    ['count larger than the bytes left', Buffer.from([1, 10, 0xff, 0xff, 0xff, 0x7f, 8])],
    ['map count larger than half the bytes left', Buffer.from([1, 11, 2, 8, 8, 8])],
    ['varint too long', Buffer.from([1, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['too deep', Buffer.from([1, ...Array<number>(MAX_REPLY_DEPTH + 1).fill(0).flatMap(() => [10, 1]), 8])]
  ]
  for (const [name, buf] of cases) t.throws(() => decodeReplyBinary(buf), { code: 'DYNAKV_DECODE' }, name)
  const deep = encodeReplyBinary(Array.from({ length: 10 }).reduce<Reply>(inner => array([inner]), ONE))
  t.throws(() => decodeReplyBinary(deep, { maxDepth: 5 }), { code: 'DYNAKV_DECODE' }, 'maxDepth')
  t.doesNotThrow(() => decodeReplyBinary(deep, { maxDepth: 10 }))
  const deepMap = encodeReplyBinary(Array.from({ length: 10 }).reduce<Reply>(inner => map([[ONE, inner]]), ONE))
  t.throws(() => decodeReplyBinary(deepMap, { maxDepth: 5 }), { code: 'DYNAKV_DECODE' }, 'maxDepth, maps')
})

t.test('fuzz: garbage either decodes or throws DecodeError', async t => {
  const check = (buf: Buffer): void => {
    let r: Reply
    try {
      r = decodeReplyBinary(buf)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      return
    }
    // What decodes is a Reply the encoder takes, and it reads back the same.
    // (Not always the same bytes: Reader accepts over-long varints.)
    deepStrictEqual(roundTrip(r), r)
  }
  t.doesNotThrow(() => fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), b => check(Buffer.concat([Buffer.from([1]), Buffer.from(b)]))), { numRuns: 20000 }), 'random bytes')
  t.doesNotThrow(() => fc.assert(fc.property(replyArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (r, at, byte, cut) => {
    const buf = Buffer.from(encodeReplyBinary(r))
    buf[at % buf.length] = byte
    check(buf)
    check(buf.subarray(0, cut % (buf.length + 1)))
  }), { numRuns: 5000 }), 'valid encodings with a byte changed or cut short')
})
