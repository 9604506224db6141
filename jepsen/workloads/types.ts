// What a workload is: a generator of operations for each writer, the way to run
// one through a client, the final read of a key, and the checkers that judge
// its part of the history.
import type { Random } from '../../lib/runtime/random.js'
import type { NodeClient, Outcome } from '../client.js'
import type { CheckContext, CheckResult } from '../checkers/types.js'
import type { Op } from '../history.js'

export interface OpSpec {
  f: string
  key: string
  value?: unknown
}

export interface Completion {
  type: 'ok' | 'fail' | 'unknown'
  value?: unknown
  error?: string
  /** What the write read first (Op.read). */
  read?: string[]
}

export interface Workload {
  readonly name: string
  /**
   * The next operation of a writer (a client process's original number: a
   * process that ended unknown is replaced, its writer stays). Keys a writer
   * owns are written by it alone.
   */
  next (writer: number, rng: Random): OpSpec
  invoke (client: NodeClient, op: OpSpec, writer: number): Promise<Completion>
  /** The read done through every host once the cluster has converged. */
  readFinal (client: NodeClient, key: string): Promise<Completion>
  /** Keys to read at the end (and to wait for replicas to agree on). */
  keys (): string[]
  /** A key being written now (partition-wipe aims at it). */
  hotKey (): string
  check (history: readonly Op[], ctx: CheckContext): CheckResult[]
}

/** A reply as the completion of an operation, the value made by fn. */
export function completion (o: Outcome, fn: (v: unknown) => unknown = v => v): Completion {
  if (o.type !== 'ok') return { type: o.type, error: o.error }
  return { type: 'ok', value: fn(o.value) }
}

/** A GETCTX reply: [context, [values]]. */
export function contextReply (v: unknown): { context: string, values: string[] } {
  const [context, values] = v as [string, string[]]
  return { context, values }
}

/** Picks by weight: [[weight, what], ...]. */
export function weighted<T> (rng: Random, choices: ReadonlyArray<readonly [number, T]>): T {
  const total = choices.reduce((n, [w]) => n + w, 0)
  let x = rng.next() * total
  for (const [w, what] of choices) {
    if (x < w) return what
    x -= w
  }
  return choices[choices.length - 1][1]
}

/** A source of values unique in the run. */
export class Counter {
  private n = 0
  next (): number {
    return this.n++
  }
}
