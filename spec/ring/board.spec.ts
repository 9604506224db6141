// The working state of a claim step keeps its conflict bookkeeping exact
// under any sequence of changes.
import t from 'tap'
import fc from 'fast-check'
import { Board, NOBODY, NearbyCounts } from '../../lib/ring/board.js'

function bruteConflicts (owner: Int32Array, w: number, p: number, node: number): number {
  const q = owner.length
  let found = 0
  for (let r = 0; r < q; r++) {
    if (r === p || owner[r] !== node || node === NOBODY) continue
    const d = Math.abs(r - p)
    if (Math.min(d, q - d) < w) found++
  }
  return found
}

const boardArb = fc.record({
  q: fc.constantFrom(1, 2, 3, 5, 8, 16, 31),
  w: fc.integer({ min: 1, max: 9 }),
  nodes: fc.integer({ min: 1, max: 5 }),
  seed: fc.array(fc.integer({ min: -1, max: 4 }), { minLength: 31, maxLength: 31 }),
  ops: fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat(), fc.integer({ min: -1, max: 4 })), { maxLength: 30 })
})

t.test('conflicts, counts and pairs stay exact through set and swap', async (t) => {
  fc.assert(fc.property(boardArb, ({ q, w, nodes, seed, ops }) => {
    const owner = Int32Array.from(seed.slice(0, q), (x) => (x < 0 ? NOBODY : x % nodes))
    const board = new Board(owner, owner.slice(), w, nodes)
    const check = (): void => {
      let pairs = 0
      for (let p = 0; p < q; p++) {
        const c = bruteConflicts(board.owner, Math.min(w, q), p, board.owner[p])
        if (board.conflict[p] !== c) throw new Error(`conflict[${p}] = ${board.conflict[p]}, expected ${c}`)
        if (board.conflictsAt(p, board.owner[p]) !== c) throw new Error('conflictsAt disagrees')
        pairs += c
      }
      if (board.conflictPairs * 2 !== pairs) throw new Error('conflictPairs off')
      for (let x = 0; x < nodes; x++) {
        if (board.count[x] !== board.owner.filter((o) => o === x).length) throw new Error('count off')
        const near = new NearbyCounts(board).of(x)
        for (let p = 0; p < q; p++) {
          if (near[p] !== bruteConflicts(board.owner, Math.min(w, q), p, x)) throw new Error('NearbyCounts off')
        }
      }
    }
    check()
    for (const [isSwap, i0, j0, node] of ops) {
      const i = i0 % q
      const j = j0 % q
      if (isSwap) {
        const before = board.conflictPairs
        const movedBefore = board.owner.filter((o, p) => o !== board.start[p]).length
        const delta = board.swapConflictDelta(i, j)
        const cost = board.swapMoveCost(i, j)
        board.swap(i, j)
        if (board.conflictPairs - before !== delta) throw new Error('swapConflictDelta off')
        const movedAfter = board.owner.filter((o, p) => o !== board.start[p]).length
        if (movedAfter - movedBefore !== cost) throw new Error('swapMoveCost off')
      } else {
        const target = node < 0 ? NOBODY : node % nodes
        const cost = board.moveCost(i, target)
        const movedBefore = board.owner.filter((o, p) => o !== board.start[p]).length
        board.set(i, target)
        const movedAfter = board.owner.filter((o, p) => o !== board.start[p]).length
        if (movedAfter - movedBefore !== cost) throw new Error('moveCost off')
      }
      check()
    }
    return true
  }), { numRuns: 300 })
})

t.test('near', async (t) => {
  const owner = Int32Array.from([0, 1, 2, 0, 1, 2, 3, 3])
  const board = new Board(owner, owner.slice(), 3, 5)
  t.ok(board.near(0, 2))
  t.ok(board.near(0, 6), 'cyclic: 0 and 6 are 2 apart on a ring of 8')
  t.notOk(board.near(0, 3))
  t.notOk(board.near(4, 4), 'a partition is not near itself')
  t.throws(() => new Board(new Int32Array(0), new Int32Array(0), 3, 1), { code: 'DYNAKV_RING_INVARIANT' })
})
