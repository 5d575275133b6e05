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
 * A group's status as the controller builds it each tick (controller/group-status.ts
 * GroupStatus): plain JSON data, which the store keeps without reading more of it than
 * this, so that store/ does not import controller/. A reader of a stored status casts it to
 * GroupStatus, knowing that one written by an older tide may lack newer fields.
 */
export interface StoredGroupStatus {
  readonly group: string
  /** The tick the status is of, epoch ms. */
  readonly atMs: number
}

/**
 * The controller's persistence. Synchronous on purpose: the SQLite binding is
 * synchronous and the simulator calls this hundreds of thousands of times.
 * Writes must be atomic per call (nothing half-applied).
 */
export interface StateStore {
  loadGroupState(group: string): StoredGroupState | undefined
  saveGroupState(group: string, state: StoredGroupState): void
  /** Forgets a group (removed from the config and its instances gone), its status too; nothing happens when there is none. */
  deleteGroupState(group: string): void
  /**
   * Replaces the group's latest status (one per group: the latest tick's, failed ticks
   * included), so that a restarted tide or `tide status` can show the last one. `status` must
   * be JSON-serialisable; implementations may keep the object itself or its JSON text.
   */
  saveGroupStatus(group: string, status: StoredGroupStatus): void
  /** The group's latest saved status; undefined for a group never saved. */
  loadGroupStatus(group: string): StoredGroupStatus | undefined
}

/** Keeps state and the latest status per group in memory: the simulator and tests. */
export class MemoryStateStore implements StateStore {
  readonly #groups = new Map<string, StoredGroupState>()
  readonly #statuses = new Map<string, StoredGroupStatus>()
  loadGroupState(group: string): StoredGroupState | undefined {
    return this.#groups.get(group)
  }
  saveGroupState(group: string, state: StoredGroupState): void {
    this.#groups.set(group, state)
  }
  deleteGroupState(group: string): void {
    this.#groups.delete(group)
    this.#statuses.delete(group)
  }
  /** Keeps the object itself (no copy: the controller never changes a status it built). */
  saveGroupStatus(group: string, status: StoredGroupStatus): void {
    this.#statuses.set(group, status)
  }
  loadGroupStatus(group: string): StoredGroupStatus | undefined {
    return this.#statuses.get(group)
  }
}
