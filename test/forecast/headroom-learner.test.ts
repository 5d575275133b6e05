import { test } from 'node:test'
import assert from 'node:assert/strict'
import { seededRandom } from '../../src/core/seeded-random.ts'
import { binUpperRatio, HeadroomLearner, ratioBin, type HeadroomEstimate } from '../../src/forecast/headroom-learner.ts'

const SYNC_MS = 15_000
const LAG_MS = 30_000

/**
 * Drives a learner as the controller does: every sync period it hands over the last 15 seconds
 * of demand, asks for the estimate, and notes its decision. Returns the last estimate.
 */
function drive(learner: HeadroomLearner, demand: (second: number) => number, seconds: number, startSecond = 0): HeadroomEstimate {
  let last: HeadroomEstimate | undefined
  for (let t = startSecond + 15; t <= startSecond + seconds; t += 15) {
    const values = Array.from({ length: 15 }, (_, i) => demand(t - 14 + i))
    learner.observeDemand(t * 1000, 1000, values, LAG_MS)
    last = learner.estimate(t * 1000)
    learner.noteDecision(t * 1000)
  }
  assert.ok(last)
  return last
}

test('ratios are binned by 2 % and read at the upper edge: the quantile errs on the safe side', () => {
  assert.equal(ratioBin(0.5), 0)
  assert.equal(ratioBin(1), 0) // no rise
  assert.equal(ratioBin(1.01), 1) // (1, 1.02]
  assert.equal(ratioBin(1.02), 1)
  assert.equal(ratioBin(1.0201), 2)
  assert.ok(binUpperRatio(ratioBin(1.5)) >= 1.5 && binUpperRatio(ratioBin(1.5)) < 1.5 * 1.02)
  assert.equal(ratioBin(1000), ratioBin(1e9)) // the last bin holds everything above 64
  assert.ok(binUpperRatio(ratioBin(1000)) >= 64)
})

test('before an hour of demand the learner says so (source default), with what it has and needs', () => {
  const learner = new HeadroomLearner({ syncMs: SYNC_MS })
  const e = drive(learner, () => 100, 1800)
  assert.equal(e.source, 'default')
  assert.equal(e.headroom, undefined)
  assert.equal(e.neededSeconds, 3600)
  // Ratios start one lag after the first decision: 1800 − 15 − 30 = 1755 s of them.
  assert.ok(e.historySeconds > 1700 && e.historySeconds < 1800, `${e.historySeconds}`)
})

test('steady demand needs no headroom', () => {
  const e = drive(new HeadroomLearner({ syncMs: SYNC_MS }), () => 500, 7200)
  assert.equal(e.source, 'learned')
  assert.equal(e.headroom, 0)
  assert.equal(e.referenceRps, 500)
  assert.equal(e.lagSeconds, 30)
})

test('a step: +50 % once a day is covered only by a budget smaller than the seconds it outruns capacity', () => {
  // 100 req/s, and from 12:00:00 on 150. The decision at 12:00:15 sees the new level; its capacity
  // serves from 12:00:45. So 45 s of the day have the ratio 1.5, all others 1 (after the step the
  // reference is 150).
  const demand = (s: number) => (s >= 12 * 3600 ? 150 : 100)
  const loose = drive(new HeadroomLearner({ syncMs: SYNC_MS, budgetPercent: 0.5 }), demand, 86_400)
  // 0.5 % of a day is 432 s > 45 s: the step is inside the budget, no headroom is kept for it.
  assert.equal(loose.headroom, 0)
  const tight = drive(new HeadroomLearner({ syncMs: SYNC_MS, budgetPercent: 0.01 }), demand, 86_400)
  // 0.01 % is 8.6 s < 45 s: the headroom covers the step, to within one 2 % bin.
  assert.ok(tight.headroom !== undefined && tight.headroom >= 0.5 && tight.headroom < 0.5 * 1.02 + 0.02, `${tight.headroom}`)
})

