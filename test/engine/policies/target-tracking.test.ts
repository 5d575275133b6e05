import { test } from 'node:test'
import assert from 'node:assert/strict'
import { byteRateText, targetTrackingPolicy } from '../../../src/engine/policies/target-tracking.ts'
import type { InstanceSample, InstanceView, Recommendation } from '../../../src/engine/types.ts'
import type { GroupInput } from '../../../src/spec/schema.ts'
import { groupSpec, instances, policyInputFor, sameSample, signals } from '../fixtures.ts'

type Metrics = NonNullable<GroupInput['metrics']>

function propose(args: {
  metrics: Metrics
  ready?: readonly InstanceView[]
  others?: readonly InstanceView[]
  samples?: Record<string, InstanceSample>
  group?: Parameters<typeof signals>[1]
  desired?: number
  behavior?: GroupInput['behavior']
  noSignals?: boolean
  /** More group fields (the cpu rule's periods). */
  fields?: Partial<GroupInput>
  /** The decision's time; the fixtures' default (1e9 ms) otherwise. */
  nowMs?: number
}): Recommendation | undefined {
  const ready = args.ready ?? []
  const all = [...ready, ...(args.others ?? [])]
  const spec = groupSpec({ metrics: args.metrics, replicas: { min: 0, max: 100 }, ...(args.behavior === undefined ? {} : { behavior: args.behavior }), ...args.fields })
  return targetTrackingPolicy.propose(
    policyInputFor({
      spec,
      instances: all,
      signals: args.noSignals === true ? undefined : signals(args.samples ?? {}, args.group ?? {}),
      desiredReplicas: args.desired ?? all.length,
      ...(args.nowMs === undefined ? {} : { nowMs: args.nowMs }),
    }),
  )
}

/** Target tracking reads the value from the signals; where it came from is the poller's business. */
const PROM = { type: 'prometheus', url: 'http://127.0.0.1:9090' } as const
const cpu60: Metrics = [{ type: 'cpu', target: { averageUtilization: 60 } }]
const cpu30: Metrics = [{ type: 'cpu', target: { averageUtilization: 30 } }]
const cpu50: Metrics = [{ type: 'cpu', target: { averageUtilization: 50 } }]
const rps100: Metrics = [{ type: 'rps', target: { averageValue: 100 } }]
/** The HPA tests' qps target of 15000 milli-units per pod. */
const rps15: Metrics = [{ type: 'rps', target: { averageValue: 15 } }]

const byId = (list: readonly InstanceView[], values: readonly (number | undefined)[], key: keyof InstanceSample = 'cpuRatio'): Record<string, InstanceSample> =>
  Object.fromEntries(list.flatMap((i, n) => (values[n] === undefined ? [] : [[i.id, { [key]: values[n] }]])))

/** A decision time, and seconds, for cases that set sample and readiness times. */
const T = 1_000_000_000
const S = 1000
/** cpu samples with a 15 s window ending at T, for instances long in service. */
const timed = (list: readonly InstanceView[], values: readonly number[]): Record<string, InstanceSample> =>
  Object.fromEntries(list.map((i, n) => [i.id, { cpuRatio: values[n] ?? 0, cpuAtMs: T, cpuWindowMs: 15 * S }]))

/** The HPA tests' hotCPUCreationTime (now) and coolCPUCreationTime (3 min ago). */
const HOT = T
const COOL = T - 180 * S
/**
 * One of replica_calculator_test.go's cpu cases: pods of 1 cpu, Running, ready unless `readiness` says otherwise,
 * started at `starts` (Go's zero time, here 0, when unset), their Ready condition's LastTransitionTime and the
 * metric's Timestamp at the zero time, a 1 min metric window, the tests' periods (2 min, 10 s), at time T.
 */
function hpaReplicaTest(c: { readiness?: readonly boolean[]; starts?: readonly number[]; levels: readonly number[]; target: number }): Recommendation | undefined {
  const pods: InstanceView[] = c.levels.map((_, n) => ({
    id: `p${n}`,
    phase: 'in-service',
    size: { cpu: 1, memoryMiB: 512 },
    launchedAtMs: c.starts?.[n] ?? 0,
    readyAtMs: 0,
    ...(c.readiness?.[n] === false ? { unready: true as const } : {}),
    protectedFromScaleIn: false,
  }))
  const samples = Object.fromEntries(pods.map((p, n) => [p.id, { cpuRatio: c.levels[n] ?? 0, cpuAtMs: 0, cpuWindowMs: 60 * S }]))
  return propose({
    metrics: [{ type: 'cpu', target: { averageUtilization: c.target } }],
    ready: pods,
    samples,
    fields: { cpuInitializationPeriodSeconds: 120, initialReadinessDelaySeconds: 10 },
    nowMs: T,
  })
}

const three = instances(3)
const four = instances(4)
const five = instances(5)

