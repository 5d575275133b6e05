import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fitForecaster, ForecastMethods, type FitOptions, type Forecaster } from '../../src/forecast/fit-forecaster.ts'
import type { Series } from '../../src/forecast/series.ts'
import { syntheticSeries, syntheticValue, type SyntheticShape } from './synthetic-series.ts'

const step = 300 // 5-minute buckets
const day = 86_400 / step // 288 buckets
const t0 = 1_767_225_600 // 2026-01-01T00:00:00Z, a Thursday; the series' own phase is what matters

function fitted(values: readonly (number | null)[], options: FitOptions = {}): Forecaster {
  const r = fitForecaster({ startSec: t0, stepSeconds: step, values }, options)
  if (r.status !== 'ok') assert.fail(`expected a forecaster, got ${JSON.stringify(r)}`)
  return r.forecaster
}

/** Relative errors of a day-ahead forecast against the noiseless truth, from step `from`. */
function dayAheadErrors(f: Forecaster, shape: SyntheticShape, from: number): { mean: number; worst: number } {
  const fc = f.forecast(day)
  let sum = 0
  let worst = 0
  for (let i = 0; i < day; i++) {
    const truth = syntheticValue(shape, from + i)
    const e = Math.abs((fc.values[i] ?? Number.NaN) - truth) / truth
    sum += e
    worst = Math.max(worst, e)
  }
  return { mean: sum / day, worst }
}

test('pure daily sine plus trend: the next day is forecast almost exactly', () => {
  const shape: SyntheticShape = { days: 3, stepSeconds: step, base: 1000, amplitude: 400, trendPerDay: 144 }
  const f = fitted(syntheticSeries(shape))
  assert.match(f.method, /^hw-daily/)
  const e = dayAheadErrors(f, shape, 3 * day)
  assert.ok(e.worst < 0.005, `worst relative error ${e.worst}`)
})

test('daily sine, trend and 3 % noise: day-ahead mean error under 2 %, better than the seasonal-naive baseline', () => {
  const shape: SyntheticShape = { days: 4, stepSeconds: step, base: 1000, amplitude: 500, trendPerDay: 50, noiseRatio: 0.03, seed: 7 }
  const f = fitted(syntheticSeries(shape))
  const e = dayAheadErrors(f, shape, 4 * day)
  assert.ok(e.mean < 0.02, `mean relative error ${e.mean}`)
  const naive = f.candidates.find((c) => c.method === 'seasonal-naive-daily')
  assert.ok(naive?.wapePercent !== undefined && f.backtestWape !== undefined && f.backtestWape < naive.wapePercent, JSON.stringify(f.candidates))
})

test('weekday/weekend pattern: the weekly model is chosen and forecasts the weekend; daily-only models cannot', () => {
  // 19 days: days 0–4 weekdays, 5–6 weekend at half the traffic, …; day 19 (19 mod 7 = 5) is a weekend day.
  const shape: SyntheticShape = { days: 19, stepSeconds: step, base: 1000, amplitude: 500, weekendFactor: 0.5, noiseRatio: 0.03, seed: 3 }
  const values = syntheticSeries(shape)
  const weekly = fitted(values)
  assert.match(weekly.method, /^hw-weekly/)
  const we = dayAheadErrors(weekly, shape, 19 * day)
  assert.ok(we.mean < 0.03, `weekly model mean error ${we.mean}`)
  const dailyOnly = fitted(values, { methods: ['hw-daily-additive', 'hw-daily-multiplicative', 'seasonal-naive-daily'] })
  const de = dayAheadErrors(dailyOnly, shape, 19 * day)
  assert.ok(de.mean > 0.5, `a daily model forecasts Saturday like Friday: mean error ${de.mean}`)
})

test('amplitude that grows with the level: the multiplicative model wins', () => {
  const shape: SyntheticShape = { days: 4, stepSeconds: step, base: 1000, amplitude: 600, trendPerDay: 300, noiseRatio: 0.02, seed: 5, multiplicative: true }
  const f = fitted(syntheticSeries(shape))
  assert.equal(f.method, 'hw-daily-multiplicative')
  assert.ok(dayAheadErrors(f, shape, 4 * day).mean < 0.02)
})

