import { test } from 'node:test'
import assert from 'node:assert/strict'
import { applyCampaigns, expectedUplift, plannedCampaigns, type PlannedCampaign } from '../../src/forecast/campaign-uplift.ts'
import { fitForecaster, type ForecastResult } from '../../src/forecast/fit-forecaster.ts'
import { maskWindows, type Series, type TimeWindow } from '../../src/forecast/series.ts'
import { ScheduleSchema } from '../../src/spec/schema.ts'
import { syntheticSeries } from './synthetic-series.ts'

const step = 300
const day = 288
const t0 = 1_767_225_600 // 2026-01-01T00:00:00Z

/** Noon-to-3-pm window of day d. */
function saleWindow(d: number): TimeWindow {
  return { startSec: t0 + d * 86_400 + 12 * 3600, endSec: t0 + d * 86_400 + 15 * 3600 }
}

/** Six days of daily tide with sales multiplying traffic on the given days. */
function history(sales: readonly { day: number; factor: number }[]): Series {
  const values = syntheticSeries({ days: 6, stepSeconds: step, base: 1000, amplitude: 400, noiseRatio: 0.02, seed: 21 })
  for (const s of sales) {
    const w = saleWindow(s.day)
    for (let i = (w.startSec - t0) / step; i < (w.endSec - t0) / step; i++) values[i] = (values[i] ?? 0) * s.factor
  }
  return { startSec: t0, stepSeconds: step, values }
}

const within = (got: number | undefined, want: number, tolerance: number) => got !== undefined && Math.abs(got - want) <= tolerance * want

test('one past event: its uplift is learned (×3 → about 3)', () => {
  const est = expectedUplift('flash', history([{ day: 3, factor: 3 }]), [saleWindow(3)])
  assert.ok(within(est.uplift, 3, 0.05), `uplift ${est.uplift}`)
  assert.equal(est.basedOn.length, 1)
  const evidence = est.basedOn[0]
  assert.ok(evidence !== undefined)
  assert.equal(evidence.buckets, 36) // 3 hours of 5-minute buckets
  assert.match(evidence.baselineMethod, /^hw-daily|seasonal-naive/)
})

test('two events (×3, ×2.5): the median of two is their mean, 2.75', () => {
  const est = expectedUplift('flash', history([{ day: 3, factor: 3 }, { day: 5, factor: 2.5 }]), [saleWindow(3), saleWindow(5)])
  assert.equal(est.basedOn.length, 2)
  assert.ok(within(est.basedOn[1]?.uplift, 2.5, 0.05), 'the first sale is blanked out of the second one’s baseline')
  assert.ok(within(est.uplift, 2.75, 0.05), `uplift ${est.uplift}`)
})

test('one odd event among three does not decide: ×3, ×10, ×2.5 → median about 3', () => {
  const h = history([{ day: 3, factor: 3 }, { day: 4, factor: 10 }, { day: 5, factor: 2.5 }])
  const est = expectedUplift('flash', h, [saleWindow(3), saleWindow(4), saleWindow(5)])
  assert.equal(est.basedOn.length, 3)
  assert.ok(within(est.uplift, 3, 0.05), `uplift ${est.uplift}`)
})

test('events with too little history before them, or outside the history, are skipped with a reason', () => {
  const h = history([{ day: 1, factor: 3 }])
  const est = expectedUplift('flash', h, [saleWindow(1), saleWindow(9)])
  assert.equal(est.uplift, undefined)
  assert.deepEqual(est.skipped.map((s) => s.reason), ['insufficient-history', 'no-data'])
})

test('the p100 quantile takes the peak bucket ratio', () => {
  const h = history([{ day: 3, factor: 3 }])
  const p90 = expectedUplift('flash', h, [saleWindow(3)]).uplift ?? 0
  const peak = expectedUplift('flash', h, [saleWindow(3)], { quantile: 1 }).uplift ?? 0
  assert.ok(peak >= p90 && peak < 3.3, `${peak} vs ${p90}`)
})

const flat: ForecastResult = { startSec: 0, stepSeconds: 300, values: [10, 10, 10, 10, 10, 10], lower: [8, 8, 8, 8, 8, 8], upper: [12, 12, 12, 12, 12, 12] }
const campaign = (c: Partial<PlannedCampaign>): PlannedCampaign => ({ name: 'sale', startSec: 900, endSec: 1200, uplift: 2, leadSeconds: 300, upliftSource: 'declared', ...c })

test('applyCampaigns raises the buckets of the window and its lead', () => {
  // window [900, 1200) with a 300 s lead covers [600, 1200): buckets 2 and 3.
  const r = applyCampaigns(flat, [campaign({})])
  assert.deepEqual(r.values, [10, 10, 20, 20, 10, 10])
  assert.deepEqual(r.upper, [12, 12, 24, 24, 12, 12])
  assert.deepEqual(r.applied, [{ name: 'sale', uplift: 2, fromIndex: 2, toIndex: 4 }])
})

