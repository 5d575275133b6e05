import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  flashCrowdRates,
  flashCrowdStartSeconds,
  flashCrowdUplift,
  issue9Traces,
  knownBursts,
  knownBurstsRates,
  lowVolumeSiteRates,
  normal,
  poisson,
  smoothHighVolumeRates,
  weeklyRhythmRates,
} from '../../../bench/traces/generate.ts'
import { seededRandom } from '../../../src/core/seeded-random.ts'

const traces = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'traces')

const mean = (xs: ArrayLike<number>, from = 0, to = xs.length) => {
  let s = 0
  for (let i = from; i < to; i++) s += xs[i] ?? 0
  return s / (to - from)
}
const variance = (xs: number[]) => {
  const m = mean(xs)
  return mean(xs.map((x) => (x - m) ** 2))
}
/** The share of steps whose rate exceeds the step before by more than `ratio` − 1. */
const riseShare = (xs: ArrayLike<number>, ratio: number) => {
  let n = 0
  for (let i = 1; i < xs.length; i++) if ((xs[i] ?? 0) > (xs[i - 1] ?? 0) * ratio) n++
  return n / (xs.length - 1)
}
/** Means over blocks of `per` steps (per-minute means of a per-second series). */
const blocks = (xs: ArrayLike<number>, per: number) => Array.from({ length: Math.floor(xs.length / per) }, (_, i) => mean(xs, i * per, (i + 1) * per))

test('seededRandom (mulberry32) is deterministic, in [0, 1) and uniform on average', () => {
  const a = seededRandom(7)
  const b = seededRandom(7)
  const xs = Array.from({ length: 100_000 }, () => a())
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()))
  assert.ok(xs.every((x) => x >= 0 && x < 1))
  assert.ok(Math.abs(mean(xs) - 0.5) < 0.005) // sd of the mean ≈ 0.29 / √1e5 ≈ 0.001
})

test('normal draws have mean 0 and variance 1', () => {
  const z = normal(seededRandom(11))
  const xs = Array.from({ length: 100_000 }, z)
  assert.ok(Math.abs(mean(xs)) < 0.02)
  assert.ok(Math.abs(variance(xs) - 1) < 0.02)
})

for (const lambda of [0, 3, 200] as const) {
  test(`poisson(${lambda}) has mean and variance ${lambda}`, () => {
    const rand = seededRandom(13)
    const z = normal(rand)
    const xs = Array.from({ length: 50_000 }, () => poisson(lambda, rand, z))
    assert.ok(xs.every((x) => Number.isInteger(x) && x >= 0))
    assert.ok(Math.abs(mean(xs) - lambda) <= 0.03 * lambda + 1e-9)
    assert.ok(Math.abs(variance(xs) - lambda) <= 0.05 * lambda + 1e-9)
  })
}

test('low-volume site: a few instances at 50 req/s, about one at night, rises > 11 % in about 40 % of minutes', () => {
  const r = lowVolumeSiteRates()
  assert.equal(r.length, 28 * 1440)
  const instances = mean(r) / 50
  assert.ok(instances > 2 && instances < 5, `mean ${instances} instances`)
  const nights = Array.from({ length: 28 }, (_, d) => mean(r, d * 1440 + 180, d * 1440 + 300)) // 03:00–05:00
  const night = mean(nights) / 50
  assert.ok(night > 0.3 && night < 1.5, `nights ${night} instances`)
  const share = riseShare(r, 1.11)
  assert.ok(share > 0.33 && share < 0.45, `rises in ${share} of minutes`)
})

test('smooth high volume: hundreds of instances at 50 req/s, almost no minute rises by 2 %', () => {
  const r = smoothHighVolumeRates()
  assert.ok(Math.min(...r) / 50 > 100 && Math.max(...r) / 50 < 450)
  assert.ok(riseShare(r, 1.02) < 0.01)
})

test('flash crowd: 10× within a minute on day 1, back under 2× within 90 minutes', () => {
  assert.equal(flashCrowdUplift(-1), 1)
  assert.equal(flashCrowdUplift(45), 10)
  // 1 + 9·e^(−1) ≈ 4.31 one time constant (1200 s) after the plateau.
  assert.ok(Math.abs(flashCrowdUplift(225 + 1200) - (1 + 9 / Math.E)) < 1e-12)
  const r = flashCrowdRates()
  assert.equal(r.length, 2 * 86400)
  const t0 = flashCrowdStartSeconds
  const before = mean(r, t0 - 600, t0)
  const peak = mean(r, t0 + 60, t0 + 180)
  assert.ok(peak / before > 7 && peak / before < 13, `crowd ${peak / before}×`)
  assert.ok(mean(r, t0 + 5400, t0 + 6000) / before < 2)
  // Day 0 has no crowd: no minute above 3× the median minute.
  const day0 = blocks(r.subarray(0, 86400), 60).sort((a, b) => a - b)
  assert.ok(day0.at(-1)! < 3 * day0[720]!)
})

test('weekly rhythm: weekdays carry well over twice the weekend load', () => {
  const r = weeklyRhythmRates()
  const weekday = mean(r, 0, 5 * 1440)
  const weekend = mean(r, 5 * 1440, 7 * 1440)
  assert.ok(weekday / weekend > 2.5, `weekday/weekend ${weekday / weekend}`)
})

test('known bursts: each burst lifts the load by its size', () => {
  const r = knownBurstsRates()
  assert.equal(knownBursts.length, 18)
  const base = mean(r, 0, 360) // the first hour (10 s rows) has no burst
  for (const b of knownBursts) {
    const from = b.startSeconds / 10
    const lift = mean(r, from, from + (b.minutes * 60) / 10) / base
    assert.ok(Math.abs(lift - (1 + b.upliftPercent / 100)) < 0.03, `burst at ${b.startSeconds} s: ${lift}×`)
  }
})

test('the committed trace files are what the generator writes', () => {
  for (const [file, text] of Object.entries(issue9Traces())) {
    assert.equal(readFileSync(join(traces, file), 'utf8'), text, `${file} differs: run node --import tsx bench/traces/generate.ts`)
  }
})
