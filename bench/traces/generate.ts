/**
 * Writes the synthetic traces of the quality bench, deterministically (a fixed-seed
 * generator, so that the files and the bench results are the same on every run):
 *
 * - `daily-tides-week.csv`: a week of an online shop's daily tides at 1-minute steps,
 *   seconds from start. Each day: a night trough at about 15 % of the peak, a morning
 *   rise, a lunch bump and an evening peak around 21:00; Saturday and Sunday evenings
 *   25 % higher; ±4 % noise per minute and a few short bursts (+30 % for 3–8 minutes).
 * - `daily-tides-history.csv`: the two weeks before that week (another seed, the same
 *   rhythm: day −14 is a Monday like day 0), the demand tide would have recorded; the
 *   quality bench hands it to the predictive policy as `history` (tide simulate --history).
 * - `daily-deals-week.csv` and `daily-deals-history.csv`: the same tides without random bursts,
 *   plus a daily deal drop at 20:00 (the load triples within two minutes and decays over an
 *   hour), as shops that open a deal every evening see. A reactive policy meets it late every
 *   day; a forecast knows it is coming. The history is the two weeks before, another seed.
 * - `flash-sale.csv`: eight hours of Double 11 evening traffic at 10-second steps with
 *   ISO timestamps (+08:00), so that the campaign schedule in `flash-sale.tide.yaml`
 *   lines up with it. At 20:00 the sale opens and the load rises 10× within one minute,
 *   holds for 20 minutes, then decays back to the evening level over about an hour.
 *
 *
 * Traffic of other characters (issue 9), none of it tuned to tide: each is a kind of site an
 * operator meets, with the statistic that matters for scaling stated and checked in
 * test/bench/traces/generate.test.ts. Times in seconds from the start, day 0 a Monday 00:00.
 * A second generator (seededRandom in src/core/seeded-random.ts, mulberry32, better than the LCG
 * above for normal draws) is used for them.
 *
 * - `low-volume-site-4w.csv`: four weeks of a small site at 1-minute rows: the per-minute
 *   request counts of a site of about 1.6 req/s (Poisson draws around a daily and weekly rhythm,
 *   over-dispersed as web logs are: a per-minute log-normal factor, a slow wander, crawler spikes)
 *   replayed ×100, so about 3 instances' worth at 50 req/s per instance on average and about one
 *   at night. The load rises by more than 11 % from one minute to the next in 38 % of minutes
 *   (41 % at night, 36 % by day), as on the public 4-week web-server log of issue 9 (40 %).
 * - `smooth-high-volume-3d.csv`: three weekdays of a big site at 1-minute rows, 6,000–20,000
 *   req/s (120–400 instances at 50 req/s each), a smooth daily wave, noise under 1 %. Three days,
 *   not a week: the controller's work grows with the fleet (a week took 10–15 s per run), and
 *   the sweep replays it 25 times.
 * - `flash-crowd-2d.csv`: two days at 1-second rows of a noisy site (per-second Poisson counts,
 *   60–330 req/s by the hour of day, a per-minute factor of σ = 0.08); on day 1 at 13:37 a crowd
 *   arrives (a link on a front page): 10× the load within 45 s, 3 minutes at that level, then a
 *   decay with a 20-minute time constant.
 * - `weekly-rhythm-3w.csv`: three weeks of a business application at 1-minute rows: office hours
 *   on weekdays (peak about 3,000 req/s at 10:30 and 15:00, a lunch dip, Monday 10 % above and
 *   Friday afternoon 20 % below the other days), weekends at a quarter of that; ±4 % noise.
 * - `known-bursts-2d.csv`: two days at 10-second rows of a steady 1,000 req/s (±2 %) with the
 *   bursts of `knownBursts`: +25 %, +50 % and +100 % steps for 2, 5 and 10 minutes, each pair
 *   once a day, at known times.
 *
 * Run: `node --import tsx bench/traces/generate.ts` (writes next to this file).
 */
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { seededRandom } from '../../src/core/seeded-random.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** A deterministic uniform generator in [0, 1) (LCG, Numerical Recipes constants). */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const gauss = (x: number, mu: number, sigma: number) => Math.exp(-((x - mu) ** 2) / (2 * sigma ** 2))

/**
 * Days of tides; the peak is about 2,000 req/s (2,500 at weekends). Day 0 is a Monday; the
 * first row is day `firstDay` (negative for history before day 0); times are seconds from the first row.
 */
