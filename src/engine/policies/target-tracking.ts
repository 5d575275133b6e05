/**
 * Target tracking with the Kubernetes HPA v2 semantics, ported from
 * k8s.io/kubernetes pkg/controller/podautoscaler/replica_calculator.go
 * (GetResourceReplicas, calcPlainMetricReplicas, getUsageRatioReplicaCount,
 * GetExternalPerPodMetricReplicas) and horizontal.go (computeReplicasForMetrics):
 *
 * - usageRatio = metric / target; desired = ceil(usageRatio × instances measured).
 * - No change while the ratio is within tolerance (per direction, default ±10 %).
 * - Which instances supply samples follows groupPods: in-service and warming
 *   ones (pending and unhealthy are left out); for cpu only, the HPA's readiness
 *   and freshness rule also leaves out a running instance that is unready, or
 *   whose reading's window began before it was ready, within the cpu
 *   initialization period of its launch (instance-classes.ts cpuSampleIgnored).
 *   An instance that should supply a sample and has none is "missing": it counts
 *   as 100 % of target (cpu/memory utilisation: max(100 %, target) of its size)
 *   when the group would scale down, and 0 % when it would scale up. The
 *   instances left out count as 0 % when the result would be a scale-up.
 *   docs/hpa-compatibility.md states where this differs from the HPA and why.
 * - If filling in those values would flip the direction, or leave the ratio
 *   within tolerance, hold the current count.
 * - disk and network are Pods metrics too: bytes/s per instance against a MiB/s
 *   target, with request 1 (not the capacity units of rps: a bigger instance on one
 *   host has no more disk or network bandwidth).
 * - Several metrics: the largest count wins. A metric that cannot be computed
 *   blocks scale-in (`blocksScaleIn`), and with no computable metric at all there
 *   is no count (reason 'NoMetrics').
 */
import type { MetricSpec } from '../../spec/schema.ts'
import { ceilReplicas, holdIfDirectionFlips, replicasForGroupRatio, withinTolerance, type Tolerances } from '../replicas.ts'
import { byteRate, byteRateName, BYTES_PER_MIB } from '../readings.ts'
import { cpuReadinessOf, cpuReadinessPeriods, cpuSampleIgnored } from '../instance-classes.ts'
import type { InstanceSample, InstanceView, Recommendation, Signals } from '../types.ts'
import type { PolicyInput, ScalingPolicy } from './policy.ts'

/** The outcome of one metric: a replica count, or why there is none. */
export type MetricOutcome =
  | {
      readonly valid: true
      readonly replicas: number
      /** metric / target as first measured (before missing/not-ready values are filled in). */
      readonly usageRatio: number
      readonly withinTolerance: boolean
      /** e.g. 'cpu 92%' */
      readonly observed: string
      /** e.g. '60%' */
      readonly target: string
      /**
       * Nothing was requested in the window, so the value (a latency) is 0 by definition, not a
       * measurement: it still counts (no latency pressure), but explanations leave it out while
       * another metric has something to say, and otherwise read "p95 latency (checkout): no traffic".
       */
      readonly idle?: boolean
      /** The count is an external source's fallback (KEDA's fallback), not a measurement: `observed` says why. */
      readonly fallback?: boolean
    }
  | { readonly valid: false; readonly observed: string; readonly why: string }

/** How one per-instance metric is read: value and "request" (the denominator) per instance. */
export interface PodMetric {
  readonly read: (sample: InstanceSample, instance: InstanceView) => number | undefined
  /** The instance's request: its cpu or memory size for utilisation metrics, 1 for plain averages. */
  readonly request: (instance: InstanceView) => number
  /** Target per unit of request: a fraction (0.6 for 60 %) for utilisation, the per-instance value otherwise. */
  readonly target: number
  /**
   * Utilisation metrics, as the HPA's GetResourceUtilizationRatio, compute whole
   * percent (truncated) before dividing by the target, and fill missing instances
   * with max(100 %, target) of their request on a scale-down.
   */
  readonly utilization: boolean
}

const unitRequest = (): number => 1

/**
 * The "request" of rps and in-flight targets: an instance's capacity in units of the group's
 * base size (`spec.size`), capacity being proportional to cpu. A per-instance rps target is
 * written for the base size; an instance twice its cpu (after a vertical or mixed resize) is
 * expected to carry twice as much. 1 for every instance of the base size, so groups that never
 * resize see the HPA's plain averages.
 */
function capacityUnits(input: PolicyInput): (instance: InstanceView) => number {
  const baseCpu = input.spec.size.cpu
  return (instance) => instance.size.cpu / baseCpu
}

