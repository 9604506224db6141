import { Buffer } from 'node:buffer'
// The peer protocol's message set (docs/design.md#peer-protocol): one schema per message type,
// a table of typed fields that drives the one generic encoder and decoder in
// codec.ts. The TypeScript message types are derived from this table, so a
// schema and its type cannot drift apart. Pure: no I/O, time or randomness.
//
// Type codes (u8):
//
//   0x01-0x0f  handshake and control, request id 0, never answered
//              HELLO 0x01, AUTH 0x02, GOODBYE 0x03, OKS 0x04
//   0x10-0x7f  requests (0x21-0x7f free for later)
//
// Keys in replica, handoff and anti-entropy messages are storage keys
// (lib/node/keys.ts): a record of a client key, not the client key itself.
//   0x80-0xfe  responses: the high bit marks a response; a response's code is
//              its first request's code | 0x80 (OK answers three requests,
//              MEMBERSHIP two)
//   0xff       ERROR, a response any request may get
//
// Field encodings (codec.ts): u8 1 byte; u32 4 bytes big-endian; bool 1 byte
// 0|1; varint LEB128; bytes/string varint length + bytes (strings UTF-8);
// opt* a 0|1 tag then the value; *List a varint count then the elements.

export const PEER_MAGIC = 0x444b5631 // 'DKV1'
export const PROTOCOL_VERSION = 3
/**
 * The oldest version this node still speaks: a connection speaks the lower of
 * the two sides' versions, so a rolling upgrade from version 2 keeps every
 * peer connected (version 2 lacks only OKS: the OKs go out a frame each).
 */
export const PROTOCOL_VERSION_MIN = 2

export interface FieldValues {
  u8: number
  u32: number
  bool: boolean
  varint: number
  bytes: Buffer
  string: string
  optString: string | null
  optBytes: Buffer | null
  bytesList: Buffer[]
  varintList: number[]
}
export type FieldKind = keyof FieldValues
export type FieldSpec = readonly [name: string, kind: FieldKind]

export type Role = 'handshake' | 'control' | 'request' | 'response'

export interface Schema {
  readonly code: number
  readonly role: Role
  readonly fields: readonly FieldSpec[]
  /** Requests: the name of the response type. */
  readonly reply?: string
  /** Two list fields that must have the same length (parallel arrays). */
  readonly sameLength?: readonly [string, string]
}

export const SCHEMAS = {
  // handshake (handshake.ts) and connection control (tcp.ts)
  HELLO: {
    code: 0x01,
    role: 'handshake',
    fields: [['magic', 'u32'], ['version', 'varint'], ['cluster', 'string'], ['node', 'string'], ['nonce', 'bytes']]
  },
  AUTH: { code: 0x02, role: 'handshake', fields: [['proof', 'bytes']] },
  /** "I send no more requests on this connection" (the losing connection of a simultaneous dial drains). */
  GOODBYE: { code: 0x03, role: 'control', fields: [] },
  /**
   * OK to each of the requests `ids`, as one frame: the replica writes a group
   * commit acknowledges together (version 3; connection.ts sends it for two or more).
   */
  OKS: { code: 0x04, role: 'control', fields: [['ids', 'varintList']] },

  // requests
  PING: { code: 0x10, role: 'request', reply: 'PONG', fields: [['digest', 'string']] },
  GET_REPLICA: { code: 0x11, role: 'request', reply: 'OBJECT', fields: [['key', 'bytes'], ['hintFor', 'optString']] },
  PUT_REPLICA: {
    code: 0x12,
    role: 'request',
    reply: 'OK',
    fields: [['key', 'bytes'], ['obj', 'bytes'], ['hintFor', 'optString']]
  },
  FORWARD: { code: 0x13, role: 'request', reply: 'REPLY', fields: [['proto', 'u8'], ['args', 'bytesList']] },
  GOSSIP: { code: 0x14, role: 'request', reply: 'MEMBERSHIP', fields: [['membership', 'bytes']] },
  JOIN: { code: 0x15, role: 'request', reply: 'MEMBERSHIP', fields: [['membership', 'bytes']] },
  MERKLE_ROOTS: {
    code: 0x16,
    role: 'request',
    reply: 'ROOTS',
    fields: [['partitions', 'varintList'], ['leaves', 'varint'], ['fanout', 'varint']]
  },
  MERKLE_NODES: {
    code: 0x17,
    role: 'request',
    reply: 'NODES',
    fields: [['partition', 'varint'], ['level', 'varint'], ['indices', 'varintList']]
  },
  KEY_DIGESTS: { code: 0x18, role: 'request', reply: 'DIGESTS', fields: [['partition', 'varint'], ['leaves', 'varintList']] },
  FETCH_OBJECTS: { code: 0x19, role: 'request', reply: 'OBJECTS', fields: [['keys', 'bytesList']] },
  HANDOFF_BATCH: {
    code: 0x1a,
    role: 'request',
    reply: 'OK',
    fields: [['kind', 'u8'], ['keys', 'bytesList'], ['objs', 'bytesList']],
    sameLength: ['keys', 'objs']
  },
  SCAN_KEYS: {
    code: 0x1b,
    role: 'request',
    reply: 'KEYS',
    fields: [['start', 'bytes'], ['end', 'optBytes'], ['limit', 'varint']]
  },
  COUNT_KEYS: { code: 0x1c, role: 'request', reply: 'COUNT', fields: [] },
  FLUSH: { code: 0x1d, role: 'request', reply: 'OK', fields: [] },
  READ_RECORDS: { code: 0x1e, role: 'request', reply: 'OBJECTS', fields: [['keys', 'bytesList'], ['hintFor', 'optString']] },
  PUT_RECORDS: {
    code: 0x1f,
    role: 'request',
    reply: 'OK',
    fields: [['keys', 'bytesList'], ['objs', 'bytesList'], ['hintFor', 'optString']],
    sameLength: ['keys', 'objs']
  },
  READ_RANGE: {
    code: 0x20,
    role: 'request',
    reply: 'ROWS',
    fields: [['start', 'bytes'], ['end', 'optBytes'], ['limit', 'varint'], ['hintFor', 'optString']]
  },

  // responses
  PONG: { code: 0x90, role: 'response', fields: [['digest', 'string']] },
  OBJECT: { code: 0x91, role: 'response', fields: [['obj', 'optBytes']] },
  OK: { code: 0x92, role: 'response', fields: [] },
  REPLY: { code: 0x93, role: 'response', fields: [['reply', 'bytes']] },
  MEMBERSHIP: { code: 0x94, role: 'response', fields: [['membership', 'bytes']] },
  ROOTS: { code: 0x96, role: 'response', fields: [['roots', 'bytesList']] },
  NODES: { code: 0x97, role: 'response', fields: [['hashes', 'bytesList']] },
  DIGESTS: { code: 0x98, role: 'response', fields: [['keys', 'bytesList'], ['digests', 'bytesList']], sameLength: ['keys', 'digests'] },
  OBJECTS: { code: 0x99, role: 'response', fields: [['keys', 'bytesList'], ['objs', 'bytesList']], sameLength: ['keys', 'objs'] },
  KEYS: { code: 0x9b, role: 'response', fields: [['keys', 'bytesList'], ['more', 'bool']] },
  COUNT: { code: 0x9c, role: 'response', fields: [['n', 'varint'], ['expires', 'varint'], ['avgTtlMs', 'varint']] },
  ROWS: { code: 0xa0, role: 'response', fields: [['keys', 'bytesList'], ['objs', 'bytesList'], ['more', 'bool']], sameLength: ['keys', 'objs'] },
  ERROR: { code: 0xff, role: 'response', fields: [['code', 'string'], ['message', 'string']] }
} as const satisfies Record<string, Schema>

