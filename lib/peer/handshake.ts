// The peer handshake as a small state machine, without I/O: the transport
// feeds it the peer's messages and writes what it returns.
//
//   both sides                          both sides
//   send HELLO {magic, version,   -->   check magic, version, cluster name,
//     cluster, node, nonce}             nonce, and the expected node name;
//                                       send AUTH {proof}
//   receive AUTH                  -->   check the proof: complete
//
//   proof = HMAC-SHA256(secret, LABEL | own nonce | peer nonce | own name |
//                               peer name | cluster name)
//
// (each part length-prefixed, so no two tuples encode alike). Each side
// proves knowledge of the secret over both nonces: a recorded handshake fails
// against a fresh nonce, and a proof reflected back to its sender fails
// because the nonces and names are taken in the other order. TCP's ordering
// makes "complete" safe: the peer reads our AUTH before any request we send.

import { createHmac, timingSafeEqual } from 'node:crypto'
import { Writer } from '../util/bytes.js'
import { HandshakeError } from './errors.js'
import { PEER_MAGIC, PROTOCOL_VERSION, PROTOCOL_VERSION_MIN, type Message, type MessageOf } from './messages.js'

export const HANDSHAKE_LABEL = 'dynakv peer handshake v1'
export const NONCE_BYTES = 16
export const PROOF_BYTES = 32

export interface HandshakeOptions {
  nodeName: string
  clusterName: string
  clusterSecret: string | Uint8Array
  /** The node name the dialer expects to reach; null when accepting, or dialing a seed. */
  expectedPeer: string | null
  /** NONCE_BYTES fresh random bytes. */
  nonce: Buffer
  /** Defaults to PROTOCOL_VERSION; tests pretend to be other versions. */
  version?: number
  magic?: number
}

export function handshakeProof (
  secret: string | Uint8Array, cluster: string, ownName: string, peerName: string, ownNonce: Uint8Array, peerNonce: Uint8Array
): Buffer {
  const input = new Writer(128)
    .string(HANDSHAKE_LABEL)
    .bytes(ownNonce)
    .bytes(peerNonce)
    .string(ownName)
    .string(peerName)
    .string(cluster)
    .finish()
  return createHmac('sha256', secret).update(input).digest()
}

export class Handshake {
  readonly hello: MessageOf<'HELLO'>
  /** The peer's name, known once its HELLO is accepted (authenticated only once `complete`). */
  peerName: string | null = null
  /** The name the peer's HELLO claimed, accepted or not (for logs: never authenticated). */
  claimedName: string | null = null
  /** The version this connection speaks, once the peer's HELLO is accepted: the lower of the two. */
  version = 0
  private peerNonce: Buffer | null = null
  private done = false

  constructor (private readonly opts: HandshakeOptions) {
    if (opts.nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`)
    this.hello = {
      type: 'HELLO',
      magic: opts.magic ?? PEER_MAGIC,
      version: opts.version ?? PROTOCOL_VERSION,
      cluster: opts.clusterName,
      node: opts.nodeName,
      nonce: opts.nonce
    }
  }

  get complete (): boolean { return this.done }

  /**
   * Takes the peer's next handshake message. Returns our AUTH after its HELLO,
   * null after its AUTH (the handshake is then complete). Throws HandshakeError
   * for anything wrong; the caller sends it as ERROR and closes.
   */
  receive (msg: Message): MessageOf<'AUTH'> | null {
    if (this.done) throw new HandshakeError('DYNAKV_PEER_HANDSHAKE', `unexpected ${msg.type} after the handshake`)
    if (this.peerNonce === null) {
      if (msg.type !== 'HELLO') throw new HandshakeError('DYNAKV_PEER_HANDSHAKE', `expected HELLO, got ${msg.type}`)
      return this.acceptHello(msg)
    }
    if (msg.type !== 'AUTH') throw new HandshakeError('DYNAKV_PEER_HANDSHAKE', `expected AUTH, got ${msg.type}`)
    this.acceptAuth(msg)
    return null
  }

  private acceptHello (hello: MessageOf<'HELLO'>): MessageOf<'AUTH'> {
    const { opts } = this
    this.claimedName = hello.node
    if (hello.magic !== this.hello.magic) {
      throw new HandshakeError('DYNAKV_PEER_BAD_MAGIC', `bad magic 0x${hello.magic.toString(16)}: not a dynakv peer`)
    }
    // A newer peer speaks this node's version (it checks against its own minimum); an older one must not be below ours.
    if (hello.version < PROTOCOL_VERSION_MIN) {
      throw new HandshakeError(
        'DYNAKV_PEER_VERSION_MISMATCH',
        `protocol version ${hello.version} not supported (this node speaks ${PROTOCOL_VERSION_MIN} to ${this.hello.version})`
      )
    }
    if (hello.cluster !== opts.clusterName) {
      throw new HandshakeError(
        'DYNAKV_PEER_WRONG_CLUSTER',
        `wrong cluster name ${JSON.stringify(hello.cluster)} (this node is in ${JSON.stringify(opts.clusterName)})`
      )
    }
    if (hello.nonce.length !== NONCE_BYTES) throw new HandshakeError('DYNAKV_PEER_HANDSHAKE', `nonce of ${hello.nonce.length} bytes`)
    if (hello.nonce.equals(opts.nonce)) throw new HandshakeError('DYNAKV_PEER_HANDSHAKE', 'nonce reflected')
    if (hello.node === opts.nodeName) throw new HandshakeError('DYNAKV_PEER_SELF', `peer claims this node's own name ${JSON.stringify(hello.node)}`)
    if (opts.expectedPeer !== null && hello.node !== opts.expectedPeer) {
      throw new HandshakeError(
        'DYNAKV_PEER_WRONG_NAME',
        `wrong node name: expected ${JSON.stringify(opts.expectedPeer)}, peer is ${JSON.stringify(hello.node)}`
      )
    }
    this.peerName = hello.node
    this.peerNonce = hello.nonce
    this.version = Math.min(hello.version, this.hello.version)
    const proof = handshakeProof(opts.clusterSecret, opts.clusterName, opts.nodeName, hello.node, opts.nonce, hello.nonce)
    return { type: 'AUTH', proof }
  }

  private acceptAuth (auth: MessageOf<'AUTH'>): void {
    const { opts } = this
    const expected = handshakeProof(
      opts.clusterSecret, opts.clusterName, this.peerName as string, opts.nodeName, this.peerNonce as Buffer, opts.nonce
    )
    if (auth.proof.length !== PROOF_BYTES || !timingSafeEqual(auth.proof, expected)) {
      throw new HandshakeError('DYNAKV_PEER_WRONG_SECRET', 'wrong cluster secret')
    }
    this.done = true
  }
}
