// The per-command tallies behind /metrics, LATENCY HISTOGRAM and admin top:
// buckets against their definition, quantiles against sorted samples, error
// codes and NOQUORUM replies classified, and every map bounded.
import t from 'tap'
import fc from 'fast-check'
import { BUCKETS, CommandStats, bucketOf, bucketUpperUsec, quantileUsec } from '../../lib/metrics/command-stats.js'
import { noQuorumMessage } from '../../lib/coordinator/quorum.js'

t.test('a latency lands in the first power-of-two bucket at or above it', async (t) => {
  fc.assert(fc.property(fc.double({ min: 0, max: 1e8, noNaN: true }), (usec) => {
    const i = bucketOf(usec)
    if (i === BUCKETS) return usec > bucketUpperUsec(BUCKETS - 1)
    return usec <= bucketUpperUsec(i) && (i === 0 || usec > bucketUpperUsec(i - 1))
  }), { numRuns: 2000 })
  t.same([0, 1, 1.5, 2, 3, 4, 5, 1024, 1025].map(bucketOf), [0, 0, 1, 1, 2, 2, 3, 10, 11])
  t.equal(bucketOf(1e12), BUCKETS, 'anything past the last bound is in the last bucket')
})

t.test('a quantile lies in the bucket holding that rank of the sorted samples', async (t) => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5_000_000 }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (xs, q) => {
    const stats = new CommandStats()
    for (const x of xs) stats.record('get', null, x)
    const est = quantileUsec(stats.commands.get('get')?.buckets ?? [], q)
    const sorted = [...xs].sort((a, b) => a - b)
    const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)]
    const i = bucketOf(exact)
    const lower = i === 0 ? 0 : bucketUpperUsec(i - 1)
    return est >= lower && est <= Math.min(bucketUpperUsec(i), bucketUpperUsec(BUCKETS - 1))
  }), { numRuns: 500 })
  t.ok(Number.isNaN(quantileUsec(new Float64Array(BUCKETS + 1), 0.99)), 'no samples: NaN')
})

t.test('record counts calls, failures and error codes; NOQUORUM by operation and quorum', async (t) => {
  const s = new CommandStats()
  s.record('set', null, 10)
  s.record('set', noQuorumMessage('write', 2, 1, { needed: 0, answered: 1 }), 2000)
  s.record('get', noQuorumMessage('read', 3, 2), 3000)
  s.record('get', noQuorumMessage('read', 3, 0), 3000)
  s.record('incr', 'ERR value is not an integer or out of range', 5)
  s.record('get', 'WRONGTYPE Operation against a key holding the wrong kind of value', 5)
  t.same([...s.commands].map(([n, c]) => [n, c.calls, c.failed, c.usecTotal]), [['set', 2, 1, 2010], ['get', 3, 3, 6005], ['incr', 1, 1, 5]])
  t.same(Object.fromEntries(s.errors), { NOQUORUM: 3, ERR: 1, WRONGTYPE: 1 })
  t.same([...s.noQuorum.values()], [{ op: 'write', needed: 2, count: 1 }, { op: 'read', needed: 3, count: 2 }])
  const total = s.total()
  t.equal(total.calls, 6)
  t.equal(total.buckets.reduce((a, b) => a + b, 0), 6, 'the total histogram holds every call')
  t.equal(s.commands.get('get')?.cumulative(BUCKETS), 3, 'cumulative to the last bucket is every call')
  t.equal(s.commands.get('set')?.cumulative(bucketOf(10)), 1, 'cumulative at a bound counts the calls at or under it')
})

t.test('error codes are bounded: past 64 distinct ones, the rest are OTHER', async (t) => {
  const s = new CommandStats()
  for (let i = 0; i < 100; i++) s.record('x', `CODE${i} message`, 1)
  t.equal(s.errors.size, 65)
  t.equal(s.errors.get('OTHER'), 36)
})
