/**
 * tide's own group configuration for `tide simulate` without `-c`: the best policy
 * tide offers out of the box, tuned with the quality bench (bench/quality.ts) on the
 * shared and synthetic traces. It is expressed in the simulation's own terms —
 * instance capacity N — because a good target depends on it:
 *
 * - rps per instance at 90 % of N, the only metric. Requests routed per instance
 *   (as AWS's ALBRequestCountPerTarget) track demand linearly, even while the
 *   instances are saturated, so one sync period brings capacity to the load. cpu
 *   saturates at 100 % and cannot say by how much the fleet is short; a p95-latency
 *   target was tried and dropped: in a queue, latency explodes near saturation and
 *   the ratio to target (up to 50×) overshot the fleet by 5–10× after every surge.
 * - Scale-up: no stabilization, a tolerance of 5 %, and up to +100 % or +8
 *   instances per 15 s, so a surge is met within one sync period plus start-up.
 * - Scale-down: a 120 s window instead of the HPA's 300 s, at most −20 % per 30 s,
 *   so the fleet follows a falling tide without flapping on noise (a 300 s window
 *   cost 3–10 % more on the bench traces for no fewer violations).
 * - The HPA's 15 s sync period: a 5 s period cut violations on the noisiest traces
 *   by a fifth but triples the controller's work.
 */
import { GroupSchema, type GroupSpec } from '../spec/schema.ts'
import type { SimulationParams } from './params.ts'

/** The group name used when no config is given. */
export const defaultGroupName = 'app'

/**
 * The default group for the given simulation parameters (see the module comment).
 * `extra` overrides top-level fields (replicas, schedules, …) before validation.
 */
export function defaultGroupSpec(params: SimulationParams, extra: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({
    group: defaultGroupName,
    provider: 'sim',
    replicas: { min: 1, max: 1000 },
    startupSeconds: params.startupSeconds,
    metrics: [{ type: 'rps', target: { averageValue: round3(params.instanceRps * 0.9) } }],
    behavior: {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        tolerance: 0.05,
        policies: [
          { type: 'Percent', value: 100, periodSeconds: 15 },
          { type: 'Pods', value: 8, periodSeconds: 15 },
        ],
        selectPolicy: 'Max',
      },
      scaleDown: {
        stabilizationWindowSeconds: 120,
        tolerance: 0.1,
        policies: [{ type: 'Percent', value: 20, periodSeconds: 30 }],
        selectPolicy: 'Max',
      },
    },
    ...extra,
  })
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}
