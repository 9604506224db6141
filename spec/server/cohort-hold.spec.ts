// A single node's cohort hold (lib/storage/engine.ts, holdMs; docs/performance.md,
// "Session 12, cohort"), end to end: clients that each wait for their reply
// before the next SET are held into one commit, and a lone client never is.
// Counted in INFO (cohort_holds, cohort_holds_at_bound), never in time.

import t from 'tap'
import type { Redis } from 'ioredis'
import { connectIoredis, infoNumber } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { parseServerArgs } from '../../lib/cli/args.js'

const CLIENTS = 12
const ROUNDS = 30

async function persistence (r: Redis, field: string): Promise<number> {
  return await infoNumber(r, 'persistence', field)
}

t.test('a single node holds the next commit for the clients a commit answered; a lone client is never held', async t => {
  const node = await startServer(['--n', '1', '--r', '1', '--w', '1'], { t })
  const r = await connectIoredis(t, node)
  for (let i = 0; i < 20; i++) await r.set(`lone:${i}`, 'v')
  t.equal(await persistence(r, 'cohort_holds'), 0, 'a lone client\'s commits of one write hold nothing')
  const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => await connectIoredis(t, node)))
  const before = await persistence(r, 'write_batches')
  let notOk = 0
  await Promise.all(clients.map(async (c, k) => {
    for (let i = 0; i < ROUNDS; i++) if (await c.set(`cohort:${k}:${i}`, String(i)) !== 'OK') notOk++
  }))
  t.equal(notOk, 0, 'every SET acknowledged')
  const holds = await persistence(r, 'cohort_holds')
  const batches = await persistence(r, 'write_batches') - before
  t.ok(holds > 0, `${CLIENTS} clients, ${ROUNDS} SETs each: ${holds} holds, ${batches} commits`)
  t.ok(batches < CLIENTS * ROUNDS, 'fewer commits than writes')
  t.equal(await clients[CLIENTS - 1].get(`cohort:${CLIENTS - 1}:${ROUNDS - 1}`), String(ROUNDS - 1))
})

t.test('--commit-hold-ms: 2 ms by default on a single node, 0 with replicas, as given otherwise', async t => {
  const hold = (...args: string[]): number => parseServerArgs(['--port', '0', ...args]).commitHoldMs
  t.same([hold('--n', '1', '--r', '1', '--w', '1'), hold(), hold('--commit-hold-ms', '5'), hold('--n', '1', '--r', '1', '--w', '1', '--commit-hold-ms', '0')], [2, 0, 5, 0])
  t.throws(() => hold('--commit-hold-ms', '101'), /commit-hold-ms/)
})

t.test('--commit-hold-ms 0: a single node holds nothing', async t => {
  const node = await startServer(['--n', '1', '--r', '1', '--w', '1', '--commit-hold-ms', '0'], { t })
  const r = await connectIoredis(t, node)
  const clients = await Promise.all(Array.from({ length: 4 }, async () => await connectIoredis(t, node)))
  await Promise.all(clients.map(async (c, k) => { for (let i = 0; i < 10; i++) await c.set(`off:${k}:${i}`, 'v') }))
  t.equal(await persistence(r, 'cohort_holds'), 0)
})

t.test('a cluster\'s node (N=3) does not hold: its writes are replicas\' too', async t => {
  const node = await startServer(['--n', '3', '--r', '1', '--w', '1'], { t })
  const r = await connectIoredis(t, node)
  const clients = await Promise.all(Array.from({ length: 4 }, async () => await connectIoredis(t, node)))
  await Promise.all(clients.map(async (c, k) => { for (let i = 0; i < 10; i++) await c.set(`n3:${k}:${i}`, 'v') }))
  t.equal(await persistence(r, 'cohort_holds'), 0)
})
