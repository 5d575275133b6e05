/**
 * The engine's vocabulary. Everything here is plain data: the engine reads
 * these, computes a Decision, and never performs I/O or reads a clock.
 */
import type { HeadroomEstimate } from '../forecast/headroom-learner.ts'
import type { GroupSpec, QuotaLimits, Size } from '../spec/schema.ts'
import type { HistogramSnapshot } from './vertical/decaying-histogram.ts'

/** Instance lifecycle (DESIGN.md): pending → warming → in-service → draining → terminated; unhealthy; standby. */
export const InstancePhases = ['pending', 'warming', 'in-service', 'draining', 'terminated', 'unhealthy', 'standby'] as const
export type InstancePhase = (typeof InstancePhases)[number]

/** What the engine knows of one instance. */
export interface InstanceView {
  readonly id: string
  readonly phase: InstancePhase
  readonly size: Size
  readonly launchedAtMs: number
  /**
   * When it first passed its health check; absent while pending. The HPA's cpu rule reads it as
   * the Ready condition's last transition (instance-classes.ts cpuSampleIgnored).
   */
  readonly readyAtMs?: number
  /**
   * Set while it runs but fails its health checks (the HPA's Ready condition False); absent
   * otherwise. Only the cpu rule reads it: past health.graceSeconds such an instance is
   * 'unhealthy' and left out anyway.
   */
  readonly unready?: true
  /** Scale-in protection (AWS instance protection): never chosen for removal. */
  readonly protectedFromScaleIn: boolean
}

/**
 * One instance's measurements, averaged over the controller's metric window.
 * Any field may be absent: absence is "missing", which the HPA rules treat specially.
 */
export interface InstanceSample {
  /** Cpu used as a fraction of the instance's cpu size (0–1, may exceed 1 briefly). */
  readonly cpuRatio?: number
  /**
   * When the window that cpuRatio averages ended, epoch ms (the HPA's metric Timestamp). Every
   * producer sets it with cpuRatio; the HPA's cpu rule (instance-classes.ts cpuSampleIgnored)
   * leaves a reading without it out while the instance is within its cpu initialization period.
   */
  readonly cpuAtMs?: number
  /** How long that window was, ms (the HPA's metric Window): cpuRatio covers (cpuAtMs − cpuWindowMs, cpuAtMs]. */
  readonly cpuWindowMs?: number
  readonly memoryMiB?: number
  /** Requests/s completed by this instance. */
  readonly rps?: number
  /** Requests in flight, averaged. */
  readonly inFlight?: number
  readonly latencyP95Ms?: number
  /**
   * Bytes/s the instance read from and wrote toward storage (local: /proc/<pid>/io
   * read_bytes and write_bytes of its process tree). Absent when unreadable: unknown, never 0.
   */
  readonly diskReadBytesPerSecond?: number
  readonly diskWriteBytesPerSecond?: number
  /**
   * Bytes/s of HTTP traffic the instance received (requests) and sent (responses), as its
   * router counted them: tide's proxy counts body bytes, HAProxy whole messages (docs/router.md).
   */
  readonly networkInBytesPerSecond?: number
  readonly networkOutBytesPerSecond?: number
}

export type Percentile = 50 | 90 | 95 | 99

/** Group-wide latency percentiles in milliseconds. */
export type LatencyPercentiles = Partial<Record<`p${Percentile}`, number>>

/** Why an external query has no value: its source's failures, and the fallback they led to. */
export interface ExternalFailure {
  /** Failed polls in a row (≥ 1). */
  readonly failures: number
  /** The last failure, e.g. 'timeout after 5 s', 'HTTP 503', 'empty result'. */
  readonly error: string
  /** Set once failures reach the metric's fallback.failureThreshold: the count the metric proposes. */
  readonly fallbackReplicas?: number
}

/** The signals of one group at one moment. */
export interface Signals {
  /** When the window these values summarise ended. */
  readonly atMs: number
  /** Per-instance samples by instance id; instances absent here are "missing". */
  readonly instances: ReadonlyMap<string, InstanceSample>
  /** Group totals from the router (or the simulator's workload model). */
  readonly group: {
    readonly rps?: number
    readonly latencyMs?: LatencyPercentiles
    /** Per priority class. */
    readonly classes?: Readonly<Record<string, { readonly rps?: number; readonly latencyMs?: LatencyPercentiles }>>
    /** Values of external queries by their query string. */
    readonly external?: Readonly<Record<string, number>>
    /**
     * External queries whose source failed at its last poll, by query string (absent from
     * `external` then): failures in a row, the last error, and the fallback count once the
     * metric's fallback.failureThreshold is reached (src/metrics/external/external-signals.ts).
     */
    readonly externalFailures?: Readonly<Record<string, ExternalFailure>>
    /**
     * The group's demand step by step within the window (the router's seconds, the simulator's
     * steps), oldest first, the last step ending at atMs: what the headroom learner reads.
     */
    readonly demandSteps?: { readonly stepMs: number; readonly values: ArrayLike<number> }
  }
}