test('a ramp: the headroom is the rise within one reaction time plus the window it was measured over', () => {
  // Exponential growth of g per second: a decision's window mean lags its time by about 7.5 s, and
  // its capacity serves from 30 to 45 s after it, so ratios lie in [e^(37.5 g), e^(52.5 g)).
  // With e^(52.5 g) = 1.2 the 99.5th percentile is just under 1.2.
  const g = Math.log(1.2) / 52.5
  const e = drive(new HeadroomLearner({ syncMs: SYNC_MS }), (s) => 100 * Math.exp(g * (s % 7200)), 7200 * 3)
  assert.equal(e.source, 'learned')
  assert.ok(e.headroom !== undefined && e.headroom > 0.17 && e.headroom <= 0.21, `${e.headroom}`)
  assert.equal(e.smoothingSeconds, 15, 'the last window is the least lagging reference for a steady rise')
})

test('pure noise of known variance: capacity = reference × (1 + headroom) covers the mean + 2.58 σ', () => {
  // Independent seconds, mean 1000, σ 50 (Box–Muller). The 99.5th percentile of one second is
  // 1000 + 2.576 × 50 ≈ 1129; the learner's capacity must land near it, whichever reference it keeps.
  const random = seededRandom(42)
  const noise = new Map<number, number>()
  const demand = (s: number): number => {
    let v = noise.get(s)
    if (v === undefined) {
      v = 1000 + 50 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
      noise.set(s, v)
    }
    return v
  }
  const e = drive(new HeadroomLearner({ syncMs: SYNC_MS }), demand, 6 * 3600)
  assert.equal(e.source, 'learned')
  assert.ok(e.headroom !== undefined && e.referenceRps !== undefined)
  const capacity = e.referenceRps * (1 + e.headroom)
  assert.ok(capacity > 1110 && capacity < 1175, `capacity ${capacity} (reference ${e.referenceRps}, headroom ${e.headroom})`)
})

/** Independent seconds uniform in [low, high), the same for the same second. */
function jitter(seed: number, low: number, high: number): (s: number) => number {
  const random = seededRandom(seed)
  const seen = new Map<number, number>()
  return (s) => {
    let v = seen.get(s)
    if (v === undefined) seen.set(s, (v = low + (high - low) * random()))
    return v
  }
}

test('per hour of day: bursty nights get more headroom than smooth days once a few days are known', () => {
  // Days steady at 1000; nights (00:00–06:00 UTC) jump between 300 and 450 every second.
  const night = jitter(7, 300, 450)
  const demand = (s: number) => ((s % 86_400) / 3600 >= 6 ? 1000 : night(s))
  const learner = new HeadroomLearner({ syncMs: SYNC_MS })
  drive(learner, demand, 3 * 86_400)
  const atNight = learner.estimate(3 * 86_400_000 + 3 * 3_600_000)
  const atDay = learner.estimate(3 * 86_400_000 + 15 * 3_600_000)
  assert.equal(atNight.scope, 'hour-of-day')
  assert.equal(atDay.scope, 'hour-of-day')
  assert.equal(atDay.headroom, 0)
  // At night a reference is at least a 15 s mean (≈ 375) and a second at most 450: at most +20 %.
  assert.ok(atNight.headroom !== undefined && atNight.headroom > 0.05 && atNight.headroom <= 0.22, `${atNight.headroom}`)
})

test('the window forgets: a bursty week followed by steady days brings the headroom back down', () => {
  const learner = new HeadroomLearner({ syncMs: SYNC_MS, windowDays: 2 })
  drive(learner, jitter(9, 300, 450), 2 * 86_400)
  const before = learner.estimate(2 * 86_400_000)
  assert.ok(before.headroom !== undefined && before.headroom > 0.05, `${before.headroom}`)
  drive(learner, () => 400, 3 * 86_400, 2 * 86_400)
  const after = learner.estimate(5 * 86_400_000)
  assert.equal(after.headroom, 0)
})

