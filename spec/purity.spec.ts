// The architecture rule of docs/design.md#architecture, as a test (TigerBeetle's tidy.zig):
// the Dynamo logic imports no sockets, files, storage or timers and reads no
// ambient time or randomness — those come in as arguments. One table, every
// pure module: what it may import, and what its code must never mention.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const LIB = fileURLToPath(new URL('../lib/', import.meta.url))
const OWN = /^\.\/[a-z0-9-]+\.js$/
const UTIL = /^\.\.\/util\/(bytes|numbers)\.js$/
/** Every module may import Buffer itself (not I/O: the global is an accessor, spec/imports.spec.ts). */
const BUFFER = /^node:buffer$/

/** module (a folder, or a folder/file) → imports it may use besides its own files. */
const PURE: Record<string, RegExp[]> = {
  ring: [UTIL, /^node:crypto$/],
  versioning: [UTIL, /^node:(buffer|crypto|zlib)$/],
  antientropy: [UTIL],
  membership: [UTIL],
  'coordinator/quorum.ts': [],
  'peer/codec.ts': [UTIL],
  'peer/messages.ts': [],
  'peer/errors.ts': [],
  'peer/faults.ts': [],
  'peer/handshake.ts': [UTIL, /^node:crypto$/],
  'resp/parser.ts': [UTIL, /^redis-parser$/],
  'resp/inline.ts': [],
  'resp/reply.ts': [UTIL],
  'resp/reply-binary.ts': [UTIL]
}

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b|\bqueueMicrotask\b/, 'timers'],
  [/\bDate\.now\b|\bnew Date\b|\bperformance\.now\b|\bprocess\.hrtime\b/, 'ambient time'],
  [/\bMath\.random\b|\bgetRandomValues\b|\brandomBytes\b|\brandomUUID\b|\brandomInt\b/, 'ambient randomness'],
  [/\bprocess\./, 'process state'],
  [/\brequire\(|\bimport\s*\(/, 'dynamic imports'],
  [/node:(net|fs|dgram|child_process|http|tls)\b|classic-level|memory-level|abstract-level/, 'I/O modules']
]

function files (module: string): string[] {
  if (module.endsWith('.ts')) return [LIB + module]
  return readdirSync(LIB + module).filter(f => f.endsWith('.ts')).map(f => `${LIB}${module}/${f}`)
}

const stripComments = (s: string): string => s.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')

for (const [module, allowed] of Object.entries(PURE)) {
  t.test(`lib/${module} is pure`, async (t) => {
    const list = files(module)
    t.ok(list.length > 0, `${list.length} file(s)`)
    for (const file of list) {
      const name = file.slice(LIB.length)
      const code = stripComments(readFileSync(file, 'utf8'))
      for (const [, spec] of code.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/g)) {
        t.ok(OWN.test(spec) || BUFFER.test(spec) || allowed.some(re => re.test(spec)), `${name} may import ${spec}`)
      }
      for (const [pattern, what] of FORBIDDEN) t.notMatch(code, pattern, `${name}: no ${what}`)
    }
  })
}

// The runtime may do I/O, but time and randomness still come only through TimeSource
// and Random, so the simulator can replace them: no ambient clock, timer or dice.
const THROUGH_TIME_SOURCE = ['node', 'coordinator/coordinator.ts', 'peer/tcp.ts', 'peer/connection.ts', 'peer/sim.ts', 'storage']
for (const module of THROUGH_TIME_SOURCE) {
  t.test(`lib/${module} takes time and randomness from a TimeSource and a Random`, async (t) => {
    for (const file of files(module)) {
      const code = stripComments(readFileSync(file, 'utf8'))
      for (const [pattern, what] of FORBIDDEN.slice(0, 3)) t.notMatch(code, pattern, `${file.slice(LIB.length)}: no ${what}`)
    }
  })
}

// lib/coordinator holds the pure quorum tracker and the node-side coordinator:
// each of its files is named above, as pure or as runtime, none left unchecked.
t.test('every file of lib/coordinator is named pure or runtime', async (t) => {
  for (const file of files('coordinator')) {
    const name = file.slice(LIB.length)
    t.ok((name in PURE) !== THROUGH_TIME_SOURCE.includes(name), `${name}: ${name in PURE ? 'pure' : 'runtime'}`)
  }
})

t.test('the checker catches what it forbids', async (t) => {
  const bad = stripComments("import { connect } from 'node:net'\nconst t = Date.now() + Math.random() // setTimeout in a comment is fine\nsetTimeout(() => {}, 1)")
  t.match(bad, FORBIDDEN[0][0])
  t.match(bad, FORBIDDEN[1][0])
  t.match(bad, FORBIDDEN[2][0])
  t.match(bad, FORBIDDEN[5][0])
  t.notMatch(stripComments('// setTimeout'), FORBIDDEN[0][0])
})

// Error codes are stable API (lib/peer/errors.ts): compared by class or exactly,
// never by prefix or substring (a prefix that matches no code passes silently).
const CODE_BY_PREFIX = /\bcodes?\??\.(startsWith|endsWith|includes|indexOf|match|search)\(/

function allFiles (dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? allFiles(`${dir}${e.name}/`) : e.name.endsWith('.ts') ? [`${dir}${e.name}`] : [])
}

t.test('no error code is matched by prefix or substring', async (t) => {
  t.match("if (e.code?.startsWith('DYNAKV_HANDSHAKE')) retry()", CODE_BY_PREFIX, 'the checker catches a prefix test')
  t.notMatch("if (isHandshakeRefusal(e) || e.code === 'DYNAKV_PEER_TIMEOUT') retry()", CODE_BY_PREFIX)
  for (const file of allFiles()) t.notMatch(stripComments(readFileSync(file, 'utf8')), CODE_BY_PREFIX, file.slice(LIB.length))
})
