// MULTI, EXEC, DISCARD, WATCH, UNWATCH: Redis transactions, per connection.
//
//   MULTI   ─► later commands are checked (unknown, arity, NOAUTH: refused and
//              the transaction marked for EXECABORT) and queued: +QUEUED
//   EXEC    ─► EXECABORT if anything was refused; nil if a watched key's token
//              changed; else the queued commands run one after another through
//              the dispatcher (routing, forwarding, statistics as if sent one by
//              one) and their replies come back as one array
//   WATCH k ─► remembers node.watchToken(k), read through a quorum read
//
// The connection treats MULTI, EXEC, DISCARD and UNWATCH as barriers, so the
// state they change is seen in request order, and nothing the connection sent
// after EXEC runs before EXEC's commands are done. Not atomic: other clients'
// commands may run between the queued ones, and a watched key may change
// between EXEC's check and the queued writes (docs/semantics.md).
import { OK, NULL_ARRAY, array, err, simple, type Reply } from '../reply.js'
import type { Session, Transaction, Watch } from '../session.js'
import type { Call, CommandSpec } from './types.js'
import { fail } from './util.js'
import { Buffer } from 'node:buffer'

/** Bounds of one connection's transaction. */
export const QUEUED_COMMANDS_MAX = 100_000
export const QUEUED_BYTES_MAX = 1024 * 1024 * 1024
export const WATCHED_KEYS_MAX = 10_000

const QUEUED = simple('QUEUED')

function transaction (s: Session): Transaction {
  s.tx ??= { queue: null, queuedBytes: 0, dirty: false, watched: new Map() }
  return s.tx
}

export function inMulti (s: Session): boolean {
  return s.tx !== null && s.tx.queue !== null
}

/** Ends the transaction (EXEC, DISCARD, an EXEC refused): nothing queued, nothing watched. */
export function discardTransaction (s: Session): void {
  if (s.tx === null) return
  s.tx.queue = null
  s.tx.queuedBytes = 0
  s.tx.dirty = false
  s.tx.watched = new Map()
}

/** A command refused while queueing: EXEC will answer EXECABORT. */
export function markDirty (s: Session): void {
  if (inMulti(s)) (s.tx as Transaction).dirty = true
}

/** Queues a checked command (a private copy: args are views of the socket's bytes). */
export function queueCommand (s: Session, args: Buffer[]): Reply {
  const tx = s.tx as Transaction & { queue: Buffer[][] }
  let bytes = 0
  for (const a of args) bytes += a.length
  if (tx.queue.length >= QUEUED_COMMANDS_MAX || tx.queuedBytes + bytes > QUEUED_BYTES_MAX) {
    tx.dirty = true
    return err(`ERR MULTI holds at most ${QUEUED_COMMANDS_MAX} commands and ${QUEUED_BYTES_MAX} bytes: the transaction will be discarded`)
  }
  const all = Buffer.concat(args, bytes)
  let at = 0
  tx.queue.push(args.map((a) => {
    const copy = all.subarray(at, at + a.length)
    at += a.length
    return copy
  }))
  tx.queuedBytes += bytes
  return QUEUED
}

function multi (c: Call): Reply {
  if (inMulti(c.session)) return err('ERR MULTI calls can not be nested')
  transaction(c.session).queue = []
  return OK
}

function discard (c: Call): Reply {
  if (!inMulti(c.session)) return err('ERR DISCARD without MULTI')
  discardTransaction(c.session)
  return OK
}

/** Has any watched key a token other than the one WATCH read? */
async function watchedChanged (c: Call, watched: Map<string, Watch>): Promise<boolean> {
  if ([...watched.values()].some(w => w.token === null)) return true
  const now = await Promise.all([...watched.values()].map(w => c.node.watchToken(c.node.ref(w.key))))
  return [...watched.values()].some((w, i) => !(w.token as Buffer).equals(now[i]))
}