test('windows that overlap earlier ones and values that are not demand are ignored', () => {
  const learner = new HeadroomLearner({ syncMs: SYNC_MS })
  drive(learner, () => 200, 3600)
  const before = learner.estimate(3600_000)
  learner.observeDemand(3600_000, 1000, [1e9, 1e9], LAG_MS) // already recorded seconds
  learner.observeDemand(3602_000, 1000, [Number.NaN, -5], LAG_MS)
  assert.deepEqual(learner.estimate(3602_000).historySeconds, before.historySeconds)
})

test('steps shorter than a second (a ring of 300 s of them) smooth the same as whole seconds', () => {
  const learner = new HeadroomLearner({ syncMs: SYNC_MS })
  let last: HeadroomEstimate | undefined
  // Quarter-second steps for two hours: 60 per sync period, 1200 in the longest smoothing.
  for (let t = 15; t <= 7200; t += 15) {
    const values = Array.from({ length: 60 }, (_, i) => ((t * 4 + i) % 2 === 0 ? 90 : 110))
    learner.observeDemand(t * 1000, 250, values, LAG_MS)
    last = learner.estimate(t * 1000)
    learner.noteDecision(t * 1000)
  }
  assert.ok(last?.referenceRps !== undefined && last.headroom !== undefined)
  // Means of 90 and 110 alternating are 100; a step is at most 110, 10 % above (one 2 % bin up).
  assert.ok(Math.abs(last.referenceRps - 100) < 1e-9, `${last.referenceRps}`)
  assert.ok(last.headroom > 0.09 && last.headroom <= 0.105, `${last.headroom}`)
})

test('toJSON and fromJSON: a restored learner estimates exactly as the one it was taken from, on and on', () => {
  const rnd = seededRandom(7)
  const demand = (s: number) => 100 + 40 * Math.sin(s / 600) + 20 * rnd()
  const a = new HeadroomLearner({ syncMs: SYNC_MS, minHistorySeconds: 600 })
  drive(a, demand, 7200)
  const json = JSON.parse(JSON.stringify(a.toJSON())) as unknown // through text, as the store keeps it
  const b = HeadroomLearner.fromJSON({ syncMs: SYNC_MS, minHistorySeconds: 600 }, json)
  assert.deepEqual(b.estimate(7200_000), a.estimate(7200_000))
  assert.equal(a.estimate(7200_000).source, 'learned', 'the case is worth checking: the learner has learned')
  // Fed the same demand afterwards, both say the same thing (state, not only the last answer, came back).
  const later = (s: number) => 150 + 10 * Math.cos(s / 300)
  assert.deepEqual(drive(b, later, 3600, 7200), drive(a, later, 3600, 7200))
})

test('fromJSON refuses malformed state, naming the field', () => {
  const good = new HeadroomLearner({ syncMs: SYNC_MS }).toJSON()
  const cases: { name: string; json: unknown; want: RegExp }[] = [
    { name: 'not an object', json: 3, want: /\(root\): expected an object/ },
    { name: 'another version', json: { ...good, version: 2 }, want: /version: expected 1/ },
    { name: 'a factor out of bounds', json: { ...good, factor: 1e9 }, want: /factor: .* outside/ },
    { name: 'a bin out of range', json: { ...good, candidates: good.candidates.map((c, i) => (i === 0 ? { ...c, allHours: [[99_999, 1]] } : c)) }, want: /candidates\.0\.allHours\.0/ },
    { name: 'other candidates', json: { ...good, candidates: good.candidates.slice(1) }, want: /candidates: 8 kept/ },
    { name: 'a buffer step that is not a number', json: { ...good, buffer: [[1, 'x', 3]] }, want: /buffer\.0\.1: expected a finite number/ },
  ]
  for (const c of cases) assert.throws(() => HeadroomLearner.fromJSON({ syncMs: SYNC_MS }, c.json), c.want, c.name)
})

