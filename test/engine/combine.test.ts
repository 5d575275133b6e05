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
