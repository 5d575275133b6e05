import { test } from 'node:test'
import assert from 'node:assert/strict'
import { oomBumpedMemoryMiB, recommendSize, type RecommendSizeInput } from '../../../src/engine/vertical/recommend-size.ts'
import { ladder, medium, usageOf } from './fixtures.ts'
import type { Size } from '../../../src/spec/schema.ts'

const dayMs = 24 * 3600_000

// Ratio-2 layouts (fixtures.ts) so bucket ends can be worked out by hand: cpu bucket starts 0, 0.25, 0.75, 1.75, 3.75, 7.75, …; memory 0, 64, 192, 448, 960, 1984, …

function input(cpu: number[], mem: number[], extra: Partial<RecommendSizeInput> = {}): RecommendSizeInput {
  const { cpuCores, memoryMiB } = usageOf(cpu, mem, 0)
  return { cpuCores, memoryMiB, ladder, current: medium, percentile: 90, headroomPercent: 15, nowMs: 1000, ...extra }
}

const cases = [
  // 0.2 → bucket [0, 0.25) → 0.25 × 1.15 = 0.2875 cores; 100 → [64, 192) → 192 × 1.15 = 220.8 MiB.
  { name: 'light load fits the smallest rung', cpu: [0.2], mem: [100], want: 'small', reason: 'Fits', cpuTarget: 0.2875, memTarget: 220.8 },
  // 0.5 → [0.25, 0.75) → 0.8625 cores: small has 0.5 → medium.
  { name: 'cpu decides: 0.8625 cores needs medium', cpu: [0.5], mem: [100], want: 'medium', reason: 'Fits', cpuTarget: 0.8625, memTarget: 220.8 },
  // 300 → [192, 448) → 515.2 MiB > 512 → large.
  { name: 'memory decides: 515.2 MiB needs large', cpu: [0.2], mem: [300], want: 'large', reason: 'Fits', cpuTarget: 0.2875, memTarget: 515.2 },
  // 5 → [3.75, 7.75) → 8.9125 cores > 4 → capped at xlarge.
  { name: 'more than the ladder holds: capped at the largest', cpu: [5], mem: [100], want: 'xlarge', reason: 'CappedAtLargest', cpuTarget: 8.9125, memTarget: 220.8 },
  // nine samples at 0.2 and one at 5: p90 threshold 9 reached in bucket 0 → 0.2875 (the spike is the top 10 %).
  { name: 'p90 ignores the top 10 % of samples', cpu: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 5], mem: [100], want: 'small', reason: 'Fits', cpuTarget: 0.2875, memTarget: 220.8 },
] as const
for (const c of cases) {
  test(c.name, () => {
    const r = recommendSize(input([...c.cpu], [...c.mem]))
    assert.equal(r.size.name, c.want)
    assert.equal(r.reason, c.reason)
    assert.ok(Math.abs(r.cpuTargetCores - c.cpuTarget) < 1e-9, `cpu target ${r.cpuTargetCores}`)
    assert.ok(Math.abs(r.memoryTargetMiB - c.memTarget) < 1e-9, `memory target ${r.memoryTargetMiB}`)
    assert.equal(r.changed, c.want !== 'medium')
  })
}

const bumpCases = [
  { name: 'small usage: +100 MiB wins (100 → 200, not 120)', usage: 100, want: 200 },
  { name: 'both rules agree at 500 (600)', usage: 500, want: 600 },
  { name: 'large usage: ×1.2 wins (1000 → 1200)', usage: 1000, want: 1200 },
] as const
for (const c of bumpCases) {
  test(`oomBumpedMemoryMiB: ${c.name}`, () => {
    assert.ok(Math.abs(oomBumpedMemoryMiB(c.usage) - c.want) < 1e-9)
  })
}

test('a recent OOM kill at 480 MiB raises memory to max(576, 580) = 580 MiB → large', () => {
  const r = recommendSize(input([0.2], [100], { oom: { usageMiB: 480, atMs: 0 }, nowMs: 3600_000 }))
  assert.equal(r.size.name, 'large')
  assert.equal(r.oomFloorMiB, 580)
  assert.equal(r.memoryTargetMiB, 580)
  assert.match(r.detail, /OOM floor/)
})

test('an OOM kill older than the hold no longer raises memory', () => {
  const r = recommendSize(input([0.2], [100], { oom: { usageMiB: 480, atMs: 0 }, nowMs: 2 * dayMs, oomHoldMs: dayMs }))
  assert.equal(r.size.name, 'small')
  assert.equal(r.oomFloorMiB, undefined)
})

test('an OOM kill alone (no usage recorded) still gives a recommendation', () => {
  const r = recommendSize(input([], [], { oom: { usageMiB: 1000, atMs: 0 } }))
  assert.equal(r.reason, 'Fits')
  assert.equal(r.size.name, 'xlarge') // 1200 MiB > 1024
})

test('no usage at all keeps the current size', () => {
  const r = recommendSize(input([], []))
  assert.equal(r.reason, 'NoUsageData')
  assert.deepEqual(r.size, medium)
  assert.equal(r.changed, false)
})

test('with prices on every rung, the cheapest fitting size wins over ladder order', () => {
  const priced: Size[] = [
    { name: 'cpu-heavy', cpu: 1, memoryMiB: 512, pricePerHour: 0.05 },
    { name: 'mem-heavy', cpu: 0.5, memoryMiB: 1024, pricePerHour: 0.04 },
    { name: 'big', cpu: 2, memoryMiB: 2048, pricePerHour: 0.1 },
  ]
  // targets 0.2875 cores and 220.8 MiB: both cheap rungs fit; mem-heavy is cheaper.
  assert.equal(recommendSize(input([0.2], [100], { ladder: priced })).size.name, 'mem-heavy')
  // 0.8625 cores: mem-heavy (0.5 cpu) no longer fits → cpu-heavy.
  assert.equal(recommendSize(input([0.5], [100], { ladder: priced })).size.name, 'cpu-heavy')
})

test('an empty ladder bounds the recommendation to the current size', () => {
  const r = recommendSize(input([5], [100], { ladder: [] }))
  assert.deepEqual(r.size, medium)
  assert.equal(r.reason, 'CappedAtLargest')
})

test('percentile and headroom are taken from the input: p50 with 0 % headroom', () => {
  // samples 0.2, 0.5, 0.5, 1 → p50 threshold 2: bucket 0 (1), bucket 1 (3) → 0.75 cores, ×1.0.
  const r = recommendSize(input([0.2, 0.5, 0.5, 1], [100], { percentile: 50, headroomPercent: 0 }))
  assert.equal(r.cpuTargetCores, 0.75)
  assert.equal(r.size.name, 'medium')
})
