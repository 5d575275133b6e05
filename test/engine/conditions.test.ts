import { test } from 'node:test'
import assert from 'node:assert/strict'
import { groupConditions, isNormal, type ConditionsInput, type GroupCondition } from '../../src/engine/conditions.ts'
import type { AppliedLimit, Recommendation } from '../../src/engine/types.ts'

type Decision = NonNullable<ConditionsInput['decision']>

const cpu: Recommendation = { policy: 'target-tracking', replicas: 6, reason: 'MetricAboveTarget', detail: 'cpu 90% > target 60%' }
const slo: Recommendation = { policy: 'slo', replicas: 6, reason: 'LearnedHeadroom', detail: 'slo: 300 req/s' }
const noCpu: Recommendation = { policy: 'target-tracking', blocksScaleIn: true, reason: 'NoMetrics', detail: 'no metrics: cpu: no samples' }
const noDemand: Recommendation = { policy: 'slo', blocksScaleIn: true, reason: 'NoDemand', detail: 'slo: no demand reading' }
const forecastOnly: Recommendation = { policy: 'predictive', replicas: 9, advisory: true, reason: 'ForecastAhead', detail: 'forecast 900 req/s' }
const schedule: Recommendation = { policy: 'scheduled', bounds: { min: 6 }, reason: 'ScheduleActive', detail: 'schedule double-11: min 6' }

function limit(guard: AppliedLimit['guard'], from: number, to: number, detail = `${guard} ${from}→${to}`): AppliedLimit {
  return { guard, from, to, detail }
}

function decision(d: Partial<Decision> = {}): Decision {
  return { kind: 'hold', from: 4, to: 4, reason: 'DesiredWithinRange', recommendations: [cpu], limits: [], ...d }
}

/** [status, reason] of each condition present, in order. */
type Want = readonly (readonly [GroupCondition['type'], GroupCondition['status'], GroupCondition['reason']])[]

