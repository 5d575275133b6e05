/**
 * The event log and metric history as the API answers them, over the store's asynchronous reads:
 * one implementation for the leader's TideService and a standby's StandbyReadModel, so that a
 * page, a cursor, a default range or step means the same whichever tide answers.
 */
import { MAX_EVENT_LIMIT, type EventQuery, type StoredEvent } from '../store/event-log.ts'
import type { MetricSeries } from '../store/metric-history.ts'
import { ApiError } from './errors.ts'
import type { TideEventType } from '../store/events.ts'

/** Filters of an event query; they combine with AND. */
export interface EventsQuery {
  readonly group?: string
  readonly types?: readonly TideEventType[]
  /** Inclusive lower bound, ms since the epoch. */
  readonly sinceMs?: number
  /** Exclusive upper bound, ms since the epoch. */
  readonly untilMs?: number
  /** Most events in the page, 1 to MAX_EVENT_LIMIT (default 100). */
  readonly limit?: number
  /** The `nextCursor` of the page before: the events older than it. */
  readonly cursor?: string
}

/** One page of events, newest first. */
export interface EventsPage {
  readonly events: readonly StoredEvent[]
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  readonly nextCursor?: string
}

/** A metric history query: which series, over which time, in buckets of which width. */
export interface MetricsQuery {
  /** Series names ('rps', 'p95', 'instances', 'desired', 'forecast_rps', …); all the group has when absent. */
  readonly series?: readonly string[]
  /** Inclusive start, ms since the epoch; default an hour before `toMs`. */
  readonly fromMs?: number
  /** Exclusive end, ms since the epoch; default now. */
  readonly toMs?: number
  /** Bucket width, ms, at least 1000; default the range split in about 360 buckets, whole seconds. */
  readonly stepMs?: number
}

/** A group's metric history: each series as the store answered it. */
export interface MetricsAnswer {
  readonly group: string
  readonly fromMs: number
  readonly toMs: number
  readonly series: Readonly<Record<string, MetricSeries>>
}

/** The store reads these answers need (TideStore has them; so does the PostgreSQL store's reader). */
export interface HistoryReads {
  readEvents(query?: EventQuery): Promise<StoredEvent[]>
  readMetric(group: string, series: string, fromMs: number, toMs: number, stepMs: number): Promise<MetricSeries>
  readMetricSeries(group: string): Promise<string[]>
}

/** The page `q` asks for, checked: limit 1..MAX_EVENT_LIMIT (100 by default), since before until, a cursor that is an event id. */
function pageOf(q: EventsQuery): { limit: number; beforeId?: number } {
  const limit = q.limit ?? 100
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_LIMIT) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `limit must be a whole number from 1 to ${MAX_EVENT_LIMIT}, got ${limit}`)
  if (q.sinceMs !== undefined && q.untilMs !== undefined && !(q.sinceMs < q.untilMs)) {
    throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `since (${new Date(q.sinceMs).toISOString()}) must be before until (${new Date(q.untilMs).toISOString()})`)
  }
  if (q.cursor === undefined) return { limit }
  if (!/^[1-9][0-9]{0,15}$/.test(q.cursor)) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `cursor must be the nextCursor of an earlier page, got ${JSON.stringify(q.cursor)}`)
  return { limit, beforeId: Number(q.cursor) }
}

/** A page of the event log, newest first; `nextCursor` (the page's last id) when the page is full. */
export async function eventsPage(reads: HistoryReads, q: EventsQuery = {}): Promise<EventsPage> {
  const { limit, beforeId } = pageOf(q)
  const events = await reads.readEvents({
    limit,
    order: 'desc',
    ...(q.group === undefined ? {} : { group: q.group }),
    ...(q.types === undefined ? {} : { types: q.types }),
    ...(q.sinceMs === undefined ? {} : { fromMs: q.sinceMs }),
    ...(q.untilMs === undefined ? {} : { toMs: q.untilMs }),
    ...(beforeId === undefined ? {} : { beforeId }),
  })
  const last = events.at(-1)
  return events.length === limit && last !== undefined ? { events, nextCursor: String(last.id) } : { events }
}

/**
 * A group's metric history: the last hour up to `nowMs` unless the query says, in about 360
 * buckets (a chart's width, whole seconds) unless it gives a step; every recorded series unless it
 * names some (a series never recorded answers with no points). The caller checks the group exists.
 */
export async function metricHistory(reads: HistoryReads, group: string, q: MetricsQuery, nowMs: number): Promise<MetricsAnswer> {
  const toMs = q.toMs ?? nowMs
  const fromMs = q.fromMs ?? toMs - 3_600_000
  if (!(fromMs < toMs)) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `from (${new Date(fromMs).toISOString()}) must be before to (${new Date(toMs).toISOString()})`)
  const stepMs = q.stepMs ?? Math.max(1000, Math.ceil((toMs - fromMs) / 360 / 1000) * 1000)
  const names = q.series ?? (await reads.readMetricSeries(group))
  const series: Record<string, MetricSeries> = {}
  for (const name of names) series[name] = await reads.readMetric(group, name, fromMs, toMs, stepMs)
  return { group, fromMs, toMs, series }
}
