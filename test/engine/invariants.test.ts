/**
 * Properties every decision keeps, over many generated inputs (a seeded generator,
 * so every run checks the same cases and a failure names its seed).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { seededRandom } from '../../src/core/seeded-random.ts'
import { decide } from '../../src/engine/decide.ts'
import { emptyHistory, type Decision, type InstancePhase, type InstanceSample, type InstanceView, type QuotaRoom } from '../../src/engine/types.ts'
import type { GroupInput } from '../../src/spec/schema.ts'
import { decideInput, groupSpec, signals } from './fixtures.ts'

const phases: readonly InstancePhase[] = ['pending', 'warming', 'in-service', 'in-service', 'in-service', 'unhealthy', 'standby']

function generate(seed: number) {
  const rnd = seededRandom(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1))
  const min = int(0, 5)
  const max = min + int(1, 20)
  const count = int(0, 25)
  const list: InstanceView[] = Array.from({ length: count }, (_, n) => ({
    id: `i${n}`,
    phase: phases[int(0, phases.length - 1)] ?? 'in-service',
    size: { cpu: 1, memoryMiB: 512 },
    launchedAtMs: int(0, 1_000_000),
    protectedFromScaleIn: rnd() < 0.15,
  }))
  const samples: Record<string, InstanceSample> = {}
  for (const i of list) if (rnd() < 0.9) samples[i.id] = { cpuRatio: rnd() * 2, rps: rnd() * 300 }
  const latencyMissing = rnd() < 0.3
  const metrics: NonNullable<GroupInput['metrics']> = [
    { type: 'cpu', target: { averageUtilization: int(20, 90) } },
    { type: 'latency', target: { valueMs: 200 } },
  ]
  const behavior: GroupInput['behavior'] = { scaleDown: { stabilizationWindowSeconds: rnd() < 0.5 ? 0 : 300 } }
  const spec = groupSpec({ replicas: { min, max }, metrics, behavior })
  const quotaRoom: QuotaRoom | undefined = rnd() < 0.3 ? { instances: int(-3, 5) } : undefined
  const input = decideInput({
    spec,
    instances: list,
    signals: signals(samples, latencyMissing ? {} : { latencyMs: { p95: rnd() * 600 } }),
    desiredReplicas: int(0, 30),
    history: { ...emptyHistory, recommendations: rnd() < 0.5 ? [{ atMs: 1_000_000_000 - 100_000, replicas: int(0, 30) }] : [] },
  })
  return { input: quotaRoom === undefined ? input : { ...input, quotaRoom }, min, max, latencyMissing, list, quotaRoom }
}

type Case = ReturnType<typeof generate>

/** Counts: bounds, protection, missing metrics, quotas. */
function checkCounts(c: Case, d: Decision, at: string): void {
  const from = c.input.state.desiredReplicas
  const protectedLive = c.list.filter((i) => i.protectedFromScaleIn && i.phase !== 'draining' && i.phase !== 'terminated').length
  // Never below the protected count unless it already was; never above max unless protection holds it there.
  if (d.to < from) assert.ok(d.to >= protectedLive, at)
  if (d.to > c.max) assert.ok(d.to <= from && d.to <= protectedLive, at)
  const inBounds = from >= c.min && from <= c.max
  if (inBounds) assert.ok(d.to >= c.min && d.to <= c.max, at)
  // A missing metric never causes a scale-in while the count is within its bounds.
  if (c.latencyMissing && inBounds) assert.ok(d.to >= from, at)
  // A quota never grants more than its room.
  if (c.quotaRoom?.instances !== undefined && d.to > from) assert.ok(d.to - from <= Math.max(0, c.quotaRoom.instances), at)
}

/** Shape: candidates, explanation, history. */
function checkShape(c: Case, d: Decision, at: string): void {
  const from = c.input.state.desiredReplicas
  // Candidates never include protected instances, and never repeat.
  const ids = new Set(d.scaleInCandidates)
  assert.equal(ids.size, d.scaleInCandidates.length, at)
  for (const i of c.list) if (i.protectedFromScaleIn) assert.ok(!ids.has(i.id), at)
  // The explanation states the outcome with its numbers.
  const head = d.kind === 'scale' ? `scaled ${from}→${d.to}` : d.kind === 'hold' ? `held at ${from}` : `no change at ${from}`
  assert.ok(d.explanation.startsWith(head), at)
  // History stays ordered and inside the 300 s window.
  const times = d.history.recommendations.map((r) => r.atMs)
  assert.deepEqual(times, [...times].sort((a, b) => a - b), at)
  for (const t of times) assert.ok(t > c.input.nowMs - 300_000 && t <= c.input.nowMs, at)
}

test('invariants hold over 3,000 generated decisions', () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const c = generate(seed)
    const d = decide(c.input)
    const from = c.input.state.desiredReplicas
    const at = `seed ${seed}: ${d.explanation}`
    assert.ok(Number.isInteger(d.to) && d.to >= 0, at)
    assert.equal(d.kind === 'scale', d.to !== from, at)
    if (from === 0 && c.min > 0) {
      assert.equal(d.reason, 'ScalingDisabled', at)
      continue
    }
    checkCounts(c, d, at)
    checkShape(c, d, at)
  }
})
