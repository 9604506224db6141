// `dynakv server`: one node, until SIGINT/SIGTERM.
import type { ServerConfig } from './args.js'
import { DynakvNode } from '../node/node.js'
import { RespServer } from '../resp/server.js'
import { realClock, shiftedClock } from '../runtime/clock.js'
import { realRandom } from '../runtime/random.js'
import { createLogger } from '../runtime/log.js'

export const EXIT = { ok: 0, failure: 1, usage: 2, dataDir: 3, address: 4 } as const

/** A failure the operator can fix, with the message to print and the exit code. */
export class StartupError extends Error {
  constructor (message: string, readonly exitCode: number) {
    super(message)
  }
}

export interface RunningServer {
  node: DynakvNode
  resp: RespServer
  stop (): Promise<void>
}

export function explainStartupError (e: unknown, config: ServerConfig): StartupError {
  const code = (e as { code?: string }).code
  const message = (e as Error).message
  switch (code) {
    case 'DYNAKV_STORE_LOCKED':
    case 'DYNAKV_STORE_CORRUPT':
    case 'DYNAKV_STORE_OPEN':
    case 'DYNAKV_IDENTITY':
    case 'DYNAKV_ARGUMENT':
    case 'DYNAKV_DECODE':
      return new StartupError(message, EXIT.dataDir)
    case 'EADDRINUSE':
      return new StartupError(`address already in use: ${config.host}:${(e as { port?: number }).port ?? config.port}`, EXIT.address)
    case 'EADDRNOTAVAIL':
    case 'EACCES':
      return new StartupError(`cannot listen on ${config.host}: ${message}`, EXIT.address)
    default:
      return new StartupError(`startup failed: ${(e as Error).stack ?? message}`, EXIT.failure)
  }
}

export async function startServer (config: ServerConfig): Promise<RunningServer> {
  const log = createLogger(config.name, config.logLevel)
  let node: DynakvNode | null = null
  try {
    node = await DynakvNode.start(config, { clock: shiftedClock(realClock, config.clockOffsetMs), random: realRandom, log })
    const resp = new RespServer(node)
    await resp.listen(config.host, config.port)
    const n = node
    let stopping: Promise<void> | null = null
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        await resp.close()
        await n.stop()
      })()
      return stopping
    }
    // Announced at every log level but silent (launchers and tests wait for this line).
    const ready = `ready: RESP on ${config.host}:${resp.port}, peers on ${config.host}:${config.peerPort}, data in ${config.storage === 'memory-level' ? 'memory' : config.dir}, N=${config.n} R=${config.r} W=${config.w}`
    if (config.logLevel === 'info' || config.logLevel === 'debug') log.info(ready)
    else if (config.logLevel !== 'silent') process.stderr.write(`${config.name} ${ready}\n`)
    return { node: n, resp, stop }
  } catch (e) {
    await node?.stop().catch(() => {})
    throw explainStartupError(e, config)
  }
}

export async function runServer (config: ServerConfig): Promise<number> {
  let running: RunningServer
  try {
    running = await startServer(config)
  } catch (e) {
    const se = e as StartupError
    process.stderr.write(`dynakv: ${se.message}\n`)
    return se.exitCode ?? EXIT.failure
  }
  return await new Promise<number>((resolve) => {
    let signalled = false
    const onSignal = (sig: string): void => {
      if (signalled) return
      signalled = true
      process.stderr.write(`dynakv: ${sig}: stopping (flushing writes, closing the database)\n`)
      running.stop().then(() => resolve(EXIT.ok), (e: Error) => {
        process.stderr.write(`dynakv: stop failed: ${e.message}\n`)
        resolve(EXIT.failure)
      })
    }
    process.once('SIGINT', () => onSignal('SIGINT'))
    process.once('SIGTERM', () => onSignal('SIGTERM'))
  })
}
