/**
 * A group's status as plain data (issue 10): what the controller knows of a group after a tick,
 * built at the end of every tick (a failed one too) and handed to the store, so that an API,
 * `tide up`'s heartbeat or a restarted tide reads the same thing. Plain means JSON as it is:
 * no Map, Set or function, no property set to undefined (an absent field is left out), every
 * number finite; `JSON.parse(JSON.stringify(s))` deep-equals `s` (test/controller/group-status.test.ts).
 *
 * GroupStatusBuilder takes what the controller observed and decided and the recorders it keeps;
 * it reads no clock and does no I/O. It runs every tick, the simulator's month of 15 s ticks
 * included (172,800 of them), so it reuses what did not change (an instance's entry, the slo's
 * headroom sentence, a condition) and builds objects as literals of fixed shape.
 */
import { groupConditions, type ConditionsInput, type FailedStep, type GroupCondition } from '../engine/conditions.ts'
import type { HeadroomEstimate } from '../forecast/headroom-learner.ts'
import { viewOf } from '../engine/lifecycle.ts'
import { appliedHeadroom, instanceCapacityRps } from '../engine/policies/slo.ts'
import type { GroupRisk } from '../engine/risk.ts'
import type { DecideInput, Decision, DemandForecast, InstancePhase, InstanceView } from '../engine/types.ts'
import type { InstanceRecord } from '../providers/provider.ts'
import type { Size } from '../spec/schema.ts'
import type { DemandRecorderStats } from './demand-recorder.ts'
import type { HeadroomRecorder, SloBudgetStatus } from './headroom-recorder.ts'
import type { TrafficState } from './backend.ts'
import type { ProviderBackoff } from './provider-failures.ts'

/** One instance in a status: the engine's view of it, with where it serves and the provider's details. */
export interface StatusInstance extends InstanceView {
  readonly address?: InstanceRecord['address']
  readonly meta?: InstanceRecord['meta']
}

/** A decision as a status shows it: everything but `history` (the next tick's state, not part of what was decided). */
export type StatusDecision = Omit<Decision, 'history'>

/** The predictive policy's forecaster, as status shows it (groups with predictive on). */
export interface ForecastStatus {
  /** Full fits (method chosen by backtest) and refits so far. */
  readonly fullFits: number
  readonly refits: number
  /** Demand buckets recorded (preloaded history included). */
  readonly bucketsRecorded: number
  /** Live WAPE, percent; absent until enough buckets were scored. */
  readonly liveWapePercent?: number
  /** Buckets scored against what happened. */
  readonly liveScored: number
  /** The forecasting method in use, e.g. 'hw-daily-additive'; absent before the first fit. */
  readonly method?: string
  readonly status: DemandForecast['status']
  /** The error the policy acts on, percent, and where it comes from. */
  readonly accuracyWapePercent?: number
  readonly accuracySource?: 'live' | 'backtest'
  /** The forecast demand of the bucket now open, requests/s (what the group is expected to see now). */
  readonly expectedRps?: number
  /** The prediction interval of that bucket, requests/s, when the method gives one (the dashboard's forecast band). */
  readonly expectedLowerRps?: number
  readonly expectedUpperRps?: number
}

/** What status says of a group's SLO (issue 9). */
export interface SloStatus {
  readonly latencyP95Ms: number
  readonly budgetPercent: number
  /** With slo.instanceRps: the headroom applied now and why. */
  readonly headroom?: {
    readonly percent: number
    readonly source: 'learned' | 'default' | 'fixed'
    readonly why: string
    /** The learner's own figure before minPercent/maxPercent, percent. */
    readonly learnedPercent?: number
    /** Hours of demand history learned from. */
    readonly historyHours: number
  }
  /** The load per instance scaled for, requests/s: instanceRps ÷ (1 + headroom). */
  readonly targetPerInstanceRps?: number
  /** What the headroom costs now: instances the demand alone needs, and the ones kept above that. */
  readonly cost?: { readonly demandInstances: number; readonly headroomInstances: number }
  readonly budget: SloBudgetStatus
}

