import { test } from 'node:test'
import assert from 'node:assert/strict'
import { forecastHorizon, predictivePolicy, schedulingBufferMs } from '../../../src/engine/policies/predictive.ts'
import type { DemandForecast, InstanceView, Recommendation } from '../../../src/engine/types.ts'
import type { GroupInput, Size } from '../../../src/spec/schema.ts'
import { decideInput, groupSpec, instances, sameSample, signals } from '../fixtures.ts'
import { policyInput } from '../../../src/engine/policies/policy.ts'

type Metrics = NonNullable<GroupInput['metrics']>
type Schedules = NonNullable<GroupInput['schedules']>

const at = (iso: string): number => Date.parse(iso)
const minute = 60_000
const hour = 60 * minute
const t0 = at('2026-11-27T08:00:00Z')

const rps100: Metrics = [{ type: 'rps', target: { averageValue: 100 } }]
const cpu60: Metrics = [{ type: 'cpu', target: { averageUtilization: 60 } }]

/** An `ok` forecast of one value per minute from `fromMs`. */
function forecast(values: readonly number[], extra: Partial<DemandForecast> = {}, fromMs = t0): DemandForecast {
  return { status: 'ok', method: 'hw-daily-additive', stepMs: minute, fromMs, values, ...extra }
}

/** Flat demand for `minutes` minutes from `fromMs`. */
const flat = (value: number, minutes: number, fromMs = t0): DemandForecast => forecast(Array.from({ length: minutes }, () => value), {}, fromMs)

// Forecast per minute from 08:00: 300, 500, 900, 2000, then 100.
const rising = forecast([300, 500, 900, 2000, 100, 100])

// Black Friday 09:00–12:00 UTC; capacity from 10 minutes before the start (08:50).
const blackFriday = (campaign: { uplift?: number; leadMinutes?: number }): Schedules[number] => ({
  name: 'black-friday',
  start: '2026-11-27T09:00:00Z',
  end: '2026-11-27T12:00:00Z',
  replicas: { min: 0 },
  campaign,
})

interface Args {
  predictive?: GroupInput['predictive']
  metrics?: Metrics
  schedules?: Schedules
  forecast?: DemandForecast
  startupMs?: number
  startupSeconds?: number
  nowMs?: number
  groupRps?: number
  list?: readonly InstanceView[]
  cpuRatio?: number
  size?: Size
}

function propose(a: Args): Recommendation | undefined {
  const spec = groupSpec({
    metrics: a.metrics ?? rps100,
    replicas: { min: 0, max: 100 },
    predictive: a.predictive ?? { mode: 'forecastAndScale' },
    schedules: a.schedules ?? [],
    ...(a.startupSeconds === undefined ? {} : { startupSeconds: a.startupSeconds }),
  })
  const list = a.list ?? instances(4)
  const d = decideInput({
    spec,
    instances: list,
    signals: signals(a.cpuRatio === undefined ? {} : sameSample(list, { cpuRatio: a.cpuRatio }), a.groupRps === undefined ? {} : { rps: a.groupRps }),
    nowMs: a.nowMs ?? t0,
  })
  return predictivePolicy.propose(
    policyInput({
      ...d,
      state: { ...d.state, size: a.size ?? spec.size },
      ...(a.forecast === undefined ? {} : { forecast: a.forecast }),
      ...(a.startupMs === undefined ? {} : { startupMs: a.startupMs }),
    }),
  )
}

/** propose() for a case that must say something. */
function rec(a: Args): Recommendation {
  const r = propose(a)
  assert.ok(r, 'no recommendation')
  return r
}

test('mode off: says nothing, even with a forecast', () => {
  assert.equal(propose({ predictive: { mode: 'off' }, forecast: rising }), undefined)
})

test('forecastOnly: the same count, marked advisory and scaleOutOnly', () => {
  const scale = rec({ forecast: rising })
  const only = rec({ predictive: { mode: 'forecastOnly' }, forecast: rising })
  assert.equal(only.advisory, true)
  assert.equal(only.scaleOutOnly, true)
  assert.equal(only.policy, 'predictive')
  assert.equal(only.replicas, scale.replicas)
  assert.equal(only.detail, scale.detail)
})

test('forecastAndScale: acted on (not advisory), but only as a floor (scaleOutOnly)', () => {
  const r = rec({ forecast: rising })
  assert.equal(r.advisory, undefined)
  assert.equal(r.scaleOutOnly, true)
  assert.equal(r.reason, 'ForecastAhead')
})

