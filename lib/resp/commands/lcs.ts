// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common
// subsequence of two string values, by Redis's dynamic programming table and
// its walk back from the end, so the same matches come out in the same order.
// The table is (|a|+1)·(|b|+1) cells of 4 bytes, computed on the event loop:
// bounded by LCS_CELLS_MAX, past which Redis's out-of-memory error is given.
import { bulk, int, map, array, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { E, fail, lower, parseInt64 } from './util.js'
import { Buffer } from 'node:buffer'

/** 16 M cells: a 64 MB table, two strings of about 4 KB each. */
export const LCS_CELLS_MAX = 16 * 1024 * 1024

const GET = Buffer.from('GET')

async function value (c: Call, key: Buffer): Promise<Buffer> {
  const r = await c.exec([GET, key])
  if (r.type === 'error') fail(r.value.startsWith('WRONGTYPE') ? 'ERR The specified keys must contain string values' : r.value)
  return r.type === 'bulk' ? Buffer.from(r.value) : Buffer.alloc(0)
}

async function lcs (c: Call): Promise<Reply> {
  const [a, b] = await Promise.all([value(c, c.args[1]), value(c, c.args[2])])
  let getLen = false
  let getIdx = false
  let withMatchLen = false
  let minMatchLen = 0n
  for (let j = 3; j < c.args.length; j++) {
    const opt = lower(c.args[j])
    if (opt === 'idx') getIdx = true
    else if (opt === 'len') getLen = true
    else if (opt === 'withmatchlen') withMatchLen = true
    else if (opt === 'minmatchlen' && j + 1 < c.args.length) {
      const v = parseInt64(c.args[++j])
      if (v === null) fail(E.notInteger)
      minMatchLen = v < 0n ? 0n : v
    } else fail(E.syntax)
  }
  if (getIdx && getLen) fail('ERR If you want both the length and indexes, please just use IDX.')
  const alen = a.length
  const blen = b.length
  if ((alen + 1) * (blen + 1) > LCS_CELLS_MAX) fail('ERR Insufficient memory, transient memory for LCS exceeds available memory')
  const w = blen + 1
  const dp = new Uint32Array((alen + 1) * w)
  for (let i = 1; i <= alen; i++) {
    for (let j = 1; j <= blen; j++) {
      dp[i * w + j] = a[i - 1] === b[j - 1] ? dp[(i - 1) * w + j - 1] + 1 : Math.max(dp[(i - 1) * w + j], dp[i * w + j - 1])
    }
  }
  const total = dp[alen * w + blen]
  if (getLen) return int(total)
  // Walk back from the end, collecting the subsequence and its contiguous ranges.
  const result = Buffer.alloc(total)
  const matches: Reply[] = []
  let idx = total
  let aStart = alen // alen: no range open
  let aEnd = 0
  let bStart = 0
  let bEnd = 0
  let i = alen
  let j = blen
  while (i > 0 && j > 0) {
    let emit = false
    if (a[i - 1] === b[j - 1]) {
      result[idx - 1] = a[i - 1]
      if (aStart === alen) {
        aStart = aEnd = i - 1
        bStart = bEnd = j - 1
      } else if (aStart === i && bStart === j) {
        aStart--
        bStart--
      } else {
        emit = true
      }
      if (aStart === 0 || bStart === 0) emit = true
      idx--
      i--
      j--
    } else {
      if (dp[(i - 1) * w + j] > dp[i * w + j - 1]) i--
      else j--
      if (aStart !== alen) emit = true
    }
    if (emit) {
      const len = aEnd - aStart + 1
      if (getIdx && (minMatchLen === 0n || BigInt(len) >= minMatchLen)) {
        const m: Reply[] = [array([int(aStart), int(aEnd)]), array([int(bStart), int(bEnd)])]
        if (withMatchLen) m.push(int(len))
        matches.push(array(m))
      }
      aStart = alen
    }
  }
  if (getIdx) return map([[bulk('matches'), array(matches)], [bulk('len'), int(total)]])
  return bulk(result)
}

export const lcsCommand: CommandSpec = {
  name: 'lcs',
  arity: -3,
  flags: ['readonly'],
  group: 'string',
  acl: ['string'],
  firstKey: 1,
  lastKey: 2,
  step: 1,
  keySpecs: [{ flags: ['RO', 'access'], index: 1, range: [1, 1, 0] }],
  summary: 'Finds the longest common subsequence of two string values (both read first, each on its coordinator).',
  since: '7.0.0',
  complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively',
  handler: lcs
}
