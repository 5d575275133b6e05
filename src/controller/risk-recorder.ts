/**
 * The controller's side of the risk radar (src/engine/risk.ts): per group, the demand readings of
 * the last RISK_TREND_WINDOW_MS and the violation budget's account over the same window (for the
 * burn rate), fed every sync period; and the risk episodes, so that a risk is announced once when
 * it appears (a `risk` event, which alerts) and once when it is gone (`risk-cleared`), not every
 * tick. A risk is gone when its kind has been absent for RISK_CLEAR_AFTER_MS, so one tick's
 * wobble around a threshold does not page twice. No I/O and no clock: the controller passes nowMs.
 */
import { RISK_TREND_WINDOW_MS, type BudgetInput, type DemandSample, type GroupRisk, type RiskKind } from '../engine/risk.ts'
import type { SloBudgetStatus } from './headroom-recorder.ts'

/** How long a risk's kind must be absent before its episode ends (and `risk-cleared` is said), ms. */
export const RISK_CLEAR_AFTER_MS = 60_000

/** A budget account reading: the day's seconds measured and violated at a time. */
interface BudgetReading {
  readonly atMs: number
  readonly day: number
  readonly measured: number
  readonly violated: number
}

/** What changed in the risk episodes at a tick. */
export interface RiskEpisodes {
  /** Risks whose kind was not open: announce each. */
  readonly raised: readonly GroupRisk[]
  /** Kinds whose episode ended. */
  readonly cleared: readonly RiskKind[]
}

/** One group's recent demand, budget readings and open risk episodes. */
export class RiskRecorder {
  #demand: DemandSample[] = []
  #budget: BudgetReading[] = []
  /** Open episodes by kind: when the kind was last seen. */
  readonly #open = new Map<RiskKind, number>()

  /** Records a sync period's demand (undefined: no reading) and the budget's account, dropping what fell out of the window. */
  observe(nowMs: number, rps: number | undefined, budget: SloBudgetStatus | undefined): void {
    const from = nowMs - RISK_TREND_WINDOW_MS
    if (rps !== undefined && Number.isFinite(rps)) this.#demand.push({ atMs: nowMs, rps })
    if (this.#demand.length > 0 && (this.#demand[0]?.atMs ?? nowMs) < from) this.#demand = this.#demand.filter((s) => s.atMs >= from)
    if (budget !== undefined) {
      this.#budget.push({ atMs: nowMs, day: Math.floor(nowMs / 86_400_000), measured: budget.todayMeasuredSeconds, violated: (budget.todayViolatedPercent / 100) * budget.todayMeasuredSeconds })
      if ((this.#budget[0]?.atMs ?? nowMs) < from) this.#budget = this.#budget.filter((b) => b.atMs >= from)
    }
  }

  /** The demand readings of the window, oldest first. */
  get demand(): readonly DemandSample[] {
    return this.#demand
  }

  /**
   * The budget as the radar reads it: the day so far (the latest reading) and the window's
   * change (from the earliest reading of the same day); undefined before any reading.
   */
  budget(budgetPercent: number): BudgetInput | undefined {
    const last = this.#budget.at(-1)
    if (last === undefined) return undefined
    const first = this.#budget.find((b) => b.day === last.day) ?? last
    return {
      budgetPercent,
      todayMeasuredSeconds: last.measured,
      todayViolatedSeconds: last.violated,
      recentMeasuredSeconds: Math.max(0, last.measured - first.measured),
      recentViolatedSeconds: Math.max(0, last.violated - first.violated),
    }
  }

  /** The episodes' changes given the risks seen at `nowMs` (see the module comment). */
  episodes(nowMs: number, risks: readonly GroupRisk[]): RiskEpisodes {
    const raised: GroupRisk[] = []
    for (const r of risks) {
      if (!this.#open.has(r.kind)) raised.push(r)
      this.#open.set(r.kind, nowMs)
    }
    const cleared: RiskKind[] = []
    for (const [kind, lastSeenMs] of this.#open) {
      if (nowMs - lastSeenMs < RISK_CLEAR_AFTER_MS) continue
      this.#open.delete(kind)
      cleared.push(kind)
    }
    return { raised, cleared }
  }
}
