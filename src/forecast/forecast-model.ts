/**
 * What every forecasting model offers the forecaster that wraps it: consume one step,
 * look ahead. Models count steps from the first bucket of the series they were built on;
 * the Forecaster (fit-forecaster.ts) maps steps to epoch seconds.
 */

/** A point forecast with an approximate 95 % prediction interval, one entry per future step; never negative. */
export interface ForecastValues {
  readonly values: number[]
  readonly lower: number[]
  readonly upper: number[]
}

/** A model that can be advanced one observation at a time (O(1)) and queried for the future. */
export interface ForecastModel {
  /** Absolute index of the next step (the one `update` will consume). */
  readonly step: number
  /** Consumes the next step's observation (null when missing) and returns the forecast that had been made for it. */
  update(y: number | null): number
  /** The next `horizonSteps` steps. */
  forecast(horizonSteps: number): ForecastValues
}
