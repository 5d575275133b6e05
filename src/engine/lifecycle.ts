/**
 * The instance lifecycle as decisions (DESIGN.md): what a provider and the health checks say
 * of an instance, mapped to tide's phase (pending → warming → in-service → draining →
 * terminated, plus unhealthy: to be replaced), and the count a group starts from when the
 * controller first sees it. Pure: the controller passes the records, the health and `nowMs`.
 */
import type { InstanceHealth, InstanceStatus } from '../core/health.ts'
import type { GroupSpec, Size } from '../spec/schema.ts'
import type { InstancePhase, InstanceView } from './types.ts'

/**
 * What the lifecycle reads of one instance as its provider reports it. A provider's
 * InstanceRecord (providers/provider.ts) has these fields and more; the engine names only these
 * so that it does not depend on the provider layer.
 */
export interface ObservedInstance {
  readonly id: string
  readonly status: InstanceStatus
  readonly size: Size
  /** When the provider launched it, epoch ms. */
  readonly launchedAtMs: number
  /** When the provider first saw it ready, epoch ms; absent while it has not been. */
  readonly readyAtMs?: number
}

/** What the controller itself knows of an instance beyond the provider's record. */
export interface InstanceMarks {
  readonly draining: boolean
  readonly protectedFromScaleIn: boolean
  /** An operator put it in standby (AWS EnterStandby): it runs, out of the router's targets and of the group's capacity. Absent: false. */
  readonly standby?: boolean
}

/**
 * The phase of one instance at `nowMs` (epoch ms).
 * - starting → pending (draining when the controller already marked it so).
 * - running and marked draining, or stopping → draining; stopped → terminated.
 * - failed (the process died) → unhealthy.
 * - standby (kept by the platform, out of service and of the count: AWS Standby) → standby.
 * - running and marked standby (after draining) → standby, whatever its health: an operator took
 *   it out of service on purpose, so it is neither replaced nor counted (AWS does not health-check
 *   instances in Standby either).
 * - running but failing health checks from the end of the launch grace period
 *   (health.graceSeconds after launch) → unhealthy; 'unknown' health never is.
 * - running, ready less than `warmupSeconds` ago (launch time when the provider gave no
 *   ready time) → warming (serves, but its metrics do not drive scaling, as AWS instance
 *   warm-up).
 * - otherwise in-service.
 */
export function phaseOf(record: ObservedInstance, health: InstanceHealth, marks: InstanceMarks, spec: GroupSpec, nowMs: number): InstancePhase {
  switch (record.status) {
    case 'starting':
      return marks.draining ? 'draining' : 'pending'
    case 'stopping':
      return 'draining'
    case 'stopped':
      return 'terminated'
    case 'failed':
      return 'unhealthy'
    case 'standby':
      return 'standby'
    case 'running':
      break
  }
  if (marks.draining) return 'draining'
  if (marks.standby === true) return 'standby'
  const graceEndsMs = record.launchedAtMs + spec.health.graceSeconds * 1000
  if (health === 'unhealthy' && nowMs >= graceEndsMs) return 'unhealthy'
  const readyAtMs = record.readyAtMs ?? record.launchedAtMs
  if (nowMs < readyAtMs + spec.warmupSeconds * 1000) return 'warming'
  return 'in-service'
}

/**
 * Builds the engine's view of an instance in `phase`; readyAtMs only when the record has one,
 * and `unready` when it runs and its health checks fail now (`health` 'unhealthy'; the
 * default 'unknown' never sets it), which the HPA's cpu rule reads as a Ready condition False.
 */
export function viewOf(record: ObservedInstance, phase: InstancePhase, marks: InstanceMarks, health: InstanceHealth = 'unknown'): InstanceView {
  // Two literal shapes rather than a spread: this runs for every instance on every tick.
  const { id, size, launchedAtMs, readyAtMs } = record
  const protectedFromScaleIn = marks.protectedFromScaleIn
  const view: InstanceView = readyAtMs === undefined ? { id, phase, size, launchedAtMs, protectedFromScaleIn } : { id, phase, size, launchedAtMs, readyAtMs, protectedFromScaleIn }
  return health === 'unhealthy' && record.status === 'running' ? { ...view, unready: true } : view
}

/** Phases that count toward the group's capacity for the engine (serving or about to): pending, warming, in-service. */
export function countsTowardCapacity(phase: InstancePhase): boolean {
  return phase === 'pending' || phase === 'warming' || phase === 'in-service'
}

/** Phases that receive traffic from the router: warming and in-service. */
export function receivesTraffic(phase: InstancePhase): boolean {
  return phase === 'warming' || phase === 'in-service'
}

/**
 * The desired count of a group the controller sees for the first time (nothing stored):
 * adopt the instances that run or start (an earlier tide process, or an operator, launched
 * them), else start at replicas.initial, or replicas.min without one; either way clamped to
 * [replicas.min, replicas.max]. So 12 adopted instances under max 10 give 10 (the next ticks
 * scale in), and none under min 2 give 2.
 */
export function initialReplicas(spec: GroupSpec, instances: readonly Pick<ObservedInstance, 'status'>[]): number {
  const live = instances.filter((r) => r.status === 'starting' || r.status === 'running').length
  const start = live > 0 ? live : (spec.replicas.initial ?? spec.replicas.min)
  return Math.min(spec.replicas.max, Math.max(spec.replicas.min, start))
}
