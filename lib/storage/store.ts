// The storage seam. Exactly two implementations sit behind it, both on
// abstract-level: classic-level (LevelDB on disk) and memory-level (tests and
// the simulator). Both pass spec/storage/store.spec.ts, one compliance suite.
//
// Key spaces are abstract-level sublevels:
//   data   md5(key) ‖ key            → encoded sibling set (a partition is one key range)
//   hints  target ‖ md5(key) ‖ key   → encoded sibling set meant for `target`
//   meta   utf8 name                 → node identity, membership, counter lease
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import type { AbstractLevel, AbstractSublevel, AbstractSnapshot } from 'abstract-level'

export type Space = 'data' | 'hints' | 'meta'
export const SPACES: readonly Space[] = ['data', 'hints', 'meta']

/** A write: value null deletes the key. */
export interface WriteOp {
  space: Space
  key: Buffer
  value: Buffer | null
}

export interface RangeOptions {
  gte?: Buffer
  lt?: Buffer
  /** Entries returned at most; a page. Required: every scan is bounded. */
  limit: number
  snapshot?: Snapshot
}

export interface Snapshot {
  close (): Promise<void>
}

export interface Store {
  readonly kind: 'classic-level' | 'memory-level'
  open (): Promise<void>
  close (): Promise<void>
  get (space: Space, key: Buffer): Promise<Buffer | undefined>
  getMany (space: Space, keys: Buffer[]): Promise<Array<Buffer | undefined>>
  /** Applies all ops atomically; with sync, durable (fsynced) when it resolves. */
  write (ops: readonly WriteOp[], sync: boolean): Promise<void>
  /** One page of a key range, in key order. */
  range (space: Space, options: RangeOptions): Promise<Array<[Buffer, Buffer]>>
  /** A point-in-time view for consistent paged scans; taken synchronously. */
  snapshot (): Snapshot
  /** Deletes every key of a space (FLUSHALL). */
  clear (space: Space): Promise<void>
}

export class StoreError extends Error {
  constructor (readonly code: 'DYNAKV_STORE_LOCKED' | 'DYNAKV_STORE_CORRUPT' | 'DYNAKV_STORE_OPEN', message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

type Db = AbstractLevel<string | Buffer | Uint8Array, Buffer, Buffer>
type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, Buffer, Buffer>

const FORMAT = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const

class LevelStore implements Store {
  private readonly subs: Record<Space, Sub>

  constructor (readonly kind: Store['kind'], private readonly db: Db, private readonly location: string) {
    this.subs = {
      data: db.sublevel<Buffer, Buffer>('d', FORMAT),
      hints: db.sublevel<Buffer, Buffer>('h', FORMAT),
      meta: db.sublevel<Buffer, Buffer>('m', FORMAT)
    }
  }

  async open (): Promise<void> {
    try {
      await this.db.open({ passive: false })
    } catch (err) {
      throw translateOpenError(err, this.location)
    }
  }

  async close (): Promise<void> {
    await this.db.close()
  }

  async get (space: Space, key: Buffer): Promise<Buffer | undefined> {
    return await this.subs[space].get(key)
  }

  async getMany (space: Space, keys: Buffer[]): Promise<Array<Buffer | undefined>> {
    return await this.subs[space].getMany(keys)
  }

  async write (ops: readonly WriteOp[], sync: boolean): Promise<void> {
    // A chained batch: measured 3-8x faster than db.batch(array) on classic-level 3.
    const batch = this.db.batch()
    for (const op of ops) {
      const sublevel = this.subs[op.space]
      if (op.value === null) batch.del(op.key, { sublevel })
      else batch.put(op.key, op.value, { sublevel })
    }
    await batch.write({ sync })
  }

  async range (space: Space, options: RangeOptions): Promise<Array<[Buffer, Buffer]>> {
    const it = this.subs[space].iterator({
      gte: options.gte,
      lt: options.lt,
      limit: options.limit,
      snapshot: options.snapshot as AbstractSnapshot | undefined
    })
    try {
      return await it.nextv(options.limit)
    } finally {
      await it.close()
    }
  }

  snapshot (): Snapshot {
    return this.db.snapshot()
  }

  async clear (space: Space): Promise<void> {
    await this.subs[space].clear()
  }
}

function translateOpenError (err: unknown, location: string): Error {
  const cause = (err as { cause?: { code?: string } }).cause
  const code = cause?.code ?? (err as { code?: string }).code
  const detail = (cause as Error | undefined)?.message ?? (err as Error).message
  if (code === 'LEVEL_LOCKED') {
    return new StoreError('DYNAKV_STORE_LOCKED', `data directory ${location} is locked: another dynakv process is using it`, { cause: err })
  }
  if (code === 'LEVEL_CORRUPTION') {
    return new StoreError('DYNAKV_STORE_CORRUPT', `data directory ${location} is corrupt: ${detail}`, { cause: err })
  }
  return new StoreError('DYNAKV_STORE_OPEN', `cannot open data directory ${location}: ${detail}`, { cause: err })
}

export function classicLevelStore (dir: string): Store {
  const db = new ClassicLevel<Buffer, Buffer>(dir, FORMAT) as unknown as Db
  return new LevelStore('classic-level', db, dir)
}

export function memoryLevelStore (): Store {
  const db = new MemoryLevel<Buffer, Buffer>(FORMAT) as unknown as Db
  return new LevelStore('memory-level', db, 'memory')
}
