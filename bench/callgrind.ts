// `make bench/callgrind`: instructions per request, counted by valgrind's
// callgrind, so the figure does not depend on what else the machine runs.
// dynakv runs under `valgrind --tool=callgrind` (all its threads counted: the
// JavaScript thread, V8's compiler and GC helpers, the libuv pool that runs
// LevelDB). After a warm-up (V8 compiles the hot code), the counters are zeroed
// and read (callgrind_control) around:
//   - an idle spell with no load, after a settling pause and again at the end:
//     the node's own background work per second (the lower of the two counts);
//   - N SETs twice, then N GETs twice (redis-benchmark -c CLIENTS -P PIPELINE
//     -d 100 -r 100000): the second run of each shows whether the first was
//     still warming up. V8's compiler still runs under valgrind after the
//     warm-up; the column `w/o compiler` leaves its instructions out.
// Instructions per request = (instructions over the run − the idle rate × its
// duration) / N, summed over the nodes. Each run is also dumped, and the dump
// read for self instructions per function: by category (JIT-compiled JavaScript
// has no symbols under valgrind: it is one bucket with the interpreter; the
// JavaScript-level split comes from bench/profile) and the top functions.
// Kernel work (syscalls, fsync) is not counted by valgrind: see the CPU figures
// of bench/single-node for that.
// With one node, the anchors of issue 11 are then counted the same way under
// the same load (warm-up, settle, idle window, N SETs, N GETs): redis-server
// appendfsync always and bench/echo-server (Node answering without work), and
// dynakv's second runs are set beside them and the issue's goals.
// A cluster runs with --ae-interval-ms 0: an anti-entropy round under valgrind
// lasts long enough to fill the idle windows (a periodic cost, not a
// per-request one: bench/antientropy measures it); the Merkle trees are still
// fed by every write. Every node runs with --sweep-interval-ms 0 for the same
// reason (a sweep round walks up to 2000 records every second of wall time).
// One node is first filled with every key of the range (key:000000000000 to
// key:000000099999, 100-byte values, one `redis-cli --pipe`, as bench/single-node
// fills it): the random SETs of a warm-up leave most keys absent (30 000 of them
// -P1: 74 %), and a GET of an absent key is another path than a value's hit.
// DYNAKV_CG_CACHE_SIM=1 adds valgrind's cache simulation (--cache-sim=yes, I1
// 64 KB 8-way, D1 48 KB 12-way, LL 4 MB 16-way, as in docs/performance.md's
// "Session 16, getp1") and prints the simulated misses per request.
// DYNAKV_CG_BASELINE=<dir>: count another build's node (its dist/lib/cli/main.js
// and its launcher's flags) with this bench, for an A/B of the same counts.
// Under valgrind node runs ~50x slower: keep N modest.
//   DYNAKV_CG_NODES=1 (3: a cluster N3 R2 W2, the load on node 1) DYNAKV_CG_ANCHORS=1 (0: dynakv only)
//   DYNAKV_CG_REQUESTS=20000 DYNAKV_CG_WARMUP=60000 DYNAKV_CG_CLIENTS=1 DYNAKV_CG_PIPELINE=16
//   DYNAKV_CG_IDLE_SECONDS=10 DYNAKV_CG_SETTLE_SECONDS=30 DYNAKV_CG_NODE_FLAGS='--trace-gc --no-memory-reducer'
import { execFile } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { infoField, load1, redisBenchmark, redisCliPipe, sleep, startCluster, startDynakv, startEcho, startRedis, tempDir, writePipeFile, writeResult, type Dynakv, type Proc } from './lib.js'

