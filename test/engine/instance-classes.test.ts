import { test } from 'node:test'
import assert from 'node:assert/strict'
import { classifyInstances, cpuReadinessOf, cpuReadinessPeriods, cpuSampleIgnored, type CpuReadiness, type CpuReadingTime } from '../../src/engine/instance-classes.ts'
import type { InstanceView } from '../../src/engine/types.ts'
import { groupSpec, instances } from './fixtures.ts'

const s = 1000
const min = 60 * s
/** The HPA tests' "now". */
const now = 1_000_000 * s
/** replica_calculator_test.go runs groupPods with defaultTestingCPUInitializationPeriod 2 min and defaultTestingDelayOfInitialReadinessStatus 10 s. */
const hpaTesting = { cpuInitializationPeriodMs: 2 * min, initialReadinessDelayMs: 10 * s }
/** A metric the HPA test builds as `metricsclient.PodMetric{Value: 1}`: Timestamp and Window left at zero. */
const untimed: CpuReadingTime = { atMs: undefined, windowMs: undefined }

// TestGroupPods (replica_calculator_test.go), its cpu cases by name: whether groupPods puts the pod
// among the ignored ones. The cases without a sample ("a missing pod") or on memory are in
// test/engine/policies/target-tracking.test.ts, where they meet sampledInstances.
const groupPodsCases: readonly { name: string; pod: CpuReadiness; reading: CpuReadingTime; ignored: boolean }[] = [
  { name: 'ignore a pod without ready condition - CPU', pod: { startMs: now }, reading: untimed, ignored: true },
  // Started 1 min ago (within the 2 min period), ready 30 s ago; a 30 s window ending now began at readiness: counts.
  {
    name: 'count in a ready pod with fresh metrics during initialization period - CPU',
    pod: { startMs: now - 1 * min, condition: { ready: true, lastTransitionMs: now - 30 * s } },
    reading: { atMs: now, windowMs: 30 * s },
    ignored: false,
  },
  // The same with a 60 s window: it began 30 s before readiness.
  {
    name: 'ignore a ready pod without fresh metrics during initialization period - CPU',
    pod: { startMs: now - 1 * min, condition: { ready: true, lastTransitionMs: now - 30 * s } },
    reading: { atMs: now, windowMs: 60 * s },
    ignored: true,
  },
  // Started 10 min ago (past the period), unready since 6 s after start: start + 10 s is after that transition, never ready.
  {
    name: 'ignore an unready pod during initialization period - CPU',
    pod: { startMs: now - 10 * min, condition: { ready: false, lastTransitionMs: now - 9 * min - 54 * s } },
    reading: untimed,
    ignored: true,
  },
  // Past the period and ready: a reading from 2 min ago with a 1 min window counts.
  {
    name: 'count in a ready pod without fresh metrics after initialization period - CPU',
    pod: { startMs: now - 3 * min, condition: { ready: true, lastTransitionMs: now - 3 * min } },
    reading: { atMs: now - 2 * min, windowMs: 1 * min },
    ignored: false,
  },
  // Unready since 1 min after start (past the 10 s delay): it was ready once, so it counts.
  {
    name: 'count in an unready pod that was ready after initialization period - CPU',
    pod: { startMs: now - 10 * min, condition: { ready: false, lastTransitionMs: now - 9 * min } },
    reading: untimed,
    ignored: false,
  },
  // The transition exactly 10 s after start: start + 10 s is not after it, so the HPA's test expects
  // the pod counted (readyPodCount 1), whatever its name says.
  {
    name: 'ignore pod that has never been ready after initialization period - CPU',
    pod: { startMs: now - 10 * min, condition: { ready: false, lastTransitionMs: now - 9 * min - 50 * s } },
    reading: untimed,
    ignored: false,
  },
  // "several pods": lucretius (started now, no condition) is ignored; niccolo (ready 3 min, past the period) counts.
  { name: 'several pods: lucretius', pod: { startMs: now }, reading: untimed, ignored: true },
  {
    name: 'several pods: niccolo',
    pod: { startMs: now - 3 * min, condition: { ready: true, lastTransitionMs: now - 3 * min } },
    reading: untimed,
    ignored: false,
  },
]
for (const c of groupPodsCases) {
  test(`HPA TestGroupPods: ${c.name}`, () => {
    assert.equal(cpuSampleIgnored(c.pod, c.reading, now, hpaTesting), c.ignored)
  })
}

