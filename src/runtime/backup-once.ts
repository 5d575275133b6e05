/**
 * A group's backup command (lifecycle.backup) run exactly once per instance, across crashes of
 * tide (issue 13, docs/chaos.md "Backups run exactly once").
 *
 * Before the command starts, its run is recorded in the store (StoredBackupRun, state running).
 * It runs under a tiny wrapper, a node program given inline (`node -e`, so it needs no file
 * beside tide's build), which first writes its own pid to `STATE/backups/GROUP/INSTANCE.started`,
 * then runs the argv with the timeout and writes how it ended to `…status` (JSON, written to a
 * temporary file and renamed: never half-written), then exits. The wrapper is its own process
 * group (detached), so a Ctrl-C at tide's terminal does not cut a backup short; it outlives tide
 * only when tide is killed, and then the next tide adopts it:
 * - a run recorded `done`: its result is reported again, the command is not run;
 * - a run recorded `running` whose status file is there: its result is read and recorded;
 * - one whose wrapper (the recorded pid, or the one in the .started file, with the same /proc
 *   start time) still runs: tide waits for its status file;
 * - one whose wrapper is gone without a status file: a failed backup ("ended without a
 *   result"), never run again;
 * - one recorded without a wrapper ever started (no pid, no .started file): tide was killed
 *   between the record and the spawn; it starts it now, the first and only run.
 * Records of instances that are gone are dropped when the next backup of the group starts.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { crashPoint } from '../core/crash-points.ts'
import type { Clock } from '../core/clock.ts'
import { readProcStat } from '../core/proc-stat.ts'
import type { StateStore, StoredBackupRun } from '../store/state-store.ts'
import type { EventSink } from '../store/events.ts'
import { backupEnvironment } from './backup-env.ts'

/** The part of the store backup runs are kept in. */
export type BackupRunStore = Pick<StateStore, 'loadBackupRuns' | 'saveBackupRuns'>

/** How a backup ended: whether it succeeded, and in words ("succeeded", "failed (4): disk full", "timed out after 200 ms"). */
export interface BackupResult {
  readonly ok: boolean
  readonly detail: string
}

/**
 * The wrapper: argv is [statusFile, timeoutMs, cwd or '', command, ...args]. It writes its pid to
 * statusFile.started, runs the command (SIGTERM at the timeout, as execFile does), and writes
 * {ok, detail} to statusFile through a rename. A command that ignores SIGTERM gets SIGKILL 5 s later. Plain JavaScript, run with `node -e`.
 */
export const BACKUP_WRAPPER_SOURCE = `
const { spawn } = require('node:child_process')
const { writeFileSync, renameSync } = require('node:fs')
const [statusFile, timeoutText, cwd, file, ...args] = process.argv.slice(1)
writeFileSync(statusFile + '.started', String(process.pid))
let stderr = ''
let done = false
function finish(result) {
  if (done) return
  done = true
  writeFileSync(statusFile + '.tmp', JSON.stringify(result))
  renameSync(statusFile + '.tmp', statusFile)
  process.exit(0)
}
const timeoutMs = Number(timeoutText)
let timedOut = false
let child
try {
  child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(cwd === '' ? {} : { cwd }) })
} catch (err) {
  finish({ ok: false, detail: 'failed (' + (err.code || err.message) + ')' })
}
const timer = setTimeout(() => {
  timedOut = true
  child.kill('SIGTERM')
  // A command that ignores SIGTERM is killed 5 s later: the wrapper always ends, and says so.
  setTimeout(() => child.kill('SIGKILL'), 5000).unref()
}, timeoutMs)
child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4096) })
child.on('error', (err) => { clearTimeout(timer); finish({ ok: false, detail: 'failed (' + (err.code || err.message) + ')' }) })
child.on('close', (code, signal) => {
  clearTimeout(timer)
  if (timedOut) finish({ ok: false, detail: 'timed out after ' + timeoutMs + ' ms' })
  else if (code === 0) finish({ ok: true, detail: 'succeeded' })
  else finish({ ok: false, detail: 'failed (' + (code === null ? signal : code) + ')' + (stderr.trim() ? ': ' + stderr.trim().slice(0, 200) : '') })
})
`

