import t from 'tap'
import {
  PeerRemoteError,
  SIM_PORT,
  SimNetwork,
  type RequestHandler,
  type Response,
  type SimNetworkOptions
} from '../../lib/peer/index.js'

const NAMES = ['n1', 'n2', 'n3', 'n4']

/** Every endpoint answers PING with `<name>:<digest>` and records what it handled. */
async function cluster (opts: SimNetworkOptions): Promise<{ net: SimNetwork, handled: string[] }> {
  const net = new SimNetwork(opts)
  const handled: string[] = []
  for (const name of NAMES) await net.endpoint(name).start(pong(net, name, handled))
  return { net, handled }
}

function pong (net: SimNetwork, name: string, handled: string[]): RequestHandler {
  return async (from, req): Promise<Response> => {
    handled.push(`${net.clock.now()} ${name}<${from} ${req.type}${req.type === 'PING' ? ` ${req.digest}` : ''}`)
    if (req.type === 'FLUSH') throw Object.assign(new Error('no'), { code: 'DYNAKV_TEST_NO' })
    return req.type === 'PING' ? { type: 'PONG', digest: `${name}:${req.digest}` } : { type: 'OK' }
  }
}

/** A random workload under the network's seed: requests at random times, a partition for a while, a crash and a restart. */
async function workload (seed: number): Promise<{ trace: string[], outcomes: string[], handled: string[] }> {
  const { net, handled } = await cluster({ seed, dropProbability: 0.15, duplicateProbability: 0.15, delayMsMin: 1, delayMsMax: 40 })
  const choose = net.forkRandom()
  const outcomes: string[] = []
  for (let i = 0; i < 300; i++) {
    const from = NAMES[choose.int(NAMES.length)]
    const to = NAMES[choose.int(NAMES.length)]
    net.clock.after(choose.int(600), () => {
      net.endpoint(from).request(net.address(to), { type: 'PING', digest: `${i}` }, 120).then(
        res => outcomes.push(`${net.clock.now()} #${i} ${res.from} ${res.digest}`),
        err => outcomes.push(`${net.clock.now()} #${i} ${String(err.code)}`)
      )
    })
  }
  net.clock.after(150, () => net.partition(['n1'], ['n2', 'n3']))
  net.clock.after(300, () => net.heal())
  net.clock.after(320, () => net.crash('n4'))
  net.clock.after(420, () => { void net.restart('n4', pong(net, 'n4', handled)) })
  await net.clock.runUntilIdle()
  return { trace: net.trace, outcomes, handled }
}

t.test('determinism: one seed gives the same deliveries and outcomes; another seed differs', async t => {
  const first = await workload(7)
  const again = await workload(7)
  t.equal(first.outcomes.length, 300, 'every request settled')
  t.ok(first.outcomes.some(o => / n\d n\d:\d+$/.test(o)), 'some answered')
  t.ok(first.outcomes.some(o => o.endsWith('DYNAKV_PEER_TIMEOUT')), 'some timed out')
  t.ok(first.outcomes.some(o => o.endsWith('DYNAKV_PEER_STOPPED')), 'the crash failed some')
  t.ok(first.trace.some(l => / dup /.test(l)) && first.trace.some(l => / lost /.test(l)) && first.trace.some(l => / cut /.test(l)))
  t.same(again.trace, first.trace, 'the same trace')
  t.same(again.outcomes, first.outcomes, 'the same outcomes')
  t.same(again.handled, first.handled, 'the same handler calls')
  const other = await workload(8)
  t.notSame(other.trace, first.trace, 'another seed, another trace')
  t.notSame(other.outcomes, first.outcomes)
})

