// Structured-enough logging: one line per event on stderr, `level node message`.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug (msg: string): void
  info (msg: string): void
  warn (msg: string): void
  error (msg: string): void
  /** CONFIG SET loglevel: the least severe level written from now on. */
  setLevel? (level: LogLevel): void
}

export function createLogger (name: string, level: LogLevel, sink: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  let min = LEVELS[level]
  const at = (lvl: LogLevel) => (msg: string): void => {
    if (LEVELS[lvl] >= min) sink(`${new Date().toISOString()} ${lvl.padEnd(5)} ${name} ${msg}`)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), setLevel: (l) => { min = LEVELS[l] } }
}

export const silentLogger: Logger = { debug () {}, info () {}, warn () {}, error () {}, setLevel () {} }
