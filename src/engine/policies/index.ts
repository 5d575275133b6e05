/**
 * The policies decide() consults, by name, in alphabetical order. Adding a policy:
 * write policies/NAME.ts exporting a ScalingPolicy, add it here, test it beside
 * the others in test/engine/policies/. decide() asks every policy on every tick;
 * a policy that is not configured for a group returns undefined.
 */
import type { PolicyKind } from '../types.ts'
import type { ScalingPolicy } from './policy.ts'
import { predictivePolicy } from './predictive.ts'
import { scheduledPolicy } from './scheduled.ts'
import { sloPolicy } from './slo.ts'
import { stepPolicy } from './step.ts'
import { targetTrackingPolicy } from './target-tracking.ts'
import { verticalPolicy } from './vertical.ts'

/** Factories of the policies this engine has, by kind, alphabetical. */
export const policyFactories: Readonly<Partial<Record<PolicyKind, () => ScalingPolicy>>> = {
  predictive: () => predictivePolicy,
  scheduled: () => scheduledPolicy,
  slo: () => sloPolicy,
  step: () => stepPolicy,
  'target-tracking': () => targetTrackingPolicy,
  vertical: () => verticalPolicy,
}

/** Every available policy, in the alphabetical order above (the order of Decision.recommendations). */
export const allPolicies: readonly ScalingPolicy[] = Object.values(policyFactories).map((make) => make())
