// bin/dynakv starts a real server with the process settings of lib/cli/launch.ts
// (malloc tunables, V8's semi-space size) in its environment and the V8 flags
// NODE_OPTIONS cannot hold on node's command line, keeps the process id (exec:
// a signal or kill -9 reaches the server itself), and keeps what the caller's
// environment already sets.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, freePorts, tempDir } from '../helpers/server.js'
import { SERVER_ENV, SERVER_NODE_FLAGS, SERVER_NODE_OPTIONS, serverEnv } from '../../lib/cli/launch.js'

const LAUNCHER = join(ROOT, 'bin', 'dynakv')

/** Starts `bin/dynakv server`, waits for its ready line, returns its /proc environment and executable, and stops it. */
async function launched (env: NodeJS.ProcessEnv): Promise<{ environ: Record<string, string>, argv: string[], exe: string, code: number | null }> {
  const [port, peerPort] = await freePorts(2)
  const proc = spawn(LAUNCHER, ['server', '--n', '1', '--r', '1', '--w', '1', '--port', String(port), '--peer-port', String(peerPort), '--dir', tempDir(), '--log-level', 'warn'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 20000)
      const onData = (d: Buffer): void => {
        out += d.toString()
        if (/ready: RESP/.test(out)) {
          clearTimeout(timer)
          resolve()
        }
      }
      proc.stdout.on('data', onData)
      proc.stderr.on('data', onData)
      proc.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`exited with ${String(code)}:\n${out}`))
      })
    })
    const pid = proc.pid as number
    const environ = Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(e => e !== '').map(e => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
    const exe = readlinkSync(`/proc/${pid}/exe`)
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(a => a !== '')
    proc.kill('SIGTERM')
    const code = await new Promise<number | null>(resolve => proc.once('exit', resolve))
    return { environ, argv, exe, code }
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  }
}

const words = (s: string | undefined): string[] => (s ?? '').split(' ').filter(w => w !== '').map(w => w.replace(/^"(.*)"$/, '$1'))

function cleanEnv (): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('MALLOC_') || k === 'NODE_OPTIONS' || k === 'UV_THREADPOOL_SIZE' || k.startsWith('DYNAKV_')) delete env[k]
  return env
}

t.test('bin/dynakv: the server runs in the launcher\'s own process, with the settings of lib/cli/launch.ts', async (t) => {
  const env = cleanEnv()
  const { environ, argv, exe, code } = await launched(env)
  t.match(exe, /node/, 'the launcher exec\'d node: the process id is the server\'s')
  const want = serverEnv(env)
  for (const k of Object.keys(SERVER_ENV)) t.equal(environ[k], want[k], `${k} as launch.ts sets it`)
  // (tap's process tracking adds an --import of its own to every child's NODE_OPTIONS)
  t.same(words(environ.NODE_OPTIONS).filter(w => !w.includes('@tapjs')), words(want.NODE_OPTIONS), 'NODE_OPTIONS as launch.ts sets it')
  for (const f of SERVER_NODE_OPTIONS) t.ok(words(environ.NODE_OPTIONS).includes(f), `NODE_OPTIONS holds ${f}`)
  const script = argv.findIndex(a => a.endsWith('/dist/lib/cli/main.js'))
  t.same(argv.slice(1, script), SERVER_NODE_FLAGS, 'node\'s command line holds SERVER_NODE_FLAGS before the script, and nothing else')
  t.equal(code, 0, 'SIGTERM to that process id stops the server cleanly')
})

t.test('bin/dynakv keeps what the caller set', async (t) => {
  const env = { ...cleanEnv(), MALLOC_TRIM_THRESHOLD_: '1048576', NODE_OPTIONS: '--max-semi-space-size=4 --max-old-space-size=512' }
  const { environ } = await launched(env)
  t.equal(environ.MALLOC_TRIM_THRESHOLD_, '1048576', 'the caller\'s malloc setting')
  t.equal(environ.MALLOC_MMAP_THRESHOLD_, SERVER_ENV.MALLOC_MMAP_THRESHOLD_, 'the one it did not set gets the default')
  const given = words(environ.NODE_OPTIONS).filter(w => !w.includes('@tapjs'))
  t.same(given, ['--max-semi-space-size=4', '--max-old-space-size=512'], 'the caller\'s semi-space size, nothing added')
  t.same(words(serverEnv(env).NODE_OPTIONS), given, 'serverEnv (dynakv cluster\'s children) agrees')
})

t.test('serverEnv adds NODE_OPTIONS flags beside the caller\'s and spells underscores as dashes', async (t) => {
  t.equal(serverEnv({ NODE_OPTIONS: '--max-http-header-size=32768' }).NODE_OPTIONS, ['--max-http-header-size=32768', ...SERVER_NODE_OPTIONS].join(' '))
  t.equal(serverEnv({ NODE_OPTIONS: '--max-old-space-size=512' }).NODE_OPTIONS, ['--max-old-space-size=512', ...SERVER_NODE_OPTIONS.filter(f => !f.startsWith('--max-old-space-size'))].join(' '))
  t.equal(serverEnv({ NODE_OPTIONS: '--max_semi_space_size=2 --max_old_space_size=512' }).NODE_OPTIONS, '--max_semi_space_size=2 --max_old_space_size=512')
  t.equal(serverEnv({}).NODE_OPTIONS, SERVER_NODE_OPTIONS.join(' '))
})
