/**
 * A latency histogram with logarithmic buckets: constant memory, O(1) recording,
 * mergeable across router workers by adding counts (HdrHistogram's idea, coarser).
 */

/** Each bucket's upper bound is GROWTH times the previous one: percentiles are within +5 % of the truth. */
const GROWTH = 1.05
const INV_LOG_GROWTH = 1 / Math.log(GROWTH)
/** Buckets cover 1 µs to 1.05^399 µs ≈ 2.9 × 10^8 µs (≈ 4.8 min); longer latencies land in the last one. */
const BUCKETS = 400

/** The upper bound of bucket i, in milliseconds. */
function bucketUpperMs(i: number): number {
  return GROWTH ** i / 1000
}

/** Sparse form for IPC: [bucket index, count] pairs of non-empty buckets. */
export type SparseHistogram = readonly (readonly [number, number])[]

/** Latencies of one window, in milliseconds. */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS)
  #total = 0

  /** Number of recorded latencies. */
  get count(): number {
    return this.#total
  }

  /** Records one latency in milliseconds; negative or NaN values count as 0. */
  record(latencyMs: number): void {
    const us = latencyMs * 1000
    const i = us > 1 ? Math.min(BUCKETS - 1, Math.ceil(Math.log(us) * INV_LOG_GROWTH)) : 0
    this.#counts[i] = (this.#counts[i] ?? 0) + 1
    this.#total++
  }

  /**
   * The latency at or below which `percentile` % of the recorded ones fall, in ms,
   * reported as its bucket's upper bound (so never an underestimate, at most 5 % over).
   * Undefined when nothing was recorded: no traffic is not zero latency.
   */
  percentileMs(percentile: number): number | undefined {
    if (this.#total === 0) return undefined
    const rank = Math.max(1, Math.ceil((percentile / 100) * this.#total))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0
      if (seen >= rank) return bucketUpperMs(i)
    }
    return bucketUpperMs(BUCKETS - 1)
  }

  /** Adds another histogram's counts (a worker's window) to this one. */
  merge(sparse: SparseHistogram): void {
    for (const [i, n] of sparse) {
      if (i < 0 || i >= BUCKETS) continue
      this.#counts[i] = (this.#counts[i] ?? 0) + n
      this.#total += n
    }
  }

  /** The non-empty buckets, for sending to the primary. */
  toSparse(): SparseHistogram {
    const out: [number, number][] = []
    for (let i = 0; i < BUCKETS; i++) {
      const n = this.#counts[i] ?? 0
      if (n > 0) out.push([i, n])
    }
    return out
  }

  /** Empties the histogram for the next window. */
  reset(): void {
    this.#counts.fill(0)
    this.#total = 0
  }
}
