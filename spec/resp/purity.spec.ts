// The protocol modules are pure: no sockets, files, timers, clocks or
// randomness; they import each other, lib/util, redis-parser and node:buffer.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../lib/resp')
const FILES = ['parser.ts', 'inline.ts', 'reply.ts', 'reply-binary.ts', 'redis-parser.d.ts']
const ALLOWED = /^(\.\/(parser|inline|reply|reply-binary)\.js|\.\.\/util\/bytes\.js|redis-parser|node:buffer)$/

/** The code without its comments (they may name what the code must not use). */
function code (file: string): string {
  return readFileSync(join(dir, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1')
}

for (const file of FILES) {
  t.test(file, async t => {
    const src = code(file)
    for (const [, specifier] of src.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/g)) {
      t.match(specifier, ALLOWED, `imports ${specifier}`)
    }
    t.notMatch(src, /\bimport\s*\(|\brequire\s*\(/, 'no dynamic import')
    t.notMatch(src, /\b(setTimeout|setInterval|setImmediate|queueMicrotask|Date\.now|new Date|Math\.random|randomBytes|process\.)\b/, 'no timers, clock, randomness or process state')
  })
}
