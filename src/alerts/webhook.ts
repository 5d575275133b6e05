/**
 * Webhook alerts: an EventSink that POSTs JSON to the URLs in each group's `alerts`
 * config when a subscribed event happens (alert-name.ts maps events to names).
 *
 * append() only enqueues and returns at once: the controller never waits on a slow or
 * dead endpoint. A small pool of workers delivers; a failed attempt (network error,
 * timeout, HTTP 408/429/5xx) is retried with exponential backoff
 * (baseDelayMs · 2^(attempt−1), capped at maxDelayMs, or the endpoint's Retry-After
 * when that is longer and still under the cap) up to maxAttempts; other 4xx answers
 * are final. Every attempt is written to the DeliveryLog (the store's
 * alert_deliveries table) with the URL redacted. Each alert carries a deliveryId that
 * stays the same across retries (also sent as Idempotency-Key), so a receiver can
 * drop duplicates. The queue is bounded: when full, new alerts are dropped and logged.
 * close() waits for the queue to drain up to a deadline, then reports what it could
 * not deliver.
 */
import { randomUUID } from 'node:crypto'
import { Agent, request } from 'undici'
import { systemClock, type Clock } from '../core/clock.ts'
import type { EventSink, TideEvent, TideEventType } from '../store/events.ts'
import type { DecisionReason } from '../engine/types.ts'
import type { AlertEvent, GroupSpec } from '../spec/schema.ts'
import { alertNameOf } from './alert-name.ts'
import { redactUrl, type DeliveryLog, type DeliveryOutcome } from '../store/delivery-log.ts'

/** The JSON body POSTed to a webhook. */
export interface AlertPayload {
  /** Same on every retry of this alert to this webhook. */
  readonly deliveryId: string
  readonly group: string
  /** The alert name, as in the group's `alerts[].on`. */
  readonly type: AlertEvent
  /** The controller event behind it (e.g. 'instance-failed' for an 'instance-unhealthy' alert). */
  readonly eventType: TideEventType
  /** One human sentence, as in the event log. */
  readonly message: string
  /** When the event happened, epoch ms, and the same as ISO 8601 UTC. */
  readonly atMs: number
  readonly at: string
  readonly instanceId?: string
  /** For 'scaled': the decision in brief. */
  readonly decision?: { readonly from: number; readonly to: number; readonly reason: DecisionReason; readonly explanation: string }
}

/** Options of WebhookAlerts. */
export interface WebhookAlertOptions {
  /** The groups whose `alerts` are served; replace with configure(). */
  readonly groups: readonly Pick<GroupSpec, 'group' | 'alerts'>[]
  /** Timestamps the delivery log; default the system clock. */
  readonly clock?: Clock
  /** Where every attempt is recorded; default: nowhere. */
  readonly log?: DeliveryLog
  /** Attempts per alert, including the first; default 5. */
  readonly maxAttempts?: number
  /** Delay before the first retry, in ms; doubles each retry; default 1000. */
  readonly baseDelayMs?: number
  /** Longest delay between attempts, in ms; default 60 000. */
  readonly maxDelayMs?: number
  /** Limit on one attempt (connect, headers and body), in ms; default 5000. */
  readonly timeoutMs?: number
  /** Alerts waiting (queued or between retries) beyond which new ones are dropped; default 1000. */
  readonly maxQueue?: number
  /** Deliveries in flight at once; default 4. */
  readonly concurrency?: number
}

/** What close() could not do. */
export interface CloseReport {
  readonly delivered: number
  readonly failed: number
  readonly dropped: number
  /** Alerts still queued, waiting to retry, or in flight when the deadline passed. */
  readonly undelivered: readonly AlertPayload[]
}

/** Counters since the sink was made. */
export interface WebhookStats {
  readonly queued: number
  readonly inFlight: number
  readonly waitingRetry: number
  readonly delivered: number
  readonly failed: number
  readonly dropped: number
}

interface Job {
  readonly payload: AlertPayload
  readonly url: string
  /** Attempts made so far. */
  attempt: number
}

