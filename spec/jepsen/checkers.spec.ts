// The jepsen checkers on hand-made histories: each one passes a history that
// keeps its promise and fails one that breaks it, and says 'unknown' when there
// is nothing to judge.
import t from 'tap'
import type { Op, OpType, Process } from '../../jepsen/history.js'
import { checkSetFull } from '../../jepsen/checkers/set-full.js'
import { checkCounter } from '../../jepsen/checkers/counter.js'
import { checkRegisters } from '../../jepsen/checkers/register.js'
import { checkSiblings } from '../../jepsen/checkers/siblings.js'
import { checkObservedRemove } from '../../jepsen/checkers/orset.js'
import { checkHash } from '../../jepsen/checkers/hash.js'
import { checkExpiry } from '../../jepsen/checkers/expiry.js'
import { checkAvailability } from '../../jepsen/checkers/availability.js'
import { checkConvergence } from '../../jepsen/checkers/convergence.js'
import { verdict, type CheckContext } from '../../jepsen/checkers/types.js'
import { complete } from '../../jepsen/partitions.js'

/** A history built by hand: each op is an invoke and its completion, 10 ms apart unless `at` says when. */
class H {
  readonly ops: Op[] = []
  private t = 0

  constructor (private readonly workload: string) {}

  op (process: Process, f: string, key: string, value: unknown, type: Exclude<OpType, 'invoke' | 'info'>, result?: unknown, at?: { invoke: number, done: number }, node = 'n1'): this {
    const invoke = at?.invoke ?? (this.t += 10)
    const done = at?.done ?? (this.t += 10)
    this.ops.push({ index: this.ops.length, time: invoke, process, type: 'invoke', f, workload: this.workload, key, value, node })
    this.ops.push({ index: this.ops.length, time: done, process, type, f, workload: this.workload, key, value: result ?? value, node })
    return this
  }

  /** The last op was a write that read these values first (Op.read). */
  read (...values: string[]): this {
    this.ops[this.ops.length - 1].read = values
    return this
  }

  final (key: string, value: unknown, node = 'n1'): this {
    return this.op('final', 'read', key, undefined, 'ok', value, undefined, node)
  }
}

const els = (...e: number[]): { elements: number[], siblings: number } => ({ elements: e, siblings: 1 })

t.test('set-full: every acknowledged element in every final read', async t => {
  const good = new H('set').op(0, 'add', 's', 1, 'ok').op(1, 'add', 's', 2, 'ok').op(2, 'add', 's', 3, 'unknown').op(0, 'read', 's', undefined, 'ok', els(1, 2))
    .final('s', els(1, 2, 3), 'n1').final('s', els(1, 2, 3), 'n2')
  const r = checkSetFull(good.ops)
  t.equal(r.valid, true, r.summary)
  t.match(r.summary, /lost 0, divergent 0, unexpected 0, stale 0, never-read 0, recovered 1/)

  const lost = new H('set').op(0, 'add', 's', 1, 'ok').op(1, 'add', 's', 2, 'ok').final('s', els(1), 'n1').final('s', els(1), 'n2')
  const rl = checkSetFull(lost.ops)
  t.equal(rl.valid, false)
  t.equal(rl.details.lost, 1)
  t.match(rl.details.lostSample, [{ element: 2, key: 's' }])

  const divergent = new H('set').op(0, 'add', 's', 1, 'ok').final('s', els(1), 'n1').final('s', els(), 'n2')
  t.equal(checkSetFull(divergent.ops).details.divergent, 1)
  t.equal(checkSetFull(divergent.ops).valid, false)

  const unexpected = new H('set').op(0, 'add', 's', 1, 'ok').op(1, 'add', 's', 2, 'fail').final('s', els(1, 2, 7))
  const ru = checkSetFull(unexpected.ops)
  t.equal(ru.valid, false)
  t.equal(ru.details.unexpected, 2, 'never added (7) and surely failed (2)')

  // Dynamo allows a read after the acknowledgement to miss it (R < N), if it comes back.
  const stale = new H('set').op(0, 'add', 's', 1, 'ok').op(1, 'read', 's', undefined, 'ok', els()).final('s', els(1))
  const rs = checkSetFull(stale.ops)
  t.equal(rs.valid, true)
  t.match(rs.summary, /stale 1/)

  const noFinal = new H('set').op(0, 'add', 's', 1, 'ok')
  t.equal(checkSetFull(noFinal.ops).valid, false, 'an acknowledged key without a final read is not judged valid')
  t.equal(checkSetFull(new H('set').op(0, 'add', 's', 1, 'fail').final('s', els()).ops).valid, 'unknown', 'nothing acknowledged')
})

