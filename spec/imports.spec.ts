// The import graph of lib/ as a test, beside purity.spec.ts (which says what
// each pure module may import from outside): no import cycles, and layers that
// point one way (docs/design.md#architecture). The cycle rule is the one of
// /work/shared/tools/import_cycles.py: relative imports, `import type` and
// `export … from` included, files resolved as tsc resolves `./x.js`.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { posix } from 'node:path'

const LIB = fileURLToPath(new URL('../lib/', import.meta.url))

/** Source text by path relative to a root ('node/node.ts'). */
type Sources = Map<string, string>

const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]/g

/** file → the files it imports (relative specifiers only, resolved to .ts or index.ts). */
function importGraph (sources: Sources): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const [file, text] of sources) {
    const deps = new Set<string>()
    for (const m of text.matchAll(IMPORT)) {
      const target = posix.normalize(posix.join(posix.dirname(file), m[1] ?? m[2])).replace(/\.js$/, '')
      const found = [`${target}.ts`, `${target}/index.ts`].find(c => sources.has(c))
      if (found !== undefined) deps.add(found)
    }
    graph.set(file, [...deps])
  }
  return graph
}

/** Strongly connected components of more than one file (Tarjan), each sorted: the import cycles. */
function importCycles (graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v) as number)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop() as string
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return cycles
}

function libSources (dir = ''): Sources {
  const out: Sources = new Map()
  for (const e of readdirSync(LIB + dir, { withFileTypes: true })) {
    const path = dir === '' ? e.name : `${dir}/${e.name}`
    if (e.isDirectory()) for (const [k, v] of libSources(path)) out.set(k, v)
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.set(path, readFileSync(LIB + path, 'utf8'))
  }
  return out
}

/**
 * Layers, lowest first. A folder imports its own files and folders of a lower
 * layer only: never upward, never sideways (two pure modules do not lean on
 * each other; the node runtime composes them). lib/index.ts is above all.
 */
const LAYERS: string[][] = [
  ['util', 'runtime', 'client'],
  ['ring', 'versioning', 'membership', 'antientropy', 'coordinator'],
  ['peer', 'storage'],
  ['node'],
  ['metrics'],
  ['resp'],
  ['cli']
]
const TOP = LAYERS.length
const layerOf = (folder: string): number => folder === '' ? TOP : LAYERS.findIndex(l => l.includes(folder))
/**
 * Files that live beside a pure module but belong to a higher layer: the
 * node-side coordinator sits with its quorum tracker in lib/coordinator (one
 * name for both) and, like the rest of the node runtime, is in the node layer.
 */
const LAYER_OF_FILE: Record<string, string> = { 'coordinator/coordinator.ts': 'node' }
const folderOf = (file: string): string => LAYER_OF_FILE[file] ?? (file.includes('/') ? file.slice(0, file.indexOf('/')) : '')

/** Imports that break the layering: "from → to" for each. */
function layerViolations (graph: Map<string, string[]>): string[] {
  const out: string[] = []
  for (const [from, deps] of graph) {
    for (const to of deps) {
      const a = folderOf(from)
      const b = folderOf(to)
      if (a !== b && !(layerOf(b) < layerOf(a))) out.push(`${from} → ${to}`)
    }
  }
  return out
}

t.test('the checkers catch what they forbid (fixtures)', async (t) => {
  const cyclic: Sources = new Map([
    ['node/a.ts', "import { b } from './b.js'"],
    ['node/b.ts', "export { c } from '../peer/index.js'"],
    ['peer/index.ts', "import type { A } from '../node/a.js'\nexport const c = 1"],
    ['peer/d.ts', "const x = await import('./e.js')"],
    ['peer/e.ts', "import { d } from './d.js'"],
    ['ring/f.ts', "import { g } from './g.js'"],
    ['ring/g.ts', 'export const g = 1']
  ])
  const graph = importGraph(cyclic)
  t.same(graph.get('node/b.ts'), ['peer/index.ts'], 'a folder import resolves to its index.ts')
  t.same(importCycles(graph), [['node/a.ts', 'node/b.ts', 'peer/index.ts'], ['peer/d.ts', 'peer/e.ts']], 'a cycle through a type import and an index, and one through a dynamic import')
  t.same(importCycles(new Map([['x.ts', ['x.ts']]])), [['x.ts']], 'a file importing itself')
  t.same(layerViolations(graph), ['peer/index.ts → node/a.ts'], 'the upward import, and only it')
  t.same(layerViolations(new Map([['ring/a.ts', ['versioning/b.ts']], ['versioning/b.ts', []]])), ['ring/a.ts → versioning/b.ts'], 'a sideways import between two pure modules')
  t.same(importCycles(importGraph(new Map([...cyclic].filter(([f]) => f.startsWith('ring/'))))), [], 'no cycle where there is none')
})

t.test('every folder of lib has a layer', async (t) => {
  for (const e of readdirSync(LIB, { withFileTypes: true })) {
    if (e.isDirectory()) t.ok(layerOf(e.name) >= 0, `lib/${e.name}`)
  }
})

t.test('lib has no import cycle', async (t) => {
  const graph = importGraph(libSources())
  t.ok(graph.size > 100, `${graph.size} files`)
  t.same(importCycles(graph), [])
})

t.test('layers point one way', async (t) => {
  t.same(layerViolations(importGraph(libSources())), [])
})

/**
 * A file that uses Buffer as a value imports it from node:buffer: in Node 20
 * the global `Buffer` is an accessor on globalThis, so each `Buffer.from`,
 * `Buffer.allocUnsafe` or `instanceof Buffer` through it calls a getter first
 * (~195 instructions a call by callgrind, session 14; docs/performance.md).
 */
const usesGlobalBuffer = (text: string): boolean => {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/'(?:[^'\\\n]|\\.)*'/g, "''")
  return /\bBuffer\s*[.[]|\binstanceof\s+Buffer\b|\bnew\s+Buffer\b/.test(code) &&
    !/^import\s*\{[^}]*\bBuffer\b[^}]*\}\s*from\s*'node:buffer'/m.test(text)
}

t.test('Buffer is imported where it is used as a value', async (t) => {
  t.ok(usesGlobalBuffer("const b = Buffer.from('x') // Buffer"), 'a fixture using the global is caught')
  t.ok(usesGlobalBuffer("import type { Buffer } from 'node:buffer'\nif (x instanceof Buffer) f()"), 'a type-only import is not enough')
  t.notOk(usesGlobalBuffer("import { Buffer } from 'node:buffer'\nconst b = Buffer.alloc(1)"), 'an imported Buffer passes')
  t.notOk(usesGlobalBuffer("const s = 'Buffer.from'\nlet b: Buffer"), 'a string and a type are not uses')
  const offenders = [...libSources()].filter(([, text]) => usesGlobalBuffer(text)).map(([file]) => file)
  t.same(offenders, [])
})
