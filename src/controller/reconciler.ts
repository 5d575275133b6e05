/**
 * The controller: observe → decide → act → record, once per call. It owns all I/O
 * around the pure engine, and time only through the injected Clock, so that the
 * simulator runs exactly this code with a virtual clock (DESIGN.md "The tick").
 */
import { sameSize, sizeText } from '../core/size.ts'
import { countsTowardCapacity, initialReplicas, phaseOf, receivesTraffic, viewOf } from '../engine/lifecycle.ts'
import { forecastHorizon } from '../engine/policies/predictive.ts'
import { instanceCapacityRps } from '../engine/policies/slo.ts'
import { decideFleet } from '../engine/decide-fleet.ts'
import { groupRisks, quotaCeilings, riskPerInstanceRps, RISK_FORECAST_HORIZON_MS, type GroupRisk } from '../engine/risk.ts'
import { manualCount } from '../engine/override.ts'
import { instancesToLaunch, instancesToRemove } from '../engine/retire.ts'
import { emptyHistory, type DecideInput, type Decision, type FleetQuotas, type InstancePhase, type InstanceView, type Signals } from '../engine/types.ts'
import type { InstanceRecord, Provider } from '../providers/provider.ts'
import type { Series } from '../forecast/series.ts'
import type { GroupSpec, Size } from '../spec/schema.ts'
import type { Clock } from '../core/clock.ts'
import { crashPoint } from '../core/crash-points.ts'
import { CrashLoop, startFailureMessage } from './crash-loop.ts'
import { ProviderCallsHeld, ProviderFailures, type ProviderBackoff } from './provider-failures.ts'
import { DemandRecorder, type DemandRecorderOptions } from './demand-recorder.ts'
import type { EventSink, TideEvent, TideEventType } from '../store/events.ts'
import { HeadroomRecorder } from './headroom-recorder.ts'
import { failedStepOf, GroupStatusBuilder, type GroupStatus } from './group-status.ts'
import type { MetricsSource } from './metrics-source.ts'
import { unknownHealth, type Backend, type TrafficTarget } from './backend.ts'
import { MemoryStateStore, type StateStore, type StoredGroupState, type StoredLearnedState, type StoredOperation, type StoredOperatorState } from '../store/state-store.ts'
import { UsageRecorder } from './usage-recorder.ts'
import { RiskRecorder } from './risk-recorder.ts'

export interface ControllerOptions {
  readonly groups: readonly GroupSpec[]
  /**
   * Each group's platform: provider, signals, health and traffic (controller/backend.ts). The
   * runtime answers from its backend registry (src/runtime/backends/); asked on every use, so a
   * group changed or added by applyGroups() gets its own.
   */
  readonly backend: (spec: GroupSpec) => Backend
  readonly clock: Clock
  readonly quotas?: FleetQuotas
  readonly events?: EventSink
  readonly store?: StateStore
  /** Called once a removed group's last instance is gone (applyGroups), so its backend can be stopped. */
  readonly onGroupRemoved?: (spec: GroupSpec) => void
  /**
   * Demand (group requests/s) recorded before this controller started, for groups with a
   * predictive policy: the store's metric history (tide up) or a history trace (simulator).
   */
  readonly demandHistory?: (spec: GroupSpec) => Series | undefined
  /** How demand is bucketed and how often the forecaster is refitted (defaults: docs/forecasting.md). */
  readonly forecasting?: DemandRecorderOptions
  /**
   * How often each group's learners are checkpointed in the store (StoredLearnedState), seconds
   * of the controller's clock; default 300 (the VPA checkpoints every minute or so). A new
   * start-up sample or crash-loop step is checkpointed at the end of its tick, and checkpoint()
   * writes every group's at once (tide stopping).
   */
  readonly checkpointSeconds?: number
  /**
   * Makes every store write so far durable, before a provider call that its intent must precede
   * (a PostgreSQL store batches writes until its flush; SQLite writes at once and needs none).
   * A rejection means the intent may not be kept: the provider call is not made, and the group's
   * tick fails with it (a fenced leader, a database away).
   */
  readonly persist?: () => Promise<void>
}

/** What one reconcile did for one group. */
export interface ReconcileResult {
  readonly group: string
  readonly decision: Decision
  readonly launched: readonly string[]
  readonly terminated: readonly string[]
}

/** How long each step of one tick took, wall-clock ms; see Controller.lastTickTimings(). */
export interface TickTimings {
  /** The tick's time on the controller's clock, ms since the epoch. */
  readonly atMs: number
  /** Listing instances and reading metrics, every group at once. */
  readonly observeMs: number
  /** decideFleet over every observed group. */
  readonly decideMs: number
  /** Launches, terminations, drains begun and state saved, group after group. */
  readonly actMs: number
}

interface Observed {
  readonly spec: GroupSpec
  readonly provider: Provider
  readonly backend: Backend
  readonly records: readonly InstanceRecord[]
  readonly phases: ReadonlyMap<string, InstancePhase>
  readonly views: readonly InstanceView[]
  readonly stored: StoredGroupState
  readonly input: DecideInput
}

interface GroupRuntime {
  readonly draining: Set<string>
  readonly protectedIds: Set<string>
  /** Last phase seen per instance, to emit events on transitions only. */
  readonly lastPhase: Map<string, InstancePhase>
  /** Ids this process launched (others found by list() were adopted), and why: scale-out, resize, replace-unhealthy. */
  readonly launchedHere: Map<string, string>
  /** Unfinished provider operations (written before each launch and terminate), as kept in the store. */
  readonly operations: StoredOperation[]
  /** Operations written so far by this process, for their ids. */
  opSeq: number
  /** When the learners were last checkpointed, ms on the controller's clock; undefined before the first. */
  checkpointedAtMs?: number | undefined
  /** Something learned that a restart must not lose (a start-up sample, a crash-loop step): checkpoint at the end of the tick. */
  checkpointDue?: boolean
  /** The last decision's reasons as a restarted tide found them in the store (before this process decided anything). */
  restoredReasons?: StoredLearnedState['lastDecision']
  /** Launch-to-ready times of the last instances launched here, ms, newest last. */
  readonly startups: number[]
  demand?: DemandRecorder | undefined
  usage?: UsageRecorder | undefined
  slo?: HeadroomRecorder | undefined
  /** The last signals read on a sync period: the fast path reuses them with a fresh demand. */
  lastSignals?: Signals | undefined
  /** Demand above which the count in force no longer holds the slo target (fast path); undefined when off. */
  fastTriggerRps?: number | undefined
  lastForecast?: DecideInput['forecast'] | undefined
  lastDecision?: Decision
  /** Builds the group's status at the end of each tick (failed ones too) and keeps the latest. */
  status?: GroupStatusBuilder
  started: boolean
  /** Start failures in a row, and the wait before the next launch (crash-loop.ts). */
  readonly crashLoop: CrashLoop
  /** The last log tail shown for a start failure: a repeat of the same one is not shown again. */
  lastLogTail?: string | undefined
  /** In a failure streak: a tick failed and none has succeeded since (one event per streak). */
  failing?: boolean
  /** Throttles and capacity shortages of the provider, and the waits they impose (provider-failures.ts). */
  readonly providerFailures: ProviderFailures
  /** When the group's next sync period begins (reconcileDue), ms on the controller's clock; undefined before its first tick. */
  nextDueMs?: number | undefined
  /** Since when an operator has paused the group's scaling, ms on the controller's clock; undefined when not paused. */
  pausedSinceMs?: number | undefined
  /** The risk radar's recent demand, budget readings and open episodes (risk-recorder.ts). */
  risk?: RiskRecorder | undefined
  /** The most instances the global quotas leave the group, the others at their counts, as of its last sync tick; undefined without quotas. */
  quotaCeiling?: number | undefined
  /** An operator's manual scale in force (setManualScale): the count asked, since and until when, ms on the controller's clock. */
  override?: ManualScale | undefined
  /** Instances an operator put in standby, by id: since when, whether the desired count was lowered, and whether the router has drained them. */
  readonly standby: Map<string, StandbyMark>
}

/** Why a launch or a terminate happens, as its operation record and crash points name it. */
const ACTION_WHYS = ['scale-out', 'scale-in', 'resize', 'replace-unhealthy', 'fill', 'group-removed'] as const
type ActionWhy = (typeof ACTION_WHYS)[number]

/** A stored operation's why as an ActionWhy; one an other tide wrote that this one does not know counts as a scale-in. */
function actionWhyOf(why: string): ActionWhy {
  return (ACTION_WHYS as readonly string[]).includes(why) ? (why as ActionWhy) : 'scale-in'
}

/** Why a launch happens: a raised count is a scale-out; else it replaces unhealthy instances, or fills the count in force (a first launch, an instance gone). */
function launchWhyOf(decision: Decision, scaleOut: boolean, unhealthy: number): ActionWhy {
  if (decision.resize !== undefined) return 'resize'
  if (scaleOut) return 'scale-out'
  return unhealthy > 0 ? 'replace-unhealthy' : 'fill'
}

/** Why an instance is retired: a scale-in, or a step of a resize when it is not of the size in force. */
function retireWhyOf(record: InstanceRecord, size: Size): ActionWhy {
  return sameSize(record.size, size) ? 'scale-in' : 'resize'
}

/** Whether the group keeps usage histograms (vertical scaling, or a strategy that may resize). */
function usesUsage(spec: GroupSpec): boolean {
  return spec.vertical.mode !== 'off' || spec.strategy !== 'horizontal'
}

/** A manual scale in force: the count asked (before min/max), since and until when, ms on the controller's clock. */
export interface ManualScale {
  readonly desired: number
  readonly sinceMs: number
  readonly untilMs: number
}

