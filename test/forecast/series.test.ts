import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SeriesBucketer, bucketSeries, maskWindows, observedSeconds, sliceSeries } from '../../src/forecast/series.ts'

test('bucketSeries: mean per bucket, null where empty, aligned to the step', () => {
  // step 60: samples at 125 and 130 (bucket [120,180): mean 15), none in [180,240), 250 → bucket [240,300).
  const s = bucketSeries([130, 125, 250], [20, 10, 7], { stepSeconds: 60 })
  assert.deepEqual(s, { startSec: 120, stepSeconds: 60, values: [15, null, 7] })
})

test('bucketSeries: NaN and out-of-range samples are ignored', () => {
  const s = bucketSeries([0, 10, 70, 200], [Number.NaN, 4, 6, 9], { stepSeconds: 60, startSec: 0, endSec: 180 })
  assert.deepEqual(s.values, [4, 6, null])
})

test('bucketSeries: empty input gives an empty series', () => {
  assert.deepEqual(bucketSeries([], [], { stepSeconds: 300 }).values, [])
})

test('bucketSeries: mismatched lengths are a programmer error', () => {
  assert.throws(() => bucketSeries([1, 2], [1], { stepSeconds: 60 }), RangeError)
})

test('SeriesBucketer closes buckets as time passes and emits null for skipped ones', () => {
  const b = new SeriesBucketer(60)
  assert.deepEqual(b.add(61, 10), [])
  assert.deepEqual(b.add(100, 20), [])
  // 250 is in bucket [240,300): closes [60,120) with mean 15, then [120,180) and [180,240) empty.
  assert.deepEqual(b.add(250, 5), [
    { startSec: 60, value: 15 },
    { startSec: 120, value: null },
    { startSec: 180, value: null },
  ])
  assert.equal(b.openStartSec, 240)
  assert.deepEqual(b.add(10, 99), [], 'a sample older than the open bucket is ignored')
  assert.deepEqual(b.flush(300), [{ startSec: 240, value: 5 }])
  assert.deepEqual(b.flush(330), [], 'nothing more to close inside the open bucket')
})

test('maskWindows blanks buckets whose start is inside a window', () => {
  const s = { startSec: 0, stepSeconds: 10, values: [1, 2, 3, 4, 5] }
  // window [15, 35) holds bucket starts 20 and 30.
  assert.deepEqual(maskWindows(s, [{ startSec: 15, endSec: 35 }]).values, [1, 2, null, null, 5])
})

test('sliceSeries moves the start with the slice', () => {
  assert.deepEqual(sliceSeries({ startSec: 100, stepSeconds: 10, values: [1, 2, 3, 4] }, 1, 3), { startSec: 110, stepSeconds: 10, values: [2, 3] })
})

test('observedSeconds counts only buckets with data', () => {
  assert.equal(observedSeconds({ startSec: 0, stepSeconds: 300, values: [1, null, 2, null] }), 600)
})
