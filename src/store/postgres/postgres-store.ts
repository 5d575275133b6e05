/**
 * tide's PostgreSQL store (`store.url: postgres://…`), for several tide processes sharing one
 * database (HA: one leads, the others stand by; the lease is in `tide_lease`).
 *
 * The controller's ports stay synchronous (the simulator and every tick call them many times):
 * - an in-memory MIRROR of the per-group state (state, status, operator state: one jsonb row per
 *   (group, kind) in `tide_group_kv`) and of the local instance registry is loaded at open and
 *   answers every synchronous read;
 * - every synchronous write changes the mirror and goes into a PENDING batch (last write wins per
 *   row; events, deliveries in order; metric samples pre-aggregated per second and per minute);
 * - `flush(fence?)` sends the batch as ONE call of `tide_flush(jsonb, jsonb)`: one round trip and
 *   one transaction per tick, fenced by the lease when a fence is given.
 *
 * A failed flush keeps the batch (merged with later writes) for the next flush: nothing is lost
 * while the database is away, within bounds (PostgresStoreLimits: per-second metric buckets are
 * dropped first, oldest first, then minute buckets, events and deliveries, each past its own cap;
 * per-group state and instance rows are one per row and never dropped). A batch whose answer was
 * lost (the connection died after sending) is resent with the same sequence number, and the
 * database skips it when it had applied it (`tide_flush_marks`): applied once. A FENCED flush
 * drops the batch: those writes come from a tide that no longer leads.
 *
 * The event log, the metric history and the statuses of every group are read from the database
 * (StoreReader), so a standby or `tide status --store` sees what the leader flushed.
 * Every time stored is passed in; the wall clock is read only for the log line that says since
 * when flushes fail.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { InstanceRegistry, LocalInstanceEntry } from '../../providers/local/instance-registry.ts'
import type { DeliveryAttempt } from '../delivery-log.ts'
import { FencedError, StoreError, type Fence } from '../errors.ts'
import { MAX_EVENT_LIMIT, type DecisionSummary, type EventQuery, type StoredEvent } from '../event-log.ts'
import type { TideEvent, TideEventType } from '../events.ts'
import { MAX_QUERY_BUCKETS, MINUTE_RETENTION_MS, SECOND_RETENTION_MS, type MetricSeries } from '../metric-history.ts'
import { isEmptyOperatorState, type StoredBackupRun, type StoredGroupState, type StoredGroupStatus, type StoredLearnedState, type StoredOperation, type StoredOperatorState } from '../state-store.ts'
import type { TideStore } from '../tide-store.ts'
import { assertCurrentPostgres, migratePostgres } from './migrations.ts'
import { redactPostgresUrl, scrubPassword } from '../../core/postgres-url.ts'

/** How much a PostgreSQL store buffers while flushes fail; past a cap, the oldest of that kind is dropped (and counted). */
export interface PostgresStoreLimits {
  /** Per-second metric buckets (group, series, second). Default 100 000 (over an hour of 25 series: the tier keeps an hour anyway). */
  readonly seconds: number
  /** Per-minute metric buckets. Default 100 000 (over two days of 25 series). */
  readonly minutes: number
  /** Events. Default 20 000. */
  readonly events: number
  /** Alert delivery records. Default 10 000. */
  readonly deliveries: number
}

/** The default PostgresStoreLimits. */
export const DEFAULT_PG_LIMITS: PostgresStoreLimits = { seconds: 100_000, minutes: 100_000, events: 20_000, deliveries: 10_000 }

/** Options of PostgresStore.open. */
export interface PostgresStoreOptions {
  /** Most connections (one flushes, the others read). Default 4. */
  readonly poolSize?: number
  /** How long opening a connection may take, ms. Default 5000. */
  readonly connectTimeoutMs?: number
  /** statement_timeout of every statement, ms (the client gives up 5 s later). Default 30 000. */
  readonly statementTimeoutMs?: number
  /** prune(nowMs) removes events and delivery records older than this, ms. Default 90 days. */
  readonly eventRetentionMs?: number
  /** What is buffered while flushes fail. */
  readonly limits?: Partial<PostgresStoreLimits>
  /**
   * Where the store says what happened to it: a flush failing (once per streak), recovering (with
   * what was dropped meanwhile), a connection lost. Lines hold no password. Default: nowhere.
   */
  readonly log?: (line: string) => void
  /**
   * Bring the schema up to date on open (default true, what `tide up` does). false: a reader
   * that changes nothing; a database without tide's tables, or at another schema version than
   * this tide's, is refused (assertCurrentPostgres).
   */
  readonly migrate?: boolean
}

