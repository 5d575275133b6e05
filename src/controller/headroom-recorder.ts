/**
 * The controller's side of SLO-first scaling (issue 9): per group with an `slo`, it feeds the
 * headroom learner (src/forecast/headroom-learner.ts) with the demand of every window and the
 * demand each decision sized for, and keeps the violation budget's account: how much of the
 * last day and week the group's p95 spent above its objective. The engine's slo policy reads
 * the learner's estimate as plain data; status shows both.
 *
 * The budget is measured from the latency signal, one sync window at a time: a window whose
 * group p95 exceeds slo.latencyP95Ms counts as violated for its whole length (a window over four
 * sync periods long is a gap in the signals, not measured time). No I/O and no
 * clock: the controller passes `nowMs`.
 */
import { HeadroomLearner, type HeadroomEstimate, type HeadroomLearnerOptions } from '../forecast/headroom-learner.ts'
import type { Signals } from '../engine/types.ts'
import type { GroupSpec, SloSpec } from '../spec/schema.ts'
import type { StoredSlo } from '../store/state-store.ts'

const DAY_MS = 86_400_000

/** The violation budget's account, for status. */
export interface SloBudgetStatus {
  /** The allowed share of time outside the objective, percent. */
  readonly budgetPercent: number
  /** Share of the measured time of the current UTC day that violated the objective, percent. */
  readonly todayViolatedPercent: number
  /** The same over the last 7 days (the current one included). */
  readonly weekViolatedPercent: number
  /** Seconds measured today and over the week. */
  readonly todayMeasuredSeconds: number
  readonly weekMeasuredSeconds: number
}

/** Seconds measured and violated on one UTC day. */
interface DayAccount {
  readonly day: number
  measured: number
  violated: number
}

/** One group's headroom learner and budget account (see the module comment). */
export class HeadroomRecorder {
  readonly #slo: SloSpec
  #learner: HeadroomLearner | undefined
  readonly #learnerOptions: HeadroomLearnerOptions
  readonly #days: DayAccount[] = []
  /** A window longer than this is a gap in the signals (tide was down), not measured time. */
  readonly #maxWindowMs: number
  #lastAtMs: number | undefined

  constructor(spec: GroupSpec, slo: SloSpec) {
    this.#slo = slo
    this.#maxWindowMs = 4 * spec.syncPeriodSeconds * 1000
    const h = slo.headroom
    this.#learnerOptions = { budgetPercent: slo.budgetPercent, windowDays: h?.windowDays ?? 7, syncMs: spec.syncPeriodSeconds * 1000 }
    this.#learner = slo.instanceRps === undefined ? undefined : new HeadroomLearner(this.#learnerOptions)
  }

  /** What this recorder has learned (the learner and the budget's account), as plain JSON for the store. */
  toJSON(): StoredSlo {
    return { ...(this.#learner === undefined ? {} : { learner: this.#learner.toJSON() }), days: this.#days.map((d) => ({ ...d })), ...(this.#lastAtMs === undefined ? {} : { lastAtMs: this.#lastAtMs }) }
  }

  /**
   * Puts back a checkpoint (toJSON's) taken by an earlier tide: the budget's account, and the
   * learner when this group has one. Throws a RangeError naming the field when the learner's
   * state is malformed or was made with other candidates; then nothing is changed.
   */
  restore(j: StoredSlo): void {
    const learner = this.#learner === undefined || j.learner === undefined ? this.#learner : HeadroomLearner.fromJSON(this.#learnerOptions, j.learner)
    this.#learner = learner
    this.#days.length = 0
    for (const d of j.days) if (Number.isFinite(d.day) && d.measured >= 0 && d.violated >= 0) this.#days.push({ ...d })
    this.#lastAtMs = j.lastAtMs
  }

  /**
   * Feeds one window of signals: its demand steps (or its mean, as one step) to the learner and
   * its p95 to the budget. `lagMs` is the reaction time (measured start-up, or the configured one).
   */
  observe(signals: Signals | undefined, nowMs: number, lagMs: number): void {
    const sinceMs = this.#lastAtMs
    this.#lastAtMs = nowMs
    if (signals === undefined) return
    const steps = signals.group.demandSteps
    if (steps !== undefined && steps.values.length > 0) this.#learner?.observeDemand(signals.atMs, steps.stepMs, steps.values, lagMs)
    else if (signals.group.rps !== undefined && sinceMs !== undefined && nowMs > sinceMs) this.#learner?.observeDemand(signals.atMs, nowMs - sinceMs, [signals.group.rps], lagMs)
    const p95 = signals.group.latencyMs?.p95
    if (p95 !== undefined && sinceMs !== undefined && nowMs > sinceMs && nowMs - sinceMs <= this.#maxWindowMs) this.#account(nowMs, (nowMs - sinceMs) / 1000, p95 > this.#slo.latencyP95Ms)
  }

  /**
   * Records a decision at `atMs` and the capacity its count keeps (requests/s). A sync decision
   * also sets the learner's references; a fast one (scale-out only) only raises capacity.
   */
  noteDecision(atMs: number, capacityRps: number | undefined, fast: boolean): void {
    if (!fast) this.#learner?.noteDecision(atMs)
    if (capacityRps !== undefined) this.#learner?.noteCapacity(atMs, capacityRps)
  }

  /** The learner's estimate now; undefined for a group without slo.instanceRps (no learner). */
  estimate(nowMs: number): HeadroomEstimate | undefined {
    return this.#learner?.estimate(nowMs)
  }

  /** The budget's account as of `nowMs`. */
  budget(nowMs: number): SloBudgetStatus {
    const today = Math.floor(nowMs / DAY_MS)
    let weekMeasured = 0
    let weekViolated = 0
    let todayMeasured = 0
    let todayViolated = 0
    for (const d of this.#days) {
      if (d.day <= today - 7) continue
      weekMeasured += d.measured
      weekViolated += d.violated
      if (d.day === today) {
        todayMeasured = d.measured
        todayViolated = d.violated
      }
    }
    return {
      budgetPercent: this.#slo.budgetPercent,
      todayViolatedPercent: share(todayViolated, todayMeasured),
      weekViolatedPercent: share(weekViolated, weekMeasured),
      todayMeasuredSeconds: todayMeasured,
      weekMeasuredSeconds: weekMeasured,
    }
  }

  #account(nowMs: number, seconds: number, violated: boolean): void {
    const day = Math.floor(nowMs / DAY_MS)
    let d = this.#days.at(-1)
    if (d === undefined || d.day < day) {
      d = { day, measured: 0, violated: 0 }
      this.#days.push(d)
      while ((this.#days[0]?.day ?? day) <= day - 7) this.#days.shift()
    } else if (d.day > day) {
      return
    }
    d.measured += seconds
    if (violated) d.violated += seconds
  }
}

/** The violated share of the measured seconds, percent; 0 when nothing was measured. */
function share(violated: number, measured: number): number {
  return measured > 0 ? (violated / measured) * 100 : 0
}