// The rule's edges, with tide's defaults (5 min, 30 s).
const defaults = cpuReadinessPeriods(groupSpec())
const launched = now - 60 * s
const readyAt = now - 20 * s
const edgeCases: readonly { name: string; pod: CpuReadiness; reading: CpuReadingTime; nowMs?: number; ignored: boolean }[] = [
  { name: 'window began exactly at readiness: counts', pod: { startMs: launched, condition: { ready: true, lastTransitionMs: readyAt } }, reading: { atMs: now, windowMs: 20 * s }, ignored: false },
  { name: 'window began 1 ms before readiness: left out', pod: { startMs: launched, condition: { ready: true, lastTransitionMs: readyAt } }, reading: { atMs: now, windowMs: 20 * s + 1 }, ignored: true },
  { name: 'an older reading whose window began before readiness: left out', pod: { startMs: launched, condition: { ready: true, lastTransitionMs: readyAt } }, reading: { atMs: now - 5 * s, windowMs: 16 * s }, ignored: true },
  { name: 'within the period, a reading without a time: left out', pod: { startMs: launched, condition: { ready: true, lastTransitionMs: readyAt } }, reading: { atMs: now, windowMs: undefined }, ignored: true },
  { name: 'within the period, unready: left out however fresh', pod: { startMs: launched, condition: { ready: false, lastTransitionMs: readyAt } }, reading: { atMs: now, windowMs: 1 * s }, ignored: true },
  // start + 5 min > now is "within"; at exactly start + 5 min the period is over.
  { name: 'the period ends at start + 5 min: a stale window counts from then', pod: { startMs: now - 5 * min, condition: { ready: true, lastTransitionMs: now - 1 * s } }, reading: { atMs: now, windowMs: 30 * s }, ignored: false },
  { name: '1 ms before the end of the period: still left out', pod: { startMs: now - 5 * min + 1, condition: { ready: true, lastTransitionMs: now - 1 * s } }, reading: { atMs: now, windowMs: 30 * s }, ignored: true },
  { name: 'past the period, unready, first ready 20 s after start (within 30 s): never ready, left out', pod: { startMs: now - 10 * min, condition: { ready: false, lastTransitionMs: now - 10 * min + 20 * s } }, reading: untimed, ignored: true },
  { name: 'past the period, unready, first ready 40 s after start: was ready, counts', pod: { startMs: now - 10 * min, condition: { ready: false, lastTransitionMs: now - 10 * min + 40 * s } }, reading: untimed, ignored: false },
]
for (const c of edgeCases) {
  test(`cpuSampleIgnored: ${c.name}`, () => {
    assert.equal(cpuSampleIgnored(c.pod, c.reading, c.nowMs ?? now, defaults), c.ignored)
  })
}

test('cpuReadinessPeriods: the HPA defaults of 5 min and 30 s, or the group\'s', () => {
  assert.deepEqual(defaults, { cpuInitializationPeriodMs: 300_000, initialReadinessDelayMs: 30_000 })
  assert.deepEqual(cpuReadinessPeriods(groupSpec({ cpuInitializationPeriodSeconds: 120, initialReadinessDelaySeconds: 10 })), hpaTesting)
})

const base: InstanceView = { id: 'a', phase: 'warming', size: { cpu: 1, memoryMiB: 512 }, launchedAtMs: 1000, protectedFromScaleIn: false }
const readinessCases: readonly { name: string; view: InstanceView; want: CpuReadiness }[] = [
  { name: 'ready: started at launch, last transition at readyAtMs', view: { ...base, readyAtMs: 4000 }, want: { startMs: 1000, condition: { ready: true, lastTransitionMs: 4000 } } },
  { name: 'failing its checks: Ready condition false', view: { ...base, readyAtMs: 4000, unready: true }, want: { startMs: 1000, condition: { ready: false, lastTransitionMs: 4000 } } },
  { name: 'no ready time from the provider: ready from launch, as phaseOf', view: base, want: { startMs: 1000, condition: { ready: true, lastTransitionMs: 1000 } } },
]
for (const c of readinessCases) {
  test(`cpuReadinessOf: ${c.name}`, () => {
    assert.deepEqual(cpuReadinessOf(c.view), c.want)
  })
}

test('classifyInstances: in-service ready; pending, warming, unhealthy not ready; standby live only; leaving ones nowhere', () => {
  const all = [
    ...instances(2, 'in-service', 'i'),
    ...instances(1, 'pending', 'p'),
    ...instances(1, 'warming', 'w'),
    ...instances(1, 'unhealthy', 'u'),
    ...instances(1, 'standby', 's'),
    ...instances(1, 'draining', 'd'),
    ...instances(1, 'terminated', 't'),
  ]
  const c = classifyInstances(all)
  assert.deepEqual(c.ready.map((i) => i.id), ['i0', 'i1'])
  assert.deepEqual(c.notReady.map((i) => i.id), ['p0', 'w0', 'u0'])
  assert.deepEqual(c.live.map((i) => i.id), ['i0', 'i1', 'p0', 'w0', 'u0', 's0'])
})
