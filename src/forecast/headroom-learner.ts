/**
 * Learned headroom: how far the demand rises within the controller's own reaction time, so
 * that a group keeps exactly the spare capacity its SLO's violation budget allows (issue 9;
 * docs/forecasting.md "Learned headroom").
 *
 * The model. A decision at time t sizes capacity for a reference demand; the instances it
 * launches serve from one reaction time (lag: the measured start-up) later, and scale-in is held
 * back for a hold window W, so the capacity serving at second s was sized for the highest
 * reference of the decisions in [s − lag − W, s − lag]. Each second of demand L(s) is compared
 * with that reference m(s), and the ratio r(s) = L(s) / m(s) is recorded, weighted by its
 * duration. A headroom h with capacity = m × (1 + h) leaves exactly the seconds with r > 1 + h
 * short of capacity, so the (1 − budget) quantile of r is the headroom that holds the budget: a
 * share of time, as the SLO's budget is.
 *
 * Spending the budget. Capacity comes in whole instances, held up by stabilization and raised early
 * by the fast path, so the capacity in force is usually above reference × (1 + headroom), and a
 * quantile of 1 − budget alone would leave much of the budget unspent (a small fleet rounds up by
 * a third). The learner therefore also measures what the capacity really did: each second of
 * demand is compared with the capacity the decisions put in service (noteCapacity: the least count
 * of the last lag, since new instances serve one lag after their decision and removed ones stop at
 * once). Demand ÷ that capacity × (1 + the headroom in force) is the second's effective ratio: the
 * ratio the headroom would have had to cover, rounding and the fast path included; they are kept
 * per hour of day in a moving histogram (a 1-day time constant). A second whose effective ratio
 * lies in bin b is short at quantile q exactly when the share of reference ratios above bin b − 1
 * (read where that hour's headroom is read) is at most 1 − q: its level. Every CHOOSE_EVERY_MS the
 * learner sets quantile = 1 − budget × f with budget × f the level below which SPEND_TARGET of the
 * budget's share of seconds lie, f within [F_MIN, F_MAX] and changed by at most MAX_STEP a step.
 * f is computed from what was measured, not accumulated from an error: steering f by the error
 * of a moving share of short seconds (an integral of an integral) swung the headroom between 4 %
 * and 130 % within a day on bursty traffic, at 4–15 % more cost (docs/bench.md, issue 9).
 * Budget overspent over the last day (the seconds short of capacity, in the same moving weights)
 * is paid back: the aim falls by √(aim ÷ spent), to a quarter of it at most. Measured over the
 * bench's 21 trace × setting runs: without payback a cold start or a novel kind of rise left
 * two runs above the budget that this keeps within it; paying back in full proportion kept
 * the same runs at 1–4 % more cost.
 *
 * Which reference. Sizing on the last sync window's demand chases every noisy minute (and pays a
 * start-up for each); sizing on a smoother demand (a mean over minutes) or holding capacity
 * longer needs more headroom but moves less. The learner keeps the ratios of every candidate
 * (smoothing S × hold W, see CANDIDATES) side by side and keeps the one whose capacity,
 * mean reference × (1 + its headroom), is least over the window: measured on the group's own
 * traffic, not tuned. The choice is reconsidered every CHOOSE_EVERY_MS, and a candidate must beat
 * the one in use by SWITCH_MARGIN to replace it.
 *
 * - Time of day: ratios are kept per UTC hour of the day, and the headroom at hour H is the
 *   quantile over hours H − 1 … H + 1 once those hours hold `minHourSeconds`; until then, over
 *   the whole window. Nights of a small site can be bursty and afternoons smooth.
 * - Window: one histogram per day, the last `windowDays` days, so it adapts as the traffic
 *   changes and forgets what is older.
 * - Before `minHistorySeconds` of ratios exist, `estimate` says so (source 'default') and the
 *   caller uses its safe default.
 * - Ratios are binned on a log scale with 2 % steps from 1 to 64 (one bin for 1 and below; the
 *   last bin holds everything above), read at a bin's upper edge: the quantile errs on the safe side.
 *
 * Pure: no I/O, no clock; the controller passes times. Memory: per candidate, windowDays + 1
 * days × 24 hours × 212 bins of float32 (20 KB a day), so about 1.4 MB a group for 7 days.
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
  /** The controller's sync period, ms: the shortest smoothing (a decision reads one window). Default 15 s. */
  readonly syncMs?: number
}

