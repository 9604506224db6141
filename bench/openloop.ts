// An open-loop load generator: request i is due at start + i / rate, whatever
// the server has answered so far, and its latency is counted from that due
// time (not from when it was sent), so a stall of the server — or of this
// generator — shows in the figures instead of slowing the load down
// (coordinated omission). 50/50 GET/SET of random keys (named as
// redis-benchmark -r names them, key:000000012345, so a redis-benchmark pass
// with the same -r fills the key space first) over raw sockets
// (pre-encoded RESP, a reply scanner that only finds where each reply ends: a
// few µs of CPU per request, far lighter than a client library), pipelined on
// `connections` connections per port, one write per connection per tick.
// Latencies go into an HDR histogram (µs).
import { connect, type Socket } from 'node:net'
import * as hdr from 'hdr-histogram-js'

export interface OpenLoopOptions {
  ports: readonly number[]
  connectionsPerPort: number
  /** Requests per second, over all connections. */
  rate: number
  seconds: number
  keys: number
  valueBytes: number
  /** Requests unanswered per connection at most; more are counted as dropped, not sent. */
  outstandingMax?: number
  /** How long to wait for the last replies after the schedule ends. */
  drainMs?: number
  /** Requests slower than this are listed in the result's `slow` (ms; default 5). */
  slowMs?: number
  /** Also record every latency (µs) here: one histogram over several runs (interleaved A/B slices). */
  into?: hdr.Histogram
}

/** A slow request: when it was due (epoch ms), its latency (ms), which of `ports` it went to, how late this generator sent it (ms), and whether it was a SET. */
export type SlowRequest = [dueEpochMs: number, latencyMs: number, portIndex: number, sendLagMs: number, isSet: boolean]

const SLOW_MAX = 100_000

export interface OpenLoopResult {
  rate: number
  seconds: number
  sent: number
  answered: number
  errors: number
  /** Due but not sent: the connection had outstandingMax requests unanswered. */
  dropped: number
  /** Sent but not answered within drainMs of the schedule's end. */
  unanswered: number
  p50Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
  /** How late this generator sent requests (its own event-loop lag), p99.9 and max. */
  sendLagP999Ms: number
  sendLagMaxMs: number
  /** CPU of this generator (user + system) per request. */
  generatorCpuUs: number
  /** Requests slower than slowMs, in the order answered (at most SLOW_MAX). */
  slow: SlowRequest[]
  /** The SETs' and the GETs' latencies apart (ms): p50, p99, p99.9. */
  setMs: [number, number, number]
  getMs: [number, number, number]
}

const CR = 0x0d
const LF = 0x0a

/**
 * Where each RESP reply ends in a byte stream (simple, error, integer and bulk
 * replies: what GET and SET answer), across chunk boundaries.
 */
class ReplyScanner {
  private pending: Buffer | null = null
  /** Bytes still to skip of a bulk reply's payload and its CRLF. */
  private bulkLeft = 0

  /** Calls onReply(isError) once per complete reply in chunk. */
  feed (chunk: Buffer, onReply: (isError: boolean) => void): void {
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    this.pending = null
    let i = 0
    if (this.bulkLeft > 0) {
      const skip = Math.min(this.bulkLeft, buf.length)
      this.bulkLeft -= skip
      i = skip
      if (this.bulkLeft > 0) return
      onReply(false)
    }
    while (i < buf.length) {
      const eol = buf.indexOf(LF, i)
      if (eol < 0 || buf[eol - 1] !== CR) {
        this.pending = buf.subarray(i)
        return
      }
      const type = buf[i]
      if (type === 0x24) { // $len
        const len = Number(buf.toString('latin1', i + 1, eol - 1))
        if (len < 0) {
          onReply(false)
          i = eol + 1
          continue
        }
        const end = eol + 1 + len + 2
        if (end > buf.length) {
          this.bulkLeft = end - buf.length
          return
        }
        onReply(false)
        i = end
      } else {
        onReply(type === 0x2d) // '-'
        i = eol + 1
      }
    }
  }
}