/** One past recommendation, kept for stabilization windows. */
export interface TimedRecommendation {
  readonly atMs: number
  readonly replicas: number
}

/** One past scale change, kept for rate policies; `delta` is positive for scale-up. */
export interface ScaleEvent {
  readonly atMs: number
  readonly delta: number
}

/** What the engine must remember between ticks. The Decision returns the next value; the controller persists it. */
export interface ScaleHistory {
  readonly recommendations: readonly TimedRecommendation[]
  readonly scaleUpEvents: readonly ScaleEvent[]
  readonly scaleDownEvents: readonly ScaleEvent[]
  /** Last time each step rule fired, by rule index, for cooldowns. */
  readonly stepFiredAtMs: Readonly<Record<number, number>>
}

export const emptyHistory: ScaleHistory = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }

/** The group's current state as the controller observed it. */
export interface GroupState {
  /** The desired replica count currently in force (the HPA's spec.replicas). */
  readonly desiredReplicas: number
  /** The instance size currently in force. */
  readonly size: Size
  /** Instances that count toward capacity: not terminated. */
  readonly instances: readonly InstanceView[]
  readonly history: ScaleHistory
}

/** Which policy produced a recommendation. */
export type PolicyKind = 'target-tracking' | 'step' | 'scheduled' | 'predictive' | 'vertical' | 'slo'

/**
 * A policy's recommendation. `replicas` is what it wants; `bounds` lets a
 * schedule raise or lower min/max; `size` is a vertical recommendation.
 * `blocksScaleIn` is set when a metric is missing (the HPA never scales in then).
 */
export interface Recommendation {
  readonly policy: PolicyKind
  readonly replicas?: number
  readonly bounds?: { readonly min?: number; readonly max?: number }
  readonly size?: Size
  readonly blocksScaleIn?: boolean
  /**
   * Recorded and explained but never acted on: combine() ignores its count, bounds and size
   * (predictive forecastOnly, vertical recommend). Shows what the policy would do, for review.
   */
  readonly advisory?: boolean
  /**
   * The count is a floor, never a reason to scale in: when no other recommendation carries a
   * count, a `scaleOutOnly` count below the current one holds the current count (the predictive
   * policy, as AWS predictive scaling, which only raises capacity).
   */
  readonly scaleOutOnly?: boolean
  /** Short machine-readable reason, e.g. 'MetricAboveTarget'. */
  readonly reason: string
  /** Human sentence fragment, e.g. 'cpu 82% > target 60%'. */
  readonly detail: string
}

/** The input of one decision. */
export interface DecideInput {
  readonly spec: GroupSpec
  readonly state: GroupState
  /** Undefined when no signals could be read at all. */
  readonly signals: Signals | undefined
  readonly nowMs: number
  /** Capacity still allowed to this group by global quotas, beyond what it holds now. */
  readonly quotaRoom?: QuotaRoom
  /** The group's demand forecast, fitted by the controller (the engine never fits models). */
  readonly forecast?: DemandForecast
  /** Per-instance usage histograms for the vertical policy and the mixed planner, kept by the controller. */
  readonly usage?: UsageHistograms
  /** Measured launch-to-ready time of the group's recent instances, ms; spec.startupSeconds when absent. */
  readonly startupMs?: number
  /** What the headroom learner says now (groups with slo.instanceRps); the slo policy's safe default when absent. */
  readonly headroom?: HeadroomEstimate
  /**
   * A fast re-decision between sync periods on a fresh demand signal (slo.fastScaleOut): it may
   * scale out, never in.
   */
  readonly scaleOutOnly?: boolean
  /**
   * An operator's manual scale in force (override.ts): the group is held at `desired` within
   * min/max, quotas and protection; the engine's own decision is only explained.
   */
  readonly override?: { readonly desired: number }
}

/**
 * A forecast of the group's demand (requests/s, summed over the group) as plain data, made by
 * the controller from the recorded demand history (src/controller/demand-recorder.ts).
 * Bucket i covers [fromMs + i·stepMs, fromMs + (i+1)·stepMs); values are bucket means.
 */
