// Sorted sets (docs/types.md): members added and removed by the observed-remove
// rule of sets; a member's score is a register (ZADD: the newest write wins)
// plus counter contributions (ZINCRBY, ZADD INCR: increments through every
// coordinator count). Scores are stored as their shortest decimal text. Range
// queries read every member and sort them (score, then member bytes).
import { elementState, type VObject } from '../../versioning/index.js'
import { NULL, NULL_ARRAY, array, bulk, double, int, type Reply } from '../reply.js'
import type { KeyRef } from '../../node/keys.js'
import { WrongTypeError } from '../../node/records.js'
import type { Call, CommandSpec } from './types.js'
import { redisMeta } from './redis-table.js'
import { E, fail, intArg, lower, parseFloatStrict } from './util.js'
import {
  countArg, removeElements, elementRefs, expectType, readElements, incrementElement, randomPicks, readAll, removeElement, scanArgs, scanPage,
  scanReply, storeCollection, writeElement
} from './collections.js'
import { Buffer } from 'node:buffer'

interface Scored {
  member: Buffer
  score: number
  obj: VObject
}

/** A member record's score; null when it is not live. */
export function scoreOf (obj: VObject | undefined): number | null {
  if (obj === undefined) return null
  const v = elementState(obj).value
  if (v === null) return null
  const n = parseFloatStrict(v)
  return n === null ? 0 : n
}

const scoreText = (n: number): Buffer => Buffer.from(String(n))

function compareScored (a: Pick<Scored, 'member' | 'score'>, b: Pick<Scored, 'member' | 'score'>): number {
  return a.score - b.score || (a.score === b.score ? Buffer.compare(a.member, b.member) : 0)
}

async function sorted (c: Call, key: KeyRef): Promise<Scored[]> {
  const all = await readAll(c, key, 'zset') ?? []
  const out: Scored[] = []
  for (const e of all) {
    const score = scoreOf(e.obj)
    if (score !== null) out.push({ member: e.element, score, obj: e.obj })
  }
  return out.sort(compareScored)
}

function scoreArg (b: Buffer): number {
  const v = parseFloatStrict(b)
  if (v === null) fail(E.notFloat)
  return v
}

// ---------------------------------------------------------------- ZADD / ZINCRBY / ZREM

async function zadd (c: Call): Promise<Reply> {
  let nx = false; let xx = false; let gt = false; let lt = false; let ch = false; let incr = false
  let i = 2
  for (; i < c.args.length; i++) {
    const o = lower(c.args[i])
    if (o === 'nx') nx = true
    else if (o === 'xx') xx = true
    else if (o === 'gt') gt = true
    else if (o === 'lt') lt = true
    else if (o === 'ch') ch = true
    else if (o === 'incr') incr = true
    else break
  }
  const rest = c.args.slice(i)
  if (rest.length === 0 || rest.length % 2 !== 0) fail(E.syntax)
  if (nx && xx) fail('ERR XX and NX options at the same time are not compatible')
  if ((gt && lt) || (gt && nx) || (lt && nx)) fail('ERR GT, LT, and/or NX options at the same time are not compatible')
  if (incr && rest.length > 2) fail('ERR INCR option supports a single increment-element pair')
  const pairs = new Map<string, [number, Buffer]>()
  for (let k = 0; k < rest.length; k += 2) pairs.set(rest[k + 1].toString('latin1'), [scoreArg(rest[k]), rest[k + 1]])
  const list = [...pairs.values()]
  const key = c.node.ref(c.args[1])
  const refs = elementRefs(key, 'zset', list.map(p => p[1]))
  return await c.node.records.txn(key, refs, async (view) => {
    const exists = expectType(view, 'zset')
    const writes = []
    let added = 0
    let changed = 0
    let incrResult: number | null = null
    for (let k = 0; k < refs.length; k++) {
      const old = exists ? scoreOf(view.elements[k]) : null
      const [score] = list[k]
      if ((nx && old !== null) || (xx && old === null)) continue
      const next = incr ? (old ?? 0) + score : score
      if (Number.isNaN(next)) fail('ERR resulting score is not a number (NaN)')
      if (old !== null && ((gt && next <= old) || (lt && next >= old))) continue
      if (incr) incrResult = next
      if (old === null) added++
      else if (next !== old) changed++
      else if (!incr) continue // same score: nothing to write, as Redis
      // An infinite score (an infinite increment, or one past the largest double) is a plain value:
      // counter contributions are finite, and what is read back must be what was answered.
      writes.push(incr && Number.isFinite(next) ? incrementElement(refs[k], score) : writeElement(refs[k], view.elements[k], scoreText(next)))
    }
    if (writes.length > 0) writes.unshift(...await c.node.records.ensureCollection(view, 'zset'))
    const result = incr ? (incrResult === null ? NULL : double(incrResult)) : int(ch ? added + changed : added)
    return { writes, result }
  })
}

