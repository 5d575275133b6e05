/**
 * The application service: every query and command an operator has over a running tide, in one
 * place, so that the REST API (and, through it, the CLI and the dashboard) can never disagree.
 * Queries read the controller's plain-data status and the store (events, metric history);
 * commands go through the controller (protect, pause) or through Runtime.reload (apply or
 * delete a group), validated whole with the same schema and checks as tide.yaml. Nothing here
 * knows HTTP: errors are TideErrors whose registry status the API answers with.
 */
import { resolve as resolvePath } from 'node:path'
import { systemClock, type Clock } from '../core/clock.ts'
import type { GroupStatus } from '../controller/group-status.ts'
import { manualScaleText } from '../controller/reconciler.ts'
import { manualCount } from '../engine/override.ts'
import type { Runtime, ReloadResult } from '../runtime/runtime.ts'
import { resolveConfigPaths, validateConfigValues } from '../spec/load.ts'
import type { GroupSpec, TideConfig } from '../spec/schema.ts'
import type { StoredEvent } from '../store/event-log.ts'
import type { EventSink, TideEvent, TideEventType } from '../store/events.ts'
import { ApiError } from './errors.ts'
import { eventsPage, metricHistory, type EventsPage, type EventsQuery, type MetricsAnswer, type MetricsQuery } from './history-reads.ts'
import { replayWindow, runReplay, type ReplayResult } from './replay.ts'
import { REDACTED, redactLaunchEnv } from '../spec/redact.ts'

/** The event and metric-history queries and answers (history-reads.ts), as the API has always imported them from here. */
export type { EventsPage, EventsQuery, MetricsAnswer, MetricsQuery }

/** Where a group stands: configured and reconciled, or removed and still draining its instances. */
export type GroupState = 'active' | 'removing'

/** One group as the list shows it. */
export interface GroupSummary {
  readonly group: string
  readonly provider: GroupSpec['provider']
  readonly state: GroupState
  /** Whether an operator paused its scaling. */
  readonly paused: boolean
  /** The controller's plain status; null before the group's first tick. */
  readonly status: GroupStatus | null
}

/** One group in full: its summary and the spec in force. */
export interface GroupDetail extends GroupSummary {
  /** The spec in force, defaults filled in; `launch.env` values are redacted unless asked for (they may hold secrets). */
  readonly spec: GroupSpec
}

/** The text that stands for a redacted `launch.env` value (src/spec/redact.ts). */
export { REDACTED }





/** What applying a group spec did. */
export interface ApplyResult {
  readonly group: string
  /** 'added' (a new group), 'changed' (a new spec for a running group), 'unchanged' (the same spec again). */
  readonly outcome: 'added' | 'changed' | 'unchanged'
  /** The spec now in force, defaults filled in. */
  readonly spec: GroupSpec
}

/** A group spec that validated: the spec as applying it would put in force, and the whole config it would make. */
export interface ValidatedGroup {
  readonly group: string
  /** The spec with every default filled in and relative paths resolved. */
  readonly spec: GroupSpec
  /** The config in force with this group added or replaced (what applyGroup reloads with). */
  readonly config: TideConfig
}

/** How long a manual scale holds when the request does not say, seconds (15 minutes). */
export const DEFAULT_HOLD_SECONDS = 15 * 60

/** The longest a manual scale may hold, seconds (a day): a forgotten hold must not outlive the on-call shift by much. */
export const MAX_HOLD_SECONDS = 24 * 60 * 60

/** What a manual scale will hold, as the API answers it. */
export interface ManualScaleAnswer {
  readonly group: string
  /** The count asked. */
  readonly desired: number
  /** The count it holds: `desired` within min and max (the fleet's quotas and protection may hold it lower; the decision says so). */
  readonly holding: number
  /** Whether `holding` differs from `desired`, and why ('max 20'). */
  readonly clamped: boolean
  readonly clampedBy?: string
  /** When the hold ends, epoch ms. */
  readonly untilMs: number
  /** In words: "held at 20 until 2026-12-06T12:35:00.000Z (max 20; asked 25)". */
  readonly message: string
}

