import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decide } from '../../src/engine/decide.ts'
import { emptyHistory, type Decision, type InstanceView, type ScaleHistory } from '../../src/engine/types.ts'
import type { GroupInput } from '../../src/spec/schema.ts'
import { decideInput, groupSpec, instances, sameSample, signals } from './fixtures.ts'

const t0 = 1_000_000_000
const cpu60: NonNullable<GroupInput['metrics']> = [{ type: 'cpu', target: { averageUtilization: 60 } }]
const noWindows: GroupInput['behavior'] = { scaleDown: { stabilizationWindowSeconds: 0 } }

function atCpu(fields: Partial<GroupInput>, list: readonly InstanceView[], cpuRatio: number, extra: { nowMs?: number; history?: ScaleHistory; desiredReplicas?: number } = {}): Decision {
  return decide(decideInput({ spec: groupSpec({ metrics: cpu60, ...fields }), instances: list, signals: signals(sameSample(list, { cpuRatio })), ...extra }))
}

test('scale-out: 4 at cpu 92% vs 60% → ceil(4 × 92/60) = ceil(6.13) = 7, explained with the numbers', () => {
  const d = atCpu({ replicas: { min: 1, max: 20 } }, instances(4), 0.92)
  assert.equal(d.kind, 'scale')
  assert.equal(d.to, 7)
  assert.equal(d.reason, 'DesiredWithinRange')
  assert.equal(d.explanation, 'scaled 4→7: cpu 92% > target 60%')
  assert.deepEqual(d.history.scaleUpEvents, [{ atMs: t0, delta: 3 }])
  assert.deepEqual(d.scaleInCandidates, [])
})

test('within tolerance: held, explained with the numbers and the tolerance', () => {
  const d = atCpu({ replicas: { min: 1, max: 20 } }, instances(5), 0.63)
  assert.equal(d.kind, 'hold')
  assert.equal(d.to, 5)
  assert.equal(d.reason, 'WithinTolerance')
  assert.equal(d.explanation, 'held at 5: within tolerance (cpu 63% vs 60%, ±10%)')
})

test('scale-out capped by the default scale-up policy: 4 → wants 20, +4 instances/15 s beats +100% → 8', () => {
  // 4 at 300 %: ceil(4 × 300/60) = 20; limit max(4 × 2, 4 + 4) = 8.
  const d = atCpu({ replicas: { min: 1, max: 50 } }, instances(4), 3)
  assert.equal(d.to, 8)
  assert.equal(d.reason, 'ScaleUpLimit')
  assert.equal(d.explanation, 'scaled 4→8: cpu 300% > target 60%; capped by scale-up policy +100%/15 s')
  assert.deepEqual(d.limits, [{ guard: 'rate', from: 20, to: 8, detail: 'capped by scale-up policy +100%/15 s' }])
})

test('scale-out capped by +4 instances/15 s from 2 (ceil(2 × 2) = 4 < 2 + 4 = 6)', () => {
  const d = atCpu({ replicas: { min: 1, max: 50 } }, instances(2), 3)
  assert.equal(d.to, 6)
  assert.match(d.explanation, /capped by scale-up policy \+4 instances\/15 s$/)
})

test('scale-out capped by max: TooManyReplicas', () => {
  const d = atCpu({ replicas: { min: 1, max: 5 } }, instances(4), 0.92)
  assert.equal(d.to, 5)
  assert.equal(d.reason, 'TooManyReplicas')
  assert.match(d.explanation, /capped at max 5$/)
})