test('gaps (a 2-hour hole and every 17th bucket missing) are imputed: no NaN, small error', () => {
  const shape: SyntheticShape = { days: 4, stepSeconds: step, base: 1000, amplitude: 500, trendPerDay: 50, noiseRatio: 0.03, seed: 7 }
  const values: (number | null)[] = syntheticSeries(shape)
  for (let i = 3 * day + 100; i < 3 * day + 124; i++) values[i] = null
  for (let i = 0; i < values.length; i += 17) values[i] = null
  const f = fitted(values)
  const fc = f.forecast(day)
  for (const a of [fc.values, fc.lower, fc.upper]) assert.ok(a.every((v) => Number.isFinite(v)))
  assert.ok(dayAheadErrors(f, shape, 4 * day).mean < 0.02)
})

test('trailing missing buckets: the forecast starts after them, at the right time', () => {
  const shape: SyntheticShape = { days: 3, stepSeconds: step, base: 1000, amplitude: 400 }
  const values: (number | null)[] = syntheticSeries(shape)
  for (let i = values.length - 6; i < values.length; i++) values[i] = null
  const f = fitted(values)
  assert.equal(f.nextStartSec, t0 + 3 * 86_400)
  assert.ok(dayAheadErrors(f, shape, 3 * day).worst < 0.01)
})

test('a 10× spike for 30 minutes does not wreck the next day (Huber clipping); without clipping it does', () => {
  const shape: SyntheticShape = { days: 4, stepSeconds: step, base: 1000, amplitude: 500, trendPerDay: 50, noiseRatio: 0.03, seed: 7 }
  const values = syntheticSeries(shape)
  for (let i = 3 * day + 144; i < 3 * day + 150; i++) values[i] = (values[i] ?? 0) * 10 // noon of the last day
  const robust = dayAheadErrors(fitted(values), shape, 4 * day)
  assert.ok(robust.worst < 0.05, `worst error with clipping ${robust.worst}`)
  const fragile = dayAheadErrors(fitted(values, { huberK: 1e9 }), shape, 4 * day)
  assert.ok(fragile.worst > 4 * robust.worst, `without clipping the spike comes back: ${fragile.worst} vs ${robust.worst}`)
})

const shortCases = [
  { name: '1.5 days of data', days: 1.5, holes: 0, have: 1.5 * 86_400, need: 2 * 86_400, options: {} },
  { name: '2.5 days spanned but a whole day missing', days: 2.5, holes: 1, have: 1.5 * 86_400, need: 2 * 86_400, options: {} },
  { name: 'a custom 3-day minimum', days: 2.5, holes: 0, have: 2.5 * 86_400, need: 3 * 86_400, options: { minHistorySeconds: 3 * 86_400 } },
  { name: 'a minimum below one season still needs a season and a step', days: 0.875, holes: 0, have: 0.875 * 86_400, need: 86_400 + step, options: { minHistorySeconds: 3600 } },
] as const
for (const c of shortCases) {
  test(`too little history: ${c.name} → insufficient-history, no forecast`, () => {
    const values: (number | null)[] = syntheticSeries({ days: c.days, stepSeconds: step, base: 100, amplitude: 50 })
    for (let i = 0; i < c.holes * day; i++) values[day / 2 + i] = null
    const r = fitForecaster({ startSec: t0, stepSeconds: step, values }, c.options)
    assert.deepEqual(r, { status: 'insufficient-history', haveSeconds: c.have, needSeconds: c.need })
  })
}

test('zero traffic at night rules out the multiplicative models', () => {
  const values = syntheticSeries({ days: 3, stepSeconds: step, base: 100, amplitude: 100 }).map((v) => Math.max(0, Math.round(v)))
  assert.ok(values.includes(0))
  const f = fitted(values)
  assert.ok(f.candidates.every((c) => !c.method.includes('multiplicative')), JSON.stringify(f.candidates.map((c) => c.method)))
})

test('candidates are reported best first, and the weekly ones only with a week and a day of data', () => {
  const shape: SyntheticShape = { days: 4, stepSeconds: step, base: 1000, amplitude: 500, noiseRatio: 0.05, seed: 2 }
  const f = fitted(syntheticSeries(shape))
  assert.deepEqual(new Set(f.candidates.map((c) => c.method)), new Set(['hw-daily-additive', 'hw-daily-multiplicative', 'seasonal-naive-daily']))
  const wapes = f.candidates.map((c) => c.wapePercent ?? Infinity)
  assert.deepEqual(wapes, [...wapes].sort((a, b) => a - b))
  assert.equal(f.method, f.candidates[0]?.method)
  assert.ok(ForecastMethods.includes(f.method))
})

