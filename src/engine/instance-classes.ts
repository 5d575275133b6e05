/**
 * How the engine sorts a group's instances for its metrics, after the HPA's
 * groupPods (replica_calculator.go): ready instances supply metrics; not-ready
 * ones (pending, warming, unhealthy) are left out and counted as 0 % only when the
 * result would be a scale-up; leaving ones (draining, terminated) and standby
 * ones (deliberately out of rotation) are ignored entirely. Target tracking narrows this
 * (sampledInstances in policies/target-tracking.ts): warming instances supply samples for
 * every metric, as groupPods applies its readiness rule to cpu only, and for cpu that rule
 * (cpuSampleIgnored below, the HPA's own) decides which running instances' readings count.
 */
import type { GroupSpec } from '../spec/schema.ts'
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

/** The two periods of the HPA's cpu rule, in ms (cpuSampleIgnored). */
export interface CpuReadinessPeriods {
  /** The HPA's cpuInitializationPeriod (default 5 min): from the start, how long readings must prove fresh. */
  readonly cpuInitializationPeriodMs: number
  /** The HPA's delayOfInitialReadinessStatus (default 30 s): a readiness transition this soon after start is the initial one. */
  readonly initialReadinessDelayMs: number
}

/** A group's periods for the cpu rule, from `cpuInitializationPeriodSeconds` and `initialReadinessDelaySeconds`. */
export function cpuReadinessPeriods(spec: Pick<GroupSpec, 'cpuInitializationPeriodSeconds' | 'initialReadinessDelaySeconds'>): CpuReadinessPeriods {
  return { cpuInitializationPeriodMs: spec.cpuInitializationPeriodSeconds * 1000, initialReadinessDelayMs: spec.initialReadinessDelaySeconds * 1000 }
}

/** What groupPods reads of a pod for its cpu rule: its start and its Ready condition. */
export interface CpuReadiness {
  /** The pod's StartTime, epoch ms: tide's launchedAtMs. */
  readonly startMs: number
  /** The Ready condition, absent when the pod has none: whether it is ready now and when that last changed, epoch ms. */
  readonly condition?: { readonly ready: boolean; readonly lastTransitionMs: number }
}

/** When a cpu reading was taken (the metric's Timestamp, epoch ms) and over how long a window (its Window, ms); undefined when the producer did not say. */
export interface CpuReadingTime {
  readonly atMs: number | undefined
  readonly windowMs: number | undefined
}

/**
 * Whether the HPA leaves a pod's cpu reading out (groupPods, for cpu; the pod is running
 * and has a reading). Exactly its rule:
 * - no Ready condition → left out;
 * - within the cpu initialization period of the start (start + period > now) → left out if
 *   not ready, or if the reading was taken before the last readiness transition plus the
 *   reading's window (the window began before the instance was ready);
 * - past it → left out only if not ready and the last transition came less than the initial
 *   readiness delay after the start (it has never been ready).
 * A reading without a time or window cannot show that its window began after readiness, so
 * within the period it is left out (tide's producers always give both). Times in epoch ms. Pure.
 */
export function cpuSampleIgnored(pod: CpuReadiness, reading: CpuReadingTime, nowMs: number, periods: CpuReadinessPeriods): boolean {
  const condition = pod.condition
  if (condition === undefined) return true
  if (pod.startMs + periods.cpuInitializationPeriodMs > nowMs) {
    if (!condition.ready) return true
    if (reading.atMs === undefined || reading.windowMs === undefined) return true
    return reading.atMs < condition.lastTransitionMs + reading.windowMs
  }
  return !condition.ready && pod.startMs + periods.initialReadinessDelayMs > condition.lastTransitionMs
}

/**
 * An instance as groupPods' cpu rule sees a pod: started at launch; Ready condition true
 * unless it fails its health checks now (`unready`); last transition at its first readiness
 * (`readyAtMs`), or at launch when its provider gives no ready time (as phaseOf in
 * lifecycle.ts). tide records the first readiness only, so an instance that fails its checks
 * and recovers within health.graceSeconds keeps that first time (past the grace period it is
 * replaced instead; docs/hpa-compatibility.md, difference 3).
 */
export function cpuReadinessOf(instance: InstanceView): CpuReadiness {
  return { startMs: instance.launchedAtMs, condition: { ready: instance.unready !== true, lastTransitionMs: instance.readyAtMs ?? instance.launchedAtMs } }
}
