/**
 * The campaign calendar's arithmetic: how much more traffic a named event (a flash sale)
 * brings, learned from past events of the same name, and the forecast with declared upcoming
 * events laid over it.
 *
 * Uplift of one past event = a high quantile (default p90) over the event's buckets of
 * actual ÷ baseline, where the baseline is what a forecaster fitted on the history *before*
 * the event (other past events blanked out) expected for those buckets. A quantile rather than
 * the mean because capacity must cover the event's busy part, not its average; rather than the
 * max because one noisy bucket should not set the fleet size. Over several events the median,
 * so one odd event (a sale that flopped, or went viral) does not decide the next one; a single
 * event is used as it is. Pure.
 */
import { isoToEpochMsOrThrow } from '../core/iso-time.ts'
import type { ScheduleSpec } from '../spec/schema.ts'
import { fitForecaster, type FitOptions, type ForecastMethod, type ForecastResult } from './fit-forecaster.ts'
import { maskWindows, sliceSeries, type Series, type TimeWindow } from './series.ts'

/** One past event that contributed to an uplift estimate. */
export interface UpliftEvidence extends TimeWindow {
  /** The event's own uplift: the quantile of actual ÷ baseline over its buckets. */
  readonly uplift: number
  /** The method of the baseline forecaster fitted on the history before the event. */
  readonly baselineMethod: ForecastMethod
  /** Buckets of the event that had data. */
  readonly buckets: number
}

/** A past event that could not be used, and why. */
export interface UpliftSkip extends TimeWindow {
  /** `insufficient-history`: too little data before it to fit a baseline; `no-data`: no data inside it. */
  readonly reason: 'insufficient-history' | 'no-data'
}

/** The learned uplift of a named event. `uplift` is undefined when no past event could be used. */
export interface UpliftEstimate {
  readonly name: string
  readonly uplift: number | undefined
  readonly basedOn: readonly UpliftEvidence[]
  readonly skipped: readonly UpliftSkip[]
}

/** Options of expectedUplift. */
export interface UpliftOptions {
  /** Quantile (0–1) of the per-bucket ratios that makes an event's uplift; default 0.9. 1 takes the peak. */
  readonly quantile?: number
  /** Options for the baseline forecasters. */
  readonly fit?: FitOptions
  /** Windows of other events to blank out of the baselines as well (they are not scored). */
  readonly maskAlso?: readonly TimeWindow[]
}

/**
 * Learns the uplift of event `name` from `history` and the windows of its past occurrences.
 * Each window is scored against a baseline fitted on the history before it, with every past
 * window of this event, and `maskAlso` (other events), blanked so they do not inflate the
 * baseline. Windows outside the history, or with less history before them than the
 * forecaster needs (2 days by default), are reported in `skipped`.
 */
