// A minimal RESP2 client for the dynakv command itself (admin, the cluster
// launcher): one connection, one command at a time, redis-parser for replies.
import { connect, type Socket } from 'node:net'
import RedisParser from 'redis-parser'
import { Buffer } from 'node:buffer'

export type RespValue = string | number | null | RespValue[] | Error

export class RespClient {
  private readonly socket: Socket
  private readonly parser: RedisParser
  private readonly waiting: Array<{ resolve: (v: RespValue) => void, reject: (e: Error) => void }> = []
  private closedError: Error | null = null

  private constructor (socket: Socket) {
    this.socket = socket
    this.parser = new RedisParser({
      returnReply: (reply) => this.waiting.shift()?.resolve(reply as RespValue),
      returnError: (err) => this.waiting.shift()?.resolve(err),
      returnFatalError: (err) => this.fail(err)
    })
    socket.on('data', (chunk: Buffer) => this.parser.execute(chunk))
    socket.on('error', (e) => this.fail(e))
    socket.on('close', () => this.fail(new Error('connection closed')))
  }

  static connect (host: string, port: number, timeoutMs = 5000): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Error(`cannot connect to ${host}:${port}: timeout`))
      }, timeoutMs)
      socket.once('error', (e) => {
        clearTimeout(timer)
        reject(new Error(`cannot connect to ${host}:${port}: ${e.message}`))
      })
      socket.once('connect', () => {
        clearTimeout(timer)
        resolve(new RespClient(socket))
      })
    })
  }

  private fail (e: Error): void {
    this.closedError ??= e
    for (const w of this.waiting.splice(0)) w.reject(e)
  }

  /** The connection failed or was closed: call() rejects without sending. */
  get closed (): boolean {
    return this.closedError !== null
  }

  /** Sends one command; an error reply resolves as an Error value. */
  call (...args: string[]): Promise<RespValue> {
    if (this.closedError !== null) return Promise.reject(this.closedError)
    let out = `*${args.length}\r\n`
    for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      this.socket.write(out)
    })
  }

  close (): void {
    this.socket.end()
    this.socket.destroy()
  }
}
