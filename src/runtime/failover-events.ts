/**
 * The event log's view of a group's backup pool: each time the router's backup pool starts
 * getting the traffic (no primary instance routable) a 'failover' event, and each time a
 * primary takes it back a 'failback' event, each with the router's one-sentence reason.
 * The router decides and emits `backup`; this only writes it down, so the same words reach
 * the store, `tide up`'s terminal and anything else that reads events.
 */
import { systemClock, type Clock } from '../core/clock.ts'
import type { BackupTransition } from '../router/router.ts'
import type { EventSink, TideEvent } from '../store/events.ts'

/** What watchFailover needs of a router: its `backup` event (Router has it; a test may pass an EventEmitter). */
export interface BackupEvents {
  on(event: 'backup', listener: (t: BackupTransition) => void): unknown
  off(event: 'backup', listener: (t: BackupTransition) => void): unknown
}

/**
 * Writes a 'failover' or 'failback' event for `group` to `sink` on each of the router's backup
 * transitions, stamped with `clock` (the runtime's, so the log has one time base; the wall
 * clock by default). A router without routing.backup never emits, so nothing is written.
 * Attach it before `router.start()`: a router starts with no instance listed, so a group with
 * a backup pool fails over at start. Returns a function that stops watching.
 */
export function watchFailover(router: BackupEvents, group: string, sink: EventSink, clock: Clock = systemClock): () => void {
  const listener = (t: BackupTransition): void => {
    const event: TideEvent = { atMs: clock.now(), group, type: t.active ? 'failover' : 'failback', message: t.reason }
    sink.append(event)
  }
  router.on('backup', listener)
  return () => {
    router.off('backup', listener)
  }
}
