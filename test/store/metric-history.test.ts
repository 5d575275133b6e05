import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { isStoreError } from '../../src/store/errors.ts'
import { MINUTE_RETENTION_MS, SECOND_RETENTION_MS } from '../../src/store/metric-history.ts'
import { SqliteStore } from '../../src/store/sqlite-store.ts'
import { tempDir } from './temp-dir.ts'

// A minute boundary, so that minute aggregates line up with the samples below.
const T = Date.UTC(2026, 10, 11, 12, 0, 0)

function open(t: { after: (fn: () => void) => void }): SqliteStore {
  const store = SqliteStore.open(':memory:')
  t.after(() => { store.close(); })
  return store
}

test('samples in the same second are aggregated, not overwritten', (t) => {
  const store = open(t)
  store.recordMetric('web', 'rps', T + 0, 1)
  store.recordMetric('web', 'rps', T + 200, 2)
  store.recordMetric('web', 'rps', T + 900, 6)
  const got = store.queryMetric('web', 'rps', T, T + 1000, 1000)
  assert.equal(got.resolution, '1s')
  // avg = (1 + 2 + 6) / 3 = 3
  assert.deepEqual(got.points, [{ atMs: T, avg: 3, min: 1, max: 6, count: 3 }])
})

test('1-second buckets are re-aggregated to the step, aligned to fromMs', (t) => {
  const store = open(t)
  for (let s = 0; s < 20; s++) store.recordMetric('web', 'cpu', T + s * 1000, s)
  const got = store.queryMetric('web', 'cpu', T, T + 20_000, 5000)
  assert.equal(got.resolution, '1s')
  assert.equal(got.stepMs, 5000)
  // Buckets hold seconds 0–4, 5–9, 10–14, 15–19: averages 2, 7, 12, 17.
  assert.deepEqual(
    got.points.map((p) => [p.atMs - T, p.avg, p.min, p.max, p.count]),
    [
      [0, 2, 0, 4, 5],
      [5000, 7, 5, 9, 5],
      [10_000, 12, 10, 14, 5],
      [15_000, 17, 15, 19, 5],
    ],
  )
})

test('series and groups are kept apart', (t) => {
  const store = open(t)
  store.recordMetric('web', 'rps', T, 100)
  store.recordMetric('web', 'p95', T, 250)
  store.recordMetric('api', 'rps', T, 7)
  assert.equal(store.queryMetric('web', 'rps', T, T + 1000, 1000).points[0]?.avg, 100)
  assert.equal(store.queryMetric('api', 'rps', T, T + 1000, 1000).points[0]?.avg, 7)
  assert.deepEqual(store.metricSeries('web'), ['p95', 'rps'])
})

test('a step of a minute or more reads the minute aggregates', (t) => {
  const store = open(t)
  // Three minutes, one sample every 10 s; minute m holds values 10m … 10m+5.
  for (let m = 0; m < 3; m++) for (let k = 0; k < 6; k++) store.recordMetric('web', 'rps', T + m * 60_000 + k * 10_000, 10 * m + k)
  const got = store.queryMetric('web', 'rps', T, T + 180_000, 60_000)
  assert.equal(got.resolution, '1m')
  // avg of 10m … 10m+5 is 10m + 2.5
  assert.deepEqual(
    got.points.map((p) => [p.atMs - T, p.avg, p.min, p.max, p.count]),
    [
      [0, 2.5, 0, 5, 6],
      [60_000, 12.5, 10, 15, 6],
      [120_000, 22.5, 20, 25, 6],
    ],
  )
  const wide = store.queryMetric('web', 'rps', T, T + 180_000, 90_000)
  // 90 s rounds to whole minutes: 2 minutes.
  assert.equal(wide.stepMs, 120_000)
  assert.deepEqual(
    wide.points.map((p) => p.count),
    [12, 6],
  )
})

test('1-second points older than an hour are pruned and the minute tier answers for them', (t) => {
  const store = open(t)
  for (let s = 0; s < 60; s++) store.recordMetric('web', 'rps', T + s * 1000, 4)
  // Time moves on by two hours: recording enters a new minute and prunes.
  store.recordMetric('web', 'rps', T + 2 * SECOND_RETENTION_MS, 9)
  const old = store.queryMetric('web', 'rps', T, T + 60_000, 1000)
  assert.equal(old.resolution, '1m')
  assert.deepEqual(old.points, [{ atMs: T, avg: 4, min: 4, max: 4, count: 60 }])
  const recent = store.queryMetric('web', 'rps', T + 2 * SECOND_RETENTION_MS, T + 2 * SECOND_RETENTION_MS + 1000, 1000)
  assert.equal(recent.resolution, '1s')
  assert.equal(recent.points[0]?.avg, 9)
})

test('minute aggregates older than 30 days are pruned', (t) => {
  const store = open(t)
  store.recordMetric('web', 'rps', T, 4)
  store.prune(T + MINUTE_RETENTION_MS - 60_000)
  assert.equal(store.queryMetric('web', 'rps', T, T + 60_000, 60_000).points.length, 1, 'kept just inside 30 days')
  store.prune(T + MINUTE_RETENTION_MS + 60_000)
  assert.deepEqual(store.queryMetric('web', 'rps', T, T + 60_000, 60_000).points, [])
})

test('non-finite values are refused and leave no trace', (t) => {
  const store = open(t)
  assert.equal(store.recordMetric('web', 'rps', T, Number.NaN), false)
  assert.equal(store.recordMetric('web', 'rps', T, Number.POSITIVE_INFINITY), false)
  assert.equal(store.recordMetric('web', 'rps', T, 3), true)
  assert.deepEqual(
    store.queryMetric('web', 'rps', T, T + 1000, 1000).points.map((p) => p.count),
    [1],
  )
})

test('metric history survives close and reopen', (t) => {
  const path = join(tempDir(t), 'tide.db')
  const a = SqliteStore.open(path)
  for (let s = 0; s < 5; s++) a.recordMetric('web', 'p95', T + s * 1000, 100 + s)
  a.close()
  const b = SqliteStore.open(path)
  t.after(() => { b.close(); })
  assert.equal(b.queryMetric('web', 'p95', T, T + 5000, 5000).points[0]?.avg, 102)
})

const badQueries = [
  { name: 'empty range', from: T, to: T, step: 1000 },
  { name: 'step under a second', from: T, to: T + 1000, step: 500 },
  { name: 'too many buckets', from: T, to: T + 30 * 24 * 3600_000, step: 1000 },
] as const
for (const c of badQueries) {
  test(`query refuses ${c.name}`, (t) => {
    const store = open(t)
    assert.throws(
      () => store.queryMetric('web', 'rps', c.from, c.to, c.step),
      (err: unknown) => isStoreError(err, 'TIDE_ERR_STORE_QUERY') && err.message.includes('web/rps'),
    )
  })
}
