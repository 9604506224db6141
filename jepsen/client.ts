// A client process's connection to one host: one command at a time over RESP,
// each with a timeout, and every outcome classified the way the history needs
// it. A timed-out or broken connection is thrown away (a command still queued
// on it could run later), and the next call connects again.
import { RespClient, type RespValue } from '../lib/cli/resp-client.js'

export type Effect = 'read' | 'write'

export type Outcome =
  | { type: 'ok', value: RespValue }
  | { type: 'fail' | 'unknown', error: string }

/**
 * Whether an error reply proves a write was not applied. dynakv refuses bad
 * input with -ERR before touching a replica; -NOQUORUM says the write "may still
 * have been stored", and an internal error may have struck half way.
 */
export function definiteError (message: string): boolean {
  if (message.startsWith('WRONGTYPE')) return true
  return message.startsWith('ERR ') && !message.startsWith('ERR internal error')
}

export class NodeClient {
  private conn: RespClient | null = null

  constructor (readonly node: string, readonly host: string, readonly port: number, readonly timeoutMs: number) {}

  /**
   * Runs one command. Reads never end unknown (they change nothing): a read
   * that did not answer failed. A write that got no answer is unknown.
   */
  async call (args: string[], effect: Effect): Promise<Outcome> {
    if (this.conn?.closed === true) this.close()
    let conn: RespClient
    try {
      conn = this.conn ??= await RespClient.connect(this.host, this.port, this.timeoutMs)
    } catch (e) {
      return { type: 'fail', error: (e as Error).message }
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs)
    })
    try {
      const reply = await Promise.race([conn.call(...args), timeout])
      if (reply instanceof Error) {
        return { type: effect === 'read' || definiteError(reply.message) ? 'fail' : 'unknown', error: reply.message }
      }
      return { type: 'ok', value: reply }
    } catch (e) {
      this.close()
      return { type: effect === 'read' ? 'fail' : 'unknown', error: (e as Error).message }
    } finally {
      clearTimeout(timer)
    }
  }

  close (): void {
    this.conn?.close()
    this.conn = null
  }
}

/** A flat [name, value, ...] reply (RING STATUS, HGETALL) as an object. */
export function fieldsOf (reply: unknown): Record<string, unknown> {
  const flat = reply as unknown[]
  const out: Record<string, unknown> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1]
  return out
}