/** What a PostgreSQL store has dropped or failed, for status lines and tests. */
export interface PostgresStoreCounters {
  /** Flushes that reached the database and were applied. */
  readonly flushes: number
  /** Round trips: flush calls sent plus queries of the readers (not the open). */
  readonly roundTrips: number
  /** Flushes that failed (the batch was kept). */
  readonly failedFlushes: number
  /** Buffered items dropped past a cap while flushes failed, by kind. */
  readonly dropped: Readonly<Record<keyof PostgresStoreLimits, number>>
}

const DAY_MS = 24 * 60 * 60 * 1000
/** The per-group kinds this store keeps in tide_group_kv. */
const KIND_STATE = 'state'
const KIND_STATUS = 'status'
const KIND_OPERATOR = 'operator'
const KIND_LEARNED = 'learned'
const KIND_OPERATIONS = 'operations'
const KIND_BACKUPS = 'backups'
/** How many in-doubt batches are resent separately before the oldest are merged (bounding memory). */
const MAX_IN_DOUBT = 8

interface Bucket {
  g: string
  s: string
  t: number
  sum: number
  n: number
  lo: number
  hi: number
}

/** One tick's writes. JSON fragments are serialised when written, so later changes to an object do not leak in. */
interface Batch {
  seq: number
  deleteGroups: Set<string>
  /** `group\0kind` → the value's JSON, or null to delete the row. */
  kv: Map<string, { g: string; k: string; json: string | null }>
  /** `group\0id` → the entry's JSON, or null to delete the row. */
  instances: Map<string, { g: string; id: string; json: string | null }>
  /** Each event's JSON. */
  events: string[]
  seconds: Map<string, Bucket>
  minutes: Map<string, Bucket>
  /** Each delivery's JSON. */
  deliveries: string[]
  prune: { secondsBefore: number; minutesBefore: number; secondsCutoffMs: number; eventsBefore?: number } | undefined
}

function emptyBatch(seq: number): Batch {
  return { seq, deleteGroups: new Set(), kv: new Map(), instances: new Map(), events: [], seconds: new Map(), minutes: new Map(), deliveries: [], prune: undefined }
}

function isEmptyBatch(b: Batch): boolean {
  return b.deleteGroups.size === 0 && b.kv.size === 0 && b.instances.size === 0 && b.events.length === 0 && b.seconds.size === 0 && b.minutes.size === 0 && b.deliveries.length === 0 && b.prune === undefined
}

interface EventRow {
  readonly id: number
  readonly at_ms: number
  readonly group_name: string
  readonly type: TideEventType
  readonly message: string
  readonly instance_id: string | null
  readonly decision: DecisionSummary | null
}

/** The PostgreSQL store. Open with PostgresStore.open(url); close() when done. */
export class PostgresStore implements TideStore {
  readonly kind = 'postgres' as const
  /** The URL with its password redacted. */
  readonly location: string
  readonly #url: string
  readonly #pool: pg.Pool
  readonly #limits: PostgresStoreLimits
  readonly #eventRetentionMs: number
  readonly #log: (line: string) => void
  /** Identifies this store's batches in tide_flush_marks (one per open). */
  readonly #writer = randomUUID()
  /** group → kind → value. */
  readonly #kv = new Map<string, Map<string, unknown>>()
  /** group → id → entry, in first-put order. */
  readonly #instances = new Map<string, Map<string, LocalInstanceEntry>>()
  #seq = 0
  #pending: Batch
  /** Batches sent whose outcome is unknown (the connection died after sending): resent first, with their own seq. */
  #inDoubt: Batch[] = []
  #chain: Promise<unknown> = Promise.resolve()
  #lastPruneMinute: number | undefined
  #failing: { since: number; error: string } | undefined
  #closed = false
  #counters = { flushes: 0, roundTrips: 0, failedFlushes: 0, dropped: { seconds: 0, minutes: 0, events: 0, deliveries: 0 } }
  /** What was dropped when the current failure streak began, to report the difference on recovery. */
  #droppedAtStreak = 0

  private constructor(url: string, location: string, pool: pg.Pool, options: PostgresStoreOptions) {
    this.#url = url
    this.location = location
    this.#pool = pool
    this.#limits = { ...DEFAULT_PG_LIMITS, ...options.limits }
    this.#eventRetentionMs = options.eventRetentionMs ?? 90 * DAY_MS
    this.#log = options.log ?? (() => undefined)
    this.#pending = emptyBatch(++this.#seq)
  }