// The scheduling buffer: spec defaults startupSeconds 30, syncPeriodSeconds 15.
const bufferCases = [
  { name: 'auto without a measured start-up: spec.startupSeconds (30 s)', args: {}, want: 30_000 },
  { name: 'auto with a measured start-up: input.startupMs (120 s)', args: { startupMs: 120_000 }, want: 120_000 },
  { name: 'auto with startupSeconds 200 and no measurement', args: { startupSeconds: 200 }, want: 200_000 },
  { name: 'explicit 60 s wins over a measured 120 s', args: { schedulingBufferSeconds: 60, startupMs: 120_000 }, want: 60_000 },
  { name: 'explicit 0 s', args: { schedulingBufferSeconds: 0 }, want: 0 },
] as const
for (const c of bufferCases) {
  test(`scheduling buffer: ${c.name}`, () => {
    const a = c.args as { schedulingBufferSeconds?: number; startupMs?: number; startupSeconds?: number }
    const spec = groupSpec({
      predictive: { mode: 'forecastAndScale', ...(a.schedulingBufferSeconds === undefined ? {} : { schedulingBufferSeconds: a.schedulingBufferSeconds }) },
      ...(a.startupSeconds === undefined ? {} : { startupSeconds: a.startupSeconds }),
    })
    assert.equal(schedulingBufferMs({ spec, ...(a.startupMs === undefined ? {} : { startupMs: a.startupMs }) }), c.want)
  })
}

// Look-ahead window = [now, now + buffer + 15 s sync). Buckets (per minute from 08:00): 300, 500, 900, 2000.
// Count = ceil(peak × 1.1 / 100 req/s per instance).
const windowCases: { name: string; args: Args; want: number; within: number; peak: number }[] = [
  // 30 + 15 = 45 s: bucket 0 only → 300 × 1.1 = 330 → ceil(3.3) = 4.
  { name: 'auto, 30 s start-up: 45 s ahead sees only the first minute', args: {}, want: 4, within: 45, peak: 300 },
  // 120 + 15 = 135 s: buckets 0–2 ([120 s, 180 s) overlaps) → 900 × 1.1 = 990 → ceil(9.9) = 10.
  { name: 'auto, measured 120 s start-up: 135 s ahead sees the third minute', args: { startupMs: 120_000 }, want: 10, within: 135, peak: 900 },
  // 200 + 15 = 215 s: buckets 0–3 → 2000 × 1.1 = 2200 → 22.
  { name: 'auto, startupSeconds 200: 215 s ahead sees the fourth minute', args: { startupSeconds: 200 }, want: 22, within: 215, peak: 2000 },
  // 60 + 15 = 75 s: buckets 0–1 → 500 × 1.1 = 550 → ceil(5.5) = 6; the measured 120 s is ignored.
  { name: 'explicit 60 s: 75 s ahead, measured start-up ignored', args: { predictive: { mode: 'forecastAndScale', schedulingBufferSeconds: 60 }, startupMs: 120_000 }, want: 6, within: 75, peak: 500 },
  // 45 + 15 = 60 s: the window [0, 60 s) ends where bucket 1 starts, so bucket 0 only → 4.
  { name: 'a window ending exactly at a bucket edge excludes the next bucket', args: { predictive: { mode: 'forecastAndScale', schedulingBufferSeconds: 45 } }, want: 4, within: 60, peak: 300 },
  // 46 + 15 = 61 s: reaches 1 s into bucket 1 → 500 → 6.
  { name: 'one second more reaches into the next bucket', args: { predictive: { mode: 'forecastAndScale', schedulingBufferSeconds: 46 } }, want: 6, within: 61, peak: 500 },
  // Now 08:02:30, 45 s ahead: [150 s, 195 s) covers the rest of bucket 2 (900) and 15 s of bucket 3 (2000) → 22.
  { name: 'mid-bucket now: the window clips buckets on both sides', args: { nowMs: t0 + 150_000 }, want: 22, within: 45, peak: 2000 },
  // Now 08:03:00, 45 s ahead: bucket 3 only; the earlier 900 is in the past → 2000 → 22.
  { name: 'buckets before now are not looked at', args: { nowMs: t0 + 180_000, startupMs: 0 }, want: 22, within: 15, peak: 2000 },
  // Now 08:04, 0 + 15 s: bucket 4 = 100 → 110 → ceil(1.1) = 2 (a floor below the current 4; combine keeps 4).
  { name: 'a falling forecast recommends fewer (as a floor)', args: { nowMs: t0 + 4 * minute, startupMs: 0 }, want: 2, within: 15, peak: 100 },
]
for (const c of windowCases) {
  test(`look-ahead: ${c.name}`, () => {
    const r = rec({ forecast: rising, ...c.args })
    assert.equal(r.replicas, c.want)
    assert.equal(r.reason, 'ForecastAhead')
    assert.match(r.detail, new RegExp(`^predictive: ${c.peak} req/s expected within ${c.within} s \\(hw-daily-additive\\) \\+10% at 100 req/s per instance \\(rps target\\) → ${c.want}$`))
  })
}

