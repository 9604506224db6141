// The ring is pure (DESIGN.md section 8): no sockets, files, storage,
// timers, clocks or randomness; node:crypto only for MD5.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../lib/ring')
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b|\bqueueMicrotask\b/, 'timers'],
  [/\bDate\.now\b|\bnew Date\b|\bperformance\.now\b|\bprocess\.hrtime\b/, 'clocks'],
  [/\bMath\.random\b|\bgetRandomValues\b|\brandomBytes\b|\brandomUUID\b|\brandomInt\b/, 'randomness'],
  [/\bprocess\./, 'process state'],
  [/\brequire\(/, 'CommonJS require'],
  [/\bwhile\s*\(\s*true\s*\)|\bfor\s*\(\s*;\s*;\s*\)/, 'unbounded loops']
]

t.test('lib/ring imports only its own modules and node:crypto, and touches no I/O, time or randomness', async (t) => {
  t.ok(files.length >= 8, `${files.length} files checked`)
  for (const file of files) {
    const source = readFileSync(join(dir, file), 'utf8')
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
    for (const [, specifier] of code.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/g)) {
      t.match(specifier, /^(?:\.\/[a-z0-9-]+\.js|node:crypto)$/, `${file} imports ${specifier}`)
    }
    t.notMatch(code, /\bimport\s*\(/, `${file}: no dynamic import`)
    for (const [pattern, what] of FORBIDDEN) t.notMatch(code, pattern, `${file}: no ${what}`)
  }
})
