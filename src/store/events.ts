/**
 * The event vocabulary: what tide did or saw (TideEvent) and the port events go to
 * (EventSink). It lives in store/, below controller/ and alerts/, because the store
 * implements the port and may not import either (the layering rules in
 * .dependency-cruiser.cjs); it cannot go lower, into core/, as an event carries the
 * engine's Decision.
 */
import type { Decision } from '../engine/types.ts'

/** Every kind of thing tide records in its event log. */
export type TideEventType =
  | 'decision'
  | 'launch'
  | 'launch-failed'
  | 'drain-start'
  | 'terminate'
  | 'terminate-failed'
  | 'adopted'
  | 'instance-ready'
  | 'instance-unhealthy'
  | 'instance-failed'
  | 'instance-replaced'
  | 'at-max-capacity'
  | 'quota-exhausted'
  | 'resize'
  | 'forecast'
  /** A group's tick failed (listing its instances, reading its metrics, or acting): once per failure streak. */
  | 'reconcile-failed'
  /** The platform's API rate-limited a provider call: the group's provider calls wait (once per streak). */
  | 'provider-throttled'
  /** The platform has no room for instances of a size: launches of that size back off (once per streak). */
  | 'capacity-unavailable'
  /** The group list changed while running (a config reload): a group added, changed, or removed (then gone once its instances are stopped). */
  | 'group-added'
  | 'group-changed'
  | 'group-removed'
  /** No primary instance is routable: the group's backup pool (routing.backup) gets the traffic. */
  | 'failover'
  /** A primary instance is routable again: traffic returns to the primaries from the backup pool. */
  | 'failback'

/** One entry of the event log: what tide did or saw, and why. Never holds secrets. */
export interface TideEvent {
  readonly atMs: number
  readonly group: string
  readonly type: TideEventType
  /** One human sentence. */
  readonly message: string
  readonly instanceId?: string
  /** For 'decision' events. */
  readonly decision?: Decision
}

/** Where events go: the store's event log, alert webhooks, the terminal. Must not throw or block. */
export interface EventSink {
  append(event: TideEvent): void
}

/** Fans one event out to several sinks. */
export function fanOut(...sinks: EventSink[]): EventSink {
  return { append: (e) => { for (const s of sinks) s.append(e) } }
}

/** An in-memory event log keeping the newest `capacity` events; for the simulator and tests. */
export class MemoryEventLog implements EventSink {
  readonly #capacity: number
  #events: TideEvent[] = []
  constructor(capacity = 10_000) {
    this.#capacity = capacity
  }
  append(event: TideEvent): void {
    this.#events.push(event)
    if (this.#events.length > this.#capacity * 2) this.#events = this.#events.slice(-this.#capacity)
  }
  /** The newest events, oldest first. */
  list(): readonly TideEvent[] {
    return this.#events.length > this.#capacity ? this.#events.slice(-this.#capacity) : this.#events
  }
}
