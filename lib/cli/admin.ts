// `dynakv admin`: a thin wrapper over the RING commands, printing tables.
import { UsageError, parseFlags, parseHostPort } from './args.js'
import { RespClient, type RespValue } from './resp-client.js'

const FLAGS = {
  host: { kind: 'string', default: '127.0.0.1', help: 'node to talk to' },
  port: { kind: 'int', default: 6379, min: 1, max: 65535, help: 'its RESP port' },
  password: { kind: 'string', help: 'AUTH password (--requirepass of the node)' }
} as const

const USAGE = `usage: dynakv admin <command> [--host H] [--port P] [--password X]
  join HOST:PEERPORT   make the node at --host/--port join the cluster of that member
  leave                the node at --host/--port hands its partitions off and leaves
  remove NAME          take a dead node out of the ring for good
  ring                 the members as this node sees them
  status               ring version, convergence, transfers in progress
  owners KEY           the preference list of a key`

export function table (rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
  return rows.map(r => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n'
}

function asText (v: RespValue): string {
  if (v instanceof Error) throw v
  if (Array.isArray(v)) return v.map(asText).join(' ')
  return String(v)
}

export async function runAdmin (argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const positional: string[] = []
  const o = parseFlags(argv, FLAGS, {}, positional)
  void env
  const [cmd, arg] = positional
  if (cmd === undefined) throw new UsageError(USAGE)
  const need = (n: number): void => {
    if (positional.length !== n) throw new UsageError(USAGE)
  }
  let command: string[]
  switch (cmd) {
    case 'join':
      need(2)
      if (parseHostPort(arg) === null) throw new UsageError(`join: expected HOST:PEERPORT, got '${arg}'`)
      command = ['RING', 'JOIN', arg]
      break
    case 'leave': need(1); command = ['RING', 'LEAVE']; break
    case 'remove': need(2); command = ['RING', 'REMOVE', arg]; break
    case 'ring': need(1); command = ['RING', 'NODES']; break
    case 'status': need(1); command = ['RING', 'STATUS']; break
    case 'owners': need(2); command = ['RING', 'OWNERS', arg]; break
    default: throw new UsageError(`unknown admin command '${cmd}'\n${USAGE}`)
  }
  const client = await RespClient.connect(o.host as string, o.port as number)
  try {
    if (o.password !== undefined) {
      const auth = await client.call('AUTH', o.password as string)
      if (auth instanceof Error) throw auth
    }
    const reply = await client.call(...command)
    if (reply instanceof Error) {
      process.stderr.write(`dynakv admin: ${reply.message}\n`)
      return 1
    }
    process.stdout.write(render(cmd, reply))
    return 0
  } finally {
    client.close()
  }
}

function render (cmd: string, reply: RespValue): string {
  if (cmd === 'ring') {
    const rows = (reply as string[]).map(l => l.split(' '))
    return table([['NAME', 'PEER', 'CLIENT', 'STATUS', 'WEIGHT', 'PARTITIONS', 'STATE'], ...rows])
  }
  if (cmd === 'owners') {
    const rows = (reply as string[]).map(l => l.split(' '))
    return table([['NAME', 'CLIENT', 'ROLE', 'STATE'], ...rows])
  }
  if (cmd === 'status') {
    const flat = reply as RespValue[]
    const rows: string[][] = []
    for (let i = 0; i + 1 < flat.length; i += 2) rows.push([asText(flat[i]), asText(flat[i + 1])])
    return table(rows)
  }
  return asText(reply) + '\n'
}
