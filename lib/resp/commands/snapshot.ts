// A key's whole state as RENAME and COPY move it: read from one key, written
// to another, each through the normal command path, so each side runs on its
// own key's coordinator (forwarded if need be). A string moves as SET with its
// expiry; a collection as its elements, rewritten at the destination (what it
// held deleted first), then its expiry.
import { elementState, type Marker } from '../../versioning/index.js'
import type { Reply } from '../reply.js'
import type { Call } from './types.js'
import { CommandError } from './util.js'
import { readAll, storeCollection } from './collections.js'
import { typeOf } from './keys.js'
import { Buffer } from 'node:buffer'

export type KeySnapshot =
  | { type: 'string', value: Buffer, expireAt: number }
  | { type: Marker, entries: Array<[Buffer, Buffer]>, expireAt: number }

const SET = Buffer.from('SET')
const NX = Buffer.from('NX')
const PXAT = Buffer.from('PXAT')
const PEXPIREAT = Buffer.from('PEXPIREAT')

function checked (r: Reply): Reply {
  if (r.type === 'error') throw new CommandError(r.value)
  return r
}

/** The key's state, or null when it does not exist. */
export async function readSnapshot (c: Call, key: Buffer): Promise<KeySnapshot | null> {
  const ref = c.node.ref(key)
  const { state } = await c.node.records.state(ref)
  if (state.type === 'none') return null
  if (state.type === 'string') return { type: 'string', value: state.value as Buffer, expireAt: state.expireAt }
  const items = await readAll(c, ref, state.type)
  if (items === null || items.length === 0) return null
  return { type: state.type, entries: items.map(e => [e.element, elementState(e.obj).value ?? Buffer.alloc(0)]), expireAt: state.expireAt }
}

/** Writes a snapshot at key, replacing what is there or ('nx') only where there is nothing. True when written. */
export async function writeSnapshot (c: Call, key: Buffer, snap: KeySnapshot, mode: 'replace' | 'nx'): Promise<boolean> {
  if (snap.type === 'string') {
    const args = [SET, key, snap.value]
    if (mode === 'nx') args.push(NX)
    if (snap.expireAt > 0) args.push(PXAT, Buffer.from(String(snap.expireAt)))
    return checked(await c.exec(args)).type !== 'null'
  }
  // NX checked first, then written: not atomic (docs/semantics.md).
  if (mode === 'nx' && await typeOf(c, key) !== 'none') return false
  await storeCollection(c, c.node.ref(key), snap.type, snap.entries)
  if (snap.expireAt > 0) checked(await c.exec([PEXPIREAT, key, Buffer.from(String(snap.expireAt))]))
  return true
}
