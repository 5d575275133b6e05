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
 * Run: `node --import tsx bench/traces/generate.ts` (writes next to this file).
 */
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

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

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(here, 'daily-tides-week.csv'), dailyTides())
  writeFileSync(join(here, 'daily-tides-history.csv'), dailyTides(14, -14, 20261028))
  writeFileSync(join(here, 'daily-deals-week.csv'), dailyDeals())
  writeFileSync(join(here, 'daily-deals-history.csv'), dailyDeals(14, -14, 20261130))
  writeFileSync(join(here, 'flash-sale.csv'), flashSale())
  console.log(`wrote daily-tides-week.csv, daily-tides-history.csv, daily-deals-week.csv, daily-deals-history.csv and flash-sale.csv in ${here}`)
}