/** Demand of 1000 req/s ± 2 % per second; every 2.5 h a burst of +25, +50 or +100 % (in turn) for 5 minutes. */
function knownBursts(): (s: number) => number {
  const noise = jitter(7, 0.98, 1.02)
  const bursts = [1.25, 1.5, 2]
  return (s) => {
    const cycle = Math.floor(s / 9000)
    const inBurst = s % 9000 >= 3600 && s % 9000 < 3900
    return 1000 * noise(s) * (inBurst ? (bursts[cycle % 3] ?? 1) : 1)
  }
}

/**
 * Drives a learner with the capacity its estimates size: every 15 s ⌈reference × (1 + headroom) ÷ 50⌉
 * instances of 50 req/s (40 % on the safe default) × `cut(t)` (1 but in an incident), serving one
 * lag later (fewer serve at once). Calls `each(t, estimate)` after every decision and returns the
 * seconds measured and short of capacity after `fromSecond`.
 */
function driveWithCapacity(learner: HeadroomLearner, demand: (s: number) => number, seconds: number, fromSecond: number, each: (t: number, e: HeadroomEstimate) => void, cut: (t: number) => number = () => 1, startSecond = 0): { measured: number; short: number } {
  const capacities: { atMs: number; rps: number }[] = []
  const serving = (atMs: number): number => {
    let least = Infinity
    for (let i = capacities.length - 1; i >= 0; i--) {
      const c = capacities[i]
      if (c === undefined || c.atMs > atMs) continue
      least = Math.min(least, c.rps)
      if (c.atMs <= atMs - LAG_MS) break
    }
    return least
  }
  let measured = 0
  let short = 0
  for (let t = startSecond + 15; t <= startSecond + seconds; t += 15) {
    const values = Array.from({ length: 15 }, (_, i) => demand(t - 14 + i))
    learner.observeDemand(t * 1000, 1000, values, LAG_MS)
    if (t > fromSecond) {
      for (let i = 0; i < 15; i++) {
        measured++
        if ((values[i] ?? 0) > serving((t - 14 + i) * 1000)) short++
      }
    }
    const e = learner.estimate(t * 1000)
    const reference = e.referenceRps ?? values.reduce((a, b) => a + b, 0) / values.length
    const rps = Math.ceil((reference * (1 + (e.headroom ?? 0.4))) / 50) * 50 * cut(t)
    learner.noteDecision(t * 1000)
    learner.noteCapacity(t * 1000, rps)
    capacities.push({ atMs: t * 1000, rps })
    if (capacities.length > 16) capacities.shift()
    each(t, e)
  }
  return { measured, short }
}

test('spending the budget: with whole instances and bursts of known size the quantile settles and the budget is spent, not swung through', () => {
  const levels: number[] = []
  const { measured, short } = driveWithCapacity(new HeadroomLearner({ syncMs: SYNC_MS }), knownBursts(), 4 * 86_400, 86_400, (t, e) => {
    if (t > 86_400 && t % 900 === 0) levels.push(1 - e.quantile)
  })
  const spent = short / measured
  // Days 2–4: 1 − quantile stays within a factor 2 (0.34–0.50 % when written; steering by the
  // error of a moving share of short seconds swung it from 0.25 % to 1.01 %), the budget holds,
  // and most of it is spent (0.41 % when written; the aim is 80 % of 0.5 %).
  assert.ok(Math.max(...levels) / Math.min(...levels) <= 2, `1 − quantile from ${Math.min(...levels)} to ${Math.max(...levels)}`)
  assert.ok(spent <= 0.005, `spent ${(spent * 100).toFixed(3)} % of the time, budget 0.5 %`)
  assert.ok(spent >= 0.002, `spent only ${(spent * 100).toFixed(3)} % of a 0.5 % budget`)
})

