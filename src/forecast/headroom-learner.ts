/**
 * Learned headroom: how far the demand rises within the controller's own reaction time, so
 * that a group keeps exactly the spare capacity its SLO's violation budget allows (issue 9;
 * docs/forecasting.md "Learned headroom").
 *
 * The model. Capacity sized at a decision serves from one start-up later: the instances it
 * launches are ready then. Scale-in is deliberate (a stabilization window W), so the capacity
 * serving at second s is the highest sizing of the decisions in [s − lag − W, s − lag], where
 * lag is the reaction time (measured start-up + metric delay). Each second of demand L(s) is
 * therefore compared with that reference demand m(s), and the ratio r(s) = L(s) / m(s) is
 * recorded, weighted by its duration. A headroom h with capacity = m × (1 + h) leaves exactly
 * the seconds with r > 1 + h short of capacity, so the (1 − budget) quantile of r is the
 * headroom that holds the budget: a share of time, as the SLO's budget is.
 *
 * - Time of day: ratios are kept per UTC hour of the day, and a group's headroom at hour H is
 *   the quantile over hours H − 1 … H + 1 once those hours hold `minHourSeconds`; until then,
 *   over the whole window. Nights of a small site can be bursty and afternoons smooth.
 * - Window: one histogram per day, the last `windowDays` days, so it adapts as the traffic
 *   changes and forgets what is older.
 * - Before `minHistorySeconds` of ratios exist, `estimate` says so (source 'default') and the
 *   caller uses its safe default.
 * - Ratios are binned on a log scale with 1 % steps from 1 to 64 (one bin below 1, the last bin
 *   holds everything above), so a quantile is exact to about 1 % of headroom.
 *
 * Pure: no I/O, no clock. The controller passes times. Memory: windowDays + 1 days × 24 hours ×
 * 420 bins of float32 (40 KB a day).
 */

/** Options of a learner; every field has a default. */
export interface HeadroomLearnerOptions {
  /** Share of time allowed above capacity, percent (the SLO's budgetPercent). Default 0.5. */
  readonly budgetPercent?: number
  /** Days of history kept. Default 7. */
  readonly windowDays?: number
  /** Seconds of ratios needed before the learned headroom is used. Default 3600. */
  readonly minHistorySeconds?: number
  /** Seconds needed in hours H − 1 … H + 1 before hour H gets its own headroom. Default 2 days × 3 hours. */
  readonly minHourSeconds?: number
}

/** What the learner says now. */
export interface HeadroomEstimate {
  /** 'learned' once enough history exists; 'default' before (the caller's safe default applies). */
  readonly source: 'learned' | 'default'
  /** The quantile of ratios, minus 1: capacity = demand × (1 + headroom). Absent with source 'default'. */
  readonly headroom?: number
  /** The quantile covered, e.g. 0.995 for a 0.5 % budget. */
  readonly quantile: number
  /** 'hour-of-day' when hours H − 1 … H + 1 had enough history, else 'all'. */
  readonly scope: 'hour-of-day' | 'all'
  /** The UTC hour of the estimate. */
  readonly hour: number
  /** Seconds of ratios the quantile was taken over. */
  readonly historySeconds: number
  /** Seconds needed before the learned headroom is used (minHistorySeconds). */
  readonly neededSeconds: number
  readonly windowDays: number
  /** The reaction time the latest ratios were measured over, seconds. */
  readonly lagSeconds: number
}

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
const BIN_LOG = Math.log(1.01)
/** Bin 0 holds ratios below 1; bin i ≥ 1 holds [1.01^(i−1), 1.01^i); the last bin holds the rest (up to 64 and above). */
const BINS = 1 + Math.ceil(Math.log(64) / BIN_LOG)

/** The bin of a ratio (see BINS). */
export function ratioBin(ratio: number): number {
  if (!(ratio >= 1)) return 0
  return Math.min(BINS - 1, 1 + Math.floor(Math.log(ratio) / BIN_LOG + 1e-9))
}

/** The upper edge of a bin, the ratio a quantile in that bin is read as (rounding up: the safe side). */
export function binUpperRatio(bin: number): number {
  return bin <= 0 ? 1 : Math.exp(bin * BIN_LOG)
}

/** One day's ratios: per UTC hour, weights (seconds) per bin. */
interface DayHistogram {
  readonly day: number
  readonly hours: Float32Array
}

/** A past decision: when, and the demand it sized capacity for. */
interface Reference {
  readonly atMs: number
  readonly rps: number
}

/** Learns a group's headroom from its demand (see the module comment). */
export class HeadroomLearner {
  readonly #budget: number
  readonly #windowDays: number
  readonly #minHistorySeconds: number
  readonly #minHourSeconds: number
  readonly #days: DayHistogram[] = []
  /** Σ over the kept days, per hour and bin; rebuilt when a day is dropped. */
  readonly #totals = new Float64Array(24 * BINS)
  /** Decisions not yet older than lag + window, oldest first. */
  readonly #refs: Reference[] = []
  #lagMs = 0
  #lastDemandMs = -Infinity

  constructor(options: HeadroomLearnerOptions = {}) {
    this.#budget = (options.budgetPercent ?? 0.5) / 100
    this.#windowDays = options.windowDays ?? 7
    this.#minHistorySeconds = options.minHistorySeconds ?? 3600
    this.#minHourSeconds = options.minHourSeconds ?? 2 * 3 * 3600
  }

  /** The quantile of ratios a headroom must cover: 1 − budget. */
  get quantile(): number {
    return 1 - this.#budget
  }