const cases: { name: string; run: () => Recommendation | undefined; replicas: number | undefined; reason?: string; blocksScaleIn?: boolean }[] = [
  // HPA docs, "Algorithm details": "if the current metric value is 200m, and the desired value is 100m,
  // the number of replicas will be doubled, since 200.0 / 100.0 == 2.0".
  { name: 'docs: 200 vs target 100 doubles (4 → 8)', run: () => propose({ metrics: rps100, ready: four, samples: sameSample(four, { rps: 200 }) }), replicas: 8, reason: 'MetricAboveTarget' },
  // Same section: "If the current value is instead 50m, you'll halve the number of replicas, since 50.0 / 100.0 == 0.5".
  { name: 'docs: 50 vs target 100 halves (4 → 2)', run: () => propose({ metrics: rps100, ready: four, samples: sameSample(four, { rps: 50 }) }), replicas: 2, reason: 'MetricBelowTarget' },
  // Same section: "the control plane skips any scaling action if the ratio is sufficiently close to 1.0
  // (within a configurable tolerance, 0.1 by default)": 105 / 100 = 1.05.
  { name: 'docs: ratio 1.05 is within the default 0.1 tolerance', run: () => propose({ metrics: rps100, ready: four, samples: sameSample(four, { rps: 105 }) }), replicas: 4, reason: 'WithinTolerance' },
  // HPA docs, "Tolerance": a scale-up tolerance of 0.05 acts on a 6 % excess: ceil(4 × 1.06) = 5.
  {
    name: 'docs: scale-up tolerance 0.05 scales up at 106 vs 100',
    run: () => propose({ metrics: rps100, ready: four, samples: sameSample(four, { rps: 106 }), behavior: { scaleUp: { tolerance: 0.05 } } }),
    replicas: 5,
  },
  // replica_calculator_test.go TestReplicaCalcScaleUp: requests 1 cpu, usage 300m/500m/700m, target 30 %:
  // utilization 1500/3000 = 50 %, ratio 50/30 = 1.667, ceil(1.667 × 3) = 5.
  { name: 'HPA test ScaleUp: 3 pods at 30/50/70 % vs 30 % → 5', run: () => propose({ metrics: cpu30, ready: three, samples: byId(three, [0.3, 0.5, 0.7]) }), replicas: 5 },
  // TestReplicaCalcScaleDown: usage 100/300/500/250/250m of 1 cpu, target 50 %: 1400/5000 = 28 %, ratio 0.56, ceil(0.56 × 5) = 3.
  { name: 'HPA test ScaleDown: 5 pods at 28 % vs 50 % → 3', run: () => propose({ metrics: cpu50, ready: five, samples: byId(five, [0.1, 0.3, 0.5, 0.25, 0.25]) }), replicas: 3 },
  // A pending instance (the HPA's Pending pod) is ignored: ready ones at 50/70 % → 60 %, ratio 2 > 1, so it
  // counts as 0 %: 1200/3000 = 40 %, ratio 1.333, ceil(1.333 × 3) = 4.
  {
    name: 'a pending instance counts 0 % on scale-up → 4',
    run: () => propose({ metrics: cpu30, ready: instances(2), others: instances(1, 'pending', 'p'), samples: byId(instances(2), [0.5, 0.7]) }),
    replicas: 4,
  },
  // groupPods puts a running pod without a cpu sample among the missing ones before the readiness rule: on a
  // scale-up it counts as 0 %, the same 4.
  {
    name: 'a warming instance without a cpu sample is missing (0 % on scale-up) → 4',
    run: () => propose({ metrics: cpu30, ready: instances(2), others: instances(1, 'warming', 'w'), samples: byId(instances(2), [0.5, 0.7]) }),
    replicas: 4,
  },
  // On a scale-down the same missing instance counts as 100 %: 10 % and 10 % vs 50 % (ratio 0.2); with the third
  // at 100 %: 120/3 = 40 %, ratio 0.8, ceil(2.4) = 3 (left out, it would be ceil(0.2 × 2) = 1).
  {
    name: 'a warming instance without a cpu sample is missing (100 % on scale-down) → 3',
    run: () => propose({ metrics: cpu50, ready: instances(2), others: instances(1, 'warming', 'w'), samples: byId(instances(2), [0.1, 0.1]) }),
    replicas: 3,
  },
  // groupPods applies the readiness and start-up rule to cpu only (docs/hpa-compatibility.md, difference 1).
  // TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale: 3 pods, the third unready within its cpu initialization
  // period; qps 50/10/30 vs 15 per pod: all three count, 90/3 = 30, ratio 2, ceil(2 × 3) = 6 (tide gave 4 before).
  {
    name: 'HPA test CMUnreadyHotCpuNoLessScale: a warming instance\'s rps counts → 6',
    run: () => propose({ metrics: rps15, ready: instances(2), others: instances(1, 'warming', 'w'), samples: { ...byId(instances(2), [50, 10], 'rps'), w0: { rps: 30 } } }),
    replicas: 6,
  },
  // TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown: pods 1 and 3 unready; qps 50/15/30 vs 15:
  // 95/3 = 31.67, ratio 2.11, ceil(6.33) = 7 (tide gave 3 before: the one ready pod alone sat at target).
  {
    name: 'HPA test CMUnreadyHotCpuScaleWouldScaleDown: two warming instances\' rps count → 7',
    run: () => propose({ metrics: rps15, ready: instances(1), others: instances(2, 'warming', 'w'), samples: { i0: { rps: 15 }, w0: { rps: 50 }, w1: { rps: 30 } } }),
    replicas: 7,
  },
  // groupPods puts a running pod without a sample among the missing ones before it looks at readiness: on a
  // scale-down a warming instance with no rps sample counts as the target: (5 + 5 + 15) / 3 = 8.33 vs 15,
  // ratio 0.556, ceil(1.67) = 2 (left out, it would give ceil(0.333 × 2) = 1).
  {
    name: 'rps: a warming instance without a sample is missing (the target on a scale-down) → 2',
    run: () => propose({ metrics: rps15, ready: instances(2), others: instances(1, 'warming', 'w'), samples: byId(instances(2), [5, 5], 'rps') }),
    replicas: 2,
  },
  // Pending instances are the HPA's Pending pods: left out for every metric, 0 on a scale-up: 60/3 = 20 vs 15, ratio 1.33 → 4.
  {
    name: 'rps: a pending instance is still left out (0 on a scale-up) → 4',
    run: () => propose({ metrics: rps15, ready: instances(2), others: instances(1, 'pending', 'p'), samples: byId(instances(2), [30, 30], 'rps') }),
    replicas: 4,
  },
  // Unhealthy instances are being replaced and stay out for every metric (docs/hpa-compatibility.md, difference 4):
  // its sample of 300 is not read; 60/3 = 20 vs 15 → 4.
  {
    name: 'rps: an unhealthy instance is left out even with a sample → 4',
    run: () => propose({ metrics: rps15, ready: instances(2), others: instances(1, 'unhealthy', 'u'), samples: { ...byId(instances(2), [30, 30], 'rps'), u0: { rps: 300 } } }),
    replicas: 4,
  },
  // cpu keeps the readiness rule (now the HPA's own, docs/hpa-compatibility.md difference 3): the same numbers
  // as NoLessScale as cpu utilisation (50/10/30 % vs 15 %), the third ready 10 s ago with a 15 s window that
  // began before: left out, (50 + 10) / 3 = 20 %, ratio 1.33, ceil(4) = 4.
  {
    name: 'cpu: a warming instance whose window began before readiness is left out → 4',
    run: () =>
      propose({
        metrics: [{ type: 'cpu', target: { averageUtilization: 15 } }],
        ready: instances(2),
        others: [{ ...instances(1, 'warming', 'w')[0]!, launchedAtMs: T - 40 * S, readyAtMs: T - 10 * S }],
        samples: { ...timed(instances(2), [0.5, 0.1]), w0: { cpuRatio: 0.3, cpuAtMs: T, cpuWindowMs: 15 * S } },
        nowMs: T,
      }),
    replicas: 4,
  },
  // A whole window after readiness the warming instance's cpu counts, as the HPA's: (50 + 10 + 30) / 3 = 30 %,
  // ratio 2, ceil(6) = 6 (tide's warm-up used to leave it out for warmupSeconds whatever its window).
  {
    name: 'cpu: a warming instance with a window after readiness counts → 6',
    run: () =>
      propose({
        metrics: [{ type: 'cpu', target: { averageUtilization: 15 } }],
        ready: instances(2),
        others: [{ ...instances(1, 'warming', 'w')[0]!, launchedAtMs: T - 40 * S, readyAtMs: T - 10 * S }],
        samples: { ...timed(instances(2), [0.5, 0.1]), w0: { cpuRatio: 0.3, cpuAtMs: T, cpuWindowMs: 3 * S } },
        nowMs: T,
      }),
    replicas: 6,
  },
  // The HPA's replica tests for the cpu rule, with their periods (2 min, 10 s), 1-cpu pods, a 1 min metric window,
  // and Go's zero time for every StartTime, LastTransitionTime and metric Timestamp they leave unset (here 0).
  // TestReplicaCalcScaleUpUnreadyLessScale: pod 0 unready (never ready), 30/50/70 % vs 30 %: it is ignored,
  // (50 + 70) / 2 = 60 %, ratio 2 > 1, so it counts 0 %: 40 %, ratio 1.33 → 4.
  {
    name: 'HPA test ScaleUpUnreadyLessScale: an unready instance counts 0 % on scale-up → 4',
    run: () => hpaReplicaTest({ readiness: [false, true, true], levels: [0.3, 0.5, 0.7], target: 30 }),
    replicas: 4,
  },
  // TestReplicaCalcScaleUpHotCpuLessScale: pod 0 started now (within the period) with a reading whose window
  // began before its readiness: ignored, as above → 4.
  {
    name: 'HPA test ScaleUpHotCpuLessScale: a hot instance\'s stale reading is left out → 4',
    run: () => hpaReplicaTest({ starts: [HOT, COOL, COOL], levels: [0.3, 0.5, 0.7], target: 30 }),
    replicas: 4,
  },
  // TestReplicaCalcScaleUpUnreadyNoScale: pods 1 and 2 unready; the ready one at 40 % vs 30 % (ratio 1.33) would
  // scale up, but with the other two at 0 %: 400/3000 = 13 %, ratio 0.44, the direction flips → hold 3.
  {
    name: 'HPA test ScaleUpUnreadyNoScale: two unready instances flip the direction → 3',
    run: () => hpaReplicaTest({ readiness: [true, false, false], levels: [0.4, 0.5, 0.7], target: 30 }),
    replicas: 3,
  },
  // TestReplicaCalcScaleHotCpuNoScale: the same with pods 1 and 2 unready within the period → 3.
  {
    name: 'HPA test ScaleHotCpuNoScale: unready instances within the period are left out → 3',
    run: () => hpaReplicaTest({ readiness: [true, false, false], starts: [COOL, HOT, HOT], levels: [0.4, 0.5, 0.7], target: 30 }),
    replicas: 3,
  },
  // TestReplicaCalcScaleDownExcludeUnreadyPods: 5 pods, the last two unready; 10/30/50 % vs 50 %: 900/3000 = 30 %,
  // ratio 0.6, and unready pods are ignored on a scale-down: ceil(0.6 × 3) = 2.
  {
    name: 'HPA test ScaleDownExcludeUnreadyPods: unready instances are ignored on a scale-down → 2',
    run: () => hpaReplicaTest({ readiness: [true, true, true, false, false], levels: [0.1, 0.3, 0.5, 0.25, 0.25], target: 50 }),
    replicas: 2,
  },
  // docs/hpa-compatibility.md difference 3, worked example: 3 instances at 50 %, a 30 s window, warmupSeconds 15.
  // 20 s after the third became ready (in service), it reports 100 % over a window that began before that:
  // the HPA leaves it out: 60 %, ratio 1.2 > 1, so it counts 0 %: 40 %, ratio 0.8: the direction would flip, hold 3
  // (tide, counting it, gave (60 + 60 + 100) / 3 = 73 %, ratio 1.46 → 5).
  {
    name: 'docs difference 3: a reading whose window began before readiness is left out → 3, not 5',
    run: () => {
      const [a, b, c] = instances(3)
      const fresh = [a!, b!, { ...c!, launchedAtMs: T - 50 * S, readyAtMs: T - 20 * S }]
      const reading = { cpuAtMs: T, cpuWindowMs: 30 * S }
      return propose({ metrics: cpu50, ready: fresh, samples: { i0: { cpuRatio: 0.6, ...reading }, i1: { cpuRatio: 0.6, ...reading }, i2: { cpuRatio: 1, ...reading } }, nowMs: T })
    },
    replicas: 3,
  },
  // A tolerance above 1 is the HPA's too (KEP-4951 sets no upper bound): scale-down tolerance 1.5 means
  // 1 − 1.5 < 0 ≤ any ratio, so target tracking never scales in: rps 1 vs 100 holds 4.
  {
    name: 'scale-down tolerance 1.5 (above 1, as the HPA allows): never scales in',
    run: () => propose({ metrics: rps100, ready: four, samples: sameSample(four, { rps: 1 }), behavior: { scaleDown: { tolerance: 1.5 } } }),
    replicas: 4,
    reason: 'WithinTolerance',
  },
  // Scale-up tolerance 2: 250 vs 100 (ratio 2.5 ≤ 3) holds; 350 (ratio 3.5) scales to ceil(3.5 × 4) = 14.
  {
    name: 'scale-up tolerance 2: ratio 2.5 holds',
    run: () => propose({ metrics: rps100, ready: four, samples: sameSample(four, { rps: 250 }), behavior: { scaleUp: { tolerance: 2 } } }),
    replicas: 4,
  },
  {
    name: 'scale-up tolerance 2: ratio 3.5 scales → 14',
    run: () => propose({ metrics: rps100, ready: four, samples: sameSample(four, { rps: 350 }), behavior: { scaleUp: { tolerance: 2 } } }),
    replicas: 14,
  },
  // Not-ready instances are ignored on a scale-down: 3 ready at 10 % vs 50 %: ratio 0.2, ceil(0.2 × 3) = 1.
  {
    name: 'pending instances are ignored on a scale-down',
    run: () => propose({ metrics: cpu50, ready: three, others: instances(2, 'pending', 'p'), samples: sameSample(three, { cpuRatio: 0.1 }) }),
    replicas: 1,
  },
  // TestReplicaCalcTolerance: requests 0.9/1.0/1.1, usage 1010/1030/1020m: 3060/3000 = 102 % vs 100 %: within.
  {
    name: 'HPA test Tolerance: mixed sizes at 102 % vs 100 % hold',
    run: () => {
      const sized = instances(3).map((i, n) => ({ ...i, size: { cpu: [0.9, 1, 1.1][n] ?? 1, memoryMiB: 512 } }))
      return propose({ metrics: [{ type: 'cpu', target: { averageUtilization: 100 } }], ready: sized, samples: byId(sized, [1.01 / 0.9, 1.03, 1.02 / 1.1]) })
    },
    replicas: 3,
    reason: 'WithinTolerance',
  },
  // Missing on scale-down: 3 of 4 report 10 % vs 50 % (ratio 0.2 < 1), the 4th counts as max(100 %, 50 %) of its size:
  // (10+10+10+100)/4 = 32.5 → 32 % (the HPA truncates to whole percent), ratio 0.64, ceil(0.64 × 4) = ceil(2.56) = 3.
  { name: 'missing metric counts as 100 % on a scale-down → 3, not 1', run: () => propose({ metrics: cpu50, ready: four, samples: byId(four, [0.1, 0.1, 0.1]) }), replicas: 3 },
  // Missing on scale-up: 3 of 4 at 90 % vs 50 % (ratio 1.8), the 4th counts as 0 %: 270/4 = 67.5 → 67 %, ratio 1.34, ceil(5.36) = 6.
  { name: 'missing metric counts as 0 % on a scale-up → 6, not 7', run: () => propose({ metrics: cpu50, ready: four, samples: byId(four, [0.9, 0.9, 0.9]) }), replicas: 6 },
  // Direction flip: 1 of 2 reports 40 % vs 50 % (ratio 0.8, a scale-down); the missing one at 100 % gives (40+100)/2 = 70 %,
  // ratio 1.4 > 1: the direction would flip, so hold.
  { name: 'missing metric that would flip the direction holds', run: () => propose({ metrics: cpu50, ready: instances(2), samples: byId(instances(2), [0.4]) }), replicas: 2 },
  // Plain metric, missing on scale-down counts as the target: (20 + 20 + 100) / 3 = 46.7 vs 100: ratio 0.467, ceil(1.4) = 2.
  { name: 'plain metric: a missing instance counts as the target on a scale-down', run: () => propose({ metrics: rps100, ready: three, samples: byId(three, [20, 20], 'rps') }), replicas: 2 },
  { name: 'no samples at all from in-service instances: NoMetrics, scale-in blocked', run: () => propose({ metrics: cpu50, ready: three, samples: {} }), replicas: undefined, reason: 'NoMetrics', blocksScaleIn: true },
  { name: 'no signals: NoMetrics', run: () => propose({ metrics: cpu50, ready: three, noSignals: true }), replicas: undefined, reason: 'NoMetrics', blocksScaleIn: true },
  { name: 'no metrics configured: no recommendation', run: () => propose({ metrics: [], ready: three }), replicas: undefined },
  // Memory utilisation of size.memoryMiB 512: 384 MiB = 75 % vs 50 %: ratio 1.5, ceil(4.5) = 5.
  { name: 'memory utilisation 75 % vs 50 % → 5', run: () => propose({ metrics: [{ type: 'memory', target: { averageUtilization: 50 } }], ready: three, samples: sameSample(three, { memoryMiB: 384 }) }), replicas: 5 },
  // Memory average value: 300 MiB vs 200 MiB per instance: ratio 1.5 → ceil(4.5) = 5.
  { name: 'memory average value 300 vs 200 MiB → 5', run: () => propose({ metrics: [{ type: 'memory', target: { averageValueMiB: 200 } }], ready: three, samples: sameSample(three, { memoryMiB: 300 }) }), replicas: 5 },
  // In-flight 12 vs 4 per instance: ratio 3 → 9.
  { name: 'in-flight 12 vs 4 per instance → 9', run: () => propose({ metrics: [{ type: 'inflight', target: { averageValue: 4 } }], ready: three, samples: sameSample(three, { inFlight: 12 }) }), replicas: 9 },
  // Latency p95 400 ms vs 200 ms: ratio 2 over 4 ready → 8.
  { name: 'latency p95 400 vs 200 ms doubles', run: () => propose({ metrics: [{ type: 'latency', target: { valueMs: 200 } }], ready: four, group: { latencyMs: { p95: 400 } } }), replicas: 8 },
  {
    name: 'latency of a priority class reads that class',
    run: () =>
      propose({
        metrics: [{ type: 'latency', percentile: 99, class: 'checkout', target: { valueMs: 100 } }],
        ready: four,
        group: { latencyMs: { p99: 50 }, classes: { checkout: { latencyMs: { p99: 250 } } } },
      }),
    // 250 / 100 = 2.5, ceil(2.5 × 4) = 10.
    replicas: 10,
  },
  // Latency 1.5× with 2 of 4 ready: ceil(1.5 × 2) = 3 < 4 would scale in on a high ratio, so hold.
  {
    name: 'latency high while half the instances start: hold, never scale in',
    run: () => propose({ metrics: [{ type: 'latency', target: { valueMs: 200 } }], ready: instances(2), others: instances(2, 'pending', 'p'), group: { latencyMs: { p95: 300 } } }),
    replicas: 4,
  },
  { name: 'latency without a signal: NoMetrics', run: () => propose({ metrics: [{ type: 'latency', target: { valueMs: 200 } }], ready: four, group: {} }), replicas: undefined, reason: 'NoMetrics' },
  // External total value 500 vs target 100: ratio 5 over 2 ready → 10.
  { name: 'external value 500 vs 100 over 2 ready → 10', run: () => propose({ metrics: [{ type: 'external', query: 'queue', source: PROM, target: { value: 100 } }], ready: instances(2), group: { external: { queue: 500 } } }), replicas: 10 },
  // From zero replicas: ceil(ratio) = ceil(2.5) = 3 (scale from zero).
  { name: 'external value from zero replicas → ceil(ratio)', run: () => propose({ metrics: [{ type: 'external', query: 'queue', source: PROM, target: { value: 100 } }], ready: [], group: { external: { queue: 250 } }, desired: 0 }), replicas: 3 },
  // External average 950 vs 100 per instance with 4: ratio 950/400 = 2.375 → ceil(950/100) = 10.
  { name: 'external averageValue 950 vs 100 per instance → 10', run: () => propose({ metrics: [{ type: 'external', query: 'orders', source: PROM, target: { averageValue: 100 } }], ready: four, group: { external: { orders: 950 } } }), replicas: 10 },
  { name: 'external averageValue from zero → ceil(total/average)', run: () => propose({ metrics: [{ type: 'external', query: 'orders', source: PROM, target: { averageValue: 100 } }], ready: [], group: { external: { orders: 150 } }, desired: 0 }), replicas: 2 },
  // 420 / (100 × 4) = 1.05: within tolerance.
  { name: 'external averageValue within tolerance holds', run: () => propose({ metrics: [{ type: 'external', query: 'orders', source: PROM, target: { averageValue: 100 } }], ready: four, group: { external: { orders: 420 } } }), replicas: 4 },
  // Several metrics: cpu says ceil(4 × 92/60) = 7, rps says ceil(4 × 1.2) = 5 → 7.
  {
    name: 'several metrics: the largest count wins',
    run: () => propose({ metrics: [...cpu60, { type: 'rps', target: { averageValue: 100 } }], ready: four, samples: sameSample(four, { cpuRatio: 0.92, rps: 120 }) }),
    replicas: 7,
  },
  // cpu says 2 (20 % vs 60 %: ceil(4 × 0.333) = 2) but latency is missing: the count stands, and scale-in is blocked.
  {
    name: 'one metric missing: scale-in blocked',
    run: () => propose({ metrics: [...cpu60, { type: 'latency', target: { valueMs: 200 } }], ready: four, samples: sameSample(four, { cpuRatio: 0.2 }) }),
    replicas: 2,
    blocksScaleIn: true,
  },
]

