/**
 * Synthetic traffic for the forecasting tests and the forecast bench: a daily wave, an
 * optional trend, weekend dip and noise, from a seeded generator so every run sees the same
 * numbers.
 */
import { seededRandom } from '../../src/core/seeded-random.ts'

/** Shape of a synthetic series. Rates in requests/s. */
export interface SyntheticShape {
  readonly days: number
  readonly stepSeconds: number
  /** Mean level on day 0. */
  readonly base: number
  /** Half the trough-to-peak swing of the daily wave. */
  readonly amplitude: number
  /** Level added per day (linear trend). */
  readonly trendPerDay?: number
  /** Multiplier on days 5 and 6 of every week (a weekend), 1 for none. */
  readonly weekendFactor?: number
  /** Standard deviation-ish of uniform noise, as a fraction of the value. */
  readonly noiseRatio?: number
  readonly seed?: number
  /** When true the wave scales with the level (multiplicative), else it is added. */
  readonly multiplicative?: boolean
}

/** The noiseless value at step t. */
export function syntheticValue(shape: SyntheticShape, t: number): number {
  const perDay = 86_400 / shape.stepSeconds
  const dayIndex = Math.floor(t / perDay)
  const level = shape.base + ((shape.trendPerDay ?? 0) * t) / perDay
  const wave = Math.sin((2 * Math.PI * (t % perDay)) / perDay - Math.PI / 2) // trough at midnight, peak at noon
  const weekend = dayIndex % 7 >= 5 ? (shape.weekendFactor ?? 1) : 1
  const v = shape.multiplicative === true ? level * (1 + (shape.amplitude / shape.base) * wave) : level + shape.amplitude * wave
  return v * weekend
}

/** `days` of values with noise: value × (1 + noiseRatio × u), u uniform in [−1, 1). */
export function syntheticSeries(shape: SyntheticShape): number[] {
  const rnd = seededRandom(shape.seed ?? 1)
  const n = Math.round((shape.days * 86_400) / shape.stepSeconds)
  const out: number[] = []
  for (let t = 0; t < n; t++) out.push(syntheticValue(shape, t) * (1 + (shape.noiseRatio ?? 0) * (2 * rnd() - 1)))
  return out
}
