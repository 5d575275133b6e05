import { test } from 'node:test'
import assert from 'node:assert/strict'
import { firstExceedance } from '../../src/forecast/exceedance.ts'
import type { ForecastResult } from '../../src/forecast/fit-forecaster.ts'

// Buckets start at 1000, 1300, 1600, … (5 minutes each).
const forecast: ForecastResult = { startSec: 1000, stepSeconds: 300, values: [20, 25, 31, 34, 29, 33], lower: [18, 22, 28, 30, 26, 30], upper: [22, 28, 35, 38, 32, 36] }

const cases = [
  { name: 'first bucket above 30 is the third (index 2); the peak 34 follows', limit: 30, use: 'values', want: { atSec: 1600, value: 31, peak: 34, peakAtSec: 1900, inSeconds: 600 } },
  { name: 'the upper bound warns one bucket earlier', limit: 27, use: 'upper', want: { atSec: 1300, value: 28, peak: 38, peakAtSec: 1900, inSeconds: 300 } },
  { name: 'never above 40: no warning', limit: 40, use: 'values', want: undefined },
  { name: 'equal to the limit is not above it', limit: 34, use: 'values', want: undefined },
] as const
for (const c of cases) {
  test(c.name, () => {
    assert.deepEqual(firstExceedance(forecast, c.limit, c.use), c.want)
  })
}
