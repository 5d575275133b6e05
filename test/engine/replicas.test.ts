import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ceilReplicas, holdIfDirectionFlips, replicasForGroupRatio, withinTolerance } from '../../src/engine/replicas.ts'

const tol = { scaleDown: 0.1, scaleUp: 0.1 }

const toleranceCases = [
  { name: 'ratio 1 is within', ratio: 1, tolerances: tol, want: true },
  { name: '1.1 is on the edge and within (|1 − 1.1| ≤ 0.1)', ratio: 66 / 60, tolerances: tol, want: true },
  { name: 'float noise 0.66/0.6 = 1.1000000000000003 still within', ratio: 0.66 / 0.6, tolerances: tol, want: true },
  { name: '1.11 is outside', ratio: 1.11, tolerances: tol, want: false },
  { name: '0.9 is within', ratio: 0.9, tolerances: tol, want: true },
  { name: '0.89 is outside', ratio: 0.89, tolerances: tol, want: false },
  // HPA docs, "Tolerance": per-direction tolerances; scale-up at 5 % means 1.06 already scales up.
  { name: 'scale-up tolerance 0.05: 1.06 is outside', ratio: 1.06, tolerances: { scaleDown: 0.1, scaleUp: 0.05 }, want: false },
  { name: 'scale-up tolerance 0.05: 0.92 is within the 0.1 scale-down side', ratio: 0.92, tolerances: { scaleDown: 0.1, scaleUp: 0.05 }, want: true },
] as const

for (const c of toleranceCases) {
  test(`withinTolerance: ${c.name}`, () => {
    assert.equal(withinTolerance(c.ratio, c.tolerances), c.want)
  })
}

const ceilCases = [
  { name: '1.5 × 4 = 6.000000000000001 is 6, not 7', x: 0.9 / 0.6 * 4, want: 6 },
  { name: '5.2 rounds up to 6', x: 5.2, want: 6 },
  { name: 'negative is 0', x: -1, want: 0 },
] as const
for (const c of ceilCases) {
  test(`ceilReplicas: ${c.name}`, () => {
    assert.equal(ceilReplicas(c.x), c.want)
  })
}

const groupCases = [
  { name: 'ratio 2 over 4 ready doubles', current: 4, ratio: 2, ready: 4, want: 8 },
  { name: 'within tolerance holds', current: 4, ratio: 1.05, ready: 4, want: 4 },
  { name: 'from zero: ceil(ratio)', current: 0, ratio: 2.5, ready: 0, want: 3 },
  // 1.5 × 2 ready = 3 < 4 current: a high ratio never lowers the count.
  { name: 'few ready with a high ratio holds instead of scaling in', current: 4, ratio: 1.5, ready: 2, want: 4 },
  { name: 'ratio 0.5 over 4 halves', current: 4, ratio: 0.5, ready: 4, want: 2 },
] as const
for (const c of groupCases) {
  test(`replicasForGroupRatio: ${c.name}`, () => {
    assert.equal(replicasForGroupRatio(c.current, c.ratio, c.ready, tol), c.want)
  })
}

test('holdIfDirectionFlips keeps the count when a low ratio would add replicas', () => {
  assert.equal(holdIfDirectionFlips(3, 0.8, 4), 3)
  assert.equal(holdIfDirectionFlips(3, 0.8, 2), 2)
})