function encode (args: string[]): string {
  let s = `*${args.length}\r\n`
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`
  return s
}

interface Conn {
  socket: Socket
  /** Due times (ms, performance.now()) of the requests sent and not yet answered, in order. */
  due: number[]
  /** When each of them was sent, and whether it was a SET (the same order). */
  sentAt: number[]
  isSet: boolean[]
  head: number
  out: string
  portIndex: number
}

export async function runOpenLoop (o: OpenLoopOptions): Promise<OpenLoopResult> {
  const outstandingMax = o.outstandingMax ?? 10000
  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 })
  const sendLag = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 })
  const sets = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 })
  const gets = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 })
  let answered = 0
  let errors = 0
  let dropped = 0
  let sent = 0
  const slowMs = o.slowMs ?? 5
  const slow: SlowRequest[] = []
  const conns: Conn[] = await Promise.all(o.ports.flatMap((port, portIndex) => Array.from({ length: o.connectionsPerPort }, async () => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const conn: Conn = { socket, due: [], sentAt: [], isSet: [], head: 0, out: '', portIndex }
    const scanner = new ReplyScanner()
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now()
      scanner.feed(chunk, (isError) => {
        const due = conn.due[conn.head]
        const sentAt = conn.sentAt[conn.head]
        const isSet = conn.isSet[conn.head++]
        if (conn.head > 4096) { // keep the queue's array short
          conn.due.splice(0, conn.head)
          conn.sentAt.splice(0, conn.head)
          conn.isSet.splice(0, conn.head)
          conn.head = 0
        }
        answered++
        if (isError) errors++
        const us = Math.max(1, Math.round((now - due) * 1000))
        latency.recordValue(us)
        ;(isSet ? sets : gets).recordValue(us)
        o.into?.recordValue(us)
        if (now - due > slowMs && slow.length < SLOW_MAX) slow.push([performance.timeOrigin + due, now - due, conn.portIndex, sentAt - due, isSet])
      })
    })
    return conn
  })))
  const value = 'v'.repeat(o.valueBytes)
  const total = Math.round(o.rate * o.seconds)
  const intervalMs = 1000 / o.rate
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  let next = 0
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now()
      while (next < total && started + next * intervalMs <= now) {
        const due = started + next * intervalMs
        const conn = conns[next % conns.length]
        next++
        if (conn.due.length - conn.head >= outstandingMax) {
          dropped++
          continue
        }
        const key = `key:${String(Math.floor(Math.random() * o.keys)).padStart(12, '0')}`
        const isSet = Math.random() < 0.5
        conn.out += isSet ? encode(['SET', key, value]) : encode(['GET', key])
        conn.due.push(due)
        conn.sentAt.push(now)
        conn.isSet.push(isSet)
        sendLag.recordValue(Math.max(1, Math.round((now - due) * 1000)))
        sent++
      }
      for (const c of conns) {
        if (c.out === '') continue
        c.socket.write(c.out)
        c.out = ''
      }
      if (next >= total) resolve()
      else setTimeout(tick, Math.max(0, Math.min(1, started + next * intervalMs - performance.now())))
    }
    tick()
  })
  const scheduleEnd = performance.now()
  const drainMs = o.drainMs ?? 10000
  while (answered < sent && performance.now() - scheduleEnd < drainMs) await new Promise(resolve => setTimeout(resolve, 5))
  const cpu = process.cpuUsage(cpuBefore)
  for (const c of conns) c.socket.destroy()
  const ms = (h: hdr.Histogram, p: number): number => Number((h.getValueAtPercentile(p) / 1000).toFixed(3))
  const result: OpenLoopResult = {
    rate: o.rate,
    seconds: o.seconds,
    sent,
    answered,
    errors,
    dropped,
    unanswered: sent - answered,
    p50Ms: ms(latency, 50),
    p99Ms: ms(latency, 99),
    p999Ms: ms(latency, 99.9),
    maxMs: Number((latency.maxValue / 1000).toFixed(3)),
    sendLagP999Ms: ms(sendLag, 99.9),
    sendLagMaxMs: Number((sendLag.maxValue / 1000).toFixed(3)),
    generatorCpuUs: Number(((cpu.user + cpu.system) / Math.max(1, sent)).toFixed(1)),
    slow,
    setMs: [ms(sets, 50), ms(sets, 99), ms(sets, 99.9)],
    getMs: [ms(gets, 50), ms(gets, 99), ms(gets, 99.9)]
  }
  latency.destroy()
  sendLag.destroy()
  sets.destroy()
  gets.destroy()
  return result
}