async function zincrby (c: Call): Promise<Reply> {
  const delta = scoreArg(c.args[2])
  const key = c.node.ref(c.args[1])
  const ref = key.element('zset', c.args[3])
  return await c.node.records.txn(key, [ref], async (view) => {
    const exists = expectType(view, 'zset')
    const old = exists ? scoreOf(view.elements[0]) : null
    const next = (old ?? 0) + delta
    if (Number.isNaN(next)) fail('ERR resulting score is not a number (NaN)')
    const writes = await c.node.records.ensureCollection(view, 'zset')
    // A counter contribution even on an absent member (as HINCRBY): concurrent first increments all
    // count. An infinite score (an infinite delta, or one past the largest double) is a plain value.
    writes.push(Number.isFinite(next) ? incrementElement(ref, delta) : writeElement(ref, view.elements[0], scoreText(next)))
    return { writes, result: double(next) }
  })
}


// ---------------------------------------------------------------- reads

async function readScores (c: Call, members: Buffer[]): Promise<Array<number | null>> {
  const objs = await readElements(c, 'zset', members)
  return objs === null ? members.map(() => null) : objs.map(scoreOf)
}

const scoreReply = (s: number | null): Reply => s === null ? NULL : double(s)

/** Members with scores: [m, s, ...] in RESP2, [[m, s], ...] in RESP3. */
function withScores (c: Call, items: Array<Pick<Scored, 'member' | 'score'>>, scores: boolean): Reply {
  if (!scores) return array(items.map(e => bulk(e.member)))
  if (c.session.proto === 3) return array(items.map(e => array([bulk(e.member), double(e.score)])))
  return array(items.flatMap(e => [bulk(e.member), double(e.score)]))
}

interface ScoreBound { value: number, open: boolean }

function scoreBound (b: Buffer): ScoreBound {
  const s = b.toString('latin1')
  const open = s.startsWith('(')
  const v = parseFloatStrict(open ? s.slice(1) : s)
  if (v === null) fail('ERR min or max is not a float')
  return { value: v, open }
}

interface LexBound { value: Buffer | null, open: boolean, inf: -1 | 0 | 1 }

function lexBound (b: Buffer): LexBound {
  if (b.length === 1 && b[0] === 0x2d) return { value: null, open: false, inf: -1 }
  if (b.length === 1 && b[0] === 0x2b) return { value: null, open: false, inf: 1 }
  if (b[0] === 0x28 || b[0] === 0x5b) return { value: b.subarray(1), open: b[0] === 0x28, inf: 0 }
  return fail('ERR min or max not valid string range item')
}

function aboveMin (score: number, min: ScoreBound): boolean {
  return min.open ? score > min.value : score >= min.value
}

function belowMax (score: number, max: ScoreBound): boolean {
  return max.open ? score < max.value : score <= max.value
}

function lexAboveMin (m: Buffer, min: LexBound): boolean {
  if (min.inf !== 0) return min.inf < 0
  const c = Buffer.compare(m, min.value as Buffer)
  return min.open ? c > 0 : c >= 0
}

function lexBelowMax (m: Buffer, max: LexBound): boolean {
  if (max.inf !== 0) return max.inf > 0
  const c = Buffer.compare(m, max.value as Buffer)
  return max.open ? c < 0 : c <= 0
}

interface RangeQuery {
  by: 'rank' | 'score' | 'lex'
  rev: boolean
  start: Buffer
  stop: Buffer
  limit: { offset: number, count: number } | null
  withScores: boolean
}

