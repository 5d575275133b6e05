/**
 * Session-safe scale-in for `local` instances (DESIGN "Beyond what others do" §3):
 * 1. the router sends the instance no new requests and waits for its in-flight ones;
 * 2. the app's preStop hook (lifecycle.preStop.http) is POSTed, and polled while it
 *    reports work in flight ({"inFlight": n}, readInFlight): drain until the app says it
 *    is quiet, not until a timer fires (the timeout is the backstop); a reply tide cannot
 *    read is said in an event and never taken for quiet;
 * 3. the group's backup command (lifecycle.backup.command, an argv) runs, with a
 *    timeout, so the instance's local data is flushed or copied; its environment is the group's
 *    launch.env, TIDE_GROUP, TIDE_INSTANCE_ID, TIDE_INSTANCE_PORT and only PATH, HOME, LANG and
 *    TZ of tide's own (BACKUP_INHERITED_ENV): never tide's secrets;
 * then the controller terminates the process. Every outcome is an event.
 */
import { execFile } from 'node:child_process'
import { request } from 'undici'
import type { EventSink } from '../store/events.ts'
import type { Clock } from '../core/clock.ts'
import type { Traffic } from '../controller/backend.ts'
import type { InstanceRecord } from '../providers/provider.ts'
import type { GroupSpec } from '../spec/schema.ts'
import { backupEnvironment } from './backup-env.ts'
import type { BackupRunner } from './backup-once.ts'

/** The part of the router a drain needs. */
export interface DrainTarget {
  drain(id: string, options: { readonly timeoutMs: number }): Promise<{ readonly completed: boolean; readonly inFlight: number }>
}

