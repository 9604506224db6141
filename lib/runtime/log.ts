// Logging: one line per event on stderr. Text: `time level node message`;
// JSON (--log-format json, for log shippers): {"time","level","node","msg"}
// per line, the same fields.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type LogFormat = 'text' | 'json'
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug (msg: string): void
  info (msg: string): void
  warn (msg: string): void
  error (msg: string): void
  /** CONFIG SET loglevel: the least severe level written from now on. */
  setLevel? (level: LogLevel): void
}

/** One log line (without its newline). */
export function formatLogLine (format: LogFormat, level: Exclude<LogLevel, 'silent'>, name: string, msg: string, time = new Date()): string {
  if (format === 'json') return JSON.stringify({ time: time.toISOString(), level, node: name, msg })
  return `${time.toISOString()} ${level.padEnd(5)} ${name} ${msg}`
}

export function createLogger (name: string, level: LogLevel, format: LogFormat = 'text', sink: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  let min = LEVELS[level]
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string): void => {
    if (LEVELS[lvl] >= min) sink(formatLogLine(format, lvl, name, msg))
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), setLevel: (l) => { min = LEVELS[l] } }
}

export const silentLogger: Logger = { debug () {}, info () {}, warn () {}, error () {}, setLevel () {} }