/** The members a range query selects, in reply order. */
function select (items: Scored[], q: RangeQuery): Scored[] {
  let out: Scored[]
  if (q.by === 'rank') {
    const n = items.length
    let start = intArg(q.start)
    let stop = intArg(q.stop)
    if (start < 0) start = Math.max(0, n + start)
    if (stop < 0) stop = n + stop
    if (stop >= n) stop = n - 1
    if (start > stop || start >= n) return []
    const ordered = q.rev ? items.slice().reverse() : items
    return ordered.slice(start, stop + 1)
  }
  if (q.by === 'score') {
    // REV takes max first.
    const min = scoreBound(q.rev ? q.stop : q.start)
    const max = scoreBound(q.rev ? q.start : q.stop)
    out = items.filter(e => aboveMin(e.score, min) && belowMax(e.score, max))
  } else {
    const min = lexBound(q.rev ? q.stop : q.start)
    const max = lexBound(q.rev ? q.start : q.stop)
    out = items.filter(e => lexAboveMin(e.member, min) && lexBelowMax(e.member, max))
  }
  if (q.rev) out.reverse()
  if (q.limit !== null) {
    if (q.limit.offset < 0) return []
    out = out.slice(q.limit.offset, q.limit.count < 0 ? undefined : q.limit.offset + q.limit.count)
  }
  return out
}

/** ZRANGE's options after key start stop (from index `from`), with Redis's errors. */
function rangeOptions (args: Buffer[], from: number, by: RangeQuery['by'], rev: boolean, allowWithScores = true): RangeQuery {
  const q: RangeQuery = { by, rev, start: args[from - 2], stop: args[from - 1], limit: null, withScores: false }
  for (let i = from; i < args.length; i++) {
    const o = lower(args[i])
    if (o === 'withscores' && allowWithScores) q.withScores = true
    else if (o === 'byscore' && by === 'rank' && lower(args[0]) !== 'zrangebyscore') q.by = 'score'
    else if (o === 'bylex' && by === 'rank' && lower(args[0]) !== 'zrangebyscore') q.by = 'lex'
    else if (o === 'rev' && lower(args[0]).startsWith('zrange') && !lower(args[0]).includes('by')) q.rev = true
    else if (o === 'limit' && i + 2 < args.length) {
      q.limit = { offset: intArg(args[i + 1]), count: intArg(args[i + 2]) }
      i += 2
    } else fail(E.syntax)
  }
  if (q.limit !== null && q.by === 'rank') fail('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX')
  if (q.withScores && q.by === 'lex') fail('ERR syntax error, WITHSCORES not supported in combination with BYLEX')
  return q
}

function rangeCmd (by: RangeQuery['by'], rev: boolean, withScoresAllowed = true) {
  return async (c: Call): Promise<Reply> => {
    const q = rangeOptions(c.args, 4, by, rev, withScoresAllowed)
    // Bounds are checked before the key is read, as Redis does.
    select([], q)
    return withScores(c, select(await sorted(c, c.node.ref(c.args[1])), q), q.withScores)
  }
}

async function zrangestore (c: Call): Promise<Reply> {
  const q = rangeOptions(c.args.slice(1), 4, 'rank', false, false)
  select([], q)
  const picked = select(await sorted(c, c.node.ref(c.args[2])), q)
  return int(await storeCollection(c, c.node.ref(c.args[1]), 'zset', picked.map(e => [e.member, scoreText(e.score)])))
}

async function zcount (c: Call): Promise<Reply> {
  const min = scoreBound(c.args[2])
  const max = scoreBound(c.args[3])
  return int((await sorted(c, c.node.ref(c.args[1]))).filter(e => aboveMin(e.score, min) && belowMax(e.score, max)).length)
}

async function zlexcount (c: Call): Promise<Reply> {
  const min = lexBound(c.args[2])
  const max = lexBound(c.args[3])
  return int((await sorted(c, c.node.ref(c.args[1]))).filter(e => lexAboveMin(e.member, min) && lexBelowMax(e.member, max)).length)
}

