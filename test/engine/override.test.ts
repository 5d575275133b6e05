/**
 * A manual scale (override.ts): the operator's count within min/max, the quota room and the
 * protection floor; no windows or rates; the engine's own decision explained beside it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decide } from '../../src/engine/decide.ts'
import { manualCount } from '../../src/engine/override.ts'
import type { DecideInput } from '../../src/engine/types.ts'
import type { GroupInput } from '../../src/spec/schema.ts'
import { decideInput, groupSpec, instances, sameSample, signals } from './fixtures.ts'

const cpu60: NonNullable<GroupInput['metrics']> = [{ type: 'cpu', target: { averageUtilization: 60 } }]

/** 4 instances at cpu `cpuRatio` (60 % target), min 2 max 20, held at `desired`; `extra` on top of the input. */
function held(desired: number, cpuRatio: number, extra: Partial<DecideInput> = {}, protectedCount = 0) {
  const list = [...instances(4 - protectedCount), ...instances(protectedCount, 'in-service', 'p', true)]
  const input = decideInput({ spec: groupSpec({ metrics: cpu60, replicas: { min: 2, max: 20 } }), instances: list, signals: signals(sameSample(list, { cpuRatio })) })
  return decide({ ...input, ...extra, override: { desired } })
}

const cases = [
  // The engine alone: 4 at 92 % → ceil(4 × 92/60) = 7.
  { name: 'up to the count asked, past the engine and its rate limit', desired: 12, cpu: 0.92, to: 12, kind: 'scale', explanation: "scaled 4→12 by the operator's manual scale (the engine alone: scaled 4→7: cpu 92% > target 60%)" },
  { name: 'capped at max', desired: 25, cpu: 0.6, to: 20, kind: 'scale', explanation: "scaled 4→20 by the operator's manual scale (asked 25; capped at max 20) (the engine alone: held at 4: within tolerance (cpu 60% vs 60%, ±10%))" },
  { name: 'raised to min', desired: 0, cpu: 0.6, to: 2, kind: 'scale', explanation: /^scaled 4→2 by the operator's manual scale \(asked 0; raised to min 2\)/ },
  { name: 'held at the count in force while the engine would scale out', desired: 4, cpu: 0.92, to: 4, kind: 'hold', explanation: "held at 4 by the operator's manual scale (the engine alone: scaled 4→7: cpu 92% > target 60%)" },
  // No stabilization window holds a scale-in the operator asked for (the default 300 s window would).
  { name: 'down at once, no scale-down window', desired: 3, cpu: 0.6, to: 3, kind: 'scale', explanation: /^scaled 4→3 by the operator's manual scale \(the engine alone: held at 4/ },
] as const

for (const c of cases) {
  test(`manual scale: ${c.name}`, () => {
    const d = held(c.desired, c.cpu)
    assert.equal(d.reason, 'ManualScale')
    assert.equal(d.to, c.to)
    assert.equal(d.kind, c.kind)
    if (typeof c.explanation === 'string') assert.equal(d.explanation, c.explanation)
    else assert.match(d.explanation, c.explanation)
  })
}

test('manual scale: the quota room caps growth', () => {
  // Room for 2 more instances, whatever their size.
  const d = held(10, 0.6, { quotaRoom: { instances: 2 } })
  assert.equal(d.to, 6, '4 + room for 2')
  assert.deepEqual(d.limits.map((l) => l.guard), ['quota'])
  assert.match(d.explanation, /asked 10; capped by quota/)
})

test('manual scale: never below the protected instances', () => {
  const d = held(2, 0.6, {}, 3)
  assert.equal(d.to, 3, '3 protected: kept 3')
  assert.match(d.explanation, /kept 3: 3 instances are protected from scale-in/)
  assert.deepEqual(d.scaleInCandidates, ['i0'], 'only the unprotected one is a candidate')
})

test('manual scale: the history is kept as it was (nothing the engine decided was acted on)', () => {
  const list = instances(4)
  const input = decideInput({ spec: groupSpec({ metrics: cpu60, replicas: { min: 2, max: 20 } }), instances: list, signals: signals(sameSample(list, { cpuRatio: 0.92 })) })
  assert.equal(decide({ ...input, override: { desired: 9 } }).history, input.state.history)
})

test('manualCount says what bounded the count', () => {
  assert.deepEqual(manualCount(25, { min: 1, max: 20 }), { asked: 25, bounded: 20, clampedBy: 'max 20' })
  assert.deepEqual(manualCount(0, { min: 1, max: 20 }), { asked: 0, bounded: 1, clampedBy: 'min 1' })
  assert.deepEqual(manualCount(7, { min: 1, max: 20 }), { asked: 7, bounded: 7 })
})
