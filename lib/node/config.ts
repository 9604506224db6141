// A node's configuration, below the command line that parses into it
// (lib/cli/args.ts): the node and the RESP layer read it, the CLI fills it.

export interface ServerConfig {
  name: string
  /** --name was given (else the data directory's own name is kept, if it has one). */
  nameGiven: boolean
  host: string
  port: number
  peerPort: number
  advertiseHost: string
  dir: string
  storage: 'classic-level' | 'memory-level'
  join: { host: string, port: number } | null
  n: number
  r: number
  w: number
  partitions: number
  weight: number
  sync: boolean
  requirepass: string | null
  clusterName: string
  clusterSecret: string
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'
  logFormat: 'text' | 'json'
  /** null: no metrics endpoint (and no per-command latency tracking). */
  metricsPort: number | null
  vclockMax: number
  cacheMb: number
  /** The engine's cohort hold (holdMs): 0 turns it off. */
  commitHoldMs: number
  protoMaxBulkLen: number
  maxclients: number
  gossipIntervalMs: number
  requestTimeoutMs: number
  downAfterMs: number
  probeIntervalMs: number
  sloppy: boolean
  handoffIntervalMs: number
  handoffBatch: number
  handoffRate: number
  aeIntervalMs: number
  aeLeaves: number
  tombstoneGraceMs: number
  sweepIntervalMs: number
  readRepairWaitMs: number
  allowFaultInjection: boolean
  clockOffsetMs: number
}

/** `host:port` (IPv6 in brackets), as --join and RING JOIN take it; null when malformed. */
export function parseHostPort (s: string): { host: string, port: number } | null {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(s)
  if (m === null) return null
  const port = Number(m[2])
  if (port < 1 || port > 65535) return null
  return { host: m[1].replace(/^\[|\]$/g, ''), port }
}