function rankCmd (rev: boolean) {
  return async (c: Call): Promise<Reply> => {
    if (c.args.length > 4 || (c.args.length === 4 && lower(c.args[3]) !== 'withscore')) fail(E.syntax)
    const items = await sorted(c, c.node.ref(c.args[1]))
    const i = items.findIndex(e => e.member.equals(c.args[2]))
    if (i < 0) return c.args.length === 4 ? array([]) : NULL
    const rank = rev ? items.length - 1 - i : i
    return c.args.length === 4 ? array([int(rank), double(items[i].score)]) : int(rank)
  }
}

/**
 * Removes the `count` members of lowest (highest: max) score, each as it was
 * read; null when the key holds no sorted set.
 */
function popFrom (c: Call, key: KeyRef, max: boolean, count: number): Promise<Scored[] | null> {
  return c.node.records.txn(key, [], async (view) => {
    if (!expectType(view, 'zset')) return { writes: [], result: null }
    const items = await sorted(c, key)
    const picked = (max ? items.reverse() : items).slice(0, count)
    return { writes: picked.map(e => removeElement(key.element('zset', e.member), e.obj)), result: picked }
  })
}

const pairs = (items: Scored[]): Reply => array(items.map(e => array([bulk(e.member), double(e.score)])))

function popCmd (max: boolean) {
  return async (c: Call): Promise<Reply> => {
    if (c.args.length > 3) fail(E.syntax)
    const count = c.args.length === 3 ? intArg(c.args[2], 'ERR value is out of range, must be positive') : 1
    if (count < 0) fail('ERR value is out of range, must be positive')
    const picked = await popFrom(c, c.node.ref(c.args[1]), max, count) ?? []
    return c.session.proto === 3 && c.args.length === 3 ? pairs(picked) : array(picked.flatMap(e => [bulk(e.member), double(e.score)]))
  }
}

/** ZMPOP numkeys key... MIN|MAX [COUNT n]: pops from the first key holding a sorted set. */
async function zmpop (c: Call): Promise<Reply> {
  const numkeys = intArg(c.args[1], 'ERR numkeys should be greater than 0')
  if (numkeys < 1) fail('ERR numkeys should be greater than 0')
  const where = 2 + numkeys
  if (where >= c.args.length) fail(E.syntax)
  const side = lower(c.args[where])
  if (side !== 'min' && side !== 'max') fail(E.syntax)
  let count = -1
  for (let j = where + 1; j < c.args.length; j++) {
    if (count !== -1 || lower(c.args[j]) !== 'count' || j + 1 >= c.args.length) fail(E.syntax)
    count = intArg(c.args[++j], 'ERR count should be greater than 0')
    if (count < 1) fail('ERR count should be greater than 0')
  }
  for (const k of c.args.slice(2, where)) {
    const picked = await popFrom(c, c.node.ref(k), side === 'max', count === -1 ? 1 : count)
    if (picked !== null && picked.length > 0) return array([bulk(k), pairs(picked)])
  }
  return NULL_ARRAY
}

/** ZREMRANGEBYSCORE, ZREMRANGEBYRANK, ZREMRANGEBYLEX: each member in the range removed as it was read. */
function removeRange (by: RangeQuery['by']) {
  return async (c: Call): Promise<Reply> => {
    const q: RangeQuery = { by, rev: false, start: c.args[2], stop: c.args[3], limit: null, withScores: false }
    // Bounds are checked before the key is read, as Redis does.
    select([], q)
    const key = c.node.ref(c.args[1])
    return await c.node.records.txn(key, [], async (view) => {
      if (!expectType(view, 'zset')) return { writes: [], result: int(0) }
      const picked = select(await sorted(c, key), q)
      return { writes: picked.map(e => removeElement(key.element('zset', e.member), e.obj)), result: int(picked.length) }
    })
  }
}

// ---------------------------------------------------------------- ZUNION / ZINTER / ZDIFF

type ZsetOp = 'union' | 'inter' | 'diff'
type Weighed = Pick<Scored, 'member' | 'score'>