/** What a standby command did. */
export interface StandbyAnswer {
  readonly group: string
  readonly instance: string
  /** Whether the instance is in standby now. */
  readonly standby: boolean
  /** The desired count before and after the command. */
  readonly desiredReplicas: { readonly from: number; readonly to: number }
  /** What happens now, in words (its event says the same). */
  readonly message: string
}

/** Options of a TideService. */
export interface TideServiceOptions {
  /** Folder that relative paths in an applied group spec (`launch.cwd`) resolve against: the config file's. */
  readonly baseDir: string
  /** The clock for the defaults of time ranges; the wall clock when absent. */
  readonly clock?: Clock
}

/** Receives every event the running tide records, as it happens (/metrics counters, a live stream). */
export type EventListener = (event: TideEvent) => void

/** The application service over one running tide. */
export class TideService {
  readonly #runtime: Runtime
  readonly #opts: TideServiceOptions
  readonly #clock: Clock
  readonly #listeners = new Set<EventListener>()
  /** Commands that reload run one at a time, in order. */
  #reloads: Promise<unknown> = Promise.resolve()
  /** Replays run one at a time (each is seconds of CPU). */
  #replays: Promise<unknown> = Promise.resolve()

  constructor(runtime: Runtime, opts: TideServiceOptions) {
    this.#runtime = runtime
    this.#opts = opts
    this.#clock = opts.clock ?? systemClock
    const sink: EventSink = {
      append: (e) => {
        for (const l of this.#listeners) {
          try {
            l(e)
          } catch {
            // A listener's failure must not reach the controller (EventSink: never throws).
          }
        }
      },
    }
    runtime.addEventSink(sink)
  }

  /** The running tide (for /metrics: its controller's tick timings). */
  get runtime(): Runtime {
    return this.#runtime
  }

  /** Calls `listener` with every event from now on; returns the function that stops it. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** How many listeners are subscribed now (a live stream holds one while its client is connected); for leak checks. */
  get listenerCount(): number {
    return this.#listeners.size
  }

  // ── Queries ──────────────────────────────────────────────────────────────

