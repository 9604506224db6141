import t, { type Test } from 'tap'
import fc from 'fast-check'
import { deepStrictEqual, ok } from 'node:assert'
import { DecodeError } from '../../lib/util/bytes.js'
import {
  FrameReader,
  FrameWriter,
  InvalidMessageError,
  MAX_FRAME_BYTES_DEFAULT,
  MESSAGE_NAMES,
  REQUEST_NAMES,
  RESPONSE_NAMES,
  decodeFrame,
  encodeFrame,
  nameOfCode,
  replyOf,
  schemaOf,
  type Message,
  type MessageName
} from '../../lib/peer/index.js'
import { anyMessage, messageArbs, requestId } from './arbitraries.js'

const runs = { numRuns: 300 }

function u32 (n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
}

/** A frame built by hand from the wire format: u32 length | u8 type | u32 id | body. */
function frame (type: number, id: number, body: number[]): Buffer {
  return Buffer.from([...u32(5 + body.length), type, ...u32(id), ...body])
}

function throwsDecodeError (t: Test, fn: () => unknown, name: string): void {
  try {
    fn()
    t.fail(`${name}: decoded`)
  } catch (err) {
    t.ok(err instanceof DecodeError && err.code === 'DYNAKV_DECODE', `${name}: ${(err as Error).message}`)
  }
}

function throwsInvalid (t: Test, fn: () => unknown, name: string): void {
  try {
    fn()
    t.fail(`${name}: encoded`)
  } catch (err) {
    t.ok(err instanceof InvalidMessageError && err.code === 'DYNAKV_PEER_INVALID_MESSAGE', `${name}: ${(err as Error).message}`)
  }
}

const ascii = (s: string): number[] => [...Buffer.from(s)]

t.test('the message table: the brief\'s message set, request/response pairs and code space', async t => {
  t.same(new Set(Object.keys(messageArbs)), new Set(MESSAGE_NAMES), 'one arbitrary per schema, one schema per message')
  const pairs: Record<string, string> = {
    PING: 'PONG',
    GET_REPLICA: 'OBJECT',
    PUT_REPLICA: 'OK',
    FORWARD: 'REPLY',
    GOSSIP: 'MEMBERSHIP',
    JOIN: 'MEMBERSHIP',
    MERKLE_ROOTS: 'ROOTS',
    MERKLE_NODES: 'NODES',
    KEY_DIGESTS: 'DIGESTS',
    FETCH_OBJECTS: 'OBJECTS',
    HANDOFF_BATCH: 'OK',
    SCAN_KEYS: 'KEYS',
    COUNT_KEYS: 'COUNT',
    FLUSH: 'OK',
    READ_RECORDS: 'OBJECTS',
    PUT_RECORDS: 'OK',
    READ_RANGE: 'ROWS'
  }
  t.same(new Set(REQUEST_NAMES), new Set(Object.keys(pairs)), 'the requests')
  for (const [req, res] of Object.entries(pairs)) t.equal(replyOf(req as keyof typeof pairs & typeof REQUEST_NAMES[number]), res, `${req} -> ${res}`)
  t.ok(RESPONSE_NAMES.includes('ERROR'), 'ERROR is a response')
  const codes = new Set<number>()
  for (const name of MESSAGE_NAMES) {
    const { code, role } = schemaOf(name)
    t.notOk(codes.has(code), `${name}: code 0x${code.toString(16)} unique`)
    codes.add(code)
    t.equal(code >= 0x80, role === 'response', `${name}: the high bit marks a response`)
    t.equal(nameOfCode(code), name)
  }
  let free = 0
  for (let code = 0x10; code < 0x80; code++) if (nameOfCode(code) === undefined) free++
  t.ok(free >= 64, `${free} request codes free for later messages`)
})

t.test('frames match the wire format written by hand', async t => {
  t.same(encodeFrame(7, { type: 'PING', digest: 'hi' }), frame(0x10, 7, [2, ...ascii('hi')]), 'PING')
  t.same(encodeFrame(0xffffffff, { type: 'GET_REPLICA', key: Buffer.from([1, 2]), hintFor: null }), frame(0x11, 0xffffffff, [2, 1, 2, 0]))
  t.same(
    encodeFrame(1, { type: 'PUT_REPLICA', key: Buffer.from('k'), obj: Buffer.alloc(200, 9), hintFor: 'n' }),
    frame(0x12, 1, [1, ...ascii('k'), 0xc8, 0x01, ...new Array(200).fill(9), 1, 1, ...ascii('n')]),
    'varint length 200 = c8 01, optional string tag 1'
  )
  t.same(encodeFrame(2, { type: 'KEYS', keys: [], more: true }), frame(0x9b, 2, [0, 1]), 'empty list, bool true')
  t.same(encodeFrame(3, { type: 'OK' }), frame(0x92, 3, []), 'empty body: length 5')
  t.same(encodeFrame(0, { type: 'OKS', ids: [5, 300] }), frame(0x04, 0, [2, 5, 0xac, 0x02]), 'OKS: request id 0, the ids as a varint list')
  t.same(encodeFrame(4, { type: 'MERKLE_NODES', partition: 300, level: 0, indices: [1, 128] }), frame(0x17, 4, [0xac, 0x02, 0, 2, 1, 0x80, 0x01]))
  t.same(decodeFrame(frame(0xff, 9, [3, ...ascii('E_X'), 2, ...ascii('no')])), { id: 9, msg: { type: 'ERROR', code: 'E_X', message: 'no' } })
})