const cases: readonly { name: string; input: Omit<ConditionsInput, 'nowMs' | 'previous'>; want: Want }[] = [
  // AbleToScale, in the HPA's order: a rescale wins over a stabilization, which wins over ready.
  {
    name: 'a scale is SucceededRescale; within range',
    input: { decision: decision({ kind: 'scale', to: 6, reason: 'DesiredWithinRange' }) },
    want: [
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  {
    name: 'a hold with nothing in the way is ReadyForNewScale',
    input: { decision: decision() },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  {
    // Desired 2, the highest recommendation of the last 300 s was 4: held at 4 by the scale-down window.
    name: 'the scale-down window raising the count is ScaleDownStabilized, not a limit',
    input: { decision: decision({ reason: 'Stabilized', limits: [limit('stabilization', 2, 4)] }) },
    want: [
      ['AbleToScale', 'True', 'ScaleDownStabilized'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  {
    name: 'the scale-up window lowering the count is ScaleUpStabilized',
    input: { decision: decision({ kind: 'scale', to: 5, reason: 'Stabilized', limits: [limit('stabilization', 8, 5)] }) },
    want: [
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  {
    name: 'a stabilized hold that moved nothing up is ScaleUpStabilized',
    input: { decision: decision({ reason: 'Stabilized', limits: [limit('stabilization', 8, 4)] }) },
    want: [
      ['AbleToScale', 'True', 'ScaleUpStabilized'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  {
    name: 'launches backing off (crash loop) is BackoffUpscale, False',
    input: { decision: decision({ kind: 'scale', to: 6 }), backoff: { up: '3 failed starts in a row' } },
    want: [
      ['AbleToScale', 'False', 'BackoffUpscale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  {
    name: 'removals backing off is BackoffDownscale',
    input: { decision: decision(), backoff: { down: 'terminate refused' } },
    want: [
      ['AbleToScale', 'False', 'BackoffDownscale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  {
    name: 'both backing off is BackoffBoth',
    input: { decision: decision(), backoff: { up: 'a', down: 'b' } },
    want: [
      ['AbleToScale', 'False', 'BackoffBoth'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  // ScalingLimited: the last guard that changed the count, by direction.
  {
    // Desired 12 over max 10.
    name: 'capped at max is TooManyReplicas',
    input: { decision: decision({ kind: 'scale', to: 10, reason: 'TooManyReplicas', limits: [limit('bounds', 12, 10)] }) },
    want: [
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'TooManyReplicas'],
    ],
  },
  {
    name: 'raised to min is TooFewReplicas',
    input: { decision: decision({ reason: 'TooFewReplicas', limits: [limit('bounds', 1, 4)] }) },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'TooFewReplicas'],
    ],
  },
  {
    name: "a schedule's min is TooFewReplicas (the message names the schedule)",
    input: { decision: decision({ kind: 'scale', to: 6, reason: 'ScheduleBounds', recommendations: [cpu, schedule], limits: [limit('schedule', 3, 6, 'raised to schedule min 6')] }) },
    want: [
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'TooFewReplicas'],
    ],
  },
  {
    // Desired 20 from 4; the rate policy allows +4 per 15 s: 8.
    name: 'the scale-up rate policy is ScaleUpLimit',
    input: { decision: decision({ kind: 'scale', to: 8, reason: 'ScaleUpLimit', limits: [limit('rate', 20, 8)] }) },
    want: [
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'ScaleUpLimit'],
    ],
  },
  {
    name: 'the scale-down rate policy is ScaleDownLimit',
    input: { decision: decision({ kind: 'scale', to: 3, reason: 'ScaleDownLimit', limits: [limit('rate', 1, 3)] }) },
    want: [
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'ScaleDownLimit'],
    ],
  },
  {
    name: "a fleet quota is tide's QuotaExhausted",
    input: { decision: decision({ kind: 'scale', to: 5, reason: 'QuotaExhausted', limits: [limit('quota', 6, 5)] }) },
    want: [
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'QuotaExhausted'],
    ],
  },
  {
    name: "protected instances are tide's ScaleInProtected",
    input: { decision: decision({ reason: 'ScaleInProtected', limits: [limit('protection', 2, 4)] }) },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'ScaleInProtected'],
    ],
  },
  {
    name: "a missing metric vetoing scale-in is tide's MissingMetricsBlockScaleIn; ScalingActive stays True (a count was computed)",
    input: { decision: decision({ reason: 'MissingMetricsBlockScaleIn', recommendations: [{ ...slo, replicas: 2 }, noCpu], limits: [limit('missing-metrics', 2, 4)] }) },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'MissingMetricsBlockScaleIn'],
    ],
  },
  {
    name: 'stabilization then the rate policy: the rate is the limit, the window is AbleToScale',
    input: { decision: decision({ kind: 'scale', to: 3, reason: 'ScaleDownLimit', limits: [limit('stabilization', 1, 2), limit('rate', 2, 3)] }) },
    want: [
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'True', 'ScaleDownLimit'],
    ],
  },
  {
    name: "the fast path's hold is not a limit",
    input: { decision: decision({ limits: [limit('fast-path', 2, 4)] }) },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ],
  },
  // ScalingActive.
  {
    name: 'scaled to zero by hand is ScalingDisabled; ScalingLimited not set (as the HPA)',
    input: { decision: decision({ kind: 'skip', from: 0, to: 0, reason: 'ScalingDisabled', recommendations: [] }) },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'False', 'ScalingDisabled'],
    ],
  },
  {
    name: 'no policy could count for missing signals is FailedGetMetrics',
    input: { decision: decision({ kind: 'skip', reason: 'NoMetrics', recommendations: [noCpu, noDemand, forecastOnly] }) },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'False', 'FailedGetMetrics'],
    ],
  },
  {
    name: 'an external query failing is FailedGetExternalMetric',
    input: { decision: decision({ kind: 'skip', reason: 'NoMetrics', recommendations: [noCpu] }), failedExternalQueries: ['sum(orders_queue_depth)'] },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'False', 'FailedGetExternalMetric'],
    ],
  },
  {
    name: "no policy at all (advisory ones aside) is tide's NoScalingPolicy",
    input: { decision: decision({ kind: 'skip', reason: 'NoMetrics', recommendations: [forecastOnly] }) },
    want: [
      ['AbleToScale', 'True', 'ReadyForNewScale'],
      ['ScalingActive', 'False', 'NoScalingPolicy'],
    ],
  },
  // Failed ticks: the failing step's condition; nothing else set without a previous status.
  {
    name: 'provider.list failing is AbleToScale False FailedGetScale',
    input: { failure: { step: 'provider', message: 'timeout' } },
    want: [['AbleToScale', 'False', 'FailedGetScale']],
  },
  {
    name: 'metrics failing is ScalingActive False FailedGetMetrics, AbleToScale True SucceededGetScale',
    input: { failure: { step: 'metrics', message: 'refused' } },
    want: [
      ['AbleToScale', 'True', 'SucceededGetScale'],
      ['ScalingActive', 'False', 'FailedGetMetrics'],
    ],
  },
  {
    name: 'a tick held back by a throttle (no decision) is AbleToScale False BackoffBoth; nothing else set',
    input: { backoff: { up: 'rate limit', down: 'rate limit' } },
    want: [['AbleToScale', 'False', 'BackoffBoth']],
  },
  {
    name: 'acting failing is AbleToScale False FailedUpdateScale',
    input: { failure: { step: 'act', message: 'disk full' } },
    want: [['AbleToScale', 'False', 'FailedUpdateScale']],
  },
]

