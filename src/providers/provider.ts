/**
 * The one seam between tide and the places instances come from. Every provider
 * (local, sim and aws; kubernetes has none yet) implements this and passes
 * the shared contract tests in test/providers/provider.contract.ts.
 */
import type { InstanceStatus } from '../core/health.ts'
import type { GroupSpec, Size } from '../spec/schema.ts'

/**
 * What the provider itself can tell of an instance. The engine maps this to the
 * lifecycle phase (pending/warming/in-service/…) using health and warm-up
 * (engine/lifecycle.ts phaseOf).
 */
export type ProviderStatus = InstanceStatus

/** One instance as a provider reports it. */
export interface InstanceRecord {
  readonly id: string
  readonly group: string
  readonly status: ProviderStatus
  readonly size: Size
  readonly launchedAtMs: number
  /** When the provider first saw it ready (running and, where it checks, healthy). */
  readonly readyAtMs?: number
  /** Where it serves, for the router. */
  readonly address?: { readonly host: string; readonly port: number }
  /**
   * True when the platform itself protects the instance from scale-in (AWS ProtectedFromScaleIn):
   * the controller then never chooses it for removal, as with tide's own protection.
   */
  readonly protectedFromScaleIn?: boolean
  /** Provider-specific details (pid, pod name, EC2 instance id). Never secrets. */
  readonly meta?: Readonly<Record<string, string>>
}

export interface ProviderCapabilities {
  /** How a size change happens: in place, by replacing the instance, or not at all. */
  readonly resize: 'in-place' | 'replace' | 'none'
  /** True when list() finds instances started by an earlier tide process. */
  readonly adopts: boolean
}

/**
 * Implementations are idempotent where the platform allows: terminating an
 * instance that is already gone succeeds (or throws InstanceNotFoundError, which the
 * controller counts as gone). Errors are ProviderError subclasses (see
 * src/providers/errors.ts; codes, statuses and retryable flags in the registry of
 * src/errors.ts). Say what the platform said with the three kinds, as Karpenter's
 * providers do: ThrottledError for the API's rate limit (with retryAfterMs when known),
 * InsufficientCapacityError when there is no room for the size, InstanceNotFoundError for
 * an instance that is gone. The controller acts on each (src/controller/provider-failures.ts):
 * a throttle holds all the group's calls, a shortage backs off launches of that size; any
 * other launch failure is tried again on the next tick when retryable and backed off as a
 * crash loop when not; a failed terminate is asked again by the next tick while the
 * instance is still to go.
 */
export interface Provider {
  readonly name: string
  readonly capabilities: ProviderCapabilities
  /** Instances of the group that exist now, including ones launched by an earlier tide process. */
  list(group: GroupSpec): Promise<InstanceRecord[]>
  /** Starts `count` instances of `size`; returns them (status 'starting' or later). */
  launch(group: GroupSpec, size: Size, count: number): Promise<InstanceRecord[]>
  /** Stops one instance. The controller drains it first. */
  terminate(group: GroupSpec, instanceId: string): Promise<void>
  /** Changes an instance's size in place; only when capabilities.resize is 'in-place'. */
  resize?(group: GroupSpec, instanceId: string, size: Size): Promise<InstanceRecord>
}