test('docs "Scaling policies": scale-down 80 → 72 → 64 with Percent 10 / Pods 4 per 60 s', () => {
  const spec = { replicas: { min: 1, max: 100 }, behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods' as const, value: 4, periodSeconds: 60 }, { type: 'Percent' as const, value: 10, periodSeconds: 60 }] } } }
  // cpu 7.5 % of 80 instances vs 60 %: ceil(80 × 7/60) = 10 (7.5 truncates to 7 %) — far below, so the rate decides.
  const first = atCpu(spec, instances(80), 0.075)
  assert.equal(first.to, 72)
  assert.equal(first.reason, 'ScaleDownLimit')
  assert.match(first.explanation, /^scaled 80→72: cpu 7% < target 60%; limited by scale-down policy −10%\/60 s$/)
  // 30 s later, still within the period: the 8 already removed count against it, so hold.
  const during = atCpu(spec, instances(72), 0.075, { nowMs: t0 + 30_000, history: first.history })
  assert.equal(during.to, 72)
  assert.equal(during.reason, 'ScaleDownLimit')
  // 60 s after the first step the period has passed: 10 % of 72 = 7.2 → trunc(64.8) = 64.
  const second = atCpu(spec, instances(72), 0.075, { nowMs: t0 + 60_000, history: during.history })
  assert.equal(second.to, 64)
})

test('stabilization: the default 300 s window holds a scale-down until the high recommendations age out', () => {
  const spec = { replicas: { min: 1, max: 20 } }
  const list = instances(8)
  // t0: 8 at 60 % — within tolerance, recommendation 8 recorded.
  const a = atCpu(spec, list, 0.6)
  // t0+60 s: load drops to 15 %: ceil(8 × 15/60) = 2, but 8 was recommended within 300 s.
  const b = atCpu(spec, list, 0.15, { nowMs: t0 + 60_000, history: a.history })
  assert.equal(b.to, 8)
  assert.equal(b.reason, 'Stabilized')
  assert.match(b.explanation, /scale-down stabilized at 8: highest recommendation in the last 300 s/)
  // t0+301 s: the 8 from t0 is out of the window; the highest left is 2 (t0+60 s) → 2.
  const c = atCpu(spec, list, 0.15, { nowMs: t0 + 301_000, history: b.history })
  assert.equal(c.to, 2)
})

test('a fresh history seeds the scale-down window with the current count (HPA maybeInitScaleDownStabilizationWindow)', () => {
  const d = atCpu({ replicas: { min: 1, max: 20 } }, instances(8), 0.15)
  assert.equal(d.to, 8)
  assert.equal(d.reason, 'Stabilized')
})

test('ScalingDisabled: current 0 with min > 0 does nothing, as the HPA', () => {
  const d = atCpu({ replicas: { min: 2, max: 20 } }, [], 0.9, { desiredReplicas: 0 })
  assert.equal(d.kind, 'skip')
  assert.equal(d.to, 0)
  assert.equal(d.reason, 'ScalingDisabled')
  assert.match(d.explanation, /^no change at 0: scaling is disabled/)
})

test('current above max goes straight to max, without rate limits', () => {
  const d = atCpu({ replicas: { min: 1, max: 10 }, behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } }, instances(30), 0.6)
  assert.equal(d.to, 10)
  assert.equal(d.reason, 'TooManyReplicas')
})

test('current below min goes straight to min: TooFewReplicas', () => {
  const d = atCpu({ replicas: { min: 6, max: 10 } }, instances(2), 0.6)
  assert.equal(d.to, 6)
  assert.equal(d.reason, 'TooFewReplicas')
  assert.equal(d.explanation, 'scaled 2→6: within tolerance (cpu 60% vs 60%, ±10%); raised to min 6')
})

test('an active campaign raises min at once: ScheduleBounds, naming the schedule', () => {
  const d = atCpu(
    { replicas: { min: 2, max: 40 }, schedules: [{ name: 'double-11', start: '2026-11-11T12:00:00+08:00', end: '2026-11-11T15:00:00+08:00', replicas: { min: 30 } }] },
    instances(5),
    0.6,
    { nowMs: Date.parse('2026-11-11T04:30:00Z') },
  )
  assert.equal(d.to, 30)
  assert.equal(d.reason, 'ScheduleBounds')
  assert.match(d.explanation, /schedule double-11 \(min 30\) active; raised to schedule min 30$/)
})

test('a schedule min above max: max wins and the explanation says so', () => {
  const d = atCpu(
    { replicas: { min: 2, max: 20 }, schedules: [{ name: 'big', start: '2026-11-11T00:00:00Z', end: '2026-11-12T00:00:00Z', replicas: { min: 30 } }] },
    instances(5),
    0.6,
    { nowMs: Date.parse('2026-11-11T04:30:00Z') },
  )
  assert.equal(d.to, 20)
  assert.match(d.explanation, /schedule min 30 exceeds spec max 20; max wins/)
})

test('a schedule max lowers the cap below the spec max', () => {
  const d = atCpu(
    { replicas: { min: 1, max: 20 }, schedules: [{ name: 'night', cron: '0 0 * * *', durationMinutes: 360, replicas: { max: 3 } }] },
    instances(5),
    0.6,
    { nowMs: Date.parse('2026-11-11T02:00:00Z') },
  )
  assert.equal(d.to, 3)
  assert.equal(d.reason, 'ScheduleBounds')
})