for (const c of cases) {
  test(c.name, () => {
    const r = c.run()
    assert.equal(r?.replicas, c.replicas)
    if (c.reason !== undefined) assert.equal(r?.reason, c.reason)
    if (c.blocksScaleIn !== undefined) assert.equal(r?.blocksScaleIn === true, c.blocksScaleIn)
  })
}

test('cpu with every reading from before readiness: NoMetrics, said as no fresh samples, scale-in blocked', () => {
  const fresh = instances(2, 'warming', 'w').map((i) => ({ ...i, launchedAtMs: T - 30 * S, readyAtMs: T - 5 * S }))
  const stale = { cpuRatio: 0.2, cpuAtMs: T, cpuWindowMs: 15 * S } // began 10 s before readiness
  const r = propose({ metrics: cpu50, ready: fresh, samples: { w0: stale, w1: stale }, nowMs: T })
  assert.ok(r !== undefined)
  assert.equal(r.reason, 'NoMetrics')
  assert.equal(r.blocksScaleIn, true)
  assert.equal(r.detail, 'no metrics: cpu: no fresh samples from ready instances')
})

test('details carry the numbers: observed, target and tolerance', () => {
  const up = propose({ metrics: cpu60, ready: four, samples: sameSample(four, { cpuRatio: 0.92 }) })
  assert.equal(up?.detail, 'cpu 92% > target 60%')
  const within = propose({ metrics: cpu60, ready: four, samples: sameSample(four, { cpuRatio: 0.63 }) })
  assert.equal(within?.detail, 'within tolerance (cpu 63% vs 60%, ±10%)')
  const latency = propose({ metrics: [{ type: 'latency', target: { valueMs: 200 } }], ready: four, group: { latencyMs: { p95: 340 } } })
  assert.equal(latency?.detail, 'p95 latency 340 ms > target 200 ms')
})

