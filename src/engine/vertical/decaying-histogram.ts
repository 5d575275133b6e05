/**
 * The Kubernetes VPA's decaying histogram, in TypeScript
 * (kubernetes/autoscaler vertical-pod-autoscaler/pkg/recommender/util/decaying_histogram.go,
 * histogram.go, histogram_options.go). It approximates the distribution of a usage value
 * (cpu cores, memory MiB) while forgetting the past: a sample's weight is multiplied by
 * 2^((t − ref)/halfLife), so a sample one half-life older than another counts half as much.
 * Only relative weights matter, so `ref` may be moved at any time by rescaling every bucket;
 * it is moved forward whenever the exponent would exceed 100, to keep the weights finite.
 *
 * Pure and deterministic: time is an argument (epoch ms), never read from a clock.
 */
import { TideError } from '../../errors.ts'

/**
 * Bucket layout of an exponential histogram. Bucket 0 covers [0, firstBucketSize); bucket n
 * has width firstBucketSize × ratio^n and so starts at firstBucketSize × (ratio^n − 1)/(ratio − 1).
 * The last bucket starts at or above `maxValue` and has no upper bound.
 */
export interface HistogramOptions {
  /** The largest value the histogram resolves; larger values land in the last bucket. */
  readonly maxValue: number
  /** Width of the first bucket, in the unit of the values. */
  readonly firstBucketSize: number
  /** Growth of each bucket's width over the previous one; > 1. The VPA uses 1.05 (5 % resolution). */
  readonly ratio: number
  /** A bucket whose weight is below this counts as empty (the VPA uses 0.0001). */
  readonly epsilon: number
}

/** The VPA's cpu histogram (recommender/model/aggregations_config.go), in cores: 0.01 core first bucket up to 1000 cores. */
export const cpuHistogramOptions: HistogramOptions = { maxValue: 1000, firstBucketSize: 0.01, ratio: 1.05, epsilon: 0.0001 }

/** The VPA's memory histogram (first bucket 1e7 bytes, up to 1 TB), in MiB: 10 MiB first bucket up to 1 TiB. */
export const memoryHistogramOptions: HistogramOptions = { maxValue: 1024 * 1024, firstBucketSize: 10, ratio: 1.05, epsilon: 0.0001 }

/** When the decay factor would exceed 2^maxDecayExponent the reference time moves forward (as the VPA). */
const maxDecayExponent = 100

/** A persisted histogram (DecayingHistogramJSON) is malformed, from other options, or has negative weights; the message names the field (code TIDE_ERR_HISTOGRAM_STATE). */
export class HistogramStateError extends TideError {
  constructor(message: string) {
    super('TIDE_ERR_HISTOGRAM_STATE', `decaying histogram: ${message}`)
  }
}

/** Validates options and returns the number of buckets: ceil(log_ratio(maxValue·(ratio−1)/first + 1)) + 1. */
export function bucketCount(options: HistogramOptions): number {
  const { maxValue, firstBucketSize, ratio, epsilon } = options
  if (!(maxValue > 0 && firstBucketSize > 0 && ratio > 1 && epsilon > 0)) {
    throw new RangeError('histogram options: maxValue, firstBucketSize and epsilon must be > 0 and ratio > 1')
  }
  return Math.ceil(Math.log((maxValue * (ratio - 1)) / firstBucketSize + 1) / Math.log(ratio)) + 1
}

/** Start of bucket `index` (0 for bucket 0): firstBucketSize × (ratio^index − 1)/(ratio − 1). */
export function bucketStart(options: HistogramOptions, index: number): number {
  if (index <= 0) return 0
  return (options.firstBucketSize * (options.ratio ** index - 1)) / (options.ratio - 1)
}

/**
 * The bucket a value falls into; values below 0 go to bucket 0 and values past the
 * last bucket's start to the last bucket. The logarithm is corrected by one step either
 * way so that a value exactly on a boundary lands in the bucket that starts there.
 */
export function bucketIndex(options: HistogramOptions, value: number, count = bucketCount(options)): number {
  if (!(value >= options.firstBucketSize)) return 0
  let index = Math.floor(Math.log((value * (options.ratio - 1)) / options.firstBucketSize + 1) / Math.log(options.ratio))
  if (index + 1 < count && bucketStart(options, index + 1) <= value) index += 1
  if (index > 0 && bucketStart(options, index) > value) index -= 1
  return Math.min(index, count - 1)
}

/** The persisted form of a DecayingHistogram: only non-empty buckets, as [index, weight] pairs. */
export interface DecayingHistogramJSON {
  readonly version: 1
  readonly options: HistogramOptions
  readonly halfLifeMs: number
  /** The reference time of the weights, epoch ms; always a multiple of halfLifeMs. */
  readonly referenceMs: number
  readonly buckets: readonly (readonly [number, number])[]
}

