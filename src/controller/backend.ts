/**
 * What the controller needs of the platform a group runs on, as one value per group: where its
 * instances come from (Provider), where its signals are read (MetricsSource), how healthy each
 * instance is (HealthView), and how traffic reaches it (Traffic). The runtime composes one per
 * group from its provider (src/runtime/backends/); the simulator composes its own. The controller
 * never asks which platform it is talking to, so a new provider plugs in without changing it.
 */
import type { InstanceHealth } from '../core/health.ts'
import type { InstanceRecord, Provider } from '../providers/provider.ts'
import type { GroupSpec } from '../spec/schema.ts'
import type { HealthView, MetricsSource } from './metrics-source.ts'

/** An instance that receives (or finishes) traffic: what a router or load balancer needs of it. */
export interface TrafficTarget {
  readonly id: string
  readonly host: string
  readonly port: number
  /** 'draining' finishes what it has and gets nothing new. */
  readonly state: 'warming' | 'in-service' | 'draining'
  readonly launchedAtMs: number
}

/**
 * How requests reach a group's instances: tide's router for `local` groups; a Service or a load
 * balancer elsewhere, where the platform routes by itself and setTargets has nothing to do.
 */
export interface Traffic {
  /**
   * The instances that take requests now, with their state. The controller calls it whenever it
   * has observed or changed the group's instances (every tick, and after a fast scale-out), so
   * an instance launched, drained or gone is routed accordingly at once.
   */
  setTargets(spec: GroupSpec, targets: readonly TrafficTarget[]): void
  /**
   * Takes an instance out of service before it is terminated: no new requests, in-flight work
   * finishes, the app's preStop hook and the group's backup command run. Resolves when it is
   * safe to terminate; reports timeouts through events rather than rejecting.
   */
  drain(spec: GroupSpec, instance: InstanceRecord): Promise<void>
  /**
   * Takes an instance out of rotation without stopping it (standby): no new requests, in-flight
   * ones finish; resolves when none is in flight or the group's drain timeout passed. No preStop
   * hook or backup runs: the instance stays. Absent where tide does not route (standby is then
   * refused).
   */
  detach?(spec: GroupSpec, instanceId: string): Promise<void>
  /** How traffic stands now, for the group's status (local: whether the backup pool serves); absent where there is nothing to say. */
  state?(spec: GroupSpec): TrafficState
}

/** What status says of a group's routing (plain data). */
export interface TrafficState {
  /** The backup pool (routing.backup), when the group has one. */
  readonly backup?: {
    /** True while no primary instance is routable and the backup targets get the requests. */
    readonly active: boolean
    /** Since when it has been (or not been) active, epoch ms. */
    readonly sinceMs?: number
    /** The backup targets as configured (host:port, or the upstream url). */
    readonly targets: readonly string[]
  }
}

/** Everything the controller uses of one group's platform. */
export interface Backend {
  readonly provider: Provider
  readonly signals: MetricsSource
  /** Instance health from the platform's checks; without one every instance is 'unknown' (provider status alone). */
  readonly health?: HealthView
  /** Without traffic (the simulator), an instance to retire is terminated at once, with no drain. */
  readonly traffic?: Traffic
}

/** A health view that knows nothing: every instance 'unknown', so the provider's own status decides. */
export const unknownHealth: HealthView = { health: (): InstanceHealth => 'unknown' }

/** One backend for every group (the simulator, tests): `backend` answers whatever the spec. */
export function sameBackend(backend: Backend): (spec: GroupSpec) => Backend {
  return () => backend
}
