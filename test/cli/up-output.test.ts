import { test } from 'node:test'
import assert from 'node:assert/strict'
import { conditionsText, decisionLine, eventLine, heartbeatLine, isDecisionNews, TrafficTally, UpOutput, type TrafficSummary } from '../../src/cli/up-output.ts'
import type { GroupCondition } from '../../src/engine/conditions.ts'
import { emptyHistory, type Decision, type DecisionReason, type Recommendation } from '../../src/engine/types.ts'
import type { RouterStats } from '../../src/router/stats.ts'

const AT = Date.UTC(2026, 10, 11, 4, 0, 30) // 04:00:30 UTC

function decision(kind: Decision['kind'], from: number, to: number, reason: DecisionReason, recommendations: Recommendation[] = []): Decision {
  return { group: 'web', atMs: AT, kind, from, to, reason, explanation: 'the engine\'s full sentence', recommendations, limits: [], scaleInCandidates: [], history: emptyHistory }
}

const hold = (reason: DecisionReason): Decision => decision('hold', 2, 2, reason)

const newsCases = [
  { name: 'the first decision', previous: undefined, next: hold('DesiredWithinRange'), want: true },
  { name: 'every scaling action', previous: decision('scale', 1, 2, 'DesiredWithinRange'), next: decision('scale', 2, 3, 'DesiredWithinRange'), want: true },
  { name: 'an ordinary hold after another', previous: hold('TooFewReplicas'), next: hold('Stabilized'), want: false },
  { name: 'flapping back', previous: hold('Stabilized'), next: hold('TooFewReplicas'), want: false },
  { name: 'the same reason again', previous: hold('NoMetrics'), next: hold('NoMetrics'), want: false },
  { name: 'metrics lost', previous: hold('WithinTolerance'), next: hold('NoMetrics'), want: true },
  { name: 'scale-in blocked', previous: hold('WithinTolerance'), next: hold('MissingMetricsBlockScaleIn'), want: true },
  { name: 'at max: its own at-max-capacity event says it', previous: hold('WithinTolerance'), next: hold('TooManyReplicas'), want: false },
  { name: 'out of quota: its own quota-exhausted event says it', previous: hold('WithinTolerance'), next: hold('QuotaExhausted'), want: false },
  { name: 'metrics back', previous: hold('NoMetrics'), next: hold('WithinTolerance'), want: true },
  { name: 'no longer at max', previous: hold('TooManyReplicas'), next: hold('Stabilized'), want: true },
] as const
for (const c of newsCases) {
  test(`isDecisionNews: ${c.name} → ${c.want}`, () => {
    assert.equal(isDecisionNews(c.previous, c.next), c.want)
  })
}

test('decisionLine leaves out advisory recommendations and keeps the guards', () => {
  const d: Decision = {
    ...decision('scale', 2, 4, 'ScaleUpLimit', [
      { policy: 'target-tracking', replicas: 6, reason: 'MetricAboveTarget', detail: 'rps 61/s per instance > target 30/s per instance' },
      { policy: 'predictive', advisory: true, reason: 'InsufficientHistory', detail: 'predictive: forecast needs more history (0 h of 48 h)' },
      { policy: 'vertical', advisory: true, reason: 'KeepSize', detail: 'vertical: keep size: cpu p90 +15% 0.01 cores' },
    ]),
    limits: [{ guard: 'rate', from: 6, to: 4, detail: 'capped by scale-up policy +100%/5 s' }],
  }
  assert.equal(decisionLine(d), 'scaled 2→4: rps 61/s per instance > target 30/s per instance; capped by scale-up policy +100%/5 s')
})

function window(startMs: number, total: { requests: number; p95Ms?: number; shed?: number; errors?: number }, classes: { name: string; requests: number; p95Ms?: number }[]): RouterStats {
  const traffic = (requests: number, p95Ms: number | undefined) => ({ requests, rps: requests, errors: 0, inFlight: 0, p50Ms: p95Ms, p95Ms, p99Ms: p95Ms })
  return {
    windowStartMs: startMs,
    windowEndMs: startMs + 1000,
    total: { ...traffic(total.requests, total.p95Ms), errors: total.errors ?? 0, shed: total.shed ?? 0, queued: 0, bytesIn: 0, bytesOut: 0 },
    instances: [],
    classes: classes.map((c) => ({ ...traffic(c.requests, c.p95Ms), name: c.name, priority: 'normal' as const, shed: 0, queued: 0 })),
  }
}

