/**
 * The seasonal-naive forecast: the value one period ago (a day, or a week). The baseline
 * every other method must beat in the backtest (as MASE scales by it), and a sound
 * choice on its own for series whose days repeat but whose level does not drift.
 * Pure; `update` is O(1).
 */
import type { ForecastModel, ForecastValues } from './forecast-model.ts'

/** 95 % two-sided normal quantile. */
const intervalZ = 1.96

/**
 * Remembers the last `periodSteps` values in a ring. A missing step keeps the value of one
 * period earlier (its own forecast), so gaps are imputed rather than stored. Before a full
 * period has been seen, the forecast is the last value seen (plain naive), or 0 with no data.
 */
export class SeasonalNaive implements ForecastModel {
  /** The season length in steps. */
  readonly periodSteps: number
  readonly #ring: Float64Array
  readonly #seen: Uint8Array
  #step = 0
  #last = 0
  #sse = 0
  #errors = 0

  constructor(periodSteps: number) {
    if (!Number.isInteger(periodSteps) || periodSteps < 1) throw new RangeError(`periodSteps must be a positive integer, got ${periodSteps}`)
    this.periodSteps = periodSteps
    this.#ring = new Float64Array(periodSteps)
    this.#seen = new Uint8Array(periodSteps)
  }

  /** Absolute index of the next step. */
  get step(): number {
    return this.#step
  }

  /** Consumes the next step; returns the forecast that had been made for it. */
  update(y: number | null): number {
    const i = this.#step % this.periodSteps
    const predicted = this.#valueAt(i)
    if (y !== null && Number.isFinite(y)) {
      if (this.#seen[i] === 1) {
        this.#sse += (y - predicted) ** 2
        this.#errors++
      }
      this.#ring[i] = y
      this.#seen[i] = 1
      this.#last = y
    }
    this.#step++
    return predicted
  }

  /** The value at the same phase one period back, repeated for horizons beyond a period; σ grows with √(periods ahead). */
  forecast(horizonSteps: number): ForecastValues {
    const sigma = this.#errors > 0 ? Math.sqrt(this.#sse / this.#errors) : 0
    const values: number[] = []
    const lower: number[] = []
    const upper: number[] = []
    for (let h = 1; h <= horizonSteps; h++) {
      const v = Math.max(0, this.#valueAt((this.#step + h - 1) % this.periodSteps))
      const half = intervalZ * sigma * Math.sqrt(Math.ceil(h / this.periodSteps))
      values.push(v)
      lower.push(Math.max(0, v - half))
      upper.push(v + half)
    }
    return { values, lower, upper }
  }

  #valueAt(i: number): number {
    return this.#seen[i] === 1 ? (this.#ring[i] ?? 0) : this.#last
  }
}
