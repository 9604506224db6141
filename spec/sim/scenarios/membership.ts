// Membership changes under load, in the simulator: a 4th node joins a 3-node
// cluster while clients write, then another node leaves. Afterwards every
// acknowledged write is readable through any node, each key lives on exactly
// its N primaries, and every member owns its share of the partitions.
//
// Knobs: keys (the writer's key space), leave (1: node2 leaves after the join; 0: it stays).
import { SimCluster } from '../harness.js'
import { History, divergentPartitions, finalObject, lostWrites, quiesce, replyText } from '../checkers.js'
import { covers, liveValues, sameVersions, type VObject } from '../../../lib/versioning/index.js'
import { shrinkKnobs, type Outcome, type Params, type Scenario } from './scenario.js'

async function run (seed: number, params: Params): Promise<Outcome> {
  const c = await SimCluster.create({ seed, nodes: 3, partitions: 16 })
  try {
    const rnd = c.net.forkRandom()
    const h = new History()
    const problems: string[] = []
    const contexts = new Map<string, string>()
    let load = true
    const keys = Array.from({ length: params.keys }, (_, i) => `key${i}`)
    const writer = (async () => {
      for (let i = 0; load && i < 100_000; i++) {
        const key = keys[rnd.int(keys.length)]
        const at = c.running()[rnd.int(c.running().length)]
        const next = await h.put(c, at, key, contexts.get(key) ?? '', `${key}-${i}`)
        if (next !== null) contexts.set(key, next)
        else contexts.delete(key)
      }
    })()
    const drive = async (until: () => boolean, maxMs: number, what: string): Promise<void> => {
      for (let ms = 0; ms < maxMs; ms += 100) {
        if (until()) return
        await c.run(100)
      }
      throw new Error(`${what} did not happen within ${maxMs} ms (seed ${seed})`)
    }
    const settled = (): boolean => c.running().every(n => c.node(n).handoff.stats.transfersPending === 0 && c.node(n).local.hintsPendingTotal() === 0)

    await c.run(500)
    await c.add('node4')
    await c.converge()
    await c.run(500)
    await drive(settled, 30_000, 'the join transfers')
    const joined = c.node('node4').currentRing().partitionsOf('node4').length
    if (joined < 3) problems.push(`node4 owns ${joined} partitions after joining`)

    const members = params.leave === 1 ? ['node1', 'node3', 'node4'] : ['node1', 'node2', 'node3', 'node4']
    if (params.leave === 1) {
      const left = await c.exec('node2', 'RING', 'LEAVE')
      if (left.type !== 'simple' || left.value !== 'OK') problems.push(`RING LEAVE at node2: ${replyText(left)}`)
      await drive(() => c.node('node1').membership.get('node2')?.status === 'removed', 30_000, 'node2 leaving')
    } else {
      await c.run(2000)
    }
    load = false
    await c.settle(writer)
    await c.converge()
    await quiesce(c)

    problems.push(...await lostWrites(c, h), ...divergentPartitions(c))

    // Every key reads the same through every node: the live values of the replicas'
    // merged copies, which hold its last acknowledged value unless a later write
    // superseded it (one that failed for its client but was stored: docs/design.md#errors).
    for (const key of keys) {
      const last = [...h.acks].reverse().find(a => a.key === key)
      if (last === undefined) continue
      const final = await finalObject(c, key)
      const expected = final === undefined ? [] : liveValues(final).map(v => v.toString()).sort()
      const superseded = final?.siblings.some(s => covers(s.ctx, last.actor, last.counter)) ?? false
      if (!expected.includes(last.value as string) && !superseded) problems.push(`${key}: last acknowledged value '${String(last.value)}' neither present nor knowingly superseded`)
      for (const n of members) {
        const r = await c.exec(n, 'GETCTX', key)
        const values = r.type === 'array' && r.value[1].type === 'array' ? r.value[1].value.map(replyText).sort() : null
        if (JSON.stringify(values) !== JSON.stringify(expected)) problems.push(`${key} via ${n}: ${JSON.stringify(values)}, the replicas hold ${JSON.stringify(expected)}`)
      }
    }

    // Placement: data only on primaries; partition counts within one of Q / k.
    const ring = c.node('node1').currentRing()
    if ([...ring.nodes].sort().join() !== members.join()) problems.push(`the ring is ${ring.nodes.join()}, the members ${members.join()}`)
    for (const n of ring.nodes) {
      const count = ring.partitionsOf(n).length
      if (Math.abs(count - 16 / members.length) >= 1) problems.push(`${n} owns ${count} partitions of 16 among ${members.length}`)
    }
    // Every key written with an acknowledgement: on exactly its primaries, each holding the
    // very siblings (versions and values) the replicas hold between them.
    // (Keys the writer happened to pick with every write failing may be stored nowhere.)
    const siblingsOf = (o: VObject): string => JSON.stringify(o.siblings.map(x => [x.actor, x.counter, x.value?.toString() ?? null]))
    for (const key of keys.filter(k => h.acks.some(a => a.key === k))) {
      const ref = c.node('node1').ref(Buffer.from(key))
      const primaries = ring.preferenceList(ref.partition).primaries
      const final = await finalObject(c, key)
      if (final === undefined) problems.push(`${key} is on no replica`)
      for (const n of c.running()) {
        const held = await c.settle(Promise.resolve(c.node(n).local.read(ref)))
        if ((held !== undefined) !== primaries.includes(n)) problems.push(`${key} ${held !== undefined ? 'is' : 'is not'} on ${n}, a ${primaries.includes(n) ? 'primary' : 'non-primary'}`)
        // Each primary holds the whole of it: every version the replicas hold between them, no fewer.
        if (held !== undefined && final !== undefined && !sameVersions(held, final)) problems.push(`${key} on ${n} lacks versions the merged replicas hold`)
        if (held !== undefined && final !== undefined && siblingsOf(held) !== siblingsOf(final)) problems.push(`${key} on ${n}: siblings ${siblingsOf(held)}, the replicas hold ${siblingsOf(final)}`)
        // A sibling that carries an acknowledged write's dot holds that write's value.
        for (const a of h.acks) {
          if (a.key !== key || held === undefined) continue
          const s = held.siblings.find(x => x.actor === a.actor && x.counter === a.counter)
          if (s !== undefined && (s.value?.toString() ?? null) !== a.value) problems.push(`${key} on ${n}: the sibling of write ${a.actor}:${a.counter} holds ${JSON.stringify(s.value?.toString() ?? null)}, the write was ${JSON.stringify(a.value)}`)
        }
      }
    }
    return { problems, stats: { acks: h.acks.length, failed: h.failedWrites } }
  } finally {
    await c.stop()
  }
}

export const membership: Scenario = {
  name: 'membership',
  about: 'keys: the writer\'s key space; leave: 1 if node2 leaves after node4 joins',
  defaults: { keys: 40, leave: 1 },
  run,
  smaller: (p) => shrinkKnobs(p, { keys: 1, leave: 0 })
}
