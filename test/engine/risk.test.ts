/**
 * The risk radar (src/engine/risk.ts), table-driven: flat and noisy traffic raise nothing, a
 * steady ramp's ETA is within ±20 % of the true crossing, the forecast looks further, a quota
 * binds before the max, and the violation budget's burn. The arithmetic is in the comments.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { demandTrend, durationText, groupRisks, quotaCeilings, type DemandSample, type RiskInput } from '../../src/engine/risk.ts'

/** Noon, 11 Nov 2026 UTC: half a day left (43,200 s). */
const NOW = Date.UTC(2026, 10, 11, 12, 0, 0)
const MIN = 60_000

/** Readings every 15 s over the last 10 minutes of `rps(minutesAgo)`, with a deterministic wobble of ±`noise`. */
function readings(rps: (minutesAgo: number) => number, noise = 0): DemandSample[] {
  const out: DemandSample[] = []
  for (let k = 40; k >= 0; k--) out.push({ atMs: NOW - k * 15_000, rps: rps(k / 4) + noise * Math.sin(k * 2.3) })
  return out
}

const base = { group: 'shop-web', nowMs: NOW, perInstanceRps: 50, max: 10 } as const

const capacityCases: { name: string; input: RiskInput; want: { kind: string; basis: string; etaSeconds: number } | undefined }[] = [
  // 400 req/s flat with ±30 of noise, limit 10 × 50 = 500: nothing.
  { name: 'flat noisy traffic near max: no warning', input: { ...base, demand: readings(() => 400, 30) }, want: undefined },
  { name: 'flat traffic exactly at the limit: no warning (no trend)', input: { ...base, demand: readings(() => 500) }, want: undefined },
  // 300 req/s now, +10 req/s a minute: 500 in (500 − 300) / 10 = 20 min = 1200 s.
  { name: 'a steady ramp: ETA when it crosses max', input: { ...base, demand: readings((ago) => 300 - 10 * ago, 5) }, want: { kind: 'max', basis: 'trend', etaSeconds: 1200 } },
  { name: 'a ramp down: nothing', input: { ...base, demand: readings((ago) => 300 + 10 * ago, 5) }, want: undefined },
  // +1 req/s a minute from 300: 200 min away, beyond the trend's hour.
  { name: 'a slow ramp that crosses beyond the hour: nothing', input: { ...base, demand: readings((ago) => 300 - ago) }, want: undefined },
  // 550 now and rising: past 500 already.
  { name: 'already past the limit and rising: ETA 0', input: { ...base, demand: readings((ago) => 550 - 10 * ago) }, want: { kind: 'max', basis: 'trend', etaSeconds: 0 } },
  { name: 'too few readings: nothing', input: { ...base, demand: readings((ago) => 300 - 10 * ago).slice(-5) }, want: undefined },
  // Quotas leave 6 instances (300 req/s) < max 10: the quota binds; 250 + 10/min reaches 300 in 5 min.
  { name: 'a quota ceiling below max binds first', input: { ...base, quotaCeiling: 6, demand: readings((ago) => 250 - 10 * ago, 2) }, want: { kind: 'quota', basis: 'trend', etaSeconds: 300 } },
  { name: 'a quota ceiling above max: the max', input: { ...base, quotaCeiling: 40, demand: readings((ago) => 300 - 10 * ago) }, want: { kind: 'max', basis: 'trend', etaSeconds: 1200 } },
  // Flat demand, but the forecast's 5-minute buckets from now reach 520 > 500 in the 4th: 15 min = 900 s.
  { name: 'the forecast sees it before the trend does', input: { ...base, demand: readings(() => 300, 10), forecast: { fromMs: NOW, stepMs: 5 * MIN, values: [300, 350, 450, 520, 600] } }, want: { kind: 'max', basis: 'forecast', etaSeconds: 900 } },
  { name: 'a forecast bucket already past is skipped', input: { ...base, demand: [], forecast: { fromMs: NOW - 10 * MIN, stepMs: 5 * MIN, values: [900, 300, 300] } }, want: undefined },
  // The trend (20 min) beats the forecast (30 min).
  { name: 'the earlier of trend and forecast', input: { ...base, demand: readings((ago) => 300 - 10 * ago), forecast: { fromMs: NOW, stepMs: 5 * MIN, values: [300, 300, 300, 300, 300, 300, 900] } }, want: { kind: 'max', basis: 'trend', etaSeconds: 1200 } },
  { name: 'no capacity per instance: no capacity risk', input: { ...base, perInstanceRps: undefined, demand: readings((ago) => 300 - 10 * ago) }, want: undefined },
]
for (const c of capacityCases) {
  test(`capacity: ${c.name}`, () => {
    const risks = groupRisks(c.input)
    if (c.want === undefined) {
      assert.deepEqual(risks, [])
      return
    }
    assert.equal(risks.length, 1, JSON.stringify(risks))
    const r = risks[0]
    assert.equal(r?.kind, c.want.kind)
    assert.equal(r.basis, c.want.basis)
    const tolerance = c.want.etaSeconds * 0.2
    assert.ok(Math.abs(r.etaSeconds - c.want.etaSeconds) <= tolerance, `eta ${r.etaSeconds} s, want ${c.want.etaSeconds} ± 20 %`)
  })
}