  /** Records the demand a decision at `atMs` sized capacity for (the window mean it read). */
  noteDecision(atMs: number, demandRps: number): void {
    if (!Number.isFinite(demandRps) || demandRps < 0) return
    const last = this.#refs.at(-1)
    if (last !== undefined && atMs <= last.atMs) return
    this.#refs.push({ atMs, rps: demandRps })
  }

  /**
   * Records measured demand: `values[i]` is the demand (requests/s) of the step ending at
   * endMs − (n − 1 − i) × stepMs. `lagMs` is the reaction time now and `windowMs` the
   * scale-down stabilization window (module comment). Steps at or before the last recorded one
   * are ignored, so overlapping windows are safe.
   */
  observeDemand(endMs: number, stepMs: number, values: ArrayLike<number>, lagMs: number, windowMs: number): void {
    this.#lagMs = lagMs
    const n = values.length
    for (let i = 0; i < n; i++) {
      const atMs = endMs - (n - 1 - i) * stepMs
      if (atMs <= this.#lastDemandMs) continue
      this.#lastDemandMs = atMs
      const value = values[i]
      if (value === undefined || !Number.isFinite(value) || value < 0) continue
      const reference = this.#referenceAt(atMs - lagMs, windowMs)
      if (reference === undefined || reference <= 0) continue
      this.#add(atMs, value / reference, stepMs / 1000)
    }
    this.#prune(this.#lastDemandMs - lagMs - windowMs)
  }

  /** The highest decision demand in [untilMs − windowMs, untilMs], undefined before the first decision. */
  #referenceAt(untilMs: number, windowMs: number): number | undefined {
    let best: number | undefined
    // Decisions are few per window (a window of 60 s holds 4 at a 15 s sync period), so a scan is cheap.
    for (let i = this.#refs.length - 1; i >= 0; i--) {
      const r = this.#refs[i]
      if (r === undefined) continue
      if (r.atMs > untilMs) continue
      if (r.atMs < untilMs - windowMs) {
        // The decision in force at untilMs, when none was made within the window.
        if (best === undefined) best = r.rps
        break
      }
      if (best === undefined || r.rps > best) best = r.rps
    }
    return best
  }

  /** Drops decisions that can no longer be a reference: keeps the newest one at or before `beforeMs`. */
  #prune(beforeMs: number): void {
    let drop = 0
    while (drop + 1 < this.#refs.length && (this.#refs[drop + 1]?.atMs ?? Infinity) <= beforeMs) drop++
    if (drop > 0) this.#refs.splice(0, drop)
  }

  #add(atMs: number, ratio: number, weight: number): void {
    const day = Math.floor(atMs / DAY_MS)
    let current = this.#days.at(-1)
    if (current === undefined || current.day < day) {
      current = { day, hours: new Float32Array(24 * BINS) }
      this.#days.push(current)
      this.#dropOldDays(day)
    } else if (current.day > day) {
      return // a clock that went back: ignore rather than corrupt the window
    }
    const index = Math.floor((atMs % DAY_MS) / HOUR_MS) * BINS + ratioBin(ratio)
    current.hours[index] = (current.hours[index] ?? 0) + weight
    this.#totals[index] = (this.#totals[index] ?? 0) + weight
  }

  #dropOldDays(today: number): void {
    const keepFrom = today - this.#windowDays
    const before = this.#days.length
    while ((this.#days[0]?.day ?? Infinity) < keepFrom) this.#days.shift()
    if (this.#days.length === before) return
    this.#totals.fill(0)
    for (const d of this.#days) for (let i = 0; i < d.hours.length; i++) this.#totals[i] = (this.#totals[i] ?? 0) + (d.hours[i] ?? 0)
  }

  /** The headroom for `nowMs`'s hour of day, or source 'default' while the history is short. */
  estimate(nowMs: number): HeadroomEstimate {
    const hour = Math.floor((((nowMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)
    const base = { quantile: this.quantile, hour, neededSeconds: this.#minHistorySeconds, windowDays: this.#windowDays, lagSeconds: this.#lagMs / 1000 }
    const near = this.#histogram([(hour + 23) % 24, hour, (hour + 1) % 24])
    if (near.total >= this.#minHourSeconds) return { ...base, source: 'learned', headroom: quantileOf(near, this.quantile) - 1, scope: 'hour-of-day', historySeconds: near.total }
    const all = this.#histogram(Array.from({ length: 24 }, (_, h) => h))
    if (all.total >= this.#minHistorySeconds) return { ...base, source: 'learned', headroom: quantileOf(all, this.quantile) - 1, scope: 'all', historySeconds: all.total }
    return { ...base, source: 'default', scope: 'all', historySeconds: all.total }
  }

  #histogram(hours: readonly number[]): { bins: Float64Array; total: number } {
    const bins = new Float64Array(BINS)
    let total = 0
    for (const h of hours) {
      const offset = h * BINS
      for (let b = 0; b < BINS; b++) {
        const w = this.#totals[offset + b] ?? 0
        if (w <= 0) continue
        bins[b] = (bins[b] ?? 0) + w
        total += w
      }
    }
    return { bins, total }
  }
}

/** The ratio at quantile q of a binned histogram, read at the upper edge of its bin. */
function quantileOf(h: { bins: Float64Array; total: number }, q: number): number {
  const target = q * h.total
  let seen = 0
  for (let b = 0; b < h.bins.length; b++) {
    seen += h.bins[b] ?? 0
    if (seen >= target - 1e-9) return binUpperRatio(b)
  }
  return binUpperRatio(h.bins.length - 1)
}
