// Counters (docs/types.md "Counters") under partitions, crashes, a wiped
// replica and a lossy network: INCR/DECR/INCRBY/DECRBY through random nodes.
//
// Every increment of a key gets its own digit: the i-th one issued on a key
// adds ±5^i (INCR/DECR for i = 0). Written in balanced base 5 (digits −2…2),
// a value says exactly how often each increment was counted, so the check is
// exact, not a range:
//   - after healing, GET through every node gives the same value, in which
//     each acknowledged increment counts exactly once, each unknown one
//     (an error that may have been stored) once or not at all, and each
//     failed or never-issued one not at all;
//   - every value seen on the way (INCR replies, GETs) counts every increment
//     at most once, and none invoked after that reply;
//   - every primary holds the key's record with the same bytes.
import t from 'tap'
import { SimCluster } from './harness.js'
import { divergentPartitions } from './checkers.js'
import { OpLog, disagreements, drive, faultSchedule, healAll, pick, replicaDifferences, seedsFrom, type Op } from './typed.js'

const DIGITS = 27 // 2 · Σ 5^i (i < 27) stays inside int64
const seeds = seedsFrom([1, 2, 3])

/** Cluster shapes, by seed: W=2/R=2 on 3 and 5 nodes (with a wiped replica), W=1/R=1 on 4 (crashes, no wipe). */
function shape (seed: number): { nodes: number, r: number, w: number, wipe: boolean } {
  return [{ nodes: 3, r: 2, w: 2, wipe: true }, { nodes: 5, r: 2, w: 2, wipe: true }, { nodes: 4, r: 1, w: 1, wipe: false }][seed % 3]
}

/** Balanced base-5 digits of v (null when v needs more than DIGITS of them). */
function digitsOf (v: bigint): number[] | null {
  const out: number[] = []
  for (let i = 0; i < DIGITS; i++) {
    let r = Number(((v % 5n) + 5n) % 5n)
    if (r > 2) r -= 5
    out.push(r)
    v = (v - BigInt(r)) / 5n
  }
  return v === 0n ? out : null
}

interface Increment {
  key: string
  slot: number
  sign: 1 | -1
  invokedMs: number
  /** Set once its reply came. */
  op: Op | null
}

/** A value seen during the run (checked once every outcome is known). */
interface Seen {
  key: string
  value: bigint
  doneMs: number
  what: string
  /** The increment whose reply this is. */
  self?: Increment
}

function commandOf (slot: number, sign: 1 | -1, key: string): string[] {
  if (slot === 0) return [sign > 0 ? 'INCR' : 'DECR', key]
  return [sign > 0 ? 'INCRBY' : 'DECRBY', key, (5n ** BigInt(slot)).toString()]
}

function intOf (text: string | null): bigint | null {
  if (text === null) return 0n
  return /^-?\d+$/.test(text) ? BigInt(text) : null
}

/**
 * What a value observed during [.., doneMs] may hold: each digit 0 or its
 * increment's sign, and 0 for increments failed or invoked after doneMs.
 * self: the increment whose own reply this is (it must count, once).
 */
function checkSeen (incs: Increment[], value: bigint, doneMs: number, what: string, self?: Increment): string[] {
  const d = digitsOf(value)
  if (d === null) return [`${what}: ${value} is not a sum of the key's increments`]
  const problems: string[] = []
  for (let i = 0; i < DIGITS; i++) {
    const inc = incs[i]
    const allowed = inc === undefined || inc.invokedMs > doneMs || inc.op?.outcome === 'failed' ? [0] : [0, inc.sign]
    if (self !== undefined && inc === self) allowed.splice(0, allowed.length, inc.sign)
    if (!allowed.includes(d[i])) problems.push(`${what}: ${value} counts increment #${i} (${inc?.op?.args.join(' ') ?? 'never issued'}, ${inc?.op?.outcome ?? '-'}) ${d[i]} × instead of ${allowed.join(' or ')}`)
  }
  return problems
}

/** The final value: acknowledged increments exactly once, unknown ones at most once, the rest not at all. */
function checkFinal (incs: Increment[], value: bigint, key: string): string[] {
  const d = digitsOf(value)
  if (d === null) return [`${key}: final ${value} is not a sum of its increments`]
  const problems: string[] = []
  for (let i = 0; i < DIGITS; i++) {
    const inc = incs[i]
    const o = inc?.op?.outcome
    const allowed = o === 'ok' ? [inc.sign] : o === 'unknown' ? [0, inc.sign] : [0]
    if (!allowed.includes(d[i])) problems.push(`${key}: increment #${i} (${inc?.op?.args.join(' ') ?? 'never issued'}, ${o ?? '-'}) counted ${d[i] * (inc?.sign ?? 1)} times in ${value}`)
  }
  return problems
}