// Demand → instances: ceil(peak × (1 + bufferPercent/100) / per-instance load).
const demandCases: { name: string; args: Args; fc: DemandForecast; want: number; perInstance: string }[] = [
  // 300 × 1.0 / 100 = 3 exactly → 3, not 4.
  { name: 'bufferPercent 0: an exact multiple is not rounded up', args: { predictive: { mode: 'forecastAndScale', bufferPercent: 0 } }, fc: flat(300, 10), want: 3, perInstance: '100 req/s per instance (rps target)' },
  // 100 × 1.1 = 110.00000000000001 / 110 = 1.0000000000000002: the 1e-9 keeps it at 1.
  {
    name: 'float noise on an exact multiple does not add an instance',
    args: { metrics: [{ type: 'rps', target: { averageValue: 110 } }] },
    fc: flat(100, 10),
    want: 1,
    perInstance: '110 req/s per instance (rps target)',
  },
  // 300 × 1.5 = 450 / 100 = 4.5 → 5.
  { name: 'bufferPercent 50', args: { predictive: { mode: 'forecastAndScale', bufferPercent: 50 } }, fc: flat(300, 10), want: 5, perInstance: '100 req/s per instance (rps target)' },
  // Current size 2 cpu, base size 1 cpu: 100 × 2/1 = 200 req/s per instance; 330 / 200 = 1.65 → 2.
  { name: 'a bigger current size carries more per instance (rps target × cpu ratio)', args: { size: { cpu: 2, memoryMiB: 1024 } }, fc: flat(300, 10), want: 2, perInstance: '200 req/s per instance (rps target)' },
  // Current size 0.5 cpu: 50 req/s per instance; 330 / 50 = 6.6 → 7.
  { name: 'a smaller current size carries less', args: { size: { cpu: 0.5, memoryMiB: 256 } }, fc: flat(300, 10), want: 7, perInstance: '50 req/s per instance (rps target)' },
  // No rps target: cpu 90 % of 4 vs 60 % → target tracking wants ceil(4 × 1.5) = 6; 400 req/s ÷ 6 = 66.67 per instance;
  // 330 / 66.67 = 4.95 → 5.
  {
    name: 'without an rps target: current rps ÷ the target-tracking count',
    args: { metrics: cpu60, cpuRatio: 0.9, groupRps: 400 },
    fc: flat(300, 10),
    want: 5,
    perInstance: '66.7 req/s per instance (current rps ÷ target tracking)',
  },
  // A negative forecast value counts as 0 demand → 0 (still only a floor).
  { name: 'a negative forecast counts as no demand', args: {}, fc: flat(-50, 10), want: 0, perInstance: '100 req/s per instance (rps target)' },
]
for (const c of demandCases) {
  test(`demand: ${c.name}`, () => {
    const r = rec({ forecast: c.fc, ...c.args })
    assert.equal(r.replicas, c.want)
    assert.ok(r.detail.includes(`at ${c.perInstance} → ${c.want}`), r.detail)
  })
}

test('the detail names the method and the forecast error when known', () => {
  const r = rec({ forecast: forecast([300], { accuracyWapePercent: 12.34, accuracySource: 'live' }) })
  // 300 × 1.1 / 100 = 3.3 → 4; WAPE 12.34 rounds to 12.3.
  assert.equal(r.detail, 'predictive: 300 req/s expected within 45 s (hw-daily-additive, WAPE 12.3%) +10% at 100 req/s per instance (rps target) → 4')
})