function ratioOf(sumValue: number, sumRequest: number, metric: PodMetric): number {
  if (metric.utilization) {
    // currentUtilization = int32(metricsTotal × 100 / requestsTotal); ratio = utilization / targetUtilization.
    const percent = Math.trunc((sumValue * 100) / sumRequest + 1e-9)
    return percent / (metric.target * 100)
  }
  return sumValue / sumRequest / metric.target
}

/** Sums over the ready instances: measured ones, and missing ones (ready, no sample). */
interface PodSums {
  sumValue: number
  sumRequest: number
  measured: number
  missing: number
  missingRequest: number
}

function sumReady(ready: readonly InstanceView[], samples: ReadonlyMap<string, InstanceSample>, metric: PodMetric): PodSums {
  const sums: PodSums = { sumValue: 0, sumRequest: 0, measured: 0, missing: 0, missingRequest: 0 }
  for (const instance of ready) {
    const sample = samples.get(instance.id)
    const value = sample === undefined ? undefined : metric.read(sample, instance)
    const request = metric.request(instance)
    if (value === undefined || !Number.isFinite(value)) {
      sums.missing++
      sums.missingRequest += request
    } else {
      sums.sumValue += value
      sums.sumRequest += request
      sums.measured++
    }
  }
  return sums
}

/**
 * The per-instance computation (GetResourceReplicas / calcPlainMetricReplicas):
 * the replica count, the first usage ratio, and the average usage per unit of
 * request; undefined when no ready instance reported the metric.
 */
export function podMetricReplicas(
  currentReplicas: number,
  ready: readonly InstanceView[],
  notReady: readonly InstanceView[],
  samples: ReadonlyMap<string, InstanceSample>,
  metric: PodMetric,
  tolerances: Tolerances,
): { replicas: number; usageRatio: number; usage: number } | undefined {
  const sums = sumReady(ready, samples, metric)
  if (sums.measured === 0 || sums.sumRequest <= 0) return undefined
  const usageRatio = ratioOf(sums.sumValue, sums.sumRequest, metric)
  const usage = sums.sumValue / sums.sumRequest
  const rebalanceNotReady = notReady.length > 0 && usageRatio > 1
  if (!rebalanceNotReady && sums.missing === 0) {
    const replicas = withinTolerance(usageRatio, tolerances) ? currentReplicas : ceilReplicas(usageRatio * sums.measured)
    return { replicas, usageRatio, usage }
  }
  return { replicas: rebalanced(currentReplicas, usageRatio, sums, rebalanceNotReady ? notReady : [], metric, tolerances), usageRatio, usage }
}

/** The HPA's second pass: fill in missing and not-ready instances, then hold if that flips the direction. */
function rebalanced(currentReplicas: number, usageRatio: number, sums: PodSums, notReady: readonly InstanceView[], metric: PodMetric, tolerances: Tolerances): number {
  let { sumValue, sumRequest } = sums
  let count = sums.measured
  if (sums.missing > 0 && usageRatio !== 1) {
    // Scale-down: a missing instance is assumed busy (100 % of target; for utilisation, max(100 %, target)
    // of its request); scale-up: assumed idle (0 %). Either way the assumption damps the move.
    const fill = usageRatio < 1 ? (metric.utilization ? Math.max(1, metric.target) : metric.target) : 0
    sumValue += sums.missingRequest * fill
    sumRequest += sums.missingRequest
    count += sums.missing
  }
  // Scale-up: instances not yet ready count as 0 %, as they will take load once ready.
  for (const instance of notReady) sumRequest += metric.request(instance)
  count += notReady.length
  const newUsageRatio = ratioOf(sumValue, sumRequest, metric)
  if (withinTolerance(newUsageRatio, tolerances) || (usageRatio < 1 && newUsageRatio > 1) || (usageRatio > 1 && newUsageRatio < 1)) {
    return currentReplicas
  }
  return holdIfDirectionFlips(currentReplicas, newUsageRatio, ceilReplicas(newUsageRatio * count))
}

/** Rounds for display: whole numbers for values ≥ 10, one decimal below. */
function show(value: number): string {
  return Math.abs(value) >= 10 ? String(Math.round(value)) : String(Math.round(value * 10) / 10)
}