t.test('round trip: every message type, random field values and ids', async t => {
  for (const name of MESSAGE_NAMES) {
    fc.assert(fc.property(messageArbs[name] as fc.Arbitrary<Message>, requestId, (msg, id) => {
      const bytes = encodeFrame(id, msg)
      deepStrictEqual(bytes.readUInt32BE(0), bytes.length - 4, 'length counts type + id + body')
      deepStrictEqual(bytes[4], schemaOf(name).code)
      deepStrictEqual(bytes.readUInt32BE(5), id)
      deepStrictEqual(decodeFrame(bytes), { id, msg })
    }), runs)
    t.pass(`${name} round-trips`)
  }
})

t.test('the stream reader cuts any split of a frame sequence into the same frames', async t => {
  fc.assert(fc.property(
    fc.array(fc.tuple(requestId, anyMessage), { minLength: 1, maxLength: 12 }),
    fc.array(fc.nat(), { maxLength: 20 }),
    (frames, cuts) => {
      const stream = Buffer.concat(frames.map(([id, msg]) => encodeFrame(id, msg)))
      const points = [...new Set(cuts.map(c => c % (stream.length + 1)))].sort((a, b) => a - b)
      const reader = new FrameReader()
      const out: unknown[] = []
      let from = 0
      for (const at of [...points, stream.length]) {
        reader.push(stream.subarray(from, at))
        from = at
        for (let f = reader.next(); f !== null; f = reader.next()) out.push(f)
      }
      deepStrictEqual(out, frames.map(([id, msg]) => ({ id, msg })))
      deepStrictEqual(reader.bufferedBytes, 0)
    }
  ), runs)
  t.pass()
})

t.test('malformed frames are rejected with DecodeError', async t => {
  const ping = encodeFrame(1, { type: 'PING', digest: 'x' })
  throwsDecodeError(t, () => decodeFrame(frame(0x7e, 1, [])), 'unknown request type')
  throwsDecodeError(t, () => decodeFrame(frame(0x80, 1, [])), 'unknown response type')
  throwsDecodeError(t, () => decodeFrame(frame(0x10, 1, [1, ...ascii('x'), 0])), 'trailing byte inside the frame')
  throwsDecodeError(t, () => decodeFrame(Buffer.concat([ping, Buffer.from([0])])), 'a byte after the frame')
  throwsDecodeError(t, () => decodeFrame(ping.subarray(0, ping.length - 1)), 'truncated')
  throwsDecodeError(t, () => decodeFrame(Buffer.from([0, 0, 0, 4, 0x10, 0, 0, 0])), 'length below 5')
  throwsDecodeError(t, () => decodeFrame(Buffer.from([0, 0, 0])), 'no length')
  throwsDecodeError(t, () => decodeFrame(frame(0x9b, 1, [0, 2])), 'bool 2')
  throwsDecodeError(t, () => decodeFrame(frame(0x11, 1, [0, 2, 0])), 'option tag 2')
  throwsDecodeError(t, () => decodeFrame(frame(0x10, 1, [2, 0xc3, 0x28])), 'invalid UTF-8')
  throwsDecodeError(t, () => decodeFrame(frame(0x19, 1, [0xe8, 0x07, 0, 0, 0])), 'list count 1000 with 3 bytes left')
  throwsDecodeError(t, () => decodeFrame(frame(0x19, 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])), 'list count 2^56 - 1')
  throwsDecodeError(t, () => decodeFrame(frame(0x91, 1, [1, 0xff, 0xff, 0xff, 0x7f])), 'a byte string longer than the frame')
  throwsDecodeError(t, () => decodeFrame(frame(0x99, 1, [2, 0, 0, 1, 0])), 'OBJECTS with 2 keys and 1 obj')
  throwsDecodeError(t, () => decodeFrame(frame(0x98, 1, [0, 1, 0])), 'DIGESTS with 0 keys and 1 digest')
  throwsDecodeError(t, () => decodeFrame(frame(0x10, 1, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1])), 'varint longer than 8 bytes')
})

