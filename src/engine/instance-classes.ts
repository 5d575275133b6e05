/**
 * How the engine sorts a group's instances for its metrics, after the HPA's
 * groupPods (replica_calculator.go): ready instances supply metrics; not-ready
 * ones (pending, warming, unhealthy) are left out and counted as 0 % only when the
 * result would be a scale-up; leaving ones (draining, terminated) and standby
 * ones (deliberately out of rotation) are ignored entirely. Target tracking narrows this for
 * metrics other than cpu, where warming instances supply samples as groupPods applies its
 * readiness rule to cpu only (sampledInstances in policies/target-tracking.ts).
 */
import type { InstanceView } from './types.ts'

/** A group's instances sorted by the role they play in metric calculations. */
export interface InstanceClasses {
  /** In service: their samples drive scaling. */
  readonly ready: readonly InstanceView[]
  /** Pending, warming or unhealthy: excluded from metrics, 0 % on a scale-up. */
  readonly notReady: readonly InstanceView[]
  /** Instances that count toward capacity now or soon: ready + not ready + standby. */
  readonly live: readonly InstanceView[]
}

/** Sorts instances into ready / not ready / live (see InstanceClasses). */
export function classifyInstances(instances: readonly InstanceView[]): InstanceClasses {
  const ready: InstanceView[] = []
  const notReady: InstanceView[] = []
  const live: InstanceView[] = []
  for (const instance of instances) {
    switch (instance.phase) {
      case 'in-service':
        ready.push(instance)
        live.push(instance)
        break
      case 'pending':
      case 'warming':
      case 'unhealthy':
        notReady.push(instance)
        live.push(instance)
        break
      case 'standby':
        live.push(instance)
        break
      case 'draining':
      case 'terminated':
        break
    }
  }
  return { ready, notReady, live }
}
