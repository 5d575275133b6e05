import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  DecayingHistogram,
  HistogramStateError,
  bucketCount,
  bucketIndex,
  bucketStart,
  cpuHistogramOptions,
  memoryHistogramOptions,
  snapshotIsEmpty,
  snapshotPercentile,
  type HistogramOptions,
} from '../../../src/engine/vertical/decaying-histogram.ts'
import { seededRandom } from '../../../src/core/seeded-random.ts'
import { isTideError } from '../../../src/errors.ts'

// Ratio 2, first bucket 1: bucket n starts at 2^n − 1 → 0, 1, 3, 7, 15, 31, 63, 127.
// Count: ceil(log2(100 × (2 − 1)/1 + 1)) + 1 = ceil(6.66) + 1 = 8.
const pow2: HistogramOptions = { maxValue: 100, firstBucketSize: 1, ratio: 2, epsilon: 1e-4 }
const hourMs = 3600_000

test('bucket layout of the ratio-2 options', () => {
  assert.equal(bucketCount(pow2), 8)
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => bucketStart(pow2, i)), [0, 1, 3, 7, 15, 31, 63, 127])
})

const indexCases = [
  { name: 'negative goes to bucket 0', value: -5, want: 0 },
  { name: 'below the first bucket size', value: 0.5, want: 0 },
  { name: 'exactly on the start of bucket 1', value: 1, want: 1 },
  { name: 'just below the start of bucket 2', value: 2.999, want: 1 },
  { name: 'exactly on the start of bucket 2', value: 3, want: 2 },
  { name: 'exactly on the start of bucket 4', value: 15, want: 4 },
  { name: 'beyond maxValue goes to the last bucket', value: 1e6, want: 7 },
  { name: 'NaN goes to bucket 0', value: Number.NaN, want: 0 },
] as const
for (const c of indexCases) {
  test(`bucketIndex: ${c.name}`, () => {
    assert.equal(bucketIndex(pow2, c.value), c.want)
  })
}

test('VPA default layouts: 176 cpu buckets (ceil(ln 5001/ln 1.05) + 1) and 177 memory buckets', () => {
  // cpu: 1000 × 0.05/0.01 + 1 = 5001 → ln 5001/ln 1.05 = 174.6 → 175 + 1.
  assert.equal(bucketCount(cpuHistogramOptions), 176)
  // memory: 1048576 × 0.05/10 + 1 = 5243.9 → 175.5 → 176 + 1.
  assert.equal(bucketCount(memoryHistogramOptions), 177)
})

// Four samples of weight 1 at the same time, one in each of buckets 0–3 ([0,1) [1,3) [3,7) [7,15)).
const percentileCases = [
  { name: 'p25: running sum 1 ≥ 1 in bucket 0 → its end, 1', p: 0.25, want: 1 },
  { name: 'p50: sum 2 ≥ 2 in bucket 1 → 3', p: 0.5, want: 3 },
  { name: 'p75: sum 3 ≥ 3 in bucket 2 → 7', p: 0.75, want: 7 },
  { name: 'p100: reaches the last non-empty bucket 3 → 15', p: 1, want: 15 },
  { name: 'p0: the first non-empty bucket → 1', p: 0, want: 1 },
] as const
for (const c of percentileCases) {
  test(`equal weights ${c.name}`, () => {
    const h = new DecayingHistogram(pow2, hourMs)
    for (const v of [0.5, 2, 5, 10]) h.addSample(v, 1, 0)
    assert.equal(h.percentile(c.p), c.want)
  })
}

test('a sample one half-life newer counts twice: weights 1 (0.5) and 2 (10)', () => {
  const h = new DecayingHistogram(pow2, hourMs)
  h.addSample(0.5, 1, 0)
  h.addSample(10, 1, hourMs)
  // total 3: p30 → threshold 0.9 ≤ 1 in bucket 0 → 1; p50 → threshold 1.5 > 1 → bucket 3 → 15.
  assert.equal(h.percentile(0.3), 1)
  assert.equal(h.percentile(0.5), 15)
  assert.ok(Math.abs(h.totalWeight - 3) < 1e-12)
})

