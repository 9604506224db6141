// RING: membership administration and inspection (docs/design.md#membership), as seen from
// this node. DEBUG: inspection and (only with --allow-fault-injection) faults.
import { decodeObject, encodeContext, liveValues, objectClock } from '../../versioning/index.js'
import { parseHostPort } from '../../node/config.js'
import { HANDOFF_HINTS } from '../../peer/messages.js'
import { NULL, OK, array, bulk, int, map, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { echo, fail, globMatcher, intArg, lower, text } from './util.js'
import { Buffer } from 'node:buffer'

function upDown (c: Call, name: string): string {
  return name === c.node.identity.name || c.node.detector.isUp(name) ? 'up' : 'down'
}

async function ringCmd (c: Call): Promise<Reply> {
  const sub = lower(c.args[1])
  const node = c.node
  const arity = (n: number): void => {
    if (c.args.length !== n) fail(`ERR wrong number of arguments for 'ring|${sub}' command`)
  }
  switch (sub) {
    case 'join': {
      arity(3)
      const hp = parseHostPort(text(c.args[2]))
      if (hp === null) fail('ERR RING JOIN expects host:peerport')
      try {
        await node.gossip.join(hp.host, hp.port)
      } catch (e) {
        fail(`ERR join failed: ${(e as Error).message}`)
      }
      return OK
    }
    case 'leave':
      arity(2)
      try {
        node.gossip.leave()
      } catch (e) {
        fail(`ERR ${(e as Error).message}`)
      }
      return OK
    case 'remove':
      arity(3)
      try {
        node.gossip.remove(text(c.args[2]))
      } catch (e) {
        fail(`ERR ${(e as Error).message}`)
      }
      return OK
    case 'nodes': {
      arity(2)
      const ring = node.currentRing()
      return array(node.membership.all().map(r => bulk(
        `${r.name} ${r.peerHost}:${r.peerPort} ${r.clientHost}:${r.clientPort} ${r.status} ${r.weight} ${ring.partitionsOf(r.name).length} ${upDown(c, r.name)}`
      )))
    }
    case 'partitions': {
      // The ring as this node sees it: each partition's primaries, the first one its owner.
      arity(2)
      const ring = node.currentRing()
      return array(Array.from({ length: node.config.partitions }, (_, p) => bulk(`${p} ${ring.preferenceList(p).primaries.join(',')}`)))
    }
    case 'owners': {
      arity(3)
      const ref = node.ref(c.args[2])
      const { primaries, fallbacks } = node.currentRing().preferenceList(ref.partition)
      const line = (name: string, role: string): Reply => {
        const r = node.membership.get(name)
        return bulk(`${name} ${r?.clientHost ?? '?'}:${r?.clientPort ?? 0} ${role} ${upDown(c, name)}`)
      }
      return array([...primaries.map(n => line(n, 'primary')), ...fallbacks.map(n => line(n, 'fallback'))])
    }
    case 'status': {
      arity(2)
      const all = node.membership.all()
      return map([
        [bulk('node'), bulk(node.identity.name)],
        [bulk('status'), bulk(node.membership.get(node.identity.name)?.status ?? 'unknown')],
        [bulk('ring_version'), int(all.reduce((n, r) => n + r.version, 0))],
        [bulk('membership_digest'), bulk(node.membership.digest())],
        [bulk('members'), int(node.membership.live().length)],
        [bulk('partitions'), int(node.config.partitions)],
        [bulk('n'), int(node.config.n)],
        [bulk('converged'), bulk(node.gossip.converged() ? 'yes' : 'no')],
        [bulk('transfers_pending'), int(node.handoff.stats.transfersPending)],
        [bulk('transferring_partitions'), array(node.handoff.pendingPartitions.map(p => int(p)))],
        [bulk('hints_pending'), int(node.local.hintsPendingTotal())],
        [bulk('down_peers'), array(node.detector.downPeers().map(n => bulk(n)))]
      ])
    }
    default:
      return fail(`ERR unknown subcommand '${echo(c.args[1]).slice(0, 128)}'. Try RING JOIN|LEAVE|REMOVE|NODES|PARTITIONS|OWNERS|STATUS.`)
  }
}

function faultCmd (c: Call): Reply {
  if (!c.node.config.allowFaultInjection) fail('ERR fault injection is disabled: start the node with --allow-fault-injection')
  const faults = c.node.peers.transport.faults
  const what = c.args.length > 2 ? lower(c.args[2]) : ''
  switch (what) {
    case 'partition':
      if (c.args.length < 4) fail("ERR wrong number of arguments for 'debug|fault' command")
      for (const n of c.args.slice(3)) faults.partitioned.add(text(n))
      return OK
    case 'heal':
      faults.partitioned.clear()
      return OK
    case 'delay':
      if (c.args.length !== 4) fail("ERR wrong number of arguments for 'debug|fault' command")
      faults.delayMs = Math.max(0, intArg(c.args[3]))
      return OK
    case 'drop-puts': {
      if (c.args.length !== 4) fail("ERR wrong number of arguments for 'debug|fault' command")
      const match = globMatcher(Buffer.from(c.args[3]))
      // Matched against the client key of each record the request writes.
      const clientKey = (skey: Buffer): Buffer => c.node.recordRef(skey).key
      faults.dropRequest = (_to, req) => (req.type === 'PUT_REPLICA' && match(clientKey(req.key))) ||
        (req.type === 'PUT_RECORDS' && req.keys.some(k => match(clientKey(k))))
      return OK
    }
    case 'lose-hints':
      // A mutation for the jepsen checker tests: delivered hints are acknowledged and thrown away.
      if (c.args.length !== 3) fail("ERR wrong number of arguments for 'debug|fault' command")
      faults.ackUnhandled = (_from, req) => req.type === 'HANDOFF_BATCH' && req.kind === HANDOFF_HINTS
      return OK
    case 'clear':
      faults.clear()
      return OK
    case 'status':
      return map([
        [bulk('partitioned'), array([...faults.partitioned].map(n => bulk(n)))],
        [bulk('delay_ms'), int(faults.delayMs)],
        [bulk('dropping_puts'), bulk(faults.dropRequest === null ? 'no' : 'yes')],
        [bulk('losing_hints'), bulk(faults.ackUnhandled === null ? 'no' : 'yes')]
      ])
    default:
      return fail('ERR DEBUG FAULT PARTITION name...|HEAL|DELAY ms|DROP-PUTS pattern|LOSE-HINTS|CLEAR|STATUS')
  }
}

async function debugCmd (c: Call): Promise<Reply> {
  const sub = lower(c.args[1])
  const node = c.node
  switch (sub) {
    case 'replica': {
      // This node's own copy of a key, without any quorum: for checking where replicas live.
      if (c.args.length !== 3) fail("ERR wrong number of arguments for 'debug|replica' command")
      const found = node.local.readEntry(node.ref(c.args[2]))
      const entry = found instanceof Promise ? await found : found
      if (entry === undefined) return NULL
      const obj = decodeObject(entry.bytes)
      return array([
        bulk(encodeContext(objectClock(obj), c.args[2])),
        array(liveValues(obj).map(v => bulk(v))),
        array(obj.siblings.map(s => bulk(`${s.actor}:${s.counter} ts=${s.ts} ${s.value === null ? 'tombstone' : 'value'}`))),
        int(entry.bytes.length)
      ])
    }
    case 'hints':
      return map([...node.local.hintsPending()].map(([t, n]) => [bulk(t), int(n)]))
    case 'merkle':
      return array(node.antiEntropy.roots().map(([p, root]) => array([int(p), root === null ? NULL : bulk(root)])))
    case 'ae-round':
      await node.antiEntropy.round()
      return OK
    case 'handoff-round':
      await node.handoff.round()
      return OK
    case 'fault':
      return faultCmd(c)
    default:
      return fail(`ERR unknown subcommand '${echo(c.args[1]).slice(0, 128)}'. Try DEBUG REPLICA|HINTS|MERKLE|AE-ROUND|HANDOFF-ROUND|FAULT.`)
  }
}

const NOKEY = { firstKey: 0, lastKey: 0, step: 0 } as const

export const ringCommands: CommandSpec[] = [
  { name: 'ring', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], group: 'cluster', ...NOKEY, summary: 'Membership: JOIN host:peerport, LEAVE, REMOVE name, NODES, PARTITIONS, OWNERS key, STATUS.', since: 'dynakv 0.1', handler: ringCmd },
  { name: 'debug', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], group: 'server', ...NOKEY, summary: 'Inspection (REPLICA key, HINTS, MERKLE, AE-ROUND, HANDOFF-ROUND) and fault injection (FAULT, with --allow-fault-injection).', since: 'dynakv 0.1', handler: debugCmd }
]