/** A key's members with their scores, for ZUNION and kin: a set's members score 1, an absent key has none. */
async function scoredInput (c: Call, k: Buffer): Promise<Weighed[]> {
  const key = c.node.ref(k)
  try {
    return await sorted(c, key)
  } catch (e) {
    if (!(e instanceof WrongTypeError)) throw e
    return (await readAll(c, key, 'set') ?? []).map(el => ({ member: el.element, score: 1 }))
  }
}

/** Redis's rule: a product or a sum that is NaN (inf × 0, inf + -inf) counts as 0. */
const notNaN = (n: number): number => Number.isNaN(n) ? 0 : n

function aggregated (how: string, a: number, b: number): number {
  return how === 'min' ? Math.min(a, b) : how === 'max' ? Math.max(a, b) : notNaN(a + b)
}

interface ZsetOpResult { items: Weighed[], withScores: boolean, limit: number }

/**
 * ZUNION, ZINTER, ZDIFF (and their STORE forms, ZINTERCARD) with numkeys at
 * args[at]: Redis's argument checks in Redis's order (numkeys, the inputs'
 * types, then WEIGHTS / AGGREGATE / WITHSCORES / LIMIT), the result sorted by
 * score then member.
 */
async function zsetOp (c: Call, op: ZsetOp, at: number, form: 'reply' | 'store' | 'card'): Promise<ZsetOpResult> {
  const numkeys = intArg(c.args[at])
  if (numkeys < 1) fail(`ERR at least 1 input key is needed for '${lower(c.args[0])}' command`)
  if (numkeys > c.args.length - at - 1) fail(E.syntax)
  const inputs = await Promise.all(c.args.slice(at + 1, at + 1 + numkeys).map(async k => await scoredInput(c, k)))
  const weights: number[] = inputs.map(() => 1)
  let how = 'sum'
  let withScores = false
  let limit = 0
  const combining = op !== 'diff' && form !== 'card'
  for (let j = at + 1 + numkeys; j < c.args.length;) {
    const left = c.args.length - j
    const o = lower(c.args[j])
    if (combining && o === 'weights' && left >= numkeys + 1) {
      for (let i = 0; i < numkeys; i++) {
        const w = parseFloatStrict(c.args[j + 1 + i])
        if (w === null) fail('ERR weight value is not a float')
        weights[i] = w
      }
      j += numkeys + 1
    } else if (combining && o === 'aggregate' && left >= 2) {
      how = lower(c.args[j + 1])
      if (how !== 'sum' && how !== 'min' && how !== 'max') fail(E.syntax)
      j += 2
    } else if (form === 'reply' && o === 'withscores') {
      withScores = true
      j++
    } else if (form === 'card' && o === 'limit' && left >= 2) {
      limit = intArg(c.args[j + 1], "ERR LIMIT can't be negative")
      if (limit < 0) fail("ERR LIMIT can't be negative")
      j += 2
    } else fail(E.syntax)
  }
  const scored = inputs.map((items, i) => items.map(e => ({ member: e.member, score: notNaN(e.score * weights[i]) })))
  const out = new Map<string, Weighed>()
  if (op === 'union') {
    for (const items of scored) {
      for (const e of items) {
        const k = e.member.toString('latin1')
        const had = out.get(k)
        out.set(k, had === undefined ? e : { member: e.member, score: aggregated(how, had.score, e.score) })
      }
    }
  } else {
    // As Redis: the smallest input first (the order of a sum's terms).
    const [first, ...rest] = op === 'inter' ? scored.slice().sort((a, b) => a.length - b.length) : scored
    const others = rest.map(items => new Map(items.map(e => [e.member.toString('latin1'), e.score])))
    for (const e of first) {
      const k = e.member.toString('latin1')
      if (op === 'diff') {
        if (!others.some(m => m.has(k))) out.set(k, e)
        continue
      }
      let score = e.score
      let everywhere = true
      for (const m of others) {
        const s = m.get(k)
        if (s === undefined) {
          everywhere = false
          break
        }
        score = aggregated(how, score, s)
      }
      if (everywhere) out.set(k, { member: e.member, score })
    }
  }
  return { items: [...out.values()].sort(compareScored), withScores, limit }
}