t.test('the frame size limit applies before the body is buffered', async t => {
  const big = encodeFrame(1, { type: 'REPLY', reply: Buffer.alloc(1000) })
  // length = type 1 + id 4 + varint(1000) 2 + 1000
  t.equal(big.readUInt32BE(0), 1007)
  t.ok(decodeFrame(big, 1007), 'at the limit')
  throwsDecodeError(t, () => decodeFrame(big, 1006), 'one byte over')
  throwsInvalid(t, () => encodeFrame(1, { type: 'REPLY', reply: Buffer.alloc(1000) }, 1006), 'the encoder refuses it too')
  const reader = new FrameReader(1024)
  reader.push(Buffer.from(u32(MAX_FRAME_BYTES_DEFAULT + 1)))
  throwsDecodeError(t, () => reader.next(), 'a 16 MiB + 1 header alone')
  const small = new FrameReader(1024)
  small.push(Buffer.from([0, 0, 0]))
  t.equal(small.next(), null, 'an incomplete header waits')
  small.push(Buffer.from([5, 0x92, 0, 0]))
  t.equal(small.next(), null, 'an incomplete frame waits')
  small.push(Buffer.from([0, 1]))
  t.same(small.next(), { id: 1, msg: { type: 'OK' } })
})

t.test('the encoder refuses messages that do not fit their schema', async t => {
  const cases: Array<[string, unknown]> = [
    ['unknown type', { type: 'NOPE' }],
    ['prototype key as a type', { type: 'toString' }],
    ['u8 of 256', { type: 'FORWARD', proto: 256, args: [] }],
    ['u8 fraction', { type: 'FORWARD', proto: 1.5, args: [] }],
    ['negative varint', { type: 'COUNT', n: -1 }],
    ['unsafe varint', { type: 'COUNT', n: 2 ** 53 }],
    ['string as bytes', { type: 'REPLY', reply: 'x' }],
    ['undefined optional', { type: 'GET_REPLICA', key: Buffer.alloc(1) }],
    ['number as string', { type: 'PING', digest: 5 }],
    ['string as optional bytes', { type: 'OBJECT', obj: 'x' }],
    ['number as optional string', { type: 'GET_REPLICA', key: Buffer.alloc(1), hintFor: 3 }],
    ['list of strings', { type: 'FETCH_OBJECTS', keys: ['a'] }],
    ['bool as number', { type: 'KEYS', keys: [], more: 1 }],
    ['u32 overflow', { type: 'HELLO', magic: 2 ** 32, version: 1, cluster: '', node: '', nonce: Buffer.alloc(0) }],
    ['varint list with a negative', { type: 'KEY_DIGESTS', partition: 0, leaves: [1, -2] }],
    ['parallel lists of different lengths', { type: 'HANDOFF_BATCH', kind: 0, keys: [Buffer.alloc(1)], objs: [] }]
  ]
  for (const [name, msg] of cases) throwsInvalid(t, () => encodeFrame(1, msg as Message), name)
  throwsInvalid(t, () => encodeFrame(-1, { type: 'OK' }), 'negative id')
  throwsInvalid(t, () => encodeFrame(2 ** 32, { type: 'OK' }), 'id past u32')
})

t.test('an outbox writer appends frames as encodeFrame makes them; taken bytes stay as taken; a refused frame leaves nothing', async t => {
  const bad = { type: 'PING', digest: 5 } as unknown as Message
  fc.assert(fc.property(
    fc.array(fc.tuple(requestId, anyMessage, fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 12 }),
    fc.integer({ min: 16, max: 256 }),
    (frames, slab) => {
      const w = new FrameWriter(slab)
      const taken: Buffer[] = []
      const copies: Buffer[] = []
      const expected: Buffer[] = []
      for (const [id, msg, takeNow, refuse] of frames) {
        const bytes = encodeFrame(id, msg)
        deepStrictEqual(w.frame(id, msg), bytes.length)
        expected.push(bytes)
        if (refuse) {
          const before = w.pending
          let threw = false
          try { w.frame(1, bad) } catch (err) { threw = err instanceof InvalidMessageError }
          ok(threw && w.pending === before, 'a refused frame is not appended')
          // too large for the limit, after its fields were written (a buffer may grow meanwhile)
          threw = false
          try { w.frame(id, msg, bytes.length - 5) } catch (err) { threw = err instanceof InvalidMessageError }
          ok(threw && w.pending === before, 'a frame over the limit is not appended')
        }
        if (takeNow) {
          const view = w.take()
          taken.push(view)
          copies.push(Buffer.from(view))
        }
      }
      const last = w.take()
      taken.push(last)
      copies.push(Buffer.from(last))
      deepStrictEqual(w.pending, 0)
      // every view still holds what it held when taken, and together they are the frames in order
      for (let i = 0; i < taken.length; i++) deepStrictEqual(taken[i], copies[i])
      deepStrictEqual(Buffer.concat(taken), Buffer.concat(expected))
    }
  ), runs)
  t.pass()
})

