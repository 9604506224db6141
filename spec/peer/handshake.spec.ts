import t from 'tap'
import fc from 'fast-check'
import { createHmac } from 'node:crypto'
import { Handshake, HandshakeError, NONCE_BYTES, PEER_MAGIC, PROTOCOL_VERSION, PROTOCOL_VERSION_MIN, type HandshakeOptions, type Message } from '../../lib/peer/index.js'
import { seededRandom } from '../../lib/runtime/random.js'

const random = seededRandom(42)
const nonce = (): Buffer => Buffer.from(random.hex(NONCE_BYTES), 'hex')

function side (nodeName: string, over: Partial<HandshakeOptions> = {}): Handshake {
  return new Handshake({ nodeName, clusterName: 'prod', clusterSecret: 's3cret', expectedPeer: null, nonce: nonce(), ...over })
}

/** Runs both sides to the end; returns the error each side threw, if any. */
function run (a: Handshake, b: Handshake): { a: HandshakeError | null, b: HandshakeError | null } {
  const out: { a: HandshakeError | null, b: HandshakeError | null } = { a: null, b: null }
  const feed = (h: Handshake, msg: Message, key: 'a' | 'b'): Message | null => {
    if (out[key] !== null) return null
    try {
      return h.receive(msg)
    } catch (err) {
      out[key] = err as HandshakeError
      return null
    }
  }
  const authA = feed(a, b.hello, 'a')
  const authB = feed(b, a.hello, 'b')
  if (authB !== null) feed(a, authB, 'a')
  if (authA !== null) feed(b, authA, 'b')
  return out
}

t.test('two sides with the same secret and cluster complete, and learn each other\'s name', async t => {
  const a = side('a')
  const b = side('b', { expectedPeer: 'a' })
  t.same(run(a, b), { a: null, b: null })
  t.ok(a.complete && b.complete)
  t.equal(a.peerName, 'b')
  t.equal(b.peerName, 'a')
  t.equal(a.hello.magic, PEER_MAGIC)
  t.equal(a.hello.version, PROTOCOL_VERSION)
  t.equal(a.hello.nonce.length, 16)
})

t.test('sides of different versions from the oldest supported on speak the lower one (a rolling upgrade)', async t => {
  for (const v of [PROTOCOL_VERSION_MIN, PROTOCOL_VERSION, PROTOCOL_VERSION + 1]) {
    const a = side('a')
    const b = side('b', { version: v })
    t.same(run(a, b), { a: null, b: null }, `version ${v} accepted`)
    t.equal(a.version, Math.min(v, PROTOCOL_VERSION), `${v}: a speaks the lower version`)
    t.equal(b.version, a.version, `${v}: both sides agree`)
  }
})

t.test('the proof is HMAC-SHA256 of the secret over both nonces and both names', async t => {
  const a = side('a')
  const b = side('b')
  const auth = a.receive(b.hello)
  t.ok(auth !== null && auth.proof.length === 32)
  // a different label, order or secret gives another proof
  const naive = createHmac('sha256', 's3cret').update(Buffer.concat([a.hello.nonce, b.hello.nonce])).digest()
  t.notSame(auth?.proof, naive, 'domain-separated and bound to the names')
})