/**
 * A histogram whose samples lose half their weight every `halfLifeMs`.
 * `percentile(p)` returns the END of the bucket holding the p-quantile (as the VPA does), so
 * it errs upward by at most one bucket width (5 % with the default options).
 */
export class DecayingHistogram {
  /** The bucket layout. */
  readonly options: HistogramOptions
  /** Decay half-life in milliseconds. */
  readonly halfLifeMs: number
  readonly #weights: Float64Array
  #totalWeight = 0
  #referenceMs = 0
  /** First bucket with weight ≥ epsilon, or the last bucket when empty. */
  #minBucket: number
  /** Last bucket with weight ≥ epsilon, or 0 when empty. */
  #maxBucket = 0

  constructor(options: HistogramOptions, halfLifeMs: number) {
    if (!(halfLifeMs > 0) || !Number.isFinite(halfLifeMs)) throw new RangeError(`halfLifeMs must be a positive number, got ${halfLifeMs}`)
    this.options = { ...options }
    this.halfLifeMs = halfLifeMs
    this.#weights = new Float64Array(bucketCount(options))
    this.#minBucket = this.#weights.length - 1
  }

  /** The sum of all (decayed) weights, relative to the reference time; only ratios are meaningful. */
  get totalWeight(): number {
    return this.#totalWeight
  }

  /** The current reference time, epoch ms. */
  get referenceMs(): number {
    return this.#referenceMs
  }

