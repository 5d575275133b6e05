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

/** An instance an operator put in standby (AWS EnterStandby). */
export interface StoredStandby {
  readonly id: string
  /** When it entered standby, epoch ms. */
  readonly sinceMs: number
  /** Whether entering lowered the group's desired count by one (AWS ShouldDecrementDesiredCapacity). */
  readonly decremented: boolean
}

/**
 * What an operator set on a group through the API, kept apart from the tick's state so that a
 * command before the group's first tick is kept too, and restored by a restarted tide:
 * a pause, a manual scale in force, the instances in standby. (Scale-in protection is kept in
 * StoredGroupState.protectedIds, as it was before this existed.) Every field absent: nothing set.
 */
export interface StoredOperatorState {
  /** Paused since, epoch ms; absent when not paused. */
  readonly pausedSinceMs?: number
  /** A manual scale in force: the count asked, when it began and when it ends, epoch ms. */
  readonly override?: { readonly desired: number; readonly sinceMs: number; readonly untilMs: number }
  /** Instances in standby; absent or empty when none. */
  readonly standby?: readonly StoredStandby[]
}

/** Whether an operator state sets nothing (no pause, no manual scale, no standby): nothing to keep. */
export function isEmptyOperatorState(s: StoredOperatorState): boolean {
  return s.pausedSinceMs === undefined && s.override === undefined && (s.standby === undefined || s.standby.length === 0)
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
  /** Replaces what an operator set on the group (a state that sets nothing removes it). Deleting the group's state deletes it too. */
  saveOperatorState(group: string, state: StoredOperatorState): void
  /** What an operator set on the group; undefined when nothing. */
  loadOperatorState(group: string): StoredOperatorState | undefined
}

/** Keeps state and the latest status per group in memory: the simulator and tests. */
export class MemoryStateStore implements StateStore {
  readonly #groups = new Map<string, StoredGroupState>()
  readonly #statuses = new Map<string, StoredGroupStatus>()
  readonly #operator = new Map<string, StoredOperatorState>()
  loadGroupState(group: string): StoredGroupState | undefined {
    return this.#groups.get(group)
  }
  saveGroupState(group: string, state: StoredGroupState): void {
    this.#groups.set(group, state)
  }
  deleteGroupState(group: string): void {
    this.#groups.delete(group)
    this.#statuses.delete(group)
    this.#operator.delete(group)
  }
  /** Keeps the object itself (no copy: the controller never changes a status it built). */
  saveGroupStatus(group: string, status: StoredGroupStatus): void {
    this.#statuses.set(group, status)
  }
  loadGroupStatus(group: string): StoredGroupStatus | undefined {
    return this.#statuses.get(group)
  }
  saveOperatorState(group: string, state: StoredOperatorState): void {
    if (isEmptyOperatorState(state)) this.#operator.delete(group)
    else this.#operator.set(group, state)
  }
  loadOperatorState(group: string): StoredOperatorState | undefined {
    return this.#operator.get(group)
  }
}