test('a missing metric vetoes scale-in: MissingMetricsBlockScaleIn', () => {
  const list = instances(6)
  const spec = groupSpec({ replicas: { min: 1, max: 20 }, behavior: noWindows, metrics: [...cpu60, { type: 'latency', target: { valueMs: 200 } }] })
  const d = decide(decideInput({ spec, instances: list, signals: signals(sameSample(list, { cpuRatio: 0.1 })) }))
  assert.equal(d.to, 6)
  assert.equal(d.kind, 'hold')
  assert.equal(d.reason, 'MissingMetricsBlockScaleIn')
  assert.match(d.explanation, /p95 latency: no signal \(scale-in blocked\); no scale-in to 1 while a metric is missing$/)
})

test('a missing metric does not stop a scale-out by another', () => {
  const list = instances(4)
  const spec = groupSpec({ replicas: { min: 1, max: 20 }, metrics: [...cpu60, { type: 'latency', target: { valueMs: 200 } }] })
  const d = decide(decideInput({ spec, instances: list, signals: signals(sameSample(list, { cpuRatio: 0.9 })) }))
  assert.equal(d.to, 6) // ceil(4 × 90/60) = 6
})

test('no signals at all: skip with NoMetrics, count unchanged', () => {
  const d = decide(decideInput({ spec: groupSpec({ metrics: cpu60, replicas: { min: 1, max: 20 } }), instances: instances(4), signals: undefined }))
  assert.equal(d.kind, 'skip')
  assert.equal(d.reason, 'NoMetrics')
  assert.equal(d.to, 4)
  assert.match(d.explanation, /^no change at 4: no metrics: cpu: no signals/)
})

test('no policy configured: skip with NoMetrics', () => {
  const d = decide(decideInput({ spec: groupSpec(), instances: instances(2), signals: signals({}) }))
  assert.equal(d.kind, 'skip')
  assert.equal(d.reason, 'NoMetrics')
  assert.equal(d.explanation, 'no change at 2: no scaling policy is configured and no schedule is active')
})

test('scale-in protection: never below the protected count, protected never candidates', () => {
  const list = [...instances(3, 'in-service', 'keep', true), ...instances(2, 'in-service', 'x')]
  const d = atCpu({ replicas: { min: 1, max: 20 }, behavior: noWindows }, list, 0.06) // wants ceil(5 × 6/60) = 1
  assert.equal(d.to, 3)
  assert.equal(d.reason, 'ScaleInProtected')
  assert.deepEqual(d.scaleInCandidates, ['x1', 'x0'])
  assert.match(d.explanation, /kept 3: 3 instances are protected from scale-in$/)
})

test('scale-in candidates: pending → unhealthy → warming → in-service, newest first within a phase', () => {
  const list: InstanceView[] = [
    ...instances(2, 'in-service', 'svc'),
    ...instances(2, 'warming', 'warm'),
    ...instances(1, 'unhealthy', 'sick'),
    ...instances(2, 'pending', 'pend'),
  ]
  const d = atCpu({ replicas: { min: 1, max: 20 }, behavior: noWindows }, list, 0.06)
  assert.equal(d.kind, 'scale')
  assert.ok(d.to < d.from)
  assert.deepEqual(d.scaleInCandidates, ['pend1', 'pend0', 'sick0', 'warm1', 'warm0', 'svc1', 'svc0'])
})

test('quota room caps a scale-out: QuotaExhausted, never below the current count', () => {
  const list = instances(4)
  const spec = groupSpec({ metrics: cpu60, replicas: { min: 1, max: 20 } })
  const input = { ...decideInput({ spec, instances: list, signals: signals(sameSample(list, { cpuRatio: 0.92 })) }), quotaRoom: { cpu: 1.5 } }
  const d = decide(input)
  assert.equal(d.to, 5) // 4 + floor(1.5 / 1 cpu)
  assert.equal(d.reason, 'QuotaExhausted')
  assert.match(d.explanation, /capped by quota \(cpu: 1.5 cores left, 1 per instance\)$/)
  const over = decide({ ...input, quotaRoom: { instances: -3 } })
  assert.equal(over.to, 4)
  assert.equal(over.reason, 'QuotaExhausted')
})