/** What BackupRunner needs. */
export interface BackupRunnerOptions {
  readonly store: BackupRunStore
  /** tide's state directory: status files go under backups/GROUP/. */
  readonly stateDir: string
  readonly events: EventSink
  readonly clock: Clock
  /** Between checks of a running backup's status file, ms; 100 by default. */
  readonly pollMs?: number
  /** Where /proc is (tests); '/proc' by default. */
  readonly procRoot?: string
  /** Makes the run's record durable before the wrapper starts (a PostgreSQL store's flush); SQLite writes at once. */
  readonly persist?: () => Promise<void>
}

/** What one backup is to run: the argv, its environment (launch.env and TIDE_* variables), timeout and folder. */
export interface BackupCommand {
  readonly argv: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly timeoutMs: number
  readonly cwd?: string | undefined
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs backups exactly once per instance (see the module comment). */
export class BackupRunner {
  readonly #o: BackupRunnerOptions
  /** Backups this process is waiting on, by group/instance: a second drain of the instance waits on the same one. */
  readonly #inFlight = new Map<string, Promise<BackupResult>>()

  constructor(options: BackupRunnerOptions) {
    this.#o = options
  }

  /**
   * The backup of `instanceId`: its result, from this run, an adopted one, or the one recorded.
   * `live` lists the group's instances now (records of others are dropped when a run starts).
   * Never rejects: a failure to start is a failed result.
   */
  run(group: string, instanceId: string, command: BackupCommand, live?: ReadonlySet<string>): Promise<BackupResult> {
    const key = `${group}/${instanceId}`
    let p = this.#inFlight.get(key)
    if (p === undefined) {
      p = this.#run(group, instanceId, command, live).finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, p)
    }
    return p
  }

  async #run(group: string, instanceId: string, command: BackupCommand, live: ReadonlySet<string> | undefined): Promise<BackupResult> {
    const prior = this.#o.store.loadBackupRuns(group).find((r) => r.instanceId === instanceId)
    if (prior?.state === 'done') {
      const result = { ok: prior.ok === true, detail: prior.detail ?? 'ended' }
      this.#emit(group, instanceId, `backup of ${instanceId} already ran (${result.detail}); not run again`)
      return result
    }
    if (prior !== undefined) {
      const adopted = await this.#adopt(group, prior)
      if (adopted !== undefined) return adopted
    }
    return this.#start(group, instanceId, command, live, prior)
  }