/** What the learner says now. */
export interface HeadroomEstimate {
  /** 'learned' once enough history exists; 'default' before (the caller's safe default applies). */
  readonly source: 'learned' | 'default'
  /** The quantile of ratios, minus 1: capacity = reference × (1 + headroom). Absent with source 'default'. */
  readonly headroom?: number
  /**
   * The demand to size for now, requests/s: the highest smoothed demand of the decisions within
   * the hold window, the current one included. Absent with source 'default' (size on the signal).
   */
  readonly referenceRps?: number
  /** The smoothing of the reference in use: the mean demand over this many seconds. */
  readonly smoothingSeconds: number
  /** How long a reference holds capacity up (the hold window), seconds. */
  readonly holdSeconds: number
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
const BIN_LOG = Math.log(1.02)
/** Bin 0 holds ratios up to 1; bin i ≥ 1 holds (1.02^(i−1), 1.02^i]; the last bin holds the rest (64 and above). */
const BINS = 2 + Math.ceil(Math.log(64) / BIN_LOG)
/** A candidate must need this much less capacity than the one in use to replace it. */
const SWITCH_MARGIN = 0.03
/** Share of the budget the learner aims to spend: the rest is margin for what the model misses (queues, ramps within a second). */
const SPEND_TARGET = 0.8
/** Bounds of the budget factor f (quantile = 1 − budget × f). */
const F_MIN = 0.5
const F_MAX = 10
/** The most the budget factor changes in one step (every CHOOSE_EVERY_MS): ×2 in about 45 minutes. */
const MAX_STEP = 1.25
/** Time constant of the effective ratios' histogram, ms: a day, so that every hour of the day is in it. */
const EFFECTIVE_TAU_MS = 24 * 3_600_000
/** How long a computed quantile is reused, ms (a minute's ratios do not move it). */
const QUANTILE_REUSE_MS = 60_000
/** How often the candidate in use is reconsidered, ms. */
const CHOOSE_EVERY_MS = 15 * 60_000
/** Demand kept for smoothing, ms: the longest smoothing. */
const BUFFER_MS = 300_000

/** The candidates: smoothing (0 = one sync window) × hold window, ms. */
const CANDIDATES: readonly { readonly smoothMs: number; readonly holdMs: number }[] = [0, 60_000, 300_000].flatMap((smoothMs) => [60_000, 300_000, 900_000].map((holdMs) => ({ smoothMs, holdMs })))

/** The bin of a ratio (see BINS). */
export function ratioBin(ratio: number): number {
  if (!(ratio > 1 + 1e-9)) return 0
  return Math.min(BINS - 1, Math.max(1, Math.ceil(Math.log(ratio) / BIN_LOG - 1e-9)))
}

/** The upper edge of a bin, the ratio a quantile in that bin is read as (rounding up: the safe side). */
export function binUpperRatio(bin: number): number {
  return bin <= 0 ? 1 : Math.exp(bin * BIN_LOG)
}

/** One day's ratios of one candidate: per UTC hour, weights (seconds) per bin; and Σ reference × weight. */
interface DayHistogram {
  readonly day: number
  readonly hours: Float32Array
  referenceSum: number
  weight: number
}

/** A decision's reference demand for one candidate. */
interface Reference {
  readonly atMs: number
  readonly rps: number
}

/** One way of choosing the reference, and the ratios it would have seen. */
class Candidate {
  readonly smoothMs: number
  readonly holdMs: number
  readonly days: DayHistogram[] = []
  /** Σ over the kept days, per hour and bin; rebuilt when a day is dropped. */
  readonly totals = new Float64Array(24 * BINS)
  /** Σ over the kept days and every hour, per bin. */
  readonly allHours = new Float64Array(BINS)
  allWeight = 0
  /** Decisions not yet one lag old, oldest first. */
  readonly pending: Reference[] = []
  /** Decisions at least one lag old within the hold window, by decreasing demand (a monotonic deque). */
  readonly window: Reference[] = []
  /** The newest decision at least one lag old: the reference when none lies within the hold window. */
  latest: Reference | undefined

  constructor(smoothMs: number, holdMs: number) {
    this.smoothMs = smoothMs
    this.holdMs = holdMs
  }

  /** The reference capacity at `atMs` was sized for, given the lag (module comment). */
  referenceAt(atMs: number, lagMs: number): number | undefined {
    const ready = atMs - lagMs
    for (let r = this.pending[0]; r !== undefined && r.atMs <= ready; r = this.pending[0]) {
      this.pending.shift()
      // A monotonic deque: a newer reference at least as high makes the older ones irrelevant.
      for (let last = this.window.at(-1); last !== undefined && last.rps <= r.rps; last = this.window.at(-1)) this.window.pop()
      this.window.push(r)
      this.latest = r
    }
    for (let first = this.window[0]; first !== undefined && first.atMs < ready - this.holdMs; first = this.window[0]) this.window.shift()
    return this.window[0]?.rps ?? this.latest?.rps
  }

  /** Records one ratio at `atMs` (its UTC `day` and `hourOffset` = hour × BINS, computed once per step by the caller). */
  add(day: number, hourOffset: number, ratio: number, reference: number, weight: number, windowDays: number): void {
    let current = this.days.at(-1)
    if (current === undefined || current.day < day) {
      current = { day, hours: new Float32Array(24 * BINS), referenceSum: 0, weight: 0 }
      this.days.push(current)
      this.#dropOldDays(day, windowDays)
    } else if (current.day > day) {
      return // a clock that went back: ignore rather than corrupt the window
    }
    const bin = ratioBin(ratio)
    const index = hourOffset + bin
    current.hours[index] = (current.hours[index] ?? 0) + weight
    this.totals[index] = (this.totals[index] ?? 0) + weight
    this.allHours[bin] = (this.allHours[bin] ?? 0) + weight
    this.allWeight += weight
    current.referenceSum += reference * weight
    current.weight += weight
  }

  #dropOldDays(today: number, windowDays: number): void {
    const before = this.days.length
    while ((this.days[0]?.day ?? Infinity) < today - windowDays) this.days.shift()
    if (this.days.length === before) return
    this.totals.fill(0)
    this.allHours.fill(0)
    this.allWeight = 0
    for (const d of this.days) {
      for (let i = 0; i < d.hours.length; i++) {
        const w = d.hours[i] ?? 0
        this.totals[i] = (this.totals[i] ?? 0) + w
        this.allHours[i % BINS] = (this.allHours[i % BINS] ?? 0) + w
        this.allWeight += w
      }
    }
  }

