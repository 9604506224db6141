// Loaded into a dynakv server by bench/profile (`node --import .../cpu-probe.js`):
// SIGUSR2 starts V8's sampling CPU profiler on the JavaScript thread (one sample
// per DYNAKV_PROBE_INTERVAL_US, default 250 µs), the next SIGUSR2 stops it and
// writes the profile to DYNAKV_PROBE_DIR/cpu-<pid>-<n>.cpuprofile, then prints
// `cpu-probe <path>`. So a profile covers the measured load only, not start-up
// or warm-up (node --cpu-prof covers the whole life).
import { Session } from 'node:inspector'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = process.env.DYNAKV_PROBE_DIR ?? '.'
const intervalUs = Number(process.env.DYNAKV_PROBE_INTERVAL_US ?? 250)
const session = new Session()
session.connect()
let running = false
let n = 0

process.on('SIGUSR2', () => {
  if (!running) {
    running = true
    session.post('Profiler.enable', () => {
      session.post('Profiler.setSamplingInterval', { interval: intervalUs }, () => {
        session.post('Profiler.start')
      })
    })
    return
  }
  running = false
  session.post('Profiler.stop', (err, result) => {
    if (err !== null) {
      process.stderr.write(`cpu-probe error ${err.message}\n`)
      return
    }
    const path = join(dir, `cpu-${process.pid}-${++n}.cpuprofile`)
    writeFileSync(path, JSON.stringify(result.profile))
    process.stderr.write(`cpu-probe ${path}\n`)
  })
})