/** HANDOFF_BATCH.kind values. */
export const HANDOFF_OWNERSHIP = 0
export const HANDOFF_HINTS = 1

// ---- types derived from the table ----

type Schemas = typeof SCHEMAS
export type MessageName = keyof Schemas

type Simplify<T> = { [K in keyof T]: T[K] } & {}
type Body<F extends readonly FieldSpec[]> = { [E in F[number] as E[0]]: FieldValues[E[1]] }

/** The message (or union of messages) named N: `{ type: N, ...fields }`. */
export type MessageOf<N extends MessageName> = N extends MessageName
  ? Simplify<{ type: N } & Body<Schemas[N]['fields']>>
  : never

type NamesWithRole<R extends Role> = { [N in MessageName]: Schemas[N]['role'] extends R ? N : never }[MessageName]
export type HandshakeName = NamesWithRole<'handshake'>
export type RequestName = NamesWithRole<'request'>
export type ResponseName = NamesWithRole<'response'>

export type Message = MessageOf<MessageName>
export type Request = MessageOf<RequestName>
/** Any response, ERROR included; Transport.request never resolves with ERROR (it rejects). */
export type Response = MessageOf<ResponseName>
/** A request handler's answer: a response at hand is returned as it is (answered at once, no promise and no reaction). */
export type Handled = Response | undefined | Promise<Response | undefined>
export type ReplyName<N extends RequestName> = Schemas[N]['reply']
/** The response type that answers request R. */
export type ResponseTo<R extends Request> = MessageOf<ReplyName<R['type']>>

// Compile-time checks of the table: every reply names a response.
type Assert<T extends true> = T
export type RepliesAreResponses = Assert<ReplyName<RequestName> extends ResponseName ? true : false>

// ---- run-time lookups ----

const TABLE: Readonly<Record<string, Schema>> = SCHEMAS
export const MESSAGE_NAMES = Object.keys(SCHEMAS) as MessageName[]
export const REQUEST_NAMES = MESSAGE_NAMES.filter(n => TABLE[n].role === 'request') as RequestName[]
export const RESPONSE_NAMES = MESSAGE_NAMES.filter(n => TABLE[n].role === 'response') as ResponseName[]

const BY_CODE: Array<MessageName | undefined> = new Array(256).fill(undefined)
for (const name of MESSAGE_NAMES) {
  const { code, role } = TABLE[name]
  if (BY_CODE[code] !== undefined) throw new Error(`peer schema: code 0x${code.toString(16)} used twice`)
  if ((code >= 0x80) !== (role === 'response')) throw new Error(`peer schema: ${name} code 0x${code.toString(16)} does not match its role`)
  BY_CODE[code] = name
}

export function schemaOf (name: MessageName): Schema {
  return TABLE[name]
}

/** The message name of a type code, or undefined for a code not in the table. */
export function nameOfCode (code: number): MessageName | undefined {
  return BY_CODE[code]
}

export function isMessageName (name: string): name is MessageName {
  return Object.hasOwn(TABLE, name)
}

export function isRequestName (name: string): name is RequestName {
  return Object.hasOwn(TABLE, name) && TABLE[name].role === 'request'
}

export function replyOf (name: RequestName): ResponseName {
  return TABLE[name].reply as ResponseName
}
