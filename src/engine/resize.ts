/**
 * The size half of a decision, after the count is settled by combine and the guards:
 *
 * - strategy `mixed` (with a size ladder): the mixed planner (planner/plan-fleet.ts) turns the
 *   guarded count — capacity in units of the current size — into cpu cores of demand and picks
 *   (count, size) for it. When the count was capped by max, the uncapped want is the demand, so
 *   the planner can reach for a bigger size instead of stopping at max.
 * - strategy `vertical` (with a size ladder): the same planner with the count held where it is
 *   (within min/max): the reactive policies' demand is met by the instances' size alone, the
 *   smallest rung whose count × cpu carries it (the largest when none does).
 * - otherwise, vertical `auto`: a non-advisory vertical recommendation whose size differs
 *   from the current one becomes the resize; the count is kept.
 *
 * Pure. The controller carries a resize out as launch-before-terminate replacement.
 */
import { sameSize, sizeText } from '../core/size.ts'
import { effectiveBounds } from './guards/bounds.ts'
import type { Combined } from './combine.ts'
import { planFleet } from './planner/plan-fleet.ts'
import type { AppliedLimit, DecideInput, Decision, Recommendation } from './types.ts'
import { recommendSize } from './vertical/recommend-size.ts'

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
  if ((spec.strategy === 'mixed' || spec.strategy === 'vertical') && spec.sizes.length > 0) return plannedOutcome(input, combined, to, limits)
  const vertical = recommendations.find((r) => r.policy === 'vertical' && r.advisory !== true && r.size !== undefined)
  if (spec.vertical.mode === 'auto' && vertical?.size !== undefined && !sameSize(vertical.size, state.size)) {
    return { to, resize: { from: state.size, to: vertical.size }, note: vertical.detail }
  }
  return { to }
}

/** Strategy mixed or vertical: the planner picks (count, size) for the demand behind the guarded count. */
function plannedOutcome(input: DecideInput, combined: Combined, to: number, limits: readonly AppliedLimit[]): SizeOutcome {
  const { spec, state } = input
  const held = spec.strategy === 'vertical' ? heldCount(input, combined) : undefined
  if (!combined.hasReplicas) return { to: held ?? to }
  const units = demandUnits(combined, to, limits)
  // The same min/max decide() applied to the count: a schedule may raise or lower either.
  const bounds = effectiveBounds(spec.replicas, combined.scheduleMin, combined.scheduleMax)
  const memory = memoryNeedMiB(input)
  const plan = planFleet({
    demandCpu: units * state.size.cpu,
    ladder: spec.sizes,
    currentSize: state.size,
    currentCount: state.desiredReplicas,
    min: held ?? bounds.min,
    max: held ?? bounds.max,
    order: held === undefined ? spec.mixedOrder : 'cheapest',
    startupSeconds: (input.startupMs ?? spec.startupSeconds * 1000) / 1000,
    ...(memory === undefined ? {} : { minMemoryMiB: memory }),
    ...(input.quotaRoom === undefined ? {} : { quotaRoom: input.quotaRoom }),
  })
  if (sameSize(plan.size, state.size)) return plan.count === to ? { to } : { to: plan.count, note: plan.detail }
  return { to: plan.count, resize: { from: state.size, to: plan.size }, note: `resize ${sizeText(state.size)} → ${sizeText(plan.size)}: ${plan.detail}` }
}

/**
 * The demand in units of the current size: the guarded count, or the uncapped want when the
 * max in force (the spec's, 'bounds', or an active schedule's, 'schedule') capped it; a count
 * raised to a min is not demand.
 */
function demandUnits(combined: Combined, to: number, limits: readonly AppliedLimit[]): number {
  const last = limits.at(-1)
  const cappedAtMax = last !== undefined && (last.guard === 'bounds' || last.guard === 'schedule') && last.to < last.from && to < combined.proposed
  return cappedAtMax ? combined.proposed : to
}

/** Strategy vertical: the count stays where it is, within the min/max in force. */
function heldCount(input: DecideInput, combined: Combined): number {
  const bounds = effectiveBounds(input.spec.replicas, combined.scheduleMin, combined.scheduleMax)
  return Math.min(bounds.max, Math.max(bounds.min, input.state.desiredReplicas))
}

/**
 * The memory an instance needs, for the planner: what the vertical policy would size for —
 * the usage percentile plus headroom, or the VPA's OOM floor after a recent kill
 * (recommendSize's memory target). Undefined without usage data.
 */
function memoryNeedMiB(input: DecideInput): number | undefined {
  const { spec, state, usage } = input
  if (usage === undefined) return undefined
  const r = recommendSize({
    cpuCores: usage.cpuCores,
    memoryMiB: usage.memoryMiB,
    ladder: spec.sizes,
    current: state.size,
    percentile: spec.vertical.percentile,
    headroomPercent: spec.vertical.headroomPercent,
    ...(usage.oom === undefined ? {} : { oom: usage.oom }),
    nowMs: input.nowMs,
  })
  return r.memoryTargetMiB > 0 ? r.memoryTargetMiB : undefined
}