  /**
   * Connects, brings the schema up to date (migrations under an advisory lock: safe when several
   * tide processes start together; only checks it with `migrate: false`) and loads the mirror. Throws StoreError: TIDE_ERR_STORE_IO when
   * the database cannot be reached or refuses, TIDE_ERR_STORE_VERSION for a newer schema. No
   * message holds the password.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const location = redactPostgresUrl(url)
    const log = options.log ?? (() => undefined)
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + 5000,
      application_name: 'tide',
      keepAlive: true,
    })
    // A connection killed by the server (pg_terminate_backend, a restart) must not crash tide:
    // idle clients report on the pool, busy ones on themselves (their query rejects as well).
    const onError = (err: Error): void => {
      log(`store ${location}: connection lost: ${scrubPassword(err.message, url)}`)
    }
    pool.on('error', onError)
    pool.on('connect', (client) => client.on('error', onError))
    const store = new PostgresStore(url, location, pool, options)
    try {
      const client = await pool.connect()
      try {
        if (options.migrate === false) await assertCurrentPostgres(client, location)
        else await migratePostgres(client, location)
        await store.#loadMirror(client)
      } finally {
        client.release()
      }
      return store
    } catch (err) {
      await pool.end().catch(() => undefined)
      if (err instanceof StoreError) throw err
      throw new StoreError('TIDE_ERR_STORE_IO', location, `cannot open store ${location}: ${scrubPassword((err as Error).message, url)}`, { cause: scrubbedCause(err, url) })
    }
  }

  // ── StateStore (the mirror, and the pending batch) ──────────────────────────

  /** The group's state from the mirror; undefined for a group never saved. */
  loadGroupState(group: string): StoredGroupState | undefined {
    return this.#kv.get(group)?.get(KIND_STATE) as StoredGroupState | undefined
  }

  /** Replaces the group's state in the mirror; written at the next flush. */
  saveGroupState(group: string, state: StoredGroupState): void {
    this.#put(group, KIND_STATE, state)
  }

  /** Forgets the group's every kind of state (state, status, operator state, and kinds to come); written at the next flush. */
  deleteGroupState(group: string): void {
    this.#kv.delete(group)
    const p = this.#pending
    p.deleteGroups.add(group)
    for (const [key, e] of p.kv) if (e.g === group) p.kv.delete(key)
  }

  /** Replaces the group's latest status (kept as given; its JSON is taken now). Throws JSON.stringify's TypeError for a status that is not serialisable. */
  saveGroupStatus(group: string, status: StoredGroupStatus): void {
    this.#put(group, KIND_STATUS, status)
  }

  /** The group's latest status from the mirror. */
  loadGroupStatus(group: string): StoredGroupStatus | undefined {
    return this.#kv.get(group)?.get(KIND_STATUS) as StoredGroupStatus | undefined
  }

  /** Replaces what an operator set on the group; a state that sets nothing removes it. */
  saveOperatorState(group: string, state: StoredOperatorState): void {
    if (isEmptyOperatorState(state)) this.#put(group, KIND_OPERATOR, undefined)
    else this.#put(group, KIND_OPERATOR, state)
  }

  /** What an operator set on the group, from the mirror; undefined when nothing. */
  loadOperatorState(group: string): StoredOperatorState | undefined {
    return this.#kv.get(group)?.get(KIND_OPERATOR) as StoredOperatorState | undefined
  }

  /** Replaces the group's checkpoint of its learners (usage histograms, start-up samples, SLO learner, last decision). */
  saveLearnedState(group: string, state: StoredLearnedState): void {
    this.#put(group, KIND_LEARNED, state)
  }

  /** The group's last checkpoint of its learners, from the mirror; undefined when none. */
  loadLearnedState(group: string): StoredLearnedState | undefined {
    return this.#kv.get(group)?.get(KIND_LEARNED) as StoredLearnedState | undefined
  }

  /**
   * Replaces the group's unfinished operations (a copy is kept); an empty list deletes the row.
   * Written at the next flush, like every write here: the controller flushes before acting when
   * an operation must be durable first.
   */
  saveOperations(group: string, operations: readonly StoredOperation[]): void {
    this.#put(group, KIND_OPERATIONS, operations.length === 0 ? undefined : structuredClone(operations))
  }