for (const c of cases) {
  test(c.name, () => {
    const got = groupConditions({ nowMs: 1000, previous: [], ...c.input })
    assert.deepEqual(
      got.map((x) => [x.type, x.status, x.reason]),
      c.want.map((w) => [...w]),
    )
    for (const x of got) assert.equal(x.lastTransitionMs, 1000, 'first set: now')
  })
}

test('messages carry the numbers and the guard detail', () => {
  const got = groupConditions({ nowMs: 0, previous: [], decision: decision({ kind: 'scale', to: 8, reason: 'ScaleUpLimit', limits: [limit('rate', 20, 8, 'capped by scale-up policy +4 instances/15 s')] }) })
  assert.equal(got.find((x) => x.type === 'ScalingLimited')?.message, 'the desired count 20 is increasing faster than the maximum scale rate: capped by scale-up policy +4 instances/15 s')
  assert.equal(got.find((x) => x.type === 'AbleToScale')?.message, 'tide set the desired count to 8')
  assert.equal(got.find((x) => x.type === 'ScalingActive')?.message, 'the replica count was computed from target-tracking')
  const resized = groupConditions({ nowMs: 0, previous: [], decision: decision({ kind: 'scale', to: 4, resize: { from: { cpu: 1, memoryMiB: 512 }, to: { name: 'l', cpu: 2, memoryMiB: 1024 } } }) })
  assert.equal(resized[0]?.message, 'tide set the desired count to 4 and the size to l 2 cpu/1024 MiB')
  const partial = groupConditions({ nowMs: 0, previous: [], decision: decision({ recommendations: [slo, noCpu, forecastOnly] }) })
  assert.equal(partial.find((x) => x.type === 'ScalingActive')?.message, 'the replica count was computed from slo (no metrics: cpu: no samples)')
})

test('lastTransitionMs changes with the status only; an identical condition is the same object', () => {
  const t1 = groupConditions({ nowMs: 1000, previous: [], decision: decision({ reason: 'TooManyReplicas', limits: [limit('bounds', 12, 10)] }) })
  // Still limited, by the rate now: status True unchanged, reason changed → the transition stays at 1000.
  const t2 = groupConditions({ nowMs: 2000, previous: t1, decision: decision({ reason: 'ScaleUpLimit', limits: [limit('rate', 12, 8)] }) })
  const limited2 = t2.find((x) => x.type === 'ScalingLimited')
  assert.ok(limited2)
  assert.equal(limited2.reason, 'ScaleUpLimit')
  assert.equal(limited2.lastTransitionMs, 1000)
  // Nothing changed for AbleToScale and ScalingActive: the very same objects.
  assert.equal(t2[0], t1[0])
  assert.equal(t2[1], t1[1])
  // Within range again: the status flips to False → the transition is now.
  const t3 = groupConditions({ nowMs: 3000, previous: t2, decision: decision() })
  assert.equal(t3.find((x) => x.type === 'ScalingLimited')?.lastTransitionMs, 3000)
  // A failed list keeps ScalingActive and ScalingLimited as they were.
  const t4 = groupConditions({ nowMs: 4000, previous: t3, failure: { step: 'provider', message: 'x' } })
  assert.equal(t4[1], t3[1])
  assert.equal(t4[2], t3[2])
  assert.deepEqual([t4[0]?.status, t4[0]?.lastTransitionMs], ['False', 4000])
})

test('isNormal: AbleToScale and ScalingActive True, ScalingLimited False', () => {
  const c = (type: GroupCondition['type'], status: GroupCondition['status']): GroupCondition => ({ type, status, reason: 'DesiredWithinRange', message: '', lastTransitionMs: 0 })
  assert.equal(isNormal(c('AbleToScale', 'True')), true)
  assert.equal(isNormal(c('AbleToScale', 'False')), false)
  assert.equal(isNormal(c('ScalingActive', 'True')), true)
  assert.equal(isNormal(c('ScalingLimited', 'False')), true)
  assert.equal(isNormal(c('ScalingLimited', 'True')), false)
})