test('update consumes one bucket and returns the forecast that had been made for it', () => {
  const shape: SyntheticShape = { days: 3, stepSeconds: step, base: 1000, amplitude: 400, noiseRatio: 0.02, seed: 9 }
  const f = fitted(syntheticSeries(shape))
  const before = f.nextStartSec
  const expected = f.forecast(1).values[0]
  assert.equal(f.update(1234), expected)
  assert.equal(f.nextStartSec, before + step)
})

test('updateAt skips missing buckets and ignores buckets already consumed', () => {
  const shape: SyntheticShape = { days: 3, stepSeconds: step, base: 1000, amplitude: 400, noiseRatio: 0.02, seed: 9 }
  const f = fitted(syntheticSeries(shape))
  const start = f.nextStartSec
  assert.notEqual(f.updateAt(start + 3 * step, 1000), undefined) // buckets start … start+2·step are consumed as missing
  assert.equal(f.nextStartSec, start + 4 * step)
  assert.equal(f.updateAt(start + step, 5000), undefined)
  assert.equal(f.nextStartSec, start + 4 * step)
})

test('the incremental path keeps tracking: after a day of updates the next day is still right', () => {
  const shape: SyntheticShape = { days: 5, stepSeconds: step, base: 1000, amplitude: 500, trendPerDay: 50, noiseRatio: 0.03, seed: 11 }
  const values = syntheticSeries(shape)
  const f = fitted(values.slice(0, 3 * day))
  for (let i = 3 * day; i < 4 * day; i++) f.update(values[i] ?? null)
  assert.ok(dayAheadErrors(f, shape, 4 * day).mean < 0.02)
})

test('prediction interval brackets the point forecast and widens with the horizon', () => {
  const shape: SyntheticShape = { days: 3, stepSeconds: step, base: 1000, amplitude: 400, noiseRatio: 0.05, seed: 4 }
  const fc = fitted(syntheticSeries(shape)).forecast(day)
  for (let i = 0; i < day; i++) assert.ok((fc.lower[i] ?? 0) <= (fc.values[i] ?? 0) && (fc.values[i] ?? 0) <= (fc.upper[i] ?? 0))
  const width = (i: number) => (fc.upper[i] ?? 0) - (fc.lower[i] ?? 0)
  assert.ok(width(day - 1) >= width(0) && width(0) > 0)
})

test('deterministic: the same series gives the same forecaster', () => {
  const shape: SyntheticShape = { days: 3, stepSeconds: step, base: 1000, amplitude: 400, noiseRatio: 0.05, seed: 4 }
  const series: Series = { startSec: t0, stepSeconds: step, values: syntheticSeries(shape) }
  const a = fitForecaster(series)
  const b = fitForecaster(series)
  assert.ok(a.status === 'ok' && b.status === 'ok')
  assert.deepEqual(a.forecaster.forecast(48), b.forecaster.forecast(48))
  assert.deepEqual(a.forecaster.candidates, b.forecaster.candidates)
})

test('a step that does not divide the day is a programmer error', () => {
  assert.throws(() => fitForecaster({ startSec: 0, stepSeconds: 7 * 60, values: [] }), RangeError)
})

test('reuse keeps method and parameters and rebuilds the state from the longer series', () => {
  const shape: SyntheticShape = { days: 5, stepSeconds: step, base: 1000, amplitude: 500, trendPerDay: 50, noiseRatio: 0.03, seed: 11 }
  const values = syntheticSeries(shape)
  const first = fitted(values.slice(0, 3 * day))
  const again = fitted(values.slice(0, 4 * day), { reuse: { method: first.method, params: first.params } })
  assert.equal(again.method, first.method)
  assert.deepEqual(again.params, first.params)
  assert.deepEqual(again.candidates.map((c) => c.method), [first.method])
  assert.equal(again.nextStartSec, t0 + 4 * 86_400)
  assert.ok(dayAheadErrors(again, shape, 4 * day).mean < 0.02)
})
