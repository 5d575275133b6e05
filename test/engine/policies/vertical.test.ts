import { test } from 'node:test'
import assert from 'node:assert/strict'
import { verticalPolicy } from '../../../src/engine/policies/vertical.ts'
import { policyInput } from '../../../src/engine/policies/policy.ts'
import type { Recommendation, UsageHistograms } from '../../../src/engine/types.ts'
import type { GroupInput } from '../../../src/spec/schema.ts'
import { decideInput, groupSpec, instances, signals } from '../fixtures.ts'
import { ladder, medium, usageOf } from '../vertical/fixtures.ts'

const hourMs = 3600_000
const t0 = 1_000_000_000
const usage = (cpu: readonly number[], mem: readonly number[], oom?: UsageHistograms['oom']): UsageHistograms => usageOf(cpu, mem, t0, oom)

function propose(fields: Partial<GroupInput>, u: UsageHistograms | undefined): Recommendation | undefined {
  const spec = groupSpec({ size: medium, sizes: ladder, ...fields })
  const d = decideInput({ spec, instances: instances(3), signals: signals({}), nowMs: t0 })
  return verticalPolicy.propose(policyInput(u === undefined ? d : { ...d, usage: u }))
}

const auto = { vertical: { mode: 'auto' as const } }

/** propose() for a case that must say something. */
function rec(fields: Partial<GroupInput>, u: UsageHistograms | undefined): Recommendation {
  const r = propose(fields, u)
  assert.ok(r, 'no recommendation')
  return r
}

test('mode off says nothing, even with usage', () => {
  assert.equal(propose({}, usage([1], [300])), undefined)
})

test('strategy mixed: the planner sizes, so the policy says nothing in any mode', () => {
  assert.equal(propose({ ...auto, strategy: 'mixed' }, usage([1], [300])), undefined)
  assert.equal(propose({ vertical: { mode: 'recommend' }, strategy: 'mixed' }, usage([1], [300])), undefined)
})

test('recommend: the same size, marked advisory', () => {
  const r = rec({ vertical: { mode: 'recommend' } }, usage([0.2], [300]))
  assert.equal(r.advisory, true)
  assert.equal(r.size?.name, 'large')
})

test('auto: not advisory', () => {
  const r = rec(auto, usage([0.2], [300]))
  assert.equal(r.advisory, undefined)
  assert.equal(r.policy, 'vertical')
  assert.equal(r.size?.name, 'large')
})

test('no usage histograms: NoUsageData, without a size', () => {
  const r = rec(auto, undefined)
  assert.equal(r.reason, 'NoUsageData')
  assert.equal(r.size, undefined)
  assert.equal(r.detail, 'vertical: no usage histograms kept yet')
})

test('histograms without samples: NoUsageData, without a size', () => {
  const r = rec(auto, usage([], []))
  assert.equal(r.reason, 'NoUsageData')
  assert.equal(r.size, undefined)
  assert.equal(r.detail, 'vertical: no cpu or memory usage recorded yet')
})

