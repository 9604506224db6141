// Counters the runtime accumulates over exchanges and shows in INFO.

export interface ExchangeStats {
  /** compareTrees runs that completed. */
  exchanges: number
  /** Remote node requests made (each at most maxNodesPerRequest hashes). */
  requests: number
  /** Node hashes fetched from the remote side and compared. */
  nodesCompared: number
  /** Leaves found differing. */
  leavesDiffering: number
  /** Keys found missing on one side or differing, over diffDigests calls. */
  keysDiffering: number
}

export function emptyExchangeStats (): ExchangeStats {
  return { exchanges: 0, requests: 0, nodesCompared: 0, leavesDiffering: 0, keysDiffering: 0 }
}

/** Adds `delta` into `total` and returns `total`. */
export function addExchangeStats (total: ExchangeStats, delta: Readonly<ExchangeStats>): ExchangeStats {
  total.exchanges += delta.exchanges
  total.requests += delta.requests
  total.nodesCompared += delta.nodesCompared
  total.leavesDiffering += delta.leavesDiffering
  total.keysDiffering += delta.keysDiffering
  return total
}
