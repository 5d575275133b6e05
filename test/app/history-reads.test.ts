import { test } from 'node:test'
import assert from 'node:assert/strict'
import { eventsPage, metricHistory, type HistoryReads } from '../../src/app/history-reads.ts'
import type { EventQuery, StoredEvent } from '../../src/store/event-log.ts'
import type { MetricSeries } from '../../src/store/metric-history.ts'

/** Reads that remember what they were asked and answer `events` (ids 5, 4, …) and empty series. */
function reads(events: number): HistoryReads & { asked: unknown[] } {
  const asked: unknown[] = []
  return {
    asked,
    readEvents(q?: EventQuery) {
      asked.push(q)
      const ids = Array.from({ length: events }, (_, i) => events - i).filter((id) => q?.beforeId === undefined || id < q.beforeId)
      return Promise.resolve(ids.slice(0, q?.limit ?? 100).map((id) => ({ id }) as unknown as StoredEvent))
    },
    readMetric(group: string, series: string, fromMs: number, toMs: number, stepMs: number) {
      asked.push({ group, series, fromMs, toMs, stepMs })
      return Promise.resolve({ points: [] } as unknown as MetricSeries)
    },
    readMetricSeries() {
      return Promise.resolve(['rps', 'p95'])
    },
  }
}

test('eventsPage: a full page has a cursor that reads the next, older page; the last has none', async () => {
  const r = reads(5)
  const first = await eventsPage(r, { limit: 2, group: 'web' })
  assert.deepEqual(first.events.map((e) => e.id), [5, 4])
  assert.equal(first.nextCursor, '4')
  assert.deepEqual(r.asked[0], { limit: 2, order: 'desc', group: 'web' })
  const last = await eventsPage(r, { limit: 10, cursor: first.nextCursor })
  assert.deepEqual(last.events.map((e) => e.id), [3, 2, 1])
  assert.equal(last.nextCursor, undefined)
})

test('eventsPage: a bad limit, range or cursor is a BAD_REQUEST naming it', async () => {
  for (const [q, re] of [
    [{ limit: 0 }, /limit/],
    [{ limit: 10_001 }, /limit/],
    [{ sinceMs: 2, untilMs: 1 }, /since .* must be before until/],
    [{ cursor: 'x' }, /cursor/],
  ] as const) {
    await assert.rejects(eventsPage(reads(1), q), (e: Error & { code?: string }) => e.code === 'TIDE_ERR_API_BAD_REQUEST' && re.test(e.message))
  }
})

test('metricHistory: the last hour to now in whole-second buckets of about 360, every recorded series by default', async () => {
  const r = reads(0)
  const a = await metricHistory(r, 'web', {}, 7_200_000)
  assert.deepEqual([a.fromMs, a.toMs, Object.keys(a.series)], [3_600_000, 7_200_000, ['rps', 'p95']])
  assert.deepEqual(r.asked[0], { group: 'web', series: 'rps', fromMs: 3_600_000, toMs: 7_200_000, stepMs: 10_000 })
  const b = await metricHistory(r, 'web', { series: ['rps'], fromMs: 0, toMs: 1000 }, 7_200_000)
  assert.deepEqual(Object.keys(b.series), ['rps'])
  assert.equal((r.asked.at(-1) as { stepMs: number }).stepMs, 1000)
  await assert.rejects(metricHistory(r, 'web', { fromMs: 5, toMs: 5 }, 0), /from .* must be before to/)
})
