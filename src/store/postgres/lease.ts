/**
 * Leader election with a fencing token over one row of PostgreSQL's `tide_lease` table
 * (created by the store's migration 1: name, holder, epoch, renewed_at, duration_ms), for tide
 * processes that share a PostgreSQL store (`local` and `aws` groups; in a cluster the Kubernetes
 * Lease of src/controller/leader-election.ts stays the election).
 *
 * - Acquire is ONE statement (INSERT … ON CONFLICT DO UPDATE … WHERE) that takes the row when it
 *   has no holder, or was not renewed for its `duration_ms`, judged by the DATABASE's clock
 *   (`now()`), and increments `epoch`. Row locking makes two racing candidates take it once: the
 *   second sees the first's fresh `renewed_at` and takes nothing. A candidate of the same
 *   identity (a pod restarted under its name) takes it too, with a new epoch, so that whatever
 *   the old process still does is fenced.
 * - The leader renews every `renewEveryMs` (2 s): an UPDATE naming its holder and epoch. When
 *   that finds no row, another holder has the lease: lost at once. When renewals fail (the
 *   database unreachable) for `renewDeadlineMs` (6 s) since the last successful one was SENT,
 *   by this process's monotonic clock, it has lost too. Counting from the send (not the answer)
 *   keeps the deadline ahead of the database's expiry (renewed_at ≥ the send; expiry at
 *   renewed_at + 8 s): a leader stops acting at least 2 s before any follower may take over.
 * - `held()` (the LeadershipView of src/store/leadership.ts) says whether the lease is KNOWN
 *   held now: that is what provider actions are fenced on. Store writes carry `fence()`, and the
 *   store applies them only while the row still has that holder and epoch.
 * - A follower tries every `retryEveryMs` (0.5 s). After a SIGKILLed leader's last renewal the
 *   lease expires within `durationMs` (8 s), so a follower holds it 6 s to 8.5 s after the kill
 *   (renewals every 2 s), leaving time within the 15 s target for tide to start and act.
 * - release() on a clean stop empties the holder (same holder and epoch only), so a follower
 *   takes over at its next try.
 */
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import type { Fence, LeadershipView } from '../leadership.ts'

