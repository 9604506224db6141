// A node's CPU by thread role, from /proc/PID/task/*/stat: what bench/profile-threads
// and bench/bulk-load split a request's or a load's CPU by.
import { readdirSync, readFileSync } from 'node:fs'
import { statCpuUs } from './lib.js'

/**
 * What each thread is, from its rank in creation order (every thread is named
 * "node"; gdb's `thread apply all bt` of a warm node showed this order on
 * node 22): the main thread, node's delayed-task scheduler, V8's platform
 * workers (--v8-pool-size, 4: the GC's parallel and concurrent helpers, the
 * compiler), the inspector's I/O thread, libuv's pool (UV_THREADPOOL_SIZE:
 * 4, or 8 under the launcher's environment; LevelDB's writes with their WAL append and fsync, and its reads), then
 * LevelDB's background thread (memtable flushes and compactions), started at
 * its first compaction. pool: the node's UV_THREADPOOL_SIZE (poolSizeOf).
 */
export function roleOf (rank: number, pool: number): string {
  if (rank === 0) return 'main (JavaScript)'
  if (rank === 1) return 'node task scheduler'
  if (rank <= 5) return 'V8 workers (GC, compiler)'
  if (rank === 6) return 'inspector I/O'
  if (rank <= 6 + pool) return 'libuv pool (LevelDB write, WAL, fsync, reads)'
  return 'LevelDB background (flush, compaction)'
}

/**
 * libuv's pool size of process pid, from its own environment (the launcher's
 * settings give a node 8, node's default is 4): not the bench's, which
 * counted 4 of a node's 8 pool threads as LevelDB's background thread.
 */
export function poolSizeOf (pid: number): number {
  const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')
  const set = env.find(e => e.startsWith('UV_THREADPOOL_SIZE='))
  return set === undefined ? 4 : Number(set.slice('UV_THREADPOOL_SIZE='.length))
}

/** utime + stime in µs per thread role (threads that exited are lost: all of these live as long as the process). */
export function byThread (pid: number): Map<string, number> {
  const out = new Map<string, number>()
  const pool = poolSizeOf(pid)
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b)
  for (let rank = 0; rank < tids.length; rank++) {
    try {
      const { userUs, sysUs } = statCpuUs(`/proc/${pid}/task/${tids[rank]}/stat`)
      const name = roleOf(rank, pool)
      out.set(name, (out.get(name) ?? 0) + userUs + sysUs)
    } catch {} // exited meanwhile
  }
  return out
}
