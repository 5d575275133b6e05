import { test } from 'node:test'
import assert from 'node:assert/strict'
import { browserModule } from '../support/browser-module.ts'

type Series = Record<string, { points: { atMs: number; avg: number }[] } | undefined>
const { alignSeries } = await browserModule<{ alignSeries: (s: Series, keys: readonly string[]) => { xs: number[]; ys: (number | null)[][]; points: number } }>('charts.js')

const cases = [
  { name: 'no series: nothing to draw', series: {}, keys: ['rps'], want: { xs: [], ys: [[]], points: 0 } },
  {
    name: 'series with their own buckets share one x axis (seconds), gaps as null',
    series: { rps: { points: [{ atMs: 1000, avg: 5 }, { atMs: 3000, avg: 7 }] }, p95: { points: [{ atMs: 2000, avg: 40 }, { atMs: 3000, avg: 50 }] } },
    keys: ['rps', 'p95'],
    want: { xs: [1, 2, 3], ys: [[5, null, 7], [null, 40, 50]], points: 4 },
  },
  {
    name: 'a series the answer lacks is all null; a non-finite value is a gap',
    series: { rps: { points: [{ atMs: 1000, avg: Number.NaN }, { atMs: 2000, avg: 1 }] } },
    keys: ['rps', 'capacity_rps'],
    want: { xs: [1, 2], ys: [[null, 1], [null, null]], points: 1 },
  },
] as const

for (const c of cases) {
  test(`alignSeries: ${c.name}`, () => {
    assert.deepEqual(alignSeries(c.series as Series, c.keys), c.want)
  })
}