t.test('messages cross the network through the real codec', async t => {
  const { net } = await cluster({ seed: 1, maxFrameBytes: 256 })
  const a = net.endpoint('n1')
  const res = await net.clock.runUntilSettled(a.request(net.address('n2'), { type: 'PING', digest: 'x' }, 100))
  t.same(res, { type: 'PONG', digest: 'n2:x', from: 'n2' })
  t.ok(a.stats().bytesSent > 0 && a.stats().bytesReceived > 0, 'bytes counted')
  const big = a.request(net.address('n2'), { type: 'PUT_REPLICA', key: Buffer.alloc(1), obj: Buffer.alloc(300), hintFor: null }, 100)
  await t.rejects(big, { code: 'DYNAKV_PEER_INVALID_MESSAGE' }, 'over maxFrameBytes')
  await t.rejects(a.request(net.address('n2'), { type: 'PING', digest: 7 } as never, 100), { code: 'DYNAKV_PEER_INVALID_MESSAGE' }, 'off-schema')
  await t.rejects(a.request(net.address('n2'), { type: 'OK' } as never, 100), { code: 'DYNAKV_PEER_INVALID_MESSAGE' }, 'not a request')
  await t.rejects(a.request(net.address('n2'), { type: 'PING', digest: '' }, -1), { code: 'DYNAKV_PEER_INVALID_MESSAGE' }, 'bad timeout')
  const err = await net.clock.runUntilSettled(a.request(net.address('n3'), { type: 'FLUSH' }, 100)).catch(e => e)
  t.ok(err instanceof PeerRemoteError && err.code === 'DYNAKV_TEST_NO' && err.message === 'no', 'a handler error comes back as ERROR')
  // a seed address: the name is learned from the answer
  const seed = await net.clock.runUntilSettled(a.request({ name: null, host: 'n3', port: SIM_PORT }, { type: 'PING', digest: 's' }, 100))
  t.equal(seed.from, 'n3')
  await t.rejects(a.request({ name: null, host: 'nowhere', port: 1 }, { type: 'PING', digest: '' }, 100), { code: 'DYNAKV_PEER_UNREACHABLE' })
  // a handler with the wrong response type
  await net.endpoint('n5').start(async () => ({ type: 'OK' }))
  await t.rejects(net.clock.runUntilSettled(a.request(net.address('n5'), { type: 'PING', digest: '' }, 100)), { code: 'DYNAKV_PEER_BAD_RESPONSE' })
  await t.rejects(net.endpoint('n5').start(async () => ({ type: 'OK' })), /already started/)
})

t.test('dropProbability: each leg is lost independently', async t => {
  const all = await cluster({ seed: 2, dropProbability: 1 })
  const p = all.net.endpoint('n1').request(all.net.address('n2'), { type: 'PING', digest: '' }, 50)
  await t.rejects(all.net.clock.runUntilSettled(p), { code: 'DYNAKV_PEER_TIMEOUT' }, 'p = 1: everything lost')
  t.equal(all.handled.length, 0)

  const p3 = 0.3
  const { net, handled } = await cluster({ seed: 3, dropProbability: p3 })
  const n = 1000
  const calls = Array.from({ length: n }, (_, i) => net.endpoint('n1').request(net.address('n2'), { type: 'PING', digest: `${i}` }, 100).then(() => true, () => false))
  await net.clock.runUntilIdle()
  const ok = (await Promise.all(calls)).filter(Boolean).length
  const expected = n * (1 - p3) * (1 - p3) // request and response both survive
  t.ok(Math.abs(ok - expected) < 60, `${ok} of ${n} answered, expected about ${expected}`)
  t.ok(Math.abs(handled.length - n * (1 - p3)) < 60, `${handled.length} requests arrived, expected about ${n * (1 - p3)}`)
  // every request was sent, every handled request answered; what did not arrive was lost
  t.equal(net.counters.sent, n + handled.length)
  t.equal(net.counters.lost, (n - handled.length) + (handled.length - ok))
})

t.test('duplicateProbability: a duplicated request runs the handler twice; a duplicate response is ignored', async t => {
  const { net, handled } = await cluster({ seed: 4, duplicateProbability: 1 })
  const n = 50
  const calls = Array.from({ length: n }, (_, i) => net.endpoint('n1').request(net.address('n2'), { type: 'PING', digest: `${i}` }, 100))
  await net.clock.runUntilIdle()
  const results = await Promise.all(calls)
  t.same(results.map(r => r.digest), Array.from({ length: n }, (_, i) => `n2:${i}`), 'each request settles once, with its answer')
  t.equal(handled.length, 2 * n, 'every request handled twice')
  // 2 handler runs x 2 copies of each response = 4 arrivals, 1 used
  t.equal(net.endpoint('n1').stats().lateResponses, 3 * n)
  t.equal(net.counters.duplicated, 3 * n, 'request + 2 responses duplicated per call')
})

