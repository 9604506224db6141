// `npm run jepsen -- --time 600 --seed 7 --nemesis partition,kill,wipe --workload set,register`
// Exit code 0: every checker valid; 1: a violation or nothing judged; 2: bad
// flags; 3: this machine cannot run the test hosts (the reason is printed).
import { UsageError, parseFlags, usage } from '../lib/cli/args.js'
import { realRandom } from '../lib/runtime/random.js'
import { DEFAULTS, run, type RunOptions } from './run.js'
import { FAULT_KINDS, type FaultKind } from './schedule.js'
import { WORKLOAD_NAMES, type WorkloadName } from './workloads/index.js'

const FLAGS = {
  time: { kind: 'int', default: DEFAULTS.timeMs / 1000, min: 5, max: 86400, help: 'seconds of workload and nemesis' },
  seed: { kind: 'int', min: 0, max: 2 ** 31, help: 'seed of the nemesis schedule and the operations (default: random, printed)' },
  nemesis: { kind: 'string', default: DEFAULTS.nemesis.join(','), help: `faults, comma-separated: ${FAULT_KINDS.join(', ')}, or none` },
  combine: { kind: 'bool', default: true, help: 'phases may combine two kinds of fault' },
  workload: { kind: 'string', default: DEFAULTS.workloads.join(','), help: `workloads, comma-separated: ${WORKLOAD_NAMES.join(', ')}` },
  hosts: { kind: 'int', default: DEFAULTS.hosts, min: 3, max: 9, help: 'test hosts (network namespaces), one dynakv node each' },
  concurrency: { kind: 'int', default: DEFAULTS.concurrency, min: 1, max: 200, help: 'client processes' },
  rate: { kind: 'int', default: DEFAULTS.rate, min: 1, max: 100000, help: 'operations per second, all processes together' },
  results: { kind: 'string', default: DEFAULTS.resultsDir, help: 'where the run\'s results directory is made' },
  mutation: { kind: 'enum', values: ['none', 'lose-hints'], default: 'none', help: 'break dynakv on purpose (lose-hints: hosts acknowledge delivered hints and drop them)' },
  'converge-limit': { kind: 'int', default: DEFAULTS.convergeLimitMs / 1000, min: 1, max: 3600, help: 'seconds the replicas may take to agree after the final heal' },
  'clock-offset-max-ms': { kind: 'int', default: DEFAULTS.clockOffsetMsMax, min: 0, max: 3600000, help: 'largest clock offset the clock nemesis sets' }
} as const

function list<T extends string> (flag: string, raw: string, allowed: readonly string[]): T[] {
  if (raw === 'none') return []
  const items = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const i of items) if (!allowed.includes(i)) throw new UsageError(`--${flag}: unknown '${i}' (expected ${allowed.join(', ')})`)
  return items as T[]
}

export function parseJepsenArgs (argv: readonly string[]): Partial<RunOptions> {
  const o = parseFlags(argv, FLAGS, {})
  const workloads = list<WorkloadName>('workload', o.workload as string, WORKLOAD_NAMES)
  if (workloads.length === 0) throw new UsageError('--workload: at least one')
  return {
    timeMs: (o.time as number) * 1000,
    seed: (o.seed as number | undefined) ?? realRandom.int(1_000_000),
    nemesis: list<FaultKind>('nemesis', o.nemesis as string, FAULT_KINDS),
    combine: o.combine as boolean,
    workloads,
    hosts: o.hosts as number,
    concurrency: o.concurrency as number,
    rate: o.rate as number,
    resultsDir: o.results as string,
    mutation: o.mutation === 'none' ? null : 'lose-hints',
    convergeLimitMs: (o.convergeLimit as number) * 1000,
    clockOffsetMsMax: o.clockOffsetMaxMs as number
  }
}

async function main (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`npm run jepsen -- [flags]\n${usage(FLAGS)}\n`)
    return 0
  }
  let options: Partial<RunOptions>
  try {
    options = parseJepsenArgs(argv)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    process.stderr.write(`jepsen: ${e.message}\n`)
    return 2
  }
  const r = await run(options)
  if (r.skipped !== null) {
    process.stderr.write(`jepsen: cannot run here: ${r.skipped}\n`)
    return 3
  }
  return r.valid === true ? 0 : 1
}

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (e: unknown) => {
  process.stderr.write(`jepsen: ${(e as Error).stack ?? String(e)}\n`)
  process.exitCode = 1
})
