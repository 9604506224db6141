// Convergence: after the final heal (every fault undone, every host up), how
// long until the replicas of every key agree (the same versions on each of its
// primaries, DEBUG REPLICA) and no host holds hints any more. The runner
// measures it; this judges it: not converging within the limit is invalid.
import { result, type CheckContext, type CheckResult } from './types.js'

export function checkConvergence (ctx: CheckContext, limitMs: number): CheckResult {
  const ms = ctx.convergenceMs
  if (ms === null) return result('convergence', null, false, `replicas did not agree within ${limitMs} ms of the final heal`, { limitMs })
  return result('convergence', null, true, `replicas agreed ${ms} ms after the final heal`, { convergenceMs: ms, limitMs })
}
