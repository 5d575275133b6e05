/**
 * The size half of a decision, after the count is settled by combine and the guards:
 *
 * - strategy `mixed` (with a size ladder): the mixed planner (planner/plan-fleet.ts) turns the
 *   guarded count — capacity in units of the current size — into cpu cores of demand and picks
 *   (count, size) for it. When the count was capped by max, the uncapped want is the demand, so
 *   the planner can reach for a bigger size instead of stopping at max.
 * - otherwise, vertical `auto`: a non-advisory vertical recommendation whose size differs
 *   from the current one becomes the resize; the count is kept.
 *
 * Pure. The controller carries a resize out as launch-before-terminate replacement.
 */
import type { Combined } from './combine.ts'
import { planFleet, sameSize, sizeText } from './planner/plan-fleet.ts'
import type { AppliedLimit, DecideInput, Decision, Recommendation } from './types.ts'

/** The count and size this tick settles on, and the clause that explains a size change. */
export interface SizeOutcome {
  readonly to: number
  readonly resize?: NonNullable<Decision['resize']>
  /** Sentence fragment for the explanation, when the size changes or the planner re-counted. */
  readonly note?: string
}

/** Applies the mixed planner or the vertical policy to a guarded count (see the module comment). */
export function sizeOutcome(input: DecideInput, combined: Combined, to: number, limits: readonly AppliedLimit[], recommendations: readonly Recommendation[]): SizeOutcome {
  const { spec, state } = input
  if (spec.strategy === 'mixed' && spec.sizes.length > 0) {
    if (!combined.hasReplicas) return { to }
    const cappedAtMax = limits.at(-1)?.guard === 'bounds' && to < combined.proposed
    const units = cappedAtMax ? combined.proposed : to
    const usage = input.usage
    const memory = usage === undefined || usage.memoryMiB.isEmpty() ? undefined : usage.memoryMiB.percentile(spec.vertical.percentile / 100) * (1 + spec.vertical.headroomPercent / 100)
    const plan = planFleet({
      demandCpu: units * state.size.cpu,
      ladder: spec.sizes,
      currentSize: state.size,
      currentCount: state.desiredReplicas,
      min: combined.scheduleMin ?? spec.replicas.min,
      max: Math.min(spec.replicas.max, combined.scheduleMax ?? spec.replicas.max),
      order: spec.mixedOrder,
      startupSeconds: (input.startupMs ?? spec.startupSeconds * 1000) / 1000,
      ...(memory === undefined ? {} : { minMemoryMiB: memory }),
      ...(input.quotaRoom === undefined ? {} : { quotaRoom: input.quotaRoom }),
    })
    if (sameSize(plan.size, state.size)) return plan.count === to ? { to } : { to: plan.count, note: plan.detail }
    return { to: plan.count, resize: { from: state.size, to: plan.size }, note: `resize ${sizeText(state.size)} → ${sizeText(plan.size)}: ${plan.detail}` }
  }
  const vertical = recommendations.find((r) => r.policy === 'vertical' && r.advisory !== true && r.size !== undefined)
  if (spec.vertical.mode === 'auto' && vertical?.size !== undefined && !sameSize(vertical.size, state.size)) {
    return { to, resize: { from: state.size, to: vertical.size }, note: vertical.detail }
  }
  return { to }
}
