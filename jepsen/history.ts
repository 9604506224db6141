// The history of a run, as Jepsen keeps it: every client operation once when it
// is invoked and once when it completes (ok, fail or unknown), the nemesis's
// actions in between, and the final reads. One JSON object per line.
//
//   {"index":12,"time":1043.2,"process":3,"type":"invoke","f":"add","workload":"set","key":"set:0","value":17,"node":"n4"}
//   {"index":15,"time":1051.9,"process":3,"type":"ok","f":"add","workload":"set","key":"set:0","value":17,"node":"n4"}
//
// ok: it happened. fail: it certainly did not (refused before any replica could
// store it). unknown: it may have (a timeout, a lost connection, -NOQUORUM on a
// write, which "may still have been stored"). A process whose operation ended
// unknown is never reused: its next operation comes from a new process number.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'

export type OpType = 'invoke' | 'ok' | 'fail' | 'unknown' | 'info'

/** Client processes are numbers; the nemesis and the final reads have their own names. */
export type Process = number | 'nemesis' | 'final'

export interface Op {
  index: number
  /** Milliseconds since the run began. */
  time: number
  process: Process
  type: OpType
  f: string
  workload?: string
  key?: string
  value?: unknown
  /** The host the client talked to. */
  node?: string
  error?: string
  /** What a write read first to make its context (a PUT's GETCTX without a context in hand). */
  read?: string[]
}

export type NewOp = Omit<Op, 'index' | 'time'>

/** A history being written: kept in memory and appended to a file as it grows. */
export class History {
  readonly ops: Op[] = []
  private pending: string[] = []
  private readonly t0 = performance.now()

  constructor (private readonly path: string | null) {
    if (path !== null) writeFileSync(path, '')
  }

  /** Milliseconds since the run began. */
  now (): number {
    return Math.round((performance.now() - this.t0) * 10) / 10
  }

  add (op: NewOp): Op {
    const full: Op = { index: this.ops.length, time: this.now(), ...op }
    this.ops.push(full)
    if (this.path !== null) {
      this.pending.push(JSON.stringify(full))
      if (this.pending.length >= 256) this.flush()
    }
    return full
  }

  flush (): void {
    if (this.path === null || this.pending.length === 0) return
    appendFileSync(this.path, this.pending.join('\n') + '\n')
    this.pending = []
  }
}

export function readHistory (path: string): Op[] {
  return readFileSync(path, 'utf8').split('\n').filter(l => l.length > 0).map(l => JSON.parse(l) as Op)
}

/** A client operation: its invocation and its completion (null while it has none). */
export interface Pair {
  invoke: Op
  complete: Op | null
}

/** Pairs each client invocation with the completion of the same process, in invocation order. */
export function pairs (history: readonly Op[]): Pair[] {
  const open = new Map<Process, Pair>()
  const out: Pair[] = []
  for (const op of history) {
    if (op.process === 'nemesis' || op.type === 'info') continue
    if (op.type === 'invoke') {
      const p = { invoke: op, complete: null }
      open.set(op.process, p)
      out.push(p)
    } else {
      const p = open.get(op.process)
      if (p !== undefined) {
        p.complete = op
        open.delete(op.process)
      }
    }
  }
  return out
}

/** The pairs of one workload. */
export function pairsOf (history: readonly Op[], workload: string): Pair[] {
  return pairs(history).filter(p => p.invoke.workload === workload)
}

/** An operation's outcome: a missing completion counts as unknown. */
export function outcome (p: Pair): 'ok' | 'fail' | 'unknown' {
  const t = p.complete?.type
  return t === 'ok' || t === 'fail' ? t : 'unknown'
}
