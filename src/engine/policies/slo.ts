/**
 * SLO-first scaling (issue 9): the group declares its objective (`slo`) and what one instance
 * serves within it (`slo.instanceRps`); tide keeps the demand below that capacity by a headroom
 * learned from the group's own traffic, so no utilisation target has to be guessed.
 *
 *   target per instance = instanceRps × (size cpu ÷ base cpu) ÷ (1 + headroom)
 *   replicas            = ⌈demand ÷ target⌉
 *
 * - Demand is the group's arrival rate (Signals.group.rps: the router counts answered, shed and
 *   queued requests, so a saturated fleet cannot hide a surge), summed like the HPA's External
 *   metric with a per-instance target — readiness and missing per-instance samples do not matter.
 *   Once the headroom is learned, the count is sized on the learner's reference demand: the
 *   smoothing and hold that need the least capacity on this group's traffic (a mean over
 *   minutes held for minutes, or the last window held for one).
 * - Headroom: the learner's quantile of demand rises within the reaction time
 *   (src/forecast/headroom-learner.ts), clamped to [minPercent, maxPercent]; the configured
 *   `percent` before enough history exists (said so in the explanation), or always with
 *   mode fixed.
 * - No demand reading: no count, and scale-in is blocked (the HPA's missing-metric rule).
 */
import type { HeadroomEstimate } from '../../forecast/headroom-learner.ts'
import type { GroupSpec, Size, SloSpec } from '../../spec/schema.ts'
import type { Recommendation } from '../types.ts'
import type { PolicyInput, ScalingPolicy } from './policy.ts'

/** The headroom the policy applies and the words that justify it. */
export interface AppliedHeadroom {
  /** Fraction: capacity = demand × (1 + ratio). */
  readonly ratio: number
  readonly source: 'learned' | 'default' | 'fixed'
  /** e.g. 'covers the 99.5th percentile of 60 s rises over the last 7 days (13:00–16:00 UTC)'. */
  readonly why: string
}

type HeadroomSettings = NonNullable<SloSpec['headroom']>

/** The headroom defaults when the slo section leaves `headroom` out (as HeadroomSchema's defaults). */
export const defaultHeadroom: HeadroomSettings = { mode: 'learned', percent: 40, minPercent: 5, maxPercent: 300, windowDays: 7 }

/** The headroom to apply: learned and clamped, the safe default while history is short, or fixed. */
export function appliedHeadroom(slo: SloSpec, estimate: HeadroomEstimate | undefined): AppliedHeadroom {
  const h = slo.headroom ?? defaultHeadroom
  if (h.mode === 'fixed') return { ratio: h.percent / 100, source: 'fixed', why: 'fixed headroom (slo.headroom.mode fixed)' }
  if (estimate?.source !== 'learned' || estimate.headroom === undefined) {
    const have = hoursText(estimate?.historySeconds ?? 0)
    const need = hoursText(estimate?.neededSeconds ?? 3600)
    return { ratio: h.percent / 100, source: 'default', why: `safe default until enough demand history is learned (${have} of ${need})` }
  }
  const learned = estimate.headroom
  const ratio = Math.min(h.maxPercent / 100, Math.max(h.minPercent / 100, learned))
  const clamp = ratio > learned ? ` (learned ${percent(learned)}, raised to slo.headroom.minPercent)` : ratio < learned ? ` (learned ${percent(learned)}, capped by slo.headroom.maxPercent)` : ''
  const scope = estimate.scope === 'hour-of-day' ? ` at ${hourRange(estimate.hour)} UTC` : ''
  const quantile = Math.round(estimate.quantile * 1000) / 10
  return {
    ratio,
    source: 'learned',
    why: `covers the ${quantile}th percentile of ${Math.round(estimate.lagSeconds)} s rises over the last ${estimate.windowDays} days${scope}${clamp}`,
  }
}

/**
 * What one instance of `size` serves within the objective, requests/s: slo.instanceRps is written
 * for the group's base size, and capacity grows with cpu. Undefined without slo.instanceRps.
 */
export function instanceCapacityRps(spec: GroupSpec, size: Size): number | undefined {
  const instanceRps = spec.slo?.instanceRps
  return instanceRps === undefined ? undefined : instanceRps * (size.cpu / spec.size.cpu)
}

function propose(input: PolicyInput): Recommendation | undefined {
  const slo = input.spec.slo
  const capacity = instanceCapacityRps(input.spec, input.state.size)
  if (slo === undefined || capacity === undefined) return undefined
  const headroom = appliedHeadroom(slo, input.headroom)
  const target = capacity / (1 + headroom.ratio)
  const signal = input.signals?.group.rps
  const headroomText = `${percent(headroom.ratio)} headroom ${headroom.why}`
  if (signal === undefined || !Number.isFinite(signal) || signal < 0) {
    return { policy: 'slo', blocksScaleIn: true, reason: 'NoDemand', detail: `slo: no demand reading (target ${round1(target)} req/s per instance: ${headroomText})` }
  }
  const reference = input.headroom?.source === 'learned' && headroom.source === 'learned' ? input.headroom.referenceRps : undefined
  const demand = reference ?? signal
  const demandText = reference === undefined ? `demand ${round1(demand)} req/s` : `demand ${round1(demand)} req/s (${referenceText(input.headroom)}; now ${round1(signal)})`
  // 1e-9 absorbs floating-point noise so that an exact multiple does not round up one more.
  const replicas = Math.max(0, Math.ceil(demand / target - 1e-9))
  return {
    policy: 'slo',
    replicas,
    reason: headroom.source === 'default' ? 'DefaultHeadroom' : 'LearnedHeadroom',
    detail: `${demandText} at target ${round1(target)} req/s per instance: ${headroomText} of the ${round1(capacity)} req/s one instance serves within p95 ${slo.latencyP95Ms} ms → ${replicas}`,
  }
}

/** How the reference demand is taken, e.g. 'the highest 60 s mean of the last 300 s'. */
function referenceText(estimate: HeadroomEstimate | undefined): string {
  if (estimate === undefined) return 'the last window'
  const smooth = `${Math.round(estimate.smoothingSeconds)} s mean`
  return `the highest ${smooth} of the last ${Math.round(estimate.holdSeconds)} s`
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 100)} %`
}

function round1(v: number): number {
  return Math.round(v * 10) / 10
}

function hoursText(seconds: number): string {
  return seconds < 3600 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 360) / 10} h`
}

function hourRange(hour: number): string {
  const pad = (h: number) => `${String(((h % 24) + 24) % 24).padStart(2, '0')}:00`
  return `${pad(hour - 1)}–${pad(hour + 2)}`
}

/** The slo policy (see the module comment). */
export const sloPolicy: ScalingPolicy = { kind: 'slo', propose }
