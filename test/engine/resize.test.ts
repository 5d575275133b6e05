import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decide } from '../../src/engine/decide.ts'
import type { Decision, UsageHistograms } from '../../src/engine/types.ts'
import type { GroupInput, Size } from '../../src/spec/schema.ts'
import { decideInput, groupSpec, instances, sameSample, signals } from './fixtures.ts'
import { usageOf } from './vertical/fixtures.ts'

const t0 = 1_000_000_000 // 1970-01-12T13:46:40Z, the fixtures' now
const hourMs = 3600_000
const cpu60: NonNullable<GroupInput['metrics']> = [{ type: 'cpu', target: { averageUtilization: 60 } }]
const usage = (cpu: readonly number[], mem: readonly number[], oom?: UsageHistograms['oom']): UsageHistograms => usageOf(cpu, mem, t0, oom)

/** decide() for `count` instances (1 cpu/512 MiB, the fixtures' size) all at `cpuRatio`. */
function run(fields: Partial<GroupInput>, count: number, cpuRatio: number, u?: UsageHistograms): Decision {
  const list = instances(count)
  const d = decideInput({ spec: groupSpec({ metrics: cpu60, ...fields }), instances: list, signals: signals(sameSample(list, { cpuRatio })) })
  return decide(u === undefined ? d : { ...d, usage: u })
}

// --- vertical: the size from the vertical policy, the count from the others ---

// The fixtures' instances are 1 cpu/512 MiB: the medium rung.
const vLadder: Size[] = [
  { name: 'small', cpu: 0.5, memoryMiB: 256 },
  { name: 'medium', cpu: 1, memoryMiB: 512 },
  { name: 'large', cpu: 2, memoryMiB: 1024 },
  { name: 'xlarge', cpu: 4, memoryMiB: 2048 },
]
const [, medium, large] = vLadder as [Size, Size, Size, Size]
const vertical = (mode: 'auto' | 'recommend'): Partial<GroupInput> => ({ replicas: { min: 1, max: 20 }, size: medium, sizes: vLadder, vertical: { mode } })
// cpu 0.2 → 0.25 × 1.15 = 0.2875 cores; memory 300 → 448 × 1.15 = 515.2 MiB > 512 → large.
const needsLarge = () => usage([0.2], [300])

test('vertical auto: a resize with the count unchanged (within tolerance: 4 stays 4)', () => {
  const d = run(vertical('auto'), 4, 0.63, needsLarge())
  assert.equal(d.kind, 'scale')
  assert.equal(d.from, 4)
  assert.equal(d.to, 4)
  assert.deepEqual(d.resize, { from: medium, to: large })
  assert.equal(d.reason, 'WithinTolerance')
  assert.match(d.explanation, /^kept 4 instances, resizing: /, 'not "scaled 4→4"')
  assert.match(d.explanation, /; vertical: resize: cpu p90 \+15% 0\.29 cores, memory p90 \+15% 515\.2 MiB → large 2 cpu\/1024 MiB$/)
})

test('vertical auto: the count is the horizontal one (4 at 92 % → ceil(4 × 92/60) = 7), the size the vertical one', () => {
  const d = run(vertical('auto'), 4, 0.92, needsLarge())
  assert.equal(d.to, 7)
  assert.equal(run({ replicas: { min: 1, max: 20 }, size: medium }, 4, 0.92).to, 7)
  assert.deepEqual(d.resize, { from: medium, to: large })
})

test('vertical auto: the recommended size is the current one → hold, no resize', () => {
  // cpu 0.5 → 0.75 × 1.15 = 0.8625 ≤ 1 cpu; memory 100 → 220.8 MiB ≤ 512 (but 0.8625 > small's 0.5) → medium.
  const d = run(vertical('auto'), 4, 0.63, usage([0.5], [100]))
  assert.equal(d.kind, 'hold')
  assert.equal(d.resize, undefined)
})

test('vertical auto without usage data: no resize', () => {
  const d = run(vertical('auto'), 4, 0.63)
  assert.equal(d.kind, 'hold')
  assert.equal(d.resize, undefined)
  assert.equal(d.recommendations.find((r) => r.policy === 'vertical')?.reason, 'NoUsageData')
})

test('vertical recommend: never resizes, the explanation shows what it would pick', () => {
  const d = run(vertical('recommend'), 4, 0.63, needsLarge())
  assert.equal(d.kind, 'hold')
  assert.equal(d.to, 4)
  assert.equal(d.resize, undefined)
  assert.match(d.explanation, /vertical: resize: .* → large 2 cpu\/1024 MiB \(recommendation only, not acted on\)/)
})

// --- mixed: the planner picks (count, size) ---