t.test('delay: each leg takes between delayMsMin and delayMsMax; faults.delayMs adds to it', async t => {
  const { net } = await cluster({ seed: 5, delayMsMin: 5, delayMsMax: 20 })
  const rtts: number[] = []
  for (let i = 0; i < 200; i++) {
    const start = net.clock.now()
    await net.clock.runUntilSettled(net.endpoint('n1').request(net.address('n2'), { type: 'PING', digest: '' }, 100))
    rtts.push(net.clock.now() - start)
  }
  t.ok(rtts.every(r => r >= 10 && r <= 40), 'two legs of 5..20 ms')
  t.ok(Math.min(...rtts) <= 14 && Math.max(...rtts) >= 36, `spread over the range: ${Math.min(...rtts)}..${Math.max(...rtts)}`)
  // messages reorder: send many at once, see answers out of order
  const order: number[] = []
  const calls = Array.from({ length: 30 }, (_, i) => net.endpoint('n1').request(net.address('n2'), { type: 'PING', digest: '' }, 100).then(() => order.push(i)))
  await net.clock.runUntilIdle()
  await Promise.all(calls)
  t.notSame(order, [...order].sort((x, y) => x - y), 'reordered')
  const ep = net.endpoint('n1')
  ep.faults.delayMs = 50
  const start = net.clock.now()
  await net.clock.runUntilSettled(ep.request(net.address('n2'), { type: 'PING', digest: '' }, 200))
  const rtt = net.clock.now() - start
  t.ok(rtt >= 60 && rtt <= 90, `fault delay added: ${rtt} ms`)
})

t.test('partitions between groups, isolate and heal', async t => {
  const { net, handled } = await cluster({ seed: 6 })
  const ask = async (from: string, to: string): Promise<string> => {
    try {
      await net.clock.runUntilSettled(net.endpoint(from).request(net.address(to), { type: 'PING', digest: '' }, 50))
      return 'ok'
    } catch (err) {
      return (err as { code: string }).code
    }
  }
  net.partition(['n1', 'n2'], ['n3', 'n4'])
  t.same(await Promise.all([ask('n1', 'n2'), ask('n3', 'n4'), ask('n1', 'n3'), ask('n4', 'n2')]), ['ok', 'ok', 'DYNAKV_PEER_TIMEOUT', 'DYNAKV_PEER_TIMEOUT'])
  t.ok(net.isCut('n2', 'n4') && net.isCut('n4', 'n2') && !net.isCut('n1', 'n2'))
  net.heal()
  t.same(await Promise.all([ask('n1', 'n3'), ask('n4', 'n2')]), ['ok', 'ok'])
  net.isolate('n2')
  t.same(await Promise.all([ask('n1', 'n2'), ask('n2', 'n3'), ask('n1', 'n3')]), ['DYNAKV_PEER_TIMEOUT', 'DYNAKV_PEER_TIMEOUT', 'ok'])
  net.heal()
  t.equal(await ask('n2', 'n1'), 'ok')
  // a message in flight when the partition starts is dropped on arrival
  const net2 = (await cluster({ seed: 6, delayMsMin: 20, delayMsMax: 20 })).net
  const p = net2.endpoint('n1').request(net2.address('n2'), { type: 'PING', digest: '' }, 100)
  await net2.clock.advance(10)
  net2.partition(['n1'], ['n2'])
  await t.rejects(net2.clock.runUntilSettled(p), { code: 'DYNAKV_PEER_TIMEOUT' })
  t.ok(net2.trace.some(l => /^20 cut n1>n2 PING/.test(l)), 'cut on arrival')
  // endpoint faults work in the simulator too
  const n1 = net.endpoint('n1')
  n1.faults.partitioned.add('n2')
  t.equal(await ask('n1', 'n2'), 'DYNAKV_PEER_TIMEOUT')
  t.equal(await ask('n2', 'n1'), 'DYNAKV_PEER_TIMEOUT', 'dropped on receive')
  n1.faults.clear()
  n1.faults.dropRequest = (to, req) => req.type === 'PING' && to === 'n3'
  t.same(await Promise.all([ask('n1', 'n3'), ask('n1', 'n4')]), ['DYNAKV_PEER_TIMEOUT', 'ok'])
  t.ok(n1.stats().droppedByFaults >= 3)
  // ackUnhandled: answered OK, the handler never runs
  n1.faults.clear()
  const n3 = net.endpoint('n3')
  n3.faults.ackUnhandled = (from, req) => from === 'n1' && req.type === 'PUT_REPLICA'
  const seen = handled.length
  const put = n1.request(net.address('n3'), { type: 'PUT_REPLICA', key: Buffer.from('k'), obj: Buffer.from('v'), hintFor: null }, 100)
  t.match(await net.clock.runUntilSettled(put), { type: 'OK' })
  t.same(handled.slice(seen).filter(l => l.includes('n3<n1 PUT_REPLICA')), [], 'n3 acknowledged without handling')
  n3.faults.clear()
})