// A class with no traffic has a p95 of 0 ms by definition (router-signals): it still counts as no
// latency pressure, but the explanation does not print "0 ms" for it while another metric speaks.
const checkout250: Metrics = [{ type: 'latency', percentile: 95, class: 'checkout', target: { valueMs: 250 } }]
const idleCases: readonly { name: string; metrics: Metrics; samples: Record<string, InstanceSample>; group: Parameters<typeof signals>[1]; detail: string; replicas: number }[] = [
  {
    name: 'idle class latency is left out beside a busy metric',
    metrics: [...cpu60, ...checkout250],
    samples: sameSample(four, { cpuRatio: 0.92 }),
    group: { rps: 40, classes: { checkout: { rps: 0, latencyMs: { p95: 0 } } } },
    detail: 'cpu 92% > target 60%', // ceil(4 × 92/60) = 7
    replicas: 7,
  },
  {
    name: 'idle class latency is left out when the count holds',
    metrics: [...cpu60, ...checkout250],
    samples: sameSample(four, { cpuRatio: 0.63 }),
    group: { rps: 40, classes: { checkout: { rps: 0, latencyMs: { p95: 0 } } } },
    detail: 'cpu 63% vs 60%, ±10%', // cpu within tolerance keeps 4; the idle latency (ratio 0) would say fewer
    replicas: 4,
  },
  {
    name: 'the only metric idle: said as no traffic, never 0 ms',
    metrics: checkout250,
    samples: {},
    group: { rps: 0, classes: { checkout: { rps: 0, latencyMs: { p95: 0 } } } },
    detail: 'p95 latency (checkout): no traffic',
    replicas: 0, // ratio 0 over 4 ready instances
  },
  {
    name: 'a class with traffic keeps its latency, even a low one',
    metrics: [...cpu60, ...checkout250],
    samples: sameSample(four, { cpuRatio: 0.92 }),
    group: { rps: 40, classes: { checkout: { rps: 3, latencyMs: { p95: 12 } } } },
    detail: 'cpu 92% > target 60%, p95 latency (checkout) 12 ms < target 250 ms',
    replicas: 7,
  },
]
for (const c of idleCases) {
  test(`latency over no traffic: ${c.name}`, () => {
    const r = propose({ metrics: c.metrics, ready: four, samples: c.samples, group: c.group })
    assert.ok(r !== undefined)
    assert.equal(r.detail, c.detail)
    assert.equal(r.replicas, c.replicas)
  })
}