/**
 * A group's status after one tick. On a failed tick (its provider or its signals failing, an
 * action failing), `atMs` and `conditions` are the failed tick's and say what failed; the rest is
 * as of the last tick that succeeded (`lastDecision.atMs` says when), or, before any succeeded,
 * the stored count and no instances.
 */
export interface GroupStatus {
  readonly group: string
  /** The tick this status is of, epoch ms (the controller's clock). */
  readonly atMs: number
  /** The desired count in force. */
  readonly desiredReplicas: number
  /** The instance size in force. */
  readonly size: Size
  /** Every instance the provider listed that is not terminated, with its phase. */
  readonly instances: readonly StatusInstance[]
  /** The last decision, with its recommendations, limits and explanation. */
  readonly lastDecision?: StatusDecision
  /** AbleToScale, ScalingActive, ScalingLimited (src/engine/conditions.ts), each once some tick has set it. */
  readonly conditions: readonly GroupCondition[]
  /** Measured launch-to-ready time of recent instances (median of the last 5), ms. */
  readonly startupMs?: number
  /** The predictive policy's forecaster (groups with predictive on, once it forecast). */
  readonly forecast?: ForecastStatus
  /** Usage samples kept for the vertical policy or the mixed planner. */
  readonly usageSamples?: number
  /** The objective, the headroom kept for it and the violation budget's account (groups with an slo). */
  readonly slo?: SloStatus
  /** How traffic stands: the backup pool, when the group has one and is routed by tide. */
  readonly routing?: TrafficState
  /** A provider back-off in force (throttled API, no capacity for a size): what waits, until when, and why. */
  readonly providerBackoff?: ProviderBackoff
  /** Set while an operator has paused the group's scaling (Controller.setPaused): since when, ms on the controller's clock. */
  readonly paused?: { readonly sinceMs: number }
  /** What the risk radar sees ahead (src/engine/risk.ts): reaching max, a quota or the violation budget, each with its ETA; absent when nothing. */
  readonly risks?: readonly GroupRisk[]
  /**
   * Set while an operator's manual scale holds the group (Controller.setManualScale): the count
   * asked, until when (ms on the controller's clock), and what it holds in words.
   */
  readonly override?: { readonly desired: number; readonly untilMs: number; readonly reason: string }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** One instance's status entry and what it was built from: reused while none of it changes. */
interface CachedInstance {
  record: InstanceRecord
  phase: InstancePhase
  protectedFromScaleIn: boolean
  entry: StatusInstance
  /** The build that last saw it. */
  seen: number
}

/** What one successful tick of a group gives its status. */
export interface TickStatusInput {
  /** The tick's observation and decision input (spec, signals, state, headroom, startupMs). */
  readonly input: DecideInput
  /** Every record the provider listed, and the phase observed for each. */
  readonly records: readonly InstanceRecord[]
  readonly phases: ReadonlyMap<string, InstancePhase>
  /** Ids being drained and ids protected from scale-in, as they stand at the end of the tick. */
  readonly draining: ReadonlySet<string>
  readonly protectedIds: ReadonlySet<string>
  readonly decision: Decision
  /** The count and size in force after the tick. */
  readonly desiredReplicas: number
  readonly size: Size
  /** Back-offs in force (the crash loop, the provider's capacity or throttle), for AbleToScale. */
  readonly backoff?: ConditionsInput['backoff'] | undefined
  /** The slo's recorder (groups with an slo). */
  readonly slo?: HeadroomRecorder | undefined
  /** The forecaster's counters and the forecast in force (groups with predictive on). */
  readonly forecaster?: { readonly stats: DemandRecorderStats; readonly forecast: DemandForecast } | undefined
  /** Usage samples kept (groups with vertical or mixed sizing). */
  readonly usageSamples?: number | undefined
  /** The backend's traffic state (Traffic.state), when it has one. */
  readonly routing?: TrafficState | undefined
  /** The provider back-off in force, if any. */
  readonly providerBackoff?: ProviderBackoff | undefined
  /** What the risk radar sees this tick (empty or absent: nothing). */
  readonly risks?: readonly GroupRisk[] | undefined
}

/**
 * One group's status, tick after tick: `tick()` after a tick that decided and acted, `failed()`
 * after one that failed, `heldBack()` after one the provider's throttle held; `latest` is the
 * last built. One per group, in the controller.
 */
export class GroupStatusBuilder {
  readonly #group: string
  readonly #instances = new Map<string, CachedInstance>()
  #build = 0
  #headroom: { readonly estimate: HeadroomEstimate | undefined; readonly status: NonNullable<SloStatus['headroom']> } | undefined
  #latest: GroupStatus | undefined