// Back-off: a recommendation without a count whose detail says why.
const backOffCases: { name: string; args: Args; reason: string; detail: string }[] = [
  {
    name: 'InsufficientHistory, with the hours held and needed',
    args: { forecast: { status: 'insufficient-history', stepMs: minute, fromMs: t0, values: [], historyMs: 12.5 * hour, neededHistoryMs: 48 * hour } },
    reason: 'InsufficientHistory',
    detail: 'predictive: forecast needs more history (12.5 h of 48 h)',
  },
  {
    name: 'ForecastInaccurate: live WAPE 45.25% > 30%',
    args: { forecast: forecast([300], { accuracyWapePercent: 45.25, accuracySource: 'live' }) },
    reason: 'ForecastInaccurate',
    detail: 'predictive: forecast error 45.3% (live WAPE) > 30%: backing off',
  },
  {
    name: 'ForecastInaccurate against a configured maxErrorPercent 10, source defaults to backtest',
    args: { predictive: { mode: 'forecastAndScale', maxErrorPercent: 10 }, forecast: forecast([300], { accuracyWapePercent: 10.5 }) },
    reason: 'ForecastInaccurate',
    detail: 'predictive: forecast error 10.5% (backtest WAPE) > 10%: backing off',
  },
  {
    // 5 minutes from 07:50 end at 07:55, 300 s before now.
    name: 'ForecastStale: the forecast ended 300 s before now',
    args: { forecast: flat(300, 5, t0 - 10 * minute) },
    reason: 'ForecastStale',
    detail: 'predictive: the forecast does not reach the 45 s look-ahead window (it ended 300 s ago)',
  },
  {
    name: 'ForecastStale: the forecast starts after the window',
    args: { forecast: flat(300, 5, t0 + 10 * minute) },
    reason: 'ForecastStale',
    detail: 'predictive: the forecast does not reach the 45 s look-ahead window (it has no value there)',
  },
  { name: 'NoForecast', args: {}, reason: 'NoForecast', detail: 'predictive: no demand forecast is kept for this group' },
  {
    name: 'NoTargetLoad: no rps target and no group rps',
    args: { metrics: cpu60, cpuRatio: 0.9, forecast: flat(300, 10) },
    reason: 'NoTargetLoad',
    detail: 'predictive: no rps target or target-tracking count to turn demand into instances',
  },
  {
    name: 'NoTargetLoad: no metrics at all, though the group has rps',
    args: { metrics: [], groupRps: 400, forecast: flat(300, 10) },
    reason: 'NoTargetLoad',
    detail: 'predictive: no rps target or target-tracking count to turn demand into instances',
  },
]
for (const c of backOffCases) {
  test(`back-off: ${c.name}`, () => {
    const r = rec(c.args)
    assert.equal(r.reason, c.reason)
    assert.equal(r.replicas, undefined)
    assert.equal(r.detail, c.detail)
    assert.equal(r.scaleOutOnly, true)
  })
}

test('back-off: WAPE exactly at maxErrorPercent still acts (the limit is exclusive)', () => {
  const r = rec({ forecast: forecast([300], { accuracyWapePercent: 30 }) })
  assert.equal(r.reason, 'ForecastAhead')
  assert.equal(r.replicas, 4)
})

