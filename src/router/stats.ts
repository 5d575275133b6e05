/**
 * The router's per-second statistics: counted by each proxy core in windows,
 * merged by the primary into RouterStats — the freshest signal tide has
 * (requests/s, in-flight and latency percentiles per instance, per priority class
 * and for the whole group; bytes to and from each instance and in total).
 */
import type { InstanceHealth } from '../core/health.ts'
import type { Priority } from '../core/priority.ts'
import { LatencyHistogram } from './latency-histogram.ts'
import type { CounterSample, WindowSample } from './protocol.ts'

/** Traffic of one window. Percentiles are undefined when no request completed: no traffic is not zero latency. */
export interface TrafficStats {
  /** Requests answered by an instance in the window (any status). */
  readonly requests: number
  /** requests / window length in seconds. */
  readonly rps: number
  /** 5xx answers plus the router's own 502/504 answers. */
  readonly errors: number
  /** Requests in flight to instances at the end of the window. */
  readonly inFlight: number
  readonly p50Ms: number | undefined
  readonly p95Ms: number | undefined
  readonly p99Ms: number | undefined
}

/** Bytes of the window between the router and instances (see CounterSample.bytesIn). */
export interface ByteStats {
  /** Bytes sent to instances: requests. */
  readonly bytesIn: number
  /** Bytes received from instances: responses. */
  readonly bytesOut: number
}

/** One instance's traffic; latency from dispatch to the end of the instance's answer. */
export interface InstanceStats extends TrafficStats, ByteStats {
  readonly id: string
  readonly health: InstanceHealth
}

/** One priority class's traffic; latency from arrival at the router (queueing included). */
export interface ClassStats extends TrafficStats {
  readonly name: string
  readonly priority: Priority
  /** Requests refused with 503 + Retry-After by admission control. */
  readonly shed: number
  /** Requests waiting for capacity at the end of the window. */
  readonly queued: number
}

/** The last completed window of the router, normally one second long. */
export interface RouterStats {
  readonly windowStartMs: number
  readonly windowEndMs: number
  readonly total: TrafficStats & ByteStats & { readonly shed: number; readonly queued: number }
  /** Instances the router knows (in the routing table or still finishing requests), by id order. */
  readonly instances: readonly InstanceStats[]
  /** Every configured class, plus 'normal' when no class is a catch-all. */
  readonly classes: readonly ClassStats[]
}

/** Mutable counters a core keeps for one instance, one class or the total during a window. */
export class TrafficCounters {
  requests = 0
  errors = 0
  shed = 0
  /** Body bytes to and from instances; counted for instances and the total only. */
  bytesIn = 0
  bytesOut = 0
  /** Live gauges, not reset between windows. */
  inFlight = 0
  queued = 0
  readonly latency = new LatencyHistogram()

  /** Counts one answered request. */
  record(latencyMs: number, isError: boolean): void {
    this.requests++
    if (isError) this.errors++
    this.latency.record(latencyMs)
  }

  /** The window's values, then resets the counters (gauges stay). */
  cut(): CounterSample {
    const sample: CounterSample = {
      requests: this.requests,
      errors: this.errors,
      shed: this.shed,
      inFlight: this.inFlight,
      queued: this.queued,
      latency: this.latency.toSparse(),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    }
    this.requests = 0
    this.errors = 0
    this.shed = 0
    this.bytesIn = 0
    this.bytesOut = 0
    this.latency.reset()
    return sample
  }
}

/** Sums of counter samples from several cores. */
class MergedCounters {
  requests = 0
  errors = 0
  shed = 0
  inFlight = 0
  queued = 0
  bytesIn = 0
  bytesOut = 0
  readonly latency = new LatencyHistogram()

  add(sample: CounterSample): void {
    this.bytesIn += sample.bytesIn ?? 0
    this.bytesOut += sample.bytesOut ?? 0
    this.requests += sample.requests
    this.errors += sample.errors
    this.shed += sample.shed
    this.inFlight += sample.inFlight
    this.queued += sample.queued
    this.latency.merge(sample.latency)
  }

  traffic(windowSeconds: number): TrafficStats {
    return {
      requests: this.requests,
      rps: windowSeconds > 0 ? this.requests / windowSeconds : 0,
      errors: this.errors,
      inFlight: this.inFlight,
      p50Ms: this.latency.percentileMs(50),
      p95Ms: this.latency.percentileMs(95),
      p99Ms: this.latency.percentileMs(99),
    }
  }
}

/** A class as configured: its name and priority. */
export interface ClassInfo {
  readonly name: string
  readonly priority: Priority
}

/**
 * Merges the windows of all cores (cut at the same moment by the primary) into one
 * RouterStats. The window spans the earliest start to the latest end; rps divides
 * by that span. `health` labels each instance; classes appear in `classes` order
 * even when idle, so a dashboard's rows do not jump.
 */
export function mergeWindows(
  samples: readonly WindowSample[],
  classes: readonly ClassInfo[],
  health: (id: string) => InstanceHealth,
): RouterStats {
  const startMs = samples.length === 0 ? 0 : Math.min(...samples.map((s) => s.startMs))
  const endMs = samples.length === 0 ? 0 : Math.max(...samples.map((s) => s.endMs))
  const seconds = (endMs - startMs) / 1000
  const total = new MergedCounters()
  const byInstance = new Map<string, MergedCounters>()
  const byClass = new Map<string, MergedCounters>()
  for (const s of samples) {
    total.add(s.total)
    for (const [id, c] of Object.entries(s.instances)) addTo(byInstance, id, c)
    for (const [name, c] of Object.entries(s.classes)) addTo(byClass, name, c)
  }
  const instances = [...byInstance.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, c]) => ({ id, health: health(id), ...c.traffic(seconds), bytesIn: c.bytesIn, bytesOut: c.bytesOut }))
  const classStats = classes.map((info) => {
    const c = byClass.get(info.name) ?? new MergedCounters()
    return { name: info.name, priority: info.priority, shed: c.shed, queued: c.queued, ...c.traffic(seconds) }
  })
  return {
    windowStartMs: startMs,
    windowEndMs: endMs,
    total: { shed: total.shed, queued: total.queued, ...total.traffic(seconds), bytesIn: total.bytesIn, bytesOut: total.bytesOut },
    instances,
    classes: classStats,
  }
}

function addTo(map: Map<string, MergedCounters>, key: string, sample: CounterSample): void {
  let c = map.get(key)
  if (!c) {
    c = new MergedCounters()
    map.set(key, c)
  }
  c.add(sample)
}
