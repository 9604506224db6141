// Test hosts on this machine: one Linux network namespace per host, a veth pair
// from each into a bridge in the root namespace, addresses 10.77.<slot>.11.. on
// a private /24 (the bridge is .1, where the test's clients are). Partitions
// are iptables DROP rules inside the namespaces (chain `jepsen`, from INPUT),
// so the clients in the root namespace keep reaching every host.
//
//   root ns: clients ── dkj<slot>-br (10.77.<slot>.1) ──┬── dkj<slot>-n1 ═ eth0 10.77.<slot>.11 (ns dkj<slot>-n1)
//                                                       ├── dkj<slot>-n2 ═ eth0 10.77.<slot>.12 (ns dkj<slot>-n2)
//                                                       └── ...
//
// Runs take a slot (a lock file holding their pid under /tmp/dynakv-jepsen),
// so two runs at once (the short run and the mutation run of `npm test`) get
// distinct names and subnets. Before taking one, a run sweeps what runs that
// died left behind: namespaces and links named dkj<slot>-*, the processes
// still inside those namespaces, the slot's data directory. Needs root.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Grudge } from './partitions.js'

export const PREFIX = 'dkj'
const LOCK_DIR = '/tmp/dynakv-jepsen'
const SLOTS = 32
const CHAIN = 'jepsen'
const execFileAsync = promisify(execFile)

export interface NetHost {
  name: string
  ns: string
  addr: string
}

export interface Net {
  slot: number
  bridge: string
  /** The root namespace's address on the bridge (where clients connect from). */
  gateway: string
  hosts: NetHost[]
}

function sh (cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function quietly (cmd: string, args: string[]): void {
  try {
    sh(cmd, args)
  } catch {}
}

async function shAsync (cmd: string, args: string[]): Promise<void> {
  await execFileAsync(cmd, args)
}

function firstLine (e: unknown): string {
  const err = e as { stderr?: string, message: string }
  return (err.stderr ?? err.message).trim().split('\n')[0]
}

/** Why this machine cannot run the test hosts (null: it can). Makes and removes a probe namespace. */
export function cannotRun (): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces and iptables rules (CI runs as root)'
  for (const tool of ['ip', 'iptables', 'iptables-restore']) {
    try {
      sh('sh', ['-c', `command -v ${tool}`])
    } catch {
      return `${tool} is not installed (apt-get install iproute2 iptables)`
    }
  }
  const probe = `${PREFIX}probe-${process.pid}`
  try {
    sh('ip', ['netns', 'add', probe])
    sh('ip', ['netns', 'exec', probe, 'iptables', '-S'])
    return null
  } catch (e) {
    return `cannot create a network namespace with iptables in it: ${firstLine(e)}`
  } finally {
    quietly('ip', ['netns', 'del', probe])
  }
}

/** Why slow links cannot use tc netem here (null: they can). */
export function netemProblem (): string | null {
  const probe = `${PREFIX}probe-${process.pid}`
  try {
    sh('ip', ['netns', 'add', probe])
    sh('ip', ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'])
    return null
  } catch (e) {
    return `tc netem: ${firstLine(e)}`
  } finally {
    quietly('ip', ['netns', 'del', probe])
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'
  }
}

const lockFile = (slot: number): string => join(LOCK_DIR, `slot-${slot}.pid`)

/** Where the slot's nodes keep their data directories. */
export const dataDirOf = (slot: number): string => join(LOCK_DIR, `slot-${slot}-data`)

function namespaces (): string[] {
  try {
    return sh('ip', ['netns', 'list']).split('\n').map(l => l.split(' ')[0]).filter(n => n.startsWith(PREFIX))
  } catch {
    return []
  }
}

/** Removes everything of one slot: the processes inside its namespaces (a dead run's nodes), the namespaces, the links, the data. */
export function sweep (slot: number): string[] {
  const removed: string[] = []
  rmSync(dataDirOf(slot), { recursive: true, force: true })
  const prefix = `${PREFIX}${slot}-`
  for (const ns of namespaces().filter(n => n.startsWith(prefix))) {
    let pids: number[] = []
    try {
      pids = sh('ip', ['netns', 'pids', ns]).split('\n').filter(l => l !== '').map(Number)
    } catch {}
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    quietly('ip', ['netns', 'del', ns])
    removed.push(`namespace ${ns}` + (pids.length > 0 ? ` (killed ${pids.join(', ')})` : ''))
  }
  let links: string[] = []
  try {
    links = sh('ip', ['-o', 'link', 'show']).split('\n').map(l => l.split(': ')[1]?.split('@')[0] ?? '').filter(n => n.startsWith(prefix))
  } catch {}
  for (const link of links) {
    quietly('ip', ['link', 'del', link])
    removed.push(`link ${link}`)
  }
  return removed
}

/** Sweeps the slots of runs that are gone: a lock file whose process died, or namespaces with no lock file. */
export function sweepAbandoned (): string[] {
  mkdirSync(LOCK_DIR, { recursive: true })
  const removed: string[] = []
  const locked = new Set<number>()
  for (const f of readdirSync(LOCK_DIR)) {
    const m = /^slot-(\d+)\.pid$/.exec(f)
    if (m === null) continue
    const slot = Number(m[1])
    const pid = Number(readFileSync(join(LOCK_DIR, f), 'utf8'))
    if (pid > 0 && alive(pid)) {
      locked.add(slot)
      continue
    }
    removed.push(...sweep(slot))
    rmSync(join(LOCK_DIR, f), { force: true })
  }
  for (const ns of namespaces()) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(ns)
    if (m !== null && !locked.has(Number(m[1]))) removed.push(...sweep(Number(m[1])))
  }
  return removed
}

