/**
 * The vertical policy, in the manner of the Kubernetes VPA recommender: from the decaying
 * histograms of per-instance cpu and memory usage that the controller keeps
 * (DecideInput.usage), the smallest rung of the size ladder that holds
 * percentile × (1 + headroom), with the VPA's memory bump after an out-of-memory kill
 * (vertical/recommend-size.ts does the arithmetic).
 *
 * - `off`: says nothing. `recommend`: the recommendation is `advisory` — in the Decision and
 *   its explanation, never acted on. `auto`: decide() turns a changed size into Decision.resize.
 * - With strategy `mixed` or `vertical` the planner decides the size from the same signals as
 *   the count (one planner for both dimensions), so this policy stays out, whatever its mode.
 * - Without histograms (the controller keeps none yet) or samples: a recommendation without a
 *   size that says so.
 */
import { recommendSize } from '../vertical/recommend-size.ts'
import type { Recommendation } from '../types.ts'
import type { PolicyInput, ScalingPolicy } from './policy.ts'

function propose(input: PolicyInput): Recommendation | undefined {
  const cfg = input.spec.vertical
  if (cfg.mode === 'off' || input.spec.strategy !== 'horizontal') return undefined
  const marks = { policy: 'vertical' as const, ...(cfg.mode === 'recommend' ? { advisory: true } : {}) }
  const usage = input.usage
  if (usage === undefined) return { ...marks, reason: 'NoUsageData', detail: 'vertical: no usage histograms kept yet' }
  const r = recommendSize({
    cpuCores: usage.cpuCores,
    memoryMiB: usage.memoryMiB,
    ladder: input.spec.sizes,
    current: input.state.size,
    percentile: cfg.percentile,
    headroomPercent: cfg.headroomPercent,
    ...(usage.oom === undefined ? {} : { oom: usage.oom }),
    nowMs: input.nowMs,
  })
  if (r.reason === 'NoUsageData') return { ...marks, reason: r.reason, detail: `vertical: ${r.detail}` }
  const verb = r.changed ? 'resize' : 'keep size'
  return { ...marks, size: r.size, reason: r.reason, detail: `vertical: ${verb}: ${r.detail}` }
}

/** The vertical policy (see the module comment). */
export const verticalPolicy: ScalingPolicy = { kind: 'vertical', propose }
