// A client load for operations specs (scaling, rolling restarts): writers put
// unique keys and read back their own earlier keys through whichever nodes are
// running, and every outcome is classified. An acknowledged write must never
// be lost; a request may fail only as documented: -NOQUORUM (docs/design.md#errors), or
// because the node the client talked to went away (its connection closed or
// was refused: the client tries another node). Anything else is a defect.
import type { TestCluster } from './cluster.js'
import { sleep } from './server.js'

export interface LoadReport {
  /** Keys whose SET was acknowledged, with the value. */
  acked: Map<string, string>
  reads: number
  noQuorum: number
  /** The node was stopping or stopped: connection closed, refused or not writable. */
  unavailable: number
  /** Every other failure, with its message: must stay empty. */
  other: string[]
}

export interface Load {
  readonly report: LoadReport
  stop (): Promise<LoadReport>
}

const UNAVAILABLE = /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|connection closed|Stream isn't writeable|enableOfflineQueue/

/** targets: the nodes to send to now (running ones). Bounded: opsMax per writer, and no new request after durationMsMax. */
export function startLoad (c: TestCluster, targets: () => string[], writers = 3, opsMax = 20_000, durationMsMax = 300_000): Load {
  const report: LoadReport = { acked: new Map(), reads: 0, noQuorum: 0, unavailable: 0, other: [] }
  let running = true
  const deadline = Date.now() + durationMsMax
  const loops = Array.from({ length: writers }, async (_, w) => {
    const mine: string[] = []
    for (let i = 0; running && i < opsMax && Date.now() < deadline; i++) {
      const nodes = targets()
      const at = nodes[(i + w) % nodes.length]
      const read = i % 3 === 2 && mine.length > 0
      const key = read ? mine[(i * 7) % mine.length] : `load${w}-${i}`
      try {
        if (read) {
          await c.call(at, 'GET', key)
          report.reads++
        } else {
          await c.call(at, 'SET', key, `v${i}`)
          report.acked.set(key, `v${i}`)
          mine.push(key)
        }
      } catch (e) {
        const message = (e as Error).message
        if (message.startsWith('NOQUORUM ')) report.noQuorum++
        else if (UNAVAILABLE.test(message)) report.unavailable++
        else report.other.push(`${read ? 'GET' : 'SET'} ${key} at ${at}: ${message}`)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    }
  })
  return {
    report,
    stop: async () => {
      running = false
      await Promise.all(loops)
      return report
    }
  }
}

/**
 * Keys of `acked` that the node does not return with their acknowledged
 * value, each with what it returned. Read with MGET in batches; a key whose
 * own read failed in the batch (a quorum read that timed out on a busy
 * machine) is read again alone, up to five times half a second apart,
 * before it counts; a wrong value or nil counts at once.
 */
export async function unreadable (c: TestCluster, at: string, acked: ReadonlyMap<string, string>): Promise<string[]> {
  const keys = [...acked.keys()]
  const bad: string[] = []
  for (let i = 0; i < keys.length; i += 100) {
    const batch = keys.slice(i, i + 100)
    const values: unknown[] = await (await c.ready(at)).mget(...batch)
    for (let j = 0; j < batch.length; j++) {
      let v = values[j]
      for (let attempt = 0; v instanceof Error && attempt < 5; attempt++) {
        await sleep(500)
        v = await c.call(at, 'GET', batch[j]).catch((e: Error) => e)
      }
      if (v !== acked.get(batch[j])) bad.push(`${batch[j]} (${v instanceof Error ? `error: ${v.message}` : `got ${JSON.stringify(v)}`})`)
    }
  }
  return bad
}
