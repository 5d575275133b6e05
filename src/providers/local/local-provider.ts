/**
 * The `local` provider: instances are child processes on this machine (DESIGN.md,
 * "One deployment, three sizes"). Each instance is the group's `launch.command` argv
 * started without a shell, on a free loopback port of its own, with PORT, TIDE_CPU and
 * TIDE_MEMORY_MIB in its environment, detached into its own session and process group
 * so that it outlives a restart of tide. Its stdout and stderr go to
 * `<stateDir>/logs/<group>/<id>.log`.
 *
 * Every instance is recorded in an InstanceRegistry with its pid AND the process start
 * time from /proc/<pid>/stat; an instance is alive only while a process with that pid
 * and that start time runs, so a pid the kernel recycled is never mistaken for ours.
 * A new provider over the same registry therefore adopts the instances of an earlier
 * tide process without relaunching them. An instance spawned by a tide that was killed before
 * it recorded it is found too: every instance has TIDE_STATE_DIR, TIDE_GROUP and
 * TIDE_INSTANCE_ID in its environment, and the first list() of a group by a provider object
 * records the group's live processes with this state directory that the registry does not know
 * (the leader of their process group, as launch spawned them).
 *
 * A 'failed' record carries in its meta how the process ended (`exit`: "code 1", "signal
 * SIGKILL", when this object spawned it) and the last lines of its log (`logTail`).
 *
 * Resizing is 'replace': the controller launches the new size, waits until it is
 * healthy, drains and terminates the old instance.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { systemClock } from '../../core/clock.ts'
import { findFreePort } from '../../core/free-port.ts'
import { probeHttp } from '../../core/http-probe.ts'
import type { Clock } from '../../core/clock.ts'
import { crashPoint } from '../../core/crash-points.ts'
import { processesWithEnv } from '../../core/proc-environ.ts'
import { isSameLiveProcess, readProcStat } from '../../core/proc-stat.ts'
import type { GroupSpec, Size } from '../../spec/schema.ts'
import { InsufficientCapacityError, LaunchFailedError, ProviderConfigError, type ProviderError } from '../errors.ts'
import type { InstanceRecord, Provider, ProviderCapabilities, ProviderStatus } from '../provider.ts'
import { logTail } from './log-tail.ts'
import type { InstanceRegistry, LocalInstanceEntry } from './instance-registry.ts'

/** The health-path statuses that make an instance ready: 2xx only (the router's checks also accept 3xx). */
const readyStatuses = [200, 299] as const

/** How a LocalProvider is set up. Only `registry` and `stateDir` are required. */
export interface LocalProviderOptions {
  /** Where instance records live; shared by every provider object that should adopt the same instances. */
  readonly registry: InstanceRegistry
  /** Directory for per-instance log files (`logs/<group>/<id>.log`); created when missing. */
  readonly stateDir: string
  /** Time source for launchedAtMs/readyAtMs/stoppingAtMs. Default: the system clock. */
  readonly clock?: Clock
  /** Loopback address instances bind and are probed on. Default 127.0.0.1. */
  readonly host?: string
  /** How long terminate() waits after SIGTERM before SIGKILL, in ms. Default 10 000. */
  readonly stopTimeoutMs?: number
  /** Where /proc is mounted (tests point this at fixtures). Default /proc. */
  readonly procRoot?: string
  /** Whether instances inherit tide's own environment (PATH, HOME, …) under launch.env. Default true. */
  readonly inheritEnv?: boolean
  /**
   * Variables of tide's own environment that instances never inherit: secrets of tide
   * itself. Default ['TIDE_API_TOKEN']; pass the config's api.tokenEnv when it differs.
   * launch.env may still set them explicitly.
   */
  readonly withholdEnv?: readonly string[]
}

/**
 * errno codes that mean this machine has no room for another instance now: no process slot
 * or memory to fork (EAGAIN, ENOMEM), no file descriptor (EMFILE, ENFILE), no port or socket
 * buffer (EADDRINUSE, ENOBUFS). Room may free up as instances stop.
 */
const NO_ROOM_CODES: ReadonlySet<string> = new Set(['EAGAIN', 'ENOMEM', 'EMFILE', 'ENFILE', 'EADDRINUSE', 'ENOBUFS'])

/**
 * The provider error for a failed launch step of `group`: finding a free `'port'`, or starting
 * `{ command }` (its argv[0]). No room on this machine (NO_ROOM_CODES, or a port search that
 * ran out of candidates, which carries no errno) is an InsufficientCapacityError, so the
 * controller backs launches off; a command that cannot run (ENOENT, EACCES, …) is a
 * LaunchFailedError that is not retryable; a port search that fails otherwise (a host that is
 * not this machine's) stays a retryable LaunchFailedError.
 */