t.test('hold: chosen frames wait until released, then cross as usual; a crashed sender\'s vanish', async t => {
  const { net, handled } = await cluster({ seed: 12, delayMsMin: 5, delayMsMax: 5 })
  const n1 = net.endpoint('n1')
  const held = net.hold((from, to, msg) => from === 'n1' && to === 'n2' && msg.type === 'PING' && msg.digest === 'late')
  const late = n1.request(net.address('n2'), { type: 'PING', digest: 'late' }, 1000)
  const other = await net.clock.runUntilSettled(n1.request(net.address('n2'), { type: 'PING', digest: 'now' }, 1000))
  t.equal(other.digest, 'n2:now', 'frames the hold does not pick pass')
  await net.clock.advance(500)
  t.equal(held.count, 1)
  t.notOk(handled.some(h => h.endsWith('PING late')), 'not delivered while held')
  held.release()
  const res = await net.clock.runUntilSettled(late)
  t.equal(res.digest, 'n2:late')
  t.ok(handled.some(h => /^51\d n2<n1 PING late$/.test(h)), 'delivered after the release, with the usual delay')
  t.ok(net.trace.some(l => / hold n1>n2 PING/.test(l)))
  // a frame whose sender crashed while it was held vanishes
  const n3 = net.endpoint('n3')
  const again = net.hold((from) => from === 'n3')
  const lost = n3.request(net.address('n4'), { type: 'PING', digest: 'ghost' }, 100).catch(e => e.code)
  net.crash('n3')
  again.release()
  await net.clock.runUntilIdle()
  t.equal(await lost, 'DYNAKV_PEER_STOPPED')
  t.ok(net.trace.some(l => / vanish n3>n4 PING/.test(l)))
  t.notOk(handled.some(h => h.endsWith('PING ghost')))
})

