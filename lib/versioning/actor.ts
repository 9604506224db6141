// Actor ids: who issued a dot. An actor is a node incarnation, `${node}#${epoch}`,
// where the epoch is created with the node's data directory: a node whose
// data was wiped comes back as a new actor and can never re-issue a dot.
//
// A node also owns a few "lanes", `${node}#${epoch}.${lane}` (lane 1–99; lane
// 0 is the plain id). A coordinator writes on another lane only when a
// writer's context misses a version that the lane-0 actor issued for the key
// (see put.ts): the lane keeps the context returned to that writer exact.
//
// Actor ids are ASCII, so string order (<) is byte order: the canonical order
// of clocks, siblings and encodings.

import { DecodeError, type Reader, type Writer } from '../util/bytes.js'
import { InvalidActorError } from './errors.js'
import { readVarint } from './varint.js'
import { Buffer } from 'node:buffer'

const NODE_NAME_RE = /^[A-Za-z0-9._-]{1,64}$/
const EPOCH_RE = /^[0-9a-f]{1,32}$/
const PLAIN_ACTOR_ID_RE = /^[A-Za-z0-9._-]{1,64}#[0-9a-f]{1,32}$/
const ACTOR_ID_RE = /^[A-Za-z0-9._-]{1,64}#[0-9a-f]{1,32}(?:\.[1-9][0-9]?)?$/

export const NODE_NAME_LENGTH_MAX = 64
export const EPOCH_LENGTH_MAX = 32
/** Lanes are 0 (the plain actor id) to LANE_MAX. */
export const LANE_MAX = 99
export const ACTOR_ID_LENGTH_MIN = 3
export const ACTOR_ID_LENGTH_MAX = NODE_NAME_LENGTH_MAX + 1 + EPOCH_LENGTH_MAX + 3

/** `${node}#${epoch}`; node matches /^[A-Za-z0-9._-]{1,64}$/, epoch is 1–32 lowercase hex digits. */
export function actorId (node: string, epoch: string): string {
  if (typeof node !== 'string' || !NODE_NAME_RE.test(node)) {
    throw new InvalidActorError(`invalid node name: ${JSON.stringify(node)}`)
  }
  if (typeof epoch !== 'string' || !EPOCH_RE.test(epoch)) {
    throw new InvalidActorError(`invalid epoch: ${JSON.stringify(epoch)}`)
  }
  return `${node}#${epoch}`
}

/** A node's plain actor id (lane 0): what actorId returns. */
export function isPlainActorId (s: unknown): s is string {
  return typeof s === 'string' && PLAIN_ACTOR_ID_RE.test(s)
}

/** Any actor id, with or without a lane. */
export function isActorId (s: unknown): s is string {
  return typeof s === 'string' && ACTOR_ID_RE.test(s)
}

/** The inverse of actorId (and laneActor). */
export function parseActorId (actor: string): { node: string, epoch: string, lane: number } {
  if (!isActorId(actor)) throw new InvalidActorError(`invalid actor id: ${JSON.stringify(actor)}`)
  const hash = actor.indexOf('#')
  const dot = actor.indexOf('.', hash)
  return {
    node: actor.slice(0, hash),
    epoch: actor.slice(hash + 1, dot < 0 ? undefined : dot),
    lane: dot < 0 ? 0 : Number(actor.slice(dot + 1))
  }
}

/** The actor id of `lane` (0–99) of a node's plain actor id; lane 0 is the id itself. */
export function laneActor (actor: string, lane: number): string {
  if (!isPlainActorId(actor)) throw new InvalidActorError(`not a plain actor id: ${JSON.stringify(actor)}`)
  if (!Number.isInteger(lane) || lane < 0 || lane > LANE_MAX) throw new InvalidActorError(`lane out of range: ${lane}`)
  return onLane(actor, lane)
}

/** laneActor without the checks, for callers that have validated both. */
export function onLane (actor: string, lane: number): string {
  return lane === 0 ? actor : `${actor}.${lane}`
}

