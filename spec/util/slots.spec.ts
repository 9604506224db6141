// lib/util/slots: values by slot, freed slots reused, the array never past the most held at once.
import t from 'tap'
import { SlotTable } from '../../lib/util/slots.js'

t.test('add takes freed slots first; at, delete, all and clear see what is held', async t => {
  const table = new SlotTable<string>()
  t.same([table.add('a'), table.add('b'), table.add('c')], [0, 1, 2])
  table.delete(1)
  t.equal(table.at(1), null, 'a freed slot holds nothing')
  table.delete(1)
  t.equal(table.size, 2, 'freeing a free slot changes nothing')
  t.equal(table.add('d'), 1, 'the freed slot is taken again')
  t.equal(table.extent, 3, 'no new slot while one was free')
  t.same(table.all(), ['a', 'd', 'c'])
  t.equal(table.at(7), null)
  t.equal(table.at(-1), null)
  t.same(table.clear(), ['a', 'd', 'c'])
  t.equal(table.size, 0)
  t.same(table.all(), [])
  t.same([table.add('e'), table.add('f'), table.add('g'), table.add('h')].sort(), [0, 1, 2, 3], 'cleared slots reused before a new one')
})

t.test('random adds and deletes: the table agrees with a Map, and its extent is the most held at once', async t => {
  const table = new SlotTable<number>()
  const model = new Map<number, number>()
  let seed = 7
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  let most = 0
  const reused: number[] = []
  for (let i = 0; i < 5000; i++) {
    if (model.size > 0 && rnd() < 0.5) {
      const slots = [...model.keys()]
      const slot = slots[Math.floor(rnd() * slots.length)]
      table.delete(slot)
      model.delete(slot)
    } else {
      const slot = table.add(i)
      if (model.has(slot)) reused.push(slot)
      model.set(slot, i)
    }
    most = Math.max(most, model.size)
  }
  t.same(reused, [], 'a slot held is never handed out')
  t.equal(table.size, model.size)
  t.equal(table.extent, most)
  for (const [slot, v] of model) if (table.at(slot) !== v) t.fail(`slot ${slot}`)
  t.same(table.all().sort((a, b) => a - b), [...model.values()].sort((a, b) => a - b))
})
