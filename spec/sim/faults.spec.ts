// Dynamo under failure (spec/sim/scenarios/faults.ts) on ten seeds. A failing
// seed is printed; DYNAKV_SEED=<n> replays just that seed, and `npm run sim --
// --seeds 1000` sweeps random ones (sweeping found the double-run of forwarded
// writes, spec/sim/scenarios/forward.ts).
import t from 'tap'
import { faults } from './scenarios/faults.js'

const seeds = process.env.DYNAKV_SEED !== undefined ? [Number(process.env.DYNAKV_SEED)] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

for (const seed of seeds) {
  t.test(`seed ${seed}`, async (t) => {
    const { problems, stats } = await faults.run(seed, faults.defaults)
    t.ok(stats.acks > 50, `enough acknowledged writes to mean something (${stats.acks} acked, ${stats.failed} failed)`)
    t.same(problems, [], `no checker violation (replay with DYNAKV_SEED=${seed} or npm run sim -- --scenario faults --seed ${seed})`)
  })
}