/** An instance in standby. */
interface StandbyMark {
  readonly sinceMs: number
  readonly decremented: boolean
  /** The router has finished its requests (or it was restored after a restart): out of the targets. */
  drained: boolean
}

/** What an operator command on an instance did, or why it was refused (the instance or the group does not allow it now). */
export type InstanceCommandResult = { readonly done: true; readonly desiredReplicas: { readonly from: number; readonly to: number }; readonly message: string } | { readonly done: false; readonly refused: string }

/** What applyGroups() changed, by group name. */
export interface GroupChanges {
  readonly added: readonly string[]
  readonly changed: readonly string[]
  readonly removed: readonly string[]
}

/** Reconciles every configured group. Not re-entrant: the run loop awaits each call. */
export class Controller {
  readonly #opts: ControllerOptions
  readonly #store: StateStore
  #groups: Map<string, GroupSpec>
  /** Groups removed by applyGroups() whose instances are still being drained and stopped. */
  readonly #removing = new Map<string, GroupSpec>()
  #quotas: FleetQuotas | undefined
  readonly #runtime = new Map<string, GroupRuntime>()
  readonly #inflightDrains = new Set<Promise<void>>()

  constructor(opts: ControllerOptions) {
    this.#opts = opts
    this.#store = opts.store ?? new MemoryStateStore()
    this.#groups = new Map(opts.groups.map((g) => [g.group, g]))
    this.#quotas = opts.quotas
    for (const g of opts.groups) this.#restoreOperator(g.group)
  }