export interface DemandForecast {
  /** `ok`: values hold a forecast; `insufficient-history`: too little history yet (values empty). */
  readonly status: 'ok' | 'insufficient-history'
  /** The forecasting method chosen by backtest, e.g. 'hw-daily-additive'. */
  readonly method?: string
  readonly stepMs: number
  readonly fromMs: number
  /** Forecast group requests/s per bucket, without campaign uplift (the policy applies campaigns). */
  readonly values: readonly number[]
  /** Lower bound of the prediction interval per bucket, when the method gives one (a chart's band). */
  readonly lower?: readonly number[]
  /** Upper bound of the prediction interval per bucket, when the method gives one. */
  readonly upper?: readonly number[]
  /**
   * The forecast's error, WAPE in percent: live (forecasts scored against what happened) once
   * enough buckets were scored, else the backtest's. Absent when unknown.
   */
  readonly accuracyWapePercent?: number
  /** Where accuracyWapePercent comes from. */
  readonly accuracySource?: 'live' | 'backtest'
  /** With status insufficient-history: history held and needed, ms. */
  readonly historyMs?: number
  readonly neededHistoryMs?: number
  /** Campaign uplifts learned from past events of the same name, by schedule name. */
  readonly learnedUplifts?: Readonly<Record<string, number>>
  /**
   * The group's demand in the latest recorded bucket outside every campaign window (lead
   * included), requests/s: what a campaign's uplift multiplies when there is no forecast.
   */
  readonly baselineRps?: number
}

/**
 * Decaying histograms of per-instance usage (cpu in cores, memory in MiB), as the VPA keeps
 * them, and the last out-of-memory kill: snapshots (plain data) of the histograms the
 * controller owns and feeds (controller/usage-recorder.ts), so the engine cannot change them
 * and a decision input serialises as it is.
 */
export interface UsageHistograms {
  readonly cpuCores: HistogramSnapshot
  readonly memoryMiB: HistogramSnapshot
  /** The last OOM kill the controller detected: the memory in use and when, epoch ms. */
  readonly oom?: { readonly usageMiB: number; readonly atMs: number }
}

/** Remaining room under a quota; absent fields are unlimited. */
export interface QuotaRoom {
  readonly instances?: number
  readonly cpu?: number
  readonly memoryMiB?: number
}

/**
 * Why the final replica count is what it is: the HPA's condition reasons, plus tide's own.
 */
export type DecisionReason =
  | 'DesiredWithinRange'
  | 'ScaleUpLimit'
  | 'ScaleDownLimit'
  | 'TooManyReplicas'
  | 'TooFewReplicas'
  | 'Stabilized'
  | 'WithinTolerance'
  | 'MissingMetricsBlockScaleIn'
  | 'ScheduleBounds'
  | 'QuotaExhausted'
  | 'ScaleInProtected'
  | 'NoMetrics'
  | 'ScalingDisabled'
  /** An operator paused the group's scaling (the API's pause): the count holds until resumed. Set by the controller, never by decide(). */
  | 'PausedByOperator'
  /** An operator's manual scale holds the group at a count (the API's scale, override.ts) until it ends or is cleared. */
  | 'ManualScale'

/** A guard that changed the count on its way to the decision. */
export interface AppliedLimit {
  readonly guard: 'stabilization' | 'rate' | 'bounds' | 'schedule' | 'quota' | 'protection' | 'missing-metrics' | 'fast-path'
  readonly from: number
  readonly to: number
  readonly detail: string
}

/** The engine's output for one group and one tick. */
export interface Decision {
  readonly group: string
  readonly atMs: number
  readonly kind: 'scale' | 'hold' | 'skip'
  readonly from: number
  readonly to: number
  /** Set when the size changes (vertical or mixed). */
  readonly resize?: { readonly from: Size; readonly to: Size }
  readonly reason: DecisionReason
  /** One sentence an on-call engineer reads: "scaled 4→7: p95 latency 340 ms > 200 ms target; capped by +4/15 s". */
  readonly explanation: string
  readonly recommendations: readonly Recommendation[]
  readonly limits: readonly AppliedLimit[]
  /** Instance ids to remove on scale-in, best candidates first (pending, then least loaded; never protected). */
  readonly scaleInCandidates: readonly string[]
  /** The history to persist for the next tick. */
  readonly history: ScaleHistory
}

/** Fleet-wide limits across groups (DESIGN: quotas). */
export interface FleetQuotas extends QuotaLimits {
  readonly perProvider?: Readonly<Partial<Record<GroupSpec['provider'], QuotaLimits>>>
}