  /** The group's unfinished operations, oldest first (a copy); empty when none. */
  loadOperations(group: string): readonly StoredOperation[] {
    return structuredClone((this.#kv.get(group)?.get(KIND_OPERATIONS) as StoredOperation[] | undefined) ?? [])
  }

  /** Replaces the group's backup runs (a copy is kept); an empty list deletes the row. */
  saveBackupRuns(group: string, runs: readonly StoredBackupRun[]): void {
    this.#put(group, KIND_BACKUPS, runs.length === 0 ? undefined : structuredClone(runs))
  }

  /** The group's backup runs (a copy); empty when none. */
  loadBackupRuns(group: string): readonly StoredBackupRun[] {
    return structuredClone((this.#kv.get(group)?.get(KIND_BACKUPS) as StoredBackupRun[] | undefined) ?? [])
  }

  /** Every group with a status in the mirror, sorted. */
  listGroupStatuses(): string[] {
    return [...this.#kv].filter(([, kinds]) => kinds.has(KIND_STATUS)).map(([g]) => g).sort()
  }

  /**
   * Sets (or with undefined, deletes) one (group, kind) row: the mirror now, the database at the
   * next flush. Every per-group kind goes through here, so a new kind is two small methods.
   */
  #put(group: string, kind: string, value: unknown): void {
    const json = value === undefined ? null : JSON.stringify(value)
    let kinds = this.#kv.get(group)
    if (value === undefined) kinds?.delete(kind)
    else {
      if (kinds === undefined) this.#kv.set(group, (kinds = new Map<string, unknown>()))
      kinds.set(kind, value)
    }
    this.#pending.kv.set(`${group}\0${kind}`, { g: group, k: kind, json })
  }

  // ── EventSink, DeliveryLog, metrics (buffered) ──────────────────────────────

  /** Buffers an event (its decision without the history, as SQLite keeps it). Never throws. */
  append(event: TideEvent): void {
    try {
      const decision = event.decision === undefined ? null : { ...event.decision, history: undefined }
      this.#pushBounded(this.#pending.events, JSON.stringify({ at: Math.round(event.atMs), g: event.group, t: event.type, m: event.message, i: event.instanceId ?? null, d: decision }), 'events')
    } catch {
      this.#counters.dropped.events++
    }
  }

  /** Buffers one webhook delivery attempt. Never throws. */
  recordDelivery(a: DeliveryAttempt): void {
    try {
      const row = { id: a.deliveryId, at: Math.round(a.atMs), g: a.group, alert: a.alert, type: a.eventType, url: a.url, attempt: a.attempt, outcome: a.outcome, status: a.status ?? null, error: a.error ?? null }
      this.#pushBounded(this.#pending.deliveries, JSON.stringify(row), 'deliveries')
    } catch {
      this.#counters.dropped.deliveries++
    }
  }

  /**
   * Buffers one sample into its second's and its minute's bucket (sum, count, min, max: merged
   * with the database's on flush). Returns false, buffering nothing, for a non-finite value or
   * time. Entering a new minute of recorded time schedules the pruning of both tiers.
   */
  recordMetric(group: string, series: string, atMs: number, value: number): boolean {
    if (!Number.isFinite(value) || !Number.isFinite(atMs)) return false
    const p = this.#pending
    this.#addBucket(p.seconds, group, series, Math.floor(atMs / 1000), value, 'seconds')
    this.#addBucket(p.minutes, group, series, Math.floor(atMs / 60_000), value, 'minutes')
    const minute = Math.floor(atMs / 60_000)
    if (this.#lastPruneMinute === undefined || minute > this.#lastPruneMinute) {
      this.#lastPruneMinute = minute
      this.#schedulePrune(atMs, false)
    }
    return true
  }

  /** Schedules, for the next flush, the removal of metric points, events and deliveries aged out as of nowMs. */
  prune(nowMs: number): void {
    this.#schedulePrune(nowMs, true)
  }

  #schedulePrune(nowMs: number, events: boolean): void {
    const secondsCutoffMs = nowMs - SECOND_RETENTION_MS
    const next = {
      secondsBefore: Math.ceil(secondsCutoffMs / 1000),
      minutesBefore: Math.ceil((nowMs - MINUTE_RETENTION_MS) / 60_000),
      secondsCutoffMs,
      ...(events || this.#pending.prune?.eventsBefore !== undefined ? { eventsBefore: events ? nowMs - this.#eventRetentionMs : (this.#pending.prune?.eventsBefore as number) } : {}),
    }
    this.#pending.prune = next
  }

  #addBucket(map: Map<string, Bucket>, g: string, s: string, t: number, v: number, kind: 'seconds' | 'minutes'): void {
    const key = `${g}\0${s}\0${t}`
    const b = map.get(key)
    if (b !== undefined) {
      b.sum += v
      b.n++
      b.lo = Math.min(b.lo, v)
      b.hi = Math.max(b.hi, v)
      return
    }
    map.set(key, { g, s, t, sum: v, n: 1, lo: v, hi: v })
    this.#trimMap(map, kind)
  }

  #trimMap(map: Map<string, unknown>, kind: 'seconds' | 'minutes'): void {
    while (map.size > this.#limits[kind]) {
      const oldest = map.keys().next().value as string
      map.delete(oldest)
      this.#counters.dropped[kind]++
    }
  }

  #pushBounded(list: string[], json: string, kind: 'events' | 'deliveries'): void {
    list.push(json)
    const over = list.length - this.#limits[kind]
    if (over > 0) {
      list.splice(0, over)
      this.#counters.dropped[kind] += over
    }
  }

  // ── The local instance registry (mirror + batch) ────────────────────────────

  /** The local provider's registry over this store: reads the mirror, writes at the next flush. Never throws. */
  instanceRegistry(): InstanceRegistry {
    return {
      list: (group) => [...(this.#instances.get(group)?.values() ?? [])],
      put: (entry) => {
        let m = this.#instances.get(entry.group)
        if (m === undefined) this.#instances.set(entry.group, (m = new Map<string, LocalInstanceEntry>()))
        m.set(entry.id, entry)
        this.#pending.instances.set(`${entry.group}\0${entry.id}`, { g: entry.group, id: entry.id, json: JSON.stringify(entry) })
      },
      remove: (group, id) => {
        this.#instances.get(group)?.delete(id)
        this.#pending.instances.set(`${group}\0${id}`, { g: group, id, json: null })
      },
    }
  }

  // ── flush ───────────────────────────────────────────────────────────────────

  /**
   * Sends what was written since the last flush in one call of tide_flush (one round trip, one
   * transaction); flushes run one at a time, in call order. Resolves at once when nothing is
   * pending. Rejects with:
   * - FencedError when `fence` no longer holds: nothing was written and the batch is dropped;
   * - StoreError TIDE_ERR_STORE_IO (retryable) when the database cannot be reached or fails:
   *   the batch is kept and goes with the next flush (see PostgresStoreLimits for the bounds).
   */
  flush(fence?: Fence): Promise<void> {
    const run = this.#chain.then(() => this.#flushOnce(fence))
    this.#chain = run.catch(() => undefined)
    return run
  }

  async #flushOnce(fence: Fence | undefined): Promise<void> {
    if (this.#closed) throw new StoreError('TIDE_ERR_STORE_IO', this.location, `store ${this.location} is closed`)
    const sent = isEmptyBatch(this.#pending) ? [...this.#inDoubt] : [...this.#inDoubt, this.#pending]
    if (sent.length === 0) return
    this.#pending = emptyBatch(++this.#seq)
    const payload = `{"writer":${JSON.stringify(this.#writer)},"batches":[${sent.map(batchJson).join(',')}]}`
    let client: pg.PoolClient
    try {
      client = await this.#pool.connect()
    } catch (err) {
      // Nothing was sent: the batches go back, in front of what was written meanwhile.
      this.#requeue(sent, false)
      throw this.#failed(err)
    }
    let answer: { fenced?: boolean; holder?: string | null; epoch?: string | number | null }
    try {
      this.#counters.roundTrips++
      const r = await client.query<{ r: typeof answer }>('SELECT tide_flush($1::jsonb, $2::jsonb) AS r', [payload, fence === undefined ? null : JSON.stringify(fence)])
      answer = r.rows[0]?.r ?? {}
      client.release()
    } catch (err) {
      // A server error (it has an SQLSTATE) rolled the transaction back: nothing applied. Anything
      // else (the connection died, a client timeout) may have been applied: resent as is, with
      // its seq, which the database skips if it had applied it.
      const serverSide = typeof (err as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code)
      client.release(serverSide ? undefined : (err as Error))
      this.#requeue(sent, !serverSide)
      throw this.#failed(err)
    }
    this.#inDoubt = []
    if (answer.fenced === true) {
      // The writes of a tide that no longer leads are dropped, never retried.
      const current = answer.holder === undefined ? undefined : { holder: answer.holder ?? null, epoch: Number(answer.epoch) }
      throw new FencedError(this.location, fence as Fence, current)
    }
    this.#counters.flushes++
    this.#recovered()
  }

  /** After a successful flush: ends a failure streak, saying what was dropped meanwhile. */
  #recovered(): void {
    if (this.#failing === undefined) return
    const dropped = this.#droppedTotal() - this.#droppedAtStreak
    this.#log(`store ${this.location}: flushing again after failures since ${new Date(this.#failing.since).toISOString()}${dropped > 0 ? `; ${dropped} buffered items were dropped meanwhile (oldest first: per-second metric buckets, then minute buckets, events, deliveries)` : '; nothing was lost'}`)
    this.#failing = undefined
  }

  /** Puts sent batches back: in doubt (resent separately, same seq), or merged into the pending batch (nothing was applied). */
  #requeue(sent: Batch[], inDoubt: boolean): void {
    const later = this.#pending
    if (inDoubt) {
      this.#inDoubt = sent
      while (this.#inDoubt.length > MAX_IN_DOUBT) {
        const [a, b] = this.#inDoubt
        this.#inDoubt.splice(0, 2, mergeInto(a as Batch, b as Batch, this))
      }
      return
    }
    let base = sent[0] as Batch
    for (const b of sent.slice(1)) base = mergeInto(base, b, this)
    this.#inDoubt = []
    this.#pending = mergeInto(base, later, this)
  }

  /** Records a failed flush (logged once per failure streak) and returns the error to throw. */
  #failed(err: unknown): StoreError {
    this.#counters.failedFlushes++
    const message = scrubPassword(err instanceof Error ? err.message : String(err), this.#url)
    if (this.#failing === undefined) {
      this.#failing = { since: Date.now(), error: message }
      this.#droppedAtStreak = this.#droppedTotal()
      this.#log(`store ${this.location}: flush failed, keeping the writes for the next one: ${message}`)
    }
    return new StoreError('TIDE_ERR_STORE_IO', this.location, `store ${this.location}: flush failed (kept for the next one): ${message}`, { cause: scrubbedCause(err, this.#url) })
  }

  #droppedTotal(): number {
    const d = this.#counters.dropped
    return d.seconds + d.minutes + d.events + d.deliveries
  }

  /** @internal for mergeInto: the caps. */
  get limits(): PostgresStoreLimits {
    return this.#limits
  }

  /** @internal for mergeInto: counts what a merge drops past a cap. */
  countDropped(kind: keyof PostgresStoreLimits, n: number): void {
    this.#counters.dropped[kind] += n
  }

  /** Flushes, round trips, failures and what was dropped so far. */
  get counters(): PostgresStoreCounters {
    return { ...this.#counters, dropped: { ...this.#counters.dropped } }
  }

  /** Whether writes are waiting for a flush (or a failed one's retry). */
  get pendingWrites(): boolean {
    return this.#inDoubt.length > 0 || !isEmptyBatch(this.#pending)
  }

  // ── Readers (the database) ──────────────────────────────────────────────────

  /** Events matching the query, read from the database (what was flushed). Throws StoreError TIDE_ERR_STORE_QUERY for a limit outside 1..MAX_EVENT_LIMIT. */
  async readEvents(q: EventQuery = {}): Promise<StoredEvent[]> {
    const limit = q.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_LIMIT) {
      throw new StoreError('TIDE_ERR_STORE_QUERY', this.location, `event query: limit must be a whole number from 1 to ${MAX_EVENT_LIMIT}, got ${limit}`)
    }
    if (q.types?.length === 0) return []
    const { where, params } = eventFilters(q)
    const dir = q.order === 'asc' ? 'ASC' : 'DESC'
    params.push(limit)
    const sql = `SELECT id::float8 AS id, at_ms::float8 AS at_ms, group_name, type, message, instance_id, decision FROM tide_events
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at_ms ${dir}, id ${dir} LIMIT $${params.length}`
    const rows = await this.#query<EventRow>(sql, params)
    return rows.map((r) => {
      const base = { id: r.id, atMs: r.at_ms, group: r.group_name, type: r.type, message: r.message }
      const withInstance = r.instance_id === null ? base : { ...base, instanceId: r.instance_id }
      return r.decision === null ? withInstance : { ...withInstance, decision: r.decision }
    })
  }

  /**
   * Buckets of stepMs over [fromMs, toMs) from the database, with MetricHistory.query's tiers
   * and bounds (the 1-second tier when the step is under a minute and the range within what it
   * covers). Throws StoreError TIDE_ERR_STORE_QUERY for an empty range, a step under a second, or
   * more than MAX_QUERY_BUCKETS buckets.
   */
  async readMetric(group: string, series: string, fromMs: number, toMs: number, stepMs: number): Promise<MetricSeries> {
    if (!(Number.isFinite(fromMs) && Number.isFinite(toMs) && toMs > fromMs)) {
      throw new StoreError('TIDE_ERR_STORE_QUERY', this.location, `metric query ${group}/${series}: toMs (${toMs}) must be after fromMs (${fromMs})`)
    }
    if (!(Number.isFinite(stepMs) && stepMs >= 1000)) {
      throw new StoreError('TIDE_ERR_STORE_QUERY', this.location, `metric query ${group}/${series}: stepMs must be at least 1000, got ${stepMs}`)
    }
    const cutoffRows = await this.#query<{ value: string }>(`SELECT value FROM tide_meta WHERE key = 'metric_seconds_cutoff_ms'`, [])
    const cutoff = cutoffRows[0] === undefined ? -Infinity : Number(cutoffRows[0].value)
    const useSeconds = stepMs < 60_000 && fromMs >= cutoff
    const step = useSeconds ? Math.round(stepMs / 1000) * 1000 : Math.max(1, Math.round(stepMs / 60_000)) * 60_000
    if ((toMs - fromMs) / step > MAX_QUERY_BUCKETS) {
      throw new StoreError(
        'TIDE_ERR_STORE_QUERY',
        this.location,
        `metric query ${group}/${series}: ${Math.ceil((toMs - fromMs) / step)} buckets of ${step} ms exceed the limit of ${MAX_QUERY_BUCKETS}; use a larger stepMs`,
      )
    }
    const [table, col, unitMs] = useSeconds ? ['tide_metric_seconds', 'at_s', 1000] : ['tide_metric_minutes', 'at_min', 60_000]
    const rows = await this.#query<{ b: number; total: number; n: number; lo: number; hi: number }>(
      `SELECT floor((${col}::float8 * ${unitMs} - $1) / $2)::float8 AS b, SUM(sum) AS total, SUM(count)::float8 AS n, MIN(min) AS lo, MAX(max) AS hi
       FROM ${table} WHERE group_name = $3 AND series = $4 AND ${col} * ${unitMs} >= $1 AND ${col} * ${unitMs} < $5
       GROUP BY 1 ORDER BY 1`,
      [fromMs, step, group, series, toMs],
    )
    return {
      resolution: useSeconds ? '1s' : '1m',
      stepMs: step,
      points: rows.map((r) => ({ atMs: fromMs + r.b * step, avg: r.total / r.n, min: r.lo, max: r.hi, count: r.n })),
    }
  }

  /** The series recorded for a group (the minute tier), sorted. */
  async readMetricSeries(group: string): Promise<string[]> {
    const rows = await this.#query<{ series: string }>('SELECT DISTINCT series FROM tide_metric_minutes WHERE group_name = $1 ORDER BY series', [group])
    return rows.map((r) => r.series)
  }

  /** The latest status of every group, from the database (what the leader flushed), sorted by group. */
  async readGroupStatuses(): Promise<StoredGroupStatus[]> {
    const rows = await this.#query<{ value: StoredGroupStatus }>(`SELECT value FROM tide_group_kv WHERE kind = $1 ORDER BY group_name`, [KIND_STATUS])
    return rows.map((r) => r.value)
  }

  /**
   * Reloads the mirror from the database (a standby taking over leadership, after a FencedError).
   * Refuses (TIDE_ERR_STORE_IO) while writes are pending, which the reload would silently drop.
   */
  async reload(): Promise<void> {
    if (this.pendingWrites) throw new StoreError('TIDE_ERR_STORE_IO', this.location, `store ${this.location}: cannot reload the mirror while writes are waiting for a flush`)
    const client = await this.#pool.connect().catch((err: unknown) => {
      throw this.#readError(err)
    })
    try {
      await this.#loadMirror(client)
    } catch (err) {
      throw this.#readError(err)
    } finally {
      client.release()
    }
  }

  /** Drops whatever is waiting to be written (a tide that lost its lease must write nothing more). Returns whether anything was. */
  discardPending(): boolean {
    const had = this.pendingWrites
    this.#inDoubt = []
    this.#pending = emptyBatch(++this.#seq)
    return had
  }

  async #loadMirror(client: pg.ClientBase): Promise<void> {
    const kv = await client.query<{ group_name: string; kind: string; value: unknown }>('SELECT group_name, kind, value FROM tide_group_kv')
    const inst = await client.query<{ group_name: string; id: string; entry: LocalInstanceEntry }>('SELECT group_name, id, entry FROM tide_local_instances ORDER BY seq')
    this.#kv.clear()
    for (const r of kv.rows) {
      let kinds = this.#kv.get(r.group_name)
      if (kinds === undefined) this.#kv.set(r.group_name, (kinds = new Map<string, unknown>()))
      kinds.set(r.kind, r.value)
    }
    this.#instances.clear()
    for (const r of inst.rows) {
      let m = this.#instances.get(r.group_name)
      if (m === undefined) this.#instances.set(r.group_name, (m = new Map<string, LocalInstanceEntry>()))
      m.set(r.id, r.entry)
    }
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    if (this.#closed) throw new StoreError('TIDE_ERR_STORE_IO', this.location, `store ${this.location} is closed`)
    this.#counters.roundTrips++
    try {
      return (await this.#pool.query<R>(sql, params)).rows
    } catch (err) {
      throw this.#readError(err)
    }
  }

  #readError(err: unknown): StoreError {
    if (err instanceof StoreError) return err
    return new StoreError('TIDE_ERR_STORE_IO', this.location, `store ${this.location}: ${scrubPassword((err as Error).message, this.#url)}`, { cause: scrubbedCause(err, this.#url) })
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Flushes what is pending (best effort: a failure is logged, and what was pending is lost),
   * fenced by `fence` when given (a leader's lease: a leader that lost it writes nothing), then
   * closes the pool. Idempotent.
   */
  async close(fence?: Fence): Promise<void> {
    if (this.#closed) return
    try {
      if (this.pendingWrites) await this.flush(fence)
    } catch (err) {
      this.#log(`store ${this.location}: the last flush before closing failed; unwritten: ${(err as Error).message}`)
    }
    this.#closed = true
    await this.#pool.end().catch(() => undefined)
  }
}

/** The WHERE terms ($1…) and parameters of an event query's filters. */
function eventFilters(q: EventQuery): { where: string[]; params: unknown[] } {
  const where: string[] = []
  const params: unknown[] = []
  const add = (sql: string, v: unknown): void => {
    params.push(v)
    where.push(sql.replace('?', `$${params.length}`))
  }
  if (q.group !== undefined) add('group_name = ?', q.group)
  if (q.types !== undefined) add('type = ANY(?)', [...q.types])
  if (q.fromMs !== undefined) add('at_ms >= ?', q.fromMs)
  if (q.toMs !== undefined) add('at_ms < ?', q.toMs)
  if (q.afterId !== undefined) add('id > ?', q.afterId)
  if (q.beforeId !== undefined) add('id < ?', q.beforeId)
  return { where, params }
}

/** `b` merged into `a` (b is later: its rows win), as one batch with b's seq; caps applied. */
function mergeInto(a: Batch, b: Batch, store: PostgresStore): Batch {
  const out = emptyBatch(b.seq)
  for (const g of a.deleteGroups) out.deleteGroups.add(g)
  for (const [k, v] of a.kv) out.kv.set(k, v)
  for (const [k, v] of a.instances) out.instances.set(k, v)
  for (const g of b.deleteGroups) {
    out.deleteGroups.add(g)
    for (const [key, e] of out.kv) if (e.g === g) out.kv.delete(key)
  }
  for (const [k, v] of b.kv) {
    out.kv.delete(k) // keeps b's order after a's
    out.kv.set(k, v)
  }
  for (const [k, v] of b.instances) out.instances.set(k, v)
  const limits = store.limits
  const capList = (list: string[], kind: 'events' | 'deliveries'): string[] => {
    const over = list.length - limits[kind]
    if (over <= 0) return list
    store.countDropped(kind, over)
    return list.slice(over)
  }
  out.events = capList([...a.events, ...b.events], 'events')
  out.deliveries = capList([...a.deliveries, ...b.deliveries], 'deliveries')
  const mergeBuckets = (x: Map<string, Bucket>, y: Map<string, Bucket>, kind: 'seconds' | 'minutes'): Map<string, Bucket> => {
    const m = new Map<string, Bucket>()
    for (const [k, v] of x) m.set(k, { ...v })
    for (const [k, v] of y) {
      const have = m.get(k)
      if (have === undefined) m.set(k, { ...v })
      else m.set(k, { ...have, sum: have.sum + v.sum, n: have.n + v.n, lo: Math.min(have.lo, v.lo), hi: Math.max(have.hi, v.hi) })
    }
    const over = m.size - limits[kind]
    if (over > 0) {
      let i = 0
      for (const k of m.keys()) {
        if (i++ >= over) break
        m.delete(k)
      }
      store.countDropped(kind, over)
    }
    return m
  }
  out.seconds = mergeBuckets(a.seconds, b.seconds, 'seconds')
  out.minutes = mergeBuckets(a.minutes, b.minutes, 'minutes')
  out.prune = b.prune ?? a.prune
  if (a.prune?.eventsBefore !== undefined && out.prune !== undefined && out.prune.eventsBefore === undefined) out.prune = { ...out.prune, eventsBefore: a.prune.eventsBefore }
  return out
}

/** One batch as tide_flush reads it. */
function batchJson(b: Batch): string {
  const kv = [...b.kv.values()].map((e) => `{"g":${JSON.stringify(e.g)},"k":${JSON.stringify(e.k)},"v":${e.json ?? 'null'}}`)
  const inst = [...b.instances.values()].map((e) => `{"g":${JSON.stringify(e.g)},"id":${JSON.stringify(e.id)},"e":${e.json ?? 'null'}}`)
  return (
    `{"seq":${b.seq},"deleteGroups":${JSON.stringify([...b.deleteGroups])},"kv":[${kv.join(',')}],"instances":[${inst.join(',')}],` +
    `"events":[${b.events.join(',')}],"seconds":${JSON.stringify([...b.seconds.values()])},"minutes":${JSON.stringify([...b.minutes.values()])},` +
    `"deliveries":[${b.deliveries.join(',')}],"prune":${b.prune === undefined ? 'null' : JSON.stringify(b.prune)}}`
  )
}

/** The driver's error as a cause, without the password in its message. */
function scrubbedCause(err: unknown, url: string): Error {
  if (!(err instanceof Error)) return new Error(scrubPassword(String(err), url))
  const e = new Error(scrubPassword(err.message, url))
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') Object.assign(e, { code })
  return e
}
