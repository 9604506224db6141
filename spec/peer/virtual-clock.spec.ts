import t from 'tap'
import fc from 'fast-check'
import { deepStrictEqual } from 'node:assert'
import { VirtualClock } from '../../lib/peer/index.js'

t.test('timers run in due order, ties in scheduling order, cancelled ones never', async t => {
  fc.assert(fc.property(
    fc.array(fc.record({ delay: fc.nat(50), cancel: fc.boolean(), nested: fc.option(fc.nat(20), { nil: null }) }), { maxLength: 60 }),
    specs => {
      const clock = new VirtualClock()
      const ran: Array<[number, number]> = []
      const expected: Array<{ at: number, seq: number, id: number }> = []
      let seq = 0
      specs.forEach((spec, id) => {
        const mySeq = seq++
        const timer = clock.after(spec.delay, () => {
          ran.push([clock.now(), id])
          // a timer scheduled from a timer: due relative to the time it runs
          if (spec.nested !== null) clock.after(spec.nested, () => ran.push([clock.now(), 1000 + id]))
        })
        if (spec.cancel) timer.cancel()
        else expected.push({ at: spec.delay, seq: mySeq, id })
      })
      while (clock.step()) { /* run every timer */ }
      // the model: sort by (due, scheduling order); nested timers checked by their own due time
      const top = ran.filter(([, id]) => id < 1000)
      deepStrictEqual(top, expected.sort((x, y) => x.at - y.at || x.seq - y.seq).map(e => [e.at, e.id]))
      for (let i = 1; i < ran.length; i++) if (ran[i][0] < ran[i - 1][0]) throw new Error('time went backwards')
      for (const [at, id] of ran.filter(([, id]) => id >= 1000)) {
        const parent = specs[id - 1000]
        deepStrictEqual(at, parent.delay + (parent.nested as number))
      }
      deepStrictEqual(clock.pending, 0)
    }
  ), { numRuns: 300 })
  t.pass()
})

t.test('advance() runs what is due and sets the time; defer() runs at the current time', async t => {
  const clock = new VirtualClock({ startMs: 1000 })
  const log: string[] = []
  clock.after(10, () => log.push(`a@${clock.now()}`))
  clock.after(30, () => log.push(`b@${clock.now()}`))
  clock.defer(() => log.push(`d@${clock.now()}`))
  await clock.advance(20)
  t.same(log, ['d@1000', 'a@1010'])
  t.equal(clock.now(), 1020)
  t.equal(clock.pending, 1)
  t.equal(clock.nextAtMs(), 1030)
  await clock.advance(100)
  t.same(log, ['d@1000', 'a@1010', 'b@1030'])
  t.equal(clock.now(), 1120)
  t.equal(clock.nextAtMs(), null)
  t.equal(clock.step(), false)
  const c = clock.after(-5, () => log.push('negative delay runs now'))
  c.cancel()
  c.cancel()
  t.equal(clock.pending, 0, 'cancel twice counts once')
})

t.test('promise continuations run between timers, before time moves on', async t => {
  const clock = new VirtualClock()
  const log: string[] = []
  const sleep = async (ms: number): Promise<void> => await new Promise(resolve => clock.after(ms, resolve))
  const task = async (name: string, ms: number): Promise<string> => {
    await sleep(ms)
    log.push(`${name} woke at ${clock.now()}`)
    await sleep(ms)
    log.push(`${name} done at ${clock.now()}`)
    return name
  }
  const p = Promise.all([task('x', 10), task('y', 15)])
  t.same(await clock.runUntilSettled(p), ['x', 'y'])
  t.same(log, ['x woke at 10', 'y woke at 15', 'x done at 20', 'y done at 30'])
  await t.rejects(clock.runUntilSettled(new Promise(() => {})), /never settled/)
  await t.rejects(clock.runUntilSettled(Promise.reject(new Error('boom'))), /boom/)
  // a periodic timer never goes idle: the step bound ends it
  const tick = (): void => { clock.after(1, tick) }
  tick()
  await t.rejects(clock.runUntilIdle(100), /not idle after 100 steps/)
})

t.test('the timer queue is bounded', async t => {
  const clock = new VirtualClock({ timersMax: 10 })
  const timers = Array.from({ length: 10 }, () => clock.after(5, () => {}))
  t.throws(() => clock.after(1, () => {}), RangeError)
  for (const timer of timers.slice(0, 5)) timer.cancel()
  t.doesNotThrow(() => clock.after(1, () => {}), 'cancelled timers are compacted away')
})
