/**
 * Load shapes for `tide load` and `tide demo`: the request rate (requests/s) at
 * second t of a run lasting `durationSeconds`. Pure, so tests can check the shapes.
 */
import type { Trace } from '../core/trace.ts'
import { rateAt } from '../core/trace.ts'

export const PatternNames = ['flash-sale', 'diurnal', 'step'] as const
export type PatternName = (typeof PatternNames)[number]

export interface PatternOptions {
  /** The quiet rate, requests/s. */
  readonly baseRps: number
  /** The busiest rate, requests/s. */
  readonly peakRps: number
  readonly durationSeconds: number
}

/** A rate function: requests/s at second t (0 ≤ t < duration). */
export type RateFn = (t: number) => number

/**
 * flash-sale: quiet for the first 20 % of the run, then the sale opens and the
 * rate climbs from base to peak within min(60 s, 10 % of the run) (a 10× surge when
 * peak = 10 × base), holds for 40 % of the run, then ebbs back to base over 10 %.
 */
function flashSale(o: PatternOptions): RateFn {
  const d = o.durationSeconds
  const open = 0.2 * d
  const ramp = Math.min(60, 0.1 * d)
  const holdEnd = open + ramp + 0.4 * d
  const ebb = 0.1 * d
  return (t) => {
    if (t < open) return o.baseRps
    if (t < open + ramp) return o.baseRps + ((t - open) / ramp) * (o.peakRps - o.baseRps)
    if (t < holdEnd) return o.peakRps
    if (t < holdEnd + ebb) return o.peakRps - ((t - holdEnd) / ebb) * (o.peakRps - o.baseRps)
    return o.baseRps
  }
}

/** diurnal: one day compressed into the run: a cosine from base (night) to peak (evening) and back. */
function diurnal(o: PatternOptions): RateFn {
  return (t) => o.baseRps + ((o.peakRps - o.baseRps) * (1 - Math.cos((2 * Math.PI * t) / o.durationSeconds))) / 2
}

/** step: base for the first third of the run, then peak. */
function step(o: PatternOptions): RateFn {
  return (t) => (t < o.durationSeconds / 3 ? o.baseRps : o.peakRps)
}

/** The rate function of a named pattern. */
export function patternRate(name: PatternName, o: PatternOptions): RateFn {
  switch (name) {
    case 'flash-sale':
      return flashSale(o)
    case 'diurnal':
      return diurnal(o)
    case 'step':
      return step(o)
  }
}

/** Replays a recorded trace second by second, its rates multiplied by `rateScale`. */
export function traceRate(trace: Trace, rateScale: number): RateFn {
  return (t) => rateAt(trace, t) * rateScale
}