async function scenario (seed: number): Promise<{ problems: string[], log: OpLog, faults: string[] }> {
  const { nodes, r, w, wipe } = shape(seed)
  const c = await SimCluster.create({ seed, nodes, r, w, partitions: 16 })
  try {
    const rnd = c.net.forkRandom()
    const log = new OpLog()
    const keys = ['c0', 'c1', 'c2', 'c3']
    const incs = new Map<string, Increment[]>(keys.map(k => [k, []]))
    const problems: string[] = []
    const seen: Seen[] = []
    let going = true
    const pause = (ms: number): Promise<void> => new Promise(resolve => c.clock.after(ms, resolve))

    const increments = async (): Promise<void> => {
      for (let n = 0; n < 30 && going; n++) {
        const free = keys.filter(k => (incs.get(k) as Increment[]).length < DIGITS)
        if (free.length === 0) return
        const key = pick(rnd, free)
        const list = incs.get(key) as Increment[]
        const inc: Increment = { key, slot: list.length, sign: rnd.next() < 0.7 ? 1 : -1, invokedMs: c.clock.now(), op: null }
        list.push(inc)
        const op = inc.op = await log.run(c, pick(rnd, c.running()), ...commandOf(inc.slot, inc.sign, key))
        if (op.outcome === 'ok') {
          if (op.reply.type !== 'int') problems.push(`${op.args.join(' ')}: reply ${JSON.stringify(op.reply)}`)
          else seen.push({ key, value: BigInt(op.reply.value), doneMs: op.doneMs, what: `${op.args.join(' ')} via ${op.node} replied`, self: inc })
        }
        await pause(20 + rnd.int(150))
      }
    }
    const reads = async (): Promise<void> => {
      for (let n = 0; n < 40 && going; n++) {
        const key = pick(rnd, keys)
        const op = await log.run(c, pick(rnd, c.running()), 'GET', key)
        if (op.outcome === 'ok') {
          const v = intOf(op.reply.type === 'bulk' ? op.reply.value.toString() : null)
          if (v === null) problems.push(`GET ${key} via ${op.node}: ${JSON.stringify(op.reply)}`)
          else seen.push({ key, value: v, doneMs: op.doneMs, what: `GET ${key} via ${op.node} at ${op.doneMs}` })
        }
        await pause(50 + rnd.int(100))
      }
    }

    c.net.dropProbability = 0.01
    c.net.delayMsMax = 15
    const writers = Array.from({ length: 5 }, () => increments())
    let faults: string[] = []
    const schedule = faultSchedule(c, rnd, { steps: 6, wipe, gapMs: 300 }, () => going).then(f => { faults = f })
    await drive(c, [Promise.all(writers).finally(() => { going = false }), reads(), schedule])

    for (const s of seen) problems.push(...checkSeen(incs.get(s.key) as Increment[], s.value, s.doneMs, s.what, s.self))
    await healAll(c)
    problems.push(...divergentPartitions(c))
    for (const key of keys) {
      const seen = await disagreements(c, 'GET', key)
      problems.push(...seen)
      const final = await c.exec(c.running()[0], 'GET', key)
      const v = intOf(final.type === 'bulk' ? final.value.toString() : null)
      if (v === null) problems.push(`${key}: final GET ${JSON.stringify(final)}`)
      else problems.push(...checkFinal(incs.get(key) as Increment[], v, key))
      problems.push(...await replicaDifferences(c, key))
    }
    return { problems, log, faults }
  } finally {
    await c.stop()
  }
}

for (const seed of seeds) {
  t.test(`seed ${seed} (${JSON.stringify(shape(seed))})`, async (t) => {
    const { problems, log, faults } = await scenario(seed)
    const incrs = log.ops.filter(o => o.args[0] !== 'GET')
    t.ok(incrs.filter(o => o.outcome === 'ok').length >= 50, `enough acknowledged increments to mean something (${log.summary()})`)
    t.same(problems, [], `every acknowledged increment counted exactly once (replay with DYNAKV_SEED=${seed})`)
    if (problems.length > 0) t.comment([...faults, ...problems.slice(0, 30)].join('\n'))
  })
}