const NODES = Number(process.env.DYNAKV_CG_NODES ?? 1)
const REQUESTS = Number(process.env.DYNAKV_CG_REQUESTS ?? 20000)
const WARMUP = Number(process.env.DYNAKV_CG_WARMUP ?? 60000)
const CLIENTS = Number(process.env.DYNAKV_CG_CLIENTS ?? 1)
const PIPELINE = Number(process.env.DYNAKV_CG_PIPELINE ?? 16)
const IDLE_SECONDS = Number(process.env.DYNAKV_CG_IDLE_SECONDS ?? 10)
const SETTLE_SECONDS = Number(process.env.DYNAKV_CG_SETTLE_SECONDS ?? 30)
const ANCHORS = NODES === 1 && process.env.DYNAKV_CG_ANCHORS !== '0'
const CACHE_SIM = process.env.DYNAKV_CG_CACHE_SIM === '1'
const BASELINE = process.env.DYNAKV_CG_BASELINE
/** The keys of redis-benchmark's -r range, all filled before the warm-up (one node). */
const KEYS = 100000
// Under valgrind the allocation rate per second of wall time is ~50x lower than in a native run, and V8's
// memory reducer then starts extra full GCs a native run under the same load does not have: it is turned off.
const NODE_FLAGS = process.env.DYNAKV_CG_NODE_FLAGS ?? '--trace-gc --no-memory-reducer'
const TOP = 25
/** One redis-benchmark run under valgrind, at most (a busy machine slows valgrind down a lot). */
const BENCH_TIMEOUT_MS = 3 * 3600_000

