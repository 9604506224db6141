// Dynamo under failure, with real processes over TCP (issue: failure detection,
// sloppy quorum, hinted handoff, read repair, Merkle anti-entropy).
import t from 'tap'
import { rmSync } from 'node:fs'
import { startCluster, until, type TestCluster } from '../helpers/cluster.js'
import { sleep } from '../helpers/server.js'
import { unreadable } from '../helpers/load.js'

/** Every primary of every partition reports the same Merkle root. */
async function converged (c: TestCluster, names: string[]): Promise<boolean> {
  const roots = new Map<number, Set<string>>()
  for (const n of names) {
    for (const [p, root] of await c.call(n, 'DEBUG', 'MERKLE') as Array<[number, string | null]>) {
      if (root === null) return false
      roots.set(p, (roots.get(p) ?? new Set()).add(root))
    }
  }
  return [...roots.values()].every(s => s.size === 1)
}

/** One anti-entropy round on every node (DEBUG AE-ROUND), then whether replicas agree. */
async function aeRound (c: TestCluster, names: string[]): Promise<boolean> {
  for (const n of names) await c.call(n, 'DEBUG', 'AE-ROUND')
  return await converged(c, names)
}

t.test('kill -9 during a W=2 load: sloppy quorum keeps writes going, hints come home', async (t) => {
  const c = await startCluster({ nodes: 4, t })
  const acked = new Map<string, string>()
  let running = true
  let failed = 0
  /** Keys sent and acknowledged while every live node saw node4 down: their copies for node4 were hints. */
  const whileDown = new Set<string>()
  let down = false
  const writers = ['node1', 'node2', 'node3'].map(async (at, w) => {
    for (let i = 0; running && i < 50_000; i++) {
      try {
        const sentWhileDown = down
        await c.call(at, 'SET', `h${w}-${i}`, `v${i}`)
        acked.set(`h${w}-${i}`, `v${i}`)
        if (sentWhileDown && down) whileDown.add(`h${w}-${i}`)
      } catch { failed++ }
    }
  })
  await sleep(500)
  await c.node('node4').kill9()
  // From when every live node has seen node4 down, coordinators write its copies as hints.
  const seesDown = async (n: string): Promise<boolean> => {
    const status = await c.call(n, 'RING', 'STATUS') as unknown[]
    return (status[status.indexOf('down_peers') + 1] as string[]).includes('node4')
  }
  await until('node4 seen down by every node', async () => (await Promise.all(['node1', 'node2', 'node3'].map(seesDown))).every(x => x))
  down = true
  await sleep(2500)
  const duringOutage = acked.size
  await sleep(1500)
  t.ok(acked.size > duringOutage, 'writes kept succeeding while node4 was down')
  const pending = (await Promise.all(['node1', 'node2', 'node3'].map(n => c.info(n, 'hints_pending')))).reduce((a, b) => a + b, 0)
  t.ok(pending > 0, `fallbacks hold hints for node4 (${pending})`)
  down = false
  await c.node('node4').restart()
  await until('every hint delivered', async () => (await Promise.all(['node1', 'node2', 'node3'].map(n => c.info(n, 'hints_pending')))).every(x => x === 0))
  running = false
  await Promise.all(writers)
  const delivered = (await Promise.all(['node1', 'node2', 'node3'].map(n => c.info(n, 'hints_delivered')))).reduce((a, b) => a + b, 0)
  t.ok(delivered >= pending, `the ${pending} hints held earlier were delivered, with those written since (${delivered})`)
  // Hints came home: node4's own replica holds the value of every key written while it was
  // known down of which it is a primary (anti-entropy repairs those written before it was
  // detected; hints_delivered covers those).
  const owned: string[] = []
  const notHome: string[] = []
  for (const k of whileDown) {
    const owners = await c.call('node1', 'RING', 'OWNERS', k) as string[]
    if (!owners.some(o => o.startsWith('node4 ') && o.includes(' primary '))) continue
    owned.push(k)
    const r = await c.call('node4', 'DEBUG', 'REPLICA', k) as [string, string[]] | null
    if (r === null || JSON.stringify(r[1]) !== JSON.stringify([acked.get(k)])) notHome.push(`${k}: ${JSON.stringify(r?.[1] ?? null)}`)
  }
  t.ok(owned.length > 0, `node4 is a primary of ${owned.length} of the ${whileDown.size} keys written while it was dead`)
  t.same(notHome, [], `node4 holds exactly the acknowledged value of each of those ${owned.length} keys`)
  t.same(await unreadable(c, 'node4', acked), [], `every acknowledged write readable (${acked.size} acked, ${failed} failed)`)
  await until('replicas converge', () => converged(c, ['node1', 'node2', 'node3', 'node4']))
  t.pass('every primary of every partition has the same Merkle root')
})