function zsetOpCmd (op: ZsetOp) {
  return async (c: Call): Promise<Reply> => {
    const r = await zsetOp(c, op, 1, 'reply')
    return withScores(c, r.items, r.withScores)
  }
}

function zsetOpStore (op: ZsetOp) {
  return async (c: Call): Promise<Reply> => {
    const r = await zsetOp(c, op, 2, 'store')
    return int(await storeCollection(c, c.node.ref(c.args[1]), 'zset', r.items.map(e => [e.member, scoreText(e.score)])))
  }
}

async function zintercard (c: Call): Promise<Reply> {
  const r = await zsetOp(c, 'inter', 1, 'card')
  return int(r.limit > 0 ? Math.min(r.items.length, r.limit) : r.items.length)
}

async function zrandmember (c: Call): Promise<Reply> {
  if (c.args.length > 4 || (c.args.length === 4 && lower(c.args[3]) !== 'withscores')) fail(E.syntax)
  const count = c.args.length >= 3 ? countArg(c.args[2]) : null
  const items = await sorted(c, c.node.ref(c.args[1]))
  if (count === null) return items.length === 0 ? NULL : bulk(randomPicks(c, items, 1)[0].member)
  return withScores(c, randomPicks(c, items, count), c.args.length === 4)
}

async function zscan (c: Call): Promise<Reply> {
  const a = scanArgs(c)
  const page = await scanPage(c, c.node.ref(c.args[1]), 'zset', a)
  if (page === null) return scanReply(0n, [])
  return scanReply(page.cursor, page.elements.flatMap(e => [bulk(e.element), double(scoreOf(e.obj) ?? 0)]))
}

const KEY = { group: 'sorted-set', firstKey: 1, lastKey: 1, step: 1, route: 'key' } as const

