import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decide } from '../../src/engine/decide.ts'
import { historyAsOf } from '../../src/engine/history-as-of.ts'
import type { ScaleHistory } from '../../src/engine/types.ts'
import { GroupSchema } from '../../src/spec/schema.ts'

const NOW = 1_000_000_000
const HOUR = 3_600_000

const cases: readonly { name: string; history: ScaleHistory; want: ScaleHistory }[] = [
  {
    name: 'entries after now (the clock stepped back an hour) are taken as made now',
    history: { recommendations: [{ atMs: NOW + HOUR, replicas: 6 }], scaleUpEvents: [{ atMs: NOW + HOUR - 5000, delta: 2 }], scaleDownEvents: [{ atMs: NOW + 10, delta: -1 }], stepFiredAtMs: { 0: NOW + HOUR } },
    want: { recommendations: [{ atMs: NOW, replicas: 6 }], scaleUpEvents: [{ atMs: NOW, delta: 2 }], scaleDownEvents: [{ atMs: NOW, delta: -1 }], stepFiredAtMs: { 0: NOW } },
  },
  {
    name: 'entries at or before now are untouched',
    history: { recommendations: [{ atMs: NOW - 1000, replicas: 4 }, { atMs: NOW + 1, replicas: 5 }], scaleUpEvents: [{ atMs: NOW, delta: 1 }], scaleDownEvents: [], stepFiredAtMs: { 1: NOW - 60_000 } },
    want: { recommendations: [{ atMs: NOW - 1000, replicas: 4 }, { atMs: NOW, replicas: 5 }], scaleUpEvents: [{ atMs: NOW, delta: 1 }], scaleDownEvents: [], stepFiredAtMs: { 1: NOW - 60_000 } },
  },
]

for (const c of cases) {
  test(c.name, () => {
    assert.deepEqual(historyAsOf(c.history, NOW), c.want)
  })
}

test('a history with nothing after now comes back as the same object', () => {
  const h: ScaleHistory = { recommendations: [{ atMs: NOW, replicas: 3 }], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }
  assert.equal(historyAsOf(h, NOW), h)
})

// Through decide(): HPA default behavior (scale-up +100 % or +4 per 15 s; scale-down window 300 s).
const spec = GroupSchema.parse({ group: 'g', provider: 'sim', replicas: { min: 2, max: 20 }, metrics: [{ type: 'rps', target: { averageValue: 100 } }] })
const instances = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `i${i}`, phase: 'in-service' as const, size: spec.size, launchedAtMs: 0, readyAtMs: 0, protectedFromScaleIn: false }))
const signals = (n: number, rpsEach: number) => ({ atMs: NOW, instances: new Map(instances(n).map((v) => [v.id, { rps: rpsEach }])), group: { rps: n * rpsEach } })

test('after a step back of an hour, a scale-up made "in the future" holds back one period, not an hour', () => {
  // 4 → 8 was made at NOW + 1 h (before the step back). 8 instances at 200 req/s each want 16.
  // Unclamped, that +4 counts in the period for an hour: start = 8 − 4 = 4, limit max(4 × 2, 4 + 4) = 8: no scale-up.
  // Clamped to now, it still counts for this period (limit 8) and, 15 s later, no more: 8 → 16.
  const history: ScaleHistory = { recommendations: [], scaleUpEvents: [{ atMs: NOW + HOUR, delta: 4 }], scaleDownEvents: [], stepFiredAtMs: {} }
  const first = decide({ spec, state: { desiredReplicas: 8, size: spec.size, instances: instances(8), history }, signals: signals(8, 200), nowMs: NOW })
  assert.equal(first.to, 8)
  const later = decide({ spec, state: { desiredReplicas: 8, size: spec.size, instances: instances(8), history: first.history }, signals: { ...signals(8, 200), atMs: NOW + 15_001 }, nowMs: NOW + 15_001 })
  assert.equal(later.to, 16, later.explanation)
})

test('after a step back of an hour, the down-stabilization window still holds a dip (no scale-in burst)', () => {
  // 8 recommended at NOW + 1 h (before the step back); now 8 instances see 50 req/s each: 4 wanted.
  // Unclamped, the future recommendation counts once, then is dropped: the next tick scales in to 4.
  const history: ScaleHistory = { recommendations: [{ atMs: NOW + HOUR, replicas: 8 }], scaleUpEvents: [], scaleDownEvents: [], stepFiredAtMs: {} }
  let h = history
  for (let t = 0; t <= 60_000; t += 15_000) {
    const d = decide({ spec, state: { desiredReplicas: 8, size: spec.size, instances: instances(8), history: h }, signals: { ...signals(8, 50), atMs: NOW + t }, nowMs: NOW + t })
    assert.equal(d.to, 8, `scaled in ${t / 1000} s after the step back, inside the 300 s window: ${d.explanation}`)
    h = d.history
  }
})
