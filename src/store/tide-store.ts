/**
 * The store as a running tide and its readers see it, whatever its kind: SQLite (one file, one
 * process: sqlite-store.ts) or PostgreSQL (several processes, HA: postgres/postgres-store.ts).
 *
 * Writes stay synchronous (StateStore, EventSink, DeliveryLog, recordMetric, the instance
 * registry) because the controller and the simulator call them hundreds of thousands of times;
 * a PostgreSQL store answers them from an in-memory mirror and buffers them, and `flush()` sends
 * the buffer in one round trip (the run loop awaits it after every tick). SQLite writes at once,
 * so its flush has nothing to do. Reads that the mirror does not hold (the event log, the metric
 * history, the statuses of every group) are asynchronous and go to the database.
 */
import type { InstanceRegistry } from '../providers/local/instance-registry.ts'
import type { DeliveryLog } from './delivery-log.ts'
import type { Fence } from './errors.ts'
import type { EventQuery, StoredEvent } from './event-log.ts'
import type { EventSink } from './events.ts'
import type { MetricSeries } from './metric-history.ts'
import type { StateStore, StoredGroupStatus } from './state-store.ts'

/** The kinds of store: a SQLite file, or a PostgreSQL database. */
export type StoreKind = 'sqlite' | 'postgres'

/**
 * What the API, the CLI and the replay read from a store: asynchronous, so that a PostgreSQL
 * store can ask the database. Errors reject (TIDE_ERR_STORE_QUERY for out-of-range arguments,
 * TIDE_ERR_STORE_IO when the database cannot be reached).
 */
export interface StoreReader {
  /** Events matching the query (newest first by default); see EventQuery. */
  readEvents(query?: EventQuery): Promise<StoredEvent[]>
  /** Buckets of stepMs over [fromMs, toMs) of one series (MetricHistory.query's tiers and bounds). */
  readMetric(group: string, series: string, fromMs: number, toMs: number, stepMs: number): Promise<MetricSeries>
  /** The series recorded for a group, sorted. */
  readMetricSeries(group: string): Promise<string[]>
  /** The latest saved status of every group that has one, sorted by group. */
  readGroupStatuses(): Promise<StoredGroupStatus[]>
}

/** A running tide's store: the controller's StateStore, an event sink, the alerts' delivery log, the metric history and the local instances. */
export interface TideStore extends StateStore, EventSink, DeliveryLog, StoreReader {
  readonly kind: StoreKind
  /** Where the store is, safe to print: the file path, or the URL with its password replaced by `***`. */
  readonly location: string
  /** Records one metric sample; false (nothing recorded) for a non-finite value or time. */
  recordMetric(group: string, series: string, atMs: number, value: number): boolean
  /** Ages out metric points, events and delivery records as of nowMs (once a minute is plenty). */
  prune(nowMs: number): void
  /** The local provider's instance registry kept in this store (survives a restart of tide). */
  instanceRegistry(): InstanceRegistry
  /**
   * Makes the writes so far durable: one round trip for a PostgreSQL store (rejects when the
   * database cannot be reached: the batch is kept for the next flush; FencedError when `fence`
   * no longer holds: the batch is dropped). With `fence`, nothing is written unless the lease
   * row named by it still has that holder and epoch. SQLite writes at once: its flush resolves
   * at once, and refuses a fence (no lease in a SQLite file).
   */
  flush(fence?: Fence): Promise<void>
  /**
   * Flushes what is pending (PostgreSQL, best effort; with `fence`, as flush(fence): a fenced-off
   * leader's last writes are dropped, never written unfenced) and closes; idempotent. SQLite
   * closes synchronously and ignores the fence.
   */
  close(fence?: Fence): void | Promise<void>
}
