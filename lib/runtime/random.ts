// Randomness as an interface: crypto-seeded in production, a seeded PRNG in the
// simulator so a failing seed replays exactly.
import { randomBytes } from 'node:crypto'

export interface Random {
  /** Uniform in [0, 1). */
  next (): number
  /** Uniform integer in [0, n). */
  int (n: number): number
  /** n random bytes as lower-case hex. */
  hex (bytes: number): string
}

/** sfc32, seeded from four 32-bit words. */
export function seededRandom (seed: number): Random {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next32 = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 16; i++) next32()
  return fromSource(() => next32() / 0x100000000)
}

export const realRandom: Random = {
  next: () => randomBytes(4).readUInt32BE(0) / 0x100000000,
  int (n) { return Math.floor(this.next() * n) },
  hex: (bytes) => randomBytes(bytes).toString('hex')
}

function fromSource (next: () => number): Random {
  return {
    next,
    int: (n) => Math.floor(next() * n),
    hex (bytes) {
      let s = ''
      for (let i = 0; i < bytes; i++) s += Math.floor(next() * 256).toString(16).padStart(2, '0')
      return s
    }
  }
}
