/**
 * Fixed-step time series, the input of every forecaster: one value per bucket of
 * `stepSeconds`, `null` where a bucket has no data. Helpers turn irregular samples (per
 * second, per tick) into such a series, in one go or incrementally, and blank out windows
 * (past campaigns) that must not teach the baseline. Pure: times are arguments, in epoch seconds.
 */

/** A series of equally spaced buckets. Bucket i covers [startSec + i·step, startSec + (i+1)·step). */
export interface Series {
  /** Epoch seconds of the start of bucket 0. */
  readonly startSec: number
  /** Bucket width in seconds; forecasters need it to divide a day (60, 300, 900, 3600 …). */
  readonly stepSeconds: number
  /** One value per bucket (e.g. mean requests/s); null marks a missing bucket. Never NaN. */
  readonly values: readonly (number | null)[]
}

/** A time window [startSec, endSec) in epoch seconds. */
export interface TimeWindow {
  readonly startSec: number
  readonly endSec: number
}

/** One finished bucket from a SeriesBucketer. */
export interface Bucket {
  /** Epoch seconds of the bucket's start. */
  readonly startSec: number
  /** Mean of the samples in the bucket, or null when none arrived. */
  readonly value: number | null
}

/** Options of bucketSeries. */
export interface BucketOptions {
  readonly stepSeconds: number
  /** Start of bucket 0; defaults to the first sample's time floored to a multiple of the step. */
  readonly startSec?: number
  /** End of the last bucket (exclusive); defaults to just after the last sample. */
  readonly endSec?: number
}

/**
 * Buckets irregular samples by mean: `timesSec[i]` (epoch seconds, any order) with `values[i]`.
 * Non-finite values and samples outside [startSec, endSec) are ignored; buckets with no sample
 * are null. Empty input gives an empty series.
 */
export function bucketSeries(timesSec: ArrayLike<number>, values: ArrayLike<number>, options: BucketOptions): Series {
  const step = validStep(options.stepSeconds)
  if (timesSec.length !== values.length) throw new RangeError(`bucketSeries: ${timesSec.length} times but ${values.length} values`)
  const span = timeSpan(timesSec)
  if (span === undefined && (options.startSec === undefined || options.endSec === undefined)) {
    return { startSec: options.startSec ?? 0, stepSeconds: step, values: [] }
  }
  const startSec = options.startSec ?? Math.floor((span?.first ?? 0) / step) * step
  const endSec = options.endSec ?? (span?.last ?? 0) + 1
  const count = Math.max(0, Math.ceil((endSec - startSec) / step))
  return { startSec, stepSeconds: step, values: bucketMeans(timesSec, values, { startSec, endSec, step, count }) }
}

/** Mean of the finite samples within [startSec, endSec) in each of `count` buckets; null where none. */
function bucketMeans(timesSec: ArrayLike<number>, values: ArrayLike<number>, range: { startSec: number; endSec: number; step: number; count: number }): (number | null)[] {
  const { startSec, endSec, step, count } = range
  const sums = new Float64Array(count)
  const counts = new Uint32Array(count)
  for (let i = 0; i < timesSec.length; i++) {
    const t = timesSec[i] ?? Number.NaN
    const v = values[i] ?? Number.NaN
    if (!Number.isFinite(v) || !(t >= startSec && t < endSec)) continue
    const b = Math.floor((t - startSec) / step)
    sums[b] = (sums[b] ?? 0) + v
    counts[b] = (counts[b] ?? 0) + 1
  }
  return Array.from(sums, (sum, b) => ((counts[b] ?? 0) === 0 ? null : sum / (counts[b] ?? 1)))
}

/** The earliest and latest finite time, or undefined when there is none. */
function timeSpan(timesSec: ArrayLike<number>): { first: number; last: number } | undefined {
  let first = Infinity
  let last = -Infinity
  for (let i = 0; i < timesSec.length; i++) {
    const t = timesSec[i] ?? Number.NaN
    if (!Number.isFinite(t)) continue
    first = Math.min(first, t)
    last = Math.max(last, t)
  }
  return first === Infinity ? undefined : { first, last }
}

