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
  /** An operator paused or resumed a group's scaling (the API): a paused group holds its count. */
  | 'group-paused'
  | 'group-resumed'
  /** An operator protected an instance from scale-in, or lifted the protection (the API). */
  | 'instance-protected'
  | 'instance-unprotected'
  /** An operator's manual scale began (the API's scale), or ended: its hold ran out, or it was cleared. */
  | 'manual-scale'
  | 'manual-scale-ended'
  /** An operator put an instance in standby (entering, then drained), or brought it back in service (the API). */
  | 'instance-standby'
  | 'instance-in-service'
  /** No primary instance is routable: the group's backup pool (routing.backup) gets the traffic. */
  | 'failover'
  /** A primary instance is routable again: traffic returns to the primaries from the backup pool. */
  | 'failback'
  /** The risk radar sees the group reaching its max, a quota or its violation budget ahead (once per episode; src/engine/risk.ts). */
  | 'risk'
  /** A risk the radar announced is gone. */
  | 'risk-cleared'
  /** This tide took the leadership lease (with its epoch), or handed it back on a clean stop (docs/ha.md); one per group. */
  | 'leadership'
  /** tide started again after it was killed mid-action: an operation or a backup it left unfinished was completed, adopted or rolled back (docs/chaos.md). */
  | 'recovered'
  /** The group's data-plane process (routing.dataPlane: process) was started, adopted from an earlier tide, replaced, or stopped as an orphan (docs/ha.md). */
  | 'data-plane'

/**
 * Every event type, for the checks that take one from outside (the API's `type=` filter).
 * A Record so that a type added to the union above without a line here fails to compile.
 */
const EVENT_TYPES: Readonly<Record<TideEventType, true>> = {
  decision: true,
  launch: true,
  'launch-failed': true,
  'drain-start': true,
  terminate: true,
  'terminate-failed': true,
  adopted: true,
  'instance-ready': true,
  'instance-unhealthy': true,
  'instance-failed': true,
  'instance-replaced': true,
  'at-max-capacity': true,
  'quota-exhausted': true,
  resize: true,
  forecast: true,
  'reconcile-failed': true,
  'group-added': true,
  'group-changed': true,
  'group-removed': true,
  'group-paused': true,
  'group-resumed': true,
  'instance-protected': true,
  'instance-unprotected': true,
  'manual-scale': true,
  'manual-scale-ended': true,
  'instance-standby': true,
  'instance-in-service': true,
  'provider-throttled': true,
  'capacity-unavailable': true,
  failover: true,
  failback: true,
  risk: true,
  'risk-cleared': true,
  leadership: true,
  recovered: true,
  'data-plane': true,
}

/** Every event type (in no particular order). */
export const TIDE_EVENT_TYPES: readonly TideEventType[] = Object.keys(EVENT_TYPES) as TideEventType[]

/** Whether `s` names an event type (for input from outside: a query parameter, a CLI flag). */
export function isTideEventType(s: string): s is TideEventType {
  return Object.hasOwn(EVENT_TYPES, s)
}

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
