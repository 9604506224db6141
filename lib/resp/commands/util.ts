// Argument parsing shared by the command handlers, with Redis's error wording.
import { err, type ErrorReply } from '../reply.js'

/** A handler's way to answer with a Redis error: thrown, turned into `-<message>`. */
export class CommandError extends Error {
  readonly code = 'DYNAKV_COMMAND'
  toReply (): ErrorReply {
    return err(this.message)
  }
}

export const E = {
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  overflow: 'ERR increment or decrement would overflow',
  nanOrInf: 'ERR increment would produce NaN or Infinity',
  offsetRange: 'ERR offset is out of range',
  tooBig: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  dbRange: 'ERR DB index is out of range',
  invalidCursor: 'ERR invalid cursor',
  invalidContext: 'ERR invalid context',
  quorumRange: 'ERR R/W must be between 1 and N'
} as const

export function fail (message: string): never {
  throw new CommandError(message)
}

export const text = (b: Buffer): string => b.toString('utf8')
/** Client bytes for an error message: latin1, so the reply echoes exactly the bytes sent. */
export const echo = (b: Buffer): string => b.toString('latin1')
export const lower = (b: Buffer): string => b.toString('latin1').toLowerCase()

export { inInt64, parseInt64, parseFloatStrict, formatHumanFloat } from '../../util/numbers.js'
import { parseInt64 } from '../../util/numbers.js'

/** An integer argument that must fit a JS safe integer (counts, offsets, indexes). */
export function intArg (b: Buffer, message: string = E.notInteger): number {
  const v = parseInt64(b)
  if (v === null || v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail(message)
  return Number(v)
}

/**
 * Redis-style glob (stringmatchlen): * ? [abc] [^a] [a-z] and \x escapes;
 * case-sensitive. Iterative with one backtrack point (the last '*'), so it
 * runs in O(pattern × subject) whatever the pattern.
 */
export function globMatcher (pattern: Buffer): (subject: Buffer) => boolean {
  if (pattern.length === 1 && pattern[0] === 42) return () => true
  return (s) => globMatch(pattern, s)
}

/** Matches one pattern element at p[pi] against byte c; returns the next pattern index, or -1. */
function matchOne (p: Buffer, pi: number, c: number): number {
  const x = p[pi]
  if (x === 63) return pi + 1 // ?
  if (x === 92 && pi + 1 < p.length) return p[pi + 1] === c ? pi + 2 : -1 // \x
  if (x !== 91) return x === c ? pi + 1 : -1
  // [set]
  let i = pi + 1
  const not = p[i] === 94
  if (not) i++
  let matched = false
  while (i < p.length && p[i] !== 93) {
    if (p[i] === 92 && i + 1 < p.length) {
      i++
      if (p[i] === c) matched = true
    } else if (i + 2 < p.length && p[i + 1] === 45 && p[i + 2] !== 93) {
      const lo = Math.min(p[i], p[i + 2])
      const hi = Math.max(p[i], p[i + 2])
      if (c >= lo && c <= hi) matched = true
      i += 2
    } else if (p[i] === c) {
      matched = true
    }
    i++
  }
  if (not) matched = !matched
  return matched ? Math.min(i + 1, p.length) : -1
}

export function globMatch (p: Buffer, s: Buffer): boolean {
  let pi = 0
  let si = 0
  let starP = -1
  let starS = 0
  while (si < s.length) {
    if (pi < p.length && p[pi] === 42) {
      while (pi < p.length && p[pi] === 42) pi++
      if (pi === p.length) return true
      starP = pi
      starS = si
      continue
    }
    const next = pi < p.length ? matchOne(p, pi, s[si]) : -1
    if (next >= 0) {
      pi = next
      si++
    } else if (starP >= 0) {
      pi = starP
      si = ++starS
    } else {
      return false
    }
  }
  while (pi < p.length && p[pi] === 42) pi++
  return pi === p.length
}