test('a step rule fires, is recorded, and cools down on the next tick', () => {
  const steps: NonNullable<GroupInput['steps']> = [{ metric: { type: 'cpu' }, above: 80, change: { type: 'Pods', value: 2 }, cooldownSeconds: 120 }]
  const spec = groupSpec({ steps, replicas: { min: 1, max: 20 } })
  const a = decide(decideInput({ spec, instances: instances(4), signals: signals(sameSample(instances(4), { cpuRatio: 0.9 })) }))
  assert.equal(a.to, 6)
  assert.deepEqual(a.history.stepFiredAtMs, { 0: t0 })
  assert.match(a.explanation, /^scaled 4→6: step: cpu 90% > 80% → \+2 instances$/)
  const b = decide(decideInput({ spec, instances: instances(6), signals: signals(sameSample(instances(6), { cpuRatio: 0.9 })), nowMs: t0 + 60_000, history: a.history }))
  assert.equal(b.to, 6)
  assert.match(b.explanation, /cooling down \(60 s left\)/)
  const c = decide(decideInput({ spec, instances: instances(6), signals: signals(sameSample(instances(6), { cpuRatio: 0.9 })), nowMs: t0 + 120_000, history: b.history }))
  assert.equal(c.to, 8)
  assert.deepEqual(c.history.stepFiredAtMs, { 0: t0 + 120_000 })
})

test('scale out if ANY policy asks: target tracking holds, a step rule adds', () => {
  const list = instances(4)
  const spec = groupSpec({
    replicas: { min: 1, max: 20 },
    metrics: [{ type: 'rps', target: { averageValue: 100 } }],
    steps: [{ metric: { type: 'latency' }, above: 500, change: { type: 'Pods', value: 3 } }],
  })
  const d = decide(decideInput({ spec, instances: list, signals: signals(sameSample(list, { rps: 100 }), { latencyMs: { p95: 900 } }) }))
  assert.equal(d.to, 7)
})

test('scale in only if ALL agree: a schedule desired floor keeps the count up', () => {
  const list = instances(8)
  const spec = groupSpec({
    replicas: { min: 1, max: 20 },
    behavior: noWindows,
    metrics: cpu60,
    schedules: [{ name: 'evening', start: '2026-11-11T00:00:00Z', end: '2026-11-12T00:00:00Z', replicas: { desired: 6 } }],
  })
  const d = decide(decideInput({ spec, instances: list, signals: signals(sameSample(list, { cpuRatio: 0.06 })), nowMs: Date.parse('2026-11-11T12:00:00Z') }))
  assert.equal(d.to, 6) // cpu wants ceil(8 × 6/60) = 1, the schedule 6: max → 6
})

test('history: the unstabilized recommendation is kept, entries older than the windows pruned', () => {
  const old: ScaleHistory = {
    ...emptyHistory,
    recommendations: [{ atMs: t0 - 400_000, replicas: 9 }, { atMs: t0 - 100_000, replicas: 5 }],
    scaleUpEvents: [{ atMs: t0 - 20_000, delta: 2 }, { atMs: t0 - 5000, delta: 1 }],
  }
  const d = atCpu({ replicas: { min: 1, max: 20 } }, instances(5), 0.15, { history: old }) // wants ceil(5 × 15/60) = 2
  assert.equal(d.to, 5) // stabilized by the 5 at t0 − 100 s
  assert.deepEqual(d.history.recommendations, [{ atMs: t0 - 100_000, replicas: 5 }, { atMs: t0, replicas: 2 }])
  assert.deepEqual(d.history.scaleUpEvents, [{ atMs: t0 - 5000, delta: 1 }]) // the longest scale-up period is 15 s
})

test('a tick without any count records nothing in the stabilization window (the HPA errors out of such a tick)', () => {
  const past: ScaleHistory = { ...emptyHistory, recommendations: [{ atMs: t0 - 60_000, replicas: 4 }] }
  const d = decide(decideInput({ spec: groupSpec({ metrics: cpu60, replicas: { min: 1, max: 20 } }), instances: instances(4), signals: undefined, history: past }))
  assert.deepEqual(d.history.recommendations, past.recommendations)
})

test('a vetoed tick records no recommendation either (the HPA errors out of it)', () => {
  const list = instances(6)
  const spec = groupSpec({ replicas: { min: 1, max: 20 }, behavior: noWindows, metrics: [...cpu60, { type: 'latency', target: { valueMs: 200 } }] })
  const past: ScaleHistory = { ...emptyHistory, recommendations: [{ atMs: t0 - 10_000, replicas: 6 }] }
  const d = decide(decideInput({ spec, instances: list, signals: signals(sameSample(list, { cpuRatio: 0.1 })), history: past }))
  assert.equal(d.reason, 'MissingMetricsBlockScaleIn')
  assert.deepEqual(d.history.recommendations, [])
})
