import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SeasonalNaive } from '../../src/forecast/seasonal-naive.ts'

test('forecasts the value one period back, repeating beyond a period', () => {
  const m = new SeasonalNaive(3)
  for (const v of [1, 2, 3, 4, 5, 6]) m.update(v)
  assert.deepEqual(m.forecast(5).values, [4, 5, 6, 4, 5])
})

test('update returns the forecast made for that step', () => {
  const m = new SeasonalNaive(2)
  m.update(10)
  m.update(20)
  assert.equal(m.update(11), 10)
  assert.equal(m.update(22), 20)
})

test('a missing step keeps the previous period value (imputed by the forecast)', () => {
  const m = new SeasonalNaive(2)
  for (const v of [10, 20, null, 21]) m.update(v)
  assert.deepEqual(m.forecast(2).values, [10, 21])
})

test('before a full period: the last value seen; with no data: 0', () => {
  const empty = new SeasonalNaive(4)
  assert.deepEqual(empty.forecast(2).values, [0, 0])
  const m = new SeasonalNaive(4)
  m.update(7)
  assert.deepEqual(m.forecast(3).values, [7, 7, 7])
})

test('interval from the RMS of seasonal differences, wider for the second period', () => {
  const m = new SeasonalNaive(2)
  // differences against one period back: 12 − 10 = 2, 18 − 20 = −2 → RMS 2.
  for (const v of [10, 20, 12, 18]) m.update(v)
  const f = m.forecast(3)
  assert.ok(Math.abs((f.upper[0] ?? 0) - (12 + 1.96 * 2)) < 1e-9)
  assert.ok(Math.abs((f.upper[2] ?? 0) - (12 + 1.96 * 2 * Math.SQRT2)) < 1e-9)
})