// Target = end of the bucket holding the percentile × (1 + headroom); the smallest rung holding both.
const cases: { name: string; fields?: Partial<GroupInput>; cpu: number[]; mem: number[]; oom?: UsageHistograms['oom']; want: string; reason: string; detail: string }[] = [
  // 0.2 → [0, 0.25) → 0.25 × 1.15 = 0.2875 cores; 100 → [64, 192) → 192 × 1.15 = 220.8 MiB → small (0.5 cpu/256 MiB).
  { name: 'light load: down to small', cpu: [0.2], mem: [100], want: 'small', reason: 'Fits', detail: 'vertical: resize: cpu p90 +15% 0.29 cores, memory p90 +15% 220.8 MiB → small 0.5 cpu/256 MiB' },
  // 0.5 → [0.25, 0.75) → 0.8625 cores > 0.5 → medium, the current size.
  { name: 'cpu 0.8625 cores: keeps medium', cpu: [0.5], mem: [100], want: 'medium', reason: 'Fits', detail: 'vertical: keep size: cpu p90 +15% 0.86 cores, memory p90 +15% 220.8 MiB → medium 1 cpu/512 MiB' },
  // 300 → [192, 448) → 448 × 1.15 = 515.2 MiB > 512 → large.
  { name: 'memory 515.2 MiB: up to large', cpu: [0.2], mem: [300], want: 'large', reason: 'Fits', detail: 'vertical: resize: cpu p90 +15% 0.29 cores, memory p90 +15% 515.2 MiB → large 2 cpu/1024 MiB' },
  // 1 → [0.75, 1.75) → 2.0125 cores > 2 → xlarge.
  { name: 'cpu 2.0125 cores: up to xlarge', cpu: [1], mem: [100], want: 'xlarge', reason: 'Fits', detail: 'vertical: resize: cpu p90 +15% 2.01 cores, memory p90 +15% 220.8 MiB → xlarge 4 cpu/2048 MiB' },
  // 5 → [3.75, 7.75) → 8.9125 cores: beyond the ladder → xlarge, capped.
  {
    name: 'beyond the ladder: the largest, capped',
    cpu: [5],
    mem: [100],
    want: 'xlarge',
    reason: 'CappedAtLargest',
    detail: 'vertical: resize: cpu p90 +15% 8.91 cores, memory p90 +15% 220.8 MiB → xlarge 4 cpu/2048 MiB (largest size; does not fit)',
  },
  // Nine samples at 0.2 and one at 5: the p90 threshold (9 of 10) is reached in bucket 0 → 0.2875 → small …
  { name: 'p90 ignores the top tenth', cpu: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 5], mem: [100], want: 'small', reason: 'Fits', detail: 'vertical: resize: cpu p90 +15% 0.29 cores, memory p90 +15% 220.8 MiB → small 0.5 cpu/256 MiB' },
  // … but with the spec's percentile 95 the threshold 9.5 is reached only in 5's bucket → 8.9125 → capped.
  {
    name: 'the spec percentile is used: p95 sees the top tenth',
    fields: { vertical: { mode: 'auto', percentile: 95 } },
    cpu: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 5],
    mem: [100],
    want: 'xlarge',
    reason: 'CappedAtLargest',
    detail: 'vertical: resize: cpu p95 +15% 8.91 cores, memory p95 +15% 220.8 MiB → xlarge 4 cpu/2048 MiB (largest size; does not fit)',
  },
  // headroom 0: 0.5 → 0.75 cores ≤ 1, 300 → 448 MiB ≤ 512 → medium (with 15 % it was large).
  {
    name: 'the spec headroom is used: 0 % keeps medium',
    fields: { vertical: { mode: 'auto', headroomPercent: 0 } },
    cpu: [0.5],
    mem: [300],
    want: 'medium',
    reason: 'Fits',
    detail: 'vertical: keep size: cpu p90 +0% 0.75 cores, memory p90 +0% 448 MiB → medium 1 cpu/512 MiB',
  },
  // An OOM kill an hour ago at 1000 MiB: floor max(1.2 × 1000, 1000 + 100) = 1200 MiB > 1024 → xlarge.
  {
    name: 'a recent OOM kill raises memory to the VPA floor',
    cpu: [0.2],
    mem: [100],
    oom: { usageMiB: 1000, atMs: t0 - hourMs },
    want: 'xlarge',
    reason: 'Fits',
    detail: 'vertical: resize: cpu p90 +15% 0.29 cores, memory 1200 MiB (OOM floor) → xlarge 4 cpu/2048 MiB',
  },
  // The same kill 25 hours ago is past the one-day hold → back to small.
  { name: 'an OOM kill older than a day is forgotten', cpu: [0.2], mem: [100], oom: { usageMiB: 1000, atMs: t0 - 25 * hourMs }, want: 'small', reason: 'Fits', detail: 'vertical: resize: cpu p90 +15% 0.29 cores, memory p90 +15% 220.8 MiB → small 0.5 cpu/256 MiB' },
]
for (const c of cases) {
  test(c.name, () => {
    const r = rec({ ...auto, ...c.fields }, usage(c.cpu, c.mem, c.oom))
    assert.equal(r.size?.name, c.want)
    assert.equal(r.reason, c.reason)
    assert.equal(r.detail, c.detail)
    assert.equal(r.replicas, undefined)
  })
}