// The fixtures' instances are 1 cpu/512 MiB: the small rung. Without prices, price = cpu.
const mLadder: Size[] = [
  { name: 'small', cpu: 1, memoryMiB: 512 },
  { name: 'large', cpu: 2, memoryMiB: 1024 },
  { name: 'xlarge', cpu: 4, memoryMiB: 2048 },
]
const [mSmall, mLarge, mXlarge] = mLadder as [Size, Size, Size]
const mixed = (order: GroupInput['mixedOrder'], fields: Partial<GroupInput> = {}): Partial<GroupInput> => ({
  replicas: { min: 1, max: 20 },
  size: mSmall,
  sizes: mLadder,
  strategy: 'mixed',
  mixedOrder: order,
  ...fields,
})
// The fixtures' now lies inside this window.
const window = { start: '1970-01-12T00:00:00Z', end: '1970-01-13T00:00:00Z' }

const mixedCases: { name: string; d: () => Decision; to: number; size: Size; reason?: string; explanation?: string }[] = [
  // 4 at 90 % vs 60 %: ceil(4 × 1.5) = 6 units of small = 6 cores. small × 6 = 6/h; large × 3 = 6 + 6 × 30/3600 = 6.05/h; xlarge × 2 = 8/h.
  { name: 'cheapest: 6 × small, no resize, no extra clause', d: () => run(mixed('cheapest'), 4, 0.9), to: 6, size: mSmall, explanation: 'scaled 4→6: cpu 90% > target 60%' },
  // Fewest instances for 6 cores: xlarge × 2.
  {
    name: 'vertical-first: 2 × xlarge',
    d: () => run(mixed('vertical-first'), 4, 0.9),
    to: 2,
    size: mXlarge,
    explanation: 'scaled 4→2: cpu 90% > target 60%; resize small 1 cpu/512 MiB → xlarge 4 cpu/2048 MiB: mixed (vertical-first): 6 cores needed → 2 × xlarge 4 cpu/2048 MiB at 8/h',
  },
  { name: 'horizontal-first: 6 × small', d: () => run(mixed('horizontal-first'), 4, 0.9), to: 6, size: mSmall },
  // max 5: the count 6 is capped at 5, so the uncapped 6 cores are the demand: small would need 6 > 5 → large × 3.
  {
    name: 'a count capped at max becomes a bigger size',
    d: () => run(mixed('horizontal-first', { replicas: { min: 1, max: 5 } }), 4, 0.9),
    to: 3,
    size: mLarge,
    reason: 'TooManyReplicas',
    explanation: 'scaled 4→3: cpu 90% > target 60%; capped at max 5; resize small 1 cpu/512 MiB → large 2 cpu/1024 MiB: mixed (horizontal-first): 6 cores needed → 3 × large 2 cpu/1024 MiB at 6/h',
  },
  // Capped by a schedule's max 5 the same way (the max in force): large × 3.
  {
    name: 'a count capped at a schedule max becomes a bigger size',
    d: () => run(mixed('horizontal-first', { schedules: [{ name: 'night', ...window, replicas: { max: 5 } }] }), 4, 0.9),
    to: 3,
    size: mLarge,
    reason: 'ScheduleBounds',
  },
  // A schedule raising max to 12 above the spec's 5: decide() allows 6, and so must the planner → 6 × small.
  {
    name: 'a schedule max above the spec max is the planner max too',
    d: () => run(mixed('horizontal-first', { replicas: { min: 1, max: 5 }, schedules: [{ name: 'sale', ...window, replicas: { max: 12 } }] }), 4, 0.9),
    to: 6,
    size: mSmall,
  },
  // Rate-limited, not capped at max: 2 at 300 % wants ceil(2 × 5) = 10, the rate allows max(2 × 2, 2 + 4) = 6 → the planner plans 6 cores, not 10.
  { name: 'a rate-limited count is planned as it is (horizontal-first: 6 × small)', d: () => run(mixed('horizontal-first'), 2, 3), to: 6, size: mSmall, reason: 'ScaleUpLimit' },
  { name: 'a rate-limited count is planned as it is (vertical-first: 2 × xlarge)', d: () => run(mixed('vertical-first'), 2, 3), to: 2, size: mXlarge },
  // Below min 3: straight to min (3), as the HPA; the planner plans those 3 cores, not the policies' ceil(1 × 5) = 5.
  { name: 'below min: straight to min, not to the policies’ want', d: () => run(mixed('horizontal-first', { replicas: { min: 3, max: 20 } }), 1, 3), to: 3, size: mSmall, reason: 'TooFewReplicas' },
  // Memory 300 → 448 × 1.15 = 515.2 MiB > small's 512 → large × 3.
  { name: 'the memory percentile rules out small', d: () => run(mixed('horizontal-first'), 4, 0.9, usage([0.2], [300])), to: 3, size: mLarge },
  // An OOM kill an hour ago at 800 MiB: floor max(1.2 × 800, 800 + 100) = 960 MiB > 512 → large × 3, though the histogram (100 → 220.8 MiB) fits small.
  { name: 'a recent OOM kill rules out small (the VPA floor)', d: () => run(mixed('horizontal-first'), 4, 0.9, usage([0.2], [100], { usageMiB: 800, atMs: t0 - hourMs })), to: 3, size: mLarge },
  { name: 'without the OOM kill small fits', d: () => run(mixed('horizontal-first'), 4, 0.9, usage([0.2], [100])), to: 6, size: mSmall },
]
for (const c of mixedCases) {
  test(`mixed: ${c.name}`, () => {
    const d = c.d()
    assert.equal(d.to, c.to)
    const resized = c.size !== mSmall
    assert.deepEqual(d.resize, resized ? { from: mSmall, to: c.size } : undefined)
    assert.equal(d.kind, 'scale')
    if (c.reason !== undefined) assert.equal(d.reason, c.reason)
    if (c.explanation !== undefined) assert.equal(d.explanation, c.explanation)
    if (resized) assert.match(d.explanation, new RegExp(`resize small 1 cpu/512 MiB → ${c.size.name} ${c.size.cpu} cpu/${c.size.memoryMiB} MiB: mixed`))
  })
}

