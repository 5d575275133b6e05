/**
 * Predictive scaling, as AWS EC2 predictive scaling and GCP's predictive autoscaling do it:
 * launch capacity ahead of the forecast demand so that it is ready when the demand comes.
 *
 * - The forecast is plain data the controller fitted (DecideInput.forecast); this policy never
 *   fits a model. It looks ahead by the scheduling buffer (`auto` = the measured start-up time,
 *   else spec.startupSeconds) plus one sync period — instances launched now are ready after the
 *   buffer and must carry the load until the next decision after that — and takes the highest
 *   forecast demand over that window.
 * - Demand becomes instances at the load per instance that target tracking aims for: the rps
 *   target when the group has one (per base size, scaled by cpu for bigger sizes), else the
 *   current group rps divided by what target tracking recommends now. Plus bufferPercent.
 * - A group with an slo and slo.instanceRps (issue 9): the forecast predicts the level, and the
 *   slo policy's learned headroom covers what it misses: demand becomes instances at the full
 *   capacity of one instance, plus that headroom (bufferPercent does not apply).
 * - Campaigns (schedules with `campaign`, one-off start/end) multiply the forecast by their
 *   uplift — declared, or learned by the controller from past events of the same name — from
 *   leadMinutes before start until end. Without a usable forecast a campaign still pre-warms
 *   and holds: the baseline demand (the last recorded bucket before the campaign's lead,
 *   forecast.baselineRps) × uplift for the whole window; with no baseline recorded yet, the
 *   current demand × uplift until the start. Holding through the window matters: the sale's
 *   first minute ramps up, and the reactive policies' windows lag behind it.
 * - Never scales in by itself: the count is `scaleOutOnly` (a floor combined by max with the
 *   reactive policies; see combine.ts).
 * - Backs off — a recommendation with no count, whose detail says why — when the history is too
 *   short, the forecast is stale, or its error (WAPE) exceeds maxErrorPercent.
 * - forecastOnly: the same recommendation marked `advisory` — listed and explained, not acted on.
 */
import { plannedCampaigns, type PlannedCampaign } from '../../forecast/campaign-uplift.ts'
import type { DemandForecast, Recommendation } from '../types.ts'
import type { PolicyInput, ScalingPolicy } from './policy.ts'
import { appliedHeadroom, instanceCapacityRps } from './slo.ts'
import { targetTrackingPolicy } from './target-tracking.ts'

/** Machine-readable reasons of predictive recommendations. */
export type PredictiveReason =
  | 'ForecastAhead'
  | 'CampaignAhead'
  | 'InsufficientHistory'
  | 'ForecastInaccurate'
  | 'ForecastStale'
  | 'NoForecast'
  | 'NoTargetLoad'

/** The time window the policy looks at: [fromMs, untilMs). */
export interface LookAhead {
  readonly fromMs: number
  readonly untilMs: number
}

/** The scheduling buffer in ms: the configured seconds, or for `auto` the measured start-up time (spec.startupSeconds without one). */
export function schedulingBufferMs(input: Pick<PolicyInput, 'spec' | 'startupMs'>): number {
  const configured = input.spec.predictive.schedulingBufferSeconds
  if (configured !== 'auto') return configured * 1000
  return input.startupMs ?? input.spec.startupSeconds * 1000
}

/** The load one instance of the current size should carry at the target, requests/s, and where that figure comes from. */
export function loadPerInstanceAtTarget(input: PolicyInput): { readonly rps: number; readonly source: string } | undefined {
  const capacity = instanceCapacityRps(input.spec, input.state.size)
  if (capacity !== undefined) return { rps: capacity, source: 'slo capacity' }
  const rpsMetric = input.spec.metrics.find((m) => m.type === 'rps')
  if (rpsMetric !== undefined) {
    const scale = input.state.size.cpu / input.spec.size.cpu
    return { rps: rpsMetric.target.averageValue * scale, source: 'rps target' }
  }
  const groupRps = input.signals?.group.rps
  if (groupRps === undefined || groupRps <= 0) return undefined
  const tt = targetTrackingPolicy.propose(input)
  if (tt?.replicas === undefined || tt.replicas <= 0) return undefined
  return { rps: groupRps / tt.replicas, source: 'current rps ÷ target tracking' }
}

