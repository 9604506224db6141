// lib/runtime/trace.ts: spans reach a subscriber of the task channel once the
// traced work settles, and nothing is published without one.
import t from 'tap'
import { channel } from 'node:diagnostics_channel'
import { TASK_CHANNEL, traced, type TaskSpan } from '../../lib/runtime/trace.js'

t.test('traced publishes a span per call when someone listens, after its promise settles', async t => {
  const spans: TaskSpan[] = []
  const listener = (m: unknown): void => { spans.push(m as TaskSpan) }
  t.equal(traced('unheard', () => 7), 7, 'without a subscriber the result is passed through')
  channel(TASK_CHANNEL).subscribe(listener)
  try {
    let release = (): void => {}
    const work = traced('task.async', async () => { await new Promise<void>(resolve => { release = resolve }); return 'done' })
    t.equal(traced('task.sync', () => 3), 3)
    t.same(spans.map(s => s.name), ['task.sync'], 'a pending promise has no span yet')
    release()
    t.equal(await work, 'done')
    await new Promise(resolve => setImmediate(resolve))
    t.same(spans.map(s => s.name), ['task.sync', 'task.async'])
    await traced('task.failing', async () => { throw new Error('x') }).catch(() => {})
    await new Promise(resolve => setImmediate(resolve))
    t.equal(spans[2]?.name, 'task.failing', 'a rejected promise ends its span too')
    for (const s of spans) t.ok(s.endMs >= s.startMs, `${s.name}: end after start`)
  } finally {
    channel(TASK_CHANNEL).unsubscribe(listener)
  }
  t.equal(spans.some(s => s.name === 'unheard'), false, 'nothing was published without a subscriber')
})
