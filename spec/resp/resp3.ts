// A strict RESP3 decoder for the specs (independent of lib/resp): decodes a
// byte stream into Reply values, integers as bigint and bulks as Buffers.

import type { Reply } from '../../lib/resp/reply.js'

export function decodeResp3 (buf: Buffer): Reply[] {
  let pos = 0
  const line = (): string => {
    const cr = buf.indexOf('\r\n', pos)
    if (cr < 0) throw new Error(`no CRLF after offset ${pos}`)
    const s = buf.toString('utf8', pos, cr)
    pos = cr + 2
    return s
  }
  const count = (s: string): number => {
    if (!/^(0|[1-9][0-9]*)$/.test(s)) throw new Error(`bad length ${JSON.stringify(s)}`)
    return Number(s)
  }
  const payload = (n: number): Buffer => {
    if (pos + n + 2 > buf.length) throw new Error('truncated payload')
    const b = buf.subarray(pos, pos + n)
    if (buf[pos + n] !== 13 || buf[pos + n + 1] !== 10) throw new Error('payload not followed by CRLF')
    pos += n + 2
    return b
  }
  const one = (): Reply => {
    if (pos >= buf.length) throw new Error('truncated')
    const type = String.fromCharCode(buf[pos++])
    switch (type) {
      case '+': return { type: 'simple', value: line() }
      case '-': return { type: 'error', value: line() }
      case ':': {
        const s = line()
        if (!/^-?(0|[1-9][0-9]*)$/.test(s) || s === '-0') throw new Error(`bad integer ${s}`)
        return { type: 'int', value: BigInt(s) }
      }
      case '$': return { type: 'bulk', value: payload(count(line())) }
      case '_': {
        if (line() !== '') throw new Error('bad null')
        return { type: 'null' }
      }
      case '*': case '~': {
        const n = count(line())
        const items: Reply[] = []
        for (let i = 0; i < n; i++) items.push(one())
        return type === '*' ? { type: 'array', value: items } : { type: 'set', value: items }
      }
      case '%': {
        const n = count(line())
        const entries: Array<[Reply, Reply]> = []
        for (let i = 0; i < n; i++) entries.push([one(), one()])
        return { type: 'map', value: entries }
      }
      case ',': {
        const s = line()
        if (s === 'inf') return { type: 'double', value: Infinity }
        if (s === '-inf') return { type: 'double', value: -Infinity }
        if (s === 'nan') return { type: 'double', value: NaN }
        if (!/^-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?$/.test(s)) throw new Error(`bad double ${s}`)
        return { type: 'double', value: Number(s) }
      }
      case '#': {
        const s = line()
        if (s !== 't' && s !== 'f') throw new Error(`bad boolean ${s}`)
        return { type: 'bool', value: s === 't' }
      }
      case '=': {
        const b = payload(count(line()))
        if (b.length < 4 || b.toString('latin1', 0, 4) !== 'txt:') throw new Error('bad verbatim')
        return { type: 'verbatim', value: b.toString('utf8', 4) }
      }
      default:
        throw new Error(`unexpected type byte ${JSON.stringify(type)} at ${pos - 1}`)
    }
  }
  const out: Reply[] = []
  while (pos < buf.length) out.push(one())
  return out
}