export function dailyTides(days = 7, firstDay = 0, seed = 20261111): string {
  const rand = random(seed)
  const rows = ['seconds,rps']
  let burstLeft = 0
  for (let minute = firstDay * 1440; minute < (firstDay + days) * 1440; minute++) {
    const day = (((Math.floor(minute / 1440)) % 7) + 7) % 7
    const hour = (((minute % 1440) + 1440) % 1440) / 60
    const shape = Math.min(1, 0.35 * gauss(hour, 9.5, 1.5) + 0.55 * gauss(hour, 12.5, 2) + gauss(hour, 21, 2.5) + 0.5 * gauss(hour, 24 + 21, 2.5) + 0.5 * gauss(hour, -3, 2.5))
    const weekend = day >= 5 ? 1 + 0.25 * gauss(hour, 21, 4) : 1
    if (burstLeft === 0 && rand() < 0.002) burstLeft = 3 + Math.floor(rand() * 6)
    const burst = burstLeft > 0 ? 1.3 : 1
    if (burstLeft > 0) burstLeft--
    const noise = 1 + 0.08 * (rand() - 0.5)
    const rps = 2000 * (0.15 + 0.85 * shape) * weekend * burst * noise
    rows.push(`${(minute - firstDay * 1440) * 60},${rps.toFixed(1)}`)
  }
  return rows.join('\n') + '\n'
}

/** Days of tides with a deal drop every day at 20:00 (see the module comment); times in seconds from the first row. */
export function dailyDeals(days = 7, firstDay = 0, seed = 20261212): string {
  const rand = random(seed)
  const rows = ['seconds,rps']
  for (let minute = firstDay * 1440; minute < (firstDay + days) * 1440; minute++) {
    const day = ((Math.floor(minute / 1440) % 7) + 7) % 7
    const hour = (((minute % 1440) + 1440) % 1440) / 60
    const shape = Math.min(1, 0.35 * gauss(hour, 9.5, 1.5) + 0.55 * gauss(hour, 12.5, 2) + 0.6 * gauss(hour, 19, 2.5) + 0.3 * gauss(hour, -3, 2.5))
    const weekend = day >= 5 ? 1.25 : 1
    const since = (hour - 20) * 60 // minutes since the drop
    const deal = since < 0 ? 1 : since < 2 ? 1 + 2 * (since + 1) / 2 : 1 + 2 * Math.exp(-(since - 2) / 25)
    const noise = 1 + 0.08 * (rand() - 0.5)
    const rps = 1000 * (0.15 + 0.85 * shape) * weekend * deal * noise
    rows.push(`${(minute - firstDay * 1440) * 60},${rps.toFixed(1)}`)
  }
  return rows.join('\n') + '\n'
}

/** The flash sale: 16:00–24:00 +08:00 on 2026-11-11, the sale opening at 20:00. */
export function flashSale(): string {
  const rand = random(1111)
  const rows = ['time,rps']
  const startMs = Date.parse('2026-11-11T16:00:00+08:00')
  const saleS = 4 * 3600 // 20:00 is 4 h after 16:00
  for (let s = 0; s < 8 * 3600; s += 10) {
    const hour = 16 + s / 3600
    const evening = 300 + 200 * gauss(hour, 21, 2)
    let uplift = 1
    const since = s - saleS
    if (since >= 0 && since < 60) uplift = 1 + 9 * ((since + 10) / 60) // 10× reached within the first minute
    else if (since >= 60 && since < 20 * 60) uplift = 10
    else if (since >= 20 * 60) uplift = 1 + 9 * Math.exp(-(since - 20 * 60) / (20 * 60))
    const noise = 1 + 0.06 * (rand() - 0.5)
    const iso = new Date(startMs + s * 1000).toISOString().replace('.000Z', 'Z')
    rows.push(`${iso},${(evening * uplift * noise).toFixed(1)}`)
  }
  return rows.join('\n') + '\n'
}

/** Standard normal draws (Box–Muller, cosine branch) from a uniform generator. */
export function normal(rand: () => number): () => number {
  return () => {
    const u = 1 - rand() // in (0, 1], so the logarithm is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
  }
}

/**
 * A Poisson draw of `mean` (≥ 0): Knuth's product method below a mean of 30, above it the
 * normal approximation mean + √mean·z, rounded and never below 0 (its skew is 1/√mean < 0.2
 * there, immaterial for a load trace).
 */
export function poisson(mean: number, rand: () => number, z: () => number): number {
  if (!(mean > 0)) return 0
  if (mean < 30) {
    const limit = Math.exp(-mean)
    let k = 0
    let p = rand()
    while (p > limit) {
      k++
      p *= rand()
    }
    return k
  }
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * z()))
}

/** A log-normal factor of mean 1: exp(σz − σ²/2). */
const lognormal = (sigma: number, z: number) => Math.exp(sigma * z - (sigma * sigma) / 2)