  /** The weighted histogram over every hour of the day. */
  everyHour(): { bins: Float64Array; total: number } {
    return { bins: this.allHours, total: this.allWeight }
  }

  /** The weighted histogram over some hours of the day. */
  histogram(hours: readonly number[]): { bins: Float64Array; total: number } {
    const bins = new Float64Array(BINS)
    let total = 0
    for (const h of hours) {
      const offset = h * BINS
      for (let b = 0; b < BINS; b++) {
        const w = this.totals[offset + b] ?? 0
        if (w <= 0) continue
        bins[b] = (bins[b] ?? 0) + w
        total += w
      }
    }
    return { bins, total }
  }

  /** The candidate as plain data (HeadroomCandidateJSON): non-zero weights only. */
  toJSON(): HeadroomCandidateJSON {
    return {
      smoothMs: this.smoothMs,
      holdMs: this.holdMs,
      days: this.days.map((d) => ({ day: d.day, bins: sparse(d.hours), referenceSum: d.referenceSum, weight: d.weight })),
      totals: sparse(this.totals),
      allHours: sparse(this.allHours),
      allWeight: this.allWeight,
      pending: this.pending.map((r) => ({ ...r })),
      window: this.window.map((r) => ({ ...r })),
      ...(this.latest === undefined ? {} : { latest: { ...this.latest } }),
    }
  }

  /** Puts back what toJSON made (validated by the caller's readCandidate). */
  restore(j: HeadroomCandidateJSON): void {
    for (const d of j.days) {
      const hours = new Float32Array(24 * BINS)
      fill(hours, d.bins)
      this.days.push({ day: d.day, hours, referenceSum: d.referenceSum, weight: d.weight })
    }
    fill(this.totals, j.totals)
    fill(this.allHours, j.allHours)
    this.allWeight = j.allWeight
    this.pending.push(...j.pending.map((r) => ({ ...r })))
    this.window.push(...j.window.map((r) => ({ ...r })))
    this.latest = j.latest === undefined ? undefined : { ...j.latest }
  }

  /** Mean reference over the window, requests/s (0 with no history). */
  meanReference(): number {
    let sum = 0
    let weight = 0
    for (const d of this.days) {
      sum += d.referenceSum
      weight += d.weight
    }
    return weight > 0 ? sum / weight : 0
  }
}

/**
 * Recent demand steps (end time, length, requests/s) in a ring of typed arrays, oldest first: one
 * step a second costs no allocation. Grows when steps are shorter than a second.
 */
class DemandBuffer {
  #endMs = new Float64Array(512)
  #stepMs = new Float64Array(512)
  #rps = new Float64Array(512)
  #head = 0
  #size = 0

