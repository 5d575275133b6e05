/**
 * tide's default persistence: one SQLite file (or `:memory:`) holding group state,
 * the event log, instance records, metric history and alert deliveries. It is the
 * controller's StateStore and an EventSink, and the webhook sink's DeliveryLog.
 *
 * - WAL journal with synchronous=NORMAL: readers (the API, `tide backup`) never block
 *   the controller, and a commit survives a crash of tide (not necessarily a power cut
 *   within the last moments).
 * - busy_timeout: a second connection (a backup, the CLI) waits instead of failing.
 * - The schema is versioned by migrations (migrations.ts) and applied on open.
 * - Every write is one statement or one transaction: nothing half-applied.
 * - No clock is read here: every time is passed in (atMs, nowMs).
 *
 * better-sqlite3 is synchronous; a call blocks the event loop for its duration
 * (microseconds for these small writes), which is what StateStore asks for.
 */
import Database from 'better-sqlite3'
import type { EventSink, TideEvent } from './events.ts'
import { isEmptyOperatorState, type StateStore, type StoredBackupRun, type StoredGroupState, type StoredGroupStatus, type StoredLearnedState, type StoredOperation, type StoredOperatorState } from './state-store.ts'
import type { DeliveryAttempt, DeliveryLog } from './delivery-log.ts'
import type { InstanceRecord } from '../providers/provider.ts'
import { backupDatabase, type BackupResult } from './backup.ts'
import { StoreError, type Fence } from './errors.ts'
import { EventLog, type EventQuery, type StoredEvent } from './event-log.ts'
import { MetricHistory, type MetricSeries } from './metric-history.ts'
import { assertCurrentStore, migrate } from './migrations.ts'
import { acquireLock, releaseLock } from './store-lock.ts'
import { SqliteInstanceRegistry } from './sqlite-instance-registry.ts'
import type { TideStore } from './tide-store.ts'
import type { InstanceRegistry } from '../providers/local/instance-registry.ts'

/** Options of SqliteStore.open. */
export interface SqliteStoreOptions {
  /**
   * Take the store's lock row for this process (what `tide up` does), so that
   * `tide restore` and a second tide see the store is in use. Default false (readers,
   * tests, the simulator). Throws StoreLockedError when another live tide holds it.
   */
  readonly lock?: boolean
  /** How long a write waits for another connection's write lock, in ms. Default 5000. */
  readonly busyTimeoutMs?: number
  /** prune(nowMs) removes events and delivery records older than this, in ms. Default 90 days. */
  readonly eventRetentionMs?: number
  /**
   * Bring the schema up to date on open (default true, what `tide up` does). false: a reader
   * that changes nothing; a store at another schema version than this tide's is refused
   * (TIDE_ERR_STORE_VERSION), an empty file too (TIDE_ERR_STORE_NOT_A_STORE).
   */
  readonly migrate?: boolean
}

/** Filters of a delivery query. */
export interface DeliveryQuery {
  readonly group?: string
  readonly deliveryId?: string
  /** Most rows, newest first; default 100, at most 10 000. */
  readonly limit?: number
}

interface GroupRow {
  readonly desired_replicas: number
  readonly size_json: string
  readonly history_json: string
  readonly draining_json: string
  readonly protected_json: string
}

interface DeliveryRow {
  readonly delivery_id: string
  readonly at_ms: number
  readonly group_name: string
  readonly alert: DeliveryAttempt['alert']
  readonly event_type: DeliveryAttempt['eventType']
  readonly url: string
  readonly attempt: number
  readonly outcome: DeliveryAttempt['outcome']
  readonly status: number | null
  readonly error: string | null
}

const DAY_MS = 24 * 60 * 60 * 1000

/** The SQLite store. Open with SqliteStore.open(); close() when done. */
export class SqliteStore implements StateStore, EventSink, DeliveryLog, TideStore {
  /** The file as given (`:memory:` for an in-memory store). */
  readonly path: string
  /** TideStore: a SQLite file. */
  readonly kind = 'sqlite' as const
  readonly #db: Database.Database
  readonly #events: EventLog
  readonly #metrics: MetricHistory
  readonly #locked: boolean
  readonly #eventRetentionMs: number
  readonly #stmts: ReturnType<typeof prepareStatements>
  #droppedEvents = 0
  #lastAppendError: Error | undefined
  #closed = false

  private constructor(db: Database.Database, path: string, locked: boolean, eventRetentionMs: number) {
    this.#db = db
    this.path = path
    this.#locked = locked
    this.#eventRetentionMs = eventRetentionMs
    this.#events = new EventLog(db, path)
    this.#metrics = new MetricHistory(db, path)
    this.#stmts = prepareStatements(db)
  }