/**
 * The instances that supply a metric's samples, and those left out, after the HPA's groupPods:
 * in-service and warming instances (running and serving) supply samples; pending ones (the
 * HPA's Pending pods) and unhealthy ones (being replaced; see docs/hpa-compatibility.md) are
 * left out. For cpu, `ignored` is the HPA's readiness and freshness rule (cpuSampleIgnored in
 * instance-classes.ts): a running instance it names is left out too (0 % on a scale-up). An
 * instance with no sample stays among the sampled ones, where it counts as missing.
 */
export function sampledInstances(
  ready: readonly InstanceView[],
  notReady: readonly InstanceView[],
  ignored?: (instance: InstanceView) => boolean,
): { ready: readonly InstanceView[]; notReady: readonly InstanceView[] } {
  const warming = notReady.filter((i) => i.phase === 'warming')
  if (ignored === undefined && warming.length === 0) return { ready, notReady }
  const running = warming.length === 0 ? ready : [...ready, ...warming]
  const left = warming.length === 0 ? notReady : notReady.filter((i) => i.phase !== 'warming')
  if (ignored === undefined) return { ready: running, notReady: left }
  const sampled: InstanceView[] = []
  const out: InstanceView[] = [...left]
  for (const instance of running) (ignored(instance) ? out : sampled).push(instance)
  return { ready: sampled, notReady: out }
}

/**
 * The cpu rule for this tick's samples: an instance whose cpu reading the HPA would leave
 * out (cpuSampleIgnored). One without a cpu reading is not ignored: groupPods calls it
 * missing before it looks at readiness.
 */
function cpuIgnored(input: PolicyInput, samples: ReadonlyMap<string, InstanceSample>): (instance: InstanceView) => boolean {
  const periods = cpuReadinessPeriods(input.spec)
  return (instance) => {
    const sample = samples.get(instance.id)
    if (sample?.cpuRatio === undefined || !Number.isFinite(sample.cpuRatio)) return false
    return cpuSampleIgnored(cpuReadinessOf(instance), { atMs: sample.cpuAtMs, windowMs: sample.cpuWindowMs }, input.nowMs, periods)
  }
}

function pod(input: PolicyInput, metric: PodMetric, tolerances: Tolerances, label: string, unit: (v: number) => string, cpuRule = false): MetricOutcome {
  const samples = input.signals?.instances
  if (samples === undefined) return { valid: false, observed: label, why: 'no signals' }
  const sampled = sampledInstances(input.instances.ready, input.instances.notReady, cpuRule ? cpuIgnored(input, samples) : undefined)
  const r = podMetricReplicas(input.state.desiredReplicas, sampled.ready, sampled.notReady, samples, metric, tolerances)
  if (r === undefined) return { valid: false, observed: label, why: cpuRule ? 'no fresh samples from ready instances' : 'no samples from in-service or warming instances' }
  const usageShown = metric.utilization ? unit(Math.trunc(r.usage * 100 + 1e-9)) : unit(r.usage)
  return {
    valid: true,
    replicas: r.replicas,
    usageRatio: r.usageRatio,
    withinTolerance: withinTolerance(r.usageRatio, tolerances),
    observed: `${label} ${usageShown}`,
    target: metric.utilization ? unit(metric.target * 100) : unit(metric.target),
  }
}

const percent = (v: number): string => `${show(v)}%`

/**
 * A byte rate for explanations, in the largest binary unit it reaches: '40 MiB/s', '320 KiB/s',
 * '512 B/s' (rounded as show() rounds), so that a sub-MiB target and its reading stay apart.
 */
export function byteRateText(bytesPerSecond: number): string {
  const abs = Math.abs(bytesPerSecond)
  if (abs >= BYTES_PER_MIB) return `${show(bytesPerSecond / BYTES_PER_MIB)} MiB/s`
  if (abs >= 1024) return `${show(bytesPerSecond / 1024)} KiB/s`
  return `${show(bytesPerSecond)} B/s`
}