export function expectedUplift(name: string, history: Series, pastWindows: readonly TimeWindow[], options: UpliftOptions = {}): UpliftEstimate {
  const q = options.quantile ?? 0.9
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within 0–1, got ${q}`)
  const masked = maskWindows(history, [...pastWindows, ...(options.maskAlso ?? [])])
  const basedOn: UpliftEvidence[] = []
  const skipped: UpliftSkip[] = []
  for (const w of [...pastWindows].sort((a, b) => a.startSec - b.startSec)) {
    const r = eventUplift(history, masked, { startSec: w.startSec, endSec: w.endSec }, q, options.fit)
    if ('reason' in r) skipped.push(r)
    else basedOn.push(r)
  }
  const uplift = basedOn.length === 0 ? undefined : quantile(basedOn.map((e) => e.uplift), 0.5)
  return { name, uplift, basedOn, skipped }
}

/** One past event's uplift against a baseline fitted on the (masked) history before it. */
function eventUplift(history: Series, masked: Series, window: TimeWindow, q: number, fit: FitOptions | undefined): UpliftEvidence | UpliftSkip {
  const step = history.stepSeconds
  const from = Math.max(0, Math.ceil((window.startSec - history.startSec) / step))
  const to = Math.min(history.values.length, Math.ceil((window.endSec - history.startSec) / step))
  if (to <= from) return { ...window, reason: 'no-data' }
  const fitted = fitForecaster(sliceSeries(masked, 0, from), fit)
  if (fitted.status !== 'ok') return { ...window, reason: 'insufficient-history' }
  const baseline = fitted.forecaster.forecast(to - from).values
  const ratios: number[] = []
  for (let i = from; i < to; i++) {
    const actual = history.values[i]
    const expected = baseline[i - from] ?? 0
    if (actual !== null && actual !== undefined && expected > 0) ratios.push(actual / expected)
  }
  if (ratios.length === 0) return { ...window, reason: 'no-data' }
  return { ...window, uplift: quantile(ratios, q), baselineMethod: fitted.forecaster.method, buckets: ratios.length }
}

/** An upcoming event to lay over a forecast. */
export interface PlannedCampaign extends TimeWindow {
  readonly name: string
  /** Load multiplier during the window. */
  readonly uplift: number
  /** Seconds before startSec from which the uplift already applies, so capacity is ready at the start. */
  readonly leadSeconds: number
  /** Where the uplift came from. */
  readonly upliftSource: 'declared' | 'learned'
}

/** Which campaign raised which buckets of a forecast. */
export interface AppliedCampaign {
  readonly name: string
  readonly uplift: number
  /** Forecast indices [fromIndex, toIndex) the campaign covers (lead included). */
  readonly fromIndex: number
  readonly toIndex: number
}

/** A forecast with campaigns applied, and which were. */
export interface CampaignForecast extends ForecastResult {
  readonly applied: readonly AppliedCampaign[]
}

/**
 * Multiplies the forecast (values and interval) by each campaign's uplift on every bucket that
 * overlaps [startSec − leadSeconds, endSec). Where campaigns overlap, the largest uplift wins
 * (they describe the same load, not independent surges).
 */
export function applyCampaigns(forecast: ForecastResult, campaigns: readonly PlannedCampaign[]): CampaignForecast {
  const n = forecast.values.length
  const factor = new Array<number | undefined>(n).fill(undefined)
  const applied: AppliedCampaign[] = []
  const step = forecast.stepSeconds
  for (const c of campaigns) {
    const from = Math.max(0, Math.floor((c.startSec - c.leadSeconds - forecast.startSec) / step))
    const to = Math.min(n, Math.ceil((c.endSec - forecast.startSec) / step))
    if (to <= from) continue
    for (let i = from; i < to; i++) factor[i] = Math.max(factor[i] ?? 0, c.uplift)
    applied.push({ name: c.name, uplift: c.uplift, fromIndex: from, toIndex: to })
  }
  const scale = (a: readonly number[]) => a.map((v, i) => v * (factor[i] ?? 1))
  return { ...forecast, values: scale(forecast.values), lower: scale(forecast.lower), upper: scale(forecast.upper), applied }
}

/** The outcome of plannedCampaigns: campaigns ready to apply, and those with no uplift to apply. */
export interface CampaignPlan {
  readonly campaigns: readonly PlannedCampaign[]
  /** Names of campaign schedules with neither a declared uplift nor a learned one. */
  readonly withoutUplift: readonly string[]
}

/**
 * The one-off campaign windows of a group's schedules (those with `campaign` and start/end;
 * recurring cron schedules are ordinary tides the seasonal model already learns) that end
 * after `nowSec`. The uplift is the declared one, else the learned one from `learned` (by
 * schedule name, e.g. expectedUplift results), else the campaign is listed in `withoutUplift`.
 */
export function plannedCampaigns(schedules: readonly ScheduleSpec[], nowSec: number, learned: ReadonlyMap<string, number> = new Map()): CampaignPlan {
  const campaigns: PlannedCampaign[] = []
  const withoutUplift: string[] = []
  for (const w of campaignWindows(schedules)) {
    if (w.endSec <= nowSec) continue
    const learnedUplift = learned.get(w.name)
    if (w.uplift !== undefined) campaigns.push({ ...w, uplift: w.uplift, upliftSource: 'declared' })
    else if (learnedUplift !== undefined) campaigns.push({ ...w, uplift: learnedUplift, upliftSource: 'learned' })
    else withoutUplift.push(w.name)
  }
  return { campaigns, withoutUplift }
}

/** A one-off campaign's window in epoch seconds, with its name, lead and declared uplift. */
export interface CampaignWindow extends TimeWindow {
  readonly name: string
  readonly leadSeconds: number
  readonly uplift?: number
}

/** Every one-off campaign window of the schedules (those with `campaign` and start/end), in schedule order. */
export function campaignWindows(schedules: readonly ScheduleSpec[]): CampaignWindow[] {
  const out: CampaignWindow[] = []
  for (const s of schedules) {
    if (s.campaign === undefined || s.start === undefined || s.end === undefined) continue
    const w = { name: s.name, startSec: isoToEpochMsOrThrow(s.start) / 1000, endSec: isoToEpochMsOrThrow(s.end) / 1000, leadSeconds: s.campaign.leadMinutes * 60 }
    out.push(s.campaign.uplift === undefined ? w : { ...w, uplift: s.campaign.uplift })
  }
  return out
}

/** The q-quantile (0–1) by linear interpolation between order statistics; the median of two is their mean. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo] ?? 0
  const b = sorted[hi] ?? a
  return a + (b - a) * (pos - lo)
}