/** The largest uplift of a campaign whose [start − lead, end) overlaps [fromMs, untilMs); 1 when none. */
export function campaignFactor(campaigns: readonly PlannedCampaign[], fromMs: number, untilMs: number): { factor: number; campaign?: PlannedCampaign } {
  let factor = 1
  let campaign: PlannedCampaign | undefined
  for (const c of campaigns) {
    const startMs = (c.startSec - c.leadSeconds) * 1000
    const endMs = c.endSec * 1000
    if (startMs < untilMs && endMs > fromMs && c.uplift > factor) {
      factor = c.uplift
      campaign = c
    }
  }
  return campaign === undefined ? { factor } : { factor, campaign }
}

/** Peak demand in the window and what raised it. */
interface Peak {
  readonly rps: number
  readonly campaign?: PlannedCampaign
}

/**
 * The highest forecast demand over the window, each bucket (clipped to the window) multiplied by
 * the campaigns that overlap it; undefined when no forecast bucket overlaps the window (stale).
 */
export function forecastPeak(forecast: DemandForecast, window: LookAhead, campaigns: readonly PlannedCampaign[]): Peak | undefined {
  const { stepMs, fromMs } = forecast
  if (!(stepMs > 0)) return undefined
  const first = Math.max(0, Math.floor((window.fromMs - fromMs) / stepMs))
  const last = Math.min(forecast.values.length - 1, Math.ceil((window.untilMs - fromMs) / stepMs) - 1)
  let peak: Peak | undefined
  for (let i = first; i <= last; i++) {
    const value = forecast.values[i]
    if (value === undefined || !Number.isFinite(value)) continue
    const bucketFrom = Math.max(window.fromMs, fromMs + i * stepMs)
    const bucketUntil = Math.min(window.untilMs, fromMs + (i + 1) * stepMs)
    const c = campaignFactor(campaigns, bucketFrom, bucketUntil)
    const rps = Math.max(0, value) * c.factor
    if (peak === undefined || rps > peak.rps) peak = c.campaign === undefined ? { rps } : { rps, campaign: c.campaign }
  }
  return peak
}

/** Whether the forecast may drive scaling, or the reason and sentence why not. */
function forecastProblem(forecast: DemandForecast | undefined, maxErrorPercent: number): { reason: PredictiveReason; detail: string } | undefined {
  if (forecast === undefined) return { reason: 'NoForecast', detail: 'no demand forecast is kept for this group' }
  if (forecast.status === 'insufficient-history') {
    const have = hours(forecast.historyMs ?? 0)
    const need = hours(forecast.neededHistoryMs ?? 0)
    return { reason: 'InsufficientHistory', detail: `forecast needs more history (${have} h of ${need} h)` }
  }
  const error = forecast.accuracyWapePercent
  if (error !== undefined && error > maxErrorPercent) {
    return { reason: 'ForecastInaccurate', detail: `forecast error ${round1(error)}% (${forecast.accuracySource ?? 'backtest'} WAPE) > ${maxErrorPercent}%: backing off` }
  }
  return undefined
}

/** The demand to prepare for and where it comes from, or the back-off that says why there is none. */
type Expected = { readonly peak: Peak; readonly reason: PredictiveReason; readonly source: string } | { readonly backoff: { reason: PredictiveReason; detail: string } }

/** The peak demand over the window: the forecast's when it is usable, else a campaign's over the baseline. */
function expectedDemand(input: PolicyInput, window: LookAhead, campaigns: readonly PlannedCampaign[]): Expected {
  const forecast = input.forecast
  let problem = forecastProblem(forecast, input.spec.predictive.maxErrorPercent)
  if (problem === undefined && forecast !== undefined) {
    const peak = forecastPeak(forecast, window, campaigns)
    if (peak !== undefined) {
      const wape = forecast.accuracyWapePercent === undefined ? '' : `, WAPE ${round1(forecast.accuracyWapePercent)}%`
      return { peak, reason: 'ForecastAhead', source: `${forecast.method ?? 'forecast'}${wape}` }
    }
    // A stale forecast is no usable forecast: back off, but let a campaign still pre-warm (below).
    problem = { reason: 'ForecastStale', detail: staleDetail(forecast, window) }
  }
  const peak = campaignFromCurrent(input, window, campaigns)
  if (peak === undefined) return { backoff: { reason: problem?.reason ?? 'NoForecast', detail: `predictive: ${problem?.detail ?? 'no forecast'}` } }
  const base = forecast?.baselineRps === undefined ? 'current demand' : 'baseline demand before the campaign'
  return { peak, reason: 'CampaignAhead', source: `${base}; ${problem?.detail ?? 'no forecast'}` }
}

