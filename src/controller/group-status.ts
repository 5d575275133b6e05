/**
 * A group's status as plain data (issue 10): what the controller knows of a group after a tick,
 * built at the end of every tick (a failed one too) and handed to the store, so that an API,
 * `tide up`'s heartbeat or a restarted tide reads the same thing. Plain means JSON as it is:
 * no Map, Set or function, no property set to undefined (an absent field is left out), every
 * number finite; `JSON.parse(JSON.stringify(s))` deep-equals `s` (test/controller/group-status.test.ts).
 *
 * The builders here take what the controller observed and decided and the recorders it keeps;
 * they read no clock and do no I/O. They run every tick, the simulator's month of 15 s ticks
 * included, so they reuse what did not change (an instance's entry, the slo's sentences).
 */
import { groupConditions, type ConditionsInput, type FailedStep, type GroupCondition } from '../engine/conditions.ts'
import { viewOf } from '../engine/lifecycle.ts'
import { appliedHeadroom, instanceCapacityRps } from '../engine/policies/slo.ts'
import type { DecideInput, Decision, DemandForecast, InstancePhase, InstanceView } from '../engine/types.ts'
import type { InstanceRecord } from '../providers/provider.ts'
import type { Size } from '../spec/schema.ts'
import type { DemandRecorderStats } from './demand-recorder.ts'
import type { HeadroomRecorder, SloBudgetStatus } from './headroom-recorder.ts'

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
}

/** One instance's status entry and what it was built from: reused while none of it changes. */
interface CachedInstance {
  readonly record: InstanceRecord
  readonly phase: InstancePhase
  readonly protectedFromScaleIn: boolean
  readonly entry: StatusInstance
}

/**
 * Builds a status's instance list tick after tick, reusing an instance's entry while its record
 * (the same object: the sim provider keeps one per state), phase and protection are unchanged.
 * One per group.
 */
export class InstanceStatusCache {
  #entries = new Map<string, CachedInstance>()

  /** Every record not terminated, with its phase (draining when a drain is under way), address and meta. */
  build(records: readonly InstanceRecord[], phases: ReadonlyMap<string, InstancePhase>, draining: ReadonlySet<string>, protectedIds: ReadonlySet<string>): StatusInstance[] {
    const out: StatusInstance[] = []
    const next = new Map<string, CachedInstance>()
    for (const r of records) {
      const observed = phases.get(r.id)
      if (observed === 'terminated') continue
      const isDraining = draining.has(r.id)
      const phase = isDraining ? 'draining' : (observed ?? 'pending')
      const protectedFromScaleIn = protectedIds.has(r.id)
      const cached = this.#entries.get(r.id)
      const kept = cached !== undefined && cached.record === r && cached.phase === phase && cached.protectedFromScaleIn === protectedFromScaleIn ? cached : undefined
      const entry = kept?.entry ?? instanceEntry(r, phase, isDraining, protectedFromScaleIn)
      next.set(r.id, kept ?? { record: r, phase, protectedFromScaleIn, entry })
      out.push(entry)
    }
    this.#entries = next
    return out
  }
}

function instanceEntry(r: InstanceRecord, phase: InstancePhase, draining: boolean, protectedFromScaleIn: boolean): StatusInstance {
  const v = viewOf(r, phase, { draining, protectedFromScaleIn })
  if (r.address === undefined && r.meta === undefined) return v
  return { ...v, ...(r.address === undefined ? {} : { address: r.address }), ...(r.meta === undefined ? {} : { meta: r.meta }) }
}

/** The decision without its history. */
export function statusDecision(d: Decision): StatusDecision {
  const base = { group: d.group, atMs: d.atMs, kind: d.kind, from: d.from, to: d.to, reason: d.reason, explanation: d.explanation, recommendations: d.recommendations, limits: d.limits, scaleInCandidates: d.scaleInCandidates }
  return d.resize === undefined ? base : { ...base, resize: d.resize }
}