export interface LocalDrainerOptions {
  /** The router of each group, by group name. */
  readonly routers: ReadonlyMap<string, DrainTarget>
  readonly events: EventSink
  readonly clock: Clock
  /** Between preStop polls; 200 ms by default. */
  readonly pollMs?: number
  /**
   * Runs the backup command exactly once per instance across restarts (backup-once.ts), with
   * `live`, the group's instances now (records of gone ones are dropped). Without it (tests of
   * the drain alone) the command runs with runBackup, once per drain.
   */
  readonly backups?: { readonly runner: BackupRunner; readonly live: (spec: GroupSpec) => Promise<ReadonlySet<string>> }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export { BACKUP_INHERITED_ENV, backupEnvironment } from './backup-env.ts'

/**
 * Runs an argv with a timeout, in `cwd` (the group's launch.cwd; tide's own when undefined, so
 * `./flush.sh` is found beside the instance), with `env` over the few variables of tide's
 * environment backupEnvironment passes on; resolves with how it ended (never rejects).
 */
export function runBackup(argv: readonly string[], env: Readonly<Record<string, string>>, timeoutMs: number, cwd?: string): Promise<{ ok: boolean; detail: string }> {
  const [file, ...args] = argv
  if (file === undefined) return Promise.resolve({ ok: false, detail: 'empty command' })
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env: backupEnvironment(process.env, env), maxBuffer: 1 << 20, ...(cwd === undefined ? {} : { cwd }) }, (err, _stdout, stderr) => {
      if (!err) {
        resolve({ ok: true, detail: 'succeeded' })
        return
      }
      const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string | null }
      if (e.killed === true) resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` })
      else resolve({ ok: false, detail: `failed (${e.code ?? e.signal ?? e.message})${stderr ? `: ${stderr.trim().slice(0, 200)}` : ''}` })
    })
  })
}

/** The drain of local groups' Traffic (backends/local.ts). */
export class LocalDrainer implements Pick<Traffic, 'drain'> {
  readonly #o: LocalDrainerOptions

  constructor(options: LocalDrainerOptions) {
    this.#o = options
  }

  async drain(spec: GroupSpec, instance: InstanceRecord): Promise<void> {
    const emit = (message: string) => {
      this.#o.events.append({ atMs: this.#o.clock.now(), group: spec.group, type: 'drain-start', message, instanceId: instance.id })
    }
    const router = this.#o.routers.get(spec.group)
    if (router) {
      const r = await router.drain(instance.id, { timeoutMs: spec.routing.drainSeconds * 1000 })
      emit(r.completed ? `${instance.id}: router drained, no request in flight` : `${instance.id}: router drain timed out after ${spec.routing.drainSeconds} s with ${r.inFlight} in flight`)
    }
    const preStop = spec.lifecycle.preStop
    if (preStop && instance.address) {
      const quiet = await this.#preStop(instance, preStop.http, preStop.timeoutSeconds * 1000, (m) => {
        emit(`${instance.id}: ${m}`)
      })
      emit(`${instance.id}: preStop ${preStop.http} ${quiet}`)
    }
    const backup = spec.lifecycle.backup
    if (backup) {
      // The group's launch.env (what the instance itself was given), then what tide says of the instance.
      const env: Record<string, string> = { ...spec.launch?.env, TIDE_GROUP: spec.group, TIDE_INSTANCE_ID: instance.id }
      if (instance.address) env.TIDE_INSTANCE_PORT = String(instance.address.port)
      const once = this.#o.backups
      const r =
        once === undefined
          ? await runBackup(backup.command, env, backup.timeoutSeconds * 1000, spec.launch?.cwd)
          : await once.runner.run(spec.group, instance.id, { argv: backup.command, env, timeoutMs: backup.timeoutSeconds * 1000, cwd: spec.launch?.cwd }, await once.live(spec))
      emit(`${instance.id}: backup ${r.detail}`)
    }
  }

  /**
   * POSTs the hook, then polls it (GET) until it reports nothing in flight or the timeout
   * passes (readInFlight says what a reply means). A reply that cannot be read is said once, as
   * an event, and never taken for quiet: tide keeps asking until the timeout.
   */
  async #preStop(instance: InstanceRecord, path: string, timeoutMs: number, warn: (message: string) => void): Promise<string> {
    const addr = instance.address
    if (!addr) return 'skipped (no address)'
    const deadline = performance.now() + timeoutMs
    const url = `http://${addr.host}:${addr.port}${path}`
    let method: 'POST' | 'GET' = 'POST'
    let warned = false
    let last: InFlightReply | undefined
    for (;;) {
      const left = deadline - performance.now()
      if (left <= 0) return timedOut(timeoutMs, last)
      try {
        const res = await request(url, { method, headersTimeout: left, bodyTimeout: left })
        const text = await res.body.text()
        if (res.statusCode >= 400) return `answered HTTP ${res.statusCode}`
        last = readInFlight(text)
        if (last.kind === 'quiet') return 'reports quiet'
        if (last.kind === 'unknown' && !warned) {
          warned = true
          warn(`preStop ${path} reply not understood (${last.why}): expected {"inFlight": N} or a number; asking again until the timeout (${timeoutMs / 1000} s)`)
        }
      } catch (err) {
        return `unreachable (${err instanceof Error ? err.message : String(err)})`
      }
      method = 'GET'
      await sleep(Math.min(this.#o.pollMs ?? 200, Math.max(0, deadline - performance.now())))
    }
  }
}

/** What a preStop reply says: nothing in flight, n requests in flight, or a reply tide cannot read (and why). */
export type InFlightReply = { readonly kind: 'quiet' } | { readonly kind: 'busy'; readonly inFlight: number } | { readonly kind: 'unknown'; readonly why: string }

/** The spellings of the in-flight count a preStop reply may use, as apps name it. */
export const IN_FLIGHT_FIELDS = ['inFlight', 'inflight', 'in_flight'] as const

/**
 * Reads a preStop reply (a 2xx body), the drain contract of docs/config.md:
 * - a JSON object with a count in `inFlight` (or `inflight`, `in_flight`), or a bare number:
 *   0 is quiet, more is busy;
 * - an empty body: quiet (a hook with nothing to count);
 * - anything else (another shape, a negative or non-number count, text) is unknown, with why.
 */
export function readInFlight(text: string): InFlightReply {
  const body = text.trim()
  if (body === '') return { kind: 'quiet' }
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return { kind: 'unknown', why: `not JSON: ${JSON.stringify(body.slice(0, 60))}` }
  }
  let count: unknown = value
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const field = IN_FLIGHT_FIELDS.find((f) => f in value)
    if (field === undefined) return { kind: 'unknown', why: `no inFlight field in ${JSON.stringify(body.slice(0, 60))}` }
    count = (value as Record<string, unknown>)[field]
  }
  if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) return { kind: 'unknown', why: `the count is not a number ≥ 0: ${JSON.stringify(body.slice(0, 60))}` }
  return count === 0 ? { kind: 'quiet' } : { kind: 'busy', inFlight: count }
}

/** The outcome of a preStop wait that ran out of time, with the last reply. */
function timedOut(timeoutMs: number, last: InFlightReply | undefined): string {
  const tail = last?.kind === 'busy' ? `, ${last.inFlight} still in flight` : last?.kind === 'unknown' ? ', its reply never understood' : ''
  return `timed out after ${timeoutMs} ms${tail}`
}