// Campaigns over a flat 300 req/s forecast from 08:00, 5 hours long (past the campaign end); 45 s look-ahead.
// Without uplift: 300 × 1.1 / 100 → 4. With ×3: 900 × 1.1 = 990 → 10. With ×2.5: 750 × 1.1 = 825 → 9.
const day = flat(300, 300)
const campaignCases: { name: string; nowMs: number; schedules: Schedules; learned?: Record<string, number>; want: number; campaign?: string }[] = [
  { name: 'declared ×3: long before the lead (08:00) no uplift', nowMs: t0, schedules: [blackFriday({ uplift: 3 })], want: 4 },
  // 08:49:15 + 45 s = 08:50:00: the lead starts where the window ends (exclusive) → no uplift.
  { name: 'declared ×3: the window ends exactly at start − lead', nowMs: at('2026-11-27T08:49:15Z'), schedules: [blackFriday({ uplift: 3 })], want: 4 },
  // 08:49:30 + 45 s = 08:50:15 reaches 15 s into the lead → 900 → 10.
  { name: 'declared ×3: the window reaches start − lead (08:50)', nowMs: at('2026-11-27T08:49:30Z'), schedules: [blackFriday({ uplift: 3 })], want: 10, campaign: 'campaign black-friday ×3 (declared)' },
  { name: 'declared ×3: during the campaign', nowMs: at('2026-11-27T10:00:00Z'), schedules: [blackFriday({ uplift: 3 })], want: 10, campaign: 'campaign black-friday ×3 (declared)' },
  // 11:59:50 + 45 s: the first 10 s are still inside the campaign → 900 → 10.
  { name: 'declared ×3: the last seconds of the campaign', nowMs: at('2026-11-27T11:59:50Z'), schedules: [blackFriday({ uplift: 3 })], want: 10, campaign: 'campaign black-friday ×3 (declared)' },
  { name: 'declared ×3: after the end', nowMs: at('2026-11-27T12:00:00Z'), schedules: [blackFriday({ uplift: 3 })], want: 4 },
  // leadMinutes 30: from 08:30; 08:29:30 + 45 s reaches it.
  { name: 'declared ×3 with leadMinutes 30', nowMs: at('2026-11-27T08:29:30Z'), schedules: [blackFriday({ uplift: 3, leadMinutes: 30 })], want: 10, campaign: 'campaign black-friday ×3 (declared)' },
  { name: 'learned ×2.5 (forecast.learnedUplifts) when none is declared', nowMs: at('2026-11-27T09:30:00Z'), schedules: [blackFriday({})], learned: { 'black-friday': 2.5 }, want: 9, campaign: 'campaign black-friday ×2.5 (learned)' },
  { name: 'a declared uplift wins over a learned one', nowMs: at('2026-11-27T09:30:00Z'), schedules: [blackFriday({ uplift: 3 })], learned: { 'black-friday': 2.5 }, want: 10, campaign: 'campaign black-friday ×3 (declared)' },
  { name: 'neither declared nor learned: no uplift', nowMs: at('2026-11-27T09:30:00Z'), schedules: [blackFriday({})], learned: { 'other-sale': 2.5 }, want: 4 },
  {
    name: 'overlapping campaigns: the largest uplift wins (×3 over ×2)',
    nowMs: at('2026-11-27T09:30:00Z'),
    schedules: [{ ...blackFriday({ uplift: 2 }), name: 'small-sale' }, blackFriday({ uplift: 3 })],
    want: 10,
    campaign: 'campaign black-friday ×3 (declared)',
  },
  {
    name: 'a schedule without campaign is no campaign',
    nowMs: at('2026-11-27T09:30:00Z'),
    schedules: [{ name: 'black-friday', start: '2026-11-27T09:00:00Z', end: '2026-11-27T12:00:00Z', replicas: { min: 0 } }],
    learned: { 'black-friday': 2.5 },
    want: 4,
  },
]
for (const c of campaignCases) {
  test(`campaign with a forecast: ${c.name}`, () => {
    const fc = c.learned === undefined ? day : { ...day, learnedUplifts: c.learned }
    const r = rec({ forecast: fc, schedules: c.schedules, nowMs: c.nowMs })
    assert.equal(r.replicas, c.want)
    assert.equal(r.reason, 'ForecastAhead')
    if (c.campaign === undefined) assert.doesNotMatch(r.detail, /campaign/)
    else assert.ok(r.detail.includes(`(hw-daily-additive, ${c.campaign})`), r.detail)
  })
}