  /** A run recorded as running by an earlier tide: its result, waited for if it still runs; undefined when it never started. */
  async #adopt(group: string, run: StoredBackupRun): Promise<BackupResult | undefined> {
    const result = readResult(run.statusFile)
    if (result !== undefined) {
      this.#emit(group, run.instanceId, `backup of ${run.instanceId} had ended while tide was down (${result.detail}): result read, not run again`)
      return this.#finish(group, run, result)
    }
    const wrapper = this.#wrapperOf(run)
    if (wrapper === undefined) return undefined
    if (!this.#alive(wrapper.pid, wrapper.startTime)) {
      // Its status file may have appeared since the first look.
      const late = readResult(run.statusFile) ?? { ok: false, detail: `ended without a result (its wrapper, pid ${wrapper.pid}, is gone); not run again` }
      this.#emit(group, run.instanceId, `backup of ${run.instanceId}: ${late.detail}`)
      return this.#finish(group, run, late)
    }
    this.#emit(group, run.instanceId, `adopted the backup of ${run.instanceId} still running (pid ${wrapper.pid}): waiting for its result, not running it again`)
    return this.#finish(group, run, await this.#wait(run.statusFile, wrapper.pid, wrapper.startTime))
  }

  /** The wrapper of a run: as recorded, or from its .started file when tide died before recording it; undefined when it never started. */
  #wrapperOf(run: StoredBackupRun): { pid: number; startTime: string | undefined } | undefined {
    if (run.pid !== undefined) return { pid: run.pid, startTime: run.startTime }
    let text: string
    try {
      text = readFileSync(`${run.statusFile}.started`, 'utf8')
    } catch {
      return undefined
    }
    const pid = Number(text.trim())
    // A .started file is written by the wrapper itself; without a pid in it, it started and died mid-write.
    return Number.isInteger(pid) && pid > 0 ? { pid, startTime: undefined } : { pid: 0, startTime: undefined }
  }

  /** Whether the process `pid` (with that /proc start time, when known) still runs. */
  #alive(pid: number, startTime: string | undefined): boolean {
    if (pid <= 0) return false
    const stat = readProcStat(pid, this.#o.procRoot)
    if (stat === undefined || stat.state === 'Z') return false
    return startTime === undefined || stat.startTime === startTime
  }

  async #start(group: string, instanceId: string, command: BackupCommand, live: ReadonlySet<string> | undefined, prior: StoredBackupRun | undefined): Promise<BackupResult> {
    const dir = join(this.#o.stateDir, 'backups', group)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const statusFile = prior?.statusFile ?? join(dir, `${instanceId}.status`)
    const base: StoredBackupRun = { instanceId, state: 'running', startedAtMs: this.#o.clock.now(), statusFile }
    // The record first: from here on a restarted tide knows this backup may have started.
    this.#save(group, base, live)
    try {
      await this.#o.persist?.()
    } catch (err) {
      // Not started: the record stays without a wrapper, so the next drain of the instance starts it (once).
      return { ok: false, detail: `not started: its record could not be made durable (${err instanceof Error ? err.message : String(err)})` }
    }
    const [file, ...args] = command.argv
    if (file === undefined) return this.#finish(group, base, { ok: false, detail: 'empty command' })
    const child = spawn(process.execPath, ['-e', BACKUP_WRAPPER_SOURCE, statusFile, String(command.timeoutMs), command.cwd ?? '', file, ...args], {
      env: backupEnvironment(process.env, command.env),
      detached: true,
      stdio: 'ignore',
    })
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve()
      })
      child.once('error', () => {
        resolve()
      })
    })
    // Not unref()ed: tide waits for its backups (a stop drains first); only a kill leaves the wrapper to the next tide.
    const pid = child.pid
    if (pid === undefined) {
      await exited
      return this.#finish(group, base, { ok: false, detail: 'failed (its wrapper could not start)' })
    }
    const startTime = readProcStat(pid, this.#o.procRoot)?.startTime
    const run: StoredBackupRun = { ...base, pid, ...(startTime === undefined ? {} : { startTime }) }
    this.#save(group, run, live)
    crashPoint('scale-in:backup-running')
    await exited
    const result = readResult(statusFile) ?? (await this.#wait(statusFile, pid, startTime))
    return this.#finish(group, run, result)
  }

  /** Polls the status file until it is there, or the wrapper is gone without it. */
  async #wait(statusFile: string, pid: number, startTime: string | undefined): Promise<BackupResult> {
    for (;;) {
      const result = readResult(statusFile)
      if (result !== undefined) return result
      if (!this.#alive(pid, startTime)) return readResult(statusFile) ?? { ok: false, detail: `ended without a result (its wrapper, pid ${pid}, is gone)` }
      await sleep(this.#o.pollMs ?? 100)
    }
  }

  /** Records a run's result (kept until the instance is gone, so it is never run again). */
  #finish(group: string, run: StoredBackupRun, result: BackupResult): BackupResult {
    this.#save(group, { ...run, state: 'done', ok: result.ok, detail: result.detail }, undefined)
    crashPoint('scale-in:backup-done')
    return result
  }

  /** Replaces the instance's run in the group's list; with `live`, drops the runs of instances no longer there. */
  #save(group: string, run: StoredBackupRun, live: ReadonlySet<string> | undefined): void {
    const others = this.#o.store.loadBackupRuns(group).filter((r) => r.instanceId !== run.instanceId && (live === undefined || live.has(r.instanceId)))
    this.#o.store.saveBackupRuns(group, [...others, run])
  }

  #emit(group: string, instanceId: string, message: string): void {
    this.#o.events.append({ atMs: this.#o.clock.now(), group, type: 'recovered', message, instanceId })
  }
}

/** The result a wrapper wrote, or undefined when there is none (yet) or it cannot be read. */
function readResult(statusFile: string): BackupResult | undefined {
  if (!existsSync(statusFile)) return undefined
  try {
    const v = JSON.parse(readFileSync(statusFile, 'utf8')) as { ok?: unknown; detail?: unknown }
    return { ok: v.ok === true, detail: typeof v.detail === 'string' ? v.detail : 'ended' }
  } catch {
    return { ok: false, detail: `its status file ${statusFile} cannot be read` }
  }
}
