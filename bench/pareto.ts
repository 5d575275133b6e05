/**
 * The yardstick of issue 9, as pure functions: the HPA variants of the sweep, the Pareto front
 * of their outcomes, the cheapest setting that keeps the SLO (the best an operator could
 * hand-tune), and the goal verdict for tide's default against it. bench/quality.ts runs the
 * simulations and prints the tables; test/bench/pareto.test.ts pins these functions.
 */
import { hpaSpec } from '../src/simulator/baselines.ts'
import type { GroupSpec } from '../src/spec/schema.ts'

/** The HPA cpu utilisation targets of the sweep, percent. */
export const sweepTargetsPercent = [40, 50, 60, 70, 80, 90] as const

/** The HPA scale-down stabilization windows of the sweep, seconds (the HPA default is 300). */
export const sweepWindowsSeconds = [60, 300, 900, 1800] as const

/**
 * The SLO a setting must keep (issue 9): violated in at most 0.5 % of the time, and at most
 * 0.05 % of requests failed. Both are ratios (0–1).
 */
export const sloBudget = { violationRatio: 0.005, failedRatio: 0.0005 } as const

/**
 * How far below the cheapest SLO-keeping HPA setting tide's default must be where the traffic is
 * noisy (10 %), and the cost ceiling relative to the oracle where it is smooth (1.15×).
 */
export const goalMargins = { noisyBelowHpa: 0.1, smoothOracleRatio: 1.15 } as const

/** What one run scored, as ratios: the share of time the SLO was violated, the share of requests that failed, and cost ÷ the oracle's. */
export interface Outcome {
  readonly violationRatio: number
  readonly failedRatio: number
  readonly costRatio: number
}

/**
 * The Kubernetes HPA as src/simulator/baselines.ts hpaSpec builds it, with the cpu target and
 * the scale-down stabilization window varied: every other setting (15 s sync, tolerance 0.1,
 * scale-up +100 % or +4 per 15 s without a window, scale-down up to 100 % per 15 s) keeps the
 * HPA's default. `base` gives the group name, size, min/max replicas, start-up and warm-up.
 * At (60, 300) it equals hpaSpec(base). Throws (zod) on a target outside (0, 1000] or a
 * window outside 0–3600 s.
 */
export function hpaVariantSpec(base: GroupSpec, targetPercent: number, windowSeconds: number): GroupSpec {
  return hpaSpec(base, { targetPercent, scaleDownWindowSeconds: windowSeconds })
}

/** Whether an outcome keeps the SLO budget (both limits inclusive). */
export function keepsSlo(o: Outcome): boolean {
  return o.violationRatio <= sloBudget.violationRatio && o.failedRatio <= sloBudget.failedRatio
}

/** Whether `a` dominates `b`: no worse on violations, failures and cost, and better on at least one. */
export function dominates(a: Outcome, b: Outcome): boolean {
  const noWorse = a.violationRatio <= b.violationRatio && a.failedRatio <= b.failedRatio && a.costRatio <= b.costRatio
  const better = a.violationRatio < b.violationRatio || a.failedRatio < b.failedRatio || a.costRatio < b.costRatio
  return noWorse && better
}

/**
 * The indices of the Pareto-efficient outcomes: those no other outcome dominates (all three
 * measures are minimised). Equal outcomes are all efficient. O(n²), n is 24 here.
 */
export function paretoFront(outcomes: readonly Outcome[]): Set<number> {
  const front = new Set<number>()
  outcomes.forEach((o, i) => {
    if (!outcomes.some((other, j) => j !== i && dominates(other, o))) front.add(i)
  })
  return front
}

/**
 * The index of the cheapest outcome that keeps the SLO (ties: the fewer violations, then the
 * earlier index), or undefined when none does.
 */
export function cheapestKeeping(outcomes: readonly Outcome[]): number | undefined {
  let best: number | undefined
  outcomes.forEach((o, i) => {
    if (!keepsSlo(o)) return
    const b = best === undefined ? undefined : outcomes[best]
    if (b === undefined || o.costRatio < b.costRatio || (o.costRatio === b.costRatio && o.violationRatio < b.violationRatio)) best = i
  })
  return best
}

/** Noisy traffic must beat the best hand-tuned HPA by 10 %; smooth traffic must also stay within 1.15× the oracle. */
export type TrafficCharacter = 'noisy' | 'smooth'

/** One goal and whether it was met; `met` is undefined when there is nothing to compare with. */
export interface GoalCheck {
  readonly goal: string
  readonly met: boolean | undefined
  readonly detail: string
}

const pct = (ratio: number, digits: number) => `${(ratio * 100).toFixed(digits)} %`

/**
 * The goals of issue 9 for tide's default on one trace:
 * 1. SLO violated ≤ 0.5 % of the time; 2. ≤ 0.05 % of requests failed;
 * 3. cost below the cheapest SLO-keeping HPA setting of the sweep (`hpa`, undefined when no
 *    setting keeps the SLO: the goal is then undecided), by 10 % when the traffic is noisy
 *    (cost ≤ 0.9 × that setting's), strictly below it when smooth;
 * 4. smooth traffic only: cost ≤ 1.15 × the oracle's.
 * `hpaLabel` names the HPA setting in the detail.
 */
export function goalChecks(tide: Outcome, hpa: Outcome | undefined, hpaLabel: string, character: TrafficCharacter): GoalCheck[] {
  const checks: GoalCheck[] = [
    { goal: 'SLO violated ≤ 0.5 % of the time', met: tide.violationRatio <= sloBudget.violationRatio, detail: pct(tide.violationRatio, 3) },
    { goal: 'failed requests ≤ 0.05 %', met: tide.failedRatio <= sloBudget.failedRatio, detail: pct(tide.failedRatio, 4) },
  ]
  const noisy = character === 'noisy'
  const costGoal = noisy ? 'cost ≤ 0.9 × the cheapest SLO-keeping HPA' : 'cost below the cheapest SLO-keeping HPA'
  if (hpa === undefined) checks.push({ goal: costGoal, met: undefined, detail: 'no HPA setting of the sweep keeps the SLO' })
  else {
    const limit = noisy ? hpa.costRatio * (1 - goalMargins.noisyBelowHpa) : hpa.costRatio
    const met = noisy ? tide.costRatio <= limit : tide.costRatio < limit
    checks.push({ goal: costGoal, met, detail: `×${tide.costRatio.toFixed(3)} of the oracle vs ${hpaLabel} at ×${hpa.costRatio.toFixed(3)}${noisy ? ` (limit ×${limit.toFixed(3)})` : ''}` })
  }
  if (!noisy) checks.push({ goal: 'cost ≤ 1.15 × the oracle', met: tide.costRatio <= goalMargins.smoothOracleRatio, detail: `×${tide.costRatio.toFixed(3)}` })
  return checks
}

/** One line for a goal check: "goal (detail): met", "NOT met" or "undecided". */
export function goalLine(c: GoalCheck): string {
  return `${c.goal} (${c.detail}): ${c.met === undefined ? 'undecided' : c.met ? 'met' : 'NOT met'}`
}
