/**
 * Per-direction rate policies, after the HPA's calculateScaleUpLimitWithScalingRules
 * and calculateScaleDownLimitWithBehaviors (horizontal.go):
 *
 * - For each policy, the count at the start of its period is the current count
 *   minus what was added and plus what was removed within the last periodSeconds.
 * - Scale-up: Pods → start + value; Percent → ceil(start × (1 + value/100)) (rounded
 *   up so that a small group can grow at all). Scale-down: Pods → start − value;
 *   Percent → trunc(start × (1 − value/100)) (so 10 % of 72 removes 8, not 7).
 * - selectPolicy Max picks the policy allowing the biggest change, Min the smallest,
 *   Disabled forbids the direction (the limit is the current count).
 */
import type { ScalingRules } from '../../spec/schema.ts'
import type { ScaleEvent } from '../types.ts'

/** One rate policy of behavior.scaleUp/scaleDown. */
export type RatePolicy = ScalingRules['policies'][number]

/** The limit in one direction and the policy that set it (absent when the direction is disabled). */
export interface RateLimit {
  readonly replicas: number
  readonly policy?: RatePolicy
}

/** Sum of |delta| of the events newer than nowMs − periodSeconds (getReplicasChangePerPeriod). */
export function changeInPeriod(periodSeconds: number, events: readonly ScaleEvent[], nowMs: number): number {
  const cutoffMs = nowMs - periodSeconds * 1000
  let replicas = 0
  for (const e of events) if (e.atMs > cutoffMs) replicas += Math.abs(e.delta)
  return replicas
}

function periodStart(policy: RatePolicy, current: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], nowMs: number): number {
  return current - changeInPeriod(policy.periodSeconds, up, nowMs) + changeInPeriod(policy.periodSeconds, down, nowMs)
}

/** The highest count a scale-up may reach now (calculateScaleUpLimitWithScalingRules). */
export function scaleUpLimit(currentReplicas: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): RateLimit {
  if (rules.selectPolicy === 'Disabled') return { replicas: currentReplicas }
  const useMin = rules.selectPolicy === 'Min'
  let best: RateLimit | undefined
  for (const policy of rules.policies) {
    const start = periodStart(policy, currentReplicas, up, down, nowMs)
    const proposed = policy.type === 'Pods' ? start + policy.value : Math.ceil(start * (1 + policy.value / 100))
    if (best === undefined || (useMin ? proposed < best.replicas : proposed > best.replicas)) best = { replicas: proposed, policy }
  }
  return best ?? { replicas: currentReplicas }
}

/** The lowest count a scale-down may reach now (calculateScaleDownLimitWithBehaviors). */
export function scaleDownLimit(currentReplicas: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): RateLimit {
  if (rules.selectPolicy === 'Disabled') return { replicas: currentReplicas }
  const useMin = rules.selectPolicy === 'Min'
  let best: RateLimit | undefined
  for (const policy of rules.policies) {
    const start = periodStart(policy, currentReplicas, up, down, nowMs)
    const proposed = policy.type === 'Pods' ? start - policy.value : Math.trunc(start * (1 - policy.value / 100))
    // Min picks the smallest change (the highest floor); Max the biggest (the lowest floor).
    if (best === undefined || (useMin ? proposed > best.replicas : proposed < best.replicas)) best = { replicas: proposed, policy }
  }
  return best ?? { replicas: currentReplicas }
}

/** "+4 instances/15 s", "+100%/15 s", "−10%/60 s": a rate policy in an explanation. */
export function ratePolicyText(policy: RatePolicy, direction: 'up' | 'down'): string {
  const sign = direction === 'up' ? '+' : '−'
  const amount = policy.type === 'Pods' ? `${policy.value} instance${policy.value === 1 ? '' : 's'}` : `${policy.value}%`
  return `${sign}${amount}/${policy.periodSeconds} s`
}

/** The longest period among the rules' policies, in ms: scale events older than this no longer matter. */
export function longestPeriodMs(rules: ScalingRules): number {
  let longest = 0
  for (const p of rules.policies) longest = Math.max(longest, p.periodSeconds)
  return longest * 1000
}