  constructor(group: string) {
    this.#group = group
  }

  /** The last status built; undefined before the first tick. */
  get latest(): GroupStatus | undefined {
    return this.#latest
  }

  /** The status after a tick that decided and acted, at the decision's time. */
  tick(t: TickStatusInput): GroupStatus {
    const { decision } = t
    const atMs = decision.atMs
    const external = t.input.signals?.group.externalFailures
    const conditions = groupConditions({
      nowMs: atMs,
      decision,
      previous: this.#latest?.conditions ?? [],
      backoff: t.backoff,
      failedExternalQueries: external === undefined ? undefined : Object.keys(external),
    })
    const s: Mutable<GroupStatus> = {
      group: this.#group,
      atMs,
      desiredReplicas: t.desiredReplicas,
      size: t.size,
      instances: this.#instanceList(t),
      lastDecision: statusDecision(decision),
      conditions,
    }
    if (t.input.startupMs !== undefined) s.startupMs = t.input.startupMs
    if (t.forecaster !== undefined) s.forecast = forecastStatus(t.forecaster.stats, t.forecaster.forecast)
    if (t.usageSamples !== undefined) s.usageSamples = t.usageSamples
    if (t.routing?.backup !== undefined) s.routing = t.routing
    if (t.providerBackoff !== undefined) s.providerBackoff = t.providerBackoff
    if (t.risks !== undefined && t.risks.length > 0) s.risks = t.risks
    if (t.slo !== undefined) {
      const slo = this.#sloStatus(t.input, t.slo, decision)
      if (slo !== undefined) s.slo = slo
    }
    this.#latest = s
    return s
  }

  /**
   * The status after a failed tick at `atMs`: the last status with the failure in its
   * conditions, or, before any, `fallback`'s count and size and no instances.
   */
  failed(atMs: number, failure: { readonly step: FailedStep; readonly message: string }, fallback: { readonly desiredReplicas: number; readonly size: Size }): GroupStatus {
    return this.#carried(atMs, { nowMs: atMs, failure, previous: this.#latest?.conditions ?? [] }, fallback)
  }

  /**
   * The status after a tick held back before it decided (the provider's calls wait, a throttle):
   * the last status with AbleToScale saying why, or, before any, `fallback`'s count and size.
   */
  heldBack(atMs: number, backoff: NonNullable<ConditionsInput['backoff']>, fallback: { readonly desiredReplicas: number; readonly size: Size }): GroupStatus {
    return this.#carried(atMs, { nowMs: atMs, backoff, previous: this.#latest?.conditions ?? [] }, fallback)
  }

  /** The last status (or the fallback) at `atMs` with the conditions this tick gives. */
  #carried(atMs: number, input: ConditionsInput, fallback: { readonly desiredReplicas: number; readonly size: Size }): GroupStatus {
    const previous = this.#latest
    const conditions = groupConditions(input)
    const s: GroupStatus = previous !== undefined ? { ...previous, atMs, conditions } : { group: this.#group, atMs, desiredReplicas: fallback.desiredReplicas, size: fallback.size, instances: [], conditions }
    this.#latest = s
    return s
  }