async function run (cmd: string, args: string[], timeoutMs = 600_000): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, out, errOut) => {
      if (err !== null) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${errOut}`))
      else resolve(out)
    })
  })
}

/** The simulated cache misses callgrind_control -e prints with --cache-sim=yes, after Ir, Dr and Dw. */
const MISSES = ['I1mr', 'D1mr', 'D1mw', 'ILmr', 'DLmr', 'DLmw']

/**
 * Events per thread since the last zeroing (callgrind_control -e): thread 1 is
 * the JavaScript thread; per thread Ir first, then (with the cache simulation)
 * Dr, Dw and MISSES.
 */
async function events (pid: number): Promise<number[][]> {
  const out = await run('callgrind_control', ['-e', String(pid)])
  const threads: number[][] = []
  for (const m of out.matchAll(/^\s*Th\s*(\d+)((?:\s+[\d,]+)+)\s*$/gm)) threads[Number(m[1]) - 1] = m[2].trim().split(/\s+/).map(x => Number(x.replace(/,/g, '')))
  return Array.from(threads, x => x ?? [0])
}

/** Instructions per thread since the last zeroing. */
async function counters (pid: number): Promise<number[]> {
  return (await events(pid)).map(th => th[0])
}

const CATEGORIES: Array<[string, RegExp]> = [
  // JIT code has no symbols under valgrind: what is entered by a call is an address in no object, what is
  // entered by a jump (optimised code entered from the interpreter) counts as the trampoline's.
  ['JavaScript (JIT code, interpreter)', /^0x[0-9a-f]+ \[\?\?\?\]$|^Builtins_(InterpreterEntryTrampoline|JSEntry|JSEntryTrampoline|BaselineOutOfLinePrologue|Call_ReceiverIs.*Baseline.*)|^Builtins_.*Handler/],
  ['V8 compiler (TurboFan, Sparkplug)', /v8::internal::compiler::|v8::internal::(Zone|Pipeline|OptimizedCompilationJob|OptimizingCompileDispatcher|TurboAssembler|Assembler|baseline::|maglev::|interpreter::Bytecode)/],
  ['GC (scavenges, marking, write barrier)', /v8::internal::(Scavenger|Scavenge|Heap::|Heap\b|MarkCompact|MinorMarkCompact|ConcurrentMarking|MarkingVisitor|IncrementalMarking|Sweeper|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|LargeObjectSpace|MemoryChunk|Evacuat|RememberedSet|SlotSet|TypedSlot|LocalHeap|GCTracer|MainMarkingVisitor|WeakObjects|RootScavengeVisitor|RecordMigratedSlotVisitor|IterateAndScavenge|BodyDescriptorBase|\(anonymous namespace\)::IterateObjectCache)|heap::base::|cppgc::|Builtins_RecordWrite|Builtins_Allocate/],
  ['promises, microtasks', /Builtins_(.*Promise.*|RunMicrotasks.*|EnqueueMicrotask|.*Microtask.*|AsyncFunction.*|Await.*)|MicrotaskQueue|JSPromise|PromiseHook/],
  ['V8 builtins (ICs, maps, typed arrays, strings...)', /^Builtins_/],
  ['LevelDB (classic-level)', /leveldb::|snappy::|crc32c|classic-level\.node/],
  ['MD5 (OpenSSL)', /md5|MD5/],
  ['libc (malloc, memcpy, locks)', /libc\.so|libstdc\+\+|libm\.so|ld-linux/],
  ['Node C++, libuv (streams, buffers, bindings)', /node::|uv_|uv__|napi_|v8impl/],
  ['V8 runtime, API, other', /v8::|Runtime_|\[\/usr\/bin\/node\]/]
]

function categoryOf (fn: string): string {
  for (const [name, re] of CATEGORIES) if (re.test(fn)) return name
  return 'other'
}

interface Annotated { total: number, categories: Record<string, number>, top: Array<[string, number]> }

/**
 * Self instructions per function of a callgrind dump, read from the file itself:
 * callgrind_annotate misreads dumps taken mid-run (functions still on the stack
 * come out above 100 %). A cost line counts for the current fn, except the one
 * right after a calls= line (the call's inclusive cost).
 */
function annotate (file: string): Annotated {
  const names = new Map<string, string>()
  const objects = new Map<string, string>()
  const objectOf = new Map<string, string>()
  const self = new Map<string, number>()
  let fn = ''
  let ob = ''
  let afterCall = false
  let total = 0
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const totals = /^(?:totals|summary): (\d+)/.exec(line)
    if (totals !== null) total = Number(totals[1])
    const named = /^(c?fn|c?ob)=\((\d+)\)(?: (.*))?$/.exec(line)
    if (named !== null) {
      const [, kind, id, name] = named
      const table = kind.endsWith('fn') ? names : objects
      if (name !== undefined) table.set(id, name)
      if (kind === 'ob') ob = id
      if (kind === 'fn') {
        fn = id
        if (!objectOf.has(id)) objectOf.set(id, objects.get(ob) ?? '???')
      }
      continue
    }
    if (line.startsWith('calls=')) {
      afterCall = true
      continue
    }
    if (!/^[0-9+\-*]/.test(line)) continue
    if (afterCall) {
      afterCall = false
      continue
    }
    self.set(fn, (self.get(fn) ?? 0) + Number(line.split(' ')[1] ?? 0))
  }
  const categories: Record<string, number> = {}
  const all: Array<[string, number]> = []
  for (const [id, ir] of self) {
    const label = `${names.get(id) ?? id} [${objectOf.get(id) ?? '???'}]`
    const category = categoryOf(label)
    categories[category] = (categories[category] ?? 0) + ir
    all.push([label, ir])
  }
  return { total, categories, top: all.sort((a, b) => b[1] - a[1]).slice(0, TOP) }
}

/** Dumps a node's counters now (a new file in dir) and returns its path. */
async function dump (dir: string, pid: number, label: string): Promise<string> {
  const before = new Set(readdirSync(dir))
  await run('callgrind_control', [`--dump=${label}`, String(pid)])
  for (let i = 0; i < 600; i++) {
    const added = readdirSync(dir).filter(f => !before.has(f) && f.startsWith(`cg.${pid}.`))
    if (added.length > 0) {
      await sleep(500) // let it finish writing
      return join(dir, added[0])
    }
    await sleep(100)
  }
  throw new Error(`no callgrind dump from ${pid}`)
}

async function perfStatWorks (): Promise<string> {
  try {
    const out = await new Promise<string>((resolve) => {
      execFile('perf', ['stat', '-x', ',', '-e', 'instructions', 'true'], (_err, _out, errOut) => resolve(errOut))
    })
    return /not supported|<not counted>|not supported/i.test(out) || out.trim() === '' ? `no (${out.trim().split('\n')[0]})` : `yes (${out.trim().split('\n')[0]})`
  } catch (e) {
    return `no (${(e as Error).message})`
  }
}

async function batches (nodes: Dynakv[]): Promise<{ batches: number, writes: number }> {
  let b = 0
  let w = 0
  for (const p of nodes) {
    b += await infoField(p.port, 'persistence', 'write_batches')
    w += await infoField(p.port, 'persistence', 'batched_writes')
  }
  return { batches: b, writes: w }
}

interface Phase {
  op: string
  requests: number
  seconds: number
  /** Per node, per thread. */
  threads: number[][]
  idleSubtracted: number
  perRequest: number
  /** Without the idle rate subtracted: an upper bound, for when the idle windows were not quiet. */
  rawPerRequest: number
  mainPerRequest: number
  /** perRequest without what V8's compiler did meanwhile (still warming up under valgrind). */
  perRequestNoCompiler: number
  writesPerBatch: number
  /** V8's --trace-gc lines during the run, over the nodes. */
  scavenges: number
  markCompacts: number
  annotated: Annotated
  /** Simulated misses per request (MISSES' order), every thread and the JavaScript thread; empty without the simulation. */
  misses: number[]
  mainMisses: number[]
}

/** Scavenges and full GCs a node has printed so far (--trace-gc). */
function gcCounts (nodes: Dynakv[]): [number, number] {
  let scavenges = 0
  let full = 0
  for (const p of nodes) {
    const out = p.output()
    scavenges += out.split(': Scavenge ').length - 1
    full += out.split(': Mark-Compact ').length - 1
  }
  return [scavenges, full]
}

const COMPILER = CATEGORIES[1][0]

/** Instructions per second of each node with no load: every thread, and the JavaScript thread. */
async function idleWindow (nodes: Proc[]): Promise<{ all: number[], main: number[] }> {
  for (const p of nodes) await run('callgrind_control', ['-z', String(p.pid)])
  const t = performance.now()
  await sleep(IDLE_SECONDS * 1000)
  const threads = await Promise.all(nodes.map(async p => await counters(p.pid)))
  const seconds = (performance.now() - t) / 1000
  return { all: threads.map(th => th.reduce((a, b) => a + b, 0) / seconds), main: threads.map(th => th[0] / seconds) }
}

interface AnchorRun { server: string, op: string, seconds: number, idlePerSecond: number, perRequest: number, rawPerRequest: number }

/**
 * One anchor server under valgrind, counted as dynakv is: warm-up of both ops,
 * settle, an idle window, then REQUESTS SETs and REQUESTS GETs.
 */
async function anchor (server: string, start: () => Promise<Proc>, bench: string[], warmup: number, settleSeconds: number): Promise<AnchorRun[]> {
  const p = await start()
  const runs: AnchorRun[] = []
  try {
    for (const op of ['set', 'get']) await redisBenchmark(p.port, ['-t', op, '-n', String(warmup), ...bench], BENCH_TIMEOUT_MS)
    await sleep(settleSeconds * 1000)
    const idle = (await idleWindow([p])).all[0]
    for (const op of ['SET', 'GET']) {
      await run('callgrind_control', ['-z', String(p.pid)])
      const t = performance.now()
      await redisBenchmark(p.port, ['-t', op.toLowerCase(), '-n', String(REQUESTS), ...bench], BENCH_TIMEOUT_MS)
      const seconds = (performance.now() - t) / 1000
      const total = (await counters(p.pid)).reduce((a, b) => a + b, 0)
      runs.push({ server, op, seconds, idlePerSecond: idle, perRequest: (total - idle * seconds) / REQUESTS, rawPerRequest: total / REQUESTS })
      process.stderr.write(`${server} ${op}: ${seconds.toFixed(0)} s under valgrind\n`)
    }
  } finally {
    await p.stop()
  }
  return runs
}

async function main (): Promise<void> {
  const dir = tempDir('dynakv-callgrind-')
  // stdbuf: V8's --trace-gc lines reach us as they are printed (stdout to a pipe is block-buffered).
  const wrap = ['stdbuf', '-oL', 'valgrind', '--tool=callgrind', `--callgrind-out-file=${join(dir, 'cg.%p')}`, '--dump-line=no',
    ...(CACHE_SIM ? ['--cache-sim=yes', '--I1=65536,8,64', '--D1=49152,12,64', '--LL=4194304,16,64'] : [])]
  const main = BASELINE === undefined ? undefined : join(BASELINE, 'dist', 'lib', 'cli', 'main.js')
  const node = NODE_FLAGS.split(' ').filter(f => f !== '')
  // The sweep off: under valgrind each round's walk of the data (every second of wall time, ~50x longer in
  // instructions) fills the idle windows and the runs; it is a periodic cost, not a per-request one.
  const quiet = ['--log-level', 'warn', '--sweep-interval-ms', '0']
  const timeoutMs = 600_000
  // Slow under valgrind: peers get long timeouts, so none is taken for down.
  const nodes = NODES === 1
    ? [await startDynakv(['--n', '1', '--r', '1', '--w', '1', ...quiet], { wrap, node, timeoutMs, main })]
    : await startCluster(NODES, ['--n', '3', '--r', '2', '--w', '2', '--request-timeout-ms', '60000', '--down-after-ms', '120000', '--ae-interval-ms', '0', ...quiet], { wrap, node, timeoutMs })
  const bench = ['-c', String(CLIENTS), '-P', String(PIPELINE), '-d', '100', '-r', '100000']
  const loads = [load1()]
  const phases: Phase[] = []
  const idle: Array<{ all: number[], main: number[] }> = []
  try {
    if (NODES === 1) {
      const fill = join(dir, 'fill.resp')
      writePipeFile(fill, KEYS)
      const filled = await redisCliPipe(nodes[0].port, fill, BENCH_TIMEOUT_MS / 1000)
      if (filled.code !== 0) throw new Error(`filling the node: ${filled.output}`)
      process.stderr.write('fill done\n')
    }
    // Every node of a cluster coordinates part of the warm-up, so each one's coordinator path is compiled too.
    for (const op of ['set', 'get']) {
      for (const p of nodes) await redisBenchmark(p.port, ['-t', op, '-n', String(Math.round(WARMUP / nodes.length)), ...bench], BENCH_TIMEOUT_MS)
    }
    // V8 finishes its queued compilations and the GC its concurrent marking before the idle rate is taken.
    await sleep(SETTLE_SECONDS * 1000)
    process.stderr.write('warm-up done\n')
    idle.push(await idleWindow(nodes))
    // Each op twice: the second run shows whether the first was still warming up.
    for (const [op, label] of [['SET', 'SET 1'], ['SET', 'SET 2'], ['GET', 'GET 1'], ['GET', 'GET 2']]) {
      const b0 = await batches(nodes)
      const gc0 = gcCounts(nodes)
      for (const p of nodes) await run('callgrind_control', ['-z', String(p.pid)])
      const t = performance.now()
      await redisBenchmark(nodes[0].port, ['-t', op.toLowerCase(), '-n', String(REQUESTS), ...bench], BENCH_TIMEOUT_MS)
      const seconds = (performance.now() - t) / 1000
      const all = await Promise.all(nodes.map(async p => await events(p.pid)))
      const threads = all.map(th => th.map(e => e[0]))
      const misses = MISSES.map((_, i) => all.flat().reduce((a, e) => a + (e[3 + i] ?? 0), 0) / REQUESTS)
      const mainMisses = MISSES.map((_, i) => all.reduce((a, th) => a + (th[0][3 + i] ?? 0), 0) / REQUESTS)
      const files = await Promise.all(nodes.map(async p => await dump(dir, p.pid, label.replace(' ', '-'))))
      const b1 = await batches(nodes)
      const gc1 = gcCounts(nodes)
      const annotations = files.map(annotate)
      const annotated: Annotated = { total: 0, categories: {}, top: [] }
      for (const a of annotations) {
        annotated.total += a.total
        for (const [k, v] of Object.entries(a.categories)) annotated.categories[k] = (annotated.categories[k] ?? 0) + v
      }
      annotated.top = annotations.flatMap(a => a.top).sort((x, y) => y[1] - x[1]).slice(0, TOP)
      phases.push({ op: label, requests: REQUESTS, seconds, threads, idleSubtracted: 0, perRequest: 0, rawPerRequest: 0, mainPerRequest: 0, perRequestNoCompiler: 0, writesPerBatch: (b1.writes - b0.writes) / Math.max(1, b1.batches - b0.batches), scavenges: gc1[0] - gc0[0], markCompacts: gc1[1] - gc0[1], annotated, misses: CACHE_SIM ? misses : [], mainMisses: CACHE_SIM ? mainMisses : [] })
      process.stderr.write(`${label}: ${seconds.toFixed(0)} s under valgrind\n`)
    }
    idle.push(await idleWindow(nodes))
    loads.push(load1())
  } finally {
    for (const p of nodes) await p.stop()
  }
  const anchors: AnchorRun[] = []
  if (ANCHORS) {
    anchors.push(...await anchor('redis-always', async () => await startRedis({ fsync: 'always', wrap }), bench, Math.min(WARMUP, 5000), 2))
    anchors.push(...await anchor('node-echo', async () => await startEcho({ wrap }), bench, WARMUP, SETTLE_SECONDS))
    loads.push(load1())
  }
  // The idle rate: the lower of the two windows, per node (a window can still hold leftover compilation or marking).
  const idleAll = nodes.map((_, i) => Math.min(...idle.map(w => w.all[i])))
  const idleMain = nodes.map((_, i) => Math.min(...idle.map(w => w.main[i])))
  for (const p of phases) {
    p.idleSubtracted = idleAll.reduce((a, r) => a + r * p.seconds, 0)
    const total = p.threads.flat().reduce((a, b) => a + b, 0)
    const main = p.threads.reduce((a, th) => a + th[0], 0) - idleMain.reduce((a, r) => a + r * p.seconds, 0)
    p.perRequest = (total - p.idleSubtracted) / p.requests
    p.rawPerRequest = total / p.requests
    p.mainPerRequest = main / p.requests
    p.perRequestNoCompiler = p.perRequest - (p.annotated.categories[COMPILER] ?? 0) / p.requests
  }

  const out = process.stdout
  const k = (x: number): string => `${(x / 1000).toFixed(1)}k`
  out.write(`\ncallgrind, ${NODES === 1 ? 'one durable node, every key filled' : `${NODES}-node cluster N3 R2 W2, load on node 1`}${main === undefined ? '' : ` (the build in ${BASELINE as string})`}; redis-benchmark ${bench.join(' ')}, ${REQUESTS} requests per op after ${WARMUP} of each as warm-up\n`)
  out.write(`idle: ${idleAll.map(r => `${k(r)} instructions/s`).join(', ')} (windows before and after the runs: ${idle.map(w => w.all.map(k).join('+')).join(', ')}; the lower is subtracted over each run's duration)\n\n`)
  out.write(`${'run'.padEnd(7)}${'raw'.padStart(9)}${'instr/request'.padStart(15)}${'JS thread'.padStart(11)}${'other threads'.padStart(15)}${'w/o compiler'.padStart(14)}${'writes/batch'.padStart(14)}${'idle subtracted'.padStart(17)}${'scavenges'.padStart(11)}${'full GCs'.padStart(10)}\n`)
  for (const p of phases) {
    out.write(`${p.op.padEnd(7)}${k(p.rawPerRequest).padStart(9)}${k(p.perRequest).padStart(15)}${k(p.mainPerRequest).padStart(11)}${k(p.perRequest - p.mainPerRequest).padStart(15)}${k(p.perRequestNoCompiler).padStart(14)}${(p.op.startsWith('SET') ? p.writesPerBatch.toFixed(1) : '-').padStart(14)}${`${(100 * p.idleSubtracted / (p.perRequest * p.requests + p.idleSubtracted)).toFixed(1)} %`.padStart(17)}${String(p.scavenges).padStart(11)}${String(p.markCompacts).padStart(10)}\n`)
  }
  out.write('\nper thread, instructions per request (thread 1 is the JavaScript thread; then, in creation order, V8\'s platform workers — GC, compiler — and the libuv pool, which runs LevelDB)\n')
  for (const p of phases) {
    out.write(`${p.op.padEnd(7)}${p.threads.map((th, n) => (NODES > 1 ? `node ${n + 1}: ` : '') + th.map((ir, i) => `${i + 1}: ${k(ir / p.requests)}`).filter(x => !x.endsWith(' 0.0k')).join('  ')).join(' | ')}\n`)
  }
  if (CACHE_SIM) {
    out.write(`\nsimulated cache misses per request, every thread (the JavaScript thread): ${MISSES.join(' ')}\n`)
    for (const p of phases) out.write(`${p.op.padEnd(7)}${p.misses.map((m, i) => `${m.toFixed(1)} (${p.mainMisses[i].toFixed(1)})`.padStart(16)).join('')}\n`)
  }
  for (const p of phases) {
    out.write(`\n${p.op}: self instructions per request by category (every thread; idle work not subtracted here)\n`)
    const cats = Object.entries(p.annotated.categories).sort((a, b) => b[1] - a[1])
    for (const [name, ir] of cats) out.write(`  ${name.padEnd(62)}${k(ir / p.requests).padStart(9)}${`${(100 * ir / p.annotated.total).toFixed(1)} %`.padStart(9)}\n`)
    out.write(`${p.op}: top functions (self instructions per request)\n`)
    for (const [fn, ir] of p.annotated.top) out.write(`  ${k(ir / p.requests).padStart(8)}  ${fn.length > 150 ? fn.slice(0, 147) + '...' : fn}\n`)
  }
  if (anchors.length > 0) {
    const last = (op: string): Phase => phases.filter(p => p.op.startsWith(op)).at(-1) as Phase
    const of = (server: string, op: string): AnchorRun => anchors.find(a => a.server === server && a.op === op) as AnchorRun
    out.write(`\nanchors, counted the same way under the same load (instructions per request, every thread, idle subtracted; raw in brackets)\n`)
    out.write(`${'server'.padEnd(14)}${'SET'.padStart(18)}${'GET'.padStart(18)}\n`)
    out.write(`${'dynakv (run 2)'.padEnd(14)}${`${k(last('SET').perRequest)} (${k(last('SET').rawPerRequest)})`.padStart(18)}${`${k(last('GET').perRequest)} (${k(last('GET').rawPerRequest)})`.padStart(18)}\n`)
    for (const server of ['redis-always', 'node-echo']) {
      out.write(`${server.padEnd(14)}${`${k(of(server, 'SET').perRequest)} (${k(of(server, 'SET').rawPerRequest)})`.padStart(18)}${`${k(of(server, 'GET').perRequest)} (${k(of(server, 'GET').rawPerRequest)})`.padStart(18)}\n`)
    }
    const x = (op: string, server: string): string => `${(last(op).perRequest / of(server, op).perRequest).toFixed(1)}×`
    out.write('\nissue 11 goals (they are CPU time; valgrind counts user-space instructions only, so fsync and socket syscalls are not in these ratios)\n')
    out.write(`SET -P16 ≤ 8 µs CPU (issue's run: redis-always 3.8 µs, node-echo 1.4 µs): dynakv = ${x('SET', 'redis-always')} redis-always's instructions, ${x('SET', 'node-echo')} node-echo's\n`)
    out.write(`GET -P16 ≤ 3 µs CPU (issue's run: redis in memory 1.9 µs, node-echo 1.3 µs): dynakv = ${x('GET', 'redis-always')} redis-always's instructions, ${x('GET', 'node-echo')} node-echo's\n`)
  }
  out.write(`\nperf stat -e instructions works here: ${await perfStatWorks()}\n`)
  out.write(`load average (1 min) at the start, after dynakv${anchors.length > 0 ? ' and after the anchors' : ''}: ${loads.join(', ')}\n`)
  out.write(`results: ${writeResult(`callgrind-${NODES}`, { nodes: NODES, baseline: BASELINE ?? null, cacheSim: CACHE_SIM, requests: REQUESTS, warmup: WARMUP, clients: CLIENTS, pipeline: PIPELINE, loads, idle, idleAll, idleMain, phases, anchors })}\n`)
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`)
  process.exit(1)
})