  /** What an operator set on the group before a restart (a pause, a manual scale, instances in standby), back in force. */
  #restoreOperator(group: string): void {
    const op = this.#store.loadOperatorState(group)
    if (op === undefined) return
    const rt = this.#rt(group)
    rt.pausedSinceMs = op.pausedSinceMs
    rt.override = op.override
    // A restarted tide has a new router: nothing is in flight to an instance in standby.
    for (const s of op.standby ?? []) rt.standby.set(s.id, { sinceMs: s.sinceMs, decremented: s.decremented, drained: true })
  }

  /** Keeps what an operator set on the group in the store, so that a restarted tide restores it. */
  #saveOperator(group: string, rt: GroupRuntime): void {
    const state: { -readonly [K in keyof StoredOperatorState]: StoredOperatorState[K] } = {}
    if (rt.pausedSinceMs !== undefined) state.pausedSinceMs = rt.pausedSinceMs
    if (rt.override !== undefined) state.override = rt.override
    if (rt.standby.size > 0) state.standby = [...rt.standby].map(([id, m]) => ({ id, sinceMs: m.sinceMs, decremented: m.decremented }))
    this.#store.saveOperatorState(group, state)
  }

  /** The configured groups, in order. */
  groups(): readonly GroupSpec[] {
    return [...this.#groups.values()]
  }

  /** Groups removed by applyGroups() whose instances are still draining and stopping. */
  removingGroups(): readonly GroupSpec[] {
    return [...this.#removing.values()]
  }

  /**
   * Replaces the group list while running (a config reload). An added group is reconciled from its
   * next tick (it adopts instances it finds). A changed group keeps its instances, state and learned
   * history; a learner whose own section changed (slo, predictive, vertical) starts again from the
   * new settings. A removed group is reconciled no more: its instances are drained and terminated
   * over the next ticks, then it is forgotten (its stored state too) and `onGroupRemoved` is
   * called. `quotas`, when given, replace the fleet quotas. Each change is an event.
   */
  applyGroups(specs: readonly GroupSpec[], quotas?: FleetQuotas): GroupChanges {
    const nowMs = this.#opts.clock.now()
    const next = new Map(specs.map((g) => [g.group, g]))
    const added: string[] = []
    const changed: string[] = []
    const removed: string[] = []
    for (const [name, spec] of next) {
      const before = this.#groups.get(name) ?? this.#removing.get(name)
      this.#removing.delete(name)
      if (before === undefined) {
        added.push(name)
        this.#restoreOperator(name)
        this.#emit(nowMs, name, 'group-added', `group ${name} added (provider ${spec.provider}); reconciled from the next tick`)
      } else if (JSON.stringify(before) !== JSON.stringify(spec)) {
        changed.push(name)
        const sections = changedSections(before, spec)
        this.#forgetLearners(name, sections)
        this.#emit(nowMs, name, 'group-changed', `group ${name} changed (${sections.join(', ')}); applied from the next tick`)
      }
    }
    for (const [name, spec] of this.#groups) {
      if (next.has(name)) continue
      removed.push(name)
      this.#removing.set(name, spec)
      this.#emit(nowMs, name, 'group-removed', `group ${name} removed from the config: its instances are drained and stopped`)
    }
    this.#groups = next
    if (quotas !== undefined) this.#quotas = quotas
    return { added, changed, removed }
  }

  /** Drops the learners whose settings changed, so they start again from the new ones. */
  #forgetLearners(group: string, sections: readonly string[]): void {
    const rt = this.#runtime.get(group)
    if (rt === undefined) return
    if (sections.includes('slo')) {
      rt.slo = undefined
      rt.fastTriggerRps = undefined
    }
    if (sections.includes('predictive')) {
      rt.demand = undefined
      rt.lastForecast = undefined
    }
    if (sections.includes('vertical') || sections.includes('strategy')) rt.usage = undefined
    if (sections.includes('syncPeriodSeconds')) rt.nextDueMs = undefined
  }

  /**
   * Observe, decide and act for every group once. A group whose observation or action fails is
   * isolated: it gets a 'reconcile-failed' event (once per failure streak), it is left out of the
   * results, and every other group decides and acts as usual. A failed group's stored count still
   * counts toward the fleet's quotas. Rejects only on a failure that is not one group's (decideFleet).
   */
  async reconcileOnce(): Promise<ReconcileResult[]> {
    return this.#reconcile(() => true)
  }

  /**
   * Reconciles the groups whose sync period is due (each group's own syncPeriodSeconds, from its
   * first tick on), and moves removed groups' instances along; the others stand in with their
   * stored counts for the quotas. The run loop calls it often (every second, or each group's
   * shortest period); a call with nothing due is cheap.
   */
  async reconcileDue(): Promise<ReconcileResult[]> {
    const nowMs = this.#opts.clock.now()
    const due = (spec: GroupSpec): boolean => {
      const next = this.#runtime.get(spec.group)?.nextDueMs
      // More than a period ahead: the clock stepped back since it was scheduled. Due now, not when the clock catches up.
      return next === undefined || next <= nowMs || next > nowMs + spec.syncPeriodSeconds * 1000
    }
    return this.#reconcile(due)
  }

  /** The next time a group's sync period is due, ms on the controller's clock; undefined when one is due now or none is configured. */
  nextDueMs(): number | undefined {
    let next: number | undefined
    for (const spec of this.#groups.values()) {
      const at = this.#runtime.get(spec.group)?.nextDueMs
      if (at === undefined) return undefined
      next = next === undefined ? at : Math.min(next, at)
    }
    return next
  }

  async #reconcile(isDue: (spec: GroupSpec) => boolean): Promise<ReconcileResult[]> {
    const nowMs = this.#opts.clock.now()
    await this.#retireRemoved(nowMs)
    const all = [...this.#groups.values()]
    const specs = all.filter(isDue)
    if (specs.length === 0) return []
    const startedAt = performance.now()
    const settled = await Promise.allSettled(specs.map((spec) => this.#observe(spec, nowMs)))
    const observedAt = performance.now()
    const bySpec = new Map(specs.map((spec, i) => [spec.group, settled[i]]))
    // Each group's input in config order (quotas are shared out in that order); a group that is
    // not due or could not be observed stands in with its stored count, or not at all before its
    // first tick.
    const slots: { readonly observed?: Observed; readonly input: DecideInput }[] = []
    for (const spec of all) {
      const s = bySpec.get(spec.group)
      if (s?.status === 'fulfilled') {
        slots.push({ observed: s.value, input: s.value.input })
        continue
      }
      if (s !== undefined) this.#noteGroupFailure(spec, s.reason, nowMs)
      const standIn = this.#quotas === undefined ? undefined : this.#storedInput(spec)
      if (standIn !== undefined) slots.push({ input: standIn })
    }
    for (const spec of specs) this.#scheduleNext(spec, nowMs)
    const decisions = decideFleet(
      slots.map((s) => s.input),
      this.#quotas,
    )
    const decidedAt = performance.now()
    this.#noteQuotaCeilings(slots, decisions)
    const results: ReconcileResult[] = []
    for (let i = 0; i < slots.length; i++) {
      const o = slots[i]?.observed
      const decided = decisions[i]
      if (o === undefined || decided === undefined) continue
      const d = this.#heldIfPaused(o, decided)
      try {
        results.push(await this.#act(o, d, nowMs))
        this.#rt(o.spec.group).failing = false
      } catch (err) {
        this.#noteGroupFailure(o.spec, new TickStepError('act', err), nowMs)
      }
    }
    this.#lastTimings = { atMs: nowMs, observeMs: observedAt - startedAt, decideMs: decidedAt - observedAt, actMs: performance.now() - decidedAt }
    return results
  }

  /** Each observed group's quota ceiling (the risk radar's), from the counts just decided. */
  #noteQuotaCeilings(slots: readonly { readonly observed?: Observed; readonly input: DecideInput }[], decisions: readonly Decision[]): void {
    if (this.#quotas === undefined) return
    const ceilings = quotaCeilings(
      slots.map((s, i) => ({ provider: s.input.spec.provider, size: decisions[i]?.resize?.to ?? s.input.state.size, replicas: decisions[i]?.to ?? s.input.state.desiredReplicas })),
      this.#quotas,
    )
    slots.forEach((s, i) => {
      if (s.observed !== undefined) this.#rt(s.observed.spec.group).quotaCeiling = ceilings[i]
    })
  }

  /**
   * How long the steps of the last reconcileOnce() took, wall-clock ms (performance.now(), also
   * under the simulator's virtual clock: durations only, never an input to a decision);
   * undefined before the first tick. `atMs` is the tick's time on the injected clock.
   */
  lastTickTimings(): TickTimings | undefined {
    return this.#lastTimings
  }

  #lastTimings: TickTimings | undefined

  /**
   * The group's next sync: one period after the last due time, skipping periods that passed (a
   * slow tick never doubles the next), and never more than a period from now (the clock stepped back).
   */
  #scheduleNext(spec: GroupSpec, nowMs: number): void {
    const rt = this.#rt(spec.group)
    const periodMs = spec.syncPeriodSeconds * 1000
    let next = (rt.nextDueMs ?? nowMs) + periodMs
    if (next <= nowMs) next = nowMs + periodMs - ((nowMs - next) % periodMs)
    if (next > nowMs + periodMs) next = nowMs + periodMs
    rt.nextDueMs = next
  }

  /**
   * Moves removed groups along: every instance still there is drained (where the group has
   * traffic) and terminated; once none is left and no drain is in flight, the group is
   * forgotten, its stored state deleted, and onGroupRemoved called. A failure is that group's
   * own event (reconcile-failed), retried on the next tick.
   */
  async #retireRemoved(nowMs: number): Promise<void> {
    for (const spec of [...this.#removing.values()]) {
      try {
        const backend = this.#opts.backend(spec)
        const rt = this.#rt(spec.group)
        const records = await listStep(backend.provider, spec, rt.providerFailures, nowMs)
        for (const r of records) {
          if (rt.draining.has(r.id)) continue
          if (backend.traffic === undefined || r.status !== 'running') await this.#terminate(spec, backend.provider, r, nowMs, 'group-removed')
          else this.#startDrain(spec, backend, r, nowMs, rt, 'group-removed')
        }
        backend.traffic?.setTargets(spec, trafficTargets(records, (r) => (rt.draining.has(r.id) ? 'draining' : undefined)))
        if (records.length > 0 || rt.draining.size > 0) continue
        this.#removing.delete(spec.group)
        this.#runtime.delete(spec.group)
        this.#store.deleteGroupState(spec.group)
        this.#emit(nowMs, spec.group, 'group-removed', `group ${spec.group} is gone: every instance drained and stopped`)
        this.#opts.onGroupRemoved?.(spec)
      } catch (err) {
        this.#noteGroupFailure(spec, err, nowMs)
      }
    }
  }

  /** A group's tick failed: one 'reconcile-failed' event when a failure streak begins, saying which step and why. */
  #noteGroupFailure(spec: GroupSpec, err: unknown, nowMs: number): void {
    const rt = this.#rt(spec.group)
    const stored = this.#store.loadGroupState(spec.group)
    const fallback = { desiredReplicas: stored?.desiredReplicas ?? 0, size: stored?.size ?? spec.size }
    const builder = (rt.status ??= new GroupStatusBuilder(spec.group))
    // A throttle is a hold, announced once by its own 'provider-throttled' event: not a failure.
    // The status says so (AbleToScale False, BackoffBoth) on every held tick.
    if (err instanceof ProviderCallsHeld) {
      const why = rt.providerFailures.backoff(nowMs)?.why ?? err.message
      this.#saveStatus(spec.group, builder.heldBack(nowMs, { up: why, down: why }, fallback))
      return
    }
    const what = err instanceof TickStepError ? `${err.step} failed: ${errorMessage(err.cause)}` : errorMessage(err)
    // The status says so on every failed tick, not only the first of a streak.
    const step = failedStepOf(err instanceof TickStepError ? err.step : 'act')
    this.#saveStatus(spec.group, builder.failed(nowMs, { step, message: errorMessage(err instanceof TickStepError ? err.cause : err) }, fallback))
    if (rt.failing) return
    rt.failing = true
    const holds = stored === undefined ? 'nothing is launched for it' : `its count stays at ${stored.desiredReplicas}`
    this.#emit(nowMs, spec.group, 'reconcile-failed', `reconcile of ${spec.group} failed (${what}); ${holds} and the other groups go on, until a tick succeeds`)
  }

  /** Saves a held or failed tick's status; a store that fails too is that tick's failure already, reported by it: the status in memory holds. */
  #saveStatus(group: string, status: GroupStatus): void {
    try {
      this.#store.saveGroupStatus(group, status)
    } catch {
      // See above: not a second failure to report.
    }
  }

  /**
   * The group's status as of its last tick, plain data (group-status.ts), also saved in the store
   * each tick; undefined before the group's first tick in this process. `paused` is as it is now,
   * even before the next tick.
   */
  status(group: string): GroupStatus | undefined {
    const rt = this.#runtime.get(group)
    const latest = rt?.status?.latest
    if (latest === undefined || (rt?.pausedSinceMs === undefined && rt?.override === undefined)) return latest
    const spec = this.#groups.get(group)
    return {
      ...latest,
      ...(rt.pausedSinceMs === undefined ? {} : { paused: { sinceMs: rt.pausedSinceMs } }),
      ...(rt.override === undefined || spec === undefined ? {} : { override: { desired: rt.override.desired, untilMs: rt.override.untilMs, reason: manualScaleText(rt.override, spec) } }),
    }
  }

  /**
   * The wait the provider imposes on the group now, for status: `throttled` (every provider
   * call waits) or `capacity` (launches of one size wait), until when and why; undefined when
   * nothing waits, or for a group that has not reconciled yet.
   */
  providerBackoff(group: string): ProviderBackoff | undefined {
    return this.#runtime.get(group)?.providerFailures.backoff(this.#opts.clock.now())
  }

  /**
   * Pauses (or resumes) a group's scaling, as the operator's hand on the brake: while paused,
   * every decision holds the count in force (reason PausedByOperator, its explanation saying what
   * the engine would have done), no resize and no fast scale-out happen; dead or unhealthy
   * instances are still replaced, drains begun still finish, and protection still applies.
   * Kept in the store: a restarted tide restores it. An event says when it changes. Returns
   * false (and changes nothing) when the group is not configured or already in that state.
   */
  setPaused(group: string, paused: boolean): boolean {
    if (!this.#groups.has(group)) return false
    const rt = this.#rt(group)
    if ((rt.pausedSinceMs !== undefined) === paused) return false
    const nowMs = this.#opts.clock.now()
    rt.pausedSinceMs = paused ? nowMs : undefined
    this.#saveOperator(group, rt)
    this.#emit(nowMs, group, paused ? 'group-paused' : 'group-resumed', paused ? `scaling of ${group} paused by the operator: the count holds until resumed` : `scaling of ${group} resumed by the operator`)
    return true
  }

  /** Whether an operator has paused the group's scaling (setPaused). */
  isPaused(group: string): boolean {
    return this.#runtime.get(group)?.pausedSinceMs !== undefined
  }

  /**
   * The decision of a paused group: the count in force held, no resize, no scale-in, and the
   * history as it was (nothing scaled), explained with what the engine would have done.
   */
  #heldIfPaused(o: Observed, d: Decision): Decision {
    if (this.#runtime.get(o.spec.group)?.pausedSinceMs === undefined) return d
    const { resize, ...rest } = d
    const would = d.to === d.from && resize === undefined ? `it would hold too: ${d.explanation}` : `it would scale ${d.from}→${d.to}${resize === undefined ? '' : ' with a resize'}: ${d.explanation}`
    return {
      ...rest,
      kind: 'hold',
      to: d.from,
      reason: 'PausedByOperator',
      explanation: `held at ${d.from}: paused by the operator (${would})`,
      scaleInCandidates: [],
      history: o.input.state.history,
    }
  }

  /**
   * Holds the group at `desired` (clamped to its min and max, then its quota room and protection
   * floor, by the engine: override.ts) until `untilMs` (ms on the controller's clock), or until
   * cleared: AWS's SetDesiredCapacity with a time limit. The engine's decisions are explained but
   * not acted on; unhealthy instances are still replaced. A new one replaces one in force. Kept in
   * the store; a 'manual-scale' event. Returns false when the group is not configured.
   */
  setManualScale(group: string, desired: number, untilMs: number): boolean {
    const spec = this.#groups.get(group)
    if (spec === undefined) return false
    const rt = this.#rt(group)
    const nowMs = this.#opts.clock.now()
    rt.override = { desired, sinceMs: nowMs, untilMs }
    this.#saveOperator(group, rt)
    this.#emit(nowMs, group, 'manual-scale', `${group} ${manualScaleText(rt.override, spec)}, by the operator's manual scale; the engine's decisions are explained, not acted on`)
    return true
  }

  /** Ends the manual scale in force, if any ('manual-scale-ended'): the engine decides again from the next tick. Returns whether one was. */
  clearManualScale(group: string): boolean {
    const rt = this.#runtime.get(group)
    if (rt?.override === undefined) return false
    this.#endManualScale(group, rt, this.#opts.clock.now(), 'cleared by the operator')
    return true
  }

  /** The manual scale in force on a group, undefined when none. */
  manualScale(group: string): ManualScale | undefined {
    return this.#runtime.get(group)?.override
  }

  #endManualScale(group: string, rt: GroupRuntime, nowMs: number, why: string): void {
    const held = rt.override
    rt.override = undefined
    this.#saveOperator(group, rt)
    this.#emit(nowMs, group, 'manual-scale-ended', `manual scale of ${group} to ${held?.desired ?? '?'} ended (${why}): the engine decides again from this tick`)
  }

  /**
   * Puts a serving instance in standby (AWS EnterStandby): the router sends it nothing new and
   * its requests finish, then it leaves the targets; it keeps running, is not counted as capacity
   * nor chosen for scale-in. With `decrementDesired` (AWS ShouldDecrementDesiredCapacity) the
   * desired count drops by one, so nothing replaces it (refused when that would go below min);
   * without, the desired count stays and the next tick launches a replacement. Needs a backend
   * whose traffic tide controls (Traffic.detach: local groups). Kept in the store; an
   * 'instance-standby' event when it enters and when it is drained.
   */
  enterStandby(group: string, instanceId: string, decrementDesired: boolean): InstanceCommandResult {
    const spec = this.#groups.get(group)
    if (spec === undefined) return { done: false, refused: `group ${group} is not configured` }
    const traffic = this.#opts.backend(spec).traffic
    const rt = this.#rt(group)
    const refused = standbyRefusal(spec, traffic, rt, instanceId)
    if (refused !== undefined || traffic?.detach === undefined) return { done: false, refused: refused ?? '' }
    const { stored, from } = this.#desiredNow(group, rt)
    const to = decrementDesired ? from - 1 : from
    if (to < spec.replicas.min) return { done: false, refused: `decrementing the desired count ${from} would take it below min ${spec.replicas.min}: keep it (decrementDesired false, 'tide standby --no-decrement') so a replacement is launched` }
    const nowMs = this.#opts.clock.now()
    const mark: StandbyMark = { sinceMs: nowMs, decremented: decrementDesired, drained: false }
    rt.standby.set(instanceId, mark)
    if (stored !== undefined && to !== from) this.#store.saveGroupState(group, { ...stored, desiredReplicas: to })
    this.#saveOperator(group, rt)
    const message = `instance ${instanceId} entering standby by the operator: drained, then out of the router's targets; it keeps running. ${decrementDesired ? `Desired ${from}→${to}: nothing replaces it` : `Desired stays ${from}: a replacement is launched`}`
    this.#emit(nowMs, group, 'instance-standby', message, { instanceId })
    const p = traffic
      .detach(spec, instanceId)
      .then(() => {
        if (rt.standby.get(instanceId) !== mark) return
        mark.drained = true
        this.#emit(this.#opts.clock.now(), group, 'instance-standby', `instance ${instanceId} in standby: no request in flight, out of the router's targets`, { instanceId })
      })
      .catch((err: unknown) => {
        mark.drained = true
        this.#emit(this.#opts.clock.now(), group, 'instance-standby', `instance ${instanceId}: its drain failed (${errorMessage(err)}); out of the router's targets anyway`, { instanceId })
      })
      .finally(() => {
        this.#inflightDrains.delete(p)
      })
    this.#inflightDrains.add(p)
    return { done: true, desiredReplicas: { from, to }, message }
  }

  /**
   * Brings an instance back from standby (AWS ExitStandby): from the next tick it is a target of
   * the router again, which routes to it after its first passing health check; the desired count
   * rises by one (as AWS does), up to max. An 'instance-in-service' event.
   */
  exitStandby(group: string, instanceId: string): InstanceCommandResult {
    const spec = this.#groups.get(group)
    if (spec === undefined) return { done: false, refused: `group ${group} is not configured` }
    const rt = this.#rt(group)
    if (!rt.standby.has(instanceId)) return { done: false, refused: `instance ${instanceId} is not in standby` }
    rt.standby.delete(instanceId)
    const { stored, from } = this.#desiredNow(group, rt)
    const to = Math.min(spec.replicas.max, from + 1)
    if (stored !== undefined && to !== from) this.#store.saveGroupState(group, { ...stored, desiredReplicas: to })
    this.#saveOperator(group, rt)
    const nowMs = this.#opts.clock.now()
    const message = `instance ${instanceId} back in service by the operator: health-checked, then routed. Desired ${from}→${to}${to === from ? ` (at max ${spec.replicas.max})` : ''}`
    this.#emit(nowMs, group, 'instance-in-service', message, { instanceId })
    return { done: true, desiredReplicas: { from, to }, message }
  }

  /** The group's stored state and the desired count in force (the stored one, else the last status's, else 0). */
  #desiredNow(group: string, rt: GroupRuntime): { stored: StoredGroupState | undefined; from: number } {
    const stored = this.#store.loadGroupState(group)
    return { stored, from: stored?.desiredReplicas ?? rt.status?.latest?.desiredReplicas ?? 0 }
  }

  /** Marks an instance as protected from scale-in (or not); persisted with the group state. An event says when it changes. */
  setProtection(group: string, instanceId: string, protectedFromScaleIn: boolean): void {
    const rt = this.#rt(group)
    if (rt.protectedIds.has(instanceId) !== protectedFromScaleIn) {
      const nowMs = this.#opts.clock.now()
      if (protectedFromScaleIn) this.#emit(nowMs, group, 'instance-protected', `instance ${instanceId} protected from scale-in by the operator`, { instanceId })
      else this.#emit(nowMs, group, 'instance-unprotected', `instance ${instanceId} no longer protected from scale-in`, { instanceId })
    }
    if (protectedFromScaleIn) rt.protectedIds.add(instanceId)
    else rt.protectedIds.delete(instanceId)
    const stored = this.#store.loadGroupState(group)
    if (stored) this.#store.saveGroupState(group, { ...stored, protectedIds: [...rt.protectedIds] })
  }

  /** Resolves when every drain started so far has finished (clean shutdown, tests). */
  async settle(): Promise<void> {
    while (this.#inflightDrains.size > 0) await Promise.allSettled([...this.#inflightDrains])
  }

  #rt(group: string): GroupRuntime {
    let rt = this.#runtime.get(group)
    if (!rt) {
      const providerFailures = new ProviderFailures((e) => {
        this.#emit(e.atMs, group, e.type, e.message, e.instanceId === undefined ? {} : { instanceId: e.instanceId })
      })
      rt = { draining: new Set(), protectedIds: new Set(), lastPhase: new Map(), launchedHere: new Map(), operations: [], opSeq: 0, startups: [], started: false, crashLoop: new CrashLoop(), providerFailures, standby: new Map() }
      this.#runtime.set(group, rt)
    }
    return rt
  }

  #emit(nowMs: number, group: string, type: TideEventType, message: string, extra: Partial<TideEvent> = {}): void {
    this.#opts.events?.append({ atMs: nowMs, group, type, message, ...extra })
  }

  /**
   * Observes one group. `freshRps` marks a fast re-decision (fastScaleOut): the last sync's
   * signals are reused with that demand, and no learner is fed (the next read covers the time).
   */
  async #observe(spec: GroupSpec, nowMs: number, freshRps?: number): Promise<Observed> {
    const backend = this.#opts.backend(spec)
    const provider = backend.provider
    const health = backend.health ?? unknownHealth
    const rt = this.#rt(spec.group)
    let records = await listStep(provider, spec, rt.providerFailures, nowMs)
    const stored = this.#store.loadGroupState(spec.group) ?? this.#initialState(spec, records)
    if (!rt.started) {
      rt.started = true
      for (const id of stored.protectedIds) rt.protectedIds.add(id)
      // A restart finishes drains that an earlier process began.
      for (const id of stored.drainingIds) if (records.some((r) => r.id === id)) rt.draining.add(id)
      this.#restoreLearned(spec, rt, nowMs)
      const gone = await this.#recoverOperations(spec, provider, rt, records, nowMs)
      // Instances a recovered terminate stopped are not this tick's to count (nor to scale in again).
      if (gone.size > 0) records = records.filter((r) => !gone.has(r.id))
    }
    const override = this.#operatorMarks(spec.group, rt, records, nowMs)
    const phases = new Map<string, InstancePhase>()
    const views: InstanceView[] = []
    for (const r of records) {
      // Protected by the operator through tide, or by the platform (AWS instance scale-in protection).
      const marks = { draining: rt.draining.has(r.id), protectedFromScaleIn: r.protectedFromScaleIn === true || rt.protectedIds.has(r.id), standby: rt.standby.has(r.id) }
      const instanceHealth = health.health(r.id)
      const phase = phaseOf(r, instanceHealth, marks, spec, nowMs)
      phases.set(r.id, phase)
      this.#notePhase(spec.group, rt, r, phase, nowMs)
      if (countsTowardCapacity(phase)) views.push(viewOf(r, phase, marks, instanceHealth))
    }
    for (const id of rt.lastPhase.keys()) if (!phases.has(id)) rt.lastPhase.delete(id)
    const startupMs = median(rt.startups)
    const fast = freshRps !== undefined
    if (!fast) await refreshStep(backend.signals, spec, nowMs)
    const signals = fast ? freshSignals(rt.lastSignals, freshRps, nowMs) : step('metrics.read', () => backend.signals.read(spec, views, nowMs))
    if (!fast) rt.lastSignals = signals
    const input: DecideInput = {
      spec,
      state: { desiredReplicas: stored.desiredReplicas, size: stored.size, instances: views, history: stored.history },
      signals,
      nowMs,
      ...(startupMs === undefined ? {} : { startupMs }),
      ...override,
      ...(fast ? { scaleOutOnly: true, ...this.#fastInsight(spec, rt, nowMs, freshRps) } : this.#insight(spec, rt, views, signals, nowMs, startupMs)),
    }
    return { spec, provider, backend, records, phases, views, stored, input }
  }

  /** The demand forecast, usage histograms and headroom this group's policies read, fed with this tick's signals. */
  #insight(spec: GroupSpec, rt: GroupRuntime, views: readonly InstanceView[], signals: DecideInput['signals'], nowMs: number, startupMs: number | undefined): Pick<DecideInput, 'forecast' | 'usage' | 'headroom'> {
    const out: { -readonly [K in 'forecast' | 'usage' | 'headroom']?: NonNullable<DecideInput[K]> } = {}
    if (spec.slo !== undefined) {
      rt.slo ??= new HeadroomRecorder(spec, spec.slo)
      rt.slo.observe(signals, nowMs, startupMs ?? spec.startupSeconds * 1000)
      const estimate = rt.slo.estimate(nowMs)
      if (estimate !== undefined) out.headroom = estimate
    }
    this.#observeRisk(rt, signals, nowMs)
    if (spec.predictive.mode !== 'off') {
      if (rt.demand === undefined) {
        rt.demand = new DemandRecorder(this.#opts.forecasting)
        const history = this.#opts.demandHistory?.(spec)
        if (history !== undefined) rt.demand.preload(history)
      }
      rt.demand.observe(spec, nowMs, signals?.group.rps)
      const horizon = forecastHorizon({ spec, nowMs, ...(startupMs === undefined ? {} : { startupMs }) })
      out.forecast = rt.demand.forecast(spec, nowMs, horizon.aheadMs, horizon.scoreAtMs)
      rt.lastForecast = out.forecast
    }
    if (spec.vertical.mode !== 'off' || spec.strategy !== 'horizontal') {
      rt.usage ??= new UsageRecorder(spec)
      rt.usage.observe(views, signals, nowMs)
      out.usage = rt.usage.view()
    }
    return out
  }

  /** Feeds the risk radar a sync period's demand and the budget's account. */
  #observeRisk(rt: GroupRuntime, signals: DecideInput['signals'], nowMs: number): void {
    ;(rt.risk ??= new RiskRecorder()).observe(nowMs, signals?.group.rps, rt.slo?.budget(nowMs))
  }

  /**
   * A fast re-decision reads what the last sync period's learners said, without feeding them; the
   * headroom's reference demand is raised to the fresh demand.
   */
  #fastInsight(spec: GroupSpec, rt: GroupRuntime, nowMs: number, freshRps: number): Pick<DecideInput, 'forecast' | 'usage' | 'headroom'> {
    const estimate = rt.slo?.estimate(nowMs)
    const headroom = estimate?.referenceRps === undefined ? estimate : { ...estimate, referenceRps: Math.max(estimate.referenceRps, freshRps) }
    const usage = spec.vertical.mode !== 'off' || spec.strategy !== 'horizontal' ? rt.usage?.view() : undefined
    return { ...(rt.lastForecast === undefined ? {} : { forecast: rt.lastForecast }), ...(usage === undefined ? {} : { usage }), ...(headroom === undefined ? {} : { headroom }) }
  }

  /** Whether fastScaleOut() would decide for any group now: the cheap check a caller may make first. */
  fastScaleOutDue(): boolean {
    const nowMs = this.#opts.clock.now()
    for (const spec of this.#groups.values()) {
      const trigger = this.#runtime.get(spec.group)?.fastTriggerRps
      if (trigger === undefined) continue
      const rps = this.#opts.backend(spec).signals.freshDemand?.(spec, nowMs)
      if (rps !== undefined && rps > trigger) return true
    }
    return false
  }

  /**
   * The fast scale-out path (slo.fastScaleOut): for every group whose fresh demand
   * (MetricsSource.freshDemand) outgrew the capacity in force, decide again now, scale-out only.
   * Called every second by the run loop (and every step by the simulator), between sync periods;
   * cheap when nothing outgrew its count. A fast decision that could not scale out disarms the
   * group's trigger until its next sync period, so a group held at max is not re-decided every
   * second.
   */
  async fastScaleOut(): Promise<ReconcileResult[]> {
    const nowMs = this.#opts.clock.now()
    const results: ReconcileResult[] = []
    for (const spec of this.#groups.values()) {
      const rt = this.#runtime.get(spec.group)
      const trigger = rt?.fastTriggerRps
      if (rt === undefined || trigger === undefined || rt.pausedSinceMs !== undefined || rt.override !== undefined) continue
      const rps = this.#opts.backend(spec).signals.freshDemand?.(spec, nowMs)
      if (rps === undefined || !(rps > trigger)) continue
      try {
        const o = await this.#observe(spec, nowMs, rps)
        const decision = decideFleet([...this.#othersForQuota(spec), o.input], this.#quotas).at(-1)
        if (decision === undefined) continue
        const result = await this.#act(o, decision, nowMs)
        if (!(decision.to > decision.from)) rt.fastTriggerRps = undefined
        results.push(result)
      } catch (err) {
        // As in reconcileOnce: this group's failure is its own; only a full tick ends the streak.
        this.#noteGroupFailure(spec, err, nowMs)
      }
    }
    return results
  }

  /**
   * The other groups as they stand (their stored counts), so that a fast decision grows only into
   * the quota room they leave. Empty without quotas. decideFleet decides them too, without
   * signals: each holds its count (no policy has one), unless it lies outside its bounds.
   */
  #othersForQuota(spec: GroupSpec): DecideInput[] {
    if (this.#quotas === undefined) return []
    const out: DecideInput[] = []
    for (const other of this.#groups.values()) {
      if (other.group === spec.group) continue
      const input = this.#storedInput(other)
      if (input !== undefined) out.push(input)
    }
    return out
  }

  /** A group as it stands in the store, without signals (decideFleet holds its count); undefined before its first tick. */
  #storedInput(spec: GroupSpec): DecideInput | undefined {
    const stored = this.#store.loadGroupState(spec.group)
    if (stored === undefined) return undefined
    return { spec, state: { desiredReplicas: stored.desiredReplicas, size: stored.size, instances: [], history: stored.history }, signals: undefined, nowMs: 0 }
  }

  /** First sight of a group: the engine's initial count (engine/lifecycle.ts initialReplicas), the spec's size. */
  #initialState(spec: GroupSpec, records: readonly InstanceRecord[]): StoredGroupState {
    return { desiredReplicas: initialReplicas(spec, records), size: spec.size, history: emptyHistory, drainingIds: [], protectedIds: [] }
  }

  /**
   * What an operator set, brought up to this tick: a manual scale whose time has passed ends,
   * standby marks of instances the provider no longer lists are dropped (the process ended).
   * Returns the decision input's `override` part (empty without a manual scale in force).
   */
  #operatorMarks(group: string, rt: GroupRuntime, records: readonly InstanceRecord[], nowMs: number): Pick<DecideInput, 'override'> {
    if (rt.override !== undefined && rt.override.untilMs <= nowMs) this.#endManualScale(group, rt, nowMs, `its hold ended at ${new Date(rt.override.untilMs).toISOString()}`)
    if (rt.standby.size > 0) {
      const listed = new Set(records.map((r) => r.id))
      const gone = [...rt.standby.keys()].filter((id) => !listed.has(id))
      for (const id of gone) rt.standby.delete(id)
      if (gone.length > 0) this.#saveOperator(group, rt)
    }
    return rt.override === undefined ? {} : { override: { desired: rt.override.desired } }
  }

  #notePhase(group: string, rt: GroupRuntime, r: InstanceRecord, phase: InstancePhase, nowMs: number): void {
    const before = rt.lastPhase.get(r.id)
    if (before === phase) return
    rt.lastPhase.set(r.id, phase)
    if (before === undefined && !rt.launchedHere.has(r.id) && phase !== 'terminated') {
      this.#emit(nowMs, group, 'adopted', `adopted running instance ${r.id} (${phase})`, { instanceId: r.id })
    }
    if (phase === 'unhealthy' && before === 'pending' && r.status === 'failed' && rt.launchedHere.has(r.id)) this.#noteStartFailure(group, rt, r, nowMs)
    else if (phase === 'unhealthy') this.#noteUnhealthy(group, rt, r, nowMs)
    else if (receivesTraffic(phase) && (before === 'pending' || before === undefined) && rt.launchedHere.has(r.id)) this.#noteReady(group, rt, r, nowMs)
  }

  /** A died or failing instance: an event, and for an out-of-memory kill the memory it was using. */
  #noteUnhealthy(group: string, rt: GroupRuntime, r: InstanceRecord, nowMs: number): void {
    const failed = r.status === 'failed'
    if (failed && isOomKill(r)) {
      const usageMiB = rt.usage?.lastMemoryMiB(r.id) ?? r.size.memoryMiB
      rt.usage?.noteOom(usageMiB, nowMs)
      this.#emit(nowMs, group, 'instance-failed', `instance ${r.id} was killed for running out of memory at ${Math.round(usageMiB)} MiB of ${r.size.memoryMiB} MiB`, { instanceId: r.id })
    }
    this.#emit(nowMs, group, failed ? 'instance-failed' : 'instance-unhealthy', failed ? `instance ${r.id} died` : `instance ${r.id} failed its health checks`, { instanceId: r.id })
  }

  /**
   * Launches `count` instances and returns their ids, unless start failures in a row make
   * launches wait (1 s, 2 s … 60 s; the failure's event said how long), or the provider's
   * throttle or a capacity shortage of this size does (provider-failures.ts). A failed launch
   * is an event, not an error.
   */
  async #launch(spec: GroupSpec, provider: Provider, rt: GroupRuntime, size: Size, count: number, nowMs: number, why: ActionWhy): Promise<string[]> {
    if (rt.crashLoop.blocks(nowMs) || rt.providerFailures.launchWaits(size, nowMs)) return []
    // The intent first: a tide killed from here on finds it on restart (#recoverOperations).
    const op = this.#beginOperation(spec.group, rt, { kind: 'launch', why, decisionAtMs: nowMs, count, size, instanceIds: [] }, nowMs)
    await this.#persist(spec.group, rt, op)
    if (why === 'scale-out') crashPoint('scale-out:intent-written')
    try {
      const started = await provider.launch(spec, size, count)
      if (why === 'scale-out') crashPoint('scale-out:launched')
      rt.providerFailures.launched(size)
      for (const r of started) {
        rt.launchedHere.set(r.id, why)
        rt.lastPhase.set(r.id, 'pending')
      }
      this.#endOperation(spec.group, rt, op)
      this.#emit(nowMs, spec.group, 'launch', `launched ${started.length} instance(s) of ${sizeText(size)}: ${started.map((r) => r.id).join(', ')}`)
      if (why === 'resize') crashPoint('resize:new-launched')
      return started.map((r) => r.id)
    } catch (err) {
      // Instances started before a failure are recorded by the provider: the next list() shows them (adopted).
      this.#endOperation(spec.group, rt, op)
      rt.providerFailures.launchFailed(err, size, count, nowMs, rt.crashLoop)
      return []
    }
  }

  /** Writes an operation's intent to the store before its provider call (StoredOperation); returns it. */
  #beginOperation(group: string, rt: GroupRuntime, what: Omit<StoredOperation, 'id' | 'startedAtMs' | 'state'>, nowMs: number): StoredOperation {
    const op: StoredOperation = { ...what, id: `${what.kind}-${nowMs}-${rt.opSeq++}`, startedAtMs: nowMs, state: 'pending' }
    rt.operations.push(op)
    this.#store.saveOperations(group, rt.operations)
    return op
  }

  /** The intent durable before its provider call (ControllerOptions.persist); when it cannot be, the operation is dropped and the error thrown. */
  async #persist(group: string, rt: GroupRuntime, op: StoredOperation): Promise<void> {
    if (this.#opts.persist === undefined) return
    try {
      await this.#opts.persist()
    } catch (err) {
      this.#endOperation(group, rt, op)
      throw err
    }
  }

  /** The provider answered (done, or failed: rolled back, the event says why): the operation leaves the store. */
  #endOperation(group: string, rt: GroupRuntime, op: StoredOperation): void {
    const i = rt.operations.indexOf(op)
    if (i < 0) return
    rt.operations.splice(i, 1)
    this.#store.saveOperations(group, rt.operations)
  }

  /** An instance launched here died before it ever served: say how, show its log's end, and back off (crash-loop.ts). */
  #noteStartFailure(group: string, rt: GroupRuntime, r: InstanceRecord, nowMs: number): void {
    const waitMs = rt.crashLoop.failed(nowMs)
    rt.checkpointDue = true
    const tail = r.meta?.logTail
    const showLog = tail !== undefined && tail !== rt.lastLogTail
    if (showLog) rt.lastLogTail = tail
    this.#emit(nowMs, group, 'instance-failed', startFailureMessage(r, nowMs, rt.crashLoop.failures, waitMs, showLog), { instanceId: r.id })
  }

  /** An instance launched here serves: an event, and its start-up time for the scheduling buffer. */
  #noteReady(group: string, rt: GroupRuntime, r: InstanceRecord, nowMs: number): void {
    if (rt.crashLoop.failures > 0) rt.checkpointDue = true
    rt.crashLoop.served()
    rt.lastLogTail = undefined
    if (r.readyAtMs !== undefined) {
      rt.startups.push(r.readyAtMs - r.launchedAtMs)
      if (rt.startups.length > 5) rt.startups.shift()
      rt.checkpointDue = true
    }
    const startup = r.readyAtMs === undefined ? '' : ` after ${((r.readyAtMs - r.launchedAtMs) / 1000).toFixed(1)} s`
    this.#emit(nowMs, group, 'instance-ready', `instance ${r.id} is serving${startup}`, { instanceId: r.id })
    const why = rt.launchedHere.get(r.id)
    if (why === 'scale-out') crashPoint('scale-out:in-service')
    else if (why === 'resize') crashPoint('resize:new-in-service')
  }

  async #act(o: Observed, decision: Decision, nowMs: number): Promise<ReconcileResult> {
    const { spec, provider } = o
    const rt = this.#rt(spec.group)
    const launched: string[] = []
    const terminated: string[] = []
    this.#recordDecision(spec.group, rt, decision, nowMs)
    const size = decision.resize?.to ?? o.stored.size
    const capacityRps = sloCapacityRps(spec, decision.to, size)
    rt.slo?.noteDecision(nowMs, capacityRps, o.input.scaleOutOnly === true)
    // Armed from the first tick on, with or without a demand reading yet: a surge before the first
    // full window must not wait a sync period.
    rt.fastTriggerRps = spec.slo?.fastScaleOut === true ? capacityRps : undefined

    const target = decision.to
    const retire = { target, size, instances: o.views, scaleInCandidates: decision.scaleInCandidates }
    const toLaunch = instancesToLaunch(retire)
    const removals = instancesToRemove(retire)
    const byId = new Map(o.records.map((r) => [r.id, r]))
    const unhealthy = o.records.filter((r) => o.phases.get(r.id) === 'unhealthy')
    const scaleOut = toLaunch > 0 && decision.resize === undefined && decision.to > decision.from
    if (scaleOut) crashPoint('scale-out:decided')
    if (toLaunch > 0 || removals.length > 0 || unhealthy.length > 0) this.#writeAhead(o, rt, decision, size, removals, byId)

    // Unhealthy and dead instances are replaced: terminate now; the count below launches the replacement.
    for (const r of unhealthy) {
      if (await this.#terminate(spec, provider, r, nowMs, 'replace-unhealthy')) {
        terminated.push(r.id)
        this.#emit(nowMs, spec.group, 'instance-replaced', `replacing instance ${r.id}`, { instanceId: r.id })
      }
    }

    if (toLaunch > 0) launched.push(...(await this.#launch(spec, provider, rt, size, toLaunch, nowMs, launchWhyOf(decision, scaleOut, unhealthy.length))))
    terminated.push(...(await this.#retireAll(o, rt, removals, byId, size, nowMs)))
    // Routing follows what this tick saw and did: serving instances take requests, draining ones
    // finish theirs, terminated ones are gone.
    const gone = new Set(terminated)
    o.backend.traffic?.setTargets(
      spec,
      trafficTargets(
        o.records.filter((r) => !gone.has(r.id)),
        (r) => (rt.draining.has(r.id) || rt.standby.get(r.id)?.drained === false ? 'draining' : o.phases.get(r.id)),
      ),
    )

    this.#saveState(spec.group, rt, { desiredReplicas: target, size, history: decision.history }, [])
    this.#store.saveGroupStatus(spec.group, this.#tickStatus(o, rt, decision, target, size, nowMs))
    if (scaleOut && launched.length > 0) crashPoint('scale-out:registered')
    this.#maybeCheckpoint(spec.group, rt, nowMs)
    return { group: spec.group, decision, launched, terminated }
  }

  /** Retires this tick's removals (drained, or terminated at once), resumes drains an earlier process began; returns the ids terminated now. */
  async #retireAll(o: Observed, rt: GroupRuntime, removals: readonly string[], byId: ReadonlyMap<string, InstanceRecord>, size: Size, nowMs: number): Promise<string[]> {
    const terminated: string[] = []
    for (const id of removals) {
      const record = byId.get(id)
      if (record && (await this.#retire(o.spec, o.backend, record, nowMs, retireWhyOf(record, size)))) terminated.push(id)
    }
    for (const id of rt.draining) {
      const record = byId.get(id)
      if (record && !removals.includes(id)) this.#startDrain(o.spec, o.backend, record, nowMs, rt, retireWhyOf(record, size))
    }
    return terminated
  }

  /**
   * Write-ahead: the decided count and history, and the victims that will drain, saved before
   * any provider call of a tick that acts, so that a tide killed mid-action restarts from this
   * decision (its launches found, its drains resumed), not from the one before it.
   */
  #writeAhead(o: Observed, rt: GroupRuntime, decision: Decision, size: Size, removals: readonly string[], byId: ReadonlyMap<string, InstanceRecord>): void {
    const drainsAhead = removals.filter((id) => {
      const r = byId.get(id)
      return r !== undefined && o.backend.traffic !== undefined && r.status !== 'starting'
    })
    this.#saveState(o.spec.group, rt, { desiredReplicas: decision.to, size, history: decision.history }, drainsAhead)
    if (removals.length > 0 && decision.resize === undefined) crashPoint('scale-in:victim-chosen')
  }

  /** Saves the group's state: `decided` with the instances draining (and `drainsAhead`, about to) and the protected ones. */
  #saveState(group: string, rt: GroupRuntime, decided: Pick<StoredGroupState, 'desiredReplicas' | 'size' | 'history'>, drainsAhead: readonly string[]): void {
    this.#store.saveGroupState(group, { ...decided, drainingIds: [...new Set([...rt.draining, ...drainsAhead])], protectedIds: [...rt.protectedIds] })
  }

  /**
   * Checkpoints the group's learners when checkpointSeconds have passed since the last one, or
   * when something a restart must not lose was learned this tick (a start-up sample, a crash-loop
   * step). Never without ControllerOptions.checkpointSeconds (the simulator).
   */
  #maybeCheckpoint(group: string, rt: GroupRuntime, nowMs: number): void {
    const every = this.#opts.checkpointSeconds
    if (every === undefined) return
    const last = rt.checkpointedAtMs
    if (rt.checkpointDue !== true && last !== undefined && nowMs >= last && nowMs - last < every * 1000) return
    this.#checkpointGroup(group, rt, nowMs)
  }

  /** Writes what the group's learners know (StoredLearnedState) to the store. */
  #checkpointGroup(group: string, rt: GroupRuntime, nowMs: number): void {
    const last = rt.lastDecision
    const predictiveReason = last?.recommendations.find((r) => r.policy === 'predictive')?.reason
    const lastDecision = last === undefined ? rt.restoredReasons : { reason: last.reason, ...(predictiveReason === undefined ? {} : { predictiveReason }) }
    this.#store.saveLearnedState(group, {
      atMs: nowMs,
      startupsMs: [...rt.startups],
      crashLoop: rt.crashLoop.toJSON(),
      ...(rt.usage === undefined ? {} : { usage: rt.usage.toJSON() }),
      ...(rt.slo === undefined ? {} : { slo: rt.slo.toJSON() }),
      ...(lastDecision === undefined ? {} : { lastDecision }),
    })
    rt.checkpointedAtMs = nowMs
    rt.checkpointDue = false
  }

  /**
   * Checkpoints every group's learners now (tide stopping), whatever checkpointSeconds says.
   * A group whose checkpoint fails is skipped (the one before it stays); returns how many were written.
   */
  checkpoint(): number {
    const nowMs = this.#opts.clock.now()
    let written = 0
    for (const spec of this.#groups.values()) {
      const rt = this.#runtime.get(spec.group)
      if (rt?.started !== true) continue
      try {
        this.#checkpointGroup(spec.group, rt, nowMs)
        written++
      } catch {
        // The store is failing: the checkpoint before this one stays; the caller is stopping anyway.
      }
    }
    return written
  }

  /**
   * A restarted tide's first sight of a group: what the learners knew at the last checkpoint
   * comes back (a `recovered` event says what, and what could not be restored and starts afresh).
   */
  #restoreLearned(spec: GroupSpec, rt: GroupRuntime, nowMs: number): void {
    const l = this.#store.loadLearnedState(spec.group)
    if (l === undefined) return
    const restored: string[] = []
    const afresh: string[] = []
    const startups = (l.startupsMs ?? []).filter((x) => Number.isFinite(x) && x >= 0).slice(-5)
    if (startups.length > 0) {
      rt.startups.push(...startups)
      restored.push(`${startups.length} start-up sample(s) (median ${((median(startups) ?? 0) / 1000).toFixed(1)} s)`)
    }
    if (l.crashLoop !== undefined && l.crashLoop.failures > 0) {
      rt.crashLoop.restore(l.crashLoop)
      restored.push(`the crash-loop back-off (${l.crashLoop.failures} start failure(s) in a row)`)
    }
    this.#restoreRecorders(spec, rt, l, restored, afresh)
    rt.restoredReasons = l.lastDecision
    rt.checkpointedAtMs = nowMs
    if (restored.length === 0 && afresh.length === 0) return
    const what = restored.length === 0 ? 'nothing' : restored.join(', ')
    this.#emit(nowMs, spec.group, 'recovered', `restored what ${spec.group} had learned by ${new Date(l.atMs).toISOString()}: ${what}${afresh.length === 0 ? '' : `; started afresh: ${afresh.join(', ')}`}`)
  }

  /** The usage and headroom recorders from a checkpoint; what came back, or what starts afresh and why, is added to the lists. */
  #restoreRecorders(spec: GroupSpec, rt: GroupRuntime, l: StoredLearnedState, restored: string[], afresh: string[]): void {
    if (l.usage !== undefined && usesUsage(spec)) {
      try {
        const usage = new UsageRecorder(spec)
        usage.restore(l.usage)
        rt.usage = usage
        restored.push(`the usage histograms (${usage.samples} cpu samples)`)
      } catch (err) {
        afresh.push(`usage histograms (${errorMessage(err)})`)
      }
    }
    if (l.slo !== undefined && spec.slo !== undefined) {
      try {
        const slo = new HeadroomRecorder(spec, spec.slo)
        slo.restore(l.slo)
        rt.slo = slo
        restored.push('the headroom learner and violation budget')
      } catch (err) {
        afresh.push(`headroom learner (${errorMessage(err)})`)
      }
    }
  }

  /**
   * A restarted tide's first sight of a group: the operations a killed tide left pending are
   * completed or rolled back, each told by a `recovered` event. A launch's instances are those the
   * provider lists, launched since its intent was written, of its size (at most its count): found,
   * they are this launch's (adopted, never launched again; the decided count was saved before the
   * launch, so the next decision counts them); none found, nothing was launched and the tick
   * decides afresh. A terminate whose instance is still listed is finished now. Returns the ids
   * of the instances it terminated.
   */
  async #recoverOperations(spec: GroupSpec, provider: Provider, rt: GroupRuntime, records: readonly InstanceRecord[], nowMs: number): Promise<Set<string>> {
    const gone = new Set<string>()
    const ops = this.#store.loadOperations(spec.group)
    if (ops.length === 0) return gone
    const claimed = new Set<string>()
    const decided = (op: StoredOperation) => `${op.kind} (${op.why}) decided at ${new Date(op.decisionAtMs).toISOString()}`
    for (const op of ops) {
      if (op.state !== 'pending') continue
      if (op.kind === 'launch') {
        const want = op.count ?? 1
        const found = records.filter((r) => !claimed.has(r.id) && (op.instanceIds.length > 0 ? op.instanceIds.includes(r.id) : r.launchedAtMs >= op.startedAtMs && (op.size === undefined || sameSize(r.size, op.size)))).slice(0, want)
        for (const r of found) {
          claimed.add(r.id)
          rt.launchedHere.set(r.id, op.why)
          if (r.status === 'starting') rt.lastPhase.set(r.id, 'pending')
        }
        const ids = found.map((r) => r.id).join(', ')
        const message =
          found.length >= want
            ? `${decided(op)} of ${want} instance(s) had launched when tide was killed: ${ids} adopted as its instances; nothing launched again`
            : found.length > 0
              ? `${decided(op)} of ${want} instance(s) was cut by tide's kill after ${found.length}: ${ids} adopted; the rest is rolled back, left to this tick's decision`
              : `${decided(op)} of ${want} instance(s) was cut by tide's kill before any instance started: rolled back; this tick decides afresh`
        this.#emit(nowMs, spec.group, 'recovered', message)
        continue
      }
      for (const id of op.instanceIds) {
        const record = records.find((r) => r.id === id)
        if (record === undefined) {
          this.#emit(nowMs, spec.group, 'recovered', `${decided(op)} of instance ${id} had finished when tide was killed: it is gone`, { instanceId: id })
          continue
        }
        rt.draining.delete(id)
        const done = await this.#terminate(spec, provider, record, nowMs, actionWhyOf(op.why))
        if (done) gone.add(id)
        this.#emit(nowMs, spec.group, 'recovered', done ? `${decided(op)} of instance ${id} was cut by tide's kill: completed now` : `${decided(op)} of instance ${id} was cut by tide's kill and could not complete now: the next decisions see it again`, { instanceId: id })
      }
    }
    this.#store.saveOperations(spec.group, rt.operations)
    return gone
  }

  /** The group's status at the end of a tick that decided and acted (group-status.ts). */
  #tickStatus(o: Observed, rt: GroupRuntime, decision: Decision, desiredReplicas: number, size: Size, nowMs: number): GroupStatus {
    const f = rt.lastForecast
    const risks = this.#risks(o, rt, decision, nowMs)
    return (rt.status ??= new GroupStatusBuilder(o.spec.group)).tick({
      risks,
      input: o.input,
      records: o.records,
      phases: o.phases,
      draining: rt.draining,
      protectedIds: rt.protectedIds,
      decision,
      desiredReplicas,
      size,
      backoff: statusBackoff(rt.crashLoop, rt.providerFailures.backoff(nowMs), nowMs),
      routing: o.backend.traffic?.state?.(o.spec),
      providerBackoff: rt.providerFailures.backoff(nowMs),
      slo: rt.slo,
      forecaster: rt.demand === undefined || f === undefined ? undefined : { stats: rt.demand.stats(), forecast: f },
      usageSamples: rt.usage?.samples,
    })
  }

  /**
   * What the risk radar sees for the group this tick (src/engine/risk.ts), from the demand and
   * budget readings kept, the forecast ahead, the load an instance carries, its max and quota
   * ceiling; a risk that appears is a `risk` event and one that is gone a `risk-cleared` event
   * (once per episode, risk-recorder.ts).
   */
  #risks(o: Observed, rt: GroupRuntime, decision: Decision, nowMs: number): readonly GroupRisk[] {
    const recorder = (rt.risk ??= new RiskRecorder())
    const { spec } = o
    const forecast = spec.predictive.mode === 'off' ? undefined : rt.demand?.outlook(nowMs, RISK_FORECAST_HORIZON_MS)
    const risks = groupRisks({
      group: spec.group,
      nowMs,
      demand: recorder.demand,
      forecast,
      perInstanceRps: riskPerInstanceRps(o.input, decision),
      max: spec.replicas.max,
      quotaCeiling: rt.quotaCeiling,
      budget: spec.slo === undefined ? undefined : recorder.budget(spec.slo.budgetPercent),
    })
    const { raised, cleared } = recorder.episodes(nowMs, risks)
    for (const r of raised) this.#emit(nowMs, spec.group, 'risk', r.message)
    for (const kind of cleared) this.#emit(nowMs, spec.group, 'risk-cleared', `the ${kind === 'budget' ? 'violation budget' : kind} risk of ${spec.group} is gone: the radar no longer sees it ahead`)
    return risks
  }

  #recordDecision(group: string, rt: GroupRuntime, decision: Decision, nowMs: number): void {
    const last = rt.lastDecision
    rt.lastDecision = decision
    if (decision.resize !== undefined) {
      this.#emit(nowMs, group, 'resize', `resizing ${sizeText(decision.resize.from)} → ${sizeText(decision.resize.to)} (launch before terminate): ${decision.explanation}`)
    }
    // The forecaster's state as it changes (backing off, resuming, enough history at last): the log says when and why.
    const predictive = decision.recommendations.find((r) => r.policy === 'predictive')
    const beforeReason = last === undefined ? rt.restoredReasons?.predictiveReason : last.recommendations.find((r) => r.policy === 'predictive')?.reason
    if (predictive !== undefined && predictive.reason !== beforeReason) {
      this.#emit(nowMs, group, 'forecast', predictive.detail)
    }
    const changed = (last?.reason ?? rt.restoredReasons?.reason) !== decision.reason
    if (decision.kind === 'scale' || changed) {
      this.#emit(nowMs, group, 'decision', decision.explanation, { decision })
    }
    if (decision.reason === 'TooManyReplicas' && changed) {
      this.#emit(nowMs, group, 'at-max-capacity', `held at max ${decision.to} while demand asks for more: ${decision.explanation}`)
    }
    if (decision.reason === 'QuotaExhausted' && changed) {
      this.#emit(nowMs, group, 'quota-exhausted', decision.explanation)
    }
  }

  /** Drains (when a drainer is configured) then terminates; returns true when terminated now. */
  async #retire(spec: GroupSpec, backend: Backend, record: InstanceRecord, nowMs: number, why: ActionWhy): Promise<boolean> {
    const rt = this.#rt(spec.group)
    if (!backend.traffic || record.status === 'starting') return this.#terminate(spec, backend.provider, record, nowMs, why)
    this.#startDrain(spec, backend, record, nowMs, rt, why)
    return false
  }

  #startDrain(spec: GroupSpec, backend: Backend, record: InstanceRecord, nowMs: number, rt: GroupRuntime, why: ActionWhy): void {
    const traffic = backend.traffic
    const provider = backend.provider
    if (!traffic) return
    const key = `${spec.group}/${record.id}`
    if (this.#drainKeys.has(key)) return
    this.#drainKeys.add(key)
    rt.draining.add(record.id)
    this.#emit(nowMs, spec.group, 'drain-start', `draining instance ${record.id}`, { instanceId: record.id })
    if (why === 'scale-in') crashPoint('scale-in:drain-started')
    else if (why === 'resize') crashPoint('resize:old-draining')
    const p = traffic
      .drain(spec, record)
      .then(async () => {
        await this.#terminate(spec, provider, record, this.#opts.clock.now(), why)
      })
      .catch((err: unknown) => {
        this.#emit(this.#opts.clock.now(), spec.group, 'terminate-failed', `drain of ${record.id} failed: ${errorMessage(err)}`, { instanceId: record.id })
      })
      .finally(() => {
        rt.draining.delete(record.id)
        this.#drainKeys.delete(key)
        this.#inflightDrains.delete(p)
      })
    this.#inflightDrains.add(p)
  }

  readonly #drainKeys = new Set<string>()

  /**
   * Terminates one instance; true when it is gone (an instance the provider no longer knows
   * counts). Skipped while the provider throttles the group: the next tick asks again.
   */
  async #terminate(spec: GroupSpec, provider: Provider, record: InstanceRecord, nowMs: number, why: ActionWhy): Promise<boolean> {
    const rt = this.#rt(spec.group)
    const failures = rt.providerFailures
    if (failures.holdsCalls(nowMs)) return false
    const op = this.#beginOperation(spec.group, rt, { kind: 'terminate', why, decisionAtMs: nowMs, instanceIds: [record.id] }, nowMs)
    await this.#persist(spec.group, rt, op)
    try {
      await provider.terminate(spec, record.id)
      if (why === 'scale-in') crashPoint('scale-in:terminated')
      failures.succeeded('terminate')
      this.#endOperation(spec.group, rt, op)
      this.#emit(nowMs, spec.group, 'terminate', `terminated instance ${record.id}`, { instanceId: record.id })
      if (why === 'scale-in') crashPoint('scale-in:record-removed')
      else if (why === 'resize') crashPoint('resize:old-stopped')
      return true
    } catch (err) {
      this.#endOperation(spec.group, rt, op)
      return failures.terminateFailed(err, record.id, nowMs)
    }
  }
}

