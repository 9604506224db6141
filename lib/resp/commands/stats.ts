// INFO commandstats: per command, calls, time and errors, as Redis counts them.
//   calls          the command ran (EXEC's queued commands each count too)
//   usec           wall time from start to reply, in microseconds: unlike Redis
//                  (time on the main thread), it includes quorum round trips; a
//                  client's command starts when the bytes holding it were read
//                  (one clock read per read event, so it includes waiting for
//                  earlier commands on its keys), and replies ready together
//                  share one clock read
//   rejected_calls refused before running (arity, NOAUTH, unknown subcommand)
//   failed_calls   ran and answered an error
// The dispatcher counts rejections; whoever awaits the reply records the call.
import type { Reply } from '../reply.js'
import type { CallStats } from '../session.js'
import { allCommands } from './table.js'

export function recordCall (stats: CallStats | null, reply: Reply, startMs: number): void {
  if (stats !== null) recordCallAt(stats, reply, startMs, performance.now())
}

/** recordCall with the end time given (a connection reads the clock once for many replies). */
export function recordCallAt (stats: CallStats | null, reply: Reply, startMs: number, endMs: number): void {
  if (stats === null) return
  stats.calls++
  stats.usec += Math.round((endMs - startMs) * 1000)
  if (reply.type === 'error') stats.failed++
}

/** `cmdstat_<name>:calls=…` lines for every command used since start (or CONFIG RESETSTAT). */
export function commandstats (): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const spec of allCommands()) {
    const s = spec.stats
    if (s === undefined || (s.calls === 0 && s.rejected === 0 && s.failed === 0)) continue
    const perCall = s.calls === 0 ? 0 : s.usec / s.calls
    out.push([`cmdstat_${spec.name}`, `calls=${s.calls},usec=${s.usec},usec_per_call=${perCall.toFixed(2)},rejected_calls=${s.rejected},failed_calls=${s.failed}`])
  }
  return out
}

export function resetCommandstats (): void {
  for (const spec of allCommands()) if (spec.stats !== undefined) Object.assign(spec.stats, { calls: 0, usec: 0, rejected: 0, failed: 0 })
}
