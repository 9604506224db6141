// Command sequences whose replies must equal redis-server's byte for byte,
// run against a real dynakv process (spec/server/surface.spec.ts) and through
// the command layer in one process (spec/sim/surface.spec.ts). Each starts
// from an empty database, on one connection.

export const SAME_AS_REDIS: Record<string, string[][]> = {
  'COMMAND GETKEYS, GETKEYSANDFLAGS, and INFO of single commands': [
    ['COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2'],
    ['COMMAND', 'GETKEYS', 'GET', 'a'],
    ['COMMAND', 'GETKEYS', 'RENAME', 'a', 'b'],
    ['COMMAND', 'GETKEYS', 'BITOP', 'AND', 'd', 's1', 's2'],
    ['COMMAND', 'GETKEYS', 'LCS', 'a', 'b', 'LEN'],
    ['COMMAND', 'GETKEYS', 'OBJECT', 'ENCODING', 'k'],
    ['COMMAND', 'GETKEYS', 'MEMORY', 'USAGE', 'k', 'SAMPLES', '5'],
    ['COMMAND', 'GETKEYS', 'EVAL', 's', '2', 'a', 'b', 'c'],
    ['COMMAND', 'GETKEYS', 'EVAL', 's', '0'],
    ['COMMAND', 'GETKEYS', 'EVAL', 's', '5', 'a'],
    ['COMMAND', 'GETKEYS', 'WATCH', 'a', 'b'],
    ['COMMAND', 'GETKEYS', 'GET', 'a', 'b'],
    ['COMMAND', 'GETKEYS', 'NOSUCH', 'a'],
    ['COMMAND', 'GETKEYS', 'OBJECT', 'FOO', 'a'],
    ['COMMAND', 'GETKEYS', 'CONFIG', 'GET', 'x'],
    ['COMMAND', 'GETKEYS', 'PING'],
    ['COMMAND', 'GETKEYS'],
    ['COMMAND', 'GETKEYSANDFLAGS', 'SET', 'a', 'b'],
    ['COMMAND', 'GETKEYSANDFLAGS', 'SET', 'a', 'b', 'GET'],
    ['COMMAND', 'GETKEYSANDFLAGS', 'RENAME', 'a', 'b'],
    ['COMMAND', 'GETKEYSANDFLAGS', 'COPY', 'a', 'b', 'REPLACE'],
    ['COMMAND', 'INFO', 'get', 'mset', 'rename', 'bitop', 'lcs', 'watch', 'exec', 'memory|usage', 'nosuch']
  ],
  'SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP': [
    ['SET', 'b', 'abc'], ['SETBIT', 'b', '3', '1'], ['GET', 'b'], ['GETBIT', 'b', '3'], ['GETBIT', 'b', '100'], ['SETBIT', 'b', '7', '0'],
    ['SETBIT', 'b', '-1', '1'], ['SETBIT', 'b', 'x', '1'], ['SETBIT', 'b', '4294967296', '1'], ['SETBIT', 'b', '1', '2'], ['GETBIT', 'b', '-1'],
    ['SETBIT', 'n', '10', '1'], ['GET', 'n'], ['SETBIT', 'n', '10', '1'], ['STRLEN', 'n'],
    ['BITCOUNT', 'b'], ['BITCOUNT', 'b', '0', '0'], ['BITCOUNT', 'b', '1', '-1'], ['BITCOUNT', 'b', '-2', '-1', 'BIT'], ['BITCOUNT', 'b', '5', '30', 'BIT'],
    ['BITCOUNT', 'b', '-100', '100', 'BYTE'], ['BITCOUNT', 'b', '0'], ['BITCOUNT', 'b', '0', '1', 'BOGUS'], ['BITCOUNT', 'b', 'a', '1'], ['BITCOUNT', 'none', '0', '1'],
    ['BITCOUNT', 'b', '-1', '-2'], ['BITCOUNT', 'none'],
    ['BITPOS', 'b', '1'], ['BITPOS', 'b', '0'], ['BITPOS', 'b', '1', '1'], ['BITPOS', 'b', '0', '1', '2'], ['BITPOS', 'b', '1', '2', '20', 'BIT'],
    ['BITPOS', 'b', '0', '7', '15', 'BIT'], ['BITPOS', 'b', '2'], ['BITPOS', 'b', 'x'], ['BITPOS', 'none', '0'], ['BITPOS', 'none', '1'], ['BITPOS', 'none', '1', 'x'],
    ['SET', 'ones', '\xff\xff'], ['BITPOS', 'ones', '0'], ['BITPOS', 'ones', '0', '0', '-1'], ['BITPOS', 'ones', '0', '0', '-1', 'BIT'], ['BITPOS', 'ones', '1', '-1'],
    ['SET', 'zeros', '\x00\x00\x00'], ['BITPOS', 'zeros', '1'], ['BITPOS', 'zeros', '0', '1'], ['BITPOS', 'zeros', '1', '0', '-1', 'BIT'],
    ['BITPOS', 'b', '1', '100'], ['BITPOS', 'b', '1', 'x'], ['BITPOS', 'b', '1', '0', '1', 'BOGUS'], ['BITPOS', 'b', '1', '0', '1', 'BIT', 'x'],
    ['BITOP', 'AND', 'd', 'b', 'n'], ['GET', 'd'], ['BITOP', 'OR', 'd', 'b', 'n', 'none'], ['GET', 'd'], ['BITOP', 'XOR', 'd', 'b', 'n'], ['GET', 'd'],
    ['BITOP', 'NOT', 'd', 'b'], ['GET', 'd'], ['BITOP', 'NOT', 'd', 'b', 'n'], ['BITOP', 'FOO', 'd', 'b'], ['BITOP', 'and', 'd', 'none', 'none2'], ['EXISTS', 'd']
  ],
  'SUBSTR and LCS': [
    ['SET', 's', 'This is a string'], ['SUBSTR', 's', '0', '3'], ['SUBSTR', 's', '-3', '-1'], ['SUBSTR', 's', '5', '3'], ['SUBSTR', 'none', '0', '-1'], ['SUBSTR', 's', 'a', '1'],
    ['SET', 'k1', 'ohmytext'], ['SET', 'k2', 'mynewtext'], ['LCS', 'k1', 'k2'], ['LCS', 'k1', 'k2', 'LEN'], ['LCS', 'k1', 'k2', 'IDX'],
    ['LCS', 'k1', 'k2', 'IDX', 'MINMATCHLEN', '4'], ['LCS', 'k1', 'k2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'], ['LCS', 'k1', 'k2', 'IDX', 'WITHMATCHLEN', 'MINMATCHLEN', '-5'],
    ['LCS', 'k1', 'k2', 'IDX', 'LEN'], ['LCS', 'k1', 'k2', 'BOGUS'], ['LCS', 'k1', 'k2', 'MINMATCHLEN', 'x'], ['LCS', 'k1', 'k2', 'MINMATCHLEN'], ['LCS', 'k1', 'none'],
    ['LCS', 'none', 'none2', 'IDX'], ['SET', 'a', 'GTAAGGCTAGACCGTTAGCCA'], ['SET', 'c', 'GGTCTAGCACAAGGTAGGCTGTTA'], ['LCS', 'a', 'c'], ['LCS', 'a', 'c', 'IDX', 'WITHMATCHLEN']
  ],
  'RENAME, RENAMENX, COPY, TOUCH': [
    ['SET', 'r1', 'v1'], ['RENAME', 'r1', 'r2'], ['GET', 'r1'], ['GET', 'r2'], ['RENAME', 'none', 'r3'], ['RENAME', 'r2', 'r2'], ['RENAME', 'none', 'none'],
    ['SET', 'r4', 'v4'], ['RENAME', 'r2', 'r4'], ['GET', 'r4'], ['EXISTS', 'r2'], ['RENAMENX', 'r4', 'r4'], ['RENAMENX', 'r4', 'r5'], ['RENAMENX', 'none', 'r6'],
    ['SET', 'r7', 'v7'], ['RENAMENX', 'r5', 'r7'], ['GET', 'r5'], ['GET', 'r7'],
    ['COPY', 'r5', 'r8'], ['GET', 'r8'], ['COPY', 'r5', 'r8'], ['SET', 'r5', 'new'], ['COPY', 'r5', 'r8', 'REPLACE'], ['GET', 'r8'], ['COPY', 'r5', 'r5'], ['COPY', 'none', 'r9'],
    ['COPY', 'r5', 'r9', 'DB', '0'], ['GET', 'r9'], ['COPY', 'r5', 'r9', 'DB', 'x'], ['COPY', 'r5', 'r9', 'DB'], ['COPY', 'r5', 'r9', 'FOO'], ['COPY', 'r5', 'r10', 'REPLACE', 'DB', '0'],
    ['COPY', 'r5', 'r11', 'DB', '16'], ['COPY', 'r5', 'r11', 'DB', '-1'], ['COPY', 'r5', 'r11', 'DB', '99999999999'],
    ['TOUCH', 'r5', 'r8', 'none', 'r5'], ['TOUCH', 'none'], ['RENAME', 'r5'], ['COPY', 'r5']
  ],
  'RENAME and COPY of collections and of keys with a time to live; OBJECT ENCODING of collections': [
    ['SADD', 'cs', 'a', 'b', 'c'], ['RENAME', 'cs', 'cs2'], ['EXISTS', 'cs'], ['SCARD', 'cs2'], ['SISMEMBER', 'cs2', 'b'], ['TYPE', 'cs2'],
    ['HSET', 'ch', 'f1', 'v1', 'f2', 'v2'], ['COPY', 'ch', 'ch2'], ['HGET', 'ch2', 'f2'], ['HLEN', 'ch2'], ['HSET', 'ch', 'f3', 'v3'], ['HLEN', 'ch2'],
    ['ZADD', 'cz', '1', 'x', '2.5', 'y'], ['COPY', 'cz', 'cs2', 'REPLACE'], ['TYPE', 'cs2'], ['ZSCORE', 'cs2', 'y'], ['ZRANGE', 'cs2', '0', '-1', 'WITHSCORES'],
    ['SET', 'ct', 'v', 'EXAT', '4102444800'], ['RENAME', 'ct', 'ct2'], ['EXPIRETIME', 'ct2'], ['COPY', 'ct2', 'ct3'], ['EXPIRETIME', 'ct3'],
    ['SADD', 'cts', 'm'], ['EXPIREAT', 'cts', '4102444800'], ['RENAME', 'cts', 'cts2'], ['EXPIRETIME', 'cts2'], ['SMEMBERS', 'cts2'],
    ['RENAMENX', 'ch', 'cz'], ['COPY', 'ch', 'cz'], ['INCR', 'cn'], ['INCR', 'cn'], ['RENAME', 'cn', 'cn2'], ['GET', 'cn2'], ['INCR', 'cn2'],
    ['SADD', 'ints', '1', '2', '3'], ['OBJECT', 'ENCODING', 'ints'], ['OBJECT', 'ENCODING', 'ch'], ['OBJECT', 'ENCODING', 'cz'],
    ['SADD', 'strs', 'a', 'b'], ['OBJECT', 'ENCODING', 'strs']
  ],
  'OBJECT and MEMORY USAGE: answers and errors': [
    ['SET', 'i', '123'], ['SET', 'big', '12345678901234567890'], ['SET', 'e', 'hello'], ['SET', 'raw', 'a'.repeat(45)], ['SET', 'neg', '-5'], ['SET', 'lz', '007'],
    ['OBJECT', 'ENCODING', 'i'], ['OBJECT', 'ENCODING', 'big'], ['OBJECT', 'ENCODING', 'e'], ['OBJECT', 'ENCODING', 'raw'], ['OBJECT', 'ENCODING', 'neg'], ['OBJECT', 'ENCODING', 'lz'],
    ['OBJECT', 'ENCODING', 'none'], ['OBJECT', 'REFCOUNT', 'i'], ['OBJECT', 'REFCOUNT', 'e'], ['OBJECT', 'REFCOUNT', 'neg'], ['OBJECT', 'REFCOUNT', 'none'],
    ['OBJECT', 'FREQ', 'e'], ['OBJECT', 'FREQ', 'none'], ['OBJECT', 'IDLETIME', 'none'], ['OBJECT', 'FOO', 'e'], ['OBJECT'], ['OBJECT', 'ENCODING'], ['OBJECT', 'HELP'],
    ['MEMORY', 'USAGE', 'none'], ['MEMORY', 'USAGE', 'e', 'SAMPLES'], ['MEMORY', 'USAGE', 'e', 'SAMPLES', '-1'], ['MEMORY', 'USAGE', 'e', 'SAMPLES', 'x'],
    ['MEMORY', 'USAGE', 'e', 'FOO', '1'], ['MEMORY', 'FOO'], ['MEMORY', 'USAGE'],
    ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'], ['OBJECT', 'FREQ', 'e'], ['OBJECT', 'IDLETIME', 'e'], ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']
  ],
  'SCRIPT, FUNCTION, EVALSHA, FCALL: Redis\'s answers when there are none': [
    ['SCRIPT', 'FLUSH'], ['SCRIPT', 'FLUSH', 'ASYNC'], ['SCRIPT', 'FLUSH', 'sync'], ['SCRIPT', 'FLUSH', 'x'], ['SCRIPT', 'FLUSH', 'a', 'b'], ['SCRIPT', 'EXISTS', 'a', 'b'], ['SCRIPT', 'KILL'],
    ['FUNCTION', 'FLUSH'], ['FUNCTION', 'FLUSH', 'SYNC'], ['FUNCTION', 'FLUSH', 'x'], ['FUNCTION', 'FLUSH', 'a', 'b'], ['FUNCTION', 'LIST'], ['FUNCTION', 'DELETE', 'x'], ['FUNCTION', 'KILL'],
    ['EVALSHA', 'abc', '0'], ['EVALSHA', 'abc', 'x'], ['EVALSHA_RO', 'abc', '0'], ['FCALL', 'f', '0'], ['FCALL_RO', 'f', '1', 'k'], ['EVAL'], ['FCALL', 'f'], ['SCRIPT'], ['SCRIPT', 'NOPE']
  ],
  'CONFIG SET/GET: Redis\'s wording for tunables, unknown and immutable parameters': [
    ['CONFIG', 'SET', 'foo', 'bar'], ['CONFIG', 'SET', 'hz'], ['CONFIG', 'SET', 'daemonize', 'yes'], ['CONFIG', 'SET', 'databases', '5'], ['CONFIG', 'SET', 'hz', 'abc'],
    ['CONFIG', 'SET', 'hz', '0'], ['CONFIG', 'GET', 'hz'], ['CONFIG', 'SET', 'hz', '10', 'hz', '11'], ['CONFIG', 'SET', 'hz', '12', 'foo', '1'], ['CONFIG', 'SET', 'hz', 'abc', 'foo', '1'],
    ['CONFIG', 'SET', 'hz', '10', 'x'], ['CONFIG', 'SET', 'HZ', '15'], ['CONFIG', 'GET', 'HZ'], ['CONFIG', 'GET', 'hz'], ['CONFIG', 'SET', 'hz', '-1'], ['CONFIG', 'SET', 'hz', '05'],
    ['CONFIG', 'SET', 'hz', ' 5'], ['CONFIG', 'SET', 'hz', '9999999999999'], ['CONFIG', 'SET', 'hz', '10'],
    ['CONFIG', 'SET', 'maxclients', 'abc'], ['CONFIG', 'SET', 'maxclients', '0'], ['CONFIG', 'SET', 'maxclients', '99999999999'],
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '256'], ['CONFIG', 'GET', 'hash-max-listpack-entries'], ['CONFIG', 'GET', 'hash-max-ziplist-entries'],
    ['CONFIG', 'SET', 'hash-max-ziplist-entries', '1', 'hash-max-listpack-entries', '2'], ['CONFIG', 'GET', 'hash-max-ziplist-entries'],
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '-1'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '1kb'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '128'],
    ['CONFIG', 'SET', 'list-max-ziplist-size', '5'], ['CONFIG', 'GET', 'list-max-listpack-size'], ['CONFIG', 'SET', 'list-max-listpack-size', '-2'],
    ['CONFIG', 'SET', 'maxmemory-policy', 'bogus'], ['CONFIG', 'SET', 'maxmemory-policy', 'ALLKEYS-LRU'], ['CONFIG', 'GET', 'maxmemory-policy'], ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
    ['CONFIG', 'SET', 'maxmemory', 'abc'], ['CONFIG', 'SET', 'maxmemory', '-1'], ['CONFIG', 'SET', 'maxmemory', '1.5mb'], ['CONFIG', 'SET', 'maxmemory', '1kb'], ['CONFIG', 'GET', 'maxmemory'],
    ['CONFIG', 'SET', 'maxmemory', '2GB'], ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'SET', 'maxmemory', '0'],
    ['CONFIG', 'SET', 'activerehashing', 'maybe'], ['CONFIG', 'SET', 'activerehashing', 'NO'], ['CONFIG', 'GET', 'activerehashing'], ['CONFIG', 'SET', 'activerehashing', 'yes'],
    ['CONFIG', 'SET', 'timeout', '-1'], ['CONFIG', 'SET', 'stream-node-max-bytes', '4kb'], ['CONFIG', 'GET', 'stream-node-max-bytes'],
    ['CONFIG', 'SET', 'save', '100 10 200'], ['CONFIG', 'SET', 'save', '100 10 200 20'], ['CONFIG', 'GET', 'save'], ['CONFIG', 'SET', 'save', ''],
    ['CONFIG', 'SET', 'slowlog-log-slower-than', '-5'], ['CONFIG', 'SET', 'active-expire-effort', '11'], ['CONFIG', 'SET', 'maxmemory-samples', '0'],
    ['CONFIG', 'SET', 'proto-max-bulk-len', '10'], ['CONFIG', 'REWRITE'], ['CONFIG', 'RESETSTAT', 'x'], ['CONFIG', 'FOO'], ['CONFIG'], ['CONFIG', 'GET'], ['CONFIG', 'HELP'],
    ['CONFIG', 'GET', 'nosuchparam'], ['CONFIG', 'GET', 'appendonly']
  ]
}

