/**
 * Holt-Winters exponential smoothing with one seasonal period (daily) or two (daily and
 * weekly: Taylor's double-seasonal Holt-Winters, J. W. Taylor, "Short-term electricity demand
 * forecasting using double seasonal exponential smoothing", JORS 54, 2003), in additive or
 * multiplicative form, with an additive trend.
 *
 * Robust to outliers in the manner of Gelper, Fried and Croux ("Robust forecasting with
 * exponential and Holt-Winters smoothing", J. Forecasting 29, 2010): each observation is
 * replaced by the one-step forecast plus the residual clipped at ±k × a running scale (a
 * Huber ψ), so one spike moves the level and seasonals by a bounded amount. A missing
 * observation (null) is replaced by the one-step forecast itself: the state rolls forward
 * (level + trend) and nothing else changes. So NaN never enters the state.
 *
 * Pure and deterministic; `update` is O(1).
 */
import type { ForecastModel, ForecastValues } from './forecast-model.ts'

/** Additive: value = level + seasonal(s). Multiplicative: value = level × seasonal(s); needs positive data. */
export type SeasonalForm = 'additive' | 'multiplicative'

/** Smoothing parameters, each in [0, 1]. `delta` (the second seasonal) is ignored with one period. */
export interface HoltWintersParams {
  /** Level. */
  readonly alpha: number
  /** Trend (of the level's change per step). 0 keeps the initial trend. */
  readonly beta: number
  /** First (shorter, daily) seasonal. */
  readonly gamma: number
  /** Second (longer, weekly) seasonal. */
  readonly delta: number
}

/** The shape of a model: its periods in steps and its form. */
export interface HoltWintersShape {
  /** One period (e.g. [288] for a day of 5-minute steps) or two, the second a multiple of the first ([288, 2016]). */
  readonly periods: readonly number[]
  readonly form: SeasonalForm
  /** Residuals beyond ±huberK × scale are clipped; default 4 (about 3σ, as scale is a mean absolute error). */
  readonly huberK?: number
}

/** The state of a model at a step; `seasonals[i]` is indexed by absolute step mod periods[i]. */
export interface HoltWintersState {
  readonly level: number
  readonly trend: number
  readonly seasonals: readonly (readonly number[])[]
  /** Running mean absolute one-step error, the Huber clipping scale. */
  readonly scale: number
  /** Running mean squared (clipped) one-step error, for prediction intervals. */
  readonly variance: number
  /** Absolute index of the next step, counted from the series' first bucket. */
  readonly step: number
}

/** 95 % two-sided normal quantile for the prediction interval. */
const intervalZ = 1.96
/** Smoothing of the running scale and variance: a memory of about 50 and 100 steps. */
const scaleRate = 0.02
const varianceRate = 0.01
const defaultHuberK = 4

/** Why a model cannot be initialised from the data given. */
export class HoltWintersInitError extends RangeError {}

/**
 * The initial state from the first cycles (up to `maxCycles` of the longest period) of `values`:
 * per-cycle means give level and trend, the detrended values averaged by phase give the
 * seasonals (normalised to mean 0, or mean 1 when multiplicative). Gaps are interpolated
 * linearly for this purpose only. Throws HoltWintersInitError when there is not one full cycle,
 * no data, or (multiplicative) a non-positive cycle mean.
 */
export function initialHoltWintersState(values: readonly (number | null)[], shape: HoltWintersShape, maxCycles = 2): HoltWintersState {
  const periods = validPeriods(shape.periods)
  const first = periods[0] ?? 1
  const cycle = periods[periods.length - 1] ?? first
  const cycles = Math.min(maxCycles, Math.floor(values.length / cycle))
  if (cycles < 1) throw new HoltWintersInitError(`need one full cycle of ${cycle} steps, have ${values.length}`)
  const y = interpolated(values.slice(0, cycles * cycle))
  const means: number[] = []
  for (let k = 0; k < cycles; k++) means.push(mean(y, k * cycle, (k + 1) * cycle))
  const mult = shape.form === 'multiplicative'
  if (mult && means.some((m) => !(m > 0))) throw new HoltWintersInitError('multiplicative seasonality needs positive data')
  const c0 = means[0] ?? 0
  const trend = cycles >= 2 ? ((means[cycles - 1] ?? c0) - c0) / ((cycles - 1) * cycle) : 0
  const line = (t: number) => (means[Math.floor(t / cycle)] ?? c0) + trend * ((t % cycle) - (cycle - 1) / 2)
  const z = y.map((v, t) => (mult ? v / line(t) : v - line(t)))
  const s0 = normalised(phaseMeans(z, first, (v) => v), mult)
  const seasonals: number[][] = [s0]
  if (periods.length === 2) {
    seasonals.push(normalised(phaseMeans(z, cycle, (v, t) => (mult ? v / (s0[t % first] ?? 1) : v - (s0[t % first] ?? 0))), mult))
  }
  const scale = initialScale(values, y.length, (t) => combine(line(t), seasonals, t, mult), 1e-3 * Math.abs(c0) + 1e-9)
  return { level: c0 + trend * (-1 - (cycle - 1) / 2), trend, seasonals, scale, variance: (1.25 * scale) ** 2, step: 0 }
}