t.test('counter: the final value within the acknowledged and unknown increments', async t => {
  const base = (): H => new H('counter').op(0, 'incr', 'c', 3, 'ok').op(1, 'incr', 'c', 2, 'ok').op(2, 'incr', 'c', 4, 'unknown').op(3, 'incr', 'c', -1, 'unknown').op(0, 'incr', 'c', 5, 'fail')
  for (const v of [4, 5, 8, 9]) t.equal(checkCounter(base().final('c', v).ops).valid, true, `final ${v} in [4, 9]`)
  const lost = checkCounter(base().final('c', 3).ops)
  t.equal(lost.valid, false)
  t.match(lost.summary, /final 3 < 4, acknowledged increments lost/)
  t.match(checkCounter(base().final('c', 10).ops).summary, /final 10 > 9/)
  const phantom = new H('counter').op(0, 'incr', 'c', 1, 'ok').op(1, 'read', 'c', undefined, 'ok', 7).final('c', 1)
  t.match(checkCounter(phantom.ops).summary, /1 reads above every increment/)
  t.equal(checkCounter(phantom.ops).valid, false)
  const lagging = new H('counter').op(0, 'incr', 'c', 1, 'ok').op(1, 'read', 'c', undefined, 'ok', 0).final('c', 1)
  t.equal(checkCounter(lagging.ops).valid, true, 'a read may lag')
  t.equal(checkCounter(new H('counter').op(0, 'incr', 'c', 1, 'unknown').final('c', 0).ops).valid, 'unknown')
})

t.test('register: the last acknowledged write survives as the value or a sibling', async t => {
  const vals = (...v: string[]): { values: string[] } => ({ values: v })
  const good = new H('register').op(0, 'write', 'r', 'a', 'ok').op(0, 'write', 'r', 'b', 'ok').op(1, 'read', 'r', undefined, 'ok', 'a').final('r', vals('b'), 'n1').final('r', vals('b'), 'n2')
  t.equal(checkRegisters(good.ops).valid, true)
  const lost = new H('register').op(0, 'write', 'r', 'a', 'ok').op(0, 'write', 'r', 'b', 'ok').final('r', vals('a'))
  t.equal(checkRegisters(lost.ops).valid, false)
  t.match(checkRegisters(lost.ops).details.lost, [{ key: 'r', lastAcked: 'b' }])
  const superseded = new H('register').op(0, 'write', 'r', 'a', 'unknown').op(0, 'write', 'r', 'b', 'ok').final('r', vals('a'))
  t.equal(checkRegisters(superseded.ops).valid, true, 'an unknown write may have run late')
  const sibling = new H('register').op(0, 'put', 'r', 'a', 'ok').op(0, 'put', 'r', 'b', 'ok').final('r', vals('a', 'b'))
  t.equal(checkRegisters(sibling.ops).valid, true)
  const unexpected = new H('register').op(0, 'write', 'r', 'a', 'ok').op(0, 'write', 'r', 'x', 'fail').op(1, 'read', 'r', undefined, 'ok', 'x').final('r', vals('a'))
  t.equal(checkRegisters(unexpected.ops).valid, false)
  const divergent = new H('register').op(0, 'write', 'r', 'a', 'ok').final('r', vals('a'), 'n1').final('r', vals('a', 'z'), 'n2')
  t.match(checkRegisters(divergent.ops).summary, /divergent 1, unexpected 1/)
  t.equal(checkRegisters(new H('register').op(0, 'write', 'r', 'a', 'fail').final('r', vals()).ops).valid, 'unknown')
})

