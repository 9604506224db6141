// `make bench/antientropy`: two replicas (N=2) of 100 000 keys, 100 of which
// only one replica received (its PUT_REPLICAs dropped by the fault hook). Then
// anti-entropy rounds run until both replicas have the same Merkle roots; we
// report the bytes they exchanged against the size of a full copy (target
// ≤ 2 %) and the time to converge (target ≤ 10 s).
import { Redis } from 'ioredis'
import { startDynakv, writeResult, sleep } from './lib.js'

const KEYS = Number(process.env.DYNAKV_BENCH_KEYS ?? 100000)
const DIFFER = Number(process.env.DYNAKV_BENCH_DIFFER ?? 100)

async function info (r: Redis, field: string): Promise<number> {
  const text = await r.info('antientropy')
  return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(text)?.[1] ?? NaN)
}

async function roots (r: Redis): Promise<string> {
  return JSON.stringify(await r.call('DEBUG', 'MERKLE'))
}

async function main (): Promise<void> {
  const common = ['--n', '2', '--r', '1', '--w', '2', '--ae-interval-ms', '0', '--allow-fault-injection', '--log-level', 'warn']
  const a = await startDynakv(['--name', 'a', ...common])
  const aPeer = Number(/--peer-port (\d+)/.exec(a.proc.spawnargs.join(' '))?.[1])
  const b = await startDynakv(['--name', 'b', '--join', `127.0.0.1:${aPeer}`, ...common])
  const ra = new Redis({ port: a.port, protocol: 2 })
  const rb = new Redis({ port: b.port, protocol: 2 })
  try {
    for (let i = 0; i < 100; i++) {
      const status = await ra.call('RING', 'STATUS') as unknown[]
      if (status[status.indexOf('members') + 1] === 2 && status[status.indexOf('converged') + 1] === 'yes') break
      await sleep(100)
    }
    const value = 'x'.repeat(100)
    const t0 = Date.now()
    for (let i = 0; i < KEYS; i += 1000) {
      const p = ra.pipeline()
      for (let j = i; j < Math.min(KEYS, i + 1000); j++) p.set(`key:${j}`, value)
      await p.exec()
    }
    process.stderr.write(`wrote ${KEYS} keys at W=2 in ${Date.now() - t0} ms\n`)
    await ra.call('DEBUG', 'FAULT', 'DROP-PUTS', 'diff:*')
    for (let i = 0; i < DIFFER; i++) await ra.call('PUT', `diff:${i}`, '', value, 'W', 1)
    await ra.call('DEBUG', 'FAULT', 'CLEAR')
    // Both replicas' trees are built from their data before the exchange starts.
    for (let i = 0; i < 200 && ((await roots(ra)).includes('null') || (await roots(rb)).includes('null')); i++) await sleep(100)
    const sample = await Promise.all(Array.from({ length: 100 }, (_, i) => rb.call('DEBUG', 'REPLICA', `key:${i * Math.floor(KEYS / 100)}`) as Promise<unknown[]>))
    const objectBytes = sample.reduce((n: number, r) => n + Number(r[3]), 0) / sample.length
    const fullCopyBytes = Math.round(KEYS * (objectBytes + 'key:00000'.length))
    const before = await Promise.all([ra, rb].flatMap(r => [info(r, 'ae_bytes_sent'), info(r, 'ae_bytes_received')]))
    const started = Date.now()
    let rounds = 0
    while ((await roots(ra)) !== (await roots(rb)) && Date.now() - started < 120_000) {
      await Promise.all([ra.call('DEBUG', 'AE-ROUND'), rb.call('DEBUG', 'AE-ROUND')])
      rounds++
    }
    const convergedMs = Date.now() - started
    const after = await Promise.all([ra, rb].flatMap(r => [info(r, 'ae_bytes_sent'), info(r, 'ae_bytes_received')]))
    // Each byte is counted once by its sender and once by its receiver: halve the sum.
    const exchanged = Math.round((after.reduce((x, y) => x + y, 0) - before.reduce((x, y) => x + y, 0)) / 2)
    const repaired = await Promise.all([info(ra, 'ae_keys_repaired'), info(rb, 'ae_keys_repaired')])
    const present = await Promise.all(Array.from({ length: DIFFER }, (_, i) => rb.call('DEBUG', 'REPLICA', `diff:${i}`)))
    const result = {
      keys: KEYS,
      differing: DIFFER,
      rounds,
      convergedMs,
      bytesExchanged: exchanged,
      fullCopyBytes,
      fraction: Number((exchanged / fullCopyBytes).toFixed(5)),
      keysRepaired: repaired[0] + repaired[1],
      repairedOnB: present.filter(x => x !== null).length
    }
    process.stdout.write(`${KEYS} keys, ${DIFFER} differing: converged in ${convergedMs} ms (${rounds} rounds), ${exchanged} bytes exchanged = ${(result.fraction * 100).toFixed(3)} % of a full copy (${fullCopyBytes} bytes); ${result.repairedOnB}/${DIFFER} repaired on the other replica\n`)
    process.stdout.write(`results: ${writeResult('antientropy', result)}\n`)
  } finally {
    ra.disconnect()
    rb.disconnect()
    await b.stop()
    await a.stop()
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