t.test('fuzz: random bytes only ever decode or throw DecodeError', async t => {
  const decodesOrRejects = (bytes: Buffer): void => {
    let decoded
    try {
      decoded = decodeFrame(bytes)
    } catch (err) {
      ok(err instanceof DecodeError, `threw ${String(err)}`)
      return
    }
    // whatever decodes is a well-formed message: it encodes and decodes to itself
    deepStrictEqual(decodeFrame(encodeFrame(decoded.id, decoded.msg)), decoded)
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), b => decodesOrRejects(Buffer.from(b))), { numRuns: 2000 })
  // random bodies behind a valid header reach the field decoders
  const codes = MESSAGE_NAMES.map(n => schemaOf(n).code)
  fc.assert(fc.property(fc.constantFrom(...codes), requestId, fc.uint8Array({ maxLength: 100 }), (code, id, body) => {
    decodesOrRejects(frame(code, id, [...body]))
  }), { numRuns: 3000 })
  t.pass()
})

t.test('fuzz: mutated valid frames only ever decode or throw DecodeError', async t => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) })
  )
  fc.assert(fc.property(requestId, anyMessage, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (id, msg, mutations, fixLength) => {
    let bytes = Buffer.from(encodeFrame(id, msg))
    for (const m of mutations) {
      const at = m.at % (bytes.length + 1)
      if (m.kind === 'set' && bytes.length > 0) bytes[at % bytes.length] = m.value
      else if (m.kind === 'cut') bytes = bytes.subarray(0, at)
      else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)])
    }
    // fixing the length prefix sends the mutation past the length check into the body
    if (fixLength && bytes.length >= 4) bytes.writeUInt32BE(bytes.length - 4, 0)
    try {
      const decoded = decodeFrame(bytes)
      deepStrictEqual(decodeFrame(encodeFrame(decoded.id, decoded.msg)), decoded)
    } catch (err) {
      ok(err instanceof DecodeError, `threw ${String(err)}`)
    }
    // the stream reader fails the same way, whatever the chunking
    const reader = new FrameReader()
    try {
      reader.push(bytes)
      for (let i = 0; i < 4 && reader.next() !== null; i++) { /* drain the frames */ }
    } catch (err) {
      ok(err instanceof DecodeError, `stream threw ${String(err)}`)
    }
  }), { numRuns: 3000 })
  t.pass()
})

t.test('decoded byte fields are copies, not views of the receive buffer', async t => {
  const bytes = encodeFrame(1, { type: 'REPLY', reply: Buffer.from('abc') })
  const { msg } = decodeFrame(bytes)
  bytes.fill(0)
  t.same(msg, { type: 'REPLY', reply: Buffer.from('abc') }, 'unchanged after the frame is overwritten')
})

t.test('a FrameReader made with views decodes bytes fields as views of the chunk pushed; without, as copies', async t => {
  const frame = encodeFrame(7, { type: 'PUT_REPLICA', key: Buffer.from('k1'), obj: Buffer.from('record'), hintFor: null })
  for (const views of [true, false]) {
    const chunk = Buffer.concat([frame, frame.subarray(0, 5)]) // a whole frame, then part of the next
    const reader = new FrameReader(undefined, views)
    reader.push(chunk)
    const msg = reader.next()?.msg as { key: Buffer, obj: Buffer }
    t.same([msg.key.toString(), msg.obj.toString()], ['k1', 'record'])
    t.equal(reader.next(), null, 'the partial frame waits')
    chunk.fill(0x78, 0, frame.length)
    t.same([msg.key.toString(), msg.obj.toString()], views ? ['xx', 'xxxxxx'] : ['k1', 'record'], views ? 'views share the chunk\'s bytes' : 'copies keep theirs')
    reader.push(frame.subarray(5))
    t.same((reader.next()?.msg as { obj: Buffer }).obj.toString(), 'record', 'a frame across two chunks')
  }
})

const _typeCheck = (m: Message): string => {
  // a discriminated union: narrowing on `type` reaches each message's fields
  switch (m.type) {
    case 'GET_REPLICA': return m.key.toString() + (m.hintFor ?? '')
    case 'KEYS': return String(m.more)
    default: return m.type satisfies MessageName
  }
}
void _typeCheck
