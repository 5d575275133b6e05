/**
 * The controller's side of predictive scaling: it records a group's demand (requests/s
 * summed over the group) into fixed buckets, fits a forecaster on that history, keeps it
 * learning bucket by bucket, scores its forecasts against what then happened, learns the
 * uplift of past campaigns, and hands the engine a DemandForecast as plain data. The engine
 * (policies/predictive.ts) never fits a model; this file never decides a count.
 *
 * Cadence (docs/forecasting.md "Cadence and cost"): `update` every closed bucket (O(1)), a
 * refit that keeps the method and parameters (`reuse`) every `refitEveryMs` (a day), a full
 * fit with method selection every `fullFitEveryMs` (a week), and a first fit as soon as the
 * history is long enough (checked at most once per bucket). Past campaign windows are
 * blanked before every fit so that a flash sale does not teach the baseline.
 *
 * Accuracy is live: every forecast the policy may act on is remembered for the bucket that
 * lies one scheduling buffer ahead and scored when that bucket closes (WAPE over the last
 * day). Until `minLiveScores` buckets are scored, the backtest's WAPE stands in.
 *
 * No I/O and no clock: the controller passes `nowMs`. Memory is bounded: the history keeps
 * at most `maxHistorySeconds` of buckets.
 */
import { campaignWindows, expectedUplift } from '../forecast/campaign-uplift.ts'
import { fitForecaster, type FitOptions, type FitResult, type Forecaster } from '../forecast/fit-forecaster.ts'
import { ForecastAccuracy } from '../forecast/forecast-accuracy.ts'
import { maskWindows, observedSeconds, SeriesBucketer, type Series, type TimeWindow } from '../forecast/series.ts'
import type { DemandForecast } from '../engine/types.ts'
import type { GroupSpec, ScheduleSpec } from '../spec/schema.ts'

/** Options; every field has a default. */
export interface DemandRecorderOptions {
  /** Bucket width, seconds; must divide a day. Default 300 (5 minutes). */
  readonly stepSeconds?: number
  /** Keep-the-method refit interval, ms; default a day. */
  readonly refitEveryMs?: number
  /** Full fit (method selection and tuning) interval, ms; default a week. */
  readonly fullFitEveryMs?: number
  /** History kept, seconds; default 21 days (what a fit reads). */
  readonly maxHistorySeconds?: number
  /** Scored buckets needed before live accuracy replaces the backtest's; default 12 (an hour of 5-minute buckets). */
  readonly minLiveScores?: number
  /** Options for fitForecaster (minHistorySeconds, methods, …). */
  readonly fit?: FitOptions
}

/** What a caller may want to see of the recorder (status pages, tests, the simulator's report). */
export interface DemandRecorderStats {
  readonly fullFits: number
  readonly refits: number
  readonly bucketsRecorded: number
  /** Live WAPE, percent, over the scored window; undefined until minLiveScores buckets are scored. */
  readonly liveWapePercent: number | undefined
  readonly liveScored: number
  readonly method: string | undefined
}

const DAY_MS = 86_400_000

/** Records one group's demand and forecasts it (see the module comment). */
export class DemandRecorder {
  readonly #stepSeconds: number
  readonly #refitEveryMs: number
  readonly #fullFitEveryMs: number
  readonly #maxBuckets: number
  readonly #minLiveScores: number
  readonly #fit: FitOptions
  readonly #bucketer: SeriesBucketer
  readonly #accuracy = new ForecastAccuracy()
  /** Closed buckets, oldest first: start of the first and the values (null = no data). */
  #startSec: number | undefined
  #values: (number | null)[] = []
  #forecaster: Forecaster | undefined
  #fullFitAtMs = -Infinity
  #refitAtMs = -Infinity
  /** When the history last proved too short, so that a too-short fit is tried once per bucket. */
  #shortAtBucketSec: number | undefined
  #shortBy: { haveSeconds: number; needSeconds: number } | undefined
  #learned: Record<string, number> = {}
  #baselineRps: number | undefined
  #fullFits = 0
  #refits = 0
  #bucketsRecorded = 0

  constructor(options: DemandRecorderOptions = {}) {
    this.#stepSeconds = options.stepSeconds ?? 300
    this.#refitEveryMs = options.refitEveryMs ?? DAY_MS
    this.#fullFitEveryMs = options.fullFitEveryMs ?? 7 * DAY_MS
    this.#maxBuckets = Math.ceil((options.maxHistorySeconds ?? 21 * 86_400) / this.#stepSeconds)
    this.#minLiveScores = options.minLiveScores ?? 12
    this.#fit = options.fit ?? {}
    this.#bucketer = new SeriesBucketer(this.#stepSeconds)
  }

