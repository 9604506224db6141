// LATENCY HISTOGRAM as Redis 7 has it: per command, its calls and the
// cumulative count of calls at or under each power-of-two microsecond bound
// (empty buckets left out). Tracked while the node serves metrics
// (--metrics-port); otherwise empty, as Redis with latency-tracking off.
import { BUCKETS, bucketUpperUsec } from '../../metrics/command-stats.js'
import { array, bulk, int, map, simple, type Reply } from '../reply.js'
import type { Call, CommandSpec } from './types.js'
import { echo, fail, lower } from './util.js'

function histogram (c: Call): Reply {
  const stats = c.server.commandStats
  const wanted = c.args.slice(2).map(lower)
  const out: Array<[Reply, Reply]> = []
  if (stats === null) return map(out)
  const names = wanted.length === 0 ? [...stats.commands.keys()].sort() : [...new Set(wanted)]
  for (const name of names) {
    const t = stats.commands.get(name)
    if (t === undefined || t.calls === 0) continue
    const buckets: Array<[Reply, Reply]> = []
    let cumulative = 0
    for (let i = 0; i <= BUCKETS; i++) {
      if (t.buckets[i] === 0) continue
      cumulative += t.buckets[i]
      // Redis shows its last (+Inf) bucket under the slowest bound it tracks.
      buckets.push([int(Math.min(bucketUpperUsec(i), 2 ** BUCKETS)), int(cumulative)])
    }
    out.push([bulk(name), map([[bulk('calls'), int(t.calls)], [bulk('histogram_usec'), map(buckets)]])])
  }
  return map(out)
}

const HELP = [
  'LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
  'HELP',
  '    Print this help.'
]

function latency (c: Call): Reply {
  switch (lower(c.args[1])) {
    case 'histogram':
      return histogram(c)
    case 'help':
      return array(HELP.map(l => simple(l)))
    default:
      return fail(`ERR unknown subcommand '${echo(c.args[1]).slice(0, 128)}'. Try LATENCY HELP.`)
  }
}

export const latencyCommand: CommandSpec = {
  name: 'latency',
  arity: -2,
  // A container, as in Redis 7's table (its subcommands carry the flags).
  flags: [],
  group: 'server',
  firstKey: 0,
  lastKey: 0,
  step: 0,
  summary: 'LATENCY HISTOGRAM: per-command latency distributions (kept while --metrics-port is set).',
  since: '7.0.0',
  handler: latency
}