// An external source that fails: hold (no value: scale-in blocked) until the metric's fallback
// threshold, then the fallback count as this metric's proposal (KEDA's fallback), said in the detail.
const queue: Metrics = [{ type: 'external', query: 'queue', source: PROM, fallback: { failureThreshold: 3, replicas: 6 }, target: { averageValue: 100 } }]
const fallbackCases: { name: string; metrics: Metrics; group: Parameters<typeof signals>[1]; samples?: Record<string, InstanceSample>; replicas: number | undefined; blocksScaleIn?: true; detail: RegExp }[] = [
  {
    name: 'failing below the threshold: no value, NoMetrics, the error in the detail',
    metrics: queue,
    group: { externalFailures: { queue: { failures: 2, error: 'HTTP 503' } } },
    replicas: undefined,
    blocksScaleIn: true,
    detail: /external queue: no value: source failed 2 times \(HTTP 503\)/,
  },
  {
    name: 'at the threshold: the fallback count, scale-in allowed to it',
    metrics: queue,
    group: { externalFailures: { queue: { failures: 3, error: 'timeout after 5 s', fallbackReplicas: 6 } } },
    replicas: 6,
    detail: /^external queue: source failed 3 times \(timeout after 5 s\), fallback 6 instances$/,
  },
  {
    name: 'the fallback count below what cpu asks: cpu wins (the largest count)',
    metrics: [...queue, { type: 'cpu', target: { averageUtilization: 50 } }],
    group: { externalFailures: { queue: { failures: 4, error: 'HTTP 500', fallbackReplicas: 6 } } },
    samples: sameSample(four, { cpuRatio: 1 }),
    replicas: 8,
    detail: /cpu 100% > target 50%, external queue: source failed 4 times \(HTTP 500\), fallback 6 instances/,
  },
  {
    name: 'a value again: the fallback is gone',
    metrics: queue,
    group: { external: { queue: 200 } },
    replicas: 2,
    detail: /external queue 200 \(50 per instance\) < target 100 per instance/,
  },
]
for (const c of fallbackCases) {
  test(`external fallback: ${c.name}`, () => {
    const r = propose({ metrics: c.metrics, ready: four, group: c.group, ...(c.samples === undefined ? {} : { samples: c.samples }) })
    assert.equal(r?.replicas, c.replicas)
    assert.equal(r?.blocksScaleIn, c.blocksScaleIn)
    assert.match(r?.detail ?? '', c.detail)
  })
}