/**
 * Incremental bucketing for a live feed (the controller's ticks, the simulator's seconds):
 * `add(atSec, value)` returns the buckets that the new sample closed, oldest first, with null
 * for every bucket skipped without data. Samples must come in time order; a sample older than
 * the open bucket is ignored. O(1) per sample plus one entry per closed bucket.
 */
export class SeriesBucketer {
  /** Bucket width in seconds. */
  readonly stepSeconds: number
  #openStartSec: number | undefined
  #sum = 0
  #count = 0

  constructor(stepSeconds: number) {
    this.stepSeconds = validStep(stepSeconds)
  }

  /** Start of the bucket now being filled, or undefined before the first sample. */
  get openStartSec(): number | undefined {
    return this.#openStartSec
  }

  /** Adds one sample; returns the buckets it closed. Non-finite values count as no sample. */
  add(atSec: number, value: number): Bucket[] {
    if (!Number.isFinite(atSec)) return []
    const bucketStart = Math.floor(atSec / this.stepSeconds) * this.stepSeconds
    const closed: Bucket[] = []
    if (this.#openStartSec === undefined) {
      this.#openStartSec = bucketStart
    } else if (bucketStart < this.#openStartSec) {
      return []
    } else {
      closed.push(...this.#closeUntil(bucketStart))
    }
    if (Number.isFinite(value)) {
      this.#sum += value
      this.#count += 1
    }
    return closed
  }

  /** Closes every bucket that ends at or before `atSec` (a clock tick with no sample); returns them. */
  flush(atSec: number): Bucket[] {
    if (this.#openStartSec === undefined) return []
    const bucketStart = Math.floor(atSec / this.stepSeconds) * this.stepSeconds
    return bucketStart > this.#openStartSec ? this.#closeUntil(bucketStart) : []
  }

  #closeUntil(bucketStart: number): Bucket[] {
    const out: Bucket[] = []
    let open = this.#openStartSec ?? bucketStart
    while (open < bucketStart) {
      out.push({ startSec: open, value: this.#count === 0 ? null : this.#sum / this.#count })
      this.#sum = 0
      this.#count = 0
      open += this.stepSeconds
    }
    this.#openStartSec = open
    return out
  }
}

/**
 * A copy of `series` with every bucket whose start lies in one of `windows` set to null:
 * past campaigns are blanked so that the baseline forecaster learns ordinary days, and the
 * forecaster imputes those buckets from its own model.
 */
export function maskWindows(series: Series, windows: readonly TimeWindow[]): Series {
  if (windows.length === 0) return series
  const values = series.values.map((v, i) => {
    const t = series.startSec + i * series.stepSeconds
    return windows.some((w) => t >= w.startSec && t < w.endSec) ? null : v
  })
  return { ...series, values }
}

/** The buckets [fromIndex, toIndex) of a series as a series of their own. */
export function sliceSeries(series: Series, fromIndex: number, toIndex = series.values.length): Series {
  const from = Math.max(0, Math.min(series.values.length, fromIndex))
  const to = Math.max(from, Math.min(series.values.length, toIndex))
  return { startSec: series.startSec + from * series.stepSeconds, stepSeconds: series.stepSeconds, values: series.values.slice(from, to) }
}

/** Seconds of data present: non-null buckets × step. What "history" means for insufficient-history. */
export function observedSeconds(series: Series): number {
  let n = 0
  for (const v of series.values) if (v !== null) n++
  return n * series.stepSeconds
}

function validStep(stepSeconds: number): number {
  if (!(stepSeconds > 0) || !Number.isFinite(stepSeconds)) throw new RangeError(`stepSeconds must be a positive number, got ${stepSeconds}`)
  return stepSeconds
}
