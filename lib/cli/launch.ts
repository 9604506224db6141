// How a dynakv server process is best started: settings of the process that
// must be in place before node starts (glibc reads its malloc tunables from the
// environment at start-up; V8 sizes its young generation once, when the heap
// is set up, so `v8.setFlagsFromString` cannot change it later). bin/dynakv
// (the installed command), the Docker image and `dynakv cluster` start servers
// with these; `node dist/lib/cli/main.js server` directly runs without them.
// A setting the caller's environment already has is kept (the operator's).
// Measured in docs/performance.md, "Bulk load, memory, start-up".

/**
 * glibc malloc: a freed block at the top of the main heap is given back past
 * 128 KB (the trim threshold), and blocks of 128 KB and more are mmapped, so
 * freeing them returns them at once. Setting either turns off glibc's dynamic
 * threshold, which otherwise rises with every large block freed (up to 32 MB
 * mmap / 64 MB trim) and leaves the heap at its high-water mark.
 */
export const SERVER_ENV: Readonly<Record<string, string>> = {
  MALLOC_TRIM_THRESHOLD_: '131072',
  MALLOC_MMAP_THRESHOLD_: '131072',
  /**
   * At most 2 malloc arenas instead of 8 a core: LevelDB's reads run on every
   * thread of libuv's pool, and each thread's arena kept its own few MB of
   * freed blocks (decompressed table blocks, values): 1 000 000 keys, after
   * 200 000 random GETs, RSS 252 → 227 MB; CPU per request unchanged (A/B,
   * docs/performance.md, "RSS at 1 000 000 keys").
   */
  MALLOC_ARENA_MAX: '2',
  /**
   * libuv's thread pool, which LevelDB's reads, writes and the group commit's
   * fsyncs share: 8 threads instead of 4 (read when the pool first starts).
   * Open loop at 6 000/s on the 3-node cluster, three alternating pairs: p99
   * 26.6–27.8 against 32.3–62.7 ms, p99.9 40–58 against 56–96 ms
   * (docs/performance.md, "Issue 11's goals in session 4").
   */
  UV_THREADPOOL_SIZE: '8'
}

/**
 * V8: a young generation of 2 × 4 MB semi-spaces (Node 20's default grows to
 * 2 × 16 MB; 2 × 8 MB until session 10: RSS after 200 000 GETs at 1 000 000
 * keys −7 to −9 MB, SET and GET -P16 CPU the same in swapped A/B pairs, 2 × 2 MB
 * cost a SET ~1 µs of scavenging; docs/performance.md, "Session 10, mem10"),
 * and an old generation capped at 1.5 GB instead of about half
 * the machine's memory (4 GB here). Below 2 GB V8 lets the old space grow
 * less between full GCs (its growing factor's ceiling falls from 4 towards
 * 1.3): a node of 1 000 000 keys holds ~10 MB of live heap, and its old space
 * read 28–33 MB before a GC, 18 MB with the cap (RSS after 200 000 GETs
 * −25 MB; docs/performance.md, "RSS at 1 000 000 keys"). A node whose heap
 * needs more sets its own --max-old-space-size in NODE_OPTIONS.
 */
export const SERVER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=4', '--max-old-space-size=1536']

/**
 * V8 flags Node refuses in NODE_OPTIONS, so the launchers put them on node's
 * command line before the script: bin/dynakv, the Docker image's entrypoint,
 * `dynakv cluster` (spec/server/launch.spec.ts checks bin/dynakv's), and the
 * benches' servers (bench/lib.ts).
 *
 * None now. Session 16 put `--initial-old-space-size=32` here: the object
 * cache dropped a 256 KB slab to the GC for every 256 KB it appended, and V8
 * counts those ArrayBuffer bytes against its old-generation limit, so a
 * durable SET -P16 ran a mark-compact every ~27 000 SETs (11 in 300 000; 5
 * with the flag). The cache reuses its slabs since session 17
 * (lib/storage/cache.ts): 1 mark-compact in 300 000 SETs without the flag, 0
 * with it, and the flag's cost was still 4–9 MB of anonymous memory after
 * 200 000 GETs at 1 000 000 keys (V8's old space 22–23 MB before a forced GC
 * against 17–18): dropped (docs/performance.md, "Session 17, slab17").
 */
export const SERVER_NODE_FLAGS: readonly string[] = []

/** The environment a server process gets: env, plus SERVER_ENV and SERVER_NODE_OPTIONS where env does not set them. */
export function serverEnv (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env }
  for (const [k, v] of Object.entries(SERVER_ENV)) out[k] ??= v
  const given = (env.NODE_OPTIONS ?? '').split(/\s+/).filter(w => w !== '')
  const add = SERVER_NODE_OPTIONS.filter(f => !given.some(g => g.replaceAll('_', '-').startsWith(f.slice(0, f.indexOf('=')))))
  if (add.length > 0) out.NODE_OPTIONS = [...given, ...add].join(' ')
  return out
}