/** Day of the week (0 = Monday) and hour of the day (0–24) of `seconds` from a Monday 00:00. */
function clockOf(seconds: number): { day: number; hour: number } {
  return { day: Math.floor(seconds / 86400) % 7, hour: (seconds % 86400) / 3600 }
}

/** Rows `seconds,rps` from one rate per row, `stepSeconds` apart, with `digits` decimals. */
function csv(rates: Iterable<number>, stepSeconds: number, digits: number): string {
  const rows = ['seconds,rps']
  let i = 0
  for (const r of rates) rows.push(`${i++ * stepSeconds},${r.toFixed(digits)}`)
  return rows.join('\n') + '\n'
}

/**
 * A small site's rates per minute (see the module comment): the per-minute request counts of a
 * site of about 1.6 req/s (0.35 req/s at 04:00, about 3 in the afternoon, weekends at 70 %),
 * Poisson draws over-dispersed by a log-normal factor (σ = `sigma`), a slow wander (AR(1), ρ =
 * 0.995 per minute, sd ≈ 10 %) and crawler spikes (1.5–3× for 1–5 minutes in 0.5 % of minutes),
 * replayed ×`scale` as a public log is to need a few instances. The relative noise is therefore
 * highest at night, where the counts are smallest, as on a real small site.
 */
export function lowVolumeSiteRates(days = 28, seed = 20260904, sigma = 0.2, scale = 100): Float64Array {
  const rand = seededRandom(seed)
  const z = normal(rand)
  const out = new Float64Array(days * 1440)
  let wander = 0
  let spikeLeft = 0
  let spike = 1
  for (let m = 0; m < out.length; m++) {
    const { day, hour } = clockOf(m * 60)
    const daily = 0.1 + 0.9 * Math.min(1, 0.55 * gauss(hour, 11, 2.5) + 0.8 * gauss(hour, 15.5, 3) + 0.45 * gauss(hour, 21, 2))
    const weekly = day >= 5 ? 0.7 : 1
    wander = 0.995 * wander + 0.01 * z()
    if (spikeLeft === 0 && rand() < 0.005) {
      spikeLeft = 1 + Math.floor(rand() * 5)
      spike = 1.5 + 1.5 * rand()
    }
    const burst = spikeLeft > 0 ? spike : 1
    if (spikeLeft > 0) spikeLeft--
    const rate = 3.2 * daily * weekly * Math.exp(wander) * lognormal(sigma, z()) * burst
    out[m] = (poisson(60 * rate, rand, z) / 60) * scale
  }
  return out
}

/** A big site's rates per minute: a smooth daily wave of 6,000–20,000 req/s (trough 04:00), weekends at 85 %, under 1 % noise. */
export function smoothHighVolumeRates(days = 3, seed = 20260905): Float64Array {
  const rand = seededRandom(seed)
  const z = normal(rand)
  const out = new Float64Array(days * 1440)
  let wander = 0
  for (let m = 0; m < out.length; m++) {
    const { day, hour } = clockOf(m * 60)
    const wave = (1 - Math.cos((2 * Math.PI * (hour - 4)) / 24)) / 2
    const weekly = day >= 5 ? 0.85 : 1
    wander = 0.99 * wander + 0.001 * z()
    const rate = 20000 * (0.3 + 0.7 * wave) * weekly * Math.exp(wander) * lognormal(0.005, z())
    out[m] = poisson(60 * rate, rand, z) / 60
  }
  return out
}

/** When the flash crowd of `flashCrowdRates` arrives: day 1 (the second day) at 13:37, in seconds from the start. */
export const flashCrowdStartSeconds = 86400 + 13 * 3600 + 37 * 60

/**
 * The flash crowd's multiplier `since` seconds after it arrives (1 before): a linear rise to
 * 10× over 45 s, 10× for 3 minutes, then 1 + 9·exp(−(since − 225 s) / 1200 s).
 */
export function flashCrowdUplift(since: number): number {
  if (since < 0) return 1
  if (since < 45) return 1 + (9 * since) / 45
  if (since < 225) return 10
  return 1 + 9 * Math.exp(-(since - 225) / 1200)
}