  /**
   * Opens (creating when absent) the store at `path` and brings its schema up to
   * date. Throws StoreError: TIDE_ERR_STORE_IO when the file cannot be opened,
   * TIDE_ERR_STORE_NOT_A_STORE for a foreign SQLite file, TIDE_ERR_STORE_VERSION for a
   * newer schema, TIDE_ERR_STORE_LOCKED when `lock` is asked and another tide holds it.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    let db: Database.Database
    try {
      db = new Database(path)
    } catch (err) {
      throw new StoreError('TIDE_ERR_STORE_IO', path, `cannot open store ${path}: ${(err as Error).message}`, { cause: err })
    }
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? 5000))}`)
      const migrating = options.migrate !== false
      if (path !== ':memory:' && migrating) db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('foreign_keys = ON')
      if (migrating) migrate(db, path)
      else assertCurrentStore(db, path)
      if (options.lock === true) acquireLock(db, path)
      return new SqliteStore(db, path, options.lock === true, options.eventRetentionMs ?? 90 * DAY_MS)
    } catch (err) {
      db.close()
      if (err instanceof StoreError) throw err
      const code = (err as { code?: unknown }).code
      const notDb = code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
      throw new StoreError(notDb ? 'TIDE_ERR_STORE_NOT_A_STORE' : 'TIDE_ERR_STORE_IO', path, `cannot open store ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  // ── StateStore ──────────────────────────────────────────────────────────────

  /** The group's persisted state, or undefined for a group never saved. */
  loadGroupState(group: string): StoredGroupState | undefined {
    const row = this.#stmts.loadGroup.get(group) as GroupRow | undefined
    if (row === undefined) return undefined
    try {
      return {
        desiredReplicas: row.desired_replicas,
        size: JSON.parse(row.size_json) as StoredGroupState['size'],
        history: JSON.parse(row.history_json) as StoredGroupState['history'],
        drainingIds: JSON.parse(row.draining_json) as string[],
        protectedIds: JSON.parse(row.protected_json) as string[],
      }
    } catch (err) {
      throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', this.path, `store ${this.path}: state of group '${group}' is not valid JSON: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Replaces the group's state in one statement (atomic). */
  saveGroupState(group: string, state: StoredGroupState): void {
    this.#stmts.saveGroup.run(
      group,
      state.desiredReplicas,
      JSON.stringify(state.size),
      JSON.stringify(state.history),
      JSON.stringify(state.drainingIds),
      JSON.stringify(state.protectedIds),
    )
  }

  /**
   * Replaces the group's latest status with `status` as JSON, in one statement. A status that
   * is not JSON-serialisable (a cycle, a BigInt) is a programmer's error: JSON.stringify's
   * TypeError is thrown as it is.
   */
  saveGroupStatus(group: string, status: StoredGroupStatus): void {
    this.#stmts.saveStatus.run(group, Math.round(status.atMs), JSON.stringify(status))
  }

  /** The group's latest saved status (parsed JSON), or undefined for a group never saved. */
  loadGroupStatus(group: string): StoredGroupStatus | undefined {
    const json = this.#stmts.loadStatus.get(group) as string | undefined
    if (json === undefined) return undefined
    try {
      return JSON.parse(json) as StoredGroupStatus
    } catch (err) {
      throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', this.path, `store ${this.path}: status of group '${group}' is not valid JSON: ${(err as Error).message}`, { cause: err })
    }
  }

  /**
   * Replaces what an operator set on the group, as JSON in one statement; a state that sets
   * nothing deletes the row (schema migration 3).
   */
  saveOperatorState(group: string, state: StoredOperatorState): void {
    if (isEmptyOperatorState(state)) this.#stmts.deleteOperator.run(group)
    else this.#stmts.saveOperator.run(group, JSON.stringify(state))
  }

  /** What an operator set on the group (parsed JSON); undefined when nothing. */
  loadOperatorState(group: string): StoredOperatorState | undefined {
    const json = this.#stmts.loadOperator.get(group) as string | undefined
    if (json === undefined) return undefined
    try {
      return JSON.parse(json) as StoredOperatorState
    } catch (err) {
      throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', this.path, `store ${this.path}: operator state of group '${group}' is not valid JSON: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Replaces the group's learned state (a checkpoint), as JSON in one statement (schema migration 4). */
  saveLearnedState(group: string, state: StoredLearnedState): void {
    this.#stmts.saveRecord.run(group, 'learned', JSON.stringify(state))
  }

  /** The group's last checkpoint of its learners (parsed JSON); undefined when none. */
  loadLearnedState(group: string): StoredLearnedState | undefined {
    return this.#record(group, 'learned', 'learned state') as StoredLearnedState | undefined
  }

  /** Replaces the group's unfinished operations, as JSON in one statement; an empty list deletes the row. */
  saveOperations(group: string, operations: readonly StoredOperation[]): void {
    if (operations.length === 0) this.#stmts.deleteRecord.run(group, 'operations')
    else this.#stmts.saveRecord.run(group, 'operations', JSON.stringify(operations))
  }

  /** The group's unfinished operations, oldest first; empty when none. */
  loadOperations(group: string): readonly StoredOperation[] {
    return (this.#record(group, 'operations', 'operations') as StoredOperation[] | undefined) ?? []
  }

  /** Replaces the group's backup runs, as JSON in one statement; an empty list deletes the row. */
  saveBackupRuns(group: string, runs: readonly StoredBackupRun[]): void {
    if (runs.length === 0) this.#stmts.deleteRecord.run(group, 'backups')
    else this.#stmts.saveRecord.run(group, 'backups', JSON.stringify(runs))
  }

  /** The group's backup runs; empty when none. */
  loadBackupRuns(group: string): readonly StoredBackupRun[] {
    return (this.#record(group, 'backups', 'backup runs') as StoredBackupRun[] | undefined) ?? []
  }

  /** One group record, parsed; a StoreError naming the group and the record when its JSON is broken. */
  #record(group: string, kind: string, what: string): unknown {
    const json = this.#stmts.loadRecord.get(group, kind) as string | undefined
    if (json === undefined) return undefined
    try {
      return JSON.parse(json) as unknown
    } catch (err) {
      throw new StoreError('TIDE_ERR_STORE_NOT_A_STORE', this.path, `store ${this.path}: ${what} of group '${group}' is not valid JSON: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Every group with a saved status, sorted. */
  listGroupStatuses(): string[] {
    return this.#stmts.listStatuses.all() as string[]
  }

  /** Every group with saved state, sorted. */
  listGroups(): string[] {
    return this.#stmts.listGroups.all() as string[]
  }

  /** Forgets a group's state, its status, its operator state and its records (a group removed from tide.yaml), in one transaction. */
  deleteGroupState(group: string): void {
    this.#db.transaction(() => {
      this.#stmts.deleteGroup.run(group)
      this.#stmts.deleteStatus.run(group)
      this.#stmts.deleteOperator.run(group)
      this.#stmts.deleteRecords.run(group)
    })()
  }

  // ── EventSink and the event log ─────────────────────────────────────────────

  /**
   * Appends an event to the log. Never throws (EventSink's contract): a failed write
   * (disk full, store closed) is counted in droppedEvents and kept in lastAppendError.
   */
  append(event: TideEvent): void {
    try {
      this.#events.insert(event)
    } catch (err) {
      this.#droppedEvents++
      this.#lastAppendError = err instanceof Error ? err : new Error(String(err))
    }
  }

  /** Events matching the query (newest first by default); see EventQuery. */
  queryEvents(query: EventQuery = {}): StoredEvent[] {
    return this.#events.query(query)
  }

  /** Events append() could not write. */
  get droppedEvents(): number {
    return this.#droppedEvents
  }

  /** Why the last failed append() failed. */
  get lastAppendError(): Error | undefined {
    return this.#lastAppendError
  }

  // ── Instance records ────────────────────────────────────────────────────────

  /** Inserts or replaces the record with the record's group and id; list order stays first-insert order. */
  upsertInstance(record: InstanceRecord): void {
    this.#stmts.upsertInstance.run(record.group, record.id, JSON.stringify(record))
  }

  /** The group's instance records, in the order they were first recorded. */
  listInstances(group: string): InstanceRecord[] {
    return (this.#stmts.listInstances.all(group) as string[]).map((json) => JSON.parse(json) as InstanceRecord)
  }

  /** Removes a record; removing an absent one does nothing. */
  removeInstance(group: string, id: string): void {
    this.#stmts.removeInstance.run(group, id)
  }

  // ── Metric history ──────────────────────────────────────────────────────────

  /**
   * Records one sample of a group's series (e.g. 'rps', 'cpu', 'p95') at `atMs`.
   * Returns false and records nothing for a non-finite value. See MetricHistory.record.
   */
  recordMetric(group: string, series: string, atMs: number, value: number): boolean {
    return this.#metrics.record(group, series, atMs, value)
  }

  /**
   * Buckets of stepMs over [fromMs, toMs), from the 1-second tier when the step is
   * under a minute and the range is within the last hour, else from the 1-minute
   * aggregates. See MetricHistory.query.
   */
  queryMetric(group: string, series: string, fromMs: number, toMs: number, stepMs: number): MetricSeries {
    return this.#metrics.query(group, series, fromMs, toMs, stepMs)
  }

  /** The series recorded for a group, sorted. */
  metricSeries(group: string): string[] {
    return this.#metrics.seriesOf(group)
  }

  // ── Alert deliveries ────────────────────────────────────────────────────────

  /** Records one webhook delivery attempt. Never throws (DeliveryLog's contract). */
  recordDelivery(a: DeliveryAttempt): void {
    try {
      this.#stmts.insertDelivery.run(a.deliveryId, a.atMs, a.group, a.alert, a.eventType, a.url, a.attempt, a.outcome, a.status ?? null, a.error ?? null)
    } catch (err) {
      this.#droppedEvents++
      this.#lastAppendError = err instanceof Error ? err : new Error(String(err))
    }
  }

  /** Delivery attempts, newest first. */
  queryDeliveries(query: DeliveryQuery = {}): DeliveryAttempt[] {
    const limit = query.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new StoreError('TIDE_ERR_STORE_QUERY', this.path, `delivery query: limit must be a whole number from 1 to 10000, got ${limit}`)
    }
    const where: string[] = []
    const params: string[] = []
    if (query.group !== undefined) {
      where.push('group_name = ?')
      params.push(query.group)
    }
    if (query.deliveryId !== undefined) {
      where.push('delivery_id = ?')
      params.push(query.deliveryId)
    }
    const sql = `SELECT * FROM alert_deliveries ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at_ms DESC, id DESC LIMIT ?`
    return (this.#db.prepare(sql).all(...params, limit) as DeliveryRow[]).map(toAttempt)
  }

  // ── TideStore: the store-neutral reads, flush ──────────────────────────────

  /** The file path (TideStore.location; a path holds no secret). */
  get location(): string {
    return this.path
  }

  /** queryEvents as a promise (TideStore); a bad query rejects. */
  readEvents(query: EventQuery = {}): Promise<StoredEvent[]> {
    return settle(() => this.queryEvents(query))
  }

  /** queryMetric as a promise (TideStore); a bad query rejects. */
  readMetric(group: string, series: string, fromMs: number, toMs: number, stepMs: number): Promise<MetricSeries> {
    return settle(() => this.queryMetric(group, series, fromMs, toMs, stepMs))
  }

  /** metricSeries as a promise (TideStore). */
  readMetricSeries(group: string): Promise<string[]> {
    return settle(() => this.metricSeries(group))
  }

  /** Every saved status, sorted by group (TideStore). */
  readGroupStatuses(): Promise<StoredGroupStatus[]> {
    return settle(() =>
      this.listGroupStatuses().flatMap((g) => {
        const s = this.loadGroupStatus(g)
        return s === undefined ? [] : [s]
      }),
    )
  }

  /** The local instances kept in this file (table local_instances). */
  instanceRegistry(): InstanceRegistry {
    return new SqliteInstanceRegistry(this)
  }

  /**
   * Nothing to send: every write above is committed when it returns. A fence is refused with
   * TIDE_ERR_STORE_UNSUPPORTED: a SQLite file has no lease (leadership needs store.url).
   */
  flush(fence?: Fence): Promise<void> {
    return settle(() => {
      if (fence !== undefined) throw new StoreError('TIDE_ERR_STORE_UNSUPPORTED', this.path, `store ${this.path}: a fenced write needs a PostgreSQL store (store.url); a SQLite file has no lease`)
    })
  }

  // ── Maintenance ─────────────────────────────────────────────────────────────

  /**
   * Removes what has aged out as of `nowMs`: 1-second metric points older than an
   * hour, minute aggregates older than 30 days, events and delivery records older than
   * eventRetentionMs. One transaction. recordMetric() already prunes metrics as time
   * passes; call this (e.g. once a minute) to age out events too.
   */
  prune(nowMs: number): void {
    this.#db.transaction(() => {
      this.#metrics.prune(nowMs)
      this.#events.pruneBefore(nowMs - this.#eventRetentionMs)
      this.#stmts.pruneDeliveries.run(nowMs - this.#eventRetentionMs)
    })()
  }

  /**
   * Writes a consistent copy of the store to `destPath` with SQLite's online backup,
   * while writes continue; the file at destPath is replaced atomically. The copy holds
   * no lock row. See backup.ts.
   */
  backup(destPath: string): Promise<BackupResult> {
    return backupDatabase(this.#db, this.path, destPath)
  }

  /**
   * The connection, for the store's own companions (SqliteInstanceRegistry). Other
   * code uses the methods above.
   */
  get database(): Database.Database {
    return this.#db
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#closed
  }

  /** Releases the lock (when held) and closes the file; WAL is checkpointed. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    try {
      if (this.#locked) releaseLock(this.#db)
    } finally {
      this.#db.close()
    }
  }
}

function prepareStatements(db: Database.Database) {
  return {
    loadGroup: db.prepare<[string]>('SELECT desired_replicas, size_json, history_json, draining_json, protected_json FROM group_state WHERE group_name = ?'),
    saveGroup: db.prepare<[string, number, string, string, string, string]>(
      `INSERT INTO group_state (group_name, desired_replicas, size_json, history_json, draining_json, protected_json) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_name) DO UPDATE SET desired_replicas = excluded.desired_replicas, size_json = excluded.size_json,
         history_json = excluded.history_json, draining_json = excluded.draining_json, protected_json = excluded.protected_json`,
    ),
    listGroups: db.prepare('SELECT group_name FROM group_state ORDER BY group_name').pluck(),
    deleteGroup: db.prepare<[string]>('DELETE FROM group_state WHERE group_name = ?'),
    saveStatus: db.prepare<[string, number, string]>(
      `INSERT INTO group_status (group_name, at_ms, status_json) VALUES (?, ?, ?)
       ON CONFLICT (group_name) DO UPDATE SET at_ms = excluded.at_ms, status_json = excluded.status_json`,
    ),
    loadStatus: db.prepare<[string]>('SELECT status_json FROM group_status WHERE group_name = ?').pluck(),
    listStatuses: db.prepare('SELECT group_name FROM group_status ORDER BY group_name').pluck(),
    deleteStatus: db.prepare<[string]>('DELETE FROM group_status WHERE group_name = ?'),
    saveOperator: db.prepare<[string, string]>('INSERT INTO group_operator (group_name, state_json) VALUES (?, ?) ON CONFLICT (group_name) DO UPDATE SET state_json = excluded.state_json'),
    loadOperator: db.prepare<[string]>('SELECT state_json FROM group_operator WHERE group_name = ?').pluck(),
    deleteOperator: db.prepare<[string]>('DELETE FROM group_operator WHERE group_name = ?'),
    saveRecord: db.prepare<[string, string, string]>(
      'INSERT INTO group_records (group_name, kind, record_json) VALUES (?, ?, ?) ON CONFLICT (group_name, kind) DO UPDATE SET record_json = excluded.record_json',
    ),
    loadRecord: db.prepare<[string, string]>('SELECT record_json FROM group_records WHERE group_name = ? AND kind = ?').pluck(),
    deleteRecord: db.prepare<[string, string]>('DELETE FROM group_records WHERE group_name = ? AND kind = ?'),
    deleteRecords: db.prepare<[string]>('DELETE FROM group_records WHERE group_name = ?'),
    upsertInstance: db.prepare<[string, string, string]>(
      'INSERT INTO instances (group_name, id, record_json) VALUES (?, ?, ?) ON CONFLICT (group_name, id) DO UPDATE SET record_json = excluded.record_json',
    ),
    listInstances: db.prepare<[string]>('SELECT record_json FROM instances WHERE group_name = ? ORDER BY rowid').pluck(),
    removeInstance: db.prepare<[string, string]>('DELETE FROM instances WHERE group_name = ? AND id = ?'),
    insertDelivery: db.prepare<[string, number, string, string, string, string, number, string, number | null, string | null]>(
      'INSERT INTO alert_deliveries (delivery_id, at_ms, group_name, alert, event_type, url, attempt, outcome, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    pruneDeliveries: db.prepare<[number]>('DELETE FROM alert_deliveries WHERE at_ms < ?'),
  }
}

/** fn's result as a promise; what it throws, as a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn())
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
}

function toAttempt(r: DeliveryRow): DeliveryAttempt {
  const base = { deliveryId: r.delivery_id, atMs: r.at_ms, group: r.group_name, alert: r.alert, eventType: r.event_type, url: r.url, attempt: r.attempt, outcome: r.outcome }
  const withStatus = r.status === null ? base : { ...base, status: r.status }
  return r.error === null ? withStatus : { ...withStatus, error: r.error }
}
