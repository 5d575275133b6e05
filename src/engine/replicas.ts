/**
 * Ratio → replica arithmetic shared by the policies, after the Kubernetes HPA
 * (pkg/controller/podautoscaler/replica_calculator.go).
 */

/**
 * Per-direction HPA tolerance: no change while
 * `1 − scaleDown ≤ usageRatio ≤ 1 + scaleUp` (spec.behavior.scaleDown/scaleUp.tolerance,
 * both 0.1 by default, i.e. ±10 %).
 */
export interface Tolerances {
  readonly scaleDown: number
  readonly scaleUp: number
}

/**
 * Slack for floating-point noise: 0.66 / 0.6 is 1.1000000000000003 in binary
 * floating point, and 1.5 × 4 can come out as 6.000000000000001. The HPA works in
 * integer milli-units and never sees this; we absorb it with a tolerance far
 * below any meaningful metric difference.
 */
const epsilon = 1e-9

/** Whether a usage ratio (metric / target) is close enough to 1 that the HPA leaves the count alone. */
export function withinTolerance(usageRatio: number, tolerances: Tolerances): boolean {
  return usageRatio >= 1 - tolerances.scaleDown - epsilon && usageRatio <= 1 + tolerances.scaleUp + epsilon
}

/** `ceil(x)` that ignores floating-point noise just above an integer (see `epsilon`); never below 0. */
export function ceilReplicas(x: number): number {
  return Math.max(0, Math.ceil(x - epsilon))
}

/**
 * The HPA's getUsageRatioReplicaCount for a whole-group metric (latency, an
 * external total): with replicas running, hold within tolerance, otherwise
 * `ceil(usageRatio × readyCount)`; from zero replicas, `ceil(usageRatio)` so that a
 * group can scale from zero. Then tide applies the HPA's "never flip direction"
 * rule: a ratio above 1 never lowers the count and one below 1 never raises it
 * (this happens when few of the current replicas are ready yet).
 */
export function replicasForGroupRatio(currentReplicas: number, usageRatio: number, readyCount: number, tolerances: Tolerances): number {
  if (currentReplicas === 0) return ceilReplicas(usageRatio)
  if (withinTolerance(usageRatio, tolerances)) return currentReplicas
  return holdIfDirectionFlips(currentReplicas, usageRatio, ceilReplicas(usageRatio * readyCount))
}

/**
 * The HPA's last check in GetResourceReplicas: when the replica count would move
 * against the ratio (a ratio above 1 yet fewer replicas, or below 1 yet more),
 * keep the current count.
 */
export function holdIfDirectionFlips(currentReplicas: number, usageRatio: number, replicas: number): number {
  if ((usageRatio < 1 && replicas > currentReplicas) || (usageRatio > 1 && replicas < currentReplicas)) return currentReplicas
  return replicas
}