  /**
   * Every record not terminated, with its phase (draining when a drain is under way), address
   * and meta; an instance's entry is reused while its record (the same object: the sim provider
   * keeps one per state), phase and protection are unchanged.
   */
  #instanceList(t: TickStatusInput): readonly StatusInstance[] {
    const build = ++this.#build
    const out: StatusInstance[] = []
    for (const r of t.records) {
      const observed = t.phases.get(r.id)
      if (observed !== 'terminated') out.push(this.#entryOf(r, observed, t, build))
    }
    if (this.#instances.size > out.length) for (const [id, c] of this.#instances) if (c.seen !== build) this.#instances.delete(id)
    // Nothing changed: the last list itself (statuses are never changed once built).
    const last = this.#latest?.instances
    return last !== undefined && sameEntries(last, out) ? last : out
  }

  /** The instance's entry: the cached one while its record, phase and protection are unchanged. */
  #entryOf(r: InstanceRecord, observed: InstancePhase | undefined, t: TickStatusInput, build: number): StatusInstance {
    // Most ticks drain and protect nothing: no lookups then.
    const isDraining = t.draining.size > 0 && t.draining.has(r.id)
    const phase = isDraining ? 'draining' : (observed ?? 'pending')
    const protectedFromScaleIn = r.protectedFromScaleIn === true || (t.protectedIds.size > 0 && t.protectedIds.has(r.id))
    const cached = this.#instances.get(r.id)
    if (cached === undefined) {
      const entry = instanceEntry(r, phase, isDraining, protectedFromScaleIn)
      this.#instances.set(r.id, { record: r, phase, protectedFromScaleIn, entry, seen: build })
      return entry
    }
    if (cached.record !== r || cached.phase !== phase || cached.protectedFromScaleIn !== protectedFromScaleIn) {
      cached.record = r
      cached.phase = phase
      cached.protectedFromScaleIn = protectedFromScaleIn
      cached.entry = instanceEntry(r, phase, isDraining, protectedFromScaleIn)
    }
    cached.seen = build
    return cached.entry
  }

  /** What status says of the group's SLO: the headroom applied, its cost now, the budget spent. */
  #sloStatus(input: DecideInput, recorder: HeadroomRecorder, decision: Decision): SloStatus | undefined {
    const slo = input.spec.slo
    if (slo === undefined) return undefined
    const budget = recorder.budget(input.nowMs)
    const capacity = instanceCapacityRps(input.spec, input.state.size)
    if (capacity === undefined) return { latencyP95Ms: slo.latencyP95Ms, budgetPercent: slo.budgetPercent, budget }
    const headroom = this.#headroomStatus(slo, input.headroom)
    const demand = input.signals?.group.rps
    // The headroom shown (to 0.1 %), so that the figures agree with each other.
    const targetPerInstanceRps = capacity / (1 + headroom.percent / 100)
    if (demand === undefined || !Number.isFinite(demand)) return { latencyP95Ms: slo.latencyP95Ms, budgetPercent: slo.budgetPercent, headroom, targetPerInstanceRps, budget }
    const demandInstances = Math.ceil(demand / capacity - 1e-9)
    const cost = { demandInstances, headroomInstances: Math.max(0, decision.to - demandInstances) }
    return { latencyP95Ms: slo.latencyP95Ms, budgetPercent: slo.budgetPercent, headroom, targetPerInstanceRps, cost, budget }
  }

  /**
   * The headroom part of the slo status. Its sentence (appliedHeadroom's `why`) costs more than
   * the rest of a status, and changes rarely: it is built again only when the estimate changed
   * in something the part shows, at the resolution it shows it (sameHeadroomPart).
   */
  #headroomStatus(slo: NonNullable<DecideInput['spec']['slo']>, estimate: HeadroomEstimate | undefined): NonNullable<SloStatus['headroom']> {
    const last = this.#headroom
    if (last !== undefined && sameHeadroomPart(last.estimate, estimate)) return last.status
    const applied = appliedHeadroom(slo, estimate)
    const percent = Math.round(applied.ratio * 1000) / 10
    const historyHours = Math.round((estimate?.historySeconds ?? 0) / 360) / 10
    const learned = estimate?.source === 'learned' ? estimate.headroom : undefined
    const status =
      learned === undefined
        ? { percent, source: applied.source, why: applied.why, historyHours }
        : { percent, source: applied.source, why: applied.why, learnedPercent: Math.round(learned * 1000) / 10, historyHours }
    this.#headroom = { estimate, status }
    return status
  }
}

