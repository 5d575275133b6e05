import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HoltWinters, HoltWintersInitError, initialHoltWintersState, type HoltWintersShape } from '../../src/forecast/holt-winters.ts'

// A period of 4 steps: pattern +10, −10, +20, −20 (mean 0) on a level rising 1 per step.
const pattern = [10, -10, 20, -20]
const series = Array.from({ length: 12 }, (_, t) => 100 + t + (pattern[t % 4] ?? 0))
const additive: HoltWintersShape = { periods: [4], form: 'additive' }
const params = { alpha: 0.3, beta: 0.1, gamma: 0.2, delta: 0 }

test('initial state recovers the trend and seasonal pattern of a clean series', () => {
  const s = initialHoltWintersState(series, additive, 2)
  // cycle means 101.5 and 105.5 → trend (105.5 − 101.5)/4 = 1 per step.
  assert.ok(Math.abs(s.trend - 1) < 1e-12)
  const seasonal = s.seasonals[0] ?? []
  pattern.forEach((p, i) => {
    assert.ok(Math.abs((seasonal[i] ?? Number.NaN) - p) < 1e-9, `s[${i}] = ${seasonal[i]}`)
  })
  // level before step 0: 101.5 − 1 × (4 + 1)/2 = 99, so the first forecast is 99 + 1 + 10 = 110 = series[0].
  assert.ok(Math.abs(s.level - 99) < 1e-12)
})

test('a clean additive series is forecast exactly', () => {
  const m = new HoltWinters(additive, params, initialHoltWintersState(series, additive, 2))
  for (const y of series) m.update(y)
  const f = m.forecast(8).values
  for (let h = 0; h < 8; h++) {
    const t = 12 + h
    assert.ok(Math.abs((f[h] ?? 0) - (100 + t + (pattern[t % 4] ?? 0))) < 1e-9, `h=${h + 1}`)
  }
})

test('a missing observation rolls the level by the trend and leaves the seasonals alone', () => {
  const m = new HoltWinters(additive, params, initialHoltWintersState(series, additive, 2))
  const before = m.state()
  const predicted = m.update(null)
  const after = m.state()
  assert.ok(Math.abs(after.level - (before.level + before.trend)) < 1e-12)
  assert.equal(after.trend, before.trend)
  assert.deepEqual(after.seasonals, before.seasonals)
  assert.equal(after.step, 1)
  assert.ok(Number.isFinite(predicted))
})

test('an outlier moves the level by at most α × k × scale (Huber clipping)', () => {
  const state = initialHoltWintersState(series, { ...additive, huberK: 2 }, 2)
  const m = new HoltWinters({ ...additive, huberK: 2 }, params, { ...state, scale: 5 })
  const before = m.state()
  m.update(1e6)
  const after = m.state()
  // clean = prediction + 2 × 5; level = α (clean − s) + (1 − α)(l + b) = l + b + α × 10.
  assert.ok(Math.abs(after.level - (before.level + before.trend + 0.3 * 10)) < 1e-9, `level ${after.level}`)
})

test('multiplicative: a clean series with a proportional pattern is forecast exactly', () => {
  const ratios = [1.5, 0.5, 1.2, 0.8]
  const y = Array.from({ length: 12 }, (_, t) => 200 * (ratios[t % 4] ?? 1))
  const shape: HoltWintersShape = { periods: [4], form: 'multiplicative' }
  const m = new HoltWinters(shape, params, initialHoltWintersState(y, shape, 2))
  for (const v of y) m.update(v)
  const f = m.forecast(4).values
  ratios.forEach((r, i) => {
    assert.ok(Math.abs((f[i] ?? 0) - 200 * r) < 1e-6, `h=${i + 1}: ${f[i]}`)
  })
})

test('double seasonal: a week-like pattern of 2 × 3 steps is learned from one long cycle', () => {
  // short period 3, long period 6: the second half of each long cycle is 50 higher.
  const y = Array.from({ length: 18 }, (_, t) => 100 + [0, 10, -10][t % 3]! + (t % 6 >= 3 ? 50 : 0))
  const shape: HoltWintersShape = { periods: [3, 6], form: 'additive' }
  const m = new HoltWinters(shape, { alpha: 0.1, beta: 0, gamma: 0.1, delta: 0.1 }, initialHoltWintersState(y, shape, 1))
  for (const v of y) m.update(v)
  const f = m.forecast(6).values
  for (let h = 0; h < 6; h++) {
    const t = 18 + h
    assert.ok(Math.abs((f[h] ?? 0) - (100 + [0, 10, -10][t % 3]! + (t % 6 >= 3 ? 50 : 0))) < 1e-6, `h=${h + 1}: ${f[h]}`)
  }
})

const initErrors = [
  { name: 'less than one cycle', values: [1, 2, 3], shape: additive },
  { name: 'only missing values', values: [null, null, null, null], shape: additive },
  { name: 'multiplicative on non-positive data', values: [0, 0, 0, 0], shape: { periods: [4], form: 'multiplicative' } as HoltWintersShape },
] as const
for (const c of initErrors) {
  test(`initialHoltWintersState refuses ${c.name}`, () => {
    assert.throws(() => initialHoltWintersState(c.values, c.shape), HoltWintersInitError)
  })
}

test('periods must nest: [4, 6] is a programmer error', () => {
  assert.throws(() => initialHoltWintersState(series, { periods: [4, 6], form: 'additive' }), RangeError)
})