// Without a usable forecast: current demand × uplift, only until the campaign starts.
// 250 req/s now × 3 = 750 × 1.1 = 825 / 100 → 9.
const preWarmCases: { name: string; nowMs: number; fc?: DemandForecast; groupRps?: number; want?: number; reason: string; detail: string }[] = [
  {
    name: 'no forecast, within the lead: current × uplift',
    nowMs: at('2026-11-27T08:55:00Z'),
    groupRps: 250,
    want: 9,
    reason: 'CampaignAhead',
    detail: 'predictive: 750 req/s expected within 45 s (current demand; no demand forecast is kept for this group, campaign black-friday ×3 (declared)) +10% at 100 req/s per instance (rps target) → 9',
  },
  {
    name: 'no forecast, 45 s before the lead: the window reaches it',
    nowMs: at('2026-11-27T08:49:30Z'),
    groupRps: 250,
    want: 9,
    reason: 'CampaignAhead',
    detail: 'predictive: 750 req/s expected within 45 s (current demand; no demand forecast is kept for this group, campaign black-friday ×3 (declared)) +10% at 100 req/s per instance (rps target) → 9',
  },
  {
    name: 'insufficient history: pre-warms, and says why there is no forecast',
    nowMs: at('2026-11-27T08:55:00Z'),
    fc: { status: 'insufficient-history', stepMs: minute, fromMs: t0, values: [], historyMs: 6 * hour, neededHistoryMs: 48 * hour },
    groupRps: 250,
    want: 9,
    reason: 'CampaignAhead',
    detail: 'predictive: 750 req/s expected within 45 s (current demand; forecast needs more history (6 h of 48 h), campaign black-friday ×3 (declared)) +10% at 100 req/s per instance (rps target) → 9',
  },
  {
    name: 'inaccurate forecast: pre-warms from current demand, not from the forecast',
    nowMs: at('2026-11-27T08:55:00Z'),
    fc: { ...day, accuracyWapePercent: 80, accuracySource: 'live' },
    groupRps: 250,
    want: 9,
    reason: 'CampaignAhead',
    detail: 'predictive: 750 req/s expected within 45 s (current demand; forecast error 80% (live WAPE) > 30%: backing off, campaign black-friday ×3 (declared)) +10% at 100 req/s per instance (rps target) → 9',
  },
  {
    // The module comment: "Without a usable forecast a campaign still pre-warms". A stale one is not usable.
    name: 'stale forecast: pre-warms from current demand',
    nowMs: at('2026-11-27T08:55:00Z'),
    fc: flat(300, 5),
    groupRps: 250,
    want: 9,
    reason: 'CampaignAhead',
    // The forecast 08:00–08:05 ended 50 minutes = 3000 s before 08:55.
    detail: 'predictive: 750 req/s expected within 45 s (current demand; the forecast does not reach the 45 s look-ahead window (it ended 3000 s ago), campaign black-friday ×3 (declared)) +10% at 100 req/s per instance (rps target) → 9',
  },
  {
    name: 'no forecast, once the campaign has started: back off (the reactive policies follow the demand)',
    nowMs: at('2026-11-27T09:00:00Z'),
    groupRps: 750,
    reason: 'NoForecast',
    detail: 'predictive: no demand forecast is kept for this group',
  },
  {
    name: 'no forecast, before the lead window: back off',
    nowMs: at('2026-11-27T08:40:00Z'),
    groupRps: 250,
    reason: 'NoForecast',
    detail: 'predictive: no demand forecast is kept for this group',
  },
  {
    name: 'no forecast and no current demand: back off',
    nowMs: at('2026-11-27T08:55:00Z'),
    reason: 'NoForecast',
    detail: 'predictive: no demand forecast is kept for this group',
  },
]
for (const c of preWarmCases) {
  test(`campaign without a forecast: ${c.name}`, () => {
    const r = rec({ schedules: [blackFriday({ uplift: 3 })], nowMs: c.nowMs, ...(c.fc === undefined ? {} : { forecast: c.fc }), ...(c.groupRps === undefined ? {} : { groupRps: c.groupRps }) })
    assert.equal(r.reason, c.reason)
    assert.equal(r.replicas, c.want)
    assert.equal(r.detail, c.detail)
  })
}

test('campaign without a forecast: a learned uplift pre-warms too', () => {
  // 250 × 2 = 500 × 1.1 = 550 / 100 → 6.
  const r = rec({
    schedules: [blackFriday({})],
    nowMs: at('2026-11-27T08:55:00Z'),
    groupRps: 250,
    forecast: { status: 'insufficient-history', stepMs: minute, fromMs: t0, values: [], historyMs: hour, neededHistoryMs: 48 * hour, learnedUplifts: { 'black-friday': 2 } },
  })
  assert.equal(r.replicas, 6)
  assert.match(r.detail, /campaign black-friday ×2 \(learned\)/)
})