/** A slot of this process's own: its lock file made, its leftovers swept. */
export function acquireSlot (): number {
  sweepAbandoned()
  for (let slot = 0; slot < SLOTS; slot++) {
    try {
      writeFileSync(lockFile(slot), String(process.pid), { flag: 'wx' })
    } catch {
      continue
    }
    sweep(slot)
    return slot
  }
  throw new Error(`all ${SLOTS} test-host slots are taken (${LOCK_DIR})`)
}

export function releaseSlot (slot: number): void {
  try {
    if (Number(readFileSync(lockFile(slot), 'utf8')) === process.pid) rmSync(lockFile(slot))
  } catch {}
}

/** The bridge, the namespaces and their veths, an empty `jepsen` chain in each. */
export function createNet (slot: number, names: readonly string[]): Net {
  const bridge = `${PREFIX}${slot}-br`
  const gateway = `10.77.${slot}.1`
  const net: Net = { slot, bridge, gateway, hosts: [] }
  sh('ip', ['link', 'add', bridge, 'type', 'bridge'])
  sh('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge])
  sh('ip', ['link', 'set', bridge, 'up'])
  names.forEach((name, i) => {
    const ns = `${PREFIX}${slot}-${name}`
    const addr = `10.77.${slot}.${11 + i}`
    const inside = `${PREFIX}${slot}-${name}p`
    sh('ip', ['netns', 'add', ns])
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    sh('ip', ['link', 'add', ns, 'type', 'veth', 'peer', 'name', inside])
    sh('ip', ['link', 'set', inside, 'netns', ns])
    sh('ip', ['-n', ns, 'link', 'set', inside, 'name', 'eth0'])
    sh('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    sh('ip', ['link', 'set', ns, 'master', bridge])
    sh('ip', ['link', 'set', ns, 'up'])
    sh('ip', ['netns', 'exec', ns, 'iptables', '-N', CHAIN])
    sh('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-j', CHAIN])
    net.hosts.push({ name, ns, addr })
  })
  return net
}

function host (net: Net, name: string): NetHost {
  const h = net.hosts.find(x => x.name === name)
  if (h === undefined) throw new Error(`no host ${name}`)
  return h
}

/** Replaces every host's drops with the grudge's (an empty grudge heals): one iptables-restore per host. */
export async function applyGrudge (net: Net, grudge: Grudge): Promise<void> {
  await Promise.all(net.hosts.map(async (h) => {
    // Declaring the chain in a --noflush restore empties it; the rules follow.
    const rules = (grudge[h.name] ?? []).map(from => `-A ${CHAIN} -s ${host(net, from).addr} -j DROP`)
    await feed('ip', ['netns', 'exec', h.ns, 'iptables-restore', '--noflush'], ['*filter', `:${CHAIN} - [0:0]`, ...rules, 'COMMIT', ''].join('\n'))
  }))
}

/** Runs a command with input on its stdin; rejects with its stderr on a non-zero exit. */
function feed (cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8') })
    child.once('error', reject)
    child.once('exit', (code) => code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${String(code)}: ${stderr.trim()}`)))
    child.stdin.end(input)
  })
}

/** Delays everything a host sends (tc netem on its eth0); 0 removes the delay. */
export async function netemDelay (net: Net, name: string, delayMs: number): Promise<void> {
  const ns = host(net, name).ns
  if (delayMs > 0) await shAsync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'netem', 'delay', `${delayMs}ms`])
  else await shAsync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']).catch(() => {})
}
