import { test } from 'node:test'
import assert from 'node:assert/strict'
import { combine } from '../../src/engine/combine.ts'
import type { Recommendation } from '../../src/engine/types.ts'

const tt = (replicas: number | undefined, blocksScaleIn = false): Recommendation => ({
  policy: 'target-tracking',
  ...(replicas === undefined ? {} : { replicas }),
  ...(blocksScaleIn ? { blocksScaleIn } : {}),
  reason: 'x',
  detail: `tt ${replicas ?? '-'}`,
})
const step = (replicas: number): Recommendation => ({ policy: 'step', replicas, reason: 'x', detail: `step ${replicas}` })
const schedule = (bounds: { min?: number; max?: number }, replicas?: number): Recommendation => ({
  policy: 'scheduled',
  bounds,
  ...(replicas === undefined ? {} : { replicas }),
  reason: 'ScheduleActive',
  detail: 'schedule',
})

const cases = [
  { name: 'scale out if any asks: max of 3 and 7', current: 5, recs: [tt(3), step(7)], proposed: 7, driver: 'step 7', vetoed: false },
  { name: 'scale in only if all agree: 3 and 4 → 4', current: 5, recs: [tt(3), step(4)], proposed: 4, driver: 'step 4', vetoed: false },
  { name: 'one says hold: no scale-in', current: 5, recs: [tt(5), step(2)], proposed: 5, driver: 'tt 5', vetoed: false },
  { name: 'no count at all: the current count, no driver', current: 5, recs: [tt(undefined, true)], proposed: 5, driver: undefined, vetoed: false },
  { name: 'a missing metric vetoes a scale-in', current: 5, recs: [tt(2, true)], proposed: 2, driver: 'tt 2', vetoed: true },
  { name: 'a missing metric does not veto a scale-out', current: 5, recs: [tt(8, true)], proposed: 8, driver: 'tt 8', vetoed: false },
  { name: 'on a tie the metric explains, not the schedule', current: 5, recs: [schedule({}, 6), tt(6)], proposed: 6, driver: 'tt 6', vetoed: false },
] as const

for (const c of cases) {
  test(c.name, () => {
    const r = combine(c.current, c.recs)
    assert.equal(r.proposed, c.proposed)
    assert.equal(r.driver?.detail, c.driver)
    assert.equal(r.vetoedBy !== undefined, c.vetoed)
  })
}

test('schedule bounds combine as the highest min and the lowest max', () => {
  const r = combine(5, [schedule({ min: 3, max: 20 }), schedule({ min: 8 }), schedule({ max: 12 })])
  assert.equal(r.scheduleMin, 8)
  assert.equal(r.scheduleMax, 12)
})

const predictive = (replicas: number | undefined, marks: { advisory?: boolean } = {}): Recommendation => ({
  policy: 'predictive',
  ...(replicas === undefined ? {} : { replicas }),
  scaleOutOnly: true,
  ...marks,
  reason: 'ForecastAhead',
  detail: `pred ${replicas ?? '-'}`,
})
const advisoryVertical: Recommendation = { policy: 'vertical', size: { cpu: 2, memoryMiB: 1024 }, advisory: true, reason: 'Fits', detail: 'vertical' }

const markCases = [
  // advisory (forecastOnly, vertical recommend): listed in the Decision, no part in the count.
  { name: 'advisory: a higher advisory count is ignored (tt 3 wins)', current: 5, recs: [tt(3), predictive(9, { advisory: true })], proposed: 3, driver: 'tt 3', hasReplicas: true, vetoed: false },
  { name: 'advisory alone: no count, the current one stands', current: 5, recs: [predictive(9, { advisory: true }), advisoryVertical], proposed: 5, driver: undefined, hasReplicas: false, vetoed: false },
  {
    name: 'advisory: its blocksScaleIn does not veto',
    current: 5,
    recs: [tt(3), { ...tt(undefined, true), advisory: true, detail: 'advisory veto' }],
    proposed: 3,
    driver: 'tt 3',
    hasReplicas: true,
    vetoed: false,
  },
  // scaleOutOnly (predictive): a floor combined by max; alone below current it holds the current count.
  // (The driver is not checked here: the floor, not the recommendation of 2, set the count.)
  { name: 'scaleOutOnly alone below current: holds 5, no scale-in', current: 5, recs: [predictive(2)], proposed: 5, driver: null, hasReplicas: true, vetoed: false },
  { name: 'scaleOutOnly alone above current: scales out to 8', current: 5, recs: [predictive(8)], proposed: 8, driver: 'pred 8', hasReplicas: true, vetoed: false },
  { name: 'scaleOutOnly joins the max: tt 3, predictive 7 → 7', current: 5, recs: [tt(3), predictive(7)], proposed: 7, driver: 'pred 7', hasReplicas: true, vetoed: false },
  // tt asks for a scale-in to 3; the floor 4 stops it at max(3, 4) = 4, below the current 5.
  { name: 'scaleOutOnly floors a scale-in another policy asks for: tt 3, predictive 4 → 4', current: 5, recs: [tt(3), predictive(4)], proposed: 4, driver: 'pred 4', hasReplicas: true, vetoed: false },
  { name: 'scaleOutOnly below the others: tt 3, predictive 2 → 3', current: 5, recs: [tt(3), predictive(2)], proposed: 3, driver: 'tt 3', hasReplicas: true, vetoed: false },
  { name: 'scaleOutOnly without a count (backed off) does not hold a scale-in', current: 5, recs: [tt(3), predictive(undefined)], proposed: 3, driver: 'tt 3', hasReplicas: true, vetoed: false },
  { name: 'scaleOutOnly advisory (forecastOnly) does not floor: tt 3, predictive 4 → 3', current: 5, recs: [tt(3), predictive(4, { advisory: true })], proposed: 3, driver: 'tt 3', hasReplicas: true, vetoed: false },
  { name: 'a veto still applies with a floor below current: tt 2 (missing metric), predictive 3 → 3, vetoed', current: 5, recs: [tt(2, true), predictive(3)], proposed: 3, driver: 'pred 3', hasReplicas: true, vetoed: true },
] as const

for (const c of markCases) {
  test(c.name, () => {
    const r = combine(c.current, c.recs)
    assert.equal(r.proposed, c.proposed)
    if (c.driver !== null) assert.equal(r.driver?.detail, c.driver)
    assert.equal(r.hasReplicas, c.hasReplicas)
    assert.equal(r.vetoedBy !== undefined, c.vetoed)
  })
}

test('advisory: bounds are ignored too', () => {
  const r = combine(5, [{ ...schedule({ min: 8, max: 9 }), advisory: true }, schedule({ max: 12 })])
  assert.equal(r.scheduleMin, undefined)
  assert.equal(r.scheduleMax, 12)
})
