// The ring: hashing and partitions, claim, preference lists. Pure code.

export {
  CURSOR_LIMIT, HASH_BYTES, PARTITIONS_MAX,
  cursorFromHash, hashFloorFromCursor, isPowerOfTwo, keyHash, parseCursor,
  partitionBits, partitionEnd, partitionOf, partitionOfHash, partitionStart
} from './hash.js'
export { ClaimCache, type ClaimEvent, type ClaimMember, type ClaimStep, claim, claimEvents, claimSteps, movedPartitions } from './claim.js'
export { distinctNodeCount, distinctnessViolations } from './layout.js'
export { type WeightedNode, WEIGHT_MAX, quotas } from './quota.js'
export { type PreferenceList, Ring } from './ring.js'
export {
  CursorRangeError, MemberError, NoMembersError, OwnersError, PartitionCountError,
  PartitionRangeError, ReplicaCountError, RingError, RingInvariantError
} from './errors.js'