test('the ramp is read to within 1 % without noise, and its message says when and what it needs', () => {
  const [r] = groupRisks({ ...base, demand: readings((ago) => 300 - 10 * ago) })
  assert.ok(r !== undefined && Math.abs(r.etaSeconds - 1200) <= 12, `${r?.etaSeconds}`)
  assert.equal(r.message, 'at this trend (+10 req/s a minute) shop-web reaches max 10 in ~20 min: it will need 11 instances of 50 req/s for 500 req/s')
  const [f] = groupRisks({ ...base, demand: [], forecast: { fromMs: NOW, stepMs: 30 * MIN, values: [300, 300, 300, 300, 520] } })
  assert.equal(f?.message, 'the forecast says shop-web reaches max 10 in ~2 h (14:00 UTC): it will need 11 instances of 50 req/s for 520 req/s')
})

const budget = { budgetPercent: 0.5, todayMeasuredSeconds: 43_200, todayViolatedSeconds: 100, recentMeasuredSeconds: 600, recentViolatedSeconds: 60 }
const budgetCases = [
  // Allowed 0.5 % of (43,200 measured + 43,200 left) = 432 s; 100 spent, 332 left; burning 60 of 600 s (10 %): 3,320 s.
  { name: 'a burn that spends the rest before midnight', b: budget, want: 3320 },
  { name: 'no burn: nothing', b: { ...budget, recentViolatedSeconds: 0 }, want: undefined },
  // 332 s at 0.5 % burn: 66,400 s, after midnight (43,200 s left).
  { name: 'a burn too slow to spend it today: nothing', b: { ...budget, recentViolatedSeconds: 3 }, want: undefined },
  { name: 'spent already: ETA 0', b: { ...budget, todayViolatedSeconds: 500, recentViolatedSeconds: 0 }, want: 0 },
] as const
for (const c of budgetCases) {
  test(`budget: ${c.name}`, () => {
    const risks = groupRisks({ ...base, perInstanceRps: undefined, demand: [], budget: c.b })
    if (c.want === undefined) {
      assert.deepEqual(risks, [])
      return
    }
    assert.equal(risks.length, 1)
    assert.equal(risks[0]?.kind, 'budget')
    assert.equal(risks[0].etaSeconds, c.want)
  })
}

test('demandTrend: slope and level of a clean line, undefined over too short a span', () => {
  const t = demandTrend(readings((ago) => 300 - 10 * ago), NOW)
  assert.ok(t !== undefined)
  assert.ok(Math.abs(t.levelRps - 300) < 1e-6)
  assert.ok(Math.abs(t.slopeRpsPerSecond - 10 / 60) < 1e-9)
  assert.equal(t.tStat, Infinity)
  assert.equal(demandTrend(readings(() => 1).slice(-16), NOW), undefined, '16 readings over 3.75 min: under the 5-minute span')
})

test('quotaCeilings: the room each group has with the others held', () => {
  const size = { cpu: 1, memoryMiB: 512 }
  const groups = [
    { provider: 'local', size, replicas: 4 },
    { provider: 'local', size: { cpu: 2, memoryMiB: 1024 }, replicas: 2 },
    { provider: 'aws', size, replicas: 3 },
  ]
  assert.deepEqual(quotaCeilings(groups, undefined), [undefined, undefined, undefined])
  // 20 instances: 20 − (2 + 3) = 15; 20 − (4 + 3) = 13; 20 − 6 = 14.
  assert.deepEqual(quotaCeilings(groups, { maxInstances: 20 }), [15, 13, 14])
  // 12 cpu: (12 − 4 − 3) / 1 = 5; (12 − 4 − 3) / 2 = 2.5 → 2; 12 − 8 = 4. Local's own 10 cpu: (10 − 4) / 1 = 6, (10 − 4) / 2 = 3.
  assert.deepEqual(quotaCeilings(groups, { maxCpu: 12, perProvider: { local: { maxCpu: 10 } } }), [5, 2, 4])
})

const durations = [
  [40, '40 s'],
  [1200, '20 min'],
  [7200, '2 h'],
  [7800, '2 h 10 min'],
] as const
for (const [s, want] of durations) {
  test(`durationText(${s}) = ${want}`, () => {
    assert.equal(durationText(s), want)
  })
}
