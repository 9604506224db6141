// Redis's number syntax and formatting (string2ll, string2ld, the human
// float format of INCRBYFLOAT), shared by the command layer and the counter
// values of lib/versioning. Pure.

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** Redis string2ll: optional '-', digits, no '+', no spaces, no leading zeros, within int64. */
export function parseInt64 (b: Buffer | string): bigint | null {
  const s = typeof b === 'string' ? b : b.toString('latin1')
  if (s.length === 0 || s.length > 20) return null
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null
  const v = BigInt(s)
  if (v < INT64_MIN || v > INT64_MAX) return null
  return v
}

export function inInt64 (v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX
}

/** Redis string2ld: a float with no surrounding spaces; inf and -inf allowed, nan not. */
export function parseFloatStrict (b: Buffer | string): number | null {
  const s = typeof b === 'string' ? b : b.toString('latin1')
  if (s.length === 0 || s.length > 5120 || /^\s|\s$/.test(s)) return null
  const l = s.toLowerCase()
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity
  if (l === '-inf' || l === '-infinity') return -Infinity
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return null
  const v = Number(s)
  return Number.isNaN(v) ? null : v
}

/** INCRBYFLOAT's reply: human-readable, never exponent notation (as Redis's LD_STR_HUMAN). */
export function formatHumanFloat (v: number): string {
  if (Object.is(v, -0)) return '0'
  const s = String(v)
  if (!s.includes('e')) return s
  if (Number.isInteger(v)) return BigInt(v).toString()
  const [mant, expStr] = s.split('e')
  const exp = Number(expStr)
  const neg = mant.startsWith('-')
  const digits = mant.replace('-', '').replace('.', '')
  const point = (mant.replace('-', '').indexOf('.') === -1 ? mant.replace('-', '').length : mant.replace('-', '').indexOf('.')) + exp
  const body = point <= 0 ? '0.' + '0'.repeat(-point) + digits : digits.slice(0, point) + '.' + digits.slice(point)
  return (neg ? '-' : '') + body.replace(/\.?0+$/, '')
}