/** Evaluates one metric of the spec. */
export function evaluateMetric(input: PolicyInput, spec: MetricSpec, tolerances: Tolerances): MetricOutcome {
  switch (spec.type) {
    case 'cpu':
      return pod(
        input,
        {
          read: (s, i) => (s.cpuRatio === undefined ? undefined : s.cpuRatio * i.size.cpu),
          request: (i) => i.size.cpu,
          target: spec.target.averageUtilization / 100,
          utilization: true,
        },
        tolerances,
        'cpu',
        percent,
        true,
      )
    case 'memory':
      if ('averageUtilization' in spec.target) {
        return pod(
          input,
          { read: (s) => s.memoryMiB, request: (i) => i.size.memoryMiB, target: spec.target.averageUtilization / 100, utilization: true },
          tolerances,
          'memory',
          percent,
        )
      }
      return pod(input, { read: (s) => s.memoryMiB, request: unitRequest, target: spec.target.averageValueMiB, utilization: false }, tolerances, 'memory', (v) => `${show(v)} MiB`)
    case 'rps':
      return pod(input, { read: (s) => s.rps, request: capacityUnits(input), target: spec.target.averageValue, utilization: false }, tolerances, 'rps', (v) => `${show(v)}/s per instance`)
    case 'inflight':
      return pod(input, { read: (s) => s.inFlight, request: capacityUnits(input), target: spec.target.averageValue, utilization: false }, tolerances, 'in-flight', (v) => `${show(v)} per instance`)
    case 'disk':
    case 'network':
      // Bytes/s per instance against a MiB/s target, as a Pods metric (calcPlainMetricReplicas);
      // request 1, not capacity units: a bigger instance has no more disk or network bandwidth on one host.
      return pod(
        input,
        { read: (s) => byteRate(spec, s), request: unitRequest, target: spec.target.averageValueMiBPerSecond * BYTES_PER_MIB, utilization: false },
        tolerances,
        byteRateName(spec),
        (v) => `${byteRateText(v)} per instance`,
      )
    case 'latency':
      return latency(input, spec, tolerances)
    case 'external':
      return external(input, spec, tolerances)
  }
}

function latencyValue(signals: Signals | undefined, percentile: number, cls: string | undefined): number | undefined {
  const key = `p${percentile}` as 'p50' | 'p90' | 'p95' | 'p99'
  if (signals === undefined) return undefined
  if (cls === undefined) return signals.group.latencyMs?.[key]
  return signals.group.classes?.[cls]?.latencyMs?.[key]
}

/**
 * Group latency percentile vs a target in ms, as an HPA Object metric: ratio =
 * observed / target, then getUsageRatioReplicaCount over the ready instances.
 */
function latency(input: PolicyInput, spec: Extract<MetricSpec, { type: 'latency' }>, tolerances: Tolerances): MetricOutcome {
  const label = `p${spec.percentile} latency${spec.class === undefined ? '' : ` (${spec.class})`}`
  const observed = latencyValue(input.signals, spec.percentile, spec.class)
  if (observed === undefined || !Number.isFinite(observed)) return { valid: false, observed: label, why: 'no signal' }
  const usageRatio = observed / spec.target.valueMs
  const trafficRps = spec.class === undefined ? input.signals?.group.rps : input.signals?.group.classes?.[spec.class]?.rps
  const idle = trafficRps === 0 && observed === 0
  return {
    valid: true,
    replicas: replicasForGroupRatio(input.state.desiredReplicas, usageRatio, input.instances.ready.length, tolerances),
    usageRatio,
    withinTolerance: withinTolerance(usageRatio, tolerances),
    observed: idle ? `${label}: no traffic` : `${label} ${show(observed)} ms`,
    target: `${show(spec.target.valueMs)} ms`,
    ...(idle ? { idle } : {}),
  }
}

/**
 * An external query's value. Target `value`: ratio = value / target over the ready
 * instances (GetExternalMetricReplicas). Target `averageValue`: ratio = value /
 * (averageValue × current); outside tolerance, ceil(value / averageValue)
 * (GetExternalPerPodMetricReplicas), which also scales from zero.
 */
function external(input: PolicyInput, spec: Extract<MetricSpec, { type: 'external' }>, tolerances: Tolerances): MetricOutcome {
  const label = `external ${spec.query}`
  const value = input.signals?.group.external?.[spec.query]
  const current = input.state.desiredReplicas
  if (value === undefined || !Number.isFinite(value)) {
    const failed = input.signals?.group.externalFailures?.[spec.query]
    if (failed === undefined) return { valid: false, observed: label, why: 'no value' }
    const times = `source failed ${failed.failures} time${failed.failures === 1 ? '' : 's'} (${failed.error})`
    if (failed.fallbackReplicas === undefined) return { valid: false, observed: label, why: `no value: ${times}` }
    // KEDA's fallback: the metric proposes the configured count while its source keeps failing.
    const replicas = failed.fallbackReplicas
    return {
      valid: true,
      replicas,
      usageRatio: current === 0 ? (replicas === 0 ? 1 : Number.POSITIVE_INFINITY) : replicas / current,
      withinTolerance: replicas === current,
      observed: `${label}: ${times}, fallback ${replicas} instance${replicas === 1 ? '' : 's'}`,
      target: `${replicas} instances`,
      fallback: true,
    }
  }
  if ('value' in spec.target) {
    const usageRatio = value / spec.target.value
    return {
      valid: true,
      replicas: replicasForGroupRatio(current, usageRatio, input.instances.ready.length, tolerances),
      usageRatio,
      withinTolerance: withinTolerance(usageRatio, tolerances),
      observed: `${label} ${show(value)}`,
      target: show(spec.target.value),
    }
  }
  const perInstance = spec.target.averageValue
  const usageRatio = current === 0 ? Number.POSITIVE_INFINITY : value / (perInstance * current)
  const within = current !== 0 && withinTolerance(usageRatio, tolerances)
  return {
    valid: true,
    replicas: within ? current : ceilReplicas(value / perInstance),
    usageRatio,
    withinTolerance: within,
    observed: `${label} ${show(value)} (${current === 0 ? 'no instances' : `${show(value / current)} per instance`})`,
    target: `${show(perInstance)} per instance`,
  }
}