export function launchErrorOf(group: string, step: 'port' | { readonly command: string }, err: unknown): ProviderError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  const reason = code ?? (err instanceof Error ? err.message : String(err))
  const what = step === 'port' ? 'port search' : `cannot start ${step.command}`
  if ((code !== undefined && NO_ROOM_CODES.has(code)) || (step === 'port' && code === undefined)) {
    return new InsufficientCapacityError('local', `group ${group}: ${what}: ${reason} (this machine has no room for another instance now)`, { cause: err })
  }
  return new LaunchFailedError('local', `group ${group}: ${what}: ${reason}`, step === 'port', { cause: err })
}

/** How an owned child process ended, as Node reported it. */
interface ExitInfo {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** The local provider. See the module comment for its behaviour. */
export class LocalProvider implements Provider {
  readonly name = 'local'
  readonly capabilities: ProviderCapabilities = { resize: 'replace', adopts: true }

  readonly #registry: InstanceRegistry
  readonly #stateDir: string
  readonly #clock: Clock
  readonly #host: string
  readonly #stopTimeoutMs: number
  readonly #procRoot: string
  readonly #inheritEnv: boolean
  readonly #withholdEnv: readonly string[]
  /** Exit status of children this object spawned, by instance id (for the 'failed' record's meta). */
  readonly #exits = new Map<string, ExitInfo>()
  /** Resolves when a child this object spawned has exited and been reaped, by instance id. */
  readonly #exited = new Map<string, Promise<void>>()
  /**
   * Ports handed out by this object in the last minute, by when: an instance may not
   * have bound its port yet, and the kernel could offer it again. After a minute the
   * instance has bound it (and it is in the registry) or has failed.
   */
  readonly #portsHandedOut = new Map<number, number>()
  /** Groups whose unrecorded instances (spawned by a tide killed before recording them) this object has looked for. */
  readonly #swept = new Set<string>()

  constructor(options: LocalProviderOptions) {
    this.#registry = options.registry
    this.#stateDir = options.stateDir
    this.#clock = options.clock ?? systemClock
    this.#host = options.host ?? '127.0.0.1'
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000
    this.#procRoot = options.procRoot ?? '/proc'
    this.#inheritEnv = options.inheritEnv ?? true
    this.#withholdEnv = options.withholdEnv ?? ['TIDE_API_TOKEN']
  }