/**
 * What `count` instances of `size` serve within the objective, requests/s (count × slo.instanceRps,
 * by cpu); undefined without slo.instanceRps. The fast path's trigger: a demand beyond it has
 * exhausted the headroom, a surge to meet at once.
 */
function sloCapacityRps(spec: GroupSpec, count: number, size: Size): number | undefined {
  const perInstance = instanceCapacityRps(spec, size)
  return perInstance === undefined ? undefined : count * perInstance
}

/**
 * The routing table of a group: each record with an address whose phase (by `phase`) is warming,
 * in-service or draining.
 */
function trafficTargets(records: readonly InstanceRecord[], phase: (r: InstanceRecord) => InstancePhase | undefined): TrafficTarget[] {
  const out: TrafficTarget[] = []
  for (const r of records) {
    const p = phase(r)
    if (r.address === undefined || (p !== 'warming' && p !== 'in-service' && p !== 'draining')) continue
    out.push({ id: r.id, host: r.address.host, port: r.address.port, state: p, launchedAtMs: r.launchedAtMs })
  }
  return out
}

/** The sections of a group spec that differ between `a` and `b` (top-level keys), for the reload's event. */
function changedSections(a: GroupSpec, b: GroupSpec): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  const out: string[] = []
  for (const k of keys) {
    if (JSON.stringify((a as unknown as Record<string, unknown>)[k]) !== JSON.stringify((b as unknown as Record<string, unknown>)[k])) out.push(k)
  }
  return out
}