t.test('crash and restart', async t => {
  const { net, handled } = await cluster({ seed: 9, delayMsMin: 10, delayMsMax: 10 })
  const n1 = net.endpoint('n1')
  const n2 = net.endpoint('n2')
  // n2 has a request of its own in flight, and one being answered, when it crashes
  const own = n2.request(net.address('n3'), { type: 'PING', digest: 'mine' }, 100)
  const toN2 = n1.request(net.address('n2'), { type: 'PING', digest: 'before' }, 100)
  await net.clock.advance(5)
  net.crash('n2')
  await t.rejects(own, { code: 'DYNAKV_PEER_STOPPED' }, 'the crashed endpoint\'s own requests fail')
  await t.rejects(net.clock.runUntilSettled(toN2), { code: 'DYNAKV_PEER_TIMEOUT' }, 'messages to a crashed endpoint vanish')
  t.ok(net.trace.some(l => / vanish n1>n2 PING/.test(l)))
  await t.rejects(n2.request(net.address('n3'), { type: 'PING', digest: '' }, 100), { code: 'DYNAKV_PEER_STOPPED' })
  // restart with a fresh handler; a response computed by the old process vanishes
  const slowHandled: string[] = []
  await net.restart('n2', async (from, req) => {
    slowHandled.push(from)
    return { type: 'PONG', digest: `n2 again:${(req as { digest: string }).digest}` }
  })
  const res = await net.clock.runUntilSettled(n1.request(net.address('n2'), { type: 'PING', digest: 'after' }, 100))
  t.same(res, { type: 'PONG', digest: 'n2 again:after', from: 'n2' })
  t.same(slowHandled, ['n1'])
  t.notOk(handled.some(h => / n2</.test(h)), 'the old handler never ran')
  // a handler still running when its process crashes: its answer is never sent
  let release: () => void = () => {}
  await net.endpoint('n5').start(async () => { await new Promise<void>(resolve => { release = resolve }); return { type: 'PONG', digest: 'ghost' } })
  const ghost = n1.request(net.address('n5'), { type: 'PING', digest: '' }, 100)
  await net.clock.advance(15)
  net.crash('n5')
  await net.restart('n5', async () => ({ type: 'PONG', digest: 'fresh' }))
  release()
  await t.rejects(net.clock.runUntilSettled(ghost), { code: 'DYNAKV_PEER_TIMEOUT' })
  await n1.stop()
  await t.rejects(n1.request(net.address('n3'), { type: 'PING', digest: '' }, 100), { code: 'DYNAKV_PEER_STOPPED' })
})

t.test('bounded: in-flight messages, outstanding requests and the trace', async t => {
  const { net } = await cluster({ seed: 10, inFlightMax: 5, outstandingMax: 8, traceMax: 10 })
  const calls = Array.from({ length: 10 }, () => net.endpoint('n1').request(net.address('n2'), { type: 'PING', digest: '' }, 100).then(() => 'ok', e => e.code))
  await net.clock.runUntilIdle()
  const codes = await Promise.all(calls)
  t.equal(codes.filter(c => c === 'DYNAKV_PEER_OVERLOADED').length, 2, 'outstanding bound')
  t.ok(net.counters.overflow > 0, 'in-flight bound')
  t.equal(net.trace.length, 10)
  t.ok(net.traceCount > 10)
  const quiet = new SimNetwork({ seed: 1, traceMax: 0 })
  await quiet.endpoint('a').start(async () => ({ type: 'OK' }))
  await quiet.clock.runUntilSettled(quiet.endpoint('a').request(quiet.address('a'), { type: 'FLUSH' }, 50))
  t.same(quiet.trace, [])
})

t.test('handler failures in the simulator: a synchronous throw, an answer too large, a partition while handling', async t => {
  const net = new SimNetwork({ seed: 11, maxFrameBytes: 512, delayMsMin: 5, delayMsMax: 5 })
  let release: () => void = () => {}
  await net.endpoint('b').start((from, req) => {
    if (req.type === 'FLUSH') throw Object.assign(new Error('sync'), { code: 'DYNAKV_TEST_SYNC' })
    if (req.type === 'COUNT_KEYS') return new Promise(resolve => { release = () => resolve({ type: 'COUNT', n: 1, expires: 0, avgTtlMs: 0 }) })
    return Promise.resolve({ type: 'OBJECT', obj: Buffer.alloc(1000) })
  })
  await net.endpoint('a').start(async () => ({ type: 'OK' }))
  const a = net.endpoint('a')
  await t.rejects(net.clock.runUntilSettled(a.request(net.address('b'), { type: 'FLUSH' }, 100)), { code: 'DYNAKV_TEST_SYNC' })
  await t.rejects(net.clock.runUntilSettled(a.request(net.address('b'), { type: 'GET_REPLICA', key: Buffer.alloc(1), hintFor: null }, 100)), { code: 'DYNAKV_PEER_INVALID_MESSAGE' })
  const held = a.request(net.address('b'), { type: 'COUNT_KEYS' }, 100)
  await net.clock.advance(10)
  net.endpoint('b').faults.partitioned.add('a')
  release()
  await t.rejects(net.clock.runUntilSettled(held), { code: 'DYNAKV_PEER_TIMEOUT' })
  t.equal(net.endpoint('b').stats().droppedByFaults, 1, 'the answer was dropped')
})