  push(endMs: number, stepMs: number, rps: number): void {
    if (this.#size === this.#endMs.length) this.#grow()
    const i = (this.#head + this.#size) % this.#endMs.length
    this.#endMs[i] = endMs
    this.#stepMs[i] = stepMs
    this.#rps[i] = rps
    this.#size++
  }

  /** The steps kept, oldest first, as [endMs, stepMs, rps]. */
  steps(): [number, number, number][] {
    const out: [number, number, number][] = []
    const cap = this.#endMs.length
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) % cap
      out.push([this.#endMs[i] ?? 0, this.#stepMs[i] ?? 0, this.#rps[i] ?? 0])
    }
    return out
  }

  /** Forgets the steps that ended before `beforeMs`. */
  dropBefore(beforeMs: number): void {
    while (this.#size > 0 && (this.#endMs[this.#head] ?? Infinity) < beforeMs) {
      this.#head = (this.#head + 1) % this.#endMs.length
      this.#size--
    }
  }

  /** The duration-weighted mean of the steps that ended in (fromMs, untilMs]; undefined with none. */
  mean(fromMs: number, untilMs: number): number | undefined {
    let sum = 0
    let weight = 0
    const cap = this.#endMs.length
    for (let k = this.#size - 1; k >= 0; k--) {
      const i = (this.#head + k) % cap
      const endMs = this.#endMs[i] ?? 0
      if (endMs <= fromMs) break
      if (endMs > untilMs) continue
      const stepMs = this.#stepMs[i] ?? 0
      sum += (this.#rps[i] ?? 0) * stepMs
      weight += stepMs
    }
    return weight > 0 ? sum / weight : undefined
  }

  #grow(): void {
    const cap = this.#endMs.length
    const order = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const next = new Float64Array(cap * 2)
      for (let k = 0; k < this.#size; k++) next[k] = a[(this.#head + k) % cap] ?? 0
      return next
    }
    this.#endMs = order(this.#endMs)
    this.#stepMs = order(this.#stepMs)
    this.#rps = order(this.#rps)
    this.#head = 0
  }
}

/** Learns a group's headroom and the reference to apply it to (see the module comment). */
export class HeadroomLearner {
  readonly #budget: number
  readonly #windowDays: number
  readonly #minHistorySeconds: number
  readonly #minHourSeconds: number
  readonly #syncMs: number
  readonly #candidates: readonly Candidate[]
  /** Recent demand steps, for smoothing. */
  readonly #buffer = new DemandBuffer()
  #inUse = 0
  #chosenAtMs = -Infinity
  #quantileCache: { candidate: Candidate; hour: number; quantile: number; atMs: number; ratio: number; scope: 'hour-of-day' | 'all'; total: number } | undefined
  /** Capacity put in service by decisions (noteCapacity), oldest first, kept for one lag. */
  readonly #capacities: { atMs: number; rps: number }[] = []
  /** The budget factor: quantile = 1 − budget × f. */
  #factor = 1
  /**
   * Effective ratios (module comment) per UTC hour of the day and bin, weighted by seconds ×
   * e^((t − #effOriginMs) / EFFECTIVE_TAU_MS): a moving histogram.
   */
  readonly #effective = new Float64Array(24 * BINS)
  #effectiveTotal = 0
  /** The part of #effectiveTotal whose demand was above the capacity in service: the budget spent (same weights). */
  #shortTotal = 0
  #effOriginMs: number | undefined
  /** The learned headroom of the last estimate; undefined while the learner is on the caller's default. */
  #headroomInForce: number | undefined
  #lagMs = 0
  #lastDemandMs = -Infinity

  constructor(options: HeadroomLearnerOptions = {}) {
    this.#budget = (options.budgetPercent ?? 0.5) / 100
    this.#windowDays = options.windowDays ?? 7
    this.#minHistorySeconds = options.minHistorySeconds ?? 3600
    this.#minHourSeconds = options.minHourSeconds ?? 2 * 3 * 3600
    this.#syncMs = options.syncMs ?? 15_000
    this.#candidates = CANDIDATES.map((c) => new Candidate(c.smoothMs, c.holdMs))
  }

  /**
   * Everything the learner has learned, as plain JSON (HeadroomLearnerJSON), for the controller
   * to checkpoint: a learner restored from it with fromJSON (and the same options) gives the same
   * estimates as this one. About 1.5 KB per candidate-day of traffic (only non-zero weights).
   */
  toJSON(): HeadroomLearnerJSON {
    const c = this.#quantileCache
    return {
      version: 1,
      candidates: this.#candidates.map((x) => x.toJSON()),
      buffer: this.#buffer.steps(),
      inUse: this.#inUse,
      chosenAtMs: Number.isFinite(this.#chosenAtMs) ? this.#chosenAtMs : null,
      ...(c === undefined ? {} : { quantileCache: { candidate: this.#candidates.indexOf(c.candidate), hour: c.hour, quantile: c.quantile, atMs: c.atMs, ratio: c.ratio, scope: c.scope, total: c.total } }),
      capacities: this.#capacities.map((x) => ({ ...x })),
      factor: this.#factor,
      effective: sparse(this.#effective),
      effectiveTotal: this.#effectiveTotal,
      shortTotal: this.#shortTotal,
      ...(this.#effOriginMs === undefined ? {} : { effectiveOriginMs: this.#effOriginMs }),
      ...(this.#headroomInForce === undefined ? {} : { headroomInForce: this.#headroomInForce }),
      lagMs: this.#lagMs,
      lastDemandMs: Number.isFinite(this.#lastDemandMs) ? this.#lastDemandMs : null,
    }
  }

  /**
   * A learner with `options` that has learned what `json` (toJSON's) holds. Throws a RangeError
   * naming the field when `json` is malformed or was made with other candidates (another tide).
   */
  static fromJSON(options: HeadroomLearnerOptions, json: unknown): HeadroomLearner {
    const j = readLearner(json)
    const l = new HeadroomLearner(options)
    if (j.candidates.length !== l.#candidates.length) throw new RangeError(`headroom learner: candidates: ${j.candidates.length} kept, this tide has ${l.#candidates.length}`)
    j.candidates.forEach((cj, i) => {
      const c = l.#candidates[i]
      if (c === undefined || c.smoothMs !== cj.smoothMs || c.holdMs !== cj.holdMs) throw new RangeError(`headroom learner: candidates.${i}: smoothing ${cj.smoothMs} ms × hold ${cj.holdMs} ms is not this tide's`)
      c.restore(cj)
    })
    for (const [endMs, stepMs, rps] of j.buffer) l.#buffer.push(endMs, stepMs, rps)
    l.#inUse = Math.min(Math.max(0, j.inUse), l.#candidates.length - 1)
    l.#chosenAtMs = j.chosenAtMs ?? -Infinity
    const q = j.quantileCache
    const qc = q === undefined ? undefined : l.#candidates[q.candidate]
    if (q !== undefined && qc !== undefined) l.#quantileCache = { candidate: qc, hour: q.hour, quantile: q.quantile, atMs: q.atMs, ratio: q.ratio, scope: q.scope, total: q.total }
    l.#capacities.push(...j.capacities.map((x) => ({ ...x })))
    l.#factor = j.factor
    fill(l.#effective, j.effective)
    l.#effectiveTotal = j.effectiveTotal
    l.#shortTotal = j.shortTotal
    l.#effOriginMs = j.effectiveOriginMs
    l.#headroomInForce = j.headroomInForce
    l.#lagMs = j.lagMs
    l.#lastDemandMs = j.lastDemandMs ?? -Infinity
    return l
  }

  /** The quantile of ratios the headroom covers now: 1 − budget × f (see "Spending the budget"). */
  get quantile(): number {
    return Math.max(0.5, 1 - this.#budget * this.#factor)
  }

  /** Records the capacity a decision at `atMs` keeps (count × what one instance serves), requests/s. */
  noteCapacity(atMs: number, capacityRps: number): void {
    const last = this.#capacities.at(-1)
    if (!Number.isFinite(capacityRps) || (last !== undefined && atMs < last.atMs)) return
    if (last !== undefined && last.atMs === atMs) this.#capacities.pop()
    this.#capacities.push({ atMs, rps: capacityRps })
  }

  /** The capacity serving at `atMs`: the least count in force over the last lag (module comment); undefined before the first. */
  #servingAt(atMs: number, lagMs: number): number | undefined {
    let least: number | undefined
    for (let i = this.#capacities.length - 1; i >= 0; i--) {
      const c = this.#capacities[i]
      if (c === undefined || c.atMs > atMs) continue
      if (least === undefined || c.rps < least) least = c.rps
      if (c.atMs <= atMs - lagMs) break
    }
    return least
  }

  /** Adds one second (or step) to the effective ratios (module comment). */
  #measure(atMs: number, demand: number, weightSeconds: number, lagMs: number): void {
    const serving = this.#servingAt(atMs, lagMs)
    if (serving === undefined) return
    if (this.#headroomInForce !== undefined && serving > 0) this.#addEffective(atMs, (demand / serving) * (1 + this.#headroomInForce), weightSeconds, demand > serving * (1 + 1e-9))
  }

  /** Adds an effective ratio to the moving histogram (weights grow with time instead of old ones decaying; renormalised every few days). */
  #addEffective(atMs: number, ratio: number, weightSeconds: number, short: boolean): void {
    if (this.#effOriginMs === undefined || atMs < this.#effOriginMs) this.#effOriginMs = atMs
    if (atMs - this.#effOriginMs > 8 * EFFECTIVE_TAU_MS) {
      const scale = Math.exp(-(atMs - this.#effOriginMs) / EFFECTIVE_TAU_MS)
      for (let i = 0; i < this.#effective.length; i++) this.#effective[i] = (this.#effective[i] ?? 0) * scale
      this.#effectiveTotal *= scale
      this.#shortTotal *= scale
      this.#effOriginMs = atMs
    }
    const w = weightSeconds * Math.exp((atMs - this.#effOriginMs) / EFFECTIVE_TAU_MS)
    const hour = Math.floor((((atMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)
    const index = hour * BINS + ratioBin(ratio)
    this.#effective[index] = (this.#effective[index] ?? 0) + w
    this.#effectiveTotal += w
    if (short) this.#shortTotal += w
  }

  /** Seconds the effective ratios' histogram holds as of `atMs` (decayed). */
  #effectiveSeconds(atMs: number): number {
    return this.#effOriginMs === undefined ? 0 : this.#effectiveTotal * Math.exp(-(atMs - this.#effOriginMs) / EFFECTIVE_TAU_MS)
  }

  /** The reference ratios the headroom at `hour` is read from: hours H − 1 … H + 1 once they hold enough, else every hour. */
  #ratiosAt(c: Candidate, hour: number): { bins: Float64Array; total: number; local: boolean } {
    const near = c.histogram([(hour + 23) % 24, hour, (hour + 1) % 24])
    return near.total >= this.#minHourSeconds ? { ...near, local: true } : { ...c.everyHour(), local: false }
  }

  /**
   * Sets the budget factor (at most MAX_STEP from the last) where SPEND_TARGET of the budget's
   * share of seconds would have been short of the capacity really in service, less while the
   * last day's budget is overspent (module comment, "Spending the budget").
   */
  #steer(nowMs: number): void {
    const c = this.#candidates[this.#inUse]
    if (c === undefined || this.#effectiveSeconds(nowMs) < this.#minHistorySeconds) return
    // Each hour's effective ratios, read against the ratios that hour's headroom comes from: a
    // second in bin b is short at quantile q exactly when the ratios above bin b − 1 are at most
    // 1 − q (its level). The factor whose 1 − q leaves SPEND_TARGET of the budget at or below it:
    const levels: [number, number][] = []
    let all: Float64Array | undefined
    for (let hour = 0; hour < 24; hour++) {
      const r = this.#ratiosAt(c, hour)
      const table = r.local ? exceedanceTable(r) : (all ??= exceedanceTable(r))
      for (let b = 0; b < BINS; b++) {
        const w = this.#effective[hour * BINS + b] ?? 0
        if (w > 0) levels.push([b === 0 ? 1 : (table[b - 1] ?? 0), w])
      }
    }
    levels.sort((x, y) => x[0] - y[0])
    // Budget overspent over the last day (a cold start, a kind of rise not seen before) is paid
    // back: the aim falls with the square root of the overspend, to a quarter at most; an
    // underspent budget is not borrowed (module comment).
    const target = this.#budget * SPEND_TARGET
    const spent = this.#effectiveTotal > 0 ? this.#shortTotal / this.#effectiveTotal : 0
    const aim = target * Math.min(1, Math.max(0.25, Math.sqrt(target / Math.max(spent, 1e-12)))) * this.#effectiveTotal
    let seen = 0
    let level = 1
    for (const [l, w] of levels) {
      seen += w
      if (seen > aim) {
        level = l
        break
      }
    }
    const wanted = Math.min(F_MAX, Math.max(F_MIN, level / this.#budget))
    this.#factor = Math.min(this.#factor * MAX_STEP, Math.max(this.#factor / MAX_STEP, wanted))
  }

  /**
   * Records measured demand: `values[i]` is the demand (requests/s) of the step ending at
   * endMs − (n − 1 − i) × stepMs. `lagMs` is the reaction time now. Steps at or before the last
   * recorded one are ignored, so overlapping windows are safe.
   */
  observeDemand(endMs: number, stepMs: number, values: ArrayLike<number>, lagMs: number): void {
    this.#lagMs = lagMs
    const n = values.length
    for (let i = 0; i < n; i++) {
      const atMs = endMs - (n - 1 - i) * stepMs
      if (atMs <= this.#lastDemandMs) continue
      this.#lastDemandMs = atMs
      const value = values[i]
      if (value !== undefined && Number.isFinite(value) && value >= 0) this.#observeStep(atMs, stepMs, value, lagMs)
    }
    this.#forget(lagMs)
  }

  /** One step of demand: into the smoothing buffer, the effective ratios and every candidate's ratios. */
  #observeStep(atMs: number, stepMs: number, value: number, lagMs: number): void {
    this.#buffer.push(atMs, stepMs, value)
    this.#measure(atMs, value, stepMs / 1000, lagMs)
    const day = Math.floor(atMs / DAY_MS)
    const hourOffset = Math.floor((atMs - day * DAY_MS) / HOUR_MS) * BINS
    for (const c of this.#candidates) {
      const reference = c.referenceAt(atMs, lagMs)
      if (reference === undefined || reference <= 0) continue
      c.add(day, hourOffset, value / reference, reference, stepMs / 1000, this.#windowDays)
    }
  }

  /** Drops demand older than the longest smoothing, and capacities older than the one in force one lag ago. */
  #forget(lagMs: number): void {
    this.#buffer.dropBefore(this.#lastDemandMs - BUFFER_MS)
    let drop = 0
    while (drop + 1 < this.#capacities.length && (this.#capacities[drop + 1]?.atMs ?? Infinity) <= this.#lastDemandMs - lagMs) drop++
    if (drop > 0) this.#capacities.splice(0, drop)
  }

  /** The mean demand over (atMs − smoothMs, atMs] from the buffer; one sync window for smoothing 0. */
  #smoothed(atMs: number, smoothMs: number): number | undefined {
    return this.#buffer.mean(atMs - Math.max(smoothMs, this.#syncMs), atMs)
  }

  /** Records a decision at `atMs`: each candidate's reference is the smoothed demand then. */
  noteDecision(atMs: number): void {
    const smoothed = new Map<number, number | undefined>()
    for (const c of this.#candidates) {
      if (!smoothed.has(c.smoothMs)) smoothed.set(c.smoothMs, this.#smoothed(atMs, c.smoothMs))
      const rps = smoothed.get(c.smoothMs)
      const last = c.pending.at(-1) ?? c.latest
      if (rps === undefined || (last !== undefined && atMs <= last.atMs)) continue
      c.pending.push({ atMs, rps })
    }
  }

  /** The headroom and reference for `nowMs` (its hour of day), or source 'default' while the history is short. */
  estimate(nowMs: number): HeadroomEstimate {
    const hour = Math.floor((((nowMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)
    if (nowMs - this.#chosenAtMs >= CHOOSE_EVERY_MS || nowMs < this.#chosenAtMs) {
      if (Number.isFinite(this.#chosenAtMs)) this.#steer(nowMs)
      this.#inUse = this.#choose()
      this.#chosenAtMs = nowMs
    }
    const c = this.#candidates[this.#inUse] ?? this.#candidates[0]
    const base = {
      smoothingSeconds: Math.max(c?.smoothMs ?? 0, this.#syncMs) / 1000,
      holdSeconds: (c?.holdMs ?? 0) / 1000,
      quantile: this.quantile,
      hour,
      neededSeconds: this.#minHistorySeconds,
      windowDays: this.#windowDays,
      lagSeconds: this.#lagMs / 1000,
    }
    this.#headroomInForce = undefined
    if (c === undefined) return { ...base, source: 'default', scope: 'all', historySeconds: 0 }
    const all = c.everyHour()
    if (all.total < this.#minHistorySeconds) return { ...base, source: 'default', scope: 'all', historySeconds: all.total }
    const q = this.#quantileFor(c, hour, nowMs)
    this.#headroomInForce = q.ratio - 1
    const reference = this.#reference(c, nowMs)
    return { ...base, source: 'learned', headroom: q.ratio - 1, ...(reference === undefined ? {} : { referenceRps: reference }), scope: q.scope, historySeconds: q.total }
  }

  /**
   * The quantile of the candidate's ratios at `hour` (hours H − 1 … H + 1 once they hold enough,
   * else every hour), kept for QUANTILE_REUSE_MS: a minute's ratios do not move it.
   */
  #quantileFor(c: Candidate, hour: number, nowMs: number): { ratio: number; scope: 'hour-of-day' | 'all'; total: number } {
    const cached = this.#quantileCache
    if (cached !== undefined && cached.candidate === c && cached.hour === hour && cached.quantile === this.quantile && nowMs >= cached.atMs && nowMs - cached.atMs < QUANTILE_REUSE_MS) return cached
    const h = this.#ratiosAt(c, hour)
    const fresh = { candidate: c, hour, quantile: this.quantile, atMs: nowMs, ratio: quantileOf(h, this.quantile), scope: h.local ? ('hour-of-day' as const) : ('all' as const), total: h.total }
    this.#quantileCache = fresh
    return fresh
  }

  /** The reference now: the highest of this moment's smoothed demand and the decisions within the hold window. */
  #reference(c: Candidate, nowMs: number): number | undefined {
    let best = this.#smoothed(nowMs, c.smoothMs)
    for (const list of [c.pending, c.window]) {
      for (const r of list) if (r.atMs >= nowMs - c.holdMs && (best === undefined || r.rps > best)) best = r.rps
    }
    return best
  }

  /** The candidate with the least capacity (mean reference × (1 + headroom)), kept unless beaten by SWITCH_MARGIN. */
  #choose(): number {
    const costs = this.#candidates.map((c) => {
      const h = c.everyHour()
      return h.total < this.#minHistorySeconds ? Infinity : c.meanReference() * quantileOf(h, this.quantile)
    })
    let best = this.#inUse
    for (let i = 0; i < costs.length; i++) if ((costs[i] ?? Infinity) < (costs[best] ?? Infinity)) best = i
    const current = costs[this.#inUse] ?? Infinity
    return (costs[best] ?? Infinity) < current * (1 - SWITCH_MARGIN) || !Number.isFinite(current) ? best : this.#inUse
  }
}

/** A reference demand as persisted. */
export interface HeadroomReferenceJSON {
  readonly atMs: number
  readonly rps: number
}

/** One candidate's ratios as persisted: sparse [index, weight] pairs of its per-day, per-hour bins and their sums. */
export interface HeadroomCandidateJSON {
  readonly smoothMs: number
  readonly holdMs: number
  readonly days: readonly { readonly day: number; readonly bins: readonly (readonly [number, number])[]; readonly referenceSum: number; readonly weight: number }[]
  readonly totals: readonly (readonly [number, number])[]
  readonly allHours: readonly (readonly [number, number])[]
  readonly allWeight: number
  readonly pending: readonly HeadroomReferenceJSON[]
  readonly window: readonly HeadroomReferenceJSON[]
  readonly latest?: HeadroomReferenceJSON
}

/** A HeadroomLearner's state as plain JSON (toJSON, fromJSON): what the controller checkpoints in the store. */
export interface HeadroomLearnerJSON {
  readonly version: 1
  readonly candidates: readonly HeadroomCandidateJSON[]
  /** Recent demand steps [endMs, stepMs, rps], oldest first. */
  readonly buffer: readonly (readonly [number, number, number])[]
  readonly inUse: number
  /** When the candidate in use was chosen, epoch ms; null before the first choice. */
  readonly chosenAtMs: number | null
  readonly quantileCache?: { readonly candidate: number; readonly hour: number; readonly quantile: number; readonly atMs: number; readonly ratio: number; readonly scope: 'hour-of-day' | 'all'; readonly total: number }
  readonly capacities: readonly HeadroomReferenceJSON[]
  readonly factor: number
  /** The effective ratios' moving histogram per hour of day (sparse [hour × bins + bin, weight]), its total and origin; empty in a checkpoint of a tide before them. */
  readonly effective: readonly (readonly [number, number])[]
  readonly effectiveTotal: number
  /** The part of effectiveTotal short of capacity (the budget spent). */
  readonly shortTotal: number
  readonly effectiveOriginMs?: number
  /** The learned headroom of the last estimate. */
  readonly headroomInForce?: number
  readonly lagMs: number
  /** The last demand step recorded, epoch ms; null before the first. */
  readonly lastDemandMs: number | null
}

/** The non-zero entries of a typed array, as [index, value] pairs. */
function sparse(a: Float32Array | Float64Array): [number, number][] {
  const out: [number, number][] = []
  for (let i = 0; i < a.length; i++) {
    const v = a[i] ?? 0
    if (v !== 0) out.push([i, v])
  }
  return out
}

/** Writes sparse [index, value] pairs into a typed array (indexes checked by readLearner). */
function fill(a: Float32Array | Float64Array, pairs: readonly (readonly [number, number])[]): void {
  for (const [i, v] of pairs) a[i] = v
}

/** A finite number at `path`, or a RangeError naming it. */
function finiteAt(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`headroom learner: ${path}: expected a finite number, got ${JSON.stringify(v)}`)
  return v
}

/** An array at `path`, or a RangeError naming it. */
function arrayAt(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new RangeError(`headroom learner: ${path}: expected an array`)
  return v
}

/** An object at `path`, or a RangeError naming it. */
function objectAt(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RangeError(`headroom learner: ${path}: expected an object`)
  return v as Record<string, unknown>
}

/** Sparse pairs with indexes below `size` and finite non-negative weights. */
function pairsAt(v: unknown, path: string, size: number): [number, number][] {
  return arrayAt(v, path).map((p, k) => {
    const pair = arrayAt(p, `${path}.${k}`)
    const i = finiteAt(pair[0], `${path}.${k}.0`)
    const w = finiteAt(pair[1], `${path}.${k}.1`)
    if (!Number.isInteger(i) || i < 0 || i >= size || w < 0) throw new RangeError(`headroom learner: ${path}.${k}: [${i}, ${w}] is not a bin below ${size} with a weight ≥ 0`)
    return [i, w]
  })
}

function referencesAt(v: unknown, path: string): HeadroomReferenceJSON[] {
  return arrayAt(v, path).map((r, k) => {
    const o = objectAt(r, `${path}.${k}`)
    return { atMs: finiteAt(o.atMs, `${path}.${k}.atMs`), rps: finiteAt(o.rps, `${path}.${k}.rps`) }
  })
}

/** Checks a persisted learner field by field (fromJSON); the error names the first bad one. */
function readLearner(json: unknown): HeadroomLearnerJSON {
  const o = objectAt(json, '(root)')
  if (o.version !== 1) throw new RangeError(`headroom learner: version: expected 1, got ${JSON.stringify(o.version)}`)
  const candidates = arrayAt(o.candidates, 'candidates').map((cv, i): HeadroomCandidateJSON => {
    const p = `candidates.${i}`
    const c = objectAt(cv, p)
    const latest = c.latest === undefined ? undefined : referencesAt([c.latest], `${p}.latest`)[0]
    return {
      smoothMs: finiteAt(c.smoothMs, `${p}.smoothMs`),
      holdMs: finiteAt(c.holdMs, `${p}.holdMs`),
      days: arrayAt(c.days, `${p}.days`).map((dv, k) => {
        const d = objectAt(dv, `${p}.days.${k}`)
        return { day: finiteAt(d.day, `${p}.days.${k}.day`), bins: pairsAt(d.bins, `${p}.days.${k}.bins`, 24 * BINS), referenceSum: finiteAt(d.referenceSum, `${p}.days.${k}.referenceSum`), weight: finiteAt(d.weight, `${p}.days.${k}.weight`) }
      }),
      totals: pairsAt(c.totals, `${p}.totals`, 24 * BINS),
      allHours: pairsAt(c.allHours, `${p}.allHours`, BINS),
      allWeight: finiteAt(c.allWeight, `${p}.allWeight`),
      pending: referencesAt(c.pending, `${p}.pending`),
      window: referencesAt(c.window, `${p}.window`),
      ...(latest === undefined ? {} : { latest }),
    }
  })
  const buffer = arrayAt(o.buffer, 'buffer').map((sv, k) => {
    const step = arrayAt(sv, `buffer.${k}`)
    return [finiteAt(step[0], `buffer.${k}.0`), finiteAt(step[1], `buffer.${k}.1`), finiteAt(step[2], `buffer.${k}.2`)] as const
  })
  const nullable = (v: unknown, path: string): number | null => (v === null ? null : finiteAt(v, path))
  let quantileCache: HeadroomLearnerJSON['quantileCache']
  if (o.quantileCache !== undefined) {
    const q = objectAt(o.quantileCache, 'quantileCache')
    if (q.scope !== 'hour-of-day' && q.scope !== 'all') throw new RangeError(`headroom learner: quantileCache.scope: expected 'hour-of-day' or 'all'`)
    quantileCache = { candidate: finiteAt(q.candidate, 'quantileCache.candidate'), hour: finiteAt(q.hour, 'quantileCache.hour'), quantile: finiteAt(q.quantile, 'quantileCache.quantile'), atMs: finiteAt(q.atMs, 'quantileCache.atMs'), ratio: finiteAt(q.ratio, 'quantileCache.ratio'), scope: q.scope, total: finiteAt(q.total, 'quantileCache.total') }
  }
  const factor = finiteAt(o.factor, 'factor')
  if (!(factor >= F_MIN && factor <= F_MAX)) throw new RangeError(`headroom learner: factor: ${factor} is outside [${F_MIN}, ${F_MAX}]`)
  return {
    version: 1,
    candidates,
    buffer,
    inUse: finiteAt(o.inUse, 'inUse'),
    chosenAtMs: nullable(o.chosenAtMs, 'chosenAtMs'),
    ...(quantileCache === undefined ? {} : { quantileCache }),
    capacities: referencesAt(o.capacities, 'capacities'),
    factor,
    effective: o.effective === undefined ? [] : pairsAt(o.effective, 'effective', 24 * BINS),
    effectiveTotal: o.effectiveTotal === undefined ? 0 : finiteAt(o.effectiveTotal, 'effectiveTotal'),
    shortTotal: o.shortTotal === undefined ? 0 : finiteAt(o.shortTotal, 'shortTotal'),
    ...(o.effectiveOriginMs === undefined ? {} : { effectiveOriginMs: finiteAt(o.effectiveOriginMs, 'effectiveOriginMs') }),
    ...(o.headroomInForce === undefined ? {} : { headroomInForce: finiteAt(o.headroomInForce, 'headroomInForce') }),
    lagMs: finiteAt(o.lagMs, 'lagMs'),
    lastDemandMs: nullable(o.lastDemandMs, 'lastDemandMs'),
  }
}

/** Per bin of a ratio histogram, the share of its weight in the bins above: a ratio in bin b is covered from quantile 1 − table[b] on. */
function exceedanceTable(h: { bins: Float64Array; total: number }): Float64Array {
  const table = new Float64Array(h.bins.length)
  if (!(h.total > 0)) return table
  let above = 0
  for (let b = h.bins.length - 1; b >= 0; b--) {
    table[b] = above / h.total
    above += h.bins[b] ?? 0
  }
  return table
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
