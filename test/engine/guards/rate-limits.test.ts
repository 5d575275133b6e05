import { test } from 'node:test'
import assert from 'node:assert/strict'
import { changeInPeriod, scaleDownLimit, scaleUpLimit } from '../../../src/engine/guards/rate-limits.ts'
import type { ScalingRules } from '../../../src/spec/schema.ts'
import { groupSpec } from '../fixtures.ts'

const nowMs = 1_000_000
const defaults = groupSpec().behavior

function rules(fields: Partial<ScalingRules>, base: ScalingRules): ScalingRules {
  return { ...base, ...fields }
}

// HPA docs, "Default Behavior": scale-up by 100 % or 4 pods per 15 s, whichever is higher (selectPolicy Max).
const upCases = [
  // From 2: Percent → ceil(2 × 2) = 4, Pods → 2 + 4 = 6: Max → 6.
  { name: 'default: from 2, +4 pods beats +100 %', current: 2, rules: defaults.scaleUp, upEvents: [], want: 6 },
  // From 10: Percent → 20, Pods → 14: Max → 20.
  { name: 'default: from 10, +100 % beats +4 pods', current: 10, rules: defaults.scaleUp, upEvents: [], want: 20 },
  // selectPolicy Min picks the smaller change: from 10 → 14.
  { name: 'selectPolicy Min: from 10, +4 pods', current: 10, rules: rules({ selectPolicy: 'Min' }, defaults.scaleUp), upEvents: [], want: 14 },
  { name: 'selectPolicy Disabled: no scale-up', current: 10, rules: rules({ selectPolicy: 'Disabled' }, defaults.scaleUp), upEvents: [], want: 10 },
  // Scaled 2 → 6 five seconds ago: the period started at 6 − 4 = 2, so the limit is still max(4, 6) = 6.
  { name: 'a scale-up in the period counts against it', current: 6, rules: defaults.scaleUp, upEvents: [{ atMs: nowMs - 5000, delta: 4 }], want: 6 },
  // The same event 15 s ago is outside the 15 s period: from 6 → max(12, 10) = 12.
  { name: 'an event exactly one period old no longer counts', current: 6, rules: defaults.scaleUp, upEvents: [{ atMs: nowMs - 15_000, delta: 4 }], want: 12 },
  // HPA rounds a Percent scale-up up: 3 × 1.1 = 3.3 → 4, so a small group can grow at all.
  { name: 'Percent scale-up rounds up', current: 3, rules: rules({ policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] }, defaults.scaleUp), upEvents: [], want: 4 },
  // HPA docs, "Scaling policies" example: Percent 900 allows a 10× scale-up: 3 → 30.
  { name: 'docs: Percent 900 allows 10×', current: 3, rules: rules({ policies: [{ type: 'Percent', value: 900, periodSeconds: 60 }] }, defaults.scaleUp), upEvents: [], want: 30 },
] as const

for (const c of upCases) {
  test(`scaleUpLimit: ${c.name}`, () => {
    assert.equal(scaleUpLimit(c.current, c.upEvents, [], c.rules, nowMs).replicas, c.want)
  })
}

// HPA docs, "Scaling policies": scaleDown with Pods 4 / 60 s and Percent 10 / 60 s (selectPolicy Max: the
// biggest change). "If there are 80 replicas and the target has to be scaled down to 10 replicas then during
// the first step 8 replicas will be reduced. In the next iteration when the number of replicas is 72, 10% of
// the pods is 7.2 but the number is rounded up to 8."
const docsDown = rules(
  {
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 60 },
      { type: 'Percent', value: 10, periodSeconds: 60 },
    ],
  },
  defaults.scaleDown,
)

const downCases = [
  // trunc(80 × 0.9) = 72 vs 80 − 4 = 76: the lower floor (biggest change) → 72.
  { name: 'docs: 80 replicas, 10 % removes 8 → 72', current: 80, rules: docsDown, downEvents: [], want: 72 },
  // trunc(72 × 0.9) = trunc(64.8) = 64 vs 68 → 64 (8 removed: 7.2 "rounded up").
  { name: 'docs: 72 replicas, 10 % of 72 removes 8 → 64', current: 72, rules: docsDown, downEvents: [], want: 64 },
  // Below 40 replicas the Pods policy removes more: 30 − 4 = 26 vs trunc(27) = 27 → 26.
  { name: 'docs: under 40 replicas the 4-pod policy wins', current: 30, rules: docsDown, downEvents: [], want: 26 },
  { name: 'selectPolicy Min: the smaller change, 80 → 76', current: 80, rules: rules({ selectPolicy: 'Min' }, docsDown), downEvents: [], want: 76 },
  // HPA docs, "Disable scale down" example: selectPolicy Disabled.
  { name: 'docs: selectPolicy Disabled forbids scale-down', current: 80, rules: rules({ selectPolicy: 'Disabled' }, docsDown), downEvents: [], want: 80 },
  // 72 now, 8 removed 30 s ago: the period started at 80 → floor still 72: no further scale-down this period.
  { name: 'a scale-down in the period counts against it', current: 72, rules: docsDown, downEvents: [{ atMs: nowMs - 30_000, delta: -8 }], want: 72 },
  // Default scale-down: 100 % per 15 s → 0 (min/max are applied by decide()).
  { name: 'default: may drop everything within a period', current: 10, rules: defaults.scaleDown, downEvents: [], want: 0 },
] as const

for (const c of downCases) {
  test(`scaleDownLimit: ${c.name}`, () => {
    assert.equal(scaleDownLimit(c.current, [], c.downEvents, c.rules, nowMs).replicas, c.want)
  })
}

test('changeInPeriod sums |delta| of the events inside the period only', () => {
  const events = [
    { atMs: nowMs - 70_000, delta: -5 },
    { atMs: nowMs - 30_000, delta: -3 },
    { atMs: nowMs - 1000, delta: -2 },
  ]
  assert.equal(changeInPeriod(60, events, nowMs), 5) // 3 + 2
})