/** "±10%", or "−10%/+5%" when the directions differ. */
export function toleranceText(tolerances: Tolerances): string {
  const down = Math.round(tolerances.scaleDown * 1000) / 10
  const up = Math.round(tolerances.scaleUp * 1000) / 10
  return down === up ? `±${up}%` : `−${down}%/+${up}%`
}

function fragment(o: MetricOutcome, tol: string): string {
  if (!o.valid) return `${o.observed}: ${o.why}`
  if (o.idle === true || o.fallback === true) return o.observed
  if (o.withinTolerance) return `${o.observed} vs ${o.target}, ${tol}`
  return `${o.observed} ${o.usageRatio > 1 ? '>' : '<'} target ${o.target}`
}

/** Combines per-metric outcomes into one recommendation (computeReplicasForMetrics). */
export function recommendFromOutcomes(currentReplicas: number, outcomes: readonly MetricOutcome[], tolerances: Tolerances): Recommendation {
  const tol = toleranceText(tolerances)
  let best: Extract<MetricOutcome, { valid: true }> | undefined
  let invalid = 0
  for (const o of outcomes) {
    if (!o.valid) invalid++
    else if (best === undefined || o.replicas > best.replicas) best = o
  }
  const invalidText = outcomes.filter((o) => !o.valid).map((o) => fragment(o, tol))
  if (best === undefined) {
    return { policy: 'target-tracking', blocksScaleIn: true, reason: 'NoMetrics', detail: `no metrics: ${invalidText.join(', ')}` }
  }
  const valid = outcomes.filter((o): o is Extract<MetricOutcome, { valid: true }> => o.valid)
  const allWithin = valid.every((o) => o.withinTolerance)
  let reason: string
  let detail: string
  // Metrics over no traffic (a latency of 0 ms) are left out while another has something to say.
  const busy = valid.filter((o) => o.idle !== true)
  const told = busy.length > 0 ? busy : valid
  if (allWithin && best.replicas === currentReplicas) {
    reason = 'WithinTolerance'
    detail = `within tolerance (${told.map((o) => (o.idle === true || o.fallback === true ? o.observed : `${o.observed} vs ${o.target}`)).join(', ')}, ${tol})`
  } else {
    reason = best.replicas > currentReplicas ? 'MetricAboveTarget' : best.replicas < currentReplicas ? 'MetricBelowTarget' : 'DesiredMatchesCurrent'
    // The deciding metric first, then the others.
    const ordered = told.includes(best) ? [best, ...told.filter((o) => o !== best)] : told
    detail = ordered.map((o) => fragment(o, tol)).join(', ')
  }
  if (invalid > 0) detail += `; ${invalidText.join(', ')} (scale-in blocked)`
  return invalid > 0
    ? { policy: 'target-tracking', replicas: best.replicas, blocksScaleIn: true, reason, detail }
    : { policy: 'target-tracking', replicas: best.replicas, reason, detail }
}

/** The target-tracking policy: configured by `metrics:` in tide.yaml; silent when there are none. */
export const targetTrackingPolicy: ScalingPolicy = {
  kind: 'target-tracking',
  propose(input: PolicyInput): Recommendation | undefined {
    const metrics = input.spec.metrics
    if (metrics.length === 0) return undefined
    const tolerances: Tolerances = { scaleDown: input.spec.behavior.scaleDown.tolerance, scaleUp: input.spec.behavior.scaleUp.tolerance }
    const outcomes = metrics.map((m) => evaluateMetric(input, m, tolerances))
    return recommendFromOutcomes(input.state.desiredReplicas, outcomes, tolerances)
  },
}