/** The flash-crowd site's rates per second (see the module comment): whole requests per second. */
export function flashCrowdRates(days = 2, seed = 20260906): Float64Array {
  const rand = seededRandom(seed)
  const z = normal(rand)
  const out = new Float64Array(days * 86400)
  let wander = 0
  let minuteFactor = 1
  for (let s = 0; s < out.length; s++) {
    const { hour } = clockOf(s)
    if (s % 60 === 0) {
      wander = 0.99 * wander + 0.01 * z()
      minuteFactor = Math.exp(wander) * lognormal(0.08, z())
    }
    const level = 60 + 270 * Math.min(1, 0.6 * gauss(hour, 11, 2.5) + 0.9 * gauss(hour, 15, 3) + 0.5 * gauss(hour, 20.5, 2))
    out[s] = poisson(level * minuteFactor * flashCrowdUplift(s - flashCrowdStartSeconds), rand, z)
  }
  return out
}

/** A business application's rates per minute (see the module comment). */
export function weeklyRhythmRates(days = 21, seed = 20260907): Float64Array {
  const rand = seededRandom(seed)
  const z = normal(rand)
  const out = new Float64Array(days * 1440)
  let wander = 0
  for (let m = 0; m < out.length; m++) {
    const { day, hour } = clockOf(m * 60)
    let shape: number
    if (day >= 5) shape = 0.25 * gauss(hour, 14, 3)
    else {
      shape = Math.min(1, gauss(hour, 10.5, 1.6) + 0.85 * gauss(hour, 15, 1.8))
      if (day === 0) shape *= 1.1
      if (day === 4 && hour >= 12) shape *= 0.8
    }
    wander = 0.99 * wander + 0.005 * z()
    const rate = 3000 * (0.08 + 0.92 * shape) * Math.exp(wander) * lognormal(0.04, z())
    out[m] = poisson(60 * rate, rand, z) / 60
  }
  return out
}

/** One burst of `knownBurstsRates`: from `startSeconds`, the load is (1 + upliftPercent/100) × the base for `minutes`. */
export interface KnownBurst {
  readonly startSeconds: number
  readonly upliftPercent: number
  readonly minutes: number
}

/**
 * The bursts of `known-bursts-2d.csv`: every pair of +25/+50/+100 % × 2/5/10 minutes once a
 * day, 2.5 hours apart from 01:00 (day 0 in one order, day 1 in the reverse order).
 */
export const knownBursts: readonly KnownBurst[] = (() => {
  const pairs: [number, number][] = []
  for (const up of [25, 50, 100]) for (const minutes of [2, 5, 10]) pairs.push([up, minutes])
  const out: KnownBurst[] = []
  for (const [day, order] of [[0, pairs], [1, [...pairs].reverse()]] as const) {
    order.forEach(([upliftPercent, minutes], i) => out.push({ startSeconds: day * 86400 + 3600 + i * 9000, upliftPercent, minutes }))
  }
  return out
})()

/** A steady 1,000 req/s at 10-second rows (±2 % per row plus Poisson counts) with `knownBursts`. */
export function knownBurstsRates(days = 2, seed = 20260908): Float64Array {
  const rand = seededRandom(seed)
  const z = normal(rand)
  const out = new Float64Array((days * 86400) / 10)
  for (let i = 0; i < out.length; i++) {
    const t = i * 10
    const burst = knownBursts.find((b) => t >= b.startSeconds && t < b.startSeconds + b.minutes * 60)
    const rate = 1000 * (1 + (burst?.upliftPercent ?? 0) / 100) * lognormal(0.02, z())
    out[i] = poisson(10 * rate, rand, z) / 10
  }
  return out
}

/** The issue-9 traces: file name → CSV text (see the module comment). */
export function issue9Traces(): Record<string, string> {
  return {
    'low-volume-site-4w.csv': csv(lowVolumeSiteRates(), 60, 1),
    'smooth-high-volume-3d.csv': csv(smoothHighVolumeRates(), 60, 1),
    'flash-crowd-2d.csv': csv(flashCrowdRates(), 1, 0),
    'weekly-rhythm-3w.csv': csv(weeklyRhythmRates(), 60, 1),
    'known-bursts-2d.csv': csv(knownBurstsRates(), 10, 1),
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(here, 'daily-tides-week.csv'), dailyTides())
  writeFileSync(join(here, 'daily-tides-history.csv'), dailyTides(14, -14, 20261028))
  writeFileSync(join(here, 'daily-deals-week.csv'), dailyDeals())
  writeFileSync(join(here, 'daily-deals-history.csv'), dailyDeals(14, -14, 20261130))
  writeFileSync(join(here, 'flash-sale.csv'), flashSale())
  const more = issue9Traces()
  for (const [file, text] of Object.entries(more)) writeFileSync(join(here, file), text)
  console.log(`wrote daily-tides-week.csv, daily-tides-history.csv, daily-deals-week.csv, daily-deals-history.csv, flash-sale.csv, ${Object.keys(more).join(', ')} in ${here}`)
}