test('TrafficTally: rates over the period, p95 weighted by requests, classes without traffic left out', () => {
  const tally = new TrafficTally()
  assert.equal(tally.take(), undefined)
  tally.add(window(0, { requests: 30, p95Ms: 10, shed: 2 }, [{ name: 'checkout', requests: 0 }, { name: 'browse', requests: 30, p95Ms: 10 }]))
  tally.add(window(1000, { requests: 10, p95Ms: 50, errors: 1 }, [{ name: 'checkout', requests: 10, p95Ms: 50 }, { name: 'browse', requests: 0 }]))
  const s = tally.take()
  assert.deepEqual(s, {
    seconds: 2,
    rps: 20, // 40 requests in 2 s
    shed: 2,
    errors: 1,
    p95Ms: 20, // (30 × 10 + 10 × 50) / 40
    classes: [
      { name: 'checkout', rps: 5, p95Ms: 50 },
      { name: 'browse', rps: 15, p95Ms: 10 },
    ],
  })
  assert.equal(tally.take(), undefined, 'take() starts a new period')
  tally.add(window(2000, { requests: 0 }, [{ name: 'checkout', requests: 0 }]))
  assert.deepEqual(tally.take(), { seconds: 1, rps: 0, shed: 0, errors: 0, p95Ms: undefined, classes: [] })
})

const quiet: TrafficSummary = { seconds: 30, rps: 0, shed: 0, errors: 0, p95Ms: undefined, classes: [] }
const busy: TrafficSummary = {
  seconds: 30,
  rps: 42.4,
  shed: 3,
  errors: 0,
  p95Ms: 38.2,
  classes: [
    { name: 'checkout', rps: 4, p95Ms: 120.4 },
    { name: 'browse', rps: 38.4, p95Ms: 35 },
  ],
}
const heartbeatCases = [
  {
    name: 'busy: load, shed, p95 per class with traffic, phases in lifecycle order',
    traffic: busy,
    phases: ['in-service', 'warming', 'in-service', 'pending', 'in-service'] as const,
    want: '04:00:30 web: 42 req/s, 3 shed, p95 38 ms (checkout 120 ms, browse 35 ms); instances 1 pending, 1 warming, 3 in-service; desired 5',
  },
  { name: 'no traffic: no latency at all, never 0 ms', traffic: quiet, phases: ['in-service'] as const, want: '04:00:30 web: 0 req/s; instances 1 in-service; desired 5' },
  { name: 'no router window yet, no instance', traffic: undefined, phases: [] as const, want: '04:00:30 web: no instances; desired 5' },
  {
    name: 'one class with traffic: the total p95 says it',
    traffic: { ...busy, shed: 0, classes: [{ name: 'browse', rps: 42.4, p95Ms: 38.2 }] },
    phases: ['in-service', 'draining'] as const,
    want: '04:00:30 web: 42 req/s, p95 38 ms; instances 1 in-service, 1 draining; desired 5',
  },
]
for (const c of heartbeatCases) {
  test(`heartbeatLine: ${c.name}`, () => {
    const line = heartbeatLine({ atMs: AT, group: 'web', traffic: c.traffic, phases: c.phases, desiredReplicas: 5 })
    assert.equal(line, c.want)
    assert.doesNotMatch(line, /\b0 ms/)
  })
}

test('eventLine: other events print as they come', () => {
  assert.equal(eventLine({ atMs: AT, group: 'web', type: 'instance-ready', message: 'instance web-1 is serving after 1.0 s', instanceId: 'web-1' }, undefined), '04:00:30 web instance-ready: instance web-1 is serving after 1.0 s')
  // The backup pool taking the traffic and giving it back (src/runtime/failover-events.ts) print every time.
  assert.equal(eventLine({ atMs: AT, group: 'web', type: 'failover', message: 'the only primary instance is not routable (1 unhealthy); the backup pool serves (1 of 1 target healthy)' }, undefined), '04:00:30 web failover: the only primary instance is not routable (1 unhealthy); the backup pool serves (1 of 1 target healthy)')
  assert.equal(eventLine({ atMs: AT, group: 'web', type: 'failback', message: 'primary instance web-2 routable again: traffic returns to the primaries' }, undefined), '04:00:30 web failback: primary instance web-2 routable again: traffic returns to the primaries')
})

