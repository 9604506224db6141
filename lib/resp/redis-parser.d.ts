// The part of redis-parser 3 (CommonJS, no bundled types) that dynakv uses.
// Only RequestParser imports it; see parser.ts for what it may be fed.
declare module 'redis-parser' {
  namespace RedisParser {
    interface Options {
      returnReply: (reply: unknown) => void
      returnError: (err: Error) => void
      returnFatalError?: (err: Error) => void
      returnBuffers?: boolean
      stringNumbers?: boolean
    }
  }

  class RedisParser {
    constructor (options: RedisParser.Options)
    execute (buffer: Buffer): void
    reset (): void
  }

  export = RedisParser
}