t.test('siblings: a single writer with contexts sees at most 1 + its unknown and blind writes', async t => {
  const vals = (...v: string[]): { values: string[] } => ({ values: v })
  const ok = new H('register').op(0, 'put', 'ctx:0:0', 'a', 'ok').op(0, 'put', 'ctx:0:0', 'b', 'unknown').op(0, 'put', 'ctx:0:0', 'c', 'ok').op(1, 'read-ctx', 'ctx:0:0', undefined, 'ok', vals('b', 'c'))
  t.equal(checkSiblings(ok.ops).valid, true)
  const over = new H('register').op(0, 'put', 'ctx:0:0', 'a', 'ok').op(0, 'put', 'ctx:0:0', 'b', 'ok').op(1, 'read-ctx', 'ctx:0:0', undefined, 'ok', vals('a', 'b'))
  const r = checkSiblings(over.ops)
  t.equal(r.valid, false)
  t.match(r.details.over, [{ key: 'ctx:0:0', siblings: 2, bound: 1 }])
  t.equal(checkSiblings(new H('register').op(0, 'put', 'ctx:0:0', 'a', 'ok').ops).valid, 'unknown')

  // A PUT whose GETCTX missed the last acknowledged value (a sloppy read, a wiped replica) may leave it a sibling.
  const blind = (...seen: string[]): H => new H('register').op(0, 'put', 'ctx:0:0', 'a', 'ok').read()
    .op(0, 'put', 'ctx:0:0', 'b', 'ok').read(...seen).op(1, 'read-ctx', 'ctx:0:0', undefined, 'ok', vals('a', 'b'))
  const rb = checkSiblings(blind().ops)
  t.equal(rb.valid, true, rb.summary)
  t.equal(rb.details.blind, 1)
  const rs = checkSiblings(blind('a').ops)
  t.equal(rs.valid, false, 'the GETCTX saw a, so the PUT made with its context supersedes it')
  t.equal(rs.details.blind, 0)
  t.match(rs.details.over, [{ siblings: 2, bound: 1 }])
  const three = blind().op(0, 'put', 'ctx:0:0', 'c', 'ok').op(1, 'read-ctx', 'ctx:0:0', undefined, 'ok', vals('a', 'b', 'c'))
  t.equal(checkSiblings(three.ops).valid, false, 'a PUT with the previous PUT\'s context adds no sibling, blind one before or not')
})

t.test('observed-remove sets: lost adds, resurrected removes, unexpected members', async t => {
  const removed = (e: string, n: number): { element: string, removed: number } => ({ element: e, removed: n })
  const h = (): H => new H('orset')
    .op(0, 'add', 'o', 'a', 'ok')
    .op(0, 'add', 'o', 'b', 'ok').op(0, 'remove', 'o', 'b', 'ok', removed('b', 1))
    .op(1, 'add', 'o', 'c', 'ok').op(1, 'remove', 'o', 'c', 'ok', removed('c', 0))
    .op(1, 'add', 'o', 'd', 'unknown')
  t.equal(checkObservedRemove(h().final('o', ['a', 'c']).ops).valid, true)
  t.equal(checkObservedRemove(h().final('o', ['a', 'c', 'd']).ops).valid, true, 'an unknown add may be there')
  const lost = checkObservedRemove(h().final('o', ['a']).ops)
  t.equal(lost.valid, false)
  t.match(lost.details.lost, ['o c'], 'a remove that saw nothing removes nothing')
  t.match(checkObservedRemove(h().final('o', ['a', 'b', 'c']).ops).details.resurrected, ['o b'])
  t.match(checkObservedRemove(h().final('o', ['a', 'c', 'zz']).ops).details.unexpected, ['o zz'])
  t.match(checkObservedRemove(h().final('o', ['a', 'c'], 'n1').final('o', ['c'], 'n2').ops).details.divergent, ['o a'])
})

t.test('hash: fields like set elements, and present fields hold their value', async t => {
  const h = (): H => new H('hash').op(0, 'hset', 'h', { field: 'f1', value: 'v1' }, 'ok').op(0, 'hset', 'h', { field: 'f2', value: 'v2' }, 'ok')
    .op(0, 'hdel', 'h', { field: 'f2' }, 'ok', { field: 'f2', removed: 1 })
  t.equal(checkHash(h().final('h', { f1: 'v1' }).ops).valid, true)
  t.equal(checkHash(h().final('h', {}).ops).valid, false, 'f1 lost')
  t.equal(checkHash(h().final('h', { f1: 'v1', f2: 'v2' }).ops).valid, false, 'f2 resurrected')
  const wrong = checkHash(h().final('h', { f1: 'v9' }).ops)
  t.equal(wrong.valid, false)
  t.match(wrong.details.wrongValues, ['h f1=v9 (written v1)'])
})