async function exec (c: Call): Promise<Reply> {
  const s = c.session
  if (!inMulti(s)) return err('ERR EXEC without MULTI')
  const { queue, dirty, watched } = s.tx as Transaction & { queue: Buffer[][] }
  discardTransaction(s)
  if (dirty) return err('EXECABORT Transaction discarded because of previous errors.')
  if (watched.size > 0 && await watchedChanged(c, watched)) return NULL_ARRAY
  return array(await runQueued(c, queue))
}

/**
 * Runs the queued commands as a pipeline runs: each as soon as the commands it
 * depends on are done — an earlier one sharing a key, or any earlier one for a
 * barrier (keyspace-wide, connection state) — so writes to distinct keys share
 * a group commit instead of one fsync each, and the result is as if run one
 * by one. Started in queue order: a command's dependencies are always earlier.
 */
function runQueued (c: Call, queue: Buffer[][]): Promise<Reply[]> {
  const done: Array<Promise<Reply>> = []
  const lastOnKey = new Map<string, Promise<Reply>>()
  let barrier: Promise<Reply> | null = null
  for (const args of queue) {
    const keys = c.keysOf(args)
    const deps: Array<Promise<Reply>> = keys === 'all' ? [...done] : barrier === null ? [] : [barrier]
    if (keys !== 'all' && keys !== null) {
      for (const k of keys) {
        const last = lastOnKey.get(k)
        if (last !== undefined) deps.push(last)
      }
    }
    const run = (): Promise<Reply> => c.dispatch(args)
    const p = deps.length === 0 ? run() : Promise.all(deps).then(run)
    done.push(p)
    if (keys === 'all') barrier = p
    else if (keys !== null) for (const k of keys) lastOnKey.set(k, p)
  }
  return Promise.all(done)
}

async function watch (c: Call): Promise<Reply> {
  const s = c.session
  if (inMulti(s)) return err('ERR WATCH inside MULTI is not allowed')
  const tx = transaction(s)
  const fresh: Watch[] = []
  for (const key of c.args.slice(1)) {
    const ks = key.toString('latin1')
    if (tx.watched.has(ks)) continue // Redis keeps the first watch of a key
    if (tx.watched.size >= WATCHED_KEYS_MAX) fail(`ERR a connection watches at most ${WATCHED_KEYS_MAX} keys`)
    const w: Watch = { key: Buffer.from(key), token: null }
    tx.watched.set(ks, w)
    fresh.push(w)
  }
  // A key whose read fails stays watched with no token: EXEC then aborts (nil).
  const read = await Promise.allSettled(fresh.map(w => c.node.watchToken(c.node.ref(w.key))))
  read.forEach((r, i) => { if (r.status === 'fulfilled') fresh[i].token = r.value })
  const failed = read.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return OK
}

function unwatch (c: Call): Reply {
  if (c.session.tx !== null) c.session.tx.watched = new Map()
  return OK
}

const TX = { group: 'transactions', acl: ['transaction'], firstKey: 0, lastKey: 0, step: 0 } as const

export const transactionCommands: CommandSpec[] = [
  { name: 'multi', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], ...TX, notQueued: true, summary: 'Starts a transaction: later commands are queued until EXEC.', since: '1.2.0', complexity: 'O(1)', handler: multi },
  { name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], ...TX, notQueued: true, summary: 'Runs the queued commands in order (not atomic cluster-wide); nil if a watched key changed as far as a quorum read sees.', since: '1.2.0', complexity: 'Depends on commands in the transaction', handler: exec },
  { name: 'discard', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], ...TX, notQueued: true, summary: 'Discards a transaction.', since: '2.0.0', complexity: 'O(N), when N is the number of queued commands', handler: discard },
  {
    name: 'watch',
    arity: -2,
    flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
    ...TX,
    firstKey: 1,
    lastKey: -1,
    step: 1,
    keySpecs: [{ flags: ['RO'], index: 1, range: [-1, 1, 0] }],
    notQueued: true,
    summary: 'Makes EXEC fail (nil) if a key changed since, as far as the coordinator\'s quorum read can see.',
    since: '2.2.0',
    complexity: 'O(1) for every key.',
    handler: watch
  },
  { name: 'unwatch', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], ...TX, summary: 'Forgets about watched keys of a transaction.', since: '2.2.0', complexity: 'O(1)', handler: unwatch }
]
