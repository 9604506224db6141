// Hashes: fields judged like observed-remove set elements (checkers/orset.ts),
// and every field a read shows must hold the value its HSET wrote (values
// are unique in the run; anything else is unexpected).
import { pairsOf, type Op } from '../history.js'
import { checkObservedRemoveWith } from './orset.js'
import { result, sample, type CheckResult } from './types.js'

export function checkHash (history: readonly Op[], workload = 'hash'): CheckResult {
  const fields = checkObservedRemoveWith(history, workload, {
    checker: 'hash',
    noun: 'fields',
    addF: 'hset',
    removeF: 'hdel',
    element: p => (p.invoke.value as { field: string }).field,
    removed: p => (p.complete?.value as { removed: number }).removed > 0,
    present: (v, field) => field in (v as Record<string, string>),
    members: v => Object.keys(v as Record<string, string>)
  })
  const written = new Map<string, string>()
  const wrongValues: string[] = []
  const ps = pairsOf(history, workload)
  for (const p of ps) {
    if (p.invoke.f === 'hset') {
      const { field, value } = p.invoke.value as { field: string, value: string }
      written.set(`${p.invoke.key as string} ${field}`, value)
    }
  }
  for (const p of ps) {
    if (p.invoke.f !== 'read' || p.complete?.type !== 'ok') continue
    for (const [field, value] of Object.entries(p.complete.value as Record<string, string>)) {
      const want = written.get(`${p.invoke.key as string} ${field}`)
      if (want !== undefined && want !== value) wrongValues.push(`${p.invoke.key as string} ${field}=${value} (written ${want})`)
    }
  }
  const valid = fields.valid === 'unknown' ? 'unknown' : fields.valid && wrongValues.length === 0
  return result('hash', workload, valid, `${fields.summary}, wrong values ${wrongValues.length}`, { ...fields.details, wrongValues: sample(wrongValues) })
}