/** The one call the lease makes: pg's Pool or Client `query` with positional parameters. */
export interface LeaseDb {
  query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

/** The lease row as a candidate reads it. */
export interface LeaseRow {
  /** The holder's identity; undefined when nobody holds it (released, or never taken). */
  readonly holder: string | undefined
  readonly epoch: number
  /** Whether the row's time is up by the database's clock (renewed_at + duration_ms ≤ now()). */
  readonly expired: boolean
}

/** Options of a lease candidate. Durations in ms. */
export interface PgLeaseOptions {
  readonly db: LeaseDb
  /** The row's name; one per store (DEFAULT_LEASE_NAME). */
  readonly name?: string
  /** Who this candidate is (the pod's name, else host and pid). Never empty. */
  readonly identity: string
  /** How long the lease lasts without renewal, by the database's clock. Default 8000. */
  readonly durationMs?: number
  /** How often the leader renews. Default 2000. */
  readonly renewEveryMs?: number
  /** How long the leader goes on without a successful renewal before it has lost. Default 6000; must be below durationMs. */
  readonly renewDeadlineMs?: number
  /** How often a follower tries to take the lease. Default 500. */
  readonly retryEveryMs?: number
  /** The monotonic clock, ms (performance.now by default; tests step it). */
  readonly monotonicMs?: () => number
  /** Told of each failed call (the database unreachable): for a log line; the election goes on. */
  readonly onError?: (err: unknown) => void
}

/** The lease row's name when the options give none: one tide deployment per store. */
export const DEFAULT_LEASE_NAME = 'tide'

/** The defaults, ms: lease 8 s, renew every 2 s, give up 6 s after the last renewal sent, followers try every 0.5 s. */
export const LEASE_DEFAULTS = { durationMs: 8000, renewEveryMs: 2000, renewDeadlineMs: 6000, retryEveryMs: 500 } as const

// Takes the row when free or expired by the database's clock, else leaves it; answers the epoch
// taken (null when not taken) and the row as it was before (null when there was none).
const ACQUIRE = `
WITH took AS (
  INSERT INTO tide_lease AS l (name, holder, epoch, renewed_at, duration_ms)
  VALUES ($1, $2, 1, now(), $3)
  ON CONFLICT (name) DO UPDATE
    SET holder = EXCLUDED.holder, epoch = l.epoch + 1, renewed_at = now(), duration_ms = EXCLUDED.duration_ms
    WHERE l.holder IS NULL OR l.holder = '' OR l.holder = EXCLUDED.holder OR l.renewed_at IS NULL
       OR l.renewed_at + l.duration_ms * interval '1 millisecond' <= now()
  RETURNING epoch
)
SELECT (SELECT epoch FROM took) AS took, cur.holder AS holder, cur.epoch AS epoch
FROM (SELECT 1) AS one LEFT JOIN tide_lease AS cur ON cur.name = $1`

const RENEW = `UPDATE tide_lease SET renewed_at = now(), duration_ms = $4 WHERE name = $1 AND holder = $2 AND epoch = $3 RETURNING epoch`

const RELEASE = `UPDATE tide_lease SET holder = NULL, renewed_at = NULL WHERE name = $1 AND holder = $2 AND epoch = $3`

const READ = `SELECT holder, epoch, (renewed_at IS NULL OR renewed_at + duration_ms * interval '1 millisecond' <= now()) AS expired FROM tide_lease WHERE name = $1`

/** One candidate in the election over a PostgreSQL lease row. */
export class PgLease implements LeadershipView {
  readonly #o: Required<Omit<PgLeaseOptions, 'onError'>> & Pick<PgLeaseOptions, 'onError'>
  #fence: Fence | undefined
  #leading = false
  #stopped = false
  #lostWhy: string | undefined
  /** When the last successful renewal (or the acquisition) was sent, monotonic ms. */
  #lastSentMs = 0
  #renewTimer: NodeJS.Timeout | undefined
  #deadlineTimer: NodeJS.Timeout | undefined
  #holder: string | undefined
  #seenEpoch: number | undefined
  #takenFrom: string | undefined
  readonly #lost = new Set<(why: string) => void>()

  constructor(options: PgLeaseOptions) {
    if (options.identity === '') throw new Error('a leader election candidate needs an identity')
    this.#o = { name: DEFAULT_LEASE_NAME, ...LEASE_DEFAULTS, monotonicMs: () => performance.now(), ...options }
    const o = this.#o
    if (!(o.renewDeadlineMs < o.durationMs)) throw new Error(`the renew deadline (${o.renewDeadlineMs} ms) must be shorter than the lease (${o.durationMs} ms)`)
    if (!(o.renewEveryMs < o.renewDeadlineMs)) throw new Error(`renewals (every ${o.renewEveryMs} ms) must come more often than the renew deadline (${o.renewDeadlineMs} ms)`)
  }

  /** This candidate's identity. */
  get identity(): string {
    return this.#o.identity
  }

  /** The row's name. */
  get name(): string {
    return this.#o.name
  }

  /** The holder last seen (this candidate's identity once it leads); undefined when free or not yet read. */
  get holder(): string | undefined {
    return this.#holder
  }

  /** The epoch last seen: this candidate's own while it leads, else the row's at the last try; undefined before any answer. */
  get epoch(): number | undefined {
    return this.#seenEpoch
  }

  /** The holder whose lease this candidate took over (it had expired), at the last acquisition; undefined when the row was free or new. */
  get takenFrom(): string | undefined {
    return this.#takenFrom
  }

  /** Why the lease was lost; undefined while held or never taken. */
  get lostWhy(): string | undefined {
    return this.#lostWhy
  }

  held(): boolean {
    return this.#leading && this.#lostWhy === undefined && this.#o.monotonicMs() < this.#lastSentMs + this.#o.renewDeadlineMs
  }

