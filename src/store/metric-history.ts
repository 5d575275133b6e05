/**
 * Metric history per group and series ('rps', 'cpu', 'p95', …), downsampled in two
 * tiers as DESIGN.md asks: 1-second points kept for an hour, 1-minute aggregates
 * kept for 30 days. Both tiers are updated by every recordMetric() in one transaction
 * (so there is no rollup job to fall behind and nothing half-applied), and each tier
 * keeps sum, count, min and max so that any bucket size can be re-aggregated exactly.
 * Time is always passed in: pruning runs when the time recorded crosses a minute
 * (or when prune(nowMs) is called), never from a clock read.
 */
import type Database from 'better-sqlite3'
import { StoreError } from './errors.ts'

/** How long 1-second points are kept: one hour. */
export const SECOND_RETENTION_MS = 60 * 60 * 1000
/** How long 1-minute aggregates are kept: 30 days. */
export const MINUTE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000
/** The most buckets one query may return; a larger range needs a larger step. */
export const MAX_QUERY_BUCKETS = 100_000

/** One bucket of a metric query: the samples whose time falls in [atMs, atMs + stepMs). */
export interface MetricPoint {
  /** Start of the bucket, epoch ms; buckets are aligned to the query's fromMs. */
  readonly atMs: number
  /** Mean of the samples in the bucket. */
  readonly avg: number
  readonly min: number
  readonly max: number
  /** How many samples were recorded in the bucket. */
  readonly count: number
}

/** The answer of queryMetric: which tier answered and the non-empty buckets, oldest first. */
export interface MetricSeries {
  /** '1s' when the 1-second tier answered, '1m' when the 1-minute aggregates did. */
  readonly resolution: '1s' | '1m'
  /** The bucket width actually used; at least 60 000 when resolution is '1m'. */
  readonly stepMs: number
  /** Buckets with at least one sample (empty buckets are left out). */
  readonly points: readonly MetricPoint[]
}

interface BucketRow {
  readonly b: number
  readonly total: number
  readonly n: number
  readonly lo: number
  readonly hi: number
}

/** The two-tier metric tables of one store connection. Owned by SqliteStore. */
export class MetricHistory {
  readonly #db: Database.Database
  readonly #path: string
  readonly #upsertSecond: Database.Statement<[string, string, number, number, number, number]>
  readonly #upsertMinute: Database.Statement<[string, string, number, number, number, number]>
  readonly #record: (group: string, series: string, atMs: number, value: number) => void
  readonly #prune: (nowMs: number) => void
  /** The minute (epoch minutes) in which pruning last ran; pruning runs at most once per minute of recorded time. */
  #lastPruneMinute: number | undefined