test('two half-lives older weighs a quarter: 10 at t=0, 0.5 at t=2h', () => {
  const h = new DecayingHistogram(pow2, hourMs)
  h.addSample(10, 1, 0)
  h.addSample(0.5, 1, 2 * hourMs)
  // weights 1 and 4, total 5: p80 → threshold 4 reached in bucket 0 → 1; p81 → 4.05 → bucket 3 → 15.
  assert.equal(h.percentile(0.8), 1)
  assert.equal(h.percentile(0.81), 15)
})

test('sample weights multiply: weight 3 at 0.5 against weight 1 at 10', () => {
  const h = new DecayingHistogram(pow2, hourMs)
  h.addSample(0.5, 3, 0)
  h.addSample(10, 1, 0)
  assert.equal(h.percentile(0.75), 1) // threshold 3 reached in bucket 0
  assert.equal(h.percentile(0.76), 15)
})

test('values past maxValue: percentile is the start of the last bucket (no upper bound)', () => {
  const h = new DecayingHistogram(pow2, hourMs)
  h.addSample(5000, 1, 0)
  assert.equal(h.percentile(0.5), 127)
})

test('empty histogram: isEmpty and percentile 0', () => {
  const h = new DecayingHistogram(pow2, hourMs)
  assert.equal(h.isEmpty(), true)
  assert.equal(h.percentile(0.9), 0)
  h.addSample(2, 1, 0)
  assert.equal(h.isEmpty(), false)
})

test('epoch-ms timestamps far from the reference stay finite and give the same percentiles', () => {
  const near = new DecayingHistogram(pow2, hourMs)
  const far = new DecayingHistogram(pow2, hourMs)
  const t0 = 1_764_000_000_000 // 2025-11-24, ~490,000 half-lives after 0: 2^490000 would overflow
  const samples = [
    { v: 0.5, dt: 0 },
    { v: 2, dt: hourMs },
    { v: 10, dt: 2 * hourMs },
    { v: 5, dt: 150 * hourMs }, // forces a second shift of the reference (beyond 100 half-lives)
  ]
  for (const s of samples) {
    near.addSample(s.v, 1, s.dt)
    far.addSample(s.v, 1, t0 + s.dt)
  }
  assert.ok(Number.isFinite(far.totalWeight) && far.totalWeight > 0)
  assert.ok(far.referenceMs > t0 - hourMs)
  for (const p of [0.1, 0.5, 0.9, 0.99, 1]) assert.equal(far.percentile(p), near.percentile(p), `p${p}`)
})

test('a cpu sample lands within one 5 % bucket of its value with the VPA defaults', () => {
  for (const cores of [0.05, 0.5, 1.3, 7.7]) {
    const h = new DecayingHistogram(cpuHistogramOptions, 24 * hourMs)
    h.addSample(cores, 1, 0)
    const got = h.percentile(0.9)
    assert.ok(got > cores && got <= cores * 1.05 + 0.01, `${cores} → ${got}`)
  }
})

test('toJSON → JSON text → fromJSON restores percentiles and keeps decaying', () => {
  const h = new DecayingHistogram(pow2, hourMs)
  for (const [i, v] of [0.5, 2, 5, 10, 40].entries()) h.addSample(v, 1 + i, i * hourMs)
  const restored = DecayingHistogram.fromJSON(JSON.parse(JSON.stringify(h)))
  for (const p of [0.1, 0.3, 0.5, 0.7, 0.9, 1]) assert.equal(restored.percentile(p), h.percentile(p))
  h.addSample(0.5, 1, 10 * hourMs)
  restored.addSample(0.5, 1, 10 * hourMs)
  assert.deepEqual(restored.toJSON(), h.toJSON())
})

const badStates = [
  { name: 'not an object', state: 42, field: /not an object/ },
  { name: 'wrong version', state: { version: 2 }, field: /version/ },
  { name: 'missing options', state: { version: 1, halfLifeMs: 1, referenceMs: 0, buckets: [] }, field: /options/ },
  { name: 'zero half-life', state: { version: 1, options: pow2, halfLifeMs: 0, referenceMs: 0, buckets: [] }, field: /halfLifeMs/ },
  { name: 'ratio 1', state: { version: 1, options: { ...pow2, ratio: 1 }, halfLifeMs: 1, referenceMs: 0, buckets: [] }, field: /options/ },
  { name: 'bucket index out of range', state: { version: 1, options: pow2, halfLifeMs: 1, referenceMs: 0, buckets: [[8, 1]] }, field: /buckets\[0\]: index 8/ },
  { name: 'negative weight', state: { version: 1, options: pow2, halfLifeMs: 1, referenceMs: 0, buckets: [[1, 1], [2, -1]] }, field: /buckets\[1\]: weight/ },
] as const
for (const c of badStates) {
  test(`fromJSON rejects ${c.name} with TIDE_ERR_HISTOGRAM_STATE`, () => {
    assert.throws(
      () => DecayingHistogram.fromJSON(c.state),
      (err: unknown) => err instanceof HistogramStateError && isTideError(err, 'TIDE_ERR_HISTOGRAM_STATE') && c.field.test(err.message),
    )
  })
}