t.test('expiry: no value read after its deadline plus the skew', async t => {
  const set = (h: H, key: string, ttlMs: number, done: number): H => h.op(0, 'set', key, { value: 'v', ttlMs }, 'ok', undefined, { invoke: done - 5, done })
  const read = (h: H, key: string, at: number, value: string | null): H => h.op(1, 'read', key, undefined, 'ok', value, { invoke: at, done: at + 2 })
  t.equal(checkExpiry(read(set(new H('expiry'), 'k', 100, 10), 'k', 300, null).ops, 'expiry', 50).valid, true)
  const late = checkExpiry(read(set(new H('expiry'), 'k', 100, 10), 'k', 300, 'v').ops, 'expiry', 50)
  t.equal(late.valid, false)
  t.match(late.details.expiredReads, [{ key: 'k', lateMs: 140 }])
  t.equal(checkExpiry(read(set(new H('expiry'), 'k', 100, 10), 'k', 150, 'v').ops, 'expiry', 50).valid, 'unknown', 'a read within the skew is not judged')
  // The tie: the deadline is 10 + 100 + 50 = 160; a read invoked at it is judged.
  t.equal(checkExpiry(read(set(new H('expiry'), 'k', 100, 10), 'k', 159.9, 'v').ops, 'expiry', 50).valid, 'unknown', 'a read begun 0.1 ms before the deadline is not judged')
  const tie = checkExpiry(read(set(new H('expiry'), 'k', 100, 10), 'k', 160, 'v').ops, 'expiry', 50)
  t.equal(tie.valid, false, 'a read begun exactly at the deadline that returns the value is an expired read')
  t.match(tie.details.expiredReads, [{ key: 'k', lateMs: 0 }])
  t.equal(checkExpiry(read(set(new H('expiry'), 'k', 100, 10), 'k', 160, null).ops, 'expiry', 50).valid, true, 'absent at the deadline: valid')
})

const ctx = (over: Partial<CheckContext> = {}): CheckContext => ({
  hosts: ['n1', 'n2', 'n3', 'n4', 'n5'], n: 3, r: 2, w: 2, phases: [], convergenceMs: 100, detectMs: 100, expirySkewMs: 0, ...over
})

t.test('availability: a side that can gather W hosts keeps acknowledging writes', async t => {
  const phase = { index: 1, startMs: 1000, endMs: 2000, grudge: complete([['n1', 'n2'], ['n3', 'n4', 'n5']]), down: [], kinds: ['partition'], description: 'halves' }
  const writes = (okOnN1: boolean, tries = 5): H => {
    const h = new H('set').op(1, 'add', 's', 0, 'ok', undefined, { invoke: 1200, done: 1300 }, 'n3')
    for (let i = 1; i <= tries; i++) h.op(0, 'add', 's', i, okOnN1 && i === tries ? 'ok' : 'unknown', undefined, { invoke: 1100 + 100 * i, done: 1150 + 100 * i }, 'n1')
    return h
  }
  t.equal(checkAvailability(writes(true).ops, ctx({ phases: [phase] })).valid, true)
  const r = checkAvailability(writes(false).ops, ctx({ phases: [phase] }))
  t.equal(r.valid, false)
  t.match(r.details.unavailable, [{ host: 'n1', reach: 2, writes: 5, writesOk: 0 }])
  t.equal(checkAvailability(writes(false, 4).ops, ctx({ phases: [phase] })).valid, true, 'too few tries to judge')
  const isolated = { ...phase, grudge: complete([['n1'], ['n2', 'n3', 'n4', 'n5']]) }
  t.equal(checkAvailability(writes(false).ops, ctx({ phases: [isolated] })).valid, true, 'one host alone cannot gather W = 2')
  t.equal(checkAvailability(writes(false).ops, ctx({ phases: [{ ...phase, down: ['n1'] }] })).valid, true, 'a host that went down is not judged')
  t.equal(checkAvailability(writes(false).ops, ctx({ phases: [{ ...phase, down: ['n2'] }] })).valid, true, 'the other host of its side went down: one host alone cannot gather W = 2')
  const killedBefore = { index: 0, startMs: 0, endMs: 1500, grudge: null, down: ['n1'], kinds: ['kill'], description: 'kill n1' }
  t.equal(checkAvailability(writes(false).ops, ctx({ phases: [killedBefore, phase] })).valid, true, 'judged from detectMs after the host came back')
})

t.test('convergence and the verdict', async t => {
  t.equal(checkConvergence(ctx(), 1000).valid, true)
  t.equal(checkConvergence(ctx({ convergenceMs: null }), 1000).valid, false)
  const r = (valid: true | false | 'unknown'): ReturnType<typeof checkConvergence> => ({ checker: 'x', workload: null, valid, summary: '', details: {} })
  t.equal(verdict([r(true), r(true)]), true)
  t.equal(verdict([r(true), r('unknown')]), 'unknown')
  t.equal(verdict([r('unknown'), r(false)]), false)
})