/** What status says of the group's SLO: the headroom applied, its cost now, the budget spent. */
export function sloStatus(input: DecideInput, recorder: HeadroomRecorder, decision: Decision): SloStatus | undefined {
  const slo = input.spec.slo
  if (slo === undefined) return undefined
  const budget = recorder.budget(input.nowMs)
  const base = { latencyP95Ms: slo.latencyP95Ms, budgetPercent: slo.budgetPercent, budget }
  const capacity = instanceCapacityRps(input.spec, input.state.size)
  if (capacity === undefined) return base
  const applied = appliedHeadroom(slo, input.headroom)
  const demand = input.signals?.group.rps
  const demandInstances = demand === undefined || !Number.isFinite(demand) ? undefined : Math.ceil(demand / capacity - 1e-9)
  const learned = input.headroom?.source === 'learned' ? input.headroom.headroom : undefined
  return {
    ...base,
    headroom: {
      percent: Math.round(applied.ratio * 1000) / 10,
      source: applied.source,
      why: applied.why,
      ...(learned === undefined ? {} : { learnedPercent: Math.round(learned * 1000) / 10 }),
      historyHours: Math.round((input.headroom?.historySeconds ?? 0) / 360) / 10,
    },
    targetPerInstanceRps: capacity / (1 + applied.ratio),
    ...(demandInstances === undefined ? {} : { cost: { demandInstances, headroomInstances: Math.max(0, decision.to - demandInstances) } }),
  }
}

/** The forecaster's part of a status: its counters and the forecast in force. */
export function forecastStatus(stats: DemandRecorderStats, f: DemandForecast): ForecastStatus {
  const expected = f.values[0]
  return {
    fullFits: stats.fullFits,
    refits: stats.refits,
    bucketsRecorded: stats.bucketsRecorded,
    ...(stats.liveWapePercent === undefined || !Number.isFinite(stats.liveWapePercent) ? {} : { liveWapePercent: stats.liveWapePercent }),
    liveScored: stats.liveScored,
    ...(stats.method === undefined ? {} : { method: stats.method }),
    status: f.status,
    ...(f.accuracyWapePercent === undefined || !Number.isFinite(f.accuracyWapePercent) ? {} : { accuracyWapePercent: f.accuracyWapePercent }),
    ...(f.accuracySource === undefined ? {} : { accuracySource: f.accuracySource }),
    ...(expected === undefined || !Number.isFinite(expected) ? {} : { expectedRps: expected }),
  }
}

/** What one successful tick of a group gives its status. */
export interface TickStatusParts {
  readonly group: string
  readonly atMs: number
  readonly desiredReplicas: number
  readonly size: Size
  readonly instances: readonly StatusInstance[]
  readonly decision: Decision
  /** The status before this tick (its conditions keep their transition times); undefined for the first. */
  readonly previous: GroupStatus | undefined
  readonly backoff?: ConditionsInput['backoff']
  readonly failedExternalQueries?: readonly string[]
  readonly startupMs?: number
  readonly forecast?: ForecastStatus
  readonly usageSamples?: number
  readonly slo?: SloStatus
}

/** The status after a tick that decided and acted. */
export function tickStatus(p: TickStatusParts): GroupStatus {
  const conditions = groupConditions({
    nowMs: p.atMs,
    decision: p.decision,
    previous: p.previous?.conditions ?? [],
    ...(p.backoff === undefined ? {} : { backoff: p.backoff }),
    ...(p.failedExternalQueries === undefined ? {} : { failedExternalQueries: p.failedExternalQueries }),
  })
  return {
    group: p.group,
    atMs: p.atMs,
    desiredReplicas: p.desiredReplicas,
    size: p.size,
    instances: p.instances,
    lastDecision: statusDecision(p.decision),
    conditions,
    ...(p.startupMs === undefined ? {} : { startupMs: p.startupMs }),
    ...(p.forecast === undefined ? {} : { forecast: p.forecast }),
    ...(p.usageSamples === undefined ? {} : { usageSamples: p.usageSamples }),
    ...(p.slo === undefined ? {} : { slo: p.slo }),
  }
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

/**
 * The status after a failed tick at `atMs`: the previous status with the failure in its
 * conditions, or, before any tick succeeded, the group's stored (or zero) count, its spec's size
 * and no instances.
 */
export function failedTickStatus(previous: GroupStatus | undefined, fallback: { readonly group: string; readonly desiredReplicas: number; readonly size: Size }, atMs: number, failure: { readonly step: FailedStep; readonly message: string }): GroupStatus {
  const conditions = groupConditions({ nowMs: atMs, failure, previous: previous?.conditions ?? [] })
  if (previous !== undefined) return { ...previous, atMs, conditions }
  return { group: fallback.group, atMs, desiredReplicas: fallback.desiredReplicas, size: fallback.size, instances: [], conditions }
}
