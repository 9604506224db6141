// dynakv versioning: dotted version vectors, sibling sets, their binary
// encoding and the client context token (docs/design.md#versioning). Pure: no I/O, no
// timers, no ambient time or randomness — time is an argument.

export type { Base, BaseEntry, Clock, ClockEntry, Marker, Sibling, Total, VObject } from './types.js'
export { isCounter, isTombstone } from './types.js'
export { CounterOverflowError, InvalidActorError, InvalidArgumentError, InvalidContextError } from './errors.js'
export {
  ACTOR_ID_LENGTH_MAX,
  EPOCH_LENGTH_MAX,
  LANE_MAX,
  NODE_NAME_LENGTH_MAX,
  actorId,
  compareActors,
  isActorId,
  isPlainActorId,
  laneActor,
  parseActorId
} from './actor.js'
export { covers, joinClocks, truncateClock } from './clock.js'
export { compareDots, emptyObject, objectClock, sameVersions } from './object.js'
export { LANES_MAX_DEFAULT, VCLOCK_MAX_DEFAULT, put, type PutOptions, type PutResult } from './put.js'
export { merge } from './merge.js'
export { anchor, elementState, isDead, isExpired, isTombstoneOnly, keyState, liveValue, liveValues, newest, strip, type KeyState, type KeyType } from './read.js'
export { COUNTER_LANE, addTotals, baseCovered, counterSum, increment, knownCounter, type CounterSum, type IncrementOptions, type IncrementResult } from './counter.js'
export { MARKERS, OBJECT_FORMAT_VERSION, decodeObject, encodeObject } from './codec.js'
export { BlindWriteResult, COMPLEX, anchorRange, blindWrite, newestValue, newestValueRange, supersedes, type BlindWriteOptions, type NewestValue, type OneTimeActor } from './encoded.js'
export { CONTEXT_FORMAT_VERSION, CONTEXT_TOKEN_LENGTH_MAX, decodeContext, encodeContext } from './context.js'