  /** Every group, configured ones in config order, then removed ones still draining. */
  listGroups(): GroupSummary[] {
    const c = this.#runtime.controller
    return [...c.groups().map((g) => this.#summary(g, 'active')), ...c.removingGroups().map((g) => this.#summary(g, 'removing'))]
  }

  /**
   * One group with its spec. `revealEnv` keeps `launch.env` values (for a caller holding the
   * token); otherwise each value reads REDACTED. Throws ApiError NOT_FOUND for an unknown group.
   */
  getGroup(name: string, options: { readonly revealEnv?: boolean } = {}): GroupDetail {
    const { spec, state } = this.#find(name)
    const shown = options.revealEnv === true ? spec : redactLaunchEnv(spec)
    return { ...this.#summary(spec, state), spec: shown }
  }

  /**
   * A page of the event log, newest first. The cursor is the id of the last event of the page
   * before (opaque to callers). Throws ApiError BAD_REQUEST for a malformed cursor or limit, or
   * for `sinceMs` not before `untilMs`.
   */
  async events(q: EventsQuery = {}): Promise<EventsPage> {
    return eventsPage(this.#runtime.store, q)
  }

  /**
   * Events with an id above `afterId`, oldest first, at most `limit` (for a live stream that
   * tails the log, and for resuming one from its last id). Filters as `events`.
   */
  eventsAfter(afterId: number, q: { readonly group?: string; readonly types?: readonly TideEventType[]; readonly limit?: number } = {}): Promise<StoredEvent[]> {
    return this.#runtime.store.readEvents({
      afterId,
      order: 'asc',
      limit: q.limit ?? 1000,
      ...(q.group === undefined ? {} : { group: q.group }),
      ...(q.types === undefined ? {} : { types: q.types }),
    })
  }

  /** The id of the newest stored event, 0 when the log is empty (where a live stream starts tailing). */
  async lastEventId(): Promise<number> {
    return (await this.#runtime.store.readEvents({ limit: 1, order: 'desc' }))[0]?.id ?? 0
  }

  /**
   * Resolves once the events appended so far can be read back (lastEventId, eventsAfter): at once
   * for a SQLite store, after the next flush for PostgreSQL (bounded: 5 s).
   */
  written(): Promise<void> {
    return this.#runtime.written()
  }

  /** Makes the changes so far durable (a PostgreSQL store's flush; nothing for SQLite): after every command. */
  flush(): Promise<void> {
    return this.#runtime.flush()
  }

  /**
   * A group's metric history from the store. The group must be known (configured or removing);
   * a series it never recorded answers with no points. Throws ApiError NOT_FOUND for an unknown
   * group, and the store's TIDE_ERR_STORE_QUERY for a range or step out of bounds.
   */
  async metrics(group: string, q: MetricsQuery = {}): Promise<MetricsAnswer> {
    this.#find(group)
    return metricHistory(this.#runtime.store, group, q, this.#clock.now())
  }

  // ── Commands ─────────────────────────────────────────────────────────────

  /**
   * Protects an instance from scale-in (or lifts it). The group must be configured and the
   * instance among those it last observed. Returns whether the instance is now protected.
   */
  setProtection(group: string, instanceId: string, protectedFromScaleIn: boolean): { group: string; instance: string; protected: boolean } {
    const { state } = this.#find(group)
    if (state === 'removing') throw new ApiError('TIDE_ERR_API_CONFLICT', `group ${group} was removed and is draining: its instances are being stopped`)
    const status = this.#runtime.controller.status(group)
    if (!status?.instances.some((i) => i.id === instanceId)) {
      throw new ApiError('TIDE_ERR_API_NOT_FOUND', `group ${group} has no instance ${instanceId}${status === undefined ? ' (the group has not been observed yet)' : ''}`)
    }
    this.#runtime.controller.setProtection(group, instanceId, protectedFromScaleIn)
    return { group, instance: instanceId, protected: protectedFromScaleIn }
  }

  /**
   * Holds a group at `desired` for `holdSeconds` (DEFAULT_HOLD_SECONDS when absent, at most
   * MAX_HOLD_SECONDS), or until cleared (Controller.setManualScale): the answer says what it holds,
   * until when, and whether min or max clamped it. Throws BAD_REQUEST for a count or hold out of
   * range, NOT_FOUND for an unknown group, CONFLICT for one being removed.
   */
  setManualScale(group: string, desired: number, holdSeconds: number = DEFAULT_HOLD_SECONDS): ManualScaleAnswer {
    const spec = this.#active(group, 'nothing to scale')
    if (!Number.isInteger(desired) || desired < 0) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `desired must be a whole number ≥ 0, got ${desired}`)
    if (!Number.isInteger(holdSeconds) || holdSeconds < 1 || holdSeconds > MAX_HOLD_SECONDS) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `holdSeconds must be a whole number from 1 to ${MAX_HOLD_SECONDS} (a day), got ${holdSeconds}`)
    const untilMs = this.#clock.now() + holdSeconds * 1000
    this.#runtime.controller.setManualScale(group, desired, untilMs)
    const c = manualCount(desired, spec.replicas)
    return { group, desired, holding: c.bounded, clamped: c.clampedBy !== undefined, ...(c.clampedBy === undefined ? {} : { clampedBy: c.clampedBy }), untilMs, message: manualScaleText({ desired, untilMs }, spec) }
  }

  /** Ends a group's manual scale (Controller.clearManualScale); `cleared` is false when none was in force. */
  clearManualScale(group: string): { group: string; cleared: boolean } {
    this.#active(group, 'nothing to clear')
    return { group, cleared: this.#runtime.controller.clearManualScale(group) }
  }

  /**
   * Puts an instance in standby (`standby` true, Controller.enterStandby, with
   * `decrementDesired`) or brings it back in service (false, Controller.exitStandby). Throws
   * NOT_FOUND for an unknown group or instance, CONFLICT when the group is being removed or the
   * controller refuses (saying why: not serving, already in standby, below min, no router).
   */
  setStandby(group: string, instanceId: string, standby: boolean, decrementDesired = true): StandbyAnswer {
    this.#active(group, 'its instances are being stopped')
    this.#observedInstance(group, instanceId)
    const c = this.#runtime.controller
    const r = standby ? c.enterStandby(group, instanceId, decrementDesired) : c.exitStandby(group, instanceId)
    if (!r.done) throw new ApiError('TIDE_ERR_API_CONFLICT', r.refused)
    return { group, instance: instanceId, standby, desiredReplicas: r.desiredReplicas, message: r.message }
  }

  /** The spec of a configured group; NOT_FOUND when unknown, CONFLICT (saying `why`) when it is being removed. */
  #active(group: string, why: string): GroupSpec {
    const { spec, state } = this.#find(group)
    if (state === 'removing') throw new ApiError('TIDE_ERR_API_CONFLICT', `group ${group} was removed and is draining: ${why}`)
    return spec
  }

  /** Throws NOT_FOUND unless the instance is among those the group last observed. */
  #observedInstance(group: string, instanceId: string): void {
    const status = this.#runtime.controller.status(group)
    if (!status?.instances.some((i) => i.id === instanceId)) {
      throw new ApiError('TIDE_ERR_API_NOT_FOUND', `group ${group} has no instance ${instanceId}${status === undefined ? ' (the group has not been observed yet)' : ''}`)
    }
  }

  /** Pauses (or resumes) a group's scaling: it holds its count (Controller.setPaused). `changed` is false when it already was. */
  setPaused(group: string, paused: boolean): { group: string; paused: boolean; changed: boolean } {
    const { state } = this.#find(group)
    if (state === 'removing') throw new ApiError('TIDE_ERR_API_CONFLICT', `group ${group} was removed and is draining: nothing to pause`)
    const changed = this.#runtime.controller.setPaused(group, paused)
    return { group, paused, changed }
  }

  /**
   * Checks a group spec as applyGroup would, and applies nothing. `body` is the group's spec as in
   * tide.yaml (JSON); its `group` field may be left out, and must equal `name` when given. The
   * whole config that would result (the groups in force with this one added or replaced, and the
   * global settings) is validated as tide.yaml is: ConfigError (TIDE_ERR_CONFIG) listing every
   * issue by field; a change the running tide cannot take without a restart is ApiError
   * CONFLICT; a body that is not an object, or names another group, is BAD_REQUEST. Returns the
   * spec with every default filled in, relative paths resolved (what applying would put in force).
   */
  validateGroup(name: string, body: unknown): ValidatedGroup {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `the body must be a JSON object (a group spec as in tide.yaml), got ${Array.isArray(body) ? 'a list' : body === null ? 'null' : typeof body}`)
    }
    const fields = body as Record<string, unknown>
    if (fields.group !== undefined && fields.group !== name) {
      throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `group: the body names group ${JSON.stringify(fields.group)} but the path names ${JSON.stringify(name)}; they must agree`)
    }
    const value = { ...fields, group: name }
    const current = this.#runtime.config
    const before = current.groups.find((g) => g.group === name)
    const values: unknown[] = current.groups.map((g) => (g.group === name ? value : g))
    if (before === undefined) values.push(value)
    const index = values.indexOf(value)
    const checked = validateConfigValues(values, current.global, (i) => (i === index ? 'request body' : `group ${String((values[i] as { group?: unknown }).group)} (in force)`))
    // Relative paths of the groups (launch.cwd) resolve against the config's folder; the global settings stay as in force.
    const config = { groups: resolveConfigPaths({ groups: checked.groups, global: current.global }, resolvePath(this.#opts.baseDir)).groups, global: current.global }
    const spec = config.groups[index] as GroupSpec
    const why = this.#runtime.refuses(spec)
    if (why !== undefined) throw new ApiError('TIDE_ERR_API_CONFLICT', `the running tide cannot apply this change: ${why}`)
    return { group: name, spec, config }
  }

  /**
   * Adds or replaces one group: validateGroup (so the two never disagree), then applied with
   * Runtime.reload; a change the running tide cannot apply (another provider, another router
   * port) is refused as ApiError CONFLICT. Nothing is applied on any error. The change lives in
   * the running tide only: the config file is not written, so a SIGHUP reload or a restart goes
   * back to the file.
   */
  applyGroup(name: string, body: unknown): Promise<ApplyResult> {
    return this.#serially(async () => {
      const { spec, config } = this.validateGroup(name, body)
      const changes = await this.#reload(config)
      const outcome = changes.added.includes(name) ? 'added' : changes.changed.includes(name) ? 'changed' : 'unchanged'
      return { group: name, outcome, spec }
    })
  }

  /**
   * Replays a proposed spec for a configured group on its own recorded demand (src/app/replay.ts):
   * the simulator runs the spec in force and the proposed one from the same start over the
   * window (`hours` back from `toMs`, default 24 h, or `fromMs`–`toMs`), and answers both
   * figure sets and their difference. The proposed spec is validated whole by `validateGroup`,
   * as `applyGroup` validates it (ConfigError with every issue; nothing runs); nothing is applied. Replays run
   * one at a time. Throws ApiError NOT_FOUND for an unknown group, BAD_REQUEST for a bad window,
   * INSUFFICIENT_DATA when the window holds under 10 minutes of recorded demand.
   */
  replay(name: string, body: unknown, window: { readonly hours?: number; readonly fromMs?: number; readonly toMs?: number } = {}): Promise<ReplayResult> {
    const { spec: current, state } = this.#find(name)
    if (state === 'removing') throw new ApiError('TIDE_ERR_API_CONFLICT', `group ${name} was removed and is draining: nothing to replay a change of`)
    const proposed = this.validateGroup(name, body).spec
    const nowMs = this.#clock.now()
    const { fromMs, toMs } = replayWindow(window, nowMs)
    const run = this.#replays.then(() => runReplay(this.#runtime.store, { current, proposed, fromMs, toMs, nowMs }))
    this.#replays = run.catch(() => undefined)
    return run
  }

  /**
   * Removes a group: reloads without it, so its instances are drained, then stopped (over the
   * next ticks; `GET /groups` shows it as 'removing' until then). Throws NOT_FOUND for an
   * unknown group and CONFLICT for one already being removed.
   */
  deleteGroup(name: string): Promise<{ group: string; state: 'removing' }> {
    return this.#serially(async () => {
      const { state } = this.#find(name)
      if (state === 'removing') throw new ApiError('TIDE_ERR_API_CONFLICT', `group ${name} is already being removed (draining its instances)`)
      const current = this.#runtime.config
      await this.#reload({ ...current, groups: current.groups.filter((g) => g.group !== name) })
      return { group: name, state: 'removing' }
    })
  }

  /** Runtime.reload, its refusal (the running tide cannot apply the change) as a CONFLICT. */
  async #reload(next: Parameters<Runtime['reload']>[0]): Promise<ReloadResult> {
    try {
      return await this.#runtime.reload(next)
    } catch (err) {
      throw new ApiError('TIDE_ERR_API_CONFLICT', `the running tide cannot apply this change: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
  }

  /** Runs `task` after every earlier reloading command has finished. */
  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#reloads.then(task, task)
    this.#reloads = run.catch(() => undefined)
    return run
  }

  #find(name: string): { spec: GroupSpec; state: GroupState } {
    const c = this.#runtime.controller
    const active = c.groups().find((g) => g.group === name)
    if (active !== undefined) return { spec: active, state: 'active' }
    const removing = c.removingGroups().find((g) => g.group === name)
    if (removing !== undefined) return { spec: removing, state: 'removing' }
    throw new ApiError('TIDE_ERR_API_NOT_FOUND', `no group ${JSON.stringify(name)} (groups: ${c.groups().map((g) => g.group).join(', ') || 'none'})`)
  }

  #summary(spec: GroupSpec, state: GroupState): GroupSummary {
    const c = this.#runtime.controller
    return { group: spec.group, provider: spec.provider, state, paused: c.isPaused(spec.group), status: c.status(spec.group) ?? null }
  }
}

