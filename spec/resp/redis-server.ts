// A throwaway redis-server on a free loopback port, the reference the RESP
// specs compare against, and a raw-socket exchange with it.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { once } from 'node:events'

/** The reference server; DYNAKV_REDIS_SERVER picks another binary. */
export const REDIS_SERVER = process.env.DYNAKV_REDIS_SERVER ?? '/usr/bin/redis-server'

export interface RedisServer {
  port: number
  stop: () => Promise<void>
}

async function freePort (): Promise<number> {
  const srv = net.createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const port = (srv.address() as net.AddressInfo).port
  srv.close()
  await once(srv, 'close')
  return port
}

async function canConnect (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** null when redis-server is not installed. */
export async function startRedis (extraArgs: string[] = []): Promise<RedisServer | null> {
  if (!existsSync(REDIS_SERVER)) return null
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const child: ChildProcess = spawn(REDIS_SERVER, [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning', ...extraArgs
    ], { stdio: 'ignore' })
    let exited = false
    child.once('exit', () => { exited = true })
    const stop = async (): Promise<void> => {
      if (exited) return
      const gone = once(child, 'exit')
      child.kill('SIGTERM')
      await gone
    }
    for (let i = 0; i < 100 && !exited; i++) {
      if (await canConnect(port)) return { port, stop }
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    await stop()
  }
  throw new Error('redis-server did not start')
}

export interface Exchange {
  out: Buffer
  closed: boolean
}

export interface ExchangeOptions {
  /** Done as soon as this holds for what arrived. */
  until?: (out: Buffer) => boolean
  /** Done after this long without data... */
  quietMs?: number
  /** ...counted only once this holds (default: from the start). */
  quietAfter?: (out: Buffer) => boolean
  /** Done regardless after this long. */
  timeoutMs?: number
}

/**
 * Writes input on a fresh connection and collects the reply until the
 * server closes, `until` holds, the connection stays quiet, or the timeout.
 */
export async function exchange (port: number, input: Buffer | Buffer[], options: ExchangeOptions = {}): Promise<Exchange> {
  const quietMs = options.quietMs ?? 150
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  return await new Promise(resolve => {
    const parts: Buffer[] = []
    let quiet: NodeJS.Timeout | undefined
    let done = false
    const finish = (closed: boolean): void => {
      if (done) return
      done = true
      clearTimeout(quiet)
      clearTimeout(timeout)
      socket.destroy()
      resolve({ out: Buffer.concat(parts), closed })
    }
    const timeout = setTimeout(() => finish(false), options.timeoutMs ?? 10000)
    const arm = (out: Buffer): void => {
      clearTimeout(quiet)
      if (options.quietAfter === undefined || options.quietAfter(out)) quiet = setTimeout(() => finish(false), quietMs)
    }
    socket.on('data', d => {
      parts.push(d)
      const out = Buffer.concat(parts)
      if (options.until?.(out) === true) finish(false)
      else arm(out)
    })
    socket.on('close', () => finish(true))
    socket.on('error', () => finish(true))
    for (const chunk of Array.isArray(input) ? input : [input]) socket.write(chunk)
    arm(Buffer.alloc(0))
  })
}
