#!/usr/bin/env node
// The dynakv command: server | cluster | admin.
import { SERVER_FLAGS, UsageError, parseServerArgs, usage } from './args.js'
import { EXIT, runServer } from './server.js'
import { DYNAKV_VERSION } from '../resp/commands/connection.js'

const HELP = `dynakv ${DYNAKV_VERSION}: Amazon's Dynamo with the Redis protocol

usage:
  dynakv server [flags]            run one node
  dynakv cluster --nodes 3 [...]   run a local cluster of child processes (npm start)
  dynakv admin <cmd> [...]         join | leave | remove NAME | ring | top | status | owners KEY | ping | prestop

server flags (each also as an environment variable):
${usage(SERVER_FLAGS)}
`

export async function main (argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case 'server':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(HELP)
          return EXIT.ok
        }
        return await runServer(parseServerArgs(rest, process.env))
      case 'cluster': {
        const { runCluster } = await import('./cluster.js')
        return await runCluster(rest, process.env)
      }
      case 'admin': {
        const { runAdmin } = await import('./admin.js')
        return await runAdmin(rest, process.env)
      }
      case '--version':
      case 'version':
        process.stdout.write(DYNAKV_VERSION + '\n')
        return EXIT.ok
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(HELP)
        return cmd === undefined ? EXIT.usage : EXIT.ok
      default:
        throw new UsageError(`unknown command '${cmd}'`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`dynakv: ${e.message}\n(see dynakv --help)\n`)
      return EXIT.usage
    }
    throw e
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
}, (e: Error) => {
  process.stderr.write(`dynakv: ${e.stack ?? e.message}\n`)
  process.exitCode = EXIT.failure
})
