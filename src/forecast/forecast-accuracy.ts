/**
 * Rolling accuracy of forecasts against what then happened, for the predictive policy to
 * report continuously and to back off when its forecast has gone bad.
 *
 * The headline number is WAPE, Σ|forecast − actual| / Σ|actual| × 100 over the window, i.e.
 * MAPE weighted by volume. Why not plain MAPE: a shop's night-time trough (a few requests/s)
 * would dominate it with huge percentages that do not matter for capacity, and it is undefined
 * at zero traffic. sMAPE is bounded but rewards over-forecasting asymmetrically; MASE needs a
 * naive-forecast scale the policy does not otherwise keep and reads less plainly against
 * `predictive.maxErrorPercent`. WAPE is in percent like MAPE (equal to it when traffic is flat),
 * is defined whenever any traffic arrived, and weighs errors where the load, and so the
 * capacity, is. MAPE and the bias are reported beside it.
 *
 * Pure; `record` is O(1).
 */

/** A summary of the window. Percentages are undefined until they are defined (no pairs, or no traffic). */
export interface AccuracySummary {
  /** Pairs in the window. */
  readonly count: number
  /** Σ|f − a| / Σ|a| × 100. */
  readonly wapePercent: number | undefined
  /** Mean |f − a| / |a| × 100 over pairs with a ≠ 0. */
  readonly mapePercent: number | undefined
  /** Σ(f − a) / Σ|a| × 100: positive when the forecast runs high (over-provisioning), negative when low. */
  readonly biasPercent: number | undefined
}

/** Options of ForecastAccuracy. */
export interface ForecastAccuracyOptions {
  /** Pairs kept, newest first out last; default 288 (a day of 5-minute buckets). */
  readonly windowSize?: number
  /** Pending forecasts kept by `expect` before the oldest are dropped; default 4096. */
  readonly maxPending?: number
}

/**
 * Pairs forecasts with actuals and summarises the most recent `windowSize` pairs.
 * Either call `record(forecast, actual)` directly, or `expect(bucketStartSec, forecast)` when
 * the forecast is made and `observe(bucketStartSec, actual)` when the bucket has happened.
 */
export class ForecastAccuracy {
  /** Pairs kept. */
  readonly windowSize: number
  readonly #maxPending: number
  readonly #forecasts: Float64Array
  readonly #actuals: Float64Array
  #next = 0
  #count = 0
  #sinceExact = 0
  #absErr = 0
  #absActual = 0
  #signedErr = 0
  #ape = 0
  #apeCount = 0
  readonly #pending = new Map<number, number>()

  constructor(options: ForecastAccuracyOptions = {}) {
    const size = options.windowSize ?? 288
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`windowSize must be a positive integer, got ${size}`)
    this.windowSize = size
    this.#maxPending = options.maxPending ?? 4096
    this.#forecasts = new Float64Array(size)
    this.#actuals = new Float64Array(size)
  }

  /** Adds one (forecast, actual) pair, evicting the oldest when the window is full. Non-finite inputs are ignored. */
  record(forecast: number, actual: number): void {
    if (!Number.isFinite(forecast) || !Number.isFinite(actual)) return
    if (this.#count === this.windowSize) this.#apply(this.#forecasts[this.#next] ?? 0, this.#actuals[this.#next] ?? 0, -1)
    else this.#count++
    this.#forecasts[this.#next] = forecast
    this.#actuals[this.#next] = actual
    this.#next = (this.#next + 1) % this.windowSize
    this.#apply(forecast, actual, 1)
    // Running sums drift by rounding after many add/subtract pairs: recompute once per window.
    if (++this.#sinceExact >= this.windowSize) this.#recompute()
  }

  /**
   * Remembers the forecast for the bucket starting at `bucketStartSec`; a later `expect` for the
   * same bucket replaces it (so call it with the forecast made at the lead time that matters).
   */
  expect(bucketStartSec: number, forecast: number): void {
    this.#pending.set(bucketStartSec, forecast)
    if (this.#pending.size > this.#maxPending) {
      const oldest = this.#pending.keys().next()
      if (oldest.done !== true) this.#pending.delete(oldest.value)
    }
  }

  /**
   * The actual value of the bucket at `bucketStartSec`: records it against the expected forecast
   * if there was one (returns true), and forgets expectations for this and earlier buckets.
   */
  observe(bucketStartSec: number, actual: number): boolean {
    const forecast = this.#pending.get(bucketStartSec)
    for (const key of this.#pending.keys()) if (key <= bucketStartSec) this.#pending.delete(key)
    if (forecast === undefined) return false
    this.record(forecast, actual)
    return true
  }

  /** The window's WAPE, MAPE and bias. */
  summary(): AccuracySummary {
    const defined = this.#count > 0 && this.#absActual > 0
    return {
      count: this.#count,
      wapePercent: defined ? (100 * Math.max(0, this.#absErr)) / this.#absActual : undefined,
      mapePercent: this.#apeCount > 0 ? (100 * Math.max(0, this.#ape)) / this.#apeCount : undefined,
      biasPercent: defined ? (100 * this.#signedErr) / this.#absActual : undefined,
    }
  }

  /**
   * The q-quantile of actual ÷ forecast over the window's pairs with a positive forecast: how far
   * the demand ran above the forecast (1.2 = 20 % above) at that share of buckets; undefined
   * without such pairs. The headroom a forecast needs to cover its own error (slo groups).
   */
  ratioQuantile(q: number): number | undefined {
    const ratios: number[] = []
    const start = (this.#next - this.#count + this.windowSize) % this.windowSize
    for (let k = 0; k < this.#count; k++) {
      const i = (start + k) % this.windowSize
      const f = this.#forecasts[i] ?? 0
      if (f > 0) ratios.push((this.#actuals[i] ?? 0) / f)
    }
    if (ratios.length === 0) return undefined
    ratios.sort((a, b) => a - b)
    return ratios[Math.min(ratios.length - 1, Math.ceil(q * ratios.length) - 1)]
  }

  /**
   * Whether the forecast may be trusted: at least `minCount` pairs and WAPE ≤ maxErrorPercent.
   * False while there is too little evidence, so a new forecaster earns trust before it acts.
   */
  isReliable(maxErrorPercent: number, minCount = Math.min(12, this.windowSize)): boolean {
    const s = this.summary()
    return s.count >= minCount && s.wapePercent !== undefined && s.wapePercent <= maxErrorPercent
  }

  #apply(forecast: number, actual: number, sign: 1 | -1): void {
    const err = forecast - actual
    this.#absErr += sign * Math.abs(err)
    this.#absActual += sign * Math.abs(actual)
    this.#signedErr += sign * err
    if (actual !== 0) {
      this.#ape += (sign * Math.abs(err)) / Math.abs(actual)
      this.#apeCount += sign
    }
  }

  #recompute(): void {
    this.#absErr = 0
    this.#absActual = 0
    this.#signedErr = 0
    this.#ape = 0
    this.#apeCount = 0
    this.#sinceExact = 0
    const start = (this.#next - this.#count + this.windowSize) % this.windowSize
    for (let k = 0; k < this.#count; k++) {
      const i = (start + k) % this.windowSize
      this.#apply(this.#forecasts[i] ?? 0, this.#actuals[i] ?? 0, 1)
    }
  }
}
