// `make bench/handoff`: 4 nodes (N=3 W=2); one is stopped and a write load goes
// on until the others hold 10 000 hints for it; then it restarts and we time
// how long until every hint is delivered, with the write load continuing
// (target ≤ 5 s).
import { Redis } from 'ioredis'
import { MAIN, freePort, startDynakv, startProcess, tempDir, writeResult, sleep, type Proc } from './lib.js'

const HINTS = Number(process.env.DYNAKV_BENCH_HINTS ?? 10000)

async function hintsPending (clients: Redis[]): Promise<number> {
  let n = 0
  for (const c of clients) n += Number(/^hints_pending:(\d+)/m.exec(await c.info('handoff'))?.[1] ?? 0)
  return n
}

async function main (): Promise<void> {
  const fast = ['--gossip-interval-ms', '200', '--probe-interval-ms', '200', '--down-after-ms', '1000', '--request-timeout-ms', '500', '--handoff-interval-ms', '250', '--log-level', 'warn']
  const first = await startDynakv(['--name', 'n1', ...fast])
  const seed = Number(/--peer-port (\d+)/.exec(first.proc.spawnargs.join(' '))?.[1])
  const others = await Promise.all(['n2', 'n3'].map(n => startDynakv(['--name', n, '--join', `127.0.0.1:${seed}`, ...fast])))
  const victimPort = await freePort()
  const victimPeer = await freePort()
  const victimDir = tempDir('dynakv-bench-handoff-')
  const victimArgs = [MAIN, 'server', '--name', 'n4', '--port', String(victimPort), '--peer-port', String(victimPeer), '--dir', victimDir, '--join', `127.0.0.1:${seed}`, ...fast]
  let victim: Proc = await startProcess(process.execPath, victimArgs, /ready: RESP/, victimPort)
  const live = [first, ...others]
  const clients = live.map(p => new Redis({ port: p.port, protocol: 2 }))
  try {
    for (let i = 0; i < 200; i++) {
      const s = await clients[0].call('RING', 'STATUS') as unknown[]
      if (s[s.indexOf('members') + 1] === 4 && s[s.indexOf('converged') + 1] === 'yes') break
      await sleep(100)
    }
    await victim.stop()
    await sleep(1500) // past --down-after-ms: the others see n4 down
    const value = 'x'.repeat(100)
    let written = 0
    while (await hintsPending(clients) < HINTS && written < 100 * HINTS) {
      const p = clients[written % 3].pipeline()
      for (let j = 0; j < 500; j++) p.set(`h:${written++}`, value)
      await p.exec()
    }
    const queued = await hintsPending(clients)
    process.stderr.write(`${queued} hints queued for n4 after ${written} writes\n`)
    // Restart n4; the load goes on while the hints drain.
    let loading = true
    const load = (async () => {
      for (let i = 0; loading && i < 1_000_000; i++) await clients[i % 3].set(`during:${i}`, value)
    })()
    const started = Date.now()
    victim = await startProcess(process.execPath, victimArgs, /ready: RESP/, victimPort)
    let pending = queued
    while (pending > 0 && Date.now() - started < 120_000) {
      await sleep(50)
      pending = await hintsPending(clients)
    }
    const deliveredMs = Date.now() - started
    loading = false
    await load
    const result = { hintsQueued: queued, writesToQueue: written, deliveredMs, pendingAtEnd: pending }
    process.stdout.write(`${queued} hints queued for a stopped node; all delivered ${deliveredMs} ms after its restart (under a continuing write load)\n`)
    process.stdout.write(`results: ${writeResult('handoff', result)}\n`)
  } finally {
    for (const c of clients) c.disconnect()
    await victim.stop()
    for (const p of live) await p.stop()
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
