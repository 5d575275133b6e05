/**
 * Looking ahead for trouble (DESIGN "risk radar"): when does a forecast first need more than
 * a limit (a group's max, a quota, a downstream's capacity), and what is its peak. The caller
 * converts the forecast into the unit of the limit first (requests/s ÷ per-instance capacity
 * → instances). Pure.
 */
import type { ForecastResult } from './fit-forecaster.ts'

/** The first bucket whose value is above the limit, and the peak of the run of buckets above it. */
export interface Exceedance {
  /** Epoch seconds of the start of the first bucket above the limit. */
  readonly atSec: number
  readonly value: number
  /** The highest value in the forecast from atSec on, and when. */
  readonly peak: number
  readonly peakAtSec: number
  /** Seconds from the forecast's start to atSec. */
  readonly inSeconds: number
}

/**
 * The first time the forecast's `values` (or `upper`, for a cautious warning) exceed `limit`,
 * or undefined when they never do within the horizon.
 */
export function firstExceedance(forecast: ForecastResult, limit: number, use: 'values' | 'upper' = 'values'): Exceedance | undefined {
  const series = forecast[use]
  const first = series.findIndex((v) => v > limit)
  if (first < 0) return undefined
  let peakIndex = first
  for (let i = first; i < series.length; i++) if ((series[i] ?? 0) > (series[peakIndex] ?? 0)) peakIndex = i
  const atSec = forecast.startSec + first * forecast.stepSeconds
  return {
    atSec,
    value: series[first] ?? limit,
    peak: series[peakIndex] ?? limit,
    peakAtSec: forecast.startSec + peakIndex * forecast.stepSeconds,
    inSeconds: atSec - forecast.startSec,
  }
}
