/**
 * A real `tide up` as a child process (argv arrays, no shell) for the tests that drive it from
 * outside (test/cli/up.test.ts, the dashboard's browser test): its stdout lines as they come, a
 * bounded wait for a line, signals, and a stop that escalates to SIGKILL. Its API takes any free
 * port (`--api-listen 0`) unless the args choose, so that runs in parallel never contend for 7070.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isAlive, listRecords, recordPath } from '../../src/router/data-plane-record.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = join(ROOT, 'bin/tide.js')

/** A running `tide up`: its output so far, a way to wait for a line, and its exit. */
export interface UpRun {
  readonly lines: string[]
  readonly stderr: () => string
  /** Resolves with the first stdout line matching `re`; rejects after timeoutMs or when tide exits first. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>
  /** Sends SIGINT and resolves with the exit status (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<number | null>
  /** Sends a signal (SIGHUP: reload). */
  signal(sig: NodeJS.Signals): void
  readonly exited: Promise<number | null>
}

/**
 * SIGKILLs every data plane recorded in `stateDir` (routing.dataPlane: process), its process
 * group with it (cluster workers, HAProxy), and removes the records: for a test whose tide did not
 * stop cleanly, so that no data plane outlives the test. Returns how many were running.
 */
export function killDataPlanes(stateDir: string): number {
  let killed = 0
  for (const r of listRecords(stateDir)) {
    if (isAlive(r)) {
      killed++
      try {
        process.kill(-r.pid, 'SIGKILL')
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(recordPath(stateDir, r.group), { force: true })
  }
  return killed
}

/**
 * Spawns `tide up` with `args`. Its API takes any free port (`--api-listen 0`) unless the args
 * say otherwise, so that runs in parallel never contend for the default 7070.
 */
export function tideUp(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): UpRun {
  return tideServing('up', args, cwd, env)
}

/** The directories the tides this test process started ran in (their cwd and --state-dir). */
const tideDirs = new Set<string>()

/**
 * The last line of defence against a leaked data plane (routing.dataPlane: process outlives a
 * SIGKILLed tide by design): when the test process exits, every data-plane process whose working
 * directory is one of tideDirs (or under it) is SIGKILLed with its process group. Found through
 * /proc, because a test usually removes the state directory, records included, before it exits.
 */
function sweepDataPlanes(): void {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue
    try {
      if (!readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('data-plane-main')) continue
      const cwd = readlinkSync(`/proc/${e}/cwd`).replace(/ \(deleted\)$/, '')
      if (![...tideDirs].some((d) => cwd === d || cwd.startsWith(`${d}/`))) continue
      try {
        process.kill(-Number(e), 'SIGKILL')
      } catch {
        process.kill(Number(e), 'SIGKILL')
      }
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
}

/** Spawns `tide <command>` (up, demo: the commands that serve the API) as tideUp does. */
export function tideServing(command: 'up' | 'demo', args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): UpRun {
  if (tideDirs.size === 0) process.once('exit', sweepDataPlanes)
  tideDirs.add(resolve(cwd))
  if (args.includes('--state-dir')) tideDirs.add(resolve(cwd, args[args.indexOf('--state-dir') + 1] ?? '.'))
  const api = args.includes('--no-api') || args.includes('--api-listen') ? [] : ['--api-listen', '0']
  const child = spawn(process.execPath, [BIN, command, ...args, ...api], { cwd, env: { ...process.env, TIDE_DEBUG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  const listeners = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
    for (const l of listeners) l()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      for (const l of listeners) l()
      resolve(code)
    })
  })
  return {
    lines,
    stderr: () => stderr,
    exited,
    waitForLine(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find((l) => re.test(l))
          if (hit !== undefined) {
            done()
            resolve(hit)
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done()
            reject(new Error(`tide ${command} exited (${child.exitCode ?? child.signalCode}) before printing ${re}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`no line ${re} within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`))
        }, timeoutMs)
        const done = (): void => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      })
    },
    signal(sig) {
      child.kill(sig)
    },
    async stop(timeoutMs = 60_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      const escalation = { forced: false }
      const timer = setTimeout(() => {
        escalation.forced = true
        child.kill('SIGKILL')
      }, timeoutMs)
      const code = await exited
      clearTimeout(timer)
      // A tide killed here cannot stop its data planes: do it for it, so that none outlives the test.
      const stateDir = args[args.indexOf('--state-dir') + 1]
      if (escalation.forced && args.includes('--state-dir') && stateDir !== undefined) killDataPlanes(stateDir)
      return code
    },
  }
}

