// A key's whole state as RENAME and COPY move it: read from one key, written
// to another, each through the normal command path, so each side runs on its
// own key's coordinator (forwarded if need be). Today a key is a string; TTLs
// and collection types extend KeySnapshot and these two functions, nothing else.
import type { Reply } from '../reply.js'
import type { Call } from './types.js'
import { CommandError } from './util.js'

export interface KeySnapshot {
  value: Buffer
}

const GET = Buffer.from('GET')
const SET = Buffer.from('SET')
const NX = Buffer.from('NX')

function checked (r: Reply): Reply {
  if (r.type === 'error') throw new CommandError(r.value)
  return r
}

/** The key's state, or null when it has no value. */
export async function readSnapshot (c: Call, key: Buffer): Promise<KeySnapshot | null> {
  const r = checked(await c.exec([GET, key]))
  if (r.type !== 'bulk') return null
  return { value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value }
}

/** Writes a snapshot at key, replacing what is there or ('nx') only where there is nothing. True when written. */
export async function writeSnapshot (c: Call, key: Buffer, snap: KeySnapshot, mode: 'replace' | 'nx'): Promise<boolean> {
  const r = checked(await c.exec(mode === 'nx' ? [SET, key, snap.value, NX] : [SET, key, snap.value]))
  return r.type !== 'null'
}
