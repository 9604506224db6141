// A forwarded write whose answer is lost is not run again (-NOQUORUM, one
// version); a forwarded read whose answer is lost is answered here
// (spec/sim/scenarios/forward.ts, the regression a seed sweep found).
import t from 'tap'
import { forward } from './scenarios/forward.js'

t.test('a forwarded write whose answer is lost is not run again: -NOQUORUM, one version', async (t) => {
  t.same((await forward.run(7, { write: 1, read: 0 })).problems, [])
})

t.test('a forwarded read whose answer is lost is answered here', async (t) => {
  t.same((await forward.run(7, { write: 0, read: 1 })).problems, [])
})