  /**
   * Loads demand recorded before this process started (the store's metric history, or the
   * simulator's --history trace), before any observe(). Buckets are re-aggregated to this
   * recorder's step.
   */
  preload(history: Series): void {
    if (history.values.length === 0) return
    const b = new SeriesBucketer(this.#stepSeconds)
    for (let i = 0; i < history.values.length; i++) {
      const v = history.values[i]
      const t = history.startSec + i * history.stepSeconds
      for (const closed of b.add(t, v ?? Number.NaN)) this.#append(closed.startSec, closed.value)
    }
    const end = history.startSec + history.values.length * history.stepSeconds
    for (const closed of b.flush(end)) this.#append(closed.startSec, closed.value)
  }

  /**
   * Records the group's demand at `nowMs` (undefined when it could not be read: a gap). Each
   * bucket this sample closes is appended to the history, fed to the forecaster and scored
   * against what the forecaster had said of it.
   */
  observe(spec: GroupSpec, nowMs: number, groupRps: number | undefined): void {
    const atSec = nowMs / 1000
    const closed = groupRps === undefined || !Number.isFinite(groupRps) ? this.#bucketer.flush(atSec) : this.#bucketer.add(atSec, groupRps)
    if (closed.length === 0) return
    const campaigns = campaignWindows(spec.schedules)
    for (const b of closed) {
      this.#append(b.startSec, b.value)
      // A campaign's buckets teach the baseline nothing (as in a fit, where they are blanked), and
      // its forecast was made without the uplift, so it is not scored either.
      const inCampaign = campaigns.some((w) => b.startSec >= w.startSec && b.startSec < w.endSec)
      if (b.value !== null && !inCampaign) this.#accuracy.observe(b.startSec, b.value)
      this.#forecaster?.updateAt(b.startSec, inCampaign ? null : b.value)
      const nearCampaign = campaigns.some((w) => b.startSec < w.endSec && b.startSec + this.#stepSeconds > w.startSec - w.leadSeconds)
      if (b.value !== null && !nearCampaign) this.#baselineRps = b.value
    }
  }

  /**
   * The forecast the engine reads at `nowMs`, covering at least `aheadMs` from now. Fits or
   * refits first when due. `scoreAtMs` is the moment whose bucket this forecast is scored on
   * (the end of the scheduling buffer): the policy acts on that horizon.
   */
  forecast(spec: GroupSpec, nowMs: number, aheadMs: number, scoreAtMs = nowMs + aheadMs): DemandForecast {
    this.#maybeFit(spec, nowMs)
    const stepMs = this.#stepSeconds * 1000
    const f = this.#forecaster
    if (f === undefined) {
      const short = this.#shortBy ?? { haveSeconds: observedSeconds(this.#series()), needSeconds: this.#fit.minHistorySeconds ?? 2 * 86_400 }
      return {
        status: 'insufficient-history',
        stepMs,
        fromMs: nowMs,
        values: [],
        historyMs: short.haveSeconds * 1000,
        neededHistoryMs: short.needSeconds * 1000,
        learnedUplifts: this.#learned,
        ...this.#baseline(),
      }
    }
    const fromMs = f.nextStartSec * 1000
    const steps = Math.max(1, Math.ceil((nowMs + aheadMs - fromMs) / stepMs) + 1)
    const fc = f.forecast(steps)
    const scoreIndex = Math.floor((scoreAtMs - fromMs) / stepMs)
    const scored = fc.values[scoreIndex]
    if (scored !== undefined && scoreIndex >= 0) this.#accuracy.expect(fc.startSec + scoreIndex * this.#stepSeconds, scored)
    const live = this.#liveWape()
    const accuracy = live !== undefined ? { accuracyWapePercent: live, accuracySource: 'live' as const } : f.backtestWape === undefined ? {} : { accuracyWapePercent: f.backtestWape, accuracySource: 'backtest' as const }
    return { status: 'ok', method: f.method, stepMs, fromMs, values: fc.values, lower: fc.lower, upper: fc.upper, ...accuracy, learnedUplifts: this.#learned, ...this.#baseline() }
  }

  /**
   * The expected demand over the next `aheadMs` from `nowMs`, without scoring it (the risk radar's
   * look ahead; `forecast` scores one bucket per call): bucket i covers [fromMs + i·stepMs, +stepMs).
   * Undefined before the first fit.
   */
  outlook(nowMs: number, aheadMs: number): { fromMs: number; stepMs: number; values: readonly number[] } | undefined {
    const f = this.#forecaster
    if (f === undefined) return undefined
    const stepMs = this.#stepSeconds * 1000
    const fromMs = f.nextStartSec * 1000
    const steps = Math.max(1, Math.ceil((nowMs + aheadMs - fromMs) / stepMs))
    // The model changes once a bucket (or at a refit): every tick in between gets the same outlook.
    const last = this.#outlook
    if (last !== undefined && last.forecaster === f && last.fromMs === fromMs && last.steps === steps) return last.answer
    const answer = { fromMs, stepMs, values: f.forecast(steps).values }
    this.#outlook = { forecaster: f, fromMs, steps, answer }
    return answer
  }

  #outlook: { readonly forecaster: Forecaster; readonly fromMs: number; readonly steps: number; readonly answer: { fromMs: number; stepMs: number; values: readonly number[] } } | undefined

  #baseline(): { baselineRps?: number } {
    return this.#baselineRps === undefined ? {} : { baselineRps: this.#baselineRps }
  }

  /** Counters and the live accuracy, for status and reports. */
  stats(): DemandRecorderStats {
    const s = this.#accuracy.summary()
    return { fullFits: this.#fullFits, refits: this.#refits, bucketsRecorded: this.#bucketsRecorded, liveWapePercent: this.#liveWape(), liveScored: s.count, method: this.#forecaster?.method }
  }

  /** The recorded history as a Series (a copy), oldest bucket first. */
  history(): Series {
    const s = this.#series()
    return { ...s, values: [...s.values] }
  }

  #liveWape(): number | undefined {
    const s = this.#accuracy.summary()
    return s.count >= this.#minLiveScores ? s.wapePercent : undefined
  }

  /** The recorded history as a Series, without a copy: for reading only. */
  #series(): Series {
    return { startSec: this.#startSec ?? 0, stepSeconds: this.#stepSeconds, values: this.#values }
  }

  #append(startSec: number, value: number | null): void {
    if (this.#startSec === undefined) this.#startSec = startSec
    const index = Math.round((startSec - this.#startSec) / this.#stepSeconds)
    if (index < this.#values.length) return // already recorded (preload overlapping live data)
    while (this.#values.length < index) this.#values.push(null)
    this.#values.push(value)
    this.#bucketsRecorded++
    const excess = this.#values.length - this.#maxBuckets
    if (excess > 0) {
      this.#values.splice(0, excess)
      this.#startSec += excess * this.#stepSeconds
    }
  }

  #maybeFit(spec: GroupSpec, nowMs: number): void {
    const f = this.#forecaster
    if (f !== undefined && nowMs - this.#fullFitAtMs < this.#fullFitEveryMs && nowMs - this.#refitAtMs < this.#refitEveryMs) return
    const lastBucket = this.#startSec === undefined ? undefined : this.#startSec + (this.#values.length - 1) * this.#stepSeconds
    if (f === undefined && lastBucket !== undefined && this.#shortAtBucketSec === lastBucket) return
    if (this.#startSec === undefined) return
    const campaigns = pastCampaignWindows(spec.schedules, nowMs / 1000)
    const series = maskWindows(this.history(), campaigns.all)
    const full = f === undefined || nowMs - this.#fullFitAtMs >= this.#fullFitEveryMs
    const kept = full ? undefined : refitKeeping(series, this.#fit, f)
    const fit = kept ?? fitForecaster(series, this.#fit)
    if (fit.status !== 'ok') {
      // A forecaster that exists keeps forecasting; the next attempt waits a refit interval.
      this.#refitAtMs = nowMs
      this.#shortAtBucketSec = lastBucket
      this.#shortBy = { haveSeconds: fit.haveSeconds, needSeconds: fit.needSeconds }
      return
    }
    const fullNow = kept === undefined
    this.#forecaster = fit.forecaster
    this.#refitAtMs = nowMs
    if (fullNow) {
      this.#fullFitAtMs = nowMs
      this.#fullFits++
    } else {
      this.#refits++
    }
    // The fit consumed every closed bucket; the forecaster starts at the open one.
    this.#learned = learnedUplifts(this.#series(), campaigns, this.#fit)
  }
}

/** A refit that keeps `f`'s method and parameters, or undefined when that method cannot run on the series now. */
function refitKeeping(series: Series, fit: FitOptions, f: Forecaster): FitResult | undefined {
  try {
    const r = fitForecaster(series, { ...fit, reuse: { method: f.method, params: f.params } })
    return r.status === 'ok' ? r : undefined
  } catch (err) {
    if (err instanceof RangeError) return undefined
    throw err
  }
}

/** Past one-off campaign windows by schedule name, and all of them, as epoch-second windows. */
export interface PastCampaigns {
  readonly byName: ReadonlyMap<string, readonly TimeWindow[]>
  readonly all: readonly TimeWindow[]
}

/** The campaign windows that ended before `nowSec`, by schedule name and all together. */
export function pastCampaignWindows(schedules: readonly ScheduleSpec[], nowSec: number): PastCampaigns {
  const byName = new Map<string, TimeWindow[]>()
  const all: TimeWindow[] = []
  for (const w of campaignWindows(schedules)) {
    if (w.endSec > nowSec) continue
    all.push(w)
    const list = byName.get(w.name) ?? []
    list.push(w)
    byName.set(w.name, list)
  }
  return { byName, all }
}

/** The uplift learned for each campaign name that has past events in the history. */
function learnedUplifts(history: Series, campaigns: PastCampaigns, fit: FitOptions): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, windows] of campaigns.byName) {
    const others = campaigns.all.filter((w) => !windows.includes(w))
    const estimate = expectedUplift(name, history, windows, { maskAlso: others, fit })
    if (estimate.uplift !== undefined) out[name] = estimate.uplift
  }
  return out
}