/**
 * Whether two estimates give the same headroom part of a status: equal in every field
 * appliedHeadroom reads, at the resolution its sentence and the status print them (the learned
 * headroom to 0.1 %, the quantile to 0.1, the lag to 1 s, the history as hoursText does: whole
 * minutes under an hour, else 0.1 h).
 */
function sameHeadroomPart(a: HeadroomEstimate | undefined, b: HeadroomEstimate | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  if (a.source !== b.source || a.scope !== b.scope || a.hour !== b.hour || a.windowDays !== b.windowDays || a.neededSeconds !== b.neededSeconds) return false
  if (Math.round(a.quantile * 1000) !== Math.round(b.quantile * 1000) || Math.round(a.lagSeconds) !== Math.round(b.lagSeconds)) return false
  if (historyKey(a.historySeconds) !== historyKey(b.historySeconds)) return false
  const ah = a.headroom
  const bh = b.headroom
  return ah === bh || (ah !== undefined && bh !== undefined && Math.round(ah * 1000) === Math.round(bh * 1000))
}

/** History seconds at the resolution shown: whole minutes under an hour (negative keys), else 0.1 h. */
function historyKey(seconds: number): number {
  return seconds < 3600 ? -Math.round(seconds / 60) - 1 : Math.round(seconds / 360)
}

/** Whether two instance lists hold the same entries (the same objects) in the same order. */
function sameEntries(a: readonly StatusInstance[], b: readonly StatusInstance[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function instanceEntry(r: InstanceRecord, phase: InstancePhase, draining: boolean, protectedFromScaleIn: boolean): StatusInstance {
  const v = viewOf(r, phase, { draining, protectedFromScaleIn })
  if (r.address === undefined && r.meta === undefined) return v
  return { ...v, ...(r.address === undefined ? {} : { address: r.address }), ...(r.meta === undefined ? {} : { meta: r.meta }) }
}

/** The decision without its history. */
export function statusDecision(d: Decision): StatusDecision {
  const { group, atMs, kind, from, to, reason, explanation, recommendations, limits, scaleInCandidates } = d
  return d.resize === undefined
    ? { group, atMs, kind, from, to, reason, explanation, recommendations, limits, scaleInCandidates }
    : { group, atMs, kind, from, to, resize: d.resize, reason, explanation, recommendations, limits, scaleInCandidates }
}

/** The forecaster's part of a status: its counters and the forecast in force; unknown or non-finite figures left out. */
export function forecastStatus(stats: DemandRecorderStats, f: DemandForecast): ForecastStatus {
  const s: Mutable<ForecastStatus> = { fullFits: stats.fullFits, refits: stats.refits, bucketsRecorded: stats.bucketsRecorded, liveScored: stats.liveScored, status: f.status }
  if (stats.liveWapePercent !== undefined && Number.isFinite(stats.liveWapePercent)) s.liveWapePercent = stats.liveWapePercent
  if (stats.method !== undefined) s.method = stats.method
  if (f.accuracyWapePercent !== undefined && Number.isFinite(f.accuracyWapePercent)) s.accuracyWapePercent = f.accuracyWapePercent
  if (f.accuracySource !== undefined) s.accuracySource = f.accuracySource
  const expected = f.values[0]
  if (expected !== undefined && Number.isFinite(expected)) s.expectedRps = expected
  const lower = f.lower?.[0]
  const upper = f.upper?.[0]
  if (lower !== undefined && Number.isFinite(lower)) s.expectedLowerRps = lower
  if (upper !== undefined && Number.isFinite(upper)) s.expectedUpperRps = upper
  return s
}

/**
 * The step of a tick that failed, from the name the controller gives it ('provider.list',
 * 'metrics.refresh', 'metrics.read', 'act'): provider, metrics, or act for anything else.
 */
export function failedStepOf(step: string): FailedStep {
  if (step.startsWith('provider.')) return 'provider'
  if (step.startsWith('metrics.')) return 'metrics'
  return 'act'
}