function propose(input: PolicyInput): Recommendation | undefined {
  const cfg = input.spec.predictive
  if (cfg.mode === 'off') return undefined
  const marks = { policy: 'predictive' as const, scaleOutOnly: true, ...(cfg.mode === 'forecastOnly' ? { advisory: true } : {}) }
  const window: LookAhead = { fromMs: input.nowMs, untilMs: input.nowMs + schedulingBufferMs(input) + input.spec.syncPeriodSeconds * 1000 }
  const learned = new Map(Object.entries(input.forecast?.learnedUplifts ?? {}))
  const campaigns = plannedCampaigns(input.spec.schedules, input.nowMs / 1000, learned).campaigns
  const expected = expectedDemand(input, window, campaigns)
  if ('backoff' in expected) return { ...marks, ...expected.backoff }
  const { peak, reason, source } = expected
  const perInstance = loadPerInstanceAtTarget(input)
  if (perInstance === undefined || !(perInstance.rps > 0)) {
    return { ...marks, reason: 'NoTargetLoad', detail: 'predictive: no rps target or target-tracking count to turn demand into instances' }
  }
  const buffer = bufferOf(input)
  const wanted = peak.rps * (1 + buffer.ratio)
  // 1e-9 absorbs floating-point noise so that an exact multiple does not round up one more.
  const replicas = Math.max(0, Math.ceil(wanted / perInstance.rps - 1e-9))
  const campaignText = peak.campaign === undefined ? '' : `, campaign ${peak.campaign.name} ×${round1(peak.campaign.uplift)} (${peak.campaign.upliftSource})`
  const aheadSeconds = Math.round((window.untilMs - window.fromMs) / 1000)
  return {
    ...marks,
    replicas,
    reason,
    detail: `predictive: ${round1(peak.rps)} req/s expected within ${aheadSeconds} s (${source}${campaignText}) ${buffer.text} at ${round1(perInstance.rps)} req/s per instance (${perInstance.source}) → ${replicas}`,
  }
}

/**
 * The margin above the forecast: an slo group keeps the headroom its slo policy keeps (learned from
 * its rises within the reaction time, so it covers what the forecast, which predicts the level,
 * cannot place to the minute); other groups keep bufferPercent. The quantile of actual ÷ forecast
 * at the budget's level was tried instead and cost 11–32 % more on the bench's daily tides and the
 * Alibaba trace for few fewer violations (docs/forecasting.md).
 */
function bufferOf(input: PolicyInput): { ratio: number; text: string } {
  const slo = input.spec.slo
  if (slo?.instanceRps === undefined) return { ratio: input.spec.predictive.bufferPercent / 100, text: `+${input.spec.predictive.bufferPercent}%` }
  const h = appliedHeadroom(slo, input.headroom)
  return { ratio: h.ratio, text: `+${Math.round(h.ratio * 100)}% (the slo headroom)` }
}

/** Why a forecast is stale: it does not reach the look-ahead window. */
function staleDetail(forecast: DemandForecast, window: LookAhead): string {
  const aheadSeconds = Math.round((window.untilMs - window.fromMs) / 1000)
  const endMs = forecast.fromMs + forecast.values.length * forecast.stepMs
  const why = endMs <= window.fromMs ? `it ended ${Math.round((window.fromMs - endMs) / 1000)} s ago` : 'it has no value there'
  return `the forecast does not reach the ${aheadSeconds} s look-ahead window (${why})`
}

/** Without a usable forecast: a campaign multiplies the baseline demand (or, before it starts, the current one). */
function campaignFromCurrent(input: PolicyInput, window: LookAhead, campaigns: readonly PlannedCampaign[]): Peak | undefined {
  const baseline = input.forecast?.baselineRps
  if (baseline !== undefined) {
    const c = campaignFactor(campaigns, window.fromMs, window.untilMs)
    return c.campaign === undefined ? undefined : { rps: baseline * c.factor, campaign: c.campaign }
  }
  const current = input.signals?.group.rps
  if (current === undefined) return undefined
  const upcoming = campaigns.filter((c) => input.nowMs < c.startSec * 1000)
  const c = campaignFactor(upcoming, window.fromMs, window.untilMs)
  if (c.campaign === undefined) return undefined
  return { rps: current * c.factor, campaign: c.campaign }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10
}

function hours(ms: number): number {
  return Math.round(ms / 360_000) / 10
}

/** The predictive policy (see the module comment). */
export const predictivePolicy: ScalingPolicy = { kind: 'predictive', propose }