/** The last sync's signals with a fresh group demand, for a fast re-decision. */
function freshSignals(last: Signals | undefined, rps: number, nowMs: number): Signals {
  const group = last === undefined ? {} : { ...last.group }
  delete group.demandSteps
  return { atMs: nowMs, instances: last?.instances ?? new Map(), group: { ...group, rps } }
}

/**
 * The back-offs in force, for the status's AbleToScale: launches wait after start or launch
 * failures in a row (the crash loop) or while a size's capacity is short; every provider call
 * waits while the provider throttles.
 */
function statusBackoff(crashLoop: CrashLoop, provider: ProviderBackoff | undefined, nowMs: number): { up?: string; down?: string } | undefined {
  const crash = crashLoop.blocks(nowMs) ? `new launches back off after ${crashLoop.failures} failed start(s) or launch(es) in a row` : undefined
  if (provider?.kind === 'throttled') return { up: crash === undefined ? provider.why : `${crash}; ${provider.why}`, down: provider.why }
  const capacity = provider?.kind === 'capacity' ? provider.why : undefined
  if (crash === undefined && capacity === undefined) return undefined
  return { up: crash !== undefined && capacity !== undefined ? `${crash}; ${capacity}` : (crash ?? capacity ?? '') }
}

/** Why an instance cannot enter standby now, or undefined when it can. */
function standbyRefusal(spec: GroupSpec, traffic: Backend['traffic'], rt: GroupRuntime, instanceId: string): string | undefined {
  if (traffic?.detach === undefined) return `group ${spec.group} (provider ${spec.provider}) has no router tide controls: standby needs one to take an instance out of service (local groups)`
  if (rt.standby.has(instanceId)) return `instance ${instanceId} is already in standby`
  const phase = rt.lastPhase.get(instanceId)
  if (phase !== 'in-service' && phase !== 'warming') return `instance ${instanceId} is ${phase ?? 'not observed yet'}: only a serving instance (in-service or warming) can enter standby`
  return undefined
}

