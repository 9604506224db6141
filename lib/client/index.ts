// Context-aware helpers for ioredis. Plain GET/SET work with any client; these
// add Dynamo's read-with-context / write-with-context cycle:
//
//   const kv = dynamo(new Redis(6379))
//   const { values, context } = await kv.getWithContext('cart')
//   await kv.put('cart', context, merge(values))
//
// ioredis is a peer dependency: pass your own instance.
import type { Redis, RedisKey } from 'ioredis'
import { Buffer } from 'node:buffer'

type Value = string | Buffer

/** The Dynamo commands, as ioredis methods (registered by registerDynamoCommands). */
export interface DynamoCommands {
  getctx (key: RedisKey, ...options: Array<string | number>): Promise<[string, string[]]>
  getctxBuffer (key: RedisKey, ...options: Array<string | number>): Promise<[Buffer, Buffer[]]>
  put (key: RedisKey, context: string, value: Value, ...options: Array<string | number>): Promise<string>
  delctx (key: RedisKey, context: string, ...options: Array<string | number>): Promise<string>
}

export type DynamoRedis = Redis & DynamoCommands

/** Adds GETCTX, PUT and DELCTX (and their *Buffer forms) to an ioredis instance. */
export function registerDynamoCommands (redis: Redis): DynamoRedis {
  for (const name of ['getctx', 'put', 'delctx']) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.addBuiltinCommand(name)
  }
  return redis as DynamoRedis
}

export interface ReadOptions {
  /** Read quorum for this request (default: the node's --r). */
  r?: number
}

export interface WriteOptions {
  /** Write quorum for this request (default: the node's --w). */
  w?: number
  /** Primaries that must acknowledge (0: sloppy quorum allowed). */
  pw?: number
}

export interface Versioned<V> {
  /** Every concurrent value (siblings); empty when the key has none. */
  values: V[]
  /** Opaque; pass it back to put/del to supersede exactly these values. */
  context: string
}

export type Encoding = 'utf8' | 'buffer'

function readArgs (o: ReadOptions): Array<string | number> {
  return o.r === undefined ? [] : ['R', o.r]
}

function writeArgs (o: WriteOptions): Array<string | number> {
  const out: Array<string | number> = []
  if (o.w !== undefined) out.push('W', o.w)
  if (o.pw !== undefined) out.push('PW', o.pw)
  return out
}

/** Thrown by update() when the write failed for want of replicas (-NOQUORUM). */
export function isNoQuorum (e: unknown): boolean {
  return e instanceof Error && e.message.startsWith('NOQUORUM')
}

export class DynamoClient {
  readonly redis: DynamoRedis

  constructor (redis: Redis) {
    this.redis = registerDynamoCommands(redis)
  }

  /** Every concurrent value of a key and the context that covers them. */
  async getWithContext (key: RedisKey, options?: ReadOptions & { encoding?: 'utf8' }): Promise<Versioned<string>>
  async getWithContext (key: RedisKey, options: ReadOptions & { encoding: 'buffer' }): Promise<Versioned<Buffer>>
  async getWithContext (key: RedisKey, options: ReadOptions & { encoding?: Encoding } = {}): Promise<Versioned<Value>> {
    if (options.encoding === 'buffer') {
      const [context, values] = await this.redis.getctxBuffer(key, ...readArgs(options))
      return { context: context.toString('latin1'), values }
    }
    const [context, values] = await this.redis.getctx(key, ...readArgs(options))
    return { context, values }
  }

  /** Writes a value superseding exactly what `context` covers; returns the new context. */
  async put (key: RedisKey, context: string, value: Value, options: WriteOptions = {}): Promise<string> {
    return await this.redis.put(key, context, value, ...writeArgs(options))
  }

  /** Deletes what `context` covers (a tombstone); returns the new context. */
  async del (key: RedisKey, context: string, options: WriteOptions = {}): Promise<string> {
    return await this.redis.delctx(key, context, ...writeArgs(options))
  }

  /**
   * Read, let `resolve` merge the siblings into one value (or null to delete),
   * write it back with the context read. Returns what was written and the new
   * context. A -NOQUORUM error propagates: retrying is the caller's choice.
   */
  async update (key: RedisKey, resolve: (values: string[]) => Value | null, options?: ReadOptions & WriteOptions & { encoding?: 'utf8' }): Promise<{ value: Value | null, context: string }>
  async update (key: RedisKey, resolve: (values: Buffer[]) => Value | null, options: ReadOptions & WriteOptions & { encoding: 'buffer' }): Promise<{ value: Value | null, context: string }>
  async update (key: RedisKey, resolve: (values: never[]) => Value | null, options: ReadOptions & WriteOptions & { encoding?: Encoding } = {}): Promise<{ value: Value | null, context: string }> {
    const current = options.encoding === 'buffer'
      ? await this.getWithContext(key, { r: options.r, encoding: 'buffer' })
      : await this.getWithContext(key, { r: options.r })
    const value = (resolve as (v: Value[]) => Value | null)(current.values)
    const context = value === null
      ? await this.del(key, current.context, options)
      : await this.put(key, current.context, value, options)
    return { value, context }
  }
}

/** `dynamo(redis)`: the helpers bound to an ioredis instance. */
export function dynamo (redis: Redis): DynamoClient {
  return new DynamoClient(redis)
}