t.test('every mismatch is refused with its own code', async t => {
  const cases: Array<[string, Partial<HandshakeOptions>, Partial<HandshakeOptions>, string, RegExp]> = [
    ['wrong secret', {}, { clusterSecret: 'other' }, 'DYNAKV_PEER_WRONG_SECRET', /wrong cluster secret/],
    ['wrong cluster', {}, { clusterName: 'staging' }, 'DYNAKV_PEER_WRONG_CLUSTER', /wrong cluster name "staging"/],
    ['wrong version', {}, { version: PROTOCOL_VERSION_MIN - 1 }, 'DYNAKV_PEER_VERSION_MISMATCH', new RegExp(`protocol version ${PROTOCOL_VERSION_MIN - 1} not supported \\(this node speaks ${PROTOCOL_VERSION_MIN} to ${PROTOCOL_VERSION}\\)`)],
    ['wrong magic', {}, { magic: 0x48545450 }, 'DYNAKV_PEER_BAD_MAGIC', /bad magic/],
    ['wrong name', { expectedPeer: 'c' }, {}, 'DYNAKV_PEER_WRONG_NAME', /expected "c", peer is "b"/],
    ['own name', {}, { nodeName: 'a' }, 'DYNAKV_PEER_SELF', /own name/]
  ]
  for (const [name, overA, overB, code, reason] of cases) {
    const a = side('a', overA)
    const b = side(overB.nodeName ?? 'b', overB)
    const { a: err } = run(a, b)
    t.ok(err instanceof HandshakeError, `${name}: refused`)
    t.equal(err?.code, code, `${name}: code`)
    t.match(err?.message, reason, `${name}: reason`)
    t.notOk(a.complete, `${name}: not complete`)
  }
})

t.test('a recorded handshake cannot be replayed against a fresh nonce', async t => {
  fc.assert(fc.property(fc.string({ minLength: 1 }), secret => {
    const a1 = side('a', { clusterSecret: secret })
    const b = side('b', { clusterSecret: secret })
    const recordedAuth = b.receive(a1.hello) as Message
    t.ok(recordedAuth)
    // the attacker replays b's HELLO and AUTH to a new session of a
    const a2 = side('a', { clusterSecret: secret })
    a2.receive(b.hello)
    try {
      a2.receive(recordedAuth)
      return false
    } catch (err) {
      return err instanceof HandshakeError && err.code === 'DYNAKV_PEER_WRONG_SECRET'
    }
  }), { numRuns: 50 })
})

t.test('a proof reflected back to its sender, or a reflected nonce, is refused', async t => {
  const a = side('a')
  const b = side('b')
  const authA = a.receive(b.hello) as Message
  t.throws(() => a.receive(authA), { code: 'DYNAKV_PEER_WRONG_SECRET' }, 'a\'s own proof is not b\'s')
  const c = side('c')
  t.throws(() => c.receive({ ...c.hello, node: 'mirror' }), { code: 'DYNAKV_PEER_HANDSHAKE' }, 'our own nonce back')
})

t.test('messages out of order are refused', async t => {
  const a = side('a')
  t.throws(() => a.receive({ type: 'AUTH', proof: Buffer.alloc(32) }), { code: 'DYNAKV_PEER_HANDSHAKE' }, 'AUTH before HELLO')
  const b = side('b')
  b.receive(side('x').hello)
  t.throws(() => b.receive(side('y').hello), { code: 'DYNAKV_PEER_HANDSHAKE' }, 'HELLO twice')
  const c = side('c')
  const d = side('d')
  t.same(run(c, d), { a: null, b: null })
  t.throws(() => c.receive({ type: 'AUTH', proof: Buffer.alloc(32) }), { code: 'DYNAKV_PEER_HANDSHAKE' }, 'after completion')
  t.throws(() => side('e').receive({ ...side('f').hello, nonce: Buffer.alloc(3) }), { code: 'DYNAKV_PEER_HANDSHAKE' }, 'short nonce')
  t.throws(() => side('g').receive({ type: 'PING', digest: '' }), { code: 'DYNAKV_PEER_HANDSHAKE' }, 'a request')
  t.throws(() => new Handshake({ nodeName: 'a', clusterName: 'c', clusterSecret: 's', expectedPeer: null, nonce: Buffer.alloc(4) }), RangeError)
  const h = side('h')
  h.receive(side('i').hello)
  t.throws(() => h.receive({ type: 'AUTH', proof: Buffer.alloc(5) }), { code: 'DYNAKV_PEER_WRONG_SECRET' }, 'a short proof')
})
