// The code cites the project's docs by anchor (`docs/design.md#ring-and-partitions`):
// every such citation, in the code, the specs and the docs themselves, names a
// heading that exists, so renaming a heading without its citations fails here.
import t from 'tap'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const DOCS = `${ROOT}docs/`
const SEARCHED = ['lib', 'spec', 'bench', 'docs', 'jepsen', 'deploy']

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
export function anchorOf (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

function anchors (markdown: string): Set<string> {
  const out = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    const m = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line)
    if (m !== null) out.add(anchorOf(m[1]))
  }
  return out
}

/** Citations `x.md#anchor` in text: [file, anchor] pairs (file as written, without a folder). */
export function citations (text: string): Array<[string, string]> {
  return [...text.matchAll(/([a-z0-9-]+\.md)#([a-z0-9_-]+)/g)].map(m => [m[1], m[2]])
}

function walk (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    if (e.name === 'node_modules' || e.name.startsWith('.')) return []
    const path = `${dir}/${e.name}`
    return e.isDirectory() ? walk(path) : /\.(ts|md|ya?ml|sh|py|json)$/.test(e.name) ? [path] : []
  })
}

t.test('the anchor rule and the citation finder', async (t) => {
  t.equal(anchorOf('Ring and claim (lib/ring)'), 'ring-and-claim-libring')
  t.equal(anchorOf('Quorums and the coordinator'), 'quorums-and-the-coordinator')
  t.same(citations('see docs/design.md#hinted-handoff, and types.md#expiry.'), [['design.md', 'hinted-handoff'], ['types.md', 'expiry']])
  t.same([...anchors('# A\n```\n# not a heading\n```\n## B c')].sort(), ['a', 'b-c'])
})

t.test('every docs/*.md#anchor citation names a heading', async (t) => {
  const byDoc = new Map(readdirSync(DOCS).filter(f => f.endsWith('.md')).map(f => [f, anchors(readFileSync(DOCS + f, 'utf8'))]))
  t.ok(byDoc.get('design.md')?.has('architecture'), 'docs/design.md has its sections')
  let n = 0
  for (const file of [...SEARCHED.flatMap(d => walk(ROOT + d)), `${ROOT}README.md`]) {
    for (const [doc, anchor] of citations(readFileSync(file, 'utf8'))) {
      const known = byDoc.get(doc)
      if (known === undefined) continue // another project's page (a link to a GitHub README, say)
      n++
      t.ok(known.has(anchor), `${file.slice(ROOT.length)}: ${doc}#${anchor}`)
    }
  }
  t.ok(n >= 30, `${n} citations checked`)
})

t.test('no citation of the brief the repository does not contain', async (t) => {
  for (const file of [...SEARCHED.flatMap(d => walk(ROOT + d)), `${ROOT}README.md`]) {
    t.notMatch(readFileSync(file, 'utf8'), /\bDESIGN(\.md)? ?§/, file.slice(ROOT.length))
  }
})
