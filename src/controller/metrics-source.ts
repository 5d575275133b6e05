import type { InstanceHealth } from '../core/health.ts'
import type { InstanceView, Signals } from '../engine/types.ts'
import type { GroupSpec } from '../spec/schema.ts'

/**
 * Where the controller reads a group's signals: the router's per-second stats and
 * process samples (local), metrics.k8s.io (kubernetes), CloudWatch (aws) or the
 * workload model (simulator). Returns undefined when nothing could be read, which
 * the engine treats as "no metrics": never a reason to scale in.
 */
export interface MetricsSource {
  read(spec: GroupSpec, instances: readonly InstanceView[], nowMs: number): Signals | undefined
  /**
   * The group's freshest demand, requests/s over the last few seconds (the router's last
   * windows, the simulator's last steps), without consuming read()'s window; undefined when
   * unknown. The controller's fast scale-out path (slo.fastScaleOut) reads it every second.
   */
  freshDemand?(spec: GroupSpec, nowMs: number): number | undefined
}

/** A health view of instances, from the router's active and passive checks. */
export interface HealthView {
  /** 'unknown' until the first check completes. */
  health(instanceId: string): InstanceHealth
}
