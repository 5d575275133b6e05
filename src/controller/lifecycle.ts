/**
 * Maps what a provider and the health checks say of an instance to tide's
 * lifecycle phase (DESIGN.md): pending → warming → in-service → draining →
 * terminated, plus unhealthy (to be replaced). Pure.
 */
import type { InstanceHealth } from '../core/health.ts'
import type { InstancePhase, InstanceView } from '../engine/types.ts'
import type { InstanceRecord } from '../providers/provider.ts'
import type { GroupSpec } from '../spec/schema.ts'

/** What the controller itself knows of an instance beyond the provider's record. */
export interface InstanceMarks {
  readonly draining: boolean
  readonly protectedFromScaleIn: boolean
}

/**
 * The phase of one instance at `nowMs`.
 * - starting → pending.
 * - running and marked draining, or stopping → draining; stopped → terminated.
 * - failed (the process died) → unhealthy.
 * - running but failing health checks past the launch grace period → unhealthy.
 * - running, ready less than `warmupSeconds` ago → warming (serves, but its metrics
 *   do not drive scaling, as AWS instance warm-up).
 * - otherwise in-service.
 */
export function phaseOf(record: InstanceRecord, health: InstanceHealth, marks: InstanceMarks, spec: GroupSpec, nowMs: number): InstancePhase {
  switch (record.status) {
    case 'starting':
      return marks.draining ? 'draining' : 'pending'
    case 'stopping':
      return 'draining'
    case 'stopped':
      return 'terminated'
    case 'failed':
      return 'unhealthy'
    case 'running':
      break
  }
  if (marks.draining) return 'draining'
  const graceEndsMs = record.launchedAtMs + spec.health.graceSeconds * 1000
  if (health === 'unhealthy' && nowMs >= graceEndsMs) return 'unhealthy'
  const readyAtMs = record.readyAtMs ?? record.launchedAtMs
  if (nowMs < readyAtMs + spec.warmupSeconds * 1000) return 'warming'
  return 'in-service'
}

/** Builds the engine's view of an instance. */
export function viewOf(record: InstanceRecord, phase: InstancePhase, marks: InstanceMarks): InstanceView {
  // Two literal shapes rather than a spread: this runs for every instance on every tick.
  const { id, size, launchedAtMs, readyAtMs } = record
  const protectedFromScaleIn = marks.protectedFromScaleIn
  return readyAtMs === undefined ? { id, phase, size, launchedAtMs, protectedFromScaleIn } : { id, phase, size, launchedAtMs, readyAtMs, protectedFromScaleIn }
}

/** Phases that count toward the group's capacity for the engine (serving or about to). */
export function countsTowardCapacity(phase: InstancePhase): boolean {
  return phase === 'pending' || phase === 'warming' || phase === 'in-service'
}

/** Phases that receive traffic from the router. */
export function receivesTraffic(phase: InstancePhase): boolean {
  return phase === 'warming' || phase === 'in-service'
}