// With a baseline recorded before the campaign (forecast.baselineRps) the floor holds through the whole window:
// 250 × 3 = 750 × 1.1 = 825 / 100 → 9, whatever the current demand.
const noHistory: DemandForecast = { status: 'insufficient-history', stepMs: minute, fromMs: t0, values: [], historyMs: 6 * hour, neededHistoryMs: 48 * hour, baselineRps: 250 }
const baselineCases: { name: string; nowMs: number; groupRps?: number; want?: number; reason: string }[] = [
  { name: 'within the lead', nowMs: at('2026-11-27T08:55:00Z'), groupRps: 260, want: 9, reason: 'CampaignAhead' },
  // During the sale the current 900 req/s already holds the uplift: the baseline, not 900 × 3, is multiplied.
  { name: 'during the campaign: held, from the baseline rather than the current demand', nowMs: at('2026-11-27T10:00:00Z'), groupRps: 900, want: 9, reason: 'CampaignAhead' },
  { name: 'during the campaign without current signals', nowMs: at('2026-11-27T10:00:00Z'), want: 9, reason: 'CampaignAhead' },
  { name: 'before the lead: back off', nowMs: at('2026-11-27T08:40:00Z'), groupRps: 250, reason: 'InsufficientHistory' },
  { name: 'after the end: back off', nowMs: at('2026-11-27T12:00:00Z'), groupRps: 250, reason: 'InsufficientHistory' },
]
for (const c of baselineCases) {
  test(`campaign with a recorded baseline: ${c.name}`, () => {
    const r = rec({ schedules: [blackFriday({ uplift: 3 })], nowMs: c.nowMs, forecast: noHistory, ...(c.groupRps === undefined ? {} : { groupRps: c.groupRps }) })
    assert.equal(r.reason, c.reason)
    assert.equal(r.replicas, c.want)
    if (c.want === undefined) assert.equal(r.detail, 'predictive: forecast needs more history (6 h of 48 h)')
    else {
      assert.equal(
        r.detail,
        'predictive: 750 req/s expected within 45 s (baseline demand before the campaign; forecast needs more history (6 h of 48 h), campaign black-friday ×3 (declared)) +10% at 100 req/s per instance (rps target) → 9',
      )
    }
  })
}

test('an slo group: the forecast at full instance capacity plus the slo headroom (not bufferPercent)', () => {
  const spec = groupSpec({ slo: { instanceRps: 50 }, replicas: { min: 0, max: 100 }, predictive: { mode: 'forecastAndScale', bufferPercent: 10 } })
  const base = decideInput({ spec, instances: instances(2), signals: signals({}, { rps: 100 }), nowMs: t0 })
  // 300 req/s expected; no headroom learned yet, so the safe default of 40 %: 300 × 1.4 / 50 = 8.4 → 9
  const r = predictivePolicy.propose(policyInput({ ...base, forecast: flat(300, 10, t0 - minute) }))
  assert.ok(r)
  assert.equal(r.replicas, 9)
  assert.match(r.detail, /\+40% \(the slo headroom\) at 50 req\/s per instance \(slo capacity\)/)
})

const horizonCases: readonly { name: string; predictive: GroupInput['predictive']; startupMs?: number; sync: number; aheadMs: number; bufferMs: number }[] = [
  { name: 'auto buffer, no start-up measured: spec.startupSeconds (30 s) + sync 15 s', predictive: { mode: 'forecastAndScale' }, sync: 15, aheadMs: 45_000, bufferMs: 30_000 },
  { name: 'auto buffer: the measured start-up time', predictive: { mode: 'forecastAndScale' }, startupMs: 12_500, sync: 15, aheadMs: 27_500, bufferMs: 12_500 },
  { name: 'a configured buffer wins over the measured start-up', predictive: { mode: 'forecastAndScale', schedulingBufferSeconds: 120 }, startupMs: 12_500, sync: 60, aheadMs: 180_000, bufferMs: 120_000 },
  { name: 'buffer 0: one sync period ahead, scored now', predictive: { mode: 'forecastOnly', schedulingBufferSeconds: 0 }, sync: 30, aheadMs: 30_000, bufferMs: 0 },
]

for (const c of horizonCases) {
  test(`forecastHorizon: ${c.name}`, () => {
    const spec = groupSpec({ metrics: rps100, predictive: c.predictive, syncPeriodSeconds: c.sync })
    const input = { spec, nowMs: t0, ...(c.startupMs === undefined ? {} : { startupMs: c.startupMs }) }
    assert.deepEqual(forecastHorizon(input), { aheadMs: c.aheadMs, scoreAtMs: t0 + c.bufferMs })
    assert.equal(forecastHorizon(input).scoreAtMs - t0, schedulingBufferMs(input))
  })
}