type AttemptResult = { ok: true; status: number } | { ok: false; retryable: boolean; status?: number; error: string; retryAfterMs?: number }

/** An EventSink delivering alerts to webhooks. Call close() on shutdown. */
export class WebhookAlerts implements EventSink {
  readonly #clock: Clock
  readonly #log: DeliveryLog | undefined
  readonly #maxAttempts: number
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #maxQueue: number
  readonly #concurrency: number
  readonly #agent: Agent
  readonly #abort = new AbortController()
  #alerts = new Map<string, readonly { readonly webhook: string; readonly on: readonly AlertEvent[] }[]>()
  readonly #queue: Job[] = []
  readonly #inFlight = new Set<Job>()
  readonly #waiting = new Map<Job, NodeJS.Timeout>()
  #idleWaiters: (() => void)[] = []
  #closed = false
  #delivered = 0
  #failed = 0
  #dropped = 0

  constructor(options: WebhookAlertOptions) {
    this.#clock = options.clock ?? systemClock
    this.#log = options.log
    this.#maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 5))
    this.#baseDelayMs = Math.max(0, options.baseDelayMs ?? 1000)
    this.#maxDelayMs = Math.max(this.#baseDelayMs, options.maxDelayMs ?? 60_000)
    this.#maxQueue = Math.max(1, Math.floor(options.maxQueue ?? 1000))
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 4))
    const timeoutMs = options.timeoutMs ?? 5000
    this.#agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    this.configure(options.groups)
  }

  /** Replaces the groups' alert config (after a tide.yaml reload); alerts already queued still go out. */
  configure(groups: readonly Pick<GroupSpec, 'group' | 'alerts'>[]): void {
    this.#alerts = new Map(groups.map((g) => [g.group, g.alerts]))
  }

  /** Enqueues the alerts this event raises and returns at once. Never throws. */
  append(event: TideEvent): void {
    const name = alertNameOf(event)
    if (name === undefined) return
    for (const alert of this.#alerts.get(event.group) ?? []) {
      if (!alert.on.includes(name)) continue
      const job: Job = { payload: payloadOf(event, name), url: alert.webhook, attempt: 0 }
      if (this.#closed || this.#queue.length + this.#waiting.size >= this.#maxQueue) {
        this.#dropped++
        this.#record(job, 'dropped', { error: this.#closed ? 'alert sink closed' : `queue full (${this.#maxQueue} alerts waiting)` })
        continue
      }
      this.#queue.push(job)
    }
    this.#pump()
  }

  /** Current counters. */
  stats(): WebhookStats {
    return {
      queued: this.#queue.length,
      inFlight: this.#inFlight.size,
      waitingRetry: this.#waiting.size,
      delivered: this.#delivered,
      failed: this.#failed,
      dropped: this.#dropped,
    }
  }

  /** Resolves when nothing is queued, in flight or waiting to retry (tests; shutdown uses close()). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /**
   * Stops accepting alerts, lets queued ones and their retries run for up to
   * `deadlineMs` (default 5000), then aborts what is left, logs each such alert as
   * 'undelivered' and returns them. Idempotent in effect: a second call reports
   * nothing left.
   */
  async close(deadlineMs = 5000): Promise<CloseReport> {
    this.#closed = true
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))])
    clearTimeout(timer)
    const left: Job[] = [...this.#queue, ...this.#waiting.keys(), ...this.#inFlight]
    this.#queue.length = 0
    for (const t of this.#waiting.values()) clearTimeout(t)
    this.#waiting.clear()
    // In-flight requests see the abort and end without logging (they are logged here).
    this.#abort.abort()
    this.#inFlight.clear()
    for (const job of left) this.#record(job, 'undelivered', { error: `not delivered within ${deadlineMs} ms of close` })
    await this.#agent.close().catch(() => undefined)
    this.#notifyIdle()
    return { delivered: this.#delivered, failed: this.#failed, dropped: this.#dropped, undelivered: left.map((j) => j.payload) }
  }

  #pump(): void {
    while (this.#inFlight.size < this.#concurrency && this.#queue.length > 0 && !this.#abort.signal.aborted) {
      const job = this.#queue.shift()
      if (job === undefined) break
      this.#inFlight.add(job)
      void this.#attempt(job)
    }
    this.#notifyIdle()
  }

  async #attempt(job: Job): Promise<void> {
    job.attempt++
    const result = await this.#send(job)
    if (!this.#inFlight.delete(job)) return // close() took it over
    if (result.ok) {
      this.#delivered++
      this.#record(job, 'delivered', { status: result.status })
    } else if (result.retryable && job.attempt < this.#maxAttempts && !this.#abort.signal.aborted) {
      this.#record(job, 'retrying', result)
      const delayMs = this.#delayMs(job.attempt, result.retryAfterMs)
      this.#waiting.set(
        job,
        setTimeout(() => {
          this.#waiting.delete(job)
          this.#queue.push(job)
          this.#pump()
        }, delayMs),
      )
    } else {
      this.#failed++
      this.#record(job, 'failed', result)
    }
    this.#pump()
  }

  #delayMs(attempt: number, retryAfterMs: number | undefined): number {
    return retryDelayMs(attempt, this.#baseDelayMs, this.#maxDelayMs, retryAfterMs)
  }

  async #send(job: Job): Promise<AttemptResult> {
    try {
      const res = await request(job.url, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: this.#abort.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tide-alerts',
          'idempotency-key': job.payload.deliveryId,
          'x-tide-attempt': String(job.attempt),
        },
        body: JSON.stringify(job.payload),
      })
      await res.body.dump()
      const status = res.statusCode
      if (status >= 200 && status < 300) return { ok: true, status }
      const retryable = status === 408 || status === 429 || status >= 500
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'])
      return retryAfterMs === undefined ? { ok: false, retryable, status, error: `HTTP ${status}` } : { ok: false, retryable, status, error: `HTTP ${status}`, retryAfterMs }
    } catch (err) {
      const code = (err as { code?: unknown }).code
      return { ok: false, retryable: true, error: typeof code === 'string' ? code : err instanceof Error ? err.message : String(err) }
    }
  }

  #record(job: Job, outcome: DeliveryOutcome, detail: { status?: number; error?: string }): void {
    if (this.#log === undefined) return
    const base = {
      deliveryId: job.payload.deliveryId,
      atMs: this.#clock.now(),
      group: job.payload.group,
      alert: job.payload.type,
      eventType: job.payload.eventType,
      url: redactUrl(job.url),
      attempt: job.attempt,
      outcome,
    }
    const withStatus = detail.status === undefined ? base : { ...base, status: detail.status }
    try {
      this.#log.recordDelivery(detail.error === undefined ? withStatus : { ...withStatus, error: detail.error })
    } catch {
      // DeliveryLog must not throw; if one does, alerting still goes on.
    }
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#inFlight.size === 0 && this.#waiting.size === 0
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const w of waiters) w()
  }
}

function payloadOf(event: TideEvent, type: AlertEvent): AlertPayload {
  const base = {
    deliveryId: randomUUID(),
    group: event.group,
    type,
    eventType: event.type,
    message: event.message,
    atMs: event.atMs,
    at: new Date(event.atMs).toISOString(),
  }
  const withInstance = event.instanceId === undefined ? base : { ...base, instanceId: event.instanceId }
  const d = event.decision
  return d === undefined || type !== 'scaled' ? withInstance : { ...withInstance, decision: { from: d.from, to: d.to, reason: d.reason, explanation: d.explanation } }
}

/**
 * The wait in ms after failed attempt number `attempt` (1-based): baseDelayMs · 2^(attempt−1),
 * capped at maxDelayMs; the endpoint's Retry-After wins when longer, but never beyond the cap
 * (a receiver cannot park tide's alerts for an hour).
 */
export function retryDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, retryAfterMs?: number): number {
  const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
  return Math.min(maxDelayMs, Math.max(backoff, retryAfterMs ?? 0))
}

/** Retry-After in ms: delta-seconds only (an HTTP date is ignored and the backoff applies). */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined
  return Number(v.trim()) * 1000
}
