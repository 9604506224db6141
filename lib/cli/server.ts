// `dynakv server`: one node, until SIGINT/SIGTERM.
import type { ServerConfig } from './args.js'
import { DynakvNode, configuredStore } from '../node/node.js'
import type { JoinRefusalCause, JoinRefusedError } from '../node/join-refusal.js'
import { RespServer } from '../resp/server.js'
import { realClock, shiftedClock } from '../runtime/clock.js'
import { realRandom } from '../runtime/random.js'
import { createLogger, formatLogLine } from '../runtime/log.js'
// Types only: the metrics modules (prom-client, node:http) load when --metrics-port asks for
// them, so a node without metrics does not hold their code and objects (0.9 MB of live heap,
// 3 MB of RSS on an empty node; docs/performance.md, "Session 10, mem10").
import type { NodeMetrics } from '../metrics/prometheus.js'
import type { MetricsEndpoint } from '../metrics/http.js'

/** Exit codes: 5 and up, a --join the cluster refused, one per cause (the message names it too). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  dataDir: 3,
  address: 4,
  wrongClusterSecret: 5,
  wrongClusterName: 6,
  partitionsMismatch: 7,
  nMismatch: 8,
  protocolVersion: 9
} as const

const REFUSAL_EXIT: Readonly<Record<JoinRefusalCause, number>> = {
  'cluster-secret': EXIT.wrongClusterSecret,
  'cluster-name': EXIT.wrongClusterName,
  partitions: EXIT.partitionsMismatch,
  n: EXIT.nMismatch,
  'protocol-version': EXIT.protocolVersion
}

/** A failure the operator can fix, with the message to print and the exit code. */
export class StartupError extends Error {
  constructor (message: string, readonly exitCode: number) {
    super(message)
  }
}

export interface RunningServer {
  node: DynakvNode
  resp: RespServer
  metrics: MetricsEndpoint | null
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

/** A line for stderr outside the logger (start-up failures, signals): `dynakv: msg`, or a JSON log line. */
export function say (config: Pick<ServerConfig, 'logFormat' | 'name'>, level: 'info' | 'error', msg: string): void {
  process.stderr.write((config.logFormat === 'json' ? formatLogLine('json', level, config.name, msg) : `dynakv: ${msg}`) + '\n')
}

export async function startServer (config: ServerConfig, onJoinRefused?: (e: JoinRefusedError) => void): Promise<RunningServer> {
  const log = createLogger(config.name, config.logLevel, config.logFormat)
  let node: DynakvNode | null = null
  let resp: RespServer | null = null
  let endpoint: MetricsEndpoint | null = null
  try {
    const metrics: NodeMetrics | null = config.metricsPort === null ? null : new (await import('../metrics/prometheus.js')).NodeMetrics()
    const clock = shiftedClock(realClock, config.clockOffsetMs)
    const store = configuredStore(config, clock)
    node = await DynakvNode.start(config, { clock, random: realRandom, log, store: metrics?.instrument(store) ?? store, onJoinRefused })
    metrics?.bind(node, config.storage === 'classic-level' ? config.dir : null)
    resp = new RespServer(node, metrics?.commands ?? null)
    await resp.listen(config.host, config.port)
    if (metrics !== null && config.metricsPort !== null) {
      const { serveMetrics } = await import('../metrics/http.js')
      endpoint = await serveMetrics(metrics.registry, config.host, config.metricsPort, log.error).catch((e: NodeJS.ErrnoException) => {
        throw Object.assign(new Error(`metrics port: ${e.message}`), { code: e.code, port: config.metricsPort })
      })
    }
    const [n, r, m] = [node, resp, endpoint]
    let stopping: Promise<void> | null = null
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        await m?.close()
        await r.close()
        await n.stop()
      })()
      return stopping
    }
    // Announced at every log level but silent (launchers and tests wait for this line).
    const ready = `ready: RESP on ${config.host}:${resp.port}, peers on ${config.host}:${config.peerPort}${m === null ? '' : `, metrics on http://${config.host}:${m.port}/metrics`}, data in ${config.storage === 'memory-level' ? 'memory' : config.dir}, N=${config.n} R=${config.r} W=${config.w}`
    if (config.logLevel === 'info' || config.logLevel === 'debug') log.info(ready)
    else if (config.logLevel !== 'silent') process.stderr.write((config.logFormat === 'json' ? formatLogLine('json', 'info', config.name, ready) : `${config.name} ${ready}`) + '\n')
    return { node: n, resp: r, metrics: m, stop }
  } catch (e) {
    await resp?.close().catch(() => {})
    await node?.stop().catch(() => {})
    throw explainStartupError(e, config)
  }
}

export async function runServer (config: ServerConfig): Promise<number> {
  let running: RunningServer
  let refused: ((e: JoinRefusedError) => void) | null = null
  const refusal = new Promise<JoinRefusedError>((resolve) => { refused = resolve })
  try {
    running = await startServer(config, (e) => refused?.(e))
  } catch (e) {
    const se = e as StartupError
    say(config, 'error', se.message)
    return se.exitCode ?? EXIT.failure
  }
  return await new Promise<number>((resolve) => {
    let stopping = false
    const stopWith = (code: number): void => {
      if (stopping) return
      stopping = true
      running.stop().then(() => resolve(code), (e: Error) => {
        say(config, 'error', `stop failed: ${e.message}`)
        resolve(EXIT.failure)
      })
    }
    const onSignal = (sig: string): void => {
      if (stopping) return
      say(config, 'info', `${sig}: stopping (flushing writes, closing the database)`)
      stopWith(EXIT.ok)
    }
    process.once('SIGINT', () => onSignal('SIGINT'))
    process.once('SIGTERM', () => onSignal('SIGTERM'))
    running.resp.shutdown = () => onSignal('SHUTDOWN')
    void refusal.then((e) => {
      if (stopping) return
      say(config, 'error', e.message)
      stopWith(REFUSAL_EXIT[e.reason])
    })
  })
}
