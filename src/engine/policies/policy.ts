/**
 * The seam every scaling policy plugs into. A policy reads the group's spec, state
 * and signals and says what it wants; `combine` and the guards turn the wants of
 * all policies into one Decision. Policies are pure: same input, same output.
 */
import type { GroupSpec } from '../../spec/schema.ts'
import { classifyInstances, type InstanceClasses } from '../instance-classes.ts'
import type { HeadroomEstimate } from '../../forecast/headroom-learner.ts'
import type { DecideInput, DemandForecast, GroupState, PolicyKind, Recommendation, Signals, UsageHistograms } from '../types.ts'

/** What a policy sees: the decide() input plus the instances sorted once for all policies. */
export interface PolicyInput {
  readonly spec: GroupSpec
  readonly state: GroupState
  /** Undefined when no signals could be read at all. */
  readonly signals: Signals | undefined
  /** Epoch milliseconds of this decision; policies never read a clock. */
  readonly nowMs: number
  readonly instances: InstanceClasses
  /** The controller's demand forecast (predictive policy), when it keeps one. */
  readonly forecast?: DemandForecast
  /** Per-instance usage histograms (vertical policy, mixed planner), when the controller keeps them. */
  readonly usage?: UsageHistograms
  /** Measured start-up time, ms (predictive scheduling buffer `auto`). */
  readonly startupMs?: number
  /** The headroom learner's estimate (slo policy). */
  readonly headroom?: HeadroomEstimate
}

/**
 * One kind of scaling policy.
 * `propose` returns undefined when the policy has nothing to say for this group
 * (it is not configured, or a schedule is not active); otherwise a Recommendation
 * whose `replicas` may still be absent when the policy could not compute one
 * (e.g. reason 'NoMetrics'), so that the explanation can say why.
 */
export interface ScalingPolicy {
  readonly kind: PolicyKind
  propose(input: PolicyInput): Recommendation | undefined
}

/** Builds a PolicyInput from a decide() input, classifying the instances once. */
export function policyInput(input: DecideInput): PolicyInput {
  return {
    spec: input.spec,
    state: input.state,
    signals: input.signals,
    nowMs: input.nowMs,
    instances: classifyInstances(input.state.instances),
    ...(input.forecast === undefined ? {} : { forecast: input.forecast }),
    ...(input.usage === undefined ? {} : { usage: input.usage }),
    ...(input.startupMs === undefined ? {} : { startupMs: input.startupMs }),
    ...(input.headroom === undefined ? {} : { headroom: input.headroom }),
  }
}
