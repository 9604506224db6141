// Membership changes under load (spec/sim/scenarios/membership.ts): a 4th node
// joins a 3-node cluster while clients write, then another node leaves; no
// acknowledged write is lost, every key reads the same everywhere and lives on
// exactly its primaries, every member owns its share.
import t from 'tap'
import { membership } from './scenarios/membership.js'

const seeds = process.env.DYNAKV_SEED !== undefined ? [Number(process.env.DYNAKV_SEED)] : [11, 12, 13]

for (const seed of seeds) {
  t.test(`seed ${seed}`, async (t) => {
    const { problems, stats } = await membership.run(seed, membership.defaults)
    t.ok(stats.acks > 100, `a real load ran (${stats.acks} acknowledged writes, ${stats.failed} failed)`)
    t.same(problems, [], `no problem (DYNAKV_SEED=${seed})`)
  })
}
