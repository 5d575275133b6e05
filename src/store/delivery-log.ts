/**
 * The record of webhook delivery attempts: every attempt of every alert, delivered or
 * not, so that an operator can see why a page never arrived. SqliteStore implements
 * DeliveryLog (table alert_deliveries); MemoryDeliveryLog serves tests and the simulator.
 */
import type { TideEventType } from './events.ts'
import type { AlertEvent } from '../spec/schema.ts'

/**
 * What became of one attempt:
 * - 'delivered': the endpoint answered 2xx;
 * - 'retrying': this attempt failed and another is scheduled;
 * - 'failed': this attempt failed and it was the last (attempts exhausted, or a 4xx other than 408/429);
 * - 'undelivered': close() gave up on an alert still queued or waiting to retry;
 * - 'dropped': the queue was full when the alert was raised.
 */
export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'undelivered' | 'dropped'

/** One delivery attempt. */
export interface DeliveryAttempt {
  /** Same for every attempt of one alert to one webhook; sent as the Idempotency-Key header. */
  readonly deliveryId: string
  /** When the attempt ended, epoch ms. */
  readonly atMs: number
  readonly group: string
  readonly alert: AlertEvent
  /** The controller event that raised the alert. */
  readonly eventType: TideEventType
  /** The webhook URL without credentials or query string (see redactUrl). */
  readonly url: string
  /** 1 for the first attempt; 0 for 'dropped' and 'undelivered' records of alerts never tried. */
  readonly attempt: number
  readonly outcome: DeliveryOutcome
  /** The HTTP status, when the endpoint answered. */
  readonly status?: number
  /** Why it failed: a network error code, a timeout, or the status line. */
  readonly error?: string
}

/** Where delivery attempts are recorded. Must not throw (a full disk must not stop alerting). */
export interface DeliveryLog {
  recordDelivery(attempt: DeliveryAttempt): void
}

/** Keeps attempts in memory, oldest first. */
export class MemoryDeliveryLog implements DeliveryLog {
  readonly attempts: DeliveryAttempt[] = []
  recordDelivery(attempt: DeliveryAttempt): void {
    this.attempts.push(attempt)
  }
}

/**
 * The URL as it may be logged: scheme, host, port and path, with user-info and query
 * string removed and token-like path segments (12+ characters mixing letters and
 * digits, as in Slack's /services/T…/B…/secret) replaced by '***'. Webhook URLs often
 * carry a secret, and secrets never appear in logs. An unparsable URL is logged as
 * '<invalid url>'.
 */
export function redactUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return '<invalid url>'
  }
  const path = u.pathname
    .split('/')
    .map((seg) => (seg.length >= 12 && /[0-9]/.test(seg) && /[a-zA-Z]/.test(seg) ? '***' : seg))
    .join('/')
  return `${u.protocol}//${u.host}${path}`
}