test('overlapping campaigns: the larger uplift wins per bucket', () => {
  // second: [1050, 1500), no lead, ×3 → buckets 3 ([900,1200) overlaps) and 4.
  const r = applyCampaigns(flat, [campaign({}), campaign({ name: 'other', startSec: 1050, endSec: 1500, leadSeconds: 0, uplift: 3 })])
  assert.deepEqual(r.values, [10, 10, 20, 30, 30, 10])
})

test('campaigns outside the forecast leave it unchanged', () => {
  const r = applyCampaigns(flat, [campaign({ startSec: 5000, endSec: 6000 }), campaign({ startSec: -900, endSec: -300, leadSeconds: 0 })])
  assert.deepEqual(r.values, flat.values)
  assert.deepEqual(r.applied, [])
})

test('plannedCampaigns: declared uplift first, then learned, else listed without uplift', () => {
  const schedules = [
    { name: 'double-11', start: '2026-11-11T12:00:00+08:00', end: '2026-11-11T15:00:00+08:00', replicas: { min: 30 }, campaign: { uplift: 3, leadMinutes: 15 } },
    { name: 'flash', start: '2026-11-12T20:00:00Z', end: '2026-11-12T21:00:00Z', replicas: { min: 5 }, campaign: {} },
    { name: 'mystery', start: '2026-11-13T20:00:00Z', end: '2026-11-13T21:00:00Z', replicas: { min: 5 }, campaign: {} },
    { name: 'over', start: '2026-01-01T20:00:00Z', end: '2026-01-01T21:00:00Z', replicas: { min: 5 }, campaign: { uplift: 2 } },
    { name: 'evening', cron: '0 19 * * 1-5', durationMinutes: 180, replicas: { min: 6 } },
  ].map((s) => ScheduleSchema.parse(s))
  const now = Date.parse('2026-11-01T00:00:00Z') / 1000
  const plan = plannedCampaigns(schedules, now, new Map([['flash', 2.2]]))
  assert.deepEqual(plan.withoutUplift, ['mystery'])
  assert.deepEqual(plan.campaigns, [
    { name: 'double-11', startSec: Date.parse('2026-11-11T04:00:00Z') / 1000, endSec: Date.parse('2026-11-11T07:00:00Z') / 1000, leadSeconds: 900, uplift: 3, upliftSource: 'declared' },
    { name: 'flash', startSec: Date.parse('2026-11-12T20:00:00Z') / 1000, endSec: Date.parse('2026-11-12T21:00:00Z') / 1000, leadSeconds: 600, uplift: 2.2, upliftSource: 'learned' },
  ])
})

test('end to end: learned uplift laid over the baseline forecasts the next sale within 10 %', () => {
  // Sales on days 3 and 4 (×3); history ends at midnight before day 5, whose sale is planned.
  const full = history([{ day: 3, factor: 3 }, { day: 4, factor: 3 }, { day: 5, factor: 3 }])
  const past = { ...full, values: full.values.slice(0, 5 * day) }
  const est = expectedUplift('flash', past, [saleWindow(3), saleWindow(4)])
  const fit = fitForecaster(maskWindows(past, [saleWindow(3), saleWindow(4)]))
  assert.ok(fit.status === 'ok' && est.uplift !== undefined)
  const next = saleWindow(5)
  const plan: PlannedCampaign = { name: 'flash', ...next, uplift: est.uplift, leadSeconds: 600, upliftSource: 'learned' }
  const fc = applyCampaigns(fit.forecaster.forecast(day), [plan])
  for (let i = (next.startSec - fc.startSec) / step; i < (next.endSec - fc.startSec) / step; i++) {
    const actual = full.values[5 * day + i] ?? 0
    assert.ok(Math.abs((fc.values[i] ?? 0) - actual) < 0.1 * actual, `bucket ${i}: ${fc.values[i]} vs ${actual}`)
  }
})

test('maskAlso keeps another event out of the baseline', () => {
  // A ×4 promotion on day 2 at the same hours as the flash sale on day 3. Seen as an ordinary day,
  // it teaches the baseline a bump at noon, and the flash sale's uplift comes out lower.
  const h = history([{ day: 2, factor: 4 }, { day: 3, factor: 3 }])
  const unmasked = expectedUplift('flash', h, [saleWindow(3)]).uplift ?? 0
  const masked = expectedUplift('flash', h, [saleWindow(3)], { maskAlso: [saleWindow(2)] }).uplift ?? 0
  assert.ok(within(masked, 3, 0.05), `masked ${masked}`)
  assert.ok(unmasked < masked, `unmasked ${unmasked} vs masked ${masked}`)
})
