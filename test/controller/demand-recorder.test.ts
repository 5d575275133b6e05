import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DemandRecorder, pastCampaignWindows } from '../../src/controller/demand-recorder.ts'
import { campaignWindows } from '../../src/forecast/campaign-uplift.ts'
import { GroupSchema, type GroupSpec } from '../../src/spec/schema.ts'
import { syntheticValue, type SyntheticShape } from '../forecast/synthetic-series.ts'

const DAY = 86_400
// A clean daily wave at 5-minute steps: 1000 ± 500 req/s, trough at midnight UTC, peak at noon.
const shape: SyntheticShape = { days: 4, stepSeconds: 300, base: 1000, amplitude: 500 }
const demand = (sec: number): number => syntheticValue(shape, sec / 300)

function group(extra: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({ group: 'web', provider: 'sim', metrics: [{ type: 'rps', target: { averageValue: 100 } }], predictive: { mode: 'forecastAndScale' }, ...extra })
}

/** Feeds the recorder one sample every `everySec` seconds over [fromSec, toSec). */
function feed(r: DemandRecorder, spec: GroupSpec, fromSec: number, toSec: number, value: (sec: number) => number | undefined, everySec = 15): void {
  for (let t = fromSec; t < toSec; t += everySec) r.observe(spec, t * 1000, value(t))
}

test('too little history: insufficient-history with what it has and needs, and no values', () => {
  const spec = group()
  const r = new DemandRecorder()
  feed(r, spec, 0, 6 * 3600, demand)
  const f = r.forecast(spec, 6 * 3600 * 1000, 60_000)
  assert.equal(f.status, 'insufficient-history')
  assert.deepEqual(f.values, [])
  // 6 h of samples close 71 full 5-minute buckets (the 72nd is still open): 71 × 300 s.
  assert.equal(f.historyMs, 71 * 300 * 1000)
  assert.equal(f.neededHistoryMs, 2 * DAY * 1000)
})

test('with three days of a daily wave the forecast an hour ahead follows the wave within 3 %', () => {
  const spec = group()
  const r = new DemandRecorder()
  feed(r, spec, 0, 3 * DAY, demand, 60)
  const nowMs = 3 * DAY * 1000
  const f = r.forecast(spec, nowMs, 3600_000)
  assert.equal(f.status, 'ok')
  assert.equal(f.stepMs, 300_000)
  assert.ok(f.method !== undefined)
  assert.ok(f.values.length >= 12, `${f.values.length} buckets cover the hour`)
  for (let i = 0; i < 12; i++) {
    const mid = f.fromMs / 1000 + i * 300 + 150
    const want = demand(mid)
    const got = f.values[i] ?? Number.NaN
    assert.ok(Math.abs(got - want) < 0.03 * want, `bucket ${i}: ${got} vs ${want}`)
  }
  assert.equal(f.accuracySource, 'backtest', 'nothing has been scored live yet')
})

test('preloaded history counts as history: the first forecast needs no waiting', () => {
  const spec = group()
  const r = new DemandRecorder()
  const values = Array.from({ length: 3 * 288 }, (_, i) => demand(i * 300 + 150))
  r.preload({ startSec: -3 * DAY, stepSeconds: 300, values })
  r.observe(spec, 0, demand(0))
  const f = r.forecast(spec, 0, 600_000)
  assert.equal(f.status, 'ok')
  assert.equal(r.stats().fullFits, 1)
})

test('live accuracy replaces the backtest once enough buckets are scored, and reflects a forecast gone wrong', () => {
  const spec = group()
  const r = new DemandRecorder({ minLiveScores: 6 })
  feed(r, spec, 0, 3 * DAY, demand, 60)
  // From now on demand is twice what the wave says: every scored forecast is 50 % low.
  let t = 3 * DAY
  for (let k = 0; k < 12 * 60; k++, t += 15) {
    r.observe(spec, t * 1000, 2 * demand(t))
    if (k % 4 === 0) r.forecast(spec, t * 1000, 60_000, t * 1000 + 30_000)
  }
  const f = r.forecast(spec, t * 1000, 60_000)
  assert.equal(f.accuracySource, 'live')
  // |f − a| / a with a = 2f for a perfect wave forecast is 50 %; the forecaster learns the new
  // level as it goes, so the error falls below that, but stays far above the 3 % of a good day.
  assert.ok((f.accuracyWapePercent ?? 0) > 10, `WAPE ${f.accuracyWapePercent}`)
  assert.ok((r.stats().liveScored) >= 6)
})

