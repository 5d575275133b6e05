import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LatencyHistogram } from '../../src/router/latency-histogram.ts'

test('empty histogram has no percentiles', () => {
  assert.equal(new LatencyHistogram().percentileMs(99), undefined)
})

test('percentiles are within +5 % of the recorded values', () => {
  const h = new LatencyHistogram()
  for (let ms = 1; ms <= 100; ms++) h.record(ms)
  const cases = [
    { p: 50, truth: 50 },
    { p: 95, truth: 95 },
    { p: 99, truth: 99 },
    { p: 100, truth: 100 },
  ]
  for (const c of cases) {
    const got = h.percentileMs(c.p) ?? 0
    assert.ok(got >= c.truth && got <= c.truth * 1.05, `p${c.p} = ${got}, want ${c.truth}..${c.truth * 1.05}`)
  }
  assert.equal(h.count, 100)
})

test('sub-microsecond and huge latencies land in the edge buckets', () => {
  const h = new LatencyHistogram()
  h.record(0)
  h.record(-1)
  h.record(1e9)
  assert.ok((h.percentileMs(50) ?? 1) <= 0.001)
  assert.ok((h.percentileMs(100) ?? 0) > 60_000)
})

test('merging sparse forms adds counts', () => {
  const a = new LatencyHistogram()
  const b = new LatencyHistogram()
  for (let i = 0; i < 90; i++) a.record(1)
  for (let i = 0; i < 10; i++) b.record(200)
  const merged = new LatencyHistogram()
  merged.merge(a.toSparse())
  merged.merge(b.toSparse())
  assert.equal(merged.count, 100)
  assert.ok((merged.percentileMs(90) ?? 0) < 1.06)
  assert.ok((merged.percentileMs(95) ?? 0) >= 200)
  merged.reset()
  assert.equal(merged.count, 0)
})