t.test('a node stopped during writes catches up by read repair and anti-entropy', async (t) => {
  // Anti-entropy runs only when asked (DEBUG AE-ROUND), so that read repair is seen first.
  const c = await startCluster({ nodes: 3, t, args: ['--ae-interval-ms', '0'] })
  await c.node('node3').stop()
  await sleep(900)
  const written = new Map<string, string>()
  for (let i = 0; i < 300; i++) {
    await c.call(i % 2 === 0 ? 'node1' : 'node2', 'SET', `rr${i}`, `v${i}`)
    written.set(`rr${i}`, `v${i}`)
  }
  await c.node('node3').restart()
  await c.converged(3)
  /** Keys of `written` whose value node3's own replica does not hold. */
  const missingOnNode3 = async (): Promise<string[]> => {
    const out: string[] = []
    for (const [k, v] of written) {
      const r = await c.call('node3', 'DEBUG', 'REPLICA', k) as [string, string[]] | null
      if (r === null || !r[1].includes(v)) out.push(k)
    }
    return out
  }
  t.equal((await missingOnNode3()).length, written.size, 'node3 missed every write')
  const repairsBefore = await c.info('node1', 'read_repairs')
  const read = [...written.keys()].slice(0, 20)
  for (const k of read) t.equal(await c.call('node1', 'GET', k), written.get(k))
  // Each read asked all three replicas; node3 answered with nothing and is sent the value, once per key.
  await until('read repair', async () => (await c.info('node1', 'read_repairs')) >= repairsBefore + read.length)
  t.equal(await c.info('node1', 'read_repairs'), repairsBefore + read.length, 'one repair per key read: node3\'s copy')
  // The repaired copy is the version the others hold: same context, values and siblings (actor:counter).
  const differs: string[] = []
  for (const k of read) {
    const [ctx3, values3, siblings3] = await c.call('node3', 'DEBUG', 'REPLICA', k) as [string, string[], string[]]
    const [ctx1, , siblings1] = await c.call('node1', 'DEBUG', 'REPLICA', k) as [string, string[], string[]]
    if (ctx3 !== ctx1 || JSON.stringify(values3) !== JSON.stringify([written.get(k)]) || JSON.stringify(siblings3) !== JSON.stringify(siblings1)) {
      differs.push(`${k}: node3 ${ctx3} ${JSON.stringify(values3)} ${JSON.stringify(siblings3)}, node1 ${ctx1} ${JSON.stringify(siblings1)}`)
    }
  }
  t.same(differs, [], 'node3 now holds, for every key read, the very version node1 holds')
  const stillMissing = await missingOnNode3()
  t.same(stillMissing.filter(k => read.includes(k)), [], 'node3 now holds every key that was read')
  t.equal(stillMissing.length, written.size - read.length, 'and only those: the others wait for anti-entropy')
  const aeBefore = await c.info('node3', 'ae_keys_repaired') + await c.info('node1', 'ae_keys_repaired') + await c.info('node2', 'ae_keys_repaired')
  await until('anti-entropy to converge', () => aeRound(c, ['node1', 'node2', 'node3']))
  t.same(await missingOnNode3(), [], 'node3 holds its own copy of every key written while it was down')
  const aeRepaired = await c.info('node3', 'ae_keys_repaired') + await c.info('node1', 'ae_keys_repaired') + await c.info('node2', 'ae_keys_repaired') - aeBefore
  t.equal(aeRepaired, stillMissing.length, `anti-entropy repaired each of the ${stillMissing.length} keys read repair had not, once`)
  const [ctx3, , sib3] = await c.call('node3', 'DEBUG', 'REPLICA', stillMissing[0]) as [string, string[], string[]]
  const [ctx1, , sib1] = await c.call('node1', 'DEBUG', 'REPLICA', stillMissing[0]) as [string, string[], string[]]
  t.same([ctx3, sib3], [ctx1, sib1], `${stillMissing[0]}, repaired by anti-entropy, is the version node1 holds`)
})