export function compareActors (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

// Byte classes for validating an actor id straight from a buffer.
const NODE_CHAR = 1
const EPOCH_CHAR = 2
const CHAR_CLASS = new Uint8Array(256)
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z0-9._-]/.test(ch)) CHAR_CLASS[c] |= NODE_CHAR
  if (/[0-9a-f]/.test(ch)) CHAR_CLASS[c] |= EPOCH_CHAR
}
const HASH = 0x23
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39

function validActorBytes (buf: Buffer, start: number, end: number): boolean {
  let i = start
  while (i < end && (CHAR_CLASS[buf[i]] & NODE_CHAR) !== 0) i++
  const nodeLength = i - start
  if (nodeLength < 1 || nodeLength > NODE_NAME_LENGTH_MAX || i >= end || buf[i] !== HASH) return false
  const epochStart = ++i
  while (i < end && (CHAR_CLASS[buf[i]] & EPOCH_CHAR) !== 0) i++
  const epochLength = i - epochStart
  if (epochLength < 1 || epochLength > EPOCH_LENGTH_MAX) return false
  if (i === end) return true
  // a lane: "." then 1–99 without a leading zero
  const laneLength = end - i - 1
  if (buf[i] !== DOT || laneLength < 1 || laneLength > 2 || buf[i + 1] === ZERO) return false
  for (i++; i < end; i++) if (buf[i] < ZERO || buf[i] > NINE) return false
  return true
}

// Actor ids repeat endlessly (a cluster has a handful), so their encodings are
// memoised both ways. Bounded; results never depend on what is cached.
const ACTOR_CACHE_MAX = 4096
const encodedActors = new Map<string, Buffer>()
const decodedActors = new Map<number, string>()

function sameAscii (s: string, buf: Buffer, start: number, end: number): boolean {
  if (s.length !== end - start) return false
  for (let i = start; i < end; i++) if (s.charCodeAt(i - start) !== buf[i]) return false
  return true
}

/** An actor id's length prefix, checked against its bounds and the bytes left; DecodeError otherwise. */
function actorLength (r: Reader): number {
  const length = readVarint(r)
  if (length < ACTOR_ID_LENGTH_MIN || length > ACTOR_ID_LENGTH_MAX) {
    throw new DecodeError(`actor id length ${length} out of range`)
  }
  if (length > r.remaining) throw new DecodeError('truncated input')
  return length
}

/** Reads a length-prefixed actor id and validates it; DecodeError otherwise. */
export function readActor (r: Reader): string {
  const length = actorLength(r)
  const buf = r.buf
  const start = r.pos
  const end = start + length
  let hash = length
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + buf[i]) | 0
  const cached = decodedActors.get(hash)
  r.pos = end
  if (cached !== undefined && sameAscii(cached, buf, start, end)) return cached
  if (!validActorBytes(buf, start, end)) throw new DecodeError('invalid actor id')
  const actor = buf.toString('latin1', start, end)
  if (decodedActors.size >= ACTOR_CACHE_MAX) decodedActors.clear()
  decodedActors.set(hash, actor)
  return actor
}

/**
 * readActor's checks without the string: reads a length-prefixed actor id,
 * throws DecodeError where readActor does, and returns where its bytes start
 * (they end at r.pos). validateObject's walk: a record's one-time actor is new
 * at nearly every replica write, so readActor's memo rarely holds it.
 */
export function skipActor (r: Reader): number {
  const length = actorLength(r)
  const start = r.pos
  if (!validActorBytes(r.buf, start, start + length)) throw new DecodeError('invalid actor id')
  r.pos = start + length
  return start
}

/** Writes an actor id as a varint length and its bytes (UTF-8; ASCII for every valid id). */
export function writeActor (w: Writer, actor: string): void {
  const bytes = actorBytes(actor)
  w.varint(bytes.length).raw(bytes)
}

/** An actor id's bytes (memoised; do not modify them). */
export function actorBytes (actor: string): Buffer {
  let bytes = encodedActors.get(actor)
  if (bytes === undefined) {
    bytes = Buffer.from(actor, 'utf8')
    if (encodedActors.size >= ACTOR_CACHE_MAX) encodedActors.clear()
    encodedActors.set(actor, bytes)
  }
  return bytes
}
