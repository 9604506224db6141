// Micro benchmarks of the versioning hot paths: what every SET/GET/PUT pays.
//
//   addVersioningBenchmarks(suite)    adds the cases to a shared suite
//   TS_NODE_TRANSPILE_ONLY=1 node --import @isaacs/ts-node-temp-fork-for-pr-2009/import bench/micro/versioning.ts
//                                     runs them alone and prints ops/s

import Benchmark from 'benchmark'
import { pathToFileURL } from 'node:url'
import {
  actorId,
  blindWrite,
  decodeContext,
  decodeObject,
  encodeContext,
  encodeObject,
  merge,
  newestValue,
  objectClock,
  put,
  supersedes,
  type Clock,
  type VObject
} from '../../lib/versioning/index.js'

const NOW_MS = 1_700_000_000_000
const A = actorId('node-a.example', '5f3c9a1e')
const B = actorId('node-b.example', '0b7d24c8')
const C = actorId('node-c.example', 'e91f6a30')

function fixtures (): { clock3: Clock, token3: string, one: VObject, oneBytes: Buffer, left: VObject, right: VObject } {
  const clock3: Clock = new Map([
    [A, { counter: 1041, ts: NOW_MS - 5_000 }],
    [B, { counter: 977, ts: NOW_MS - 2_000 }],
    [C, { counter: 1203, ts: NOW_MS }]
  ])
  // one sibling, written with a 2-entry context by a third node: a 3-entry object clock, 100-byte value
  const one = put({ siblings: [] }, {
    actor: C, context: new Map([...clock3].slice(0, 2)), value: Buffer.alloc(100, 0x61), nowMs: NOW_MS
  }).obj
  // two replicas that each hold two concurrent versions, one of them in common
  const ctx = objectClock(one)
  const common = put(one, { actor: A, context: ctx, value: Buffer.alloc(100, 0x62), nowMs: NOW_MS + 1 }).obj
  const left = put(common, { actor: B, context: ctx, value: Buffer.alloc(100, 0x63), nowMs: NOW_MS + 2 }).obj
  const right = put(common, { actor: C, context: ctx, value: Buffer.alloc(100, 0x64), nowMs: NOW_MS + 3 }).obj
  return { clock3, token3: encodeContext(clock3), one, oneBytes: encodeObject(one), left, right }
}

let sink: unknown

export function addVersioningBenchmarks (suite: Benchmark.Suite): void {
  const f = fixtures()
  if (f.one.siblings.length !== 1 || f.left.siblings.length !== 2 || f.right.siblings.length !== 2) {
    throw new Error('versioning benchmark fixtures are not the intended shape')
  }
  const context = objectClock(f.one)
  let nowMs = NOW_MS
  suite
    .add('versioning encodeContext (3 entries)', () => { sink = encodeContext(f.clock3) })
    .add('versioning decodeContext (3 entries)', () => { sink = decodeContext(f.token3) })
    .add('versioning merge (2 + 2 siblings)', () => { sink = merge(f.left, f.right) })
    .add('versioning put (on 1 sibling)', () => {
      sink = put(f.one, { actor: A, context, value: f.one.siblings[0].value, nowMs: nowMs++ })
    })
    .add('versioning encodeObject (1 sibling, 100 B)', () => { sink = encodeObject(f.one) })
    .add('versioning decodeObject (1 sibling, 100 B)', () => { sink = decodeObject(f.oneBytes) })
    // What a SET and a GET on a single node do instead (lib/versioning/encoded.ts): no decoding.
    .add('versioning blindWrite (SET on the bytes)', () => {
      sink = blindWrite(f.oneBytes, { actor: A, value: f.one.siblings[0].value, nowMs: nowMs++, counterFloor: 0, vclockMax: 10 })
    })
    .add('versioning newestValue (GET on the bytes)', () => { sink = newestValue(f.oneBytes) })
  // A replica write of a SET (lib/node/local.ts merge): the general path decodes the stored copy and merges;
  // supersedes decides on the bytes that the incoming version replaces it. (Both decode the incoming bytes first.)
  const written = put(f.one, { actor: A, context, value: Buffer.alloc(100, 0x65), nowMs: NOW_MS + 10 }).obj
  const writtenBytes = encodeObject(written)
  suite
    .add('versioning replica write: decode stored + merge', () => { sink = merge(decodeObject(f.oneBytes), written) })
    .add('versioning replica write: supersedes (on the bytes)', () => { sink = supersedes(f.oneBytes, writtenBytes) })
}

/** Keeps results observable so the engine cannot drop the work. */
export function benchmarkSink (): unknown {
  return sink
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const suite = new Benchmark.Suite('versioning')
  addVersioningBenchmarks(suite)
  suite
    .on('cycle', (event: Benchmark.Event) => {
      const b = event.target as unknown as Benchmark
      const hz = Math.round(b.hz ?? 0).toLocaleString('en-US')
      console.log(`${String(b.name).padEnd(46)} ${hz.padStart(12)} ops/s  ±${(b.stats?.rme ?? 0).toFixed(2)}%  (${b.stats?.sample.length ?? 0} runs)`)
    })
    .run()
}
