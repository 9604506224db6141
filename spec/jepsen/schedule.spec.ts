// The nemesis schedule and partition shapes: pure, seeded, replayable.
import t from 'tap'
import { seededRandom } from '../../lib/runtime/random.js'
import { TOPOLOGIES, grudge, reach } from '../../jepsen/partitions.js'
import { FAULT_KINDS, describeGrudge, describePhase, schedule, type ScheduleOptions } from '../../jepsen/schedule.js'

const HOSTS = ['n1', 'n2', 'n3', 'n4', 'n5']
const options = (over: Partial<ScheduleOptions> = {}): ScheduleOptions => ({
  hosts: HOSTS, seed: 1, timeMs: 120_000, kinds: ['partition', 'kill', 'pause', 'wipe', 'clock', 'slow'], combine: true,
  warmupMs: 3000, phaseMs: [8000, 14_000], gapMs: [4000, 7000], clockOffsetMsMax: 2000, ...over
})

t.test('partition shapes', async t => {
  for (let seed = 0; seed < 50; seed++) {
    const rng = seededRandom(seed)
    const sides = (topology: typeof TOPOLOGIES[number]): number[] => {
      const g = grudge(topology, HOSTS, rng)
      return HOSTS.map(h => reach(g, HOSTS, h).length).sort()
    }
    t.same(sides('halves'), [2, 2, 3, 3, 3])
    t.same(sides('isolate'), [1, 4, 4, 4, 4])
    t.same(sides('bridge'), [3, 3, 3, 3, 5], 'the bridge host sees all, each half sees itself and the bridge')
    t.same(sides('ring'), [3, 3, 3, 3, 3], 'every host sees a majority')
    const oneWay = grudge('one-way', HOSTS, rng)
    const deaf = HOSTS.filter(h => oneWay[h].length === 0)
    t.equal(deaf.length, 2, 'the minority drops nothing: it still hears the rest')
    for (const h of HOSTS.filter(x => !deaf.includes(x))) t.same([...oneWay[h]].sort(), [...deaf].sort())
  }
  t.equal(describeGrudge(grudge('isolate', HOSTS, seededRandom(3))).split(' | ').length, 2)
  t.match(describeGrudge(grudge('one-way', HOSTS, seededRandom(3))), /drops/)
})

t.test('the same seed gives the same schedule; another seed another', async t => {
  t.same(schedule(options()), schedule(options()))
  t.notSame(schedule(options()).map(describePhase), schedule(options({ seed: 2 })).map(describePhase))
})

t.test('phases stay within the run, apart, and never take more than two hosts down', async t => {
  for (let seed = 0; seed < 200; seed++) {
    const phases = schedule(options({ seed, kinds: [...FAULT_KINDS] }))
    t.ok(phases.length > 0)
    let last = 0
    for (const p of phases) {
      if (p.startMs < last || p.endMs <= p.startMs || p.endMs > 120_000) t.fail(`seed ${seed}: ${describePhase(p)}`)
      last = p.endMs
      const down = p.faults.flatMap(f => f.kind === 'kill' || f.kind === 'pause' ? f.hosts : f.kind === 'wipe' ? [f.host] : [])
      if (down.length > 2 || new Set(down).size !== down.length) t.fail(`seed ${seed}: ${describePhase(p)}`)
      if (p.faults.filter(f => f.kind === 'wipe').length > 1) t.fail(`seed ${seed}: two wipes in one phase`)
    }
    const final = phases[phases.length - 1]
    t.equal(final.faults[0].kind, 'partition-wipe', 'partition-wipe is the last phase')
    t.equal(final.endMs, 120_000, 'and ends with the workload')
    if (phases.slice(0, -1).some(p => p.faults.some(f => f.kind === 'partition-wipe'))) t.fail('only once')
  }
})

t.test('every kind runs once before any runs twice', async t => {
  const kinds = ['partition', 'kill', 'pause', 'wipe'] as const
  for (let seed = 0; seed < 100; seed++) {
    const firsts = schedule(options({ seed, kinds: [...kinds], timeMs: 300_000 })).map(p => p.faults[0].kind)
    t.ok(firsts.length >= 8)
    t.same([...firsts.slice(0, 4)].sort(), [...kinds].sort(), `seed ${seed}: ${firsts.join(',')}`)
  }
})

t.test('no kinds, no phases', async t => {
  t.same(schedule(options({ kinds: [] })), [])
})
