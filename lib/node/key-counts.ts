// The key counts (DBSIZE, INFO keyspace) kept across a clean stop, so a start
// does not read every key to count them.
//
//   clean stop:  writes flushed ─► counts saved (meta 'key-counts', fsynced) ─► store closed
//   start:       saved counts?  ─► yes: taken, and the record deleted (fsynced) before any write
//                               └► no (first start, a crash, kill -9): every key record scanned
//
// The record is deleted as soon as it is read, so it exists on disk only while
// the node is stopped: a node that crashes after it started finds none and
// scans. A record it cannot read is ignored (scanned instead), never fatal.
import type { Store } from '../storage/store.js'
import { Buffer } from 'node:buffer'

export const KEY_COUNTS_KEY = Buffer.from('key-counts')
const FORMAT = 1

export interface SavedCounts {
  liveKeys: number
  volatileKeys: number
}

export function encodeCounts (c: SavedCounts): Buffer {
  return Buffer.from(JSON.stringify({ format: FORMAT, liveKeys: c.liveKeys, volatileKeys: c.volatileKeys }))
}

/** The counts a record holds, or null if it is not a record of this format. */
export function decodeCounts (bytes: Buffer): SavedCounts | null {
  let v: unknown
  try {
    v = JSON.parse(bytes.toString('utf8'))
  } catch {
    return null
  }
  const o = v as { format?: unknown, liveKeys?: unknown, volatileKeys?: unknown } | null
  if (o === null || typeof o !== 'object' || o.format !== FORMAT) return null
  const ok = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0
  if (!ok(o.liveKeys) || !ok(o.volatileKeys) || o.volatileKeys > o.liveKeys) return null
  return { liveKeys: o.liveKeys, volatileKeys: o.volatileKeys }
}

/** The counts saved by the last clean stop, removed from the store (durably) so that a crash from now on scans. */
export async function takeSavedCounts (store: Store): Promise<SavedCounts | null> {
  const bytes = await store.get('meta', KEY_COUNTS_KEY)
  if (bytes === undefined) return null
  await store.write([{ space: 'meta', key: KEY_COUNTS_KEY, value: null }], true)
  return decodeCounts(bytes)
}

/** Saves the counts on a clean stop, once every write is durable and nothing more will be written. */
export async function saveCounts (store: Store, counts: SavedCounts): Promise<void> {
  await store.write([{ space: 'meta', key: KEY_COUNTS_KEY, value: encodeCounts(counts) }], true)
}