test('an overspent budget is paid back: after an hour short of capacity the quantile rises, and falls back within days', () => {
  // Two learners on the same traffic; on day 3 one loses a fifth of its capacity for an hour
  // (instances that fail to start), which spends the day's budget several times over.
  const incident = (t: number) => (t > 2 * 86_400 + 7200 && t <= 2 * 86_400 + 10_800 ? 0.8 : 1)
  const quantiles = (cut?: (t: number) => number): Map<number, number> => {
    const q = new Map<number, number>()
    driveWithCapacity(new HeadroomLearner({ syncMs: SYNC_MS }), knownBursts(), 6 * 86_400, 0, (t, e) => {
      if (t % 3600 === 0) q.set(t / 3600, e.quantile)
    }, cut)
    return q
  }
  const calm = quantiles()
  const hit = quantiles(incident)
  // Mean 1 − q over hours of the run, sampled hourly.
  const meanLevel = (m: Map<number, number>, from: number, to: number): number => {
    let sum = 0
    for (let h = from; h <= to; h++) sum += 1 - (m.get(h) ?? NaN)
    return sum / (to - from + 1)
  }
  // For the day after the incident the struck learner covers more (1 − q 0.33 % against 0.41 %
  // when written)...
  const after = meanLevel(hit, 52, 76) / meanLevel(calm, 52, 76)
  assert.ok(after <= 0.9, `hours 52–76: 1 − q ${meanLevel(hit, 52, 76)} after the incident, ${meanLevel(calm, 52, 76)} without`)
  // ...and from the third day after it, with the incident's day paid back, as much as the other.
  const later = meanLevel(hit, 120, 144) / meanLevel(calm, 120, 144)
  assert.ok(later >= 0.9, `hours 120–144: 1 − q ${meanLevel(hit, 120, 144)} after the incident, ${meanLevel(calm, 120, 144)} without`)
})

test('toJSON and fromJSON keep the budget steering: restored mid-run, a learner steers as the one it was taken from', () => {
  const a = new HeadroomLearner({ syncMs: SYNC_MS })
  driveWithCapacity(a, knownBursts(), 2 * 86_400, 0, () => {})
  const json = JSON.parse(JSON.stringify(a.toJSON())) as Record<string, unknown>
  assert.ok(Array.isArray(json.effective) && json.effective.length > 0, 'the case is worth checking: effective ratios were measured')
  const b = HeadroomLearner.fromJSON({ syncMs: SYNC_MS }, json)
  const seen = (l: HeadroomLearner): number[] => {
    const q: number[] = []
    driveWithCapacity(l, knownBursts(), 86_400, 0, (t, e) => {
      if (t % 900 === 0) q.push(e.quantile)
    }, () => 1, 2 * 86_400)
    return q
  }
  assert.deepEqual(seen(b), seen(a))
})

test('fromJSON reads a checkpoint of a tide before the effective ratios: it steers from scratch', () => {
  const a = new HeadroomLearner({ syncMs: SYNC_MS })
  driveWithCapacity(a, knownBursts(), 86_400, 0, () => {})
  const { effective, effectiveTotal, effectiveOriginMs, shortTotal, headroomInForce, ...kept } = JSON.parse(JSON.stringify(a.toJSON())) as Record<string, unknown>
  assert.ok([effective, effectiveTotal, effectiveOriginMs, shortTotal, headroomInForce].every((v) => v !== undefined))
  const old = { ...kept, accountMeasured: 86_000, accountShort: 300, accountAtMs: 86_400_000 } // what it kept instead
  const b = HeadroomLearner.fromJSON({ syncMs: SYNC_MS }, old)
  const e = b.estimate(86_400_000)
  assert.equal(e.source, 'learned')
  assert.deepEqual(e, a.estimate(86_400_000), 'the ratios and the factor came back')
  assert.equal(JSON.stringify(b.toJSON().effective), '[]')
})