test('UpOutput: a flapping hold prints once; a scale, losing and regaining metrics print', () => {
  const lines: string[] = []
  const out = new UpOutput((l) => lines.push(l))
  const tt = (detail: string): Recommendation[] => [{ policy: 'target-tracking', replicas: 2, reason: 'MetricBelowTarget', detail }]
  const sequence: Decision[] = [
    decision('skip', 1, 1, 'NoMetrics', [{ policy: 'target-tracking', blocksScaleIn: true, reason: 'NoMetrics', detail: 'no metrics: rps: no signals' }]),
    decision('hold', 1, 1, 'TooFewReplicas', tt('rps 0/s per instance < target 30/s per instance')),
    decision('hold', 1, 1, 'Stabilized', tt('rps 1/s per instance < target 30/s per instance')),
    decision('hold', 1, 1, 'TooFewReplicas', tt('rps 0/s per instance < target 30/s per instance')),
    decision('scale', 1, 3, 'DesiredWithinRange', [{ policy: 'target-tracking', replicas: 3, reason: 'MetricAboveTarget', detail: 'rps 80/s per instance > target 30/s per instance' }]),
    decision('hold', 3, 3, 'Stabilized', tt('rps 20/s per instance < target 30/s per instance')),
  ]
  for (const d of sequence) out.append({ atMs: AT, group: 'web', type: 'decision', message: d.explanation, decision: d })
  out.append({ atMs: AT, group: 'web', type: 'launch', message: 'launched 2 instance(s)' })
  assert.deepEqual(lines, [
    '04:00:30 web no change at 1: no metrics: rps: no signals\n',
    '04:00:30 web held at 1: rps 0/s per instance < target 30/s per instance\n',
    '04:00:30 web scaled 1→3: rps 80/s per instance > target 30/s per instance\n',
    '04:00:30 web launch: launched 2 instance(s)\n',
  ])
})

test('heartbeatLine: a group with an slo says its headroom, what it costs and the budget spent', () => {
  const slo = {
    latencyP95Ms: 200,
    budgetPercent: 0.5,
    headroom: { percent: 24, source: 'learned' as const, why: 'covers …', historyHours: 30 },
    targetPerInstanceRps: 40,
    cost: { demandInstances: 8, headroomInstances: 2 },
    budget: { budgetPercent: 0.5, todayViolatedPercent: 0.1, weekViolatedPercent: 0.333, todayMeasuredSeconds: 3600, weekMeasuredSeconds: 7200 },
  }
  const line = heartbeatLine({ atMs: AT, group: 'web', traffic: undefined, phases: ['in-service'], desiredReplicas: 10, slo })
  assert.match(line, /; headroom 24 % \(learned; 2 instances\), budget 0\.5 %: 0\.1 % today, 0\.33 % this week$/)
  const objectiveOnly = { latencyP95Ms: slo.latencyP95Ms, budgetPercent: slo.budgetPercent, budget: slo.budget }
  assert.match(heartbeatLine({ atMs: AT, group: 'web', traffic: undefined, phases: [], desiredReplicas: 0, slo: objectiveOnly }), /; budget 0\.5 %: 0\.1 % today, 0\.33 % this week$/)
})

test('heartbeatLine: conditions show only when not in their normal state, compactly', () => {
  const c = (type: GroupCondition['type'], status: GroupCondition['status'], reason: GroupCondition['reason']): GroupCondition => ({ type, status, reason, message: 'm', lastTransitionMs: 0 })
  const normal = [c('AbleToScale', 'True', 'ReadyForNewScale'), c('ScalingActive', 'True', 'ValidMetricFound'), c('ScalingLimited', 'False', 'DesiredWithinRange')]
  assert.equal(conditionsText(normal), undefined)
  assert.equal(conditionsText([...normal.slice(0, 2), c('ScalingLimited', 'True', 'TooFewReplicas')]), undefined, 'resting at min is not news')
  assert.equal(heartbeatLine({ atMs: AT, group: 'web', traffic: undefined, phases: ['in-service'], desiredReplicas: 1, conditions: normal }), '04:00:30 web: instances 1 in-service; desired 1')
  const off = [c('AbleToScale', 'False', 'FailedGetScale'), c('ScalingActive', 'True', 'ValidMetricFound'), c('ScalingLimited', 'True', 'TooManyReplicas')]
  assert.equal(
    heartbeatLine({ atMs: AT, group: 'web', traffic: undefined, phases: ['in-service'], desiredReplicas: 10, conditions: off }),
    '04:00:30 web: instances 1 in-service; desired 10; AbleToScale False (FailedGetScale), ScalingLimited True (TooManyReplicas)',
  )
})