  constructor(db: Database.Database, path: string) {
    this.#db = db
    this.#path = path
    const upsert = (table: string, col: string) =>
      db.prepare<[string, string, number, number, number, number]>(
        `INSERT INTO ${table} (group_name, series, ${col}, sum, count, min, max) VALUES (?, ?, ?, ?, 1, ?, ?)
         ON CONFLICT (group_name, series, ${col}) DO UPDATE SET
           sum = sum + excluded.sum, count = count + 1, min = MIN(min, excluded.min), max = MAX(max, excluded.max)`,
      )
    this.#upsertSecond = upsert('metric_seconds', 'at_s')
    this.#upsertMinute = upsert('metric_minutes', 'at_min')
    const deleteSeconds = db.prepare<[number]>('DELETE FROM metric_seconds WHERE at_s < ?')
    const deleteMinutes = db.prepare<[number]>('DELETE FROM metric_minutes WHERE at_min < ?')
    const setCutoff = db.prepare<[string]>(`INSERT INTO meta (key, value) VALUES ('metric_seconds_cutoff_ms', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
    this.#record = db.transaction((group: string, series: string, atMs: number, value: number) => {
      this.#upsertSecond.run(group, series, Math.floor(atMs / 1000), value, value, value)
      this.#upsertMinute.run(group, series, Math.floor(atMs / 60_000), value, value, value)
    })
    this.#prune = db.transaction((nowMs: number) => {
      const secondsCutoffMs = nowMs - SECOND_RETENTION_MS
      deleteSeconds.run(Math.ceil(secondsCutoffMs / 1000))
      deleteMinutes.run(Math.ceil((nowMs - MINUTE_RETENTION_MS) / 60_000))
      if (secondsCutoffMs > this.#secondsCutoffMs()) setCutoff.run(String(secondsCutoffMs))
    })
  }

  /**
   * Records one sample. Several samples in the same second are aggregated (the
   * second's avg/min/max/count), never overwritten. Returns false, recording nothing,
   * for a non-finite value (NaN from a broken source must not poison the averages).
   * Prunes both tiers when `atMs` enters a new minute, taking `atMs` as "now".
   */
  record(group: string, series: string, atMs: number, value: number): boolean {
    if (!Number.isFinite(value) || !Number.isFinite(atMs)) return false
    this.#record(group, series, atMs, value)
    const minute = Math.floor(atMs / 60_000)
    if (this.#lastPruneMinute === undefined || minute > this.#lastPruneMinute) {
      this.#lastPruneMinute = minute
      this.#prune(atMs)
    }
    return true
  }

  /** Drops 1-second points older than an hour before `nowMs` and minute aggregates older than 30 days. */
  prune(nowMs: number): void {
    this.#prune(nowMs)
  }

  /**
   * Returns the samples of [fromMs, toMs) in buckets of `stepMs` aligned to fromMs.
   * The 1-second tier answers when stepMs is under a minute and the range starts no
   * earlier than the oldest time that tier still covers (an hour before the last
   * prune); otherwise the minute tier answers, with the step raised to at least a
   * minute and rounded to whole minutes. Throws StoreError (TIDE_ERR_STORE_QUERY)
   * for an empty range, a step under one second, or more than MAX_QUERY_BUCKETS buckets.
   */
  query(group: string, series: string, fromMs: number, toMs: number, stepMs: number): MetricSeries {
    if (!(Number.isFinite(fromMs) && Number.isFinite(toMs) && toMs > fromMs)) {
      throw new StoreError('TIDE_ERR_STORE_QUERY', this.#path, `metric query ${group}/${series}: toMs (${toMs}) must be after fromMs (${fromMs})`)
    }
    if (!(Number.isFinite(stepMs) && stepMs >= 1000)) {
      throw new StoreError('TIDE_ERR_STORE_QUERY', this.#path, `metric query ${group}/${series}: stepMs must be at least 1000, got ${stepMs}`)
    }
    const useSeconds = stepMs < 60_000 && fromMs >= this.#secondsCutoffMs()
    const step = useSeconds ? Math.round(stepMs / 1000) * 1000 : Math.max(1, Math.round(stepMs / 60_000)) * 60_000
    if ((toMs - fromMs) / step > MAX_QUERY_BUCKETS) {
      throw new StoreError(
        'TIDE_ERR_STORE_QUERY',
        this.#path,
        `metric query ${group}/${series}: ${Math.ceil((toMs - fromMs) / step)} buckets of ${step} ms exceed the limit of ${MAX_QUERY_BUCKETS}; use a larger stepMs`,
      )
    }
    const [table, col, unitMs] = useSeconds ? ['metric_seconds', 'at_s', 1000] : ['metric_minutes', 'at_min', 60_000]
    // A row at unit u covers [u·unitMs, (u+1)·unitMs); it belongs to the bucket of its start time.
    const rows = this.#db
      .prepare<[number, number, string, string, number, number]>(
        `SELECT CAST((${col} * ${unitMs} - ?) / ? AS INTEGER) AS b, SUM(sum) AS total, SUM(count) AS n, MIN(min) AS lo, MAX(max) AS hi
         FROM ${table} WHERE group_name = ? AND series = ? AND ${col} * ${unitMs} >= ? AND ${col} * ${unitMs} < ?
         GROUP BY b ORDER BY b`,
      )
      .all(fromMs, step, group, series, fromMs, toMs) as BucketRow[]
    return {
      resolution: useSeconds ? '1s' : '1m',
      stepMs: step,
      points: rows.map((r) => ({ atMs: fromMs + r.b * step, avg: r.total / r.n, min: r.lo, max: r.hi, count: r.n })),
    }
  }

  /** The series names recorded for a group, sorted. */
  seriesOf(group: string): string[] {
    return this.#db.prepare<[string]>('SELECT DISTINCT series FROM metric_minutes WHERE group_name = ? ORDER BY series').pluck().all(group) as string[]
  }

  /** The earliest time the 1-second tier still covers (−∞ before the first prune). */
  #secondsCutoffMs(): number {
    const v = this.#db.prepare(`SELECT value FROM meta WHERE key = 'metric_seconds_cutoff_ms'`).pluck().get() as string | undefined
    return v === undefined ? -Infinity : Number(v)
  }
}