test('refits follow the cadence: a full fit, then a refit a day later that keeps the method', () => {
  const spec = group()
  const r = new DemandRecorder({ refitEveryMs: DAY * 1000, fullFitEveryMs: 7 * DAY * 1000 })
  feed(r, spec, 0, 3 * DAY, demand, 60)
  r.forecast(spec, 3 * DAY * 1000, 60_000)
  const method = r.stats().method
  feed(r, spec, 3 * DAY, 4 * DAY + 60, demand, 60)
  r.forecast(spec, (4 * DAY + 60) * 1000, 60_000)
  assert.deepEqual({ full: r.stats().fullFits, refits: r.stats().refits, method: r.stats().method }, { full: 1, refits: 1, method })
})

test('a past campaign is blanked from the baseline and its uplift is learned (×3 sale on day 3)', () => {
  const sale = { startSec: 3 * DAY + 12 * 3600, endSec: 3 * DAY + 14 * 3600 }
  const iso = (sec: number) => new Date(sec * 1000).toISOString()
  const spec = group({ schedules: [{ name: 'flash', start: iso(sale.startSec), end: iso(sale.endSec), campaign: { leadMinutes: 10 } }] })
  const r = new DemandRecorder()
  const withSale = (sec: number) => demand(sec) * (sec >= sale.startSec && sec < sale.endSec ? 3 : 1)
  feed(r, spec, 0, 4 * DAY, withSale, 60)
  const f = r.forecast(spec, 4 * DAY * 1000, 3600_000)
  const uplift = f.learnedUplifts?.flash ?? 0
  assert.ok(Math.abs(uplift - 3) < 0.15, `learned uplift ${uplift}`)
  // Day 4 noon, forecast from the masked history, is the plain wave's peak, not three times it.
  const noon = r.forecast(spec, 4 * DAY * 1000, 13 * 3600_000)
  const i = Math.floor((4 * DAY + 12 * 3600 - noon.fromMs / 1000) / 300)
  const want = demand(4 * DAY + 12 * 3600 + 150)
  assert.ok(Math.abs((noon.values[i] ?? 0) - want) < 0.05 * want, `noon ${noon.values[i]} vs ${want}`)
})

test('the baseline before a campaign is the last bucket outside its lead and window', () => {
  const startSec = 2 * 3600
  const iso = (sec: number) => new Date(sec * 1000).toISOString()
  const spec = group({ schedules: [{ name: 'sale', start: iso(startSec), end: iso(startSec + 1800), campaign: { leadMinutes: 10, uplift: 10 } }] })
  const r = new DemandRecorder()
  // 400 req/s until the lead begins at 1:50, then the campaign's traffic (4000).
  feed(r, spec, 0, startSec + 900, (t) => (t < startSec - 600 ? 400 : 4000))
  assert.equal(r.forecast(spec, (startSec + 900) * 1000, 60_000).baselineRps, 400)
})

test('a gap in the demand (no reading) becomes a missing bucket, not a zero', () => {
  const spec = group()
  const r = new DemandRecorder()
  feed(r, spec, 0, 900, () => 100)
  feed(r, spec, 900, 1800, () => undefined)
  feed(r, spec, 1800, 2400, () => 100)
  const h = r.history()
  assert.deepEqual(h.values, [100, 100, 100, null, null, null, 100])
})

test('campaign windows: one-off campaigns only, past ones by name', () => {
  const schedules = group({
    schedules: [
      { name: 'd11', start: '2025-11-11T12:00:00Z', end: '2025-11-11T14:00:00Z', campaign: { uplift: 5 } },
      { name: 'd11', start: '2026-11-11T12:00:00Z', end: '2026-11-11T14:00:00Z', campaign: { uplift: 5 } },
      { name: 'evening', cron: '0 19 * * *', durationMinutes: 60, replicas: { min: 3 } },
    ],
  }).schedules
  assert.equal(campaignWindows(schedules).length, 2)
  const past = pastCampaignWindows(schedules, Date.parse('2026-01-01T00:00:00Z') / 1000)
  assert.equal(past.all.length, 1)
  assert.deepEqual(past.byName.get('d11')?.map((w) => ({ startSec: w.startSec, endSec: w.endSec })), [{ startSec: Date.parse('2025-11-11T12:00:00Z') / 1000, endSec: Date.parse('2025-11-11T14:00:00Z') / 1000 }])
})