  fence(): Fence | undefined {
    return this.#fence
  }

  revoke(why: string): void {
    this.#lose(why)
  }

  /** Calls `cb` (once) when this candidate, having led, loses the lease. */
  onLost(cb: (why: string) => void): void {
    this.#lost.add(cb)
  }

  /**
   * Resolves with the fence once this candidate holds the lease (then renews it in the
   * background); rejects when `signal` aborts first. Calls `waiting(holder)` each time it finds
   * the lease held by another holder than the last one told.
   */
  async acquire(signal?: AbortSignal, waiting?: (holder: string) => void): Promise<Fence> {
    let told: string | undefined
    while (!this.#stopped) {
      signal?.throwIfAborted()
      const fence = await this.tryAcquire()
      if (fence !== undefined) return fence
      if (this.#holder !== undefined && this.#holder !== told) {
        told = this.#holder
        waiting?.(this.#holder)
      }
      await sleep(this.#o.retryEveryMs, signal)
    }
    throw new Error('leader election stopped')
  }

  /**
   * One try: takes the lease when it is free or expired (then renews it in the background) and
   * answers the fence; undefined when another holds it or the database did not answer.
   */
  async tryAcquire(): Promise<Fence | undefined> {
    if (this.#stopped || this.#leading) return this.#leading ? this.#fence : undefined
    const o = this.#o
    const sentMs = o.monotonicMs()
    let row: Record<string, unknown> | undefined
    try {
      row = (await o.db.query(ACQUIRE, [o.name, o.identity, o.durationMs])).rows[0]
    } catch (err) {
      o.onError?.(err)
      return undefined
    }
    const took = numberOf(row?.took)
    this.#seenEpoch = numberOf(row?.epoch) ?? this.#seenEpoch
    // stop() may have come while the call was in flight (a method: TypeScript narrows fields across awaits).
    if (took === undefined || this.#isStopped()) {
      this.#holder = stringOf(row?.holder)
      return undefined
    }
    this.#fence = { lease: o.name, holder: o.identity, epoch: took }
    const before = stringOf(row?.holder)
    this.#takenFrom = before === o.identity ? undefined : before
    this.#holder = o.identity
    this.#seenEpoch = took
    this.#leading = true
    this.#lastSentMs = sentMs
    this.#armDeadline()
    this.#scheduleRenew()
    return this.#fence
  }

  /** The row as the database has it now (holder, epoch, expired by its clock); undefined when absent. */
  async read(): Promise<LeaseRow | undefined> {
    const row = (await this.#o.db.query(READ, [this.#o.name])).rows[0]
    if (row === undefined) return undefined
    return { holder: stringOf(row.holder), epoch: numberOf(row.epoch) ?? 0, expired: row.expired === true }
  }

  /** Stops renewing and hands the lease back (holder emptied, same holder and epoch only), so a follower takes over at once. */
  async release(): Promise<void> {
    const fence = this.#fence
    const wasLeading = this.#leading && this.#lostWhy === undefined
    this.stop()
    if (!wasLeading || fence === undefined) return
    try {
      await this.#o.db.query(RELEASE, [fence.lease, fence.holder, fence.epoch])
    } catch (err) {
      this.#o.onError?.(err)
    }
  }

  /** Stops renewing without a word (as a killed process would): the lease runs out by itself. */
  stop(): void {
    this.#stopped = true
    this.#leading = false
    this.#clearTimers()
  }

  #isStopped(): boolean {
    return this.#stopped
  }

  /** Whether it still leads (read after an await: stop() or a loss may have come meanwhile). */
  #stillLeading(): boolean {
    return this.#leading && this.#lostWhy === undefined
  }

  #clearTimers(): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer)
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer)
    this.#renewTimer = undefined
    this.#deadlineTimer = undefined
  }

