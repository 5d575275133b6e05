import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cheapestKeeping, dominates, goalChecks, goalLine, hpaVariantSpec, keepsSlo, paretoFront, type Outcome } from '../../bench/pareto.ts'
import { hpaSpec } from '../../src/simulator/baselines.ts'
import { defaultGroupSpec } from '../../src/simulator/default-group.ts'
import { defaultSimulationParams } from '../../src/simulator/params.ts'

const o = (violationPercent: number, failedPercent: number, costRatio: number): Outcome => ({ violationRatio: violationPercent / 100, failedRatio: failedPercent / 100, costRatio })

const base = defaultGroupSpec({ ...defaultSimulationParams, instanceRps: 50, startupSeconds: 60 })

test('hpaVariantSpec at 60 % and 300 s is the HPA baseline', () => {
  assert.deepEqual(hpaVariantSpec(base, 60, 300), hpaSpec(base))
})

test('hpaVariantSpec varies only the cpu target and the scale-down window', () => {
  const v = hpaVariantSpec(base, 40, 1800)
  const h = hpaSpec(base)
  assert.deepEqual(v.metrics, [{ type: 'cpu', target: { averageUtilization: 40 } }])
  assert.equal(v.behavior.scaleDown.stabilizationWindowSeconds, 1800)
  assert.deepEqual({ ...v.behavior.scaleDown, stabilizationWindowSeconds: 300 }, h.behavior.scaleDown)
  assert.deepEqual(v.behavior.scaleUp, h.behavior.scaleUp)
  assert.deepEqual(v.replicas, base.replicas)
})

test('hpaVariantSpec rejects a window beyond the schema limit', () => {
  assert.throws(() => hpaVariantSpec(base, 60, 7200))
})

const keepCases = [
  { name: 'both limits exactly met keeps', o: o(0.5, 0.05, 2), want: true },
  { name: 'time over budget does not keep', o: o(0.51, 0, 2), want: false },
  { name: 'failures over budget do not keep', o: o(0, 0.051, 2), want: false },
  { name: 'nothing violated keeps', o: o(0, 0, 1), want: true },
] as const
for (const c of keepCases) {
  test(`keepsSlo: ${c.name}`, () => {
    assert.equal(keepsSlo(c.o), c.want)
  })
}

const domCases = [
  { name: 'better on all three dominates', a: o(1, 0.1, 1.2), b: o(2, 0.2, 1.3), want: true },
  { name: 'better on one, equal on two dominates', a: o(1, 0.1, 1.2), b: o(1, 0.1, 1.3), want: true },
  { name: 'equal does not dominate', a: o(1, 0.1, 1.2), b: o(1, 0.1, 1.2), want: false },
  { name: 'cheaper but more violations does not dominate', a: o(2, 0.1, 1.1), b: o(1, 0.1, 1.2), want: false },
  { name: 'fewer failures but dearer does not dominate', a: o(1, 0, 1.3), b: o(1, 0.1, 1.2), want: false },
] as const
for (const c of domCases) {
  test(`dominates: ${c.name}`, () => {
    assert.equal(dominates(c.a, c.b), c.want)
  })
}

test('paretoFront keeps the undominated points, equal ones together', () => {
  const points = [
    o(0.1, 0, 2.0), // 0: safest, dearest: efficient
    o(0.3, 0, 1.5), // 1: efficient
    o(0.3, 0, 1.6), // 2: dominated by 1 (same violations, dearer)
    o(2.0, 0.1, 1.0), // 3: cheapest: efficient
    o(2.0, 0.2, 1.0), // 4: dominated by 3 (more failures)
    o(0.3, 0, 1.5), // 5: equal to 1: efficient too
  ]
  assert.deepEqual([...paretoFront(points)].sort(), [0, 1, 3, 5])
})

test('paretoFront of nothing is empty', () => {
  assert.equal(paretoFront([]).size, 0)
})

test('cheapestKeeping picks the cheapest point within the budget', () => {
  // 0.4 % at 1.7× and 0.5 % at 1.6× keep; 0.6 % at 1.2× and 0.1 % failed at 1.1× do not.
  assert.equal(cheapestKeeping([o(0.4, 0, 1.7), o(0.6, 0, 1.2), o(0.5, 0.05, 1.6), o(0, 0.1, 1.1)]), 2)
})

test('cheapestKeeping breaks a cost tie by fewer violations', () => {
  assert.equal(cheapestKeeping([o(0.4, 0, 1.5), o(0.2, 0, 1.5)]), 1)
})

test('cheapestKeeping is undefined when nothing keeps the SLO', () => {
  assert.equal(cheapestKeeping([o(1, 0, 1), o(0, 1, 1)]), undefined)
})

const goalCases = [
  {
    // Noisy: limit 0.9 × 1.76 = 1.584; 1.5 is below it.
    name: 'noisy: 10 % below the cheapest HPA is met',
    tide: o(0.4, 0.01, 1.5), hpa: o(0.3, 0, 1.76), character: 'noisy',
    want: [true, true, true],
  },
  {
    // Noisy: 1.6 > 1.584 although cheaper than the HPA's 1.76.
    name: 'noisy: cheaper but not by 10 % is not met',
    tide: o(0.4, 0.01, 1.6), hpa: o(0.3, 0, 1.76), character: 'noisy',
    want: [true, true, false],
  },
  {
    name: 'noisy: SLO and failures missed',
    tide: o(36, 3.2, 1.08), hpa: o(0.3, 0, 1.76), character: 'noisy',
    want: [false, false, true],
  },
  {
    name: 'no SLO-keeping HPA: the cost goal is undecided',
    tide: o(0.1, 0, 1.2), hpa: undefined, character: 'noisy',
    want: [true, true, undefined],
  },
  {
    // Smooth: below the HPA's 1.2 and within 1.15 × the oracle.
    name: 'smooth: cheaper than the HPA and within 1.15× the oracle',
    tide: o(0, 0, 1.12), hpa: o(0, 0, 1.2), character: 'smooth',
    want: [true, true, true, true],
  },
  {
    name: 'smooth: cheaper than the HPA but above 1.15× the oracle',
    tide: o(0, 0, 1.18), hpa: o(0, 0, 1.2), character: 'smooth',
    want: [true, true, true, false],
  },
] as const
for (const c of goalCases) {
  test(`goalChecks: ${c.name}`, () => {
    const checks = goalChecks(c.tide, c.hpa, 'hpa 80 % / 1800 s', c.character)
    assert.deepEqual(checks.map((x) => x.met), c.want)
  })
}

test('goalLine says met, NOT met or undecided', () => {
  assert.equal(goalLine({ goal: 'g', met: true, detail: 'd' }), 'g (d): met')
  assert.equal(goalLine({ goal: 'g', met: false, detail: 'd' }), 'g (d): NOT met')
  assert.equal(goalLine({ goal: 'g', met: undefined, detail: 'd' }), 'g (d): undecided')
})