test('merge aligns reference times: equals one histogram fed both sample sets', () => {
  const a = new DecayingHistogram(pow2, hourMs)
  const b = new DecayingHistogram(pow2, hourMs)
  const both = new DecayingHistogram(pow2, hourMs)
  const t0 = 1_764_000_000_000
  a.addSample(0.5, 1, t0)
  both.addSample(0.5, 1, t0)
  b.addSample(10, 1, t0 + 200 * hourMs) // b's reference is 200 half-lives later
  both.addSample(10, 1, t0 + 200 * hourMs)
  b.addSample(2, 1, t0 + 201 * hourMs)
  both.addSample(2, 1, t0 + 201 * hourMs)
  a.merge(b)
  for (const p of [0.1, 0.4, 0.5, 0.9]) assert.equal(a.percentile(p), both.percentile(p), `p${p}`)
  // Relative to b's reference: 0.5 weighs 2^-200, 10 weighs 1, 2 weighs 2 (total ≈ 3).
  // p30 → threshold 0.9; bucket 0 holds ~0, bucket 1 (the 2) brings the sum to 2 → its end, 3.
  assert.equal(a.percentile(0.3), 3)
})

test('merge refuses different half-lives', () => {
  assert.throws(() => {
    new DecayingHistogram(pow2, hourMs).merge(new DecayingHistogram(pow2, 2 * hourMs))
  }, RangeError)
})

test('negative weight is a programmer error', () => {
  assert.throws(() => {
    new DecayingHistogram(pow2, hourMs).addSample(1, -1, 0)
  }, RangeError)
})

test('snapshot: percentiles and emptiness of the plain snapshot equal the live histogram\'s to the bit, before and after a JSON round trip', () => {
  const ps = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]
  const cases: { name: string; options: HistogramOptions; samples: number; spanHours: number; scale: number }[] = [
    { name: 'cpu, a day of samples', options: cpuHistogramOptions, samples: 2000, spanHours: 24, scale: 4 },
    { name: 'memory, past 100 half-lives (the reference moves)', options: memoryHistogramOptions, samples: 3000, spanHours: 24 * 120, scale: 4096 },
    { name: 'ratio 2, values beyond the last bucket', options: pow2, samples: 500, spanHours: 6, scale: 400 },
  ]
  for (const c of cases) {
    const random = seededRandom(7)
    const h = new DecayingHistogram(c.options, c.name.startsWith('memory') ? 24 * hourMs : hourMs)
    const empty = h.snapshot()
    assert.equal(snapshotIsEmpty(empty), true, c.name)
    assert.equal(snapshotPercentile(empty, 0.5), 0, c.name)
    for (let i = 0; i < c.samples; i++) h.addSample(random() * random() * c.scale, 0.5 + random(), (i / c.samples) * c.spanHours * hourMs)
    const snap = h.snapshot()
    const replayed = JSON.parse(JSON.stringify(snap)) as typeof snap
    assert.deepEqual(replayed, snap, `${c.name}: JSON round trip`)
    assert.equal(snap.totalWeight, h.totalWeight)
    assert.equal(snapshotIsEmpty(replayed), h.isEmpty(), c.name)
    for (const p of ps) assert.equal(snapshotPercentile(replayed, p), h.percentile(p), `${c.name} p${p}`)
  }
})

test('snapshot: a copy, not a window: later samples do not change it', () => {
  const h = new DecayingHistogram(pow2, hourMs)
  h.addSample(2, 1, 0)
  const snap = h.snapshot()
  h.addSample(50, 10, 0)
  assert.equal(snapshotPercentile(snap, 0.9), 3)
  assert.equal(h.percentile(0.9), 63)
})