/**
 * A Holt-Winters model: `oneStep()` forecasts the next step, `update(y)` consumes it,
 * `forecast(h)` looks h steps ahead. Mutable; `state()` snapshots it.
 */
export class HoltWinters implements ForecastModel {
  /** Periods and form. */
  readonly shape: HoltWintersShape
  /** Smoothing parameters. */
  readonly params: HoltWintersParams
  #level: number
  #trend: number
  readonly #s0: Float64Array
  readonly #s1: Float64Array | undefined
  #scale: number
  #variance: number
  #step: number
  readonly #mult: boolean
  readonly #k: number

  constructor(shape: HoltWintersShape, params: HoltWintersParams, state: HoltWintersState) {
    validPeriods(shape.periods)
    this.shape = shape
    this.params = params
    this.#level = state.level
    this.#trend = state.trend
    this.#s0 = Float64Array.from(state.seasonals[0] ?? [])
    this.#s1 = state.seasonals.length > 1 ? Float64Array.from(state.seasonals[1] ?? []) : undefined
    this.#scale = state.scale
    this.#variance = state.variance
    this.#step = state.step
    this.#mult = shape.form === 'multiplicative'
    this.#k = shape.huberK ?? defaultHuberK
  }

  /** Absolute index of the next step. */
  get step(): number {
    return this.#step
  }

  /** The forecast for the next step (before clamping at 0). */
  oneStep(): number {
    return this.#at(1)
  }

