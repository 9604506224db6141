// Concurrent increments on both sides of a partition all count (docs/types.md
// "Counters"), also where the key or member holds nothing yet: after a DEL,
// for a member a sorted set does not have, for a member a ZREM removed. Each
// case: the setup through a primary, the cluster cut in two ({p1, p2} |
// {p3, other}), one increment acknowledged on each side, then healing: every
// node must read the sum. (Found by the typed simulator specs: INCR after a
// DEL and ZINCRBY on an absent member wrote a plain value, so the two sides'
// writes competed and the older lost.)
import t from 'tap'
import { SimCluster } from './harness.js'
import { canonical, healAll, primariesOf } from './typed.js'

async function bothSides (setup: string[][], a: string[], b: string[], read: string[]): Promise<{ acks: string[], reads: string[] }> {
  const c = await SimCluster.create({ seed: 7, nodes: 4, partitions: 16 })
  try {
    const p = primariesOf(c, a[1])
    const other = c.names.find(n => !p.includes(n)) as string
    for (const s of setup) await c.exec(p[0], ...s)
    await c.run(200)
    c.net.partition([p[0], p[1]], [p[2], other])
    await c.run(1000) // each side has seen the other go down
    const acks = [canonical(await c.exec(p[0], ...a)), canonical(await c.exec(p[2], ...b))]
    await healAll(c)
    const reads: string[] = []
    for (const n of c.names) reads.push(canonical(await c.exec(n, ...read)))
    return { acks, reads }
  } finally {
    await c.stop()
  }
}

const cases: Array<{ name: string, setup: string[][], a: string[], b: string[], read: string[], acks: string[] }> = [
  { name: 'INCR on a fresh key', setup: [], a: ['INCR', 'k'], b: ['INCRBY', 'k', '5'], read: ['GET', 'k'], acks: ['1', '5'] },
  { name: 'INCR after DEL', setup: [['INCRBY', 'k', '100'], ['DEL', 'k']], a: ['INCR', 'k'], b: ['INCRBY', 'k', '5'], read: ['GET', 'k'], acks: ['1', '5'] },
  { name: 'HINCRBY on an absent field', setup: [['HSET', 'h', 'other', 'x']], a: ['HINCRBY', 'h', 'f', '1'], b: ['HINCRBY', 'h', 'f', '5'], read: ['HGET', 'h', 'f'], acks: ['1', '5'] },
  { name: 'ZINCRBY on an absent member', setup: [['ZADD', 'z', '1', 'other']], a: ['ZINCRBY', 'z', '1', 'm'], b: ['ZINCRBY', 'z', '5', 'm'], read: ['ZSCORE', 'z', 'm'], acks: ['1', '5'] },
  { name: 'ZADD INCR on an absent member', setup: [['ZADD', 'z', '1', 'other']], a: ['ZADD', 'z', 'INCR', '1', 'm'], b: ['ZADD', 'z', 'INCR', '5', 'm'], read: ['ZSCORE', 'z', 'm'], acks: ['1', '5'] },
  { name: 'ZINCRBY after ZREM', setup: [['ZADD', 'z', '1', 'other'], ['ZADD', 'z', '100', 'm'], ['ZREM', 'z', 'm']], a: ['ZINCRBY', 'z', '1', 'm'], b: ['ZINCRBY', 'z', '5', 'm'], read: ['ZSCORE', 'z', 'm'], acks: ['1', '5'] }
]

for (const k of cases) {
  t.test(`${k.name}: an increment on each side of a partition, both counted`, async (t) => {
    const { acks, reads } = await bothSides(k.setup, k.a, k.b, k.read)
    t.same(acks, k.acks, 'each side acknowledged its increment (from nothing)')
    t.same(reads, Array(4).fill('6'), 'every node reads the sum after healing')
  })
}
