import type { InstanceHealth } from '../core/health.ts'
import type { InstanceView, Signals } from '../engine/types.ts'
import type { ExternalSignals } from '../metrics/external/external-signals.ts'
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
  /**
   * Fetches what must be fetched before read() (the group's external sources), awaited by the
   * controller before each sync's read. Must not reject and must be bounded in time: a source
   * that fails or is slow is a missing value, never a failed tick.
   */
  refresh?(spec: GroupSpec, nowMs: number): Promise<void>
}

/**
 * `inner` with the group's external metrics added (Signals.group.external and the sources'
 * failures): refresh() polls the sources (after inner's own refresh), read() merges them in.
 * The local runtime wraps its router signals in it; any backend can.
 */
export function withExternalSignals(inner: MetricsSource, external: ExternalSignals): MetricsSource {
  const source: MetricsSource = {
    read: (spec, instances, nowMs) => external.merge(spec, inner.read(spec, instances, nowMs), nowMs),
    refresh: async (spec, nowMs) => {
      await inner.refresh?.(spec, nowMs)
      await external.refresh(spec, nowMs)
    },
  }
  const freshDemand = inner.freshDemand?.bind(inner)
  return freshDemand === undefined ? source : { ...source, freshDemand }
}

/** A health view of instances, from the router's active and passive checks. */
export interface HealthView {
  /** 'unknown' until the first check completes. */
  health(instanceId: string): InstanceHealth
}