  /**
   * Consumes the observation of the next step (null when missing) and returns the one-step
   * forecast that had been made for it, so callers can score it without a second call.
   */
  update(y: number | null): number {
    const s0i = this.#step % this.#s0.length
    const s1i = this.#s1 === undefined ? 0 : this.#step % this.#s1.length
    const s0 = this.#s0[s0i] ?? (this.#mult ? 1 : 0)
    const s1 = this.#s1 === undefined ? (this.#mult ? 1 : 0) : (this.#s1[s1i] ?? 0)
    const base = this.#level + this.#trend
    const season = this.#mult ? s0 * s1 : s0 + s1
    const predicted = this.#mult ? base * season : base + season
    let clean = predicted
    if (y !== null && Number.isFinite(y)) {
      const limit = this.#k * this.#scale
      const e = Math.max(-limit, Math.min(limit, y - predicted))
      clean = predicted + e
      this.#scale = (1 - scaleRate) * this.#scale + scaleRate * Math.abs(e)
      this.#variance = (1 - varianceRate) * this.#variance + varianceRate * e * e
    }
    if (this.#mult) this.#smoothMultiplicative(Math.max(0, clean), base, season, s0, s1, s0i, s1i)
    else this.#smoothAdditive(clean, base, season, s0, s1, s0i, s1i)
    this.#step++
    return predicted
  }

  /**
   * The next `horizonSteps` values, clamped at 0 (rates are never negative), with a 95 %
   * interval: ± 1.96 σ √v_h, σ the running RMS of clipped one-step errors and
   * v_h = 1 + Σ_{j<h} α²(1 + jβ)² the additive Holt-Winters variance multiplier (seasonal
   * terms left out: an approximation, honest enough to size a buffer, not a guarantee).
   */
  forecast(horizonSteps: number): ForecastValues {
    const values: number[] = []
    const lower: number[] = []
    const upper: number[] = []
    const sigma = Math.sqrt(this.#variance)
    const { alpha, beta } = this.params
    let v = 1
    for (let h = 1; h <= horizonSteps; h++) {
      if (h > 1) v += (alpha * (1 + (h - 1) * beta)) ** 2
      const point = this.#at(h)
      const half = intervalZ * sigma * Math.sqrt(v)
      values.push(Math.max(0, point))
      lower.push(Math.max(0, point - half))
      upper.push(Math.max(0, point + half))
    }
    return { values, lower, upper }
  }

  /** Component-form updates of the additive model, from the cleaned observation. */
  #smoothAdditive(clean: number, base: number, season: number, s0: number, s1: number, s0i: number, s1i: number): void {
    const p = this.params
    const level = p.alpha * (clean - season) + (1 - p.alpha) * base
    this.#trend = p.beta * (level - this.#level) + (1 - p.beta) * this.#trend
    this.#level = level
    this.#s0[s0i] = p.gamma * (clean - level - s1) + (1 - p.gamma) * s0
    if (this.#s1 !== undefined) this.#s1[s1i] = p.delta * (clean - level - s0) + (1 - p.delta) * s1
  }

  /** Taylor's multiplicative updates; seasonals are left alone while the level is not positive. */
  #smoothMultiplicative(clean: number, base: number, season: number, s0: number, s1: number, s0i: number, s1i: number): void {
    const p = this.params
    const level = season > 0 ? p.alpha * (clean / season) + (1 - p.alpha) * base : base
    this.#trend = p.beta * (level - this.#level) + (1 - p.beta) * this.#trend
    this.#level = level
    if (level <= 0) return
    this.#s0[s0i] = p.gamma * (clean / (level * s1)) + (1 - p.gamma) * s0
    if (this.#s1 !== undefined && s0 > 0) this.#s1[s1i] = p.delta * (clean / (level * s0)) + (1 - p.delta) * s1
  }

  /** Point forecasts only (no interval, unclamped): the parameter search's hot path. */
  pointForecast(horizonSteps: number): number[] {
    const out = new Array<number>(horizonSteps)
    for (let h = 1; h <= horizonSteps; h++) out[h - 1] = this.#at(h)
    return out
  }

  /** A snapshot of the state (copies of the seasonal arrays). */
  state(): HoltWintersState {
    const seasonals = [Array.from(this.#s0)]
    if (this.#s1 !== undefined) seasonals.push(Array.from(this.#s1))
    return { level: this.#level, trend: this.#trend, seasonals, scale: this.#scale, variance: this.#variance, step: this.#step }
  }

  /** The forecast h ≥ 1 steps ahead, unclamped. */
  #at(h: number): number {
    const t = this.#step + h - 1
    const base = this.#level + h * this.#trend
    const s0 = this.#s0[t % this.#s0.length] ?? (this.#mult ? 1 : 0)
    const s1 = this.#s1 === undefined ? (this.#mult ? 1 : 0) : (this.#s1[t % this.#s1.length] ?? 0)
    return this.#mult ? base * s0 * s1 : base + s0 + s1
  }
}

function validPeriods(periods: readonly number[]): readonly number[] {
  const [a, b] = periods
  const ok = a !== undefined && Number.isInteger(a) && a >= 2 && (periods.length === 1 || (periods.length === 2 && b !== undefined && Number.isInteger(b) && b > a && b % a === 0))
  if (!ok) throw new RangeError(`periods must be [m] or [m, k·m] with integer m ≥ 2, got [${periods.join(', ')}]`)
  return periods
}

/** Mean absolute deviation of the observed values in [0, length) from `fitted`, at least `floor`. */
function initialScale(values: readonly (number | null)[], length: number, fitted: (t: number) => number, floor: number): number {
  let absSum = 0
  let n = 0
  for (let t = 0; t < length; t++) {
    const v = values[t]
    if (v === null || v === undefined) continue
    absSum += Math.abs(v - fitted(t))
    n++
  }
  return Math.max(n > 0 ? absSum / n : 0, floor)
}

function combine(line: number, seasonals: readonly (readonly number[])[], t: number, mult: boolean): number {
  let v = line
  for (const s of seasonals) {
    const x = s[t % s.length] ?? (mult ? 1 : 0)
    v = mult ? v * x : v + x
  }
  return v
}

/** Mean of `z` by phase t mod period, after `adjust`; phases never seen get 0 (they cannot be: one full cycle is required). */
function phaseMeans(z: readonly number[], period: number, adjust: (v: number, t: number) => number): number[] {
  const sums = new Array<number>(period).fill(0)
  const counts = new Array<number>(period).fill(0)
  for (let t = 0; t < z.length; t++) {
    const i = t % period
    sums[i] = (sums[i] ?? 0) + adjust(z[t] ?? 0, t)
    counts[i] = (counts[i] ?? 0) + 1
  }
  return sums.map((s, i) => s / Math.max(1, counts[i] ?? 1))
}

function normalised(s: number[], mult: boolean): number[] {
  const m = mean(s, 0, s.length)
  if (mult) return m > 0 ? s.map((v) => v / m) : s.map(() => 1)
  return s.map((v) => v - m)
}

function mean(a: readonly number[], from: number, to: number): number {
  let sum = 0
  for (let i = from; i < to; i++) sum += a[i] ?? 0
  return to > from ? sum / (to - from) : 0
}

/** Gaps filled by linear interpolation between their neighbours (or copied from the one neighbour at an edge). */
function interpolated(values: readonly (number | null)[]): number[] {
  const out = new Array<number>(values.length)
  let prev = -1
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined || !Number.isFinite(v)) continue
    out[i] = v
    const pv = prev >= 0 ? (values[prev] ?? v) : v
    for (let j = prev + 1; j < i; j++) out[j] = prev >= 0 ? pv + ((v - pv) * (j - prev)) / (i - prev) : v
    prev = i
  }
  if (prev < 0) throw new HoltWintersInitError('no data in the initial cycles')
  for (let j = prev + 1; j < values.length; j++) out[j] = values[prev] ?? 0
  return out
}