  /** True when no bucket holds at least epsilon of weight. */
  isEmpty(): boolean {
    return (this.#weights[this.#minBucket] ?? 0) < this.options.epsilon
  }

  /**
   * Adds `value` with `weight` (≥ 0; the VPA weights cpu samples by the container's request)
   * observed at `timeMs`. Non-finite values and weights are ignored rather than poisoning the sums.
   */
  addSample(value: number, weight: number, timeMs: number): void {
    if (weight < 0) throw new RangeError(`sample weight must be non-negative, got ${weight}`)
    if (!Number.isFinite(value) || !Number.isFinite(weight) || !Number.isFinite(timeMs)) return
    const decayed = weight * this.#decayFactor(timeMs)
    const bucket = bucketIndex(this.options, value, this.#weights.length)
    this.#weights[bucket] = (this.#weights[bucket] ?? 0) + decayed
    this.#totalWeight += decayed
    const filled = (this.#weights[bucket] ?? 0) >= this.options.epsilon
    if (filled && bucket < this.#minBucket) this.#minBucket = bucket
    if (filled && bucket > this.#maxBucket) this.#maxBucket = bucket
  }

  /**
   * The value below which a fraction `p` (0–1) of the weight lies: the end of the bucket where
   * the running sum first reaches p × total (the start of the last bucket when that is the one).
   * 0 for an empty histogram.
   */
  percentile(p: number): number {
    if (this.isEmpty()) return 0
    const threshold = p * this.#totalWeight
    let sum = 0
    let bucket = this.#minBucket
    for (; bucket < this.#maxBucket; bucket++) {
      sum += this.#weights[bucket] ?? 0
      if (sum >= threshold) break
    }
    if (bucket < this.#weights.length - 1) return bucketStart(this.options, bucket + 1)
    return bucketStart(this.options, bucket)
  }

  /**
   * Adds every sample of `other` (same options and half-life) into this histogram, first
   * aligning the older reference time with the younger one.
   */
  merge(other: DecayingHistogram): void {
    if (other.halfLifeMs !== this.halfLifeMs || !sameOptions(other.options, this.options)) {
      throw new RangeError('cannot merge decaying histograms with different options or half-lives')
    }
    const otherJson = other.toJSON()
    if (otherJson.referenceMs > this.#referenceMs) this.#shiftReference(otherJson.referenceMs)
    const factor = 2 ** Math.round((otherJson.referenceMs - this.#referenceMs) / this.halfLifeMs)
    for (const [index, weight] of otherJson.buckets) {
      this.#weights[index] = (this.#weights[index] ?? 0) + weight * factor
      this.#totalWeight += weight * factor
    }
    this.#updateMinMax()
  }

  /** A JSON-safe snapshot for the controller to persist; `fromJSON` restores it exactly. */
  toJSON(): DecayingHistogramJSON {
    const buckets: [number, number][] = []
    for (let i = 0; i < this.#weights.length; i++) {
      const w = this.#weights[i] ?? 0
      if (w > 0) buckets.push([i, w])
    }
    return { version: 1, options: { ...this.options }, halfLifeMs: this.halfLifeMs, referenceMs: this.#referenceMs, buckets }
  }

  /** Restores a snapshot made by `toJSON`. Throws HistogramStateError naming the bad field. */
  static fromJSON(json: unknown): DecayingHistogram {
    const j = validState(json)
    const h = new DecayingHistogram(j.options, j.halfLifeMs)
    h.#referenceMs = j.referenceMs
    for (const [k, pair] of j.buckets.entries()) {
      const [index, weight] = validBucket(pair, k, h.#weights.length)
      h.#weights[index] = (h.#weights[index] ?? 0) + weight
      h.#totalWeight += weight
    }
    h.#updateMinMax()
    return h
  }

  /** 2^((t − ref)/halfLife), moving `ref` forward first if the exponent would exceed maxDecayExponent. */
  #decayFactor(timeMs: number): number {
    if (timeMs > this.#referenceMs + this.halfLifeMs * maxDecayExponent) this.#shiftReference(timeMs)
    return 2 ** ((timeMs - this.#referenceMs) / this.halfLifeMs)
  }

  /**
   * Moves the reference to `newReferenceMs` rounded to a multiple of the half-life, multiplying
   * every weight by 2^((old − new)/halfLife); percentiles are unchanged by a uniform scale.
   */
  #shiftReference(newReferenceMs: number): void {
    const rounded = Math.round(newReferenceMs / this.halfLifeMs) * this.halfLifeMs
    const exponent = Math.round((this.#referenceMs - rounded) / this.halfLifeMs)
    const factor = 2 ** exponent
    for (let i = 0; i < this.#weights.length; i++) this.#weights[i] = (this.#weights[i] ?? 0) * factor
    this.#totalWeight *= factor
    this.#referenceMs = rounded
    this.#updateMinMax()
  }

  /** Recomputes the first and last non-empty buckets (weight ≥ epsilon). */
  #updateMinMax(): void {
    const eps = this.options.epsilon
    const last = this.#weights.length - 1
    this.#minBucket = last
    this.#maxBucket = 0
    for (let i = 0; i <= last; i++) {
      if ((this.#weights[i] ?? 0) >= eps) {
        if (i < this.#minBucket) this.#minBucket = i
        this.#maxBucket = i
      }
    }
  }
}

/** Checks the shape of a persisted histogram; bucket entries are checked one by one by validBucket. */
function validState(json: unknown): Omit<DecayingHistogramJSON, 'buckets'> & { buckets: readonly unknown[] } {
  const j = json as Partial<Record<keyof DecayingHistogramJSON, unknown>> | null
  if (j === null || typeof j !== 'object') throw new HistogramStateError('state is not an object')
  if (j.version !== 1) throw new HistogramStateError(`unsupported version ${String(j.version)}`)
  const o = j.options as Partial<Record<keyof HistogramOptions, unknown>> | undefined
  const numeric = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
  if (o === undefined || !numeric(o.maxValue) || !numeric(o.firstBucketSize) || !numeric(o.ratio) || !numeric(o.epsilon)) {
    throw new HistogramStateError('options must hold numeric maxValue, firstBucketSize, ratio and epsilon')
  }
  const options: HistogramOptions = { maxValue: o.maxValue, firstBucketSize: o.firstBucketSize, ratio: o.ratio, epsilon: o.epsilon }
  try {
    bucketCount(options)
  } catch (err) {
    throw new HistogramStateError(`options: ${(err as Error).message}`)
  }
  if (!numeric(j.halfLifeMs) || j.halfLifeMs <= 0) throw new HistogramStateError('halfLifeMs must be a positive number')
  if (!numeric(j.referenceMs)) throw new HistogramStateError('referenceMs must be a finite number')
  if (!Array.isArray(j.buckets)) throw new HistogramStateError('buckets must be an array of [index, weight]')
  return { version: 1, options, halfLifeMs: j.halfLifeMs, referenceMs: j.referenceMs, buckets: j.buckets as unknown[] }
}

/** One persisted [index, weight] pair, checked against the bucket count. */
function validBucket(pair: unknown, k: number, count: number): [number, number] {
  const [index, weight] = (Array.isArray(pair) ? pair : []) as unknown[]
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new HistogramStateError(`buckets[${k}]: index ${String(index)} out of range 0..${count - 1}`)
  }
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new HistogramStateError(`buckets[${k}]: weight must be a finite number ≥ 0`)
  return [index, weight]
}

function sameOptions(a: HistogramOptions, b: HistogramOptions): boolean {
  return a.maxValue === b.maxValue && a.firstBucketSize === b.firstBucketSize && a.ratio === b.ratio && a.epsilon === b.epsilon
}
