// The peer layer (docs/design.md#peer-protocol): the binary codec and message set (pure), the
// handshake, the Transport seam with its TCP implementation and the simulated
// network, and fault injection.

export {
  HANDOFF_HINTS,
  HANDOFF_OWNERSHIP,
  MESSAGE_NAMES,
  PEER_MAGIC,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_MIN,
  REQUEST_NAMES,
  RESPONSE_NAMES,
  SCHEMAS,
  isMessageName,
  isRequestName,
  nameOfCode,
  replyOf,
  schemaOf,
  type FieldKind,
  type FieldSpec,
  type FieldValues,
  type HandshakeName,
  type Message,
  type MessageName,
  type MessageOf,
  type ReplyName,
  type Request,
  type RequestName,
  type Response,
  type ResponseName,
  type ResponseTo,
  type Role,
  type Schema
} from './messages.js'
export {
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_MIN,
  FrameReader,
  FrameWriter,
  HANDSHAKE_FRAME_BYTES_MAX,
  MAX_FRAME_BYTES_DEFAULT,
  REQUEST_ID_MAX,
  decodeFrame,
  encodeFrame,
  type Frame
} from './codec.js'
export {
  HANDSHAKE_CODES,
  HandshakeError,
  InvalidMessageError,
  PeerConnectionLostError,
  PeerError,
  PeerOverloadedError,
  PeerProtocolError,
  PeerRemoteError,
  PeerStoppedError,
  PeerTimeoutError,
  PeerUnreachableError,
  isHandshakeCode,
  isHandshakeRefusal,
  type HandshakeCode
} from './errors.js'
export { HANDSHAKE_LABEL, Handshake, NONCE_BYTES, PROOF_BYTES, handshakeProof, type HandshakeOptions } from './handshake.js'
export { Faults } from './faults.js'
export { emptyStats, type PeerAddress, type PeerTraffic, type RequestHandler, type Transport, type TransportStats } from './transport.js'
export { PEER_LIMITS_DEFAULT, TcpTransport, type ConnectionInfo, type PeerLimits, type TcpTransportOptions } from './tcp.js'
export type { ConnectionState } from './connection.js'
export { SIM_PORT, SimEndpoint, SimNetwork, type HeldFrames, type SimNetworkOptions, type SimStats } from './sim.js'
export { VIRTUAL_STEPS_MAX_DEFAULT, VirtualClock, type VirtualClockOptions } from './virtual-clock.js'
