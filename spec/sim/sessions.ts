// Read-your-writes for client sessions (the checker of the `sessions`
// scenario and of the stale-read plant, spec/sim/plants.ts).
//
// Each session is one client, sequential, the only writer of its own key: it
// SETs the key to values it never wrote before and GETs it back, through any
// node. With N=3, R=2, W=2 and every node up (no partition, no loss: a sloppy
// quorum would not promise it), a read quorum meets the write quorum of every
// acknowledged write, so a session's GET must return
//
//   the value of its last acknowledged SET before the GET, or of a SET after
//   that one whose outcome is unknown (it may have been stored), and nothing
//   else; before any acknowledged SET, also nil.
//
// That is read-your-writes, and with it monotonic reads over acknowledged
// writes (a write of unknown outcome may sit on one replica: a read may see
// it and the next one miss it). "Before" is the
// session's own order (it waits for each reply), so no timestamps are
// compared. `record*` take a hand-made history (spec/sim/sessions.spec.ts).
import type { Random } from '../../lib/runtime/random.js'
import type { SimCluster } from './harness.js'
import { replyText } from './checkers.js'
import { OpLog, pick, type Op } from './typed.js'

export class SessionHistory {
  readonly log = new OpLog()
  /** Each session's operations, in its order. */
  private readonly sessions = new Map<number, Op[]>()
  private uid = 0

  /** The key session s owns. */
  static keyOf (s: number): string {
    return `rw${s}`
  }

  /**
   * One step of session s: half the time a SET of a new value through a random
   * running node and at once a GET through another (the replica the write
   * reached last may not hold it yet), else a GET.
   */
  async step (c: SimCluster, rnd: Random, s: number): Promise<void> {
    const key = SessionHistory.keyOf(s)
    const node = pick(rnd, c.running())
    if (rnd.next() < 0.5) {
      this.record(s, await this.log.run(c, node, 'SET', key, `${key}-v${this.uid++}`))
      this.record(s, await this.log.run(c, pick(rnd, c.running().filter(n => n !== node)), 'GET', key))
    } else {
      this.record(s, await this.log.run(c, node, 'GET', key))
    }
  }

  /** A completed operation of session s (from the simulation, or a hand-made history). */
  record (s: number, op: Op): void {
    const ops = this.sessions.get(s) ?? []
    ops.push(op)
    this.sessions.set(s, ops)
  }

  /** Acknowledged GETs checked. */
  reads (): number {
    return [...this.sessions.values()].flat().filter(o => o.args[0] === 'GET' && o.outcome === 'ok').length
  }

  check (): string[] {
    const problems: string[] = []
    for (const [s, ops] of this.sessions) {
      // Values a GET may return now: the last acknowledged SET's (or nil before one), then the unknown ones since.
      let allowed: Array<string | null> = [null]
      for (const op of ops) {
        if (op.args[0] === 'SET') {
          if (op.outcome === 'ok') allowed = [op.args[2]]
          else if (op.outcome === 'unknown') allowed.push(op.args[2])
          continue
        }
        if (op.outcome !== 'ok') continue
        const got = op.reply.type === 'null' ? null : op.reply.type === 'bulk' ? replyText(op.reply) : undefined
        if (got === undefined || !allowed.includes(got)) {
          problems.push(`session ${s}: ${op.args.join(' ')} via ${op.node} at ${op.invokedMs} returned ${got === undefined ? JSON.stringify(op.reply) : got ?? 'nil'}, not ${allowed.map(v => v ?? 'nil').join(' or ')} (read-your-writes)`)
        }
      }
    }
    return problems
  }
}