  /** Loses the lease at the renew deadline unless a renewal succeeds first (a renewal that hangs, or a frozen process woken up). */
  #armDeadline(): void {
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer)
    const leftMs = this.#lastSentMs + this.#o.renewDeadlineMs - this.#o.monotonicMs()
    this.#deadlineTimer = setTimeout(
      () => {
        if (this.#o.monotonicMs() >= this.#lastSentMs + this.#o.renewDeadlineMs) this.#lose(this.#silenceWhy())
        else this.#armDeadline()
      },
      Math.max(0, leftMs),
    )
  }

  #silenceWhy(): string {
    return `no renewal for ${String(Math.round((this.#o.monotonicMs() - this.#lastSentMs) / 1000))} s (renew deadline ${String(this.#o.renewDeadlineMs / 1000)} s)`
  }

  #scheduleRenew(): void {
    if (this.#stopped || this.#lostWhy !== undefined) return
    this.#renewTimer = setTimeout(() => {
      void this.#renew()
    }, this.#o.renewEveryMs)
  }

  async #renew(): Promise<void> {
    const fence = this.#fence
    if (!this.#leading || this.#lostWhy !== undefined || fence === undefined) return
    const o = this.#o
    const sentMs = o.monotonicMs()
    // Woken from a freeze past the deadline: lost, whatever the database would say now.
    if (sentMs >= this.#lastSentMs + o.renewDeadlineMs) {
      this.#lose(this.#silenceWhy())
      return
    }
    let renewed: boolean
    try {
      renewed = (await o.db.query(RENEW, [fence.lease, fence.holder, fence.epoch, o.durationMs])).rows.length > 0
    } catch (err) {
      o.onError?.(err)
      this.#scheduleRenew()
      return
    }
    if (!this.#stillLeading()) return
    if (renewed) {
      this.#lastSentMs = sentMs
      this.#armDeadline()
      this.#scheduleRenew()
      return
    }
    await this.#loseToAnother(fence)
  }

  /** A renewal found no row of this holder and epoch: another tide took the lease (or it was freed); lost, naming who holds it now. */
  async #loseToAnother(fence: Fence): Promise<void> {
    let now: LeaseRow | undefined
    try {
      now = await this.read()
    } catch (err) {
      this.#o.onError?.(err)
    }
    this.#holder = now?.holder
    this.#seenEpoch = now?.epoch ?? this.#seenEpoch
    this.#lose(now?.holder === undefined ? `the lease was taken from epoch ${fence.epoch} and is free now` : `the lease is held by ${now.holder} (epoch ${now.epoch}; this tide held epoch ${fence.epoch})`)
  }

  #lose(why: string): void {
    if (this.#lostWhy !== undefined || !this.#leading) return
    this.#lostWhy = why
    this.#leading = false
    this.#clearTimers()
    for (const cb of this.#lost) cb(why)
  }
}

/** Options of openPgLease: the lease's, without the database handle. */
export type OpenPgLeaseOptions = Omit<PgLeaseOptions, 'db'>

/** A lease over its own small pool (so a busy store never delays a renewal), and the function that closes it. */
export interface OpenedPgLease {
  readonly lease: PgLease
  close(): Promise<void>
}

/**
 * Opens a lease candidate over its own pool of two connections to `url` (one for a renewal, one
 * for a release or a read meanwhile). Every call is bounded (query_timeout: the renew interval,
 * so a hung database counts as a failed renewal well within the deadline); a connection that
 * dies is told to `onError` and replaced, never crashing tide.
 */
export function openPgLease(url: string, options: OpenPgLeaseOptions): OpenedPgLease {
  const renewEveryMs = options.renewEveryMs ?? LEASE_DEFAULTS.renewEveryMs
  const pool = new pg.Pool({ connectionString: url, max: 2, query_timeout: renewEveryMs, connectionTimeoutMillis: renewEveryMs, application_name: 'tide-lease' })
  pool.on('error', (err) => options.onError?.(err))
  const lease = new PgLease({ ...options, db: pool })
  return {
    lease,
    close: async () => {
      lease.stop()
      await pool.end()
    },
  }
}

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  // bigint columns come back as text from pg.
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return Number(v)
  return undefined
}

function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t)
      reject(signal?.reason as Error)
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