/**
 * A manual scale in words, for its event and the status: "held at 20 until 2026-12-06T12:35:00.000Z
 * (max 20; asked 25)". Quotas and protection may hold it lower still; the decision says so.
 */
export function manualScaleText(m: Pick<ManualScale, 'desired' | 'untilMs'>, spec: Pick<GroupSpec, 'replicas'>): string {
  const c = manualCount(m.desired, spec.replicas)
  return `held at ${c.bounded} until ${new Date(m.untilMs).toISOString()}${c.clampedBy === undefined ? '' : ` (${c.clampedBy}; asked ${c.asked})`}`
}

/** Whether a failed record says the platform killed it for running out of memory (Kubernetes' OOMKilled, or a provider's meta.exit 'oom'). */
export function isOomKill(r: InstanceRecord): boolean {
  return r.meta?.reason === 'OOMKilled' || r.meta?.exit === 'oom'
}

/** The median of a short list, undefined when empty. */
function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

/** A failure of one named step of a group's tick (provider.list, metrics.refresh, metrics.read, act), for its event. */
class TickStepError extends Error {
  readonly step: string
  constructor(step: string, cause: unknown) {
    super(`${step} failed: ${errorMessage(cause)}`, { cause })
    this.step = step
  }
}

/**
 * provider.list(), its failure named as the step. While the provider throttles the group, or
 * when this list is throttled, ProviderCallsHeld: the group holds this tick out.
 */
async function listStep(provider: Provider, spec: GroupSpec, failures: ProviderFailures, nowMs: number): Promise<readonly InstanceRecord[]> {
  if (failures.holdsCalls(nowMs)) throw new ProviderCallsHeld()
  try {
    const records = await provider.list(spec)
    failures.succeeded('list')
    return records
  } catch (err) {
    if (failures.listFailed(err, nowMs)) throw new ProviderCallsHeld({ cause: err })
    throw new TickStepError('provider.list', err)
  }
}

/** metrics.refresh(), when the source has one, its failure named as the step. */
async function refreshStep(metrics: MetricsSource, spec: GroupSpec, nowMs: number): Promise<void> {
  try {
    await metrics.refresh?.(spec, nowMs)
  } catch (err) {
    throw new TickStepError('metrics.refresh', err)
  }
}

/** Runs one synchronous step of an observation, naming it in the error it throws. */
function step<T>(name: string, run: () => T): T {
  try {
    return run()
  } catch (err) {
    throw new TickStepError(name, err)
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
