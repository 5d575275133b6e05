import { test } from 'node:test'
import assert from 'node:assert/strict'
import { stabilize } from '../../../src/engine/guards/stabilization.ts'

const nowMs = 1_000_000
const s = (ago: number, replicas: number) => ({ atMs: nowMs - ago * 1000, replicas })

// HPA docs, "Stabilization window": "When the metrics indicate that the target should be scaled down the
// algorithm looks into previously computed desired states, and uses the highest value from the specified
// interval" (scaleDown.stabilizationWindowSeconds, 300 by default).
const cases = [
  { name: 'docs: scale-down uses the highest recommendation of the last 300 s', current: 8, desired: 3, recs: [s(240, 8), s(120, 6), s(30, 5)], up: 0, down: 300, want: 8 },
  // The 8 is 310 s old, outside the window: max(6, 5, 3) = 6.
  { name: 'an old high recommendation has left the window', current: 8, desired: 3, recs: [s(310, 8), s(120, 6), s(30, 5)], up: 0, down: 300, want: 6 },
  // Exactly at the cutoff is outside, as the HPA's timestamp.After(cutoff).
  { name: 'a recommendation exactly window-old no longer counts', current: 8, desired: 3, recs: [s(300, 8)], up: 0, down: 300, want: 3 },
  { name: 'scale-up with a 0 s window is immediate', current: 4, desired: 9, recs: [s(10, 4)], up: 0, down: 300, want: 9 },
  // Scale-up window 60 s: min(5, 7, 9) = 5 → from 4 to 5 only.
  { name: 'scale-up window: the lowest recent recommendation', current: 4, desired: 9, recs: [s(50, 5), s(20, 7)], up: 60, down: 300, want: 5 },
  { name: 'no window at all: the new recommendation', current: 8, desired: 3, recs: [s(5, 8)], up: 0, down: 0, want: 3 },
] as const

for (const c of cases) {
  test(c.name, () => {
    const r = stabilize({ currentReplicas: c.current, desiredReplicas: c.desired, recommendations: c.recs, nowMs, scaleUpWindowMs: c.up * 1000, scaleDownWindowMs: c.down * 1000 })
    assert.equal(r.replicas, c.want)
  })
}

test('the unstabilized recommendation is recorded and entries older than every window are pruned', () => {
  const r = stabilize({ currentReplicas: 8, desiredReplicas: 3, recommendations: [s(400, 9), s(120, 6)], nowMs, scaleUpWindowMs: 0, scaleDownWindowMs: 300_000 })
  assert.deepEqual(r.recommendations, [s(120, 6), { atMs: nowMs, replicas: 3 }])
})