test('mixed: the vertical policy stays out, whatever its mode', () => {
  const d = run(mixed('cheapest', { vertical: { mode: 'auto' } }), 4, 0.9, usage([0.2], [300]))
  assert.equal(d.recommendations.some((r) => r.policy === 'vertical'), false)
})

test('mixed without any count (no signals): no plan, no resize', () => {
  const list = instances(4)
  const d = decide(decideInput({ spec: groupSpec({ metrics: cpu60, ...mixed('vertical-first') }), instances: list, signals: undefined }))
  assert.equal(d.kind, 'skip')
  assert.equal(d.to, 4)
  assert.equal(d.resize, undefined)
})

// --- strategy vertical: the planner with the count held ---

const verticalOnly = (fields: Partial<GroupInput> = {}): Partial<GroupInput> => ({ replicas: { min: 1, max: 20 }, size: mSmall, sizes: mLadder, strategy: 'vertical', ...fields })

const verticalCases = [
  // 4 at 90 % vs 60 %: 6 units of small = 6 cores over 4 instances: 4 × 1 = 4 < 6, 4 × 2 = 8 ≥ 6 → large.
  { name: 'more demand: same count, the next rung that carries it', count: 4, cpu: 0.9, to: 4, size: mLarge },
  // 4 at 63 % vs 60 %: within tolerance, 4 cores over 4 instances: small carries it → no resize.
  { name: 'within tolerance: no resize', count: 4, cpu: 0.63, to: 4, size: mSmall },
  // 4 at 300 %: ceil(4 × 5) = 20 units, capped by the rate policy at max(4 × 2, 4 + 4) = 8 = 8 cores: 4 × 2 = 8 → large (not xlarge).
  { name: 'the rate policy bounds how far one tick grows', count: 4, cpu: 3, to: 4, size: mLarge },
  // 2 at 600 %: ceil(2 × 10) = 20 units, capped by the rate policy at max(2 × 2, 2 + 4) = 6 → 6 cores over 2: xlarge 2 × 4 = 8 ≥ 6.
  { name: 'few instances reach for the largest rung', count: 2, cpu: 6, to: 2, size: mXlarge },
] as const
for (const c of verticalCases) {
  test(`vertical strategy: ${c.name}`, () => {
    const d = run(verticalOnly(), c.count, c.cpu)
    assert.equal(d.to, c.to)
    if (c.size === mSmall) assert.equal(d.resize, undefined)
    else assert.deepEqual(d.resize, { from: mSmall, to: c.size })
  })
}

test('vertical strategy: the count stays at the held count even when target tracking asks for fewer', () => {
  // 6 at 10 % vs 60 %: ceil(6 × 10/60) = 1 unit, but the count stays 6 (the size is already the smallest).
  const d = run(verticalOnly(), 6, 0.1)
  assert.equal(d.to, 6)
  assert.equal(d.resize, undefined)
})

test('vertical strategy: the usage-based vertical policy stays out (one planner decides the size)', () => {
  const d = run(verticalOnly({ vertical: { mode: 'auto', percentile: 90, headroomPercent: 15, halfLifeHours: 24 } }), 4, 0.9)
  assert.equal(d.recommendations.some((r) => r.policy === 'vertical'), false)
})
