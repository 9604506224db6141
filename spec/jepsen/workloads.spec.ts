// The workloads dynakv cannot run yet (counters, sets, hashes, expiry: issues
// 9 and 10), run by the jepsen client processes against
// the reference redis-server: one linearizable node, so every checker must
// find its history valid. The same code drives dynakv in the jepsen runs once
// the commands exist; this keeps the workloads and checkers honest until then.
import t from 'tap'
import { startRedis } from '../resp/redis-server.js'
import type { NodeClient } from '../../jepsen/client.js'
import { finalReads, runClients } from '../../jepsen/driver.js'
import { History } from '../../jepsen/history.js'
import type { CheckContext } from '../../jepsen/checkers/types.js'
import { CounterWorkload } from '../../jepsen/workloads/counter.js'
import { ExpiryWorkload } from '../../jepsen/workloads/expiry.js'
import { HashWorkload } from '../../jepsen/workloads/hash.js'
import { OrSetWorkload } from '../../jepsen/workloads/orset.js'
import type { Workload } from '../../jepsen/workloads/types.js'

const redis = await startRedis()
if (redis === null) {
  t.test('the workloads against redis-server', { skip: 'redis-server is not installed' }, () => {})
} else {
  t.teardown(() => redis.stop())
  const ctx: CheckContext = { hosts: ['redis'], n: 1, r: 1, w: 1, phases: [], convergenceMs: 0, detectMs: 0, expirySkewMs: 20 }
  const cases: Array<[string, () => Workload]> = [
    ['counter', () => new CounterWorkload()],
    ['orset', () => new OrSetWorkload()],
    ['hash', () => new HashWorkload()],
    ['expiry', () => new ExpiryWorkload([50, 600])]
  ]
  for (const [name, make] of cases) {
    t.test(`${name} against redis-server: every checker valid`, async t => {
      const w = make()
      const history = new History(null)
      const clients: NodeClient[] = []
      await runClients({ endpoints: [{ name: 'redis', host: '127.0.0.1', port: redis.port }], workloads: [w], history, running: () => history.now() < 2500, concurrency: 6, rate: 400, opTimeoutMs: 5000, seed: 7, clients })
      for (const c of clients) c.close()
      await finalReads([{ name: 'redis', host: '127.0.0.1', port: redis.port }], [w], history)
      const oks = history.ops.filter(o => o.type === 'ok' && o.process !== 'final').length
      t.ok(oks > 100, `${oks} operations acknowledged`)
      for (const r of w.check(history.ops, ctx)) t.equal(r.valid, true, `${r.checker}: ${r.summary}`)
    })
  }
}