t.test('a replica whose disk was wiped comes back with a new epoch and loses nothing (kv679)', async (t) => {
  // No failure detection needed here: FAST's 500 ms request timeout failed a PUT with NOQUORUM under load ~15.
  const c = await startCluster({ nodes: 3, t, args: ['--request-timeout-ms', '2000', '--down-after-ms', '3000'] })
  const acked = new Map<string, string>()
  const contexts = new Map<string, string>()
  for (let i = 0; i < 100; i++) {
    contexts.set(`kv${i}`, await c.call('node3', 'PUT', `kv${i}`, '', `first${i}`) as string)
    acked.set(`kv${i}`, `first${i}`)
  }
  const epochBefore = (await c.call('node3', 'INFO', 'dynakv') as string).match(/^epoch:(\S+)/m)?.[1]
  const node3 = c.node('node3')
  await node3.stop()
  rmSync(node3.dir, { recursive: true, force: true })
  const back = await node3.restart(['--join', `127.0.0.1:${c.node('node1').peerPort}`])
  c.nodes[c.nodes.indexOf(node3)] = back
  await c.converged(3)
  const epochAfter = (await c.call('node3', 'INFO', 'dynakv') as string).match(/^epoch:(\S+)/m)?.[1]
  t.not(epochAfter, epochBefore, 'a wiped directory means a new epoch')
  // The wiped node coordinates new writes with the contexts issued by its previous incarnation.
  for (let i = 0; i < 100; i += 2) {
    await c.call('node3', 'PUT', `kv${i}`, contexts.get(`kv${i}`) as string, `second${i}`)
    acked.set(`kv${i}`, `second${i}`)
  }
  await until('anti-entropy to converge', () => converged(c, ['node1', 'node2', 'node3']))
  for (const n of ['node1', 'node2', 'node3']) t.same(await unreadable(c, n, acked), [], `every acknowledged write readable via ${n}`)
  for (let i = 1; i < 100; i += 2) {
    const [, values] = await c.call('node1', 'GETCTX', `kv${i}`) as [string, string[]]
    if (values.length !== 1 || values[0] !== `first${i}`) t.fail(`kv${i}: ${JSON.stringify(values)}`)
  }
})

t.test('anti-entropy alone repairs writes a replica never received', async (t) => {
  // Rounds run only when asked, so the check that node2 missed the writes is not a race.
  const c = await startCluster({ nodes: 3, t, args: ['--ae-interval-ms', '0'] })
  t.equal(await c.call('node1', 'DEBUG', 'FAULT', 'DROP-PUTS', 'lost:*'), 'OK')
  for (let i = 0; i < 100; i++) await c.call('node1', 'PUT', `lost:${i}`, '', `v${i}`, 'W', 1)
  t.equal(await c.call('node1', 'DEBUG', 'FAULT', 'CLEAR'), 'OK')
  t.equal(await c.call('node2', 'DEBUG', 'REPLICA', 'lost:0'), null, 'node2 never got the write')
  const before = await c.info('node2', 'ae_keys_repaired') + await c.info('node1', 'ae_keys_repaired') + await c.info('node3', 'ae_keys_repaired')
  await until('anti-entropy to converge', () => aeRound(c, ['node1', 'node2', 'node3']))
  for (const n of ['node2', 'node3']) {
    const wrong: string[] = []
    for (let i = 0; i < 100; i++) {
      const r = await c.call(n, 'DEBUG', 'REPLICA', `lost:${i}`) as [string, string[]] | null
      if (r === null || JSON.stringify(r[1]) !== JSON.stringify([`v${i}`])) wrong.push(`lost:${i}: ${JSON.stringify(r?.[1] ?? null)}`)
    }
    t.same(wrong, [], `${n} got every dropped write, with its value, from anti-entropy`)
  }
  const after = await c.info('node2', 'ae_keys_repaired') + await c.info('node1', 'ae_keys_repaired') + await c.info('node3', 'ae_keys_repaired')
  t.equal(after - before, 200, 'anti-entropy repaired each of the 200 missing copies (100 keys on node2 and node3) once')
})

t.test('a partitioned node keeps taking writes; after healing, concurrent writes are siblings', async (t) => {
  const c = await startCluster({ nodes: 3, t })
  const ctx = await c.call('node1', 'PUT', 'split', '', 'before') as string
  await sleep(200)
  await c.call('node1', 'DEBUG', 'FAULT', 'PARTITION', 'node2', 'node3')
  await c.call('node2', 'DEBUG', 'FAULT', 'PARTITION', 'node1')
  await c.call('node3', 'DEBUG', 'FAULT', 'PARTITION', 'node1')
  await sleep(900)
  t.match(await c.call('node1', 'PUT', 'split', ctx, 'left', 'W', 1), /^[A-Za-z0-9_-]+$/, 'the minority side takes a W=1 write')
  t.match(await c.call('node2', 'PUT', 'split', ctx, 'right'), /^[A-Za-z0-9_-]+$/, 'the majority side takes a W=2 write')
  await c.call('node1', 'SET', 'only-left', 'L', ).catch(() => {})
  await c.call('node2', 'SET', 'only-right', 'R')
  for (const n of ['node1', 'node2', 'node3']) await c.call(n, 'DEBUG', 'FAULT', 'HEAL')
  await until('anti-entropy to converge', () => converged(c, ['node1', 'node2', 'node3']))
  for (const n of ['node1', 'node2', 'node3']) {
    const [, values] = await c.call(n, 'GETCTX', 'split') as [string, string[]]
    t.same([...values].sort(), ['left', 'right'], `both concurrent writes are siblings at ${n}`)
    t.equal(await c.call(n, 'GET', 'only-right'), 'R')
  }
})
