// The dynakv package: the ioredis helpers for context-aware use (also at
// 'dynakv/client'), and the pieces an embedding program may want.
export * from './client/index.js'
export { DynakvNode, type NodeDeps } from './node/node.js'
export { RespServer } from './resp/server.js'
export { parseServerArgs } from './cli/args.js'
export type { ServerConfig } from './node/config.js'
export { decodeContext, encodeContext, type Clock, type VObject } from './versioning/index.js'