  /**
   * Every recorded instance of the group, observed now:
   * - the process is gone and terminate() had been called → the record is dropped;
   * - the process is gone otherwise (crashed, killed, pid recycled) → 'failed', kept
   *   until the controller calls terminate() on it (as a Kubernetes pod in phase Failed);
   * - alive and terminate() in progress → 'stopping';
   * - alive and ready once → 'running';
   * - alive, not yet ready → one GET of the health path; 2xx makes it 'running' with
   *   readyAtMs = now (recorded, so later lists and other provider objects agree),
   *   anything else leaves it 'starting'.
   */
  async list(group: GroupSpec): Promise<InstanceRecord[]> {
    if (!this.#swept.has(group.group)) {
      this.#swept.add(group.group)
      this.#recordUnrecorded(group)
    }
    const entries = this.#registry.list(group.group)
    const observed = await Promise.all(entries.map((e) => this.#observe(group, e)))
    return observed.filter((r): r is InstanceRecord => r !== undefined)
  }

  /**
   * Starts `count` instances of `size` one after another and records each before
   * returning it with status 'starting'. Throws ProviderConfigError when the group has
   * no launch command and LaunchFailedError when the command cannot be started
   * (instances launched before the failure stay recorded and show up in list()).
   */
  async launch(group: GroupSpec, size: Size, count: number): Promise<InstanceRecord[]> {
    const launch = group.launch
    if (launch === undefined) {
      throw new ProviderConfigError('local', `group ${group.group}: the local provider needs launch.command`)
    }
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`launch count must be a non-negative integer, got ${count}`)
    const records: InstanceRecord[] = []
    for (let i = 0; i < count; i++) {
      const entry = await this.#launchOne(group, launch, size)
      records.push(this.#record(entry, 'starting'))
    }
    return records
  }

  /**
   * Stops one instance: SIGTERM to its process group, up to stopTimeoutMs for it to
   * exit, then SIGKILL; the record is removed once the process is gone. Idempotent: an
   * unknown id, an instance already gone, or one recorded with a recycled pid (which is
   * never signalled) just has its record removed.
   */
  async terminate(group: GroupSpec, instanceId: string): Promise<void> {
    const entry = this.#find(group.group, instanceId)
    if (entry === undefined) return
    if (this.#alive(entry)) {
      if (entry.stoppingAtMs === undefined) this.#registry.put({ ...entry, stoppingAtMs: this.#clock.now() })
      this.#signal(entry, 'SIGTERM')
      if (!(await this.#waitForExit(entry, this.#stopTimeoutMs))) {
        this.#signal(entry, 'SIGKILL')
        await this.#waitForExit(entry, 5_000)
      }
      // Whatever the leader left behind in its process group (helpers, shells) goes too.
      // Only when we saw our leader alive: the kernel does not hand out a pid that is
      // still some group's pgid, so the group is ours. Never for a recycled pid.
      killGroupQuietly(entry.pid, 'SIGKILL')
    }
    this.#registry.remove(group.group, instanceId)
    this.#exits.delete(instanceId)
    this.#exited.delete(instanceId)
  }

  async #launchOne(group: GroupSpec, launch: NonNullable<GroupSpec['launch']>, size: Size): Promise<LocalInstanceEntry> {
    const [command, ...args] = launch.command
    if (command === undefined) throw new ProviderConfigError('local', `group ${group.group}: launch.command is empty`)
    const nowMs = this.#clock.now()
    for (const [p, atMs] of this.#portsHandedOut) if (nowMs - atMs > 60_000) this.#portsHandedOut.delete(p)
    const avoid = new Set([...this.#portsHandedOut.keys(), ...this.#registry.list(group.group).map((e) => e.port)])
    const port = await findFreePort(this.#host, avoid).catch((err: unknown) => {
      throw launchErrorOf(group.group, 'port', err)
    })
    this.#portsHandedOut.set(port, nowMs)
    const id = `${group.group}-${randomBytes(4).toString('hex')}`
    const logDir = join(this.#stateDir, 'logs', group.group)
    const logPath = join(logDir, `${id}.log`)
    mkdirSync(logDir, { recursive: true })
    const logFd = openSync(logPath, 'a', 0o600)
    const inherited: Record<string, string | undefined> = this.#inheritEnv ? { ...process.env } : {}
    for (const name of this.#withholdEnv) inherited[name] = undefined
    const env: Record<string, string | undefined> = {
      ...inherited,
      ...launch.env,
      PORT: String(port),
      TIDE_CPU: String(size.cpu),
      TIDE_MEMORY_MIB: String(size.memoryMiB),
      TIDE_GROUP: group.group,
      TIDE_INSTANCE_ID: id,
      TIDE_STATE_DIR: resolve(this.#stateDir),
    }
    let child: ChildProcess
    try {
      child = spawn(command, args, { cwd: launch.cwd, env, detached: true, stdio: ['ignore', logFd, logFd] })
      await spawned(child)
    } catch (err) {
      throw launchErrorOf(group.group, { command }, err)
    } finally {
      closeSync(logFd)
    }
    const pid = child.pid
    if (pid === undefined) throw new LaunchFailedError('local', `group ${group.group}: ${command} started without a pid`, true)
    this.#exited.set(
      id,
      new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          this.#exits.set(id, { code, signal })
          resolve()
        })
      }),
    )
    child.unref()
    // A process that exited at once may already be reaped: then no start time can match,
    // and list() reports the instance 'failed', which is what it is.
    const startTime = readProcStat(pid, this.#procRoot)?.startTime ?? ''
    crashPoint('scale-out:spawned')
    const entry: LocalInstanceEntry = { id, group: group.group, pid, startTime, port, size, launchedAtMs: this.#clock.now(), logPath }
    this.#registry.put(entry)
    return entry
  }

  /**
   * Records the group's instances that run but are not in the registry: spawned by a tide that
   * was killed between spawn and record (module comment). Each becomes an entry as launch would
   * have written it (its port, size and log from its environment and id), so that the controller
   * counts it, and it is served, drained and terminated like any other; nothing is left orphaned.
   */
  #recordUnrecorded(group: GroupSpec): void {
    const known = new Set(this.#registry.list(group.group).map((e) => e.id))
    for (const p of processesWithEnv({ TIDE_STATE_DIR: resolve(this.#stateDir), TIDE_GROUP: group.group }, this.#procRoot)) {
      const id = p.env.TIDE_INSTANCE_ID
      const port = Number(p.env.PORT)
      const cpu = Number(p.env.TIDE_CPU)
      const memoryMiB = Number(p.env.TIDE_MEMORY_MIB)
      if (id === undefined || known.has(id) || !Number.isInteger(port) || !(cpu > 0) || !(memoryMiB > 0)) continue
      const stat = readProcStat(p.pid, this.#procRoot)
      // Only what launch spawned (it leads its own process group), not a child it started.
      if (stat === undefined || stat.pgrp !== p.pid) continue
      const size = [group.size, ...group.sizes].find((s) => s.cpu === cpu && s.memoryMiB === memoryMiB) ?? { cpu, memoryMiB }
      const logPath = join(this.#stateDir, 'logs', group.group, `${id}.log`)
      this.#registry.put({ id, group: group.group, pid: p.pid, startTime: stat.startTime, port, size, launchedAtMs: this.#clock.now(), logPath })
      known.add(id)
    }
  }

  async #observe(group: GroupSpec, entry: LocalInstanceEntry): Promise<InstanceRecord | undefined> {
    if (!this.#alive(entry)) {
      if (entry.stoppingAtMs !== undefined) {
        // A terminate() that was interrupted (tide stopped mid-way) has finished by itself.
        this.#registry.remove(entry.group, entry.id)
        return undefined
      }
      await this.#exitReported(entry.id)
      return this.#record(entry, 'failed')
    }
    if (entry.stoppingAtMs !== undefined) return this.#record(entry, 'stopping')
    if (entry.readyAtMs !== undefined) return this.#record(entry, 'running')
    const healthy = await probeHttp({
      host: this.#host,
      port: entry.port,
      path: group.health.path,
      timeoutMs: group.health.timeoutSeconds * 1000,
      acceptStatus: readyStatuses,
      userAgent: 'tide-local-provider',
    })
    if (!healthy) return this.#record(entry, 'starting')
    // Re-read: terminate() may have changed the record while the probe was out.
    const current = this.#find(entry.group, entry.id)
    if (current === undefined) return undefined
    if (current.stoppingAtMs !== undefined) return this.#record(current, 'stopping')
    const ready: LocalInstanceEntry = { ...current, readyAtMs: current.readyAtMs ?? this.#clock.now() }
    this.#registry.put(ready)
    return this.#record(ready, 'running')
  }

  /**
   * A child of this object that /proc already shows dead (a zombie, or reaped) may not have
   * had its 'exit' event yet: wait for it, up to a second, so that the 'failed' record says
   * how it died.
   */
  async #exitReported(id: string): Promise<void> {
    const exited = this.#exited.get(id)
    if (exited === undefined || this.#exits.has(id)) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))])
    clearTimeout(timer)
  }

  #record(entry: LocalInstanceEntry, status: ProviderStatus): InstanceRecord {
    const meta: Record<string, string> = {
      pid: String(entry.pid),
      startTime: entry.startTime,
      port: String(entry.port),
      logPath: entry.logPath,
    }
    const exit = this.#exits.get(entry.id)
    if (status === 'failed' && exit !== undefined) {
      meta.exit = exit.signal !== null ? `signal ${exit.signal}` : `code ${String(exit.code)}`
    }
    if (status === 'failed') {
      // Why it died is usually in the last lines it wrote (a stack, "Cannot find module").
      const tail = logTail(entry.logPath)
      if (tail !== '') meta.logTail = tail
    }
    return {
      id: entry.id,
      group: entry.group,
      status,
      size: entry.size,
      launchedAtMs: entry.launchedAtMs,
      ...(entry.readyAtMs !== undefined && status === 'running' ? { readyAtMs: entry.readyAtMs } : {}),
      address: { host: this.#host, port: entry.port },
      meta,
    }
  }

  #find(group: string, id: string): LocalInstanceEntry | undefined {
    return this.#registry.list(group).find((e) => e.id === id)
  }

  #alive(entry: LocalInstanceEntry): boolean {
    return entry.startTime !== '' && isSameLiveProcess(entry.pid, entry.startTime, this.#procRoot)
  }

  /** Signals the instance's process group (falling back to the process) — only after checking it is still ours. */
  #signal(entry: LocalInstanceEntry, signal: NodeJS.Signals): void {
    if (!this.#alive(entry)) return
    if (killGroupQuietly(entry.pid, signal)) return
    try {
      process.kill(entry.pid, signal)
    } catch {
      // ESRCH: it exited between the check and the signal.
    }
  }

  /** Polls every 50 ms until the process is gone; resolves false if it still runs after timeoutMs. */
  async #waitForExit(entry: LocalInstanceEntry, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs
    while (this.#alive(entry)) {
      if (performance.now() >= deadline) return false
      await sleep(50)
    }
    return true
  }
}

/** Sends `signal` to the process group `pgid`; false when no such group exists or it may not be signalled. */
function killGroupQuietly(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** Resolves when the child has been spawned; rejects with the spawn error (ENOENT, EACCES, …). */
function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSpawn = (): void => {
      child.off('error', onError)
      resolve()
    }
    const onError = (err: Error): void => {
      child.off('spawn', onSpawn)
      reject(err)
    }
    child.once('spawn', onSpawn)
    child.once('error', onError)
  })
}
