// Drives a RequestParser over chunks and records what it reports.

import { RequestParser, type RequestParserLimits } from '../../lib/resp/parser.js'

export interface Outcome {
  /** Each command's arguments, latin1-decoded (one char per byte). */
  commands: string[][]
  error: string | null
}

export type Limits = RequestParserLimits & {
  /** Track auth as a server would: AUTH authenticates, RESET does not. */
  requirePass?: boolean
}

export function parseChunks (chunks: Buffer[], limits: Limits = {}): Outcome & { parser: RequestParser } {
  const commands: string[][] = []
  let error: string | null = null
  let authed = false
  const { requirePass, ...options } = limits
  const parser = new RequestParser({
    ...(requirePass === true ? { isAuthenticated: () => authed } : {}),
    onCommand: args => {
      if (error !== null) throw new Error('command after the error')
      if (args.length === 0) throw new Error('empty command delivered')
      commands.push(args.map(a => a.toString('latin1')))
      const name = commands[commands.length - 1][0]
      if (name === 'AUTH') authed = true
      if (name === 'RESET') authed = false
    },
    onError: message => {
      if (error !== null) throw new Error('second error')
      error = message
    }
  }, options)
  for (const c of chunks) parser.feed(c)
  return { commands, error, parser }
}

export function parse (input: Buffer | string, limits: Limits = {}): Outcome {
  const { commands, error } = parseChunks([typeof input === 'string' ? Buffer.from(input, 'latin1') : input], limits)
  return { commands, error }
}

/** Splits buf at the given offsets (sorted, deduplicated, within bounds). */
export function splitAt (buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map(c => c % (buf.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let prev = 0
  for (const p of points) {
    out.push(buf.subarray(prev, p))
    prev = p
  }
  out.push(buf.subarray(prev))
  return out
}

/** A well-formed multibulk frame. */
export function frame (...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}