export const zsetCommands: CommandSpec[] = [
  { name: 'zadd', ...KEY, ...redisMeta('zadd'), summary: 'Adds members with scores (the newest score wins; INCR adds as a counter).', since: '1.2.0', handler: zadd },
  { name: 'zincrby', ...KEY, ...redisMeta('zincrby'), summary: 'Increments a member\'s score as a counter (increments through every node count).', since: '1.2.0', handler: zincrby },
  { name: 'zrem', ...KEY, ...redisMeta('zrem'), summary: 'Removes members (exactly the adds the coordinator read).', since: '1.2.0', handler: c => removeElements(c, 'zset') },
  { name: 'zscore', ...KEY, ...redisMeta('zscore'), summary: 'Returns a member\'s score.', since: '1.2.0', handler: async c => scoreReply((await readScores(c, [c.args[2]]))[0]) },
  { name: 'zmscore', ...KEY, ...redisMeta('zmscore'), summary: 'Returns members\' scores.', since: '6.2.0', handler: async c => array((await readScores(c, c.args.slice(2))).map(scoreReply)) },
  { name: 'zcard', ...KEY, ...redisMeta('zcard'), summary: 'Returns the number of members (reads them all).', since: '1.2.0', handler: async c => int((await sorted(c, c.node.ref(c.args[1]))).length) },
  { name: 'zcount', ...KEY, ...redisMeta('zcount'), summary: 'Counts members with scores in a range.', since: '2.0.0', handler: zcount },
  { name: 'zlexcount', ...KEY, ...redisMeta('zlexcount'), summary: 'Counts members in a lexicographical range.', since: '2.8.9', handler: zlexcount },
  { name: 'zrange', ...KEY, ...redisMeta('zrange'), summary: 'Returns members by rank, score or lexicographical range.', since: '1.2.0', handler: rangeCmd('rank', false) },
  { name: 'zrevrange', ...KEY, ...redisMeta('zrevrange'), summary: 'Returns members by rank, highest score first.', since: '1.2.0', handler: rangeCmd('rank', true) },
  { name: 'zrangebyscore', ...KEY, ...redisMeta('zrangebyscore'), summary: 'Returns members with scores in a range.', since: '1.0.5', handler: rangeCmd('score', false) },
  { name: 'zrevrangebyscore', ...KEY, ...redisMeta('zrevrangebyscore'), summary: 'Returns members with scores in a range, highest first.', since: '2.2.0', handler: rangeCmd('score', true) },
  { name: 'zrangebylex', ...KEY, ...redisMeta('zrangebylex'), summary: 'Returns members in a lexicographical range.', since: '2.8.9', handler: rangeCmd('lex', false, false) },
  { name: 'zrevrangebylex', ...KEY, ...redisMeta('zrevrangebylex'), summary: 'Returns members in a lexicographical range, in reverse.', since: '2.8.9', handler: rangeCmd('lex', true, false) },
  { name: 'zrangestore', group: 'sorted-set', ...redisMeta('zrangestore'), summary: 'Stores a range of a sorted set in another key (replaces it; not atomic).', since: '6.2.0', handler: zrangestore },
  { name: 'zrank', ...KEY, ...redisMeta('zrank'), summary: 'Returns a member\'s rank, lowest score first.', since: '2.0.0', handler: rankCmd(false) },
  { name: 'zrevrank', ...KEY, ...redisMeta('zrevrank'), summary: 'Returns a member\'s rank, highest score first.', since: '2.0.0', handler: rankCmd(true) },
  { name: 'zpopmin', ...KEY, ...redisMeta('zpopmin'), summary: 'Removes and returns the members with the lowest scores.', since: '5.0.0', handler: popCmd(false) },
  { name: 'zpopmax', ...KEY, ...redisMeta('zpopmax'), summary: 'Removes and returns the members with the highest scores.', since: '5.0.0', handler: popCmd(true) },
  { name: 'zmpop', group: 'sorted-set', ...redisMeta('zmpop'), summary: 'Removes and returns members of the first non-empty sorted set of several.', since: '7.0.0', handler: zmpop },
  { name: 'zremrangebyscore', ...KEY, ...redisMeta('zremrangebyscore'), summary: 'Removes the members with scores in a range (exactly as read).', since: '1.2.0', handler: removeRange('score') },
  { name: 'zremrangebyrank', ...KEY, ...redisMeta('zremrangebyrank'), summary: 'Removes the members in a range of ranks (exactly as read).', since: '2.0.0', handler: removeRange('rank') },
  { name: 'zremrangebylex', ...KEY, ...redisMeta('zremrangebylex'), summary: 'Removes the members in a lexicographical range (exactly as read).', since: '2.8.9', handler: removeRange('lex') },
  { name: 'zunion', group: 'sorted-set', ...redisMeta('zunion'), summary: 'Returns the union of sorted sets (and sets, scoring 1).', since: '6.2.0', handler: zsetOpCmd('union') },
  { name: 'zinter', group: 'sorted-set', ...redisMeta('zinter'), summary: 'Returns the intersection of sorted sets (and sets, scoring 1).', since: '6.2.0', handler: zsetOpCmd('inter') },
  { name: 'zdiff', group: 'sorted-set', ...redisMeta('zdiff'), summary: 'Returns the members of the first sorted set not in the others.', since: '6.2.0', handler: zsetOpCmd('diff') },
  { name: 'zunionstore', group: 'sorted-set', ...redisMeta('zunionstore'), summary: 'Stores the union of sorted sets (replaces the destination; not atomic).', since: '2.0.0', handler: zsetOpStore('union') },
  { name: 'zinterstore', group: 'sorted-set', ...redisMeta('zinterstore'), summary: 'Stores the intersection of sorted sets (replaces the destination; not atomic).', since: '2.0.0', handler: zsetOpStore('inter') },
  { name: 'zdiffstore', group: 'sorted-set', ...redisMeta('zdiffstore'), summary: 'Stores the difference of sorted sets (replaces the destination; not atomic).', since: '6.2.0', handler: zsetOpStore('diff') },
  { name: 'zintercard', group: 'sorted-set', ...redisMeta('zintercard'), summary: 'Returns the size of the intersection of sorted sets.', since: '7.0.0', handler: zintercard },
  { name: 'zrandmember', ...KEY, ...redisMeta('zrandmember'), summary: 'Returns random members.', since: '6.2.0', handler: zrandmember },
  { name: 'zscan', ...KEY, ...redisMeta('zscan'), summary: 'Iterates the members of a sorted set (a stateless cursor any node resumes).', since: '2.8.0', handler: zscan }
]