// Disk and network: per-instance byte rates (bytes/s in the samples) against a MiB/s target, as
// the HPA's Pods metrics (calcPlainMetricReplicas): warming instances supply samples, a missing
// one counts as 0 on the way up and as the target on the way down.
const MiB = 1024 * 1024
const diskWrite20: Metrics = [{ type: 'disk', direction: 'write', target: { averageValueMiBPerSecond: 20 } }]
const diskTotal20: Metrics = [{ type: 'disk', target: { averageValueMiBPerSecond: 20 } }]
const netOut10: Metrics = [{ type: 'network', direction: 'out', target: { averageValueMiBPerSecond: 10 } }]
const netIn10: Metrics = [{ type: 'network', direction: 'in', target: { averageValueMiBPerSecond: 10 } }]
const netTotal10: Metrics = [{ type: 'network', target: { averageValueMiBPerSecond: 10 } }]
const byteCases: { name: string; run: () => Recommendation | undefined; replicas: number | undefined; reason: string; detail: string; blocksScaleIn?: true }[] = [
  {
    // 40 / 20 = 2 → ceil(2 × 4) = 8
    name: 'disk write 40 MiB/s per instance vs 20 doubles 4 → 8',
    run: () => propose({ metrics: diskWrite20, ready: four, samples: sameSample(four, { diskReadBytesPerSecond: 0, diskWriteBytesPerSecond: 40 * MiB }) }),
    replicas: 8,
    reason: 'MetricAboveTarget',
    detail: 'disk write 40 MiB/s per instance > target 20 MiB/s per instance',
  },
  {
    // total = read + write = 2 + 3 = 5 MiB/s; 5 / 20 = 0.25 → ceil(0.25 × 4) = 1
    name: 'disk total sums read and write: 5 MiB/s vs 20 → 4 → 1',
    run: () => propose({ metrics: diskTotal20, ready: four, samples: sameSample(four, { diskReadBytesPerSecond: 2 * MiB, diskWriteBytesPerSecond: 3 * MiB }) }),
    replicas: 1,
    reason: 'MetricBelowTarget',
    detail: 'disk read+write 5 MiB/s per instance < target 20 MiB/s per instance',
  },
  {
    // Three at 40 MiB/s, one whose /proc/<pid>/io is unreadable: ratio 2 > 1, so the missing one counts
    // as 0: (120 + 0) / 4 = 30 MiB/s, 30 / 20 = 1.5 → ceil(1.5 × 4) = 6 (not 8).
    name: 'disk: an instance with unknown disk counts as 0 on the way up (4 → 6)',
    run: () => propose({ metrics: diskWrite20, ready: four, samples: { ...sameSample(four.slice(0, 3), { diskWriteBytesPerSecond: 40 * MiB }), [four[3]!.id]: { cpuRatio: 0.5 } } }),
    replicas: 6,
    reason: 'MetricAboveTarget',
    detail: 'disk write 40 MiB/s per instance > target 20 MiB/s per instance',
  },
  {
    // Three at 5 MiB/s, one unknown: ratio 0.25 < 1, so the unknown one counts as the target (20):
    // (15 + 20) / 4 = 8.75, 8.75 / 20 = 0.4375 → ceil(0.4375 × 4) = 2 (not 1).
    name: 'disk: an instance with unknown disk counts as the target on the way down (4 → 2)',
    run: () => propose({ metrics: diskWrite20, ready: four, samples: { ...sameSample(four.slice(0, 3), { diskWriteBytesPerSecond: 5 * MiB }), [four[3]!.id]: { cpuRatio: 0.5 } } }),
    replicas: 2,
    reason: 'MetricBelowTarget',
    detail: 'disk write 5 MiB/s per instance < target 20 MiB/s per instance',
  },
  {
    // total needs both halves: a write rate alone is not a total
    name: 'disk total with only write rates known: no metric, scale-in blocked',
    run: () => propose({ metrics: diskTotal20, ready: four, samples: sameSample(four, { diskWriteBytesPerSecond: MiB }) }),
    replicas: undefined,
    reason: 'NoMetrics',
    detail: 'no metrics: disk read+write: no samples from in-service or warming instances',
    blocksScaleIn: true,
  },
  {
    // 15 / 10 = 1.5 → ceil(1.5 × 3) = 5
    name: 'network out 15 MiB/s per instance vs 10: 3 → 5',
    run: () => propose({ metrics: netOut10, ready: three, samples: sameSample(three, { networkInBytesPerSecond: MiB, networkOutBytesPerSecond: 15 * MiB }) }),
    replicas: 5,
    reason: 'MetricAboveTarget',
    detail: 'network out 15 MiB/s per instance > target 10 MiB/s per instance',
  },
  {
    // (1 + 10) / 10 = 1.1: at the edge of the default tolerance, held
    name: 'network in+out 11 MiB/s vs 10 is within the 0.1 tolerance',
    run: () => propose({ metrics: netTotal10, ready: three, samples: sameSample(three, { networkInBytesPerSecond: MiB, networkOutBytesPerSecond: 10 * MiB }) }),
    replicas: 3,
    reason: 'WithinTolerance',
    detail: 'within tolerance (network in+out 11 MiB/s per instance vs 10 MiB/s per instance, ±10%)',
  },
  {
    // A warming instance serves and its bytes count (the HPA's start-up rule is for cpu only):
    // 3 measured at 20 MiB/s, 20 / 10 = 2 → ceil(2 × 3) = 6
    name: 'network: warming instances supply samples (2 in service + 1 warming → 6)',
    run: () => {
      const warm = instances(1, 'warming', 'w')
      const ready = instances(2)
      return propose({ metrics: netIn10, ready, others: warm, samples: sameSample([...ready, ...warm], { networkInBytesPerSecond: 20 * MiB, networkOutBytesPerSecond: 0 }) })
    },
    replicas: 6,
    reason: 'MetricAboveTarget',
    detail: 'network in 20 MiB/s per instance > target 10 MiB/s per instance',
  },
  {
    // Bytes/s are per instance, whatever its size: an instance of twice the cpu is not expected to carry twice
    // (disk and network bandwidth do not grow with cores on one host). 2 × 2 cpu at 30 MiB/s vs 10 → ceil(3 × 2) = 6.
    name: 'network: a bigger instance is not expected to carry more bytes',
    run: () => {
      const big = instances(2).map((i) => ({ ...i, size: { cpu: 2, memoryMiB: 1024 } }))
      return propose({ metrics: netIn10, ready: big, samples: sameSample(big, { networkInBytesPerSecond: 30 * MiB }) })
    },
    replicas: 6,
    reason: 'MetricAboveTarget',
    detail: 'network in 30 MiB/s per instance > target 10 MiB/s per instance',
  },
]
for (const c of byteCases) {
  test(c.name, () => {
    const r = c.run()
    assert.ok(r !== undefined)
    assert.equal(r.replicas, c.replicas)
    assert.equal(r.reason, c.reason)
    assert.equal(r.detail, c.detail)
    assert.equal(r.blocksScaleIn === true, c.blocksScaleIn === true)
  })
}

const rateTexts = [
  { bytes: 40 * MiB, want: '40 MiB/s' },
  { bytes: 1.5 * MiB, want: '1.5 MiB/s' },
  { bytes: 0.25 * MiB, want: '256 KiB/s' },
  { bytes: 0.3 * MiB, want: '307 KiB/s' },
  { bytes: 2048, want: '2 KiB/s' },
  { bytes: 512, want: '512 B/s' },
  { bytes: 0, want: '0 B/s' },
] as const
for (const c of rateTexts) {
  test(`byteRateText(${c.bytes}) is ${c.want}`, () => {
    assert.equal(byteRateText(c.bytes), c.want)
  })
}

test('a sub-MiB target reads in KiB/s, so its reading and the target stay apart', () => {
  const r = propose({ metrics: [{ type: 'network', direction: 'out', target: { averageValueMiBPerSecond: 0.25 } }], ready: three, samples: sameSample(three, { networkOutBytesPerSecond: 0.3 * MiB }) })
  // 0.3 / 0.25 = 1.2 → ceil(1.2 × 3) = 4
  assert.ok(r !== undefined)
  assert.equal(r.replicas, 4)
  assert.equal(r.detail, 'network out 307 KiB/s per instance > target 256 KiB/s per instance')
})
