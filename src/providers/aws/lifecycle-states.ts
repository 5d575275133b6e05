/**
 * EC2 Auto Scaling lifecycle states mapped to tide's provider statuses (the engine then maps
 * those, with health and warm-up, to tide's phases: engine/lifecycle.ts). Pure. The table is
 * documented in docs/providers.md ("AWS: lifecycle states").
 */
import type { ProviderStatus } from '../provider.ts'

/**
 * The status of an instance in Auto Scaling lifecycle state `state`, or undefined for an
 * instance that is gone (Terminated, Detached) and so not listed:
 * - Pending, Pending:Wait, Pending:Proceed (and the warm pool's Warmed:* states) → starting;
 * - InService → running;
 * - Terminating, Terminating:Wait, Terminating:Proceed, Detaching → stopping (draining: out
 *   of the count, never terminated twice);
 * - EnteringStandby, Standby → standby (kept, out of service and of the desired capacity);
 * - a state AWS adds later → stopping: not counted and not acted on, shown as it is.
 */
export function statusOfLifecycleState(state: string | undefined): ProviderStatus | undefined {
  if (state === undefined) return 'stopping'
  if (state === 'Terminated' || state === 'Detached' || state === 'Warmed:Terminated') return undefined
  if (state === 'InService') return 'running'
  if (state.startsWith('Pending') || state.startsWith('Warmed:')) return 'starting'
  if (state === 'EnteringStandby' || state === 'Standby') return 'standby'
  return 'stopping'
}

/** Whether an instance in `state` counts toward the group's desired capacity (Pending*, InService). */
export function countsTowardDesired(state: string | undefined): boolean {
  return state === 'InService' || (state?.startsWith('Pending') ?? false)
}

/** Whether an instance in `state` is on its way out already (Terminating*, Terminated, Detaching, Detached). */
export function isLeaving(state: string | undefined): boolean {
  return state !== undefined && (state.startsWith('Terminat') || state.startsWith('Detach'))
}

/**
 * Whether a failed scaling activity's status message says there was no room: EC2 out of the
 * instance type, an account's instance or vCPU quota, a spot pool; else the failure is another
 * refusal (a bad launch template, a missing AMI).
 */
export function isCapacityFailure(message: string): boolean {
  return /InsufficientInstanceCapacity|InsufficientCapacity|InstanceLimitExceeded|VcpuLimitExceeded|MaxSpotInstanceCountExceeded|capacity/i.test(message)
}
