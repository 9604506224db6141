// Micro benchmarks of the RESP protocol layer: request parsing and reply
// encoding, on the shapes redis-benchmark -P 16 produces.
//
// Standalone:
//   TS_NODE_TRANSPILE_ONLY=1 node --import @isaacs/ts-node-temp-fork-for-pr-2009/import bench/micro/resp.ts

import Benchmark from 'benchmark'
import { pathToFileURL } from 'node:url'
import { RequestParser } from '../../lib/resp/parser.js'
import {
  EMPTY_ARRAY, NULL, ReplyWriter, array, bool, bulk, double, int, map, set, simple, type Reply
} from '../../lib/resp/reply.js'

function frame (...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

const PIPELINE = 16

export function addRespBenchmarks (suite: Benchmark.Suite): void {
  const value = Buffer.alloc(100, 'x')
  const sets = Buffer.concat(Array.from({ length: PIPELINE }, () => frame('SET', 'key:000012345', value)))
  const gets = Buffer.concat(Array.from({ length: PIPELINE }, () => frame('GET', 'key:000012345')))
  let commands = 0
  const parser = new RequestParser({
    onCommand: args => { commands += args.length },
    onError: message => { throw new Error(message) }
  })
  suite.add(`parse ${PIPELINE} pipelined SET key:000012345 <100 B> (${sets.length} B chunk)`, () => {
    parser.feed(sets)
  })
  suite.add(`parse ${PIPELINE} pipelined GET key:000012345 (${gets.length} B chunk)`, () => {
    parser.feed(gets)
  })

  const writer = new ReplyWriter()
  const replies = Array.from({ length: PIPELINE }, () => Buffer.alloc(100, 'v'))
  suite.add(`encode ${PIPELINE} bulk replies of 100 B into one buffer`, () => {
    for (const r of replies) writer.bulk(r)
    if (writer.take() === null) throw new Error('nothing written')
  })
  const bulkReplies = replies.map(r => bulk(r))
  suite.add(`encode ${PIPELINE} bulk Reply values of 100 B via write()`, () => {
    for (const r of bulkReplies) writer.write(r, 2)
    if (writer.take() === null) throw new Error('nothing written')
  })

  // A HELLO-style map, a GETCTX-style [context, [values]] and a few scalars.
  const nested: Reply = array([
    map([
      [bulk('server'), bulk('dynakv')], [bulk('version'), bulk('0.1.0')], [bulk('proto'), int(3)],
      [bulk('id'), int(1234)], [bulk('mode'), bulk('cluster')], [bulk('role'), bulk('master')],
      [bulk('modules'), EMPTY_ARRAY]
    ]),
    array([bulk('AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRob'), array([bulk(value), bulk(value), NULL])]),
    set([bulk('a'), bulk('b'), bulk('c')]),
    map([[simple('hits'), int(2n ** 40n)], [simple('ratio'), double(0.25)], [simple('ok'), bool(true)]])
  ])
  for (const proto of [2, 3] as const) {
    suite.add(`encode a nested array/map reply in RESP${proto}`, () => {
      writer.write(nested, proto)
      if (writer.take() === null) throw new Error('nothing written')
    })
  }
  suite.on('complete', () => {
    if (commands === 0) throw new Error('the parser delivered nothing')
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const suite = new Benchmark.Suite('resp')
  addRespBenchmarks(suite)
  suite
    .on('cycle', (event: Benchmark.Event) => { console.log(String(event.target)) })
    .run()
}