const one = (...cmds: string[][]): Array<[number, string[]]> => cmds.map(a => [1, a])

/**
 * Transactions: [conn, args] steps on several connections of one server (a
 * negative conn: run there, left out of the comparison). Replies must equal
 * redis-server's byte for byte; each starts from an empty database.
 */
export const TRANSACTIONS: Record<string, Array<[number, string[]]>> = {
  'queued commands run in order, replies as an array': one(['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['APPEND', 'a', 'x'], ['GET', 'a'], ['MGET', 'a', 'b'], ['EXEC'], ['GET', 'a']),
  'an empty transaction': one(['MULTI'], ['EXEC']),
  'queue-time errors abort EXEC (unknown command, arity, unknown subcommand)': one(['MULTI'], ['SET', 'a', '1'], ['NOSUCH', 'x'], ['GET'], ['CONFIG', 'NOPE'], ['EXEC'], ['GET', 'a']),
  'run-time errors are replies inside the array, the rest still runs': one(['SET', 's', 'abc'], ['MULTI'], ['INCR', 's'], ['SET', 'b', '2'], ['INCRBY', 'b', 'x'], ['GET', 'b'], ['EXEC']),
  'nested MULTI, WATCH inside MULTI: errors that do not abort': one(['MULTI'], ['MULTI'], ['WATCH', 'a'], ['SET', 'a', '1'], ['EXEC']),
  'MULTI/DISCARD/WATCH with wrong arity inside MULTI abort it': one(['MULTI'], ['MULTI', 'x'], ['EXEC'], ['MULTI'], ['DISCARD', 'x'], ['EXEC'], ['MULTI'], ['WATCH'], ['EXEC']),
  'EXEC and DISCARD without MULTI; EXEC with arguments ends the transaction': one(['EXEC'], ['DISCARD'], ['EXEC', 'x'], ['MULTI'], ['SET', 'a', '1'], ['EXEC', 'x'], ['EXEC'], ['GET', 'a']),
  'DISCARD drops the queue': one(['MULTI'], ['SET', 'a', '1'], ['DISCARD'], ['GET', 'a'], ['EXEC']),
  'UNWATCH inside MULTI is queued': one(['MULTI'], ['UNWATCH'], ['EXEC']),
  'WATCH: a change from this connection makes EXEC nil': one(['SET', 'w', '1'], ['WATCH', 'w'], ['SET', 'w', '2'], ['MULTI'], ['SET', 'w', '3'], ['EXEC'], ['GET', 'w']),
  'WATCH: an unchanged key lets EXEC run; EXEC unwatches': one(['SET', 'w', '1'], ['WATCH', 'w'], ['GET', 'w'], ['MULTI'], ['SET', 'w', '3'], ['EXEC'], ['SET', 'w', '4'], ['MULTI'], ['GET', 'w'], ['EXEC']),
  'WATCH of a missing key: deleting it again changes nothing; creating it does': one(['WATCH', 'm'], ['DEL', 'm'], ['MULTI'], ['GET', 'm'], ['EXEC'], ['WATCH', 'm'], ['SET', 'm', 'x'], ['MULTI'], ['GET', 'm'], ['EXEC']),
  'UNWATCH and DISCARD forget watched keys': one(['WATCH', 'u'], ['SET', 'u', '1'], ['UNWATCH'], ['MULTI'], ['GET', 'u'], ['EXEC'], ['WATCH', 'u'], ['SET', 'u', '2'], ['MULTI'], ['DISCARD'], ['MULTI'], ['GET', 'u'], ['EXEC']),
  'WATCH of several keys, the same key twice': one(['WATCH', 'x', 'y', 'x'], ['WATCH', 'y'], ['SET', 'y', '1'], ['MULTI'], ['GET', 'x'], ['EXEC']),
  'a watched key changed by another client': [[1, ['SET', 'o', '1']], [1, ['WATCH', 'o']], [2, ['SET', 'o', '2']], [1, ['MULTI']], [1, ['INCR', 'o']], [1, ['EXEC']], [1, ['GET', 'o']]],
  'another client changing an unwatched key does not abort': [[1, ['WATCH', 'p']], [2, ['SET', 'q', '2']], [1, ['MULTI']], [1, ['SET', 'p', '1']], [1, ['EXEC']]],
  'a watched collection changed by another client: a new member, a removed field, a score': [
    [1, ['SADD', 'ws', 'a']], [1, ['WATCH', 'ws']], [2, ['SADD', 'ws', 'b']], [1, ['MULTI']], [1, ['SCARD', 'ws']], [1, ['EXEC']],
    [1, ['HSET', 'wh', 'f', '1', 'g', '2']], [1, ['WATCH', 'wh']], [2, ['HDEL', 'wh', 'g']], [1, ['MULTI']], [1, ['HLEN', 'wh']], [1, ['EXEC']],
    [1, ['ZADD', 'wz', '1', 'm']], [1, ['WATCH', 'wz']], [2, ['ZINCRBY', 'wz', '1', 'm']], [1, ['MULTI']], [1, ['ZSCORE', 'wz', 'm']], [1, ['EXEC']],
    [1, ['WATCH', 'ws']], [1, ['MULTI']], [1, ['SCARD', 'ws']], [1, ['EXEC']]
  ],
  'RESET inside MULTI ends it': one(['WATCH', 'r'], ['MULTI'], ['SET', 'r', '1'], ['RESET'], ['EXEC'], ['SET', 'r', '2'], ['MULTI'], ['GET', 'r'], ['EXEC']),
  'SHUTDOWN and SAVE are refused inside MULTI and abort it; SHUTDOWN\'s argument errors; SAVE': one(['MULTI'], ['SET', 'a', '1'], ['SHUTDOWN'], ['SAVE'], ['EXEC'], ['GET', 'a'], ['SHUTDOWN', 'ABORT'], ['SHUTDOWN', 'NOSAVE', 'SAVE'], ['SHUTDOWN', 'ABORT', 'NOW'], ['SHUTDOWN', 'x'], ['BGSAVE', 'x'], ['SAVE']),
  'QUIT inside MULTI closes at once': one(['MULTI'], ['SET', 'z', '1'], ['QUIT'], ['EXEC']),
  'RESP3: a watched change is _; SELECT and CLIENT inside EXEC': [[-1, ['HELLO', '3', 'SETNAME', 'tx']], ...one(['SET', 'h', '1'], ['WATCH', 'h'], ['SET', 'h', '2'], ['MULTI'], ['GET', 'h'], ['EXEC'], ['MULTI'], ['SELECT', '0'], ['CLIENT', 'GETNAME'], ['SELECT', 'x'], ['EXEC'])]
}

