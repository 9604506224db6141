// A connection's read window (lib/resp/connection.ts MAX_PENDING): reading
// pauses once 1 024 requests are unanswered and resumes once no more than
// half of them are (docs/performance.md, "Session 11, bulk11", measured
// resuming earlier; "Session 11, lead: the read window"). Over a fake socket
// that counts pause() and resume(), and a host whose commands are answered by
// promises the test settles, 256 commands a promise (a group commit).
import t from 'tap'
import { OK, type Reply } from '../../lib/resp/reply.js'
import { connections, host, type FakeSocket } from './fake-connection.js'

const WINDOW = 1024
const GROUP = 256

function deferred (): { promise: Promise<Reply>, resolve: (r: Reply) => void } {
  let resolve!: (r: Reply) => void
  const promise = new Promise<Reply>((res) => { resolve = res })
  return { promise, resolve }
}

/** A connection whose commands get one promise per GROUP of them, in order: the socket and the promises handed out. */
function connection (): [FakeSocket, Array<ReturnType<typeof deferred>>] {
  const groups: Array<ReturnType<typeof deferred>> = []
  let n = 0
  const h = host(() => {
    if (n++ % GROUP === 0) groups.push(deferred())
    return groups[groups.length - 1].promise
  })
  return [connections(h, 1, false)[0], groups]
}

const sets = (from: number, count: number): Buffer => {
  const parts: Buffer[] = []
  for (let i = from; i < from + count; i++) {
    const k = `k${i}`
    parts.push(Buffer.from(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$1\r\nv\r\n`))
  }
  return Buffer.concat(parts)
}
const settle = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

t.test('reading pauses at the window and resumes once half of it is answered', async t => {
  const [s, groups] = connection()
  s.resumes = 0 // the constructor's own resume of a stream socket
  s.emit('data', sets(0, WINDOW - 1))
  t.equal(s.paused, false, 'one request under the window: still reading')
  s.emit('data', sets(WINDOW - 1, 1))
  t.equal(s.paused, true, 'the window full: reading paused')
  t.equal(groups.length, WINDOW / GROUP)
  groups[0].resolve(OK)
  await settle()
  t.equal(s.written, GROUP * 5, 'the oldest group answered')
  t.equal(s.paused, true, `${WINDOW - GROUP} unanswered: still paused`)
  groups[1].resolve(OK)
  await settle()
  t.equal(s.paused, false, `${WINDOW / 2} unanswered: reading resumed, with the later commits still in flight`)
  t.equal(s.resumes, 1)
  // Reading fills the window again: paused again, and resumed once half is answered again.
  s.emit('data', sets(WINDOW, WINDOW / 2))
  t.equal(s.paused, true, 'the window full again: paused')
  groups[2].resolve(OK)
  await settle()
  t.equal(s.paused, true, 'still paused')
  groups[3].resolve(OK)
  await settle()
  t.equal(s.paused, false, 'resumed')
  t.equal(s.pauses, 2)
  for (const g of groups) g.resolve(OK)
  await settle()
  t.equal(s.written, (WINDOW + WINDOW / 2) * 5, 'every request answered')
  t.equal(s.paused, false)
})

t.test('a read event past the window is parsed to its end; reading resumes once half the window is unanswered', async t => {
  const [s, groups] = connection()
  s.emit('data', sets(0, WINDOW + GROUP))
  t.equal(s.paused, true, 'paused')
  t.equal(groups.length, WINDOW / GROUP + 1, 'every request of the read event ran')
  groups[0].resolve(OK)
  groups[1].resolve(OK)
  await settle()
  t.equal(s.paused, true, `${WINDOW + GROUP - 2 * GROUP} still unanswered: still paused`)
  groups[2].resolve(OK)
  await settle()
  t.equal(s.paused, false, `${WINDOW / 2} unanswered: resumed`)
  for (const g of groups) g.resolve(OK)
  await settle()
  t.equal(s.written, (WINDOW + GROUP) * 5, 'every request answered')
})
