/**
 * Group-level readings of a metric, for rules that compare one number with a
 * threshold (step scaling). Target tracking does its own per-instance arithmetic.
 */
import type { MetricRef } from '../spec/schema.ts'
import type { InstanceClasses } from './instance-classes.ts'
import type { InstanceSample, Signals } from './types.ts'

/**
 * The current value of a metric in the units step rules use: cpu and memory in
 * percent of the instances' size (weighted by size, as the HPA sums usage and
 * requests), rps and inflight per in-service instance, disk and network in MiB/s per
 * in-service instance, latency in ms (group or class percentile), external as the
 * query's value. Undefined when no in-service instance reported it, or the group
 * signal is absent.
 */
export function readMetric(ref: MetricRef, signals: Signals | undefined, instances: InstanceClasses): number | undefined {
  if (signals === undefined) return undefined
  switch (ref.type) {
    case 'cpu':
      return weighted(signals, instances, (s) => s.cpuRatio, (size) => size.cpu, 100)
    case 'memory':
      return weighted(signals, instances, (s) => s.memoryMiB, (size) => size.memoryMiB, 100, true)
    case 'rps':
      return average(signals, instances, (s) => s.rps)
    case 'inflight':
      return average(signals, instances, (s) => s.inFlight)
    case 'disk':
    case 'network': {
      const bytes = average(signals, instances, (s) => byteRate(ref, s))
      return bytes === undefined ? undefined : bytes / BYTES_PER_MIB
    }
    case 'latency': {
      const key = `p${ref.percentile}` as const
      return ref.class === undefined ? signals.group.latencyMs?.[key] : signals.group.classes?.[ref.class]?.latencyMs?.[key]
    }
    case 'external':
      return signals.group.external?.[ref.query]
  }
}

type Sample = NonNullable<ReturnType<Signals['instances']['get']>>

/** Bytes in a MiB: disk and network targets and thresholds are in MiB/s, samples in bytes/s. */
export const BYTES_PER_MIB = 1024 * 1024

/** A disk or network metric: which bytes it counts. */
export type ByteRateRef = Extract<MetricRef, { type: 'disk' | 'network' }>

/**
 * The bytes/s of one instance that a disk or network metric counts: one direction, or
 * both summed for `total` (undefined unless both are known: half a sum is not a value).
 */
export function byteRate(ref: ByteRateRef, sample: InstanceSample): number | undefined {
  const [a, b] =
    ref.type === 'disk' ? [sample.diskReadBytesPerSecond, sample.diskWriteBytesPerSecond] : [sample.networkInBytesPerSecond, sample.networkOutBytesPerSecond]
  switch (ref.direction) {
    case 'read':
    case 'in':
      return a
    case 'write':
    case 'out':
      return b
    case 'total':
      return a === undefined || b === undefined ? undefined : a + b
  }
}

/** 'disk read', 'disk read+write', 'network out', 'network in+out': a byte-rate metric in explanations. */
export function byteRateName(ref: ByteRateRef): string {
  if (ref.direction !== 'total') return `${ref.type} ${ref.direction}`
  return ref.type === 'disk' ? 'disk read+write' : 'network in+out'
}
type SizeLike = { readonly cpu: number; readonly memoryMiB: number }

/**
 * Σ usage / Σ size × scale over in-service instances with a sample. `absolute`:
 * the sample is already in the size's units (memory MiB); otherwise it is a ratio
 * of the size (cpuRatio) and is weighted by it.
 */
function weighted(
  signals: Signals,
  instances: InstanceClasses,
  read: (s: Sample) => number | undefined,
  sizeOf: (size: SizeLike) => number,
  scale: number,
  absolute = false,
): number | undefined {
  let used = 0
  let size = 0
  for (const instance of instances.ready) {
    const sample = signals.instances.get(instance.id)
    const value = sample === undefined ? undefined : read(sample)
    if (value === undefined || !Number.isFinite(value)) continue
    const s = sizeOf(instance.size)
    used += absolute ? value : value * s
    size += s
  }
  return size > 0 ? (used / size) * scale : undefined
}

function average(signals: Signals, instances: InstanceClasses, read: (s: Sample) => number | undefined): number | undefined {
  let sum = 0
  let n = 0
  for (const instance of instances.ready) {
    const sample = signals.instances.get(instance.id)
    const value = sample === undefined ? undefined : read(sample)
    if (value === undefined || !Number.isFinite(value)) continue
    sum += value
    n++
  }
  return n > 0 ? sum / n : undefined
}

/** A short name for a metric in explanations: 'cpu', 'p95 latency (checkout)', 'external queue'. */
export function metricName(ref: MetricRef): string {
  switch (ref.type) {
    case 'latency':
      return `p${ref.percentile} latency${ref.class === undefined ? '' : ` (${ref.class})`}`
    case 'external':
      return `external ${ref.query}`
    case 'inflight':
      return 'in-flight'
    case 'disk':
    case 'network':
      return byteRateName(ref)
    case 'cpu':
    case 'memory':
    case 'rps':
      return ref.type
  }
}

/** The unit suffix for a metric's value in explanations. */
export function metricUnit(ref: MetricRef): string {
  switch (ref.type) {
    case 'cpu':
    case 'memory':
      return '%'
    case 'latency':
      return ' ms'
    case 'rps':
      return '/s per instance'
    case 'inflight':
      return ' per instance'
    case 'disk':
    case 'network':
      return ' MiB/s per instance'
    case 'external':
      return ''
  }
}
