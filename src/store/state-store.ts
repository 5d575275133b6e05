/**
 * The controller's persistence port. It lives in store/, which implements it
 * (SqliteStore), so that store/ never imports controller/.
 */
import type { ScaleHistory } from '../engine/types.ts'
import type { Size } from '../spec/schema.ts'

/** What the controller persists per group between ticks and across restarts. */
export interface StoredGroupState {
  readonly desiredReplicas: number
  readonly size: Size
  readonly history: ScaleHistory
  /** Instances the controller has started draining (so a restart finishes the job). */
  readonly drainingIds: readonly string[]
  /** Instances an operator protected from scale-in. */
  readonly protectedIds: readonly string[]
}

/**
 * The controller's persistence. Synchronous on purpose: the SQLite binding is
 * synchronous and the simulator calls this hundreds of thousands of times.
 * Writes must be atomic per call (nothing half-applied).
 */
export interface StateStore {
  loadGroupState(group: string): StoredGroupState | undefined
  saveGroupState(group: string, state: StoredGroupState): void
  /** Forgets a group (removed from the config and its instances gone); nothing happens when there is none. */
  deleteGroupState(group: string): void
}

/** Keeps state in memory: the simulator and tests. */
export class MemoryStateStore implements StateStore {
  readonly #groups = new Map<string, StoredGroupState>()
  loadGroupState(group: string): StoredGroupState | undefined {
    return this.#groups.get(group)
  }
  saveGroupState(group: string, state: StoredGroupState): void {
    this.#groups.set(group, state)
  }
  deleteGroupState(group: string): void {
    this.#groups.delete(group)
  }
}
