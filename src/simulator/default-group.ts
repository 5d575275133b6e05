/**
 * tide's own group configuration for `tide simulate` without `-c`: the best policy tide offers
 * out of the box, expressed in the simulation's own terms — instance capacity N and the p95
 * objective — because that is what an operator who load-tested one instance knows.
 *
 * - SLO-first (issue 9): `slo: { latencyP95Ms, budgetPercent: 0.5, instanceRps: N }` and no
 *   utilisation target. The slo policy scales on demand and keeps the headroom learned from the
 *   group's own demand rises within its reaction time (src/forecast/headroom-learner.ts): the
 *   share of time above capacity that the 0.5 % budget allows, per hour of day once a few days
 *   are known, a safe 40 % before the first hour is learned.
 * - Fast path up (slo.fastScaleOut): scale-out acts on every fresh demand signal; scale-in waits
 *   for the sync period and a 60 s stabilization window, up to −50 % per 15 s.
 * - Scale-up: no stabilization, up to +100 % or +8 instances per 15 s, so a surge is met within
 *   one start-up.
 * - The HPA's 15 s sync period.
 *
 * docs/bench.md shows how this default does against the HPA's whole range of targets and
 * windows, on traffic of different characters (bench/quality.ts).
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
    slo: { latencyP95Ms: params.sloP95Ms, budgetPercent: 0.5, instanceRps: params.instanceRps },
    behavior: {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        policies: [
          { type: 'Percent', value: 100, periodSeconds: 15 },
          { type: 'Pods', value: 8, periodSeconds: 15 },
        ],
        selectPolicy: 'Max',
      },
      scaleDown: {
        stabilizationWindowSeconds: 60,
        policies: [{ type: 'Percent', value: 50, periodSeconds: 15 }],
        selectPolicy: 'Max',
      },
    },
    ...extra,
  })
}
