/**
 * The leadership port: what the rest of tide needs to know of a lease held in the store, so that
 * a tide that is not (or no longer) the leader neither writes state nor acts on a provider.
 * Implemented over PostgreSQL by src/store/postgres/lease.ts; the controller's fenced backend
 * (src/controller/fenced-backend.ts) and the store's flush consume it.
 *
 * Two guards, as Kleppmann's "How to do distributed locking" asks of a lease:
 * - the fencing token (`fence()`: lease name, holder and epoch) goes with every batch of writes,
 *   and the store applies a batch only while the lease row still has that holder and epoch, so a
 *   leader that froze past its lease and wakes up writes nothing;
 * - `held()` says whether the lease is KNOWN held now, by this process's monotonic clock: the
 *   last renewal was sent less than the renew deadline ago (shorter than the lease duration,
 *   which the database judges by its own clock) and no write was refused as fenced. A provider
 *   action cannot carry the token (the AWS or process APIs know nothing of it), so it is refused
 *   when `held()` is false.
 */

import type { Fence } from './errors.ts'

/** The fencing token of a write (src/store/errors.ts): the lease row's name, holder and epoch as this process took it. */
export type { Fence }

/** What a leader knows of its lease, for whoever must stop acting the moment it is lost. */
export interface LeadershipView {
  /**
   * True while the lease is known held: acquired, the last successful renewal sent less than the
   * renew deadline ago (monotonic clock), and neither lost nor revoked. False before acquiring.
   */
  held(): boolean
  /** The token to fence writes with; undefined before the lease is first acquired. */
  fence(): Fence | undefined
  /**
   * Marks the lease lost at once (the store refused a write as fenced: another holder took it):
   * `held()` is false from now on and the loss is told as a renewal failure would be. Idempotent.
   */
  revoke(why: string): void
}

/** Whether a view holds the lease now; true when there is no election (one tide, no view). */
export function mayAct(view: LeadershipView | undefined): boolean {
  return view === undefined || view.held()
}
