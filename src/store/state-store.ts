/**
 * The controller's persistence port. It lives in store/, which implements it
 * (SqliteStore), so that store/ never imports controller/.
 */
import type { ScaleHistory } from '../engine/types.ts'
import type { DecayingHistogramJSON } from '../engine/vertical/decaying-histogram.ts'
import type { HeadroomLearnerJSON } from '../forecast/headroom-learner.ts'
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
 * What a group's learners have learned, checkpointed by the controller (every few minutes and
 * when tide stops, as the VPA checkpoints its histograms) so that a restarted or failed-over tide
 * decides as the one before did rather than from the cold-start defaults. Plain JSON: one row
 * per group (a jsonb row in PostgreSQL). Every field is optional: a learner the group does not
 * use is absent, and a reader treats a field it cannot restore as absent (a cold start for that
 * learner only).
 */
export interface StoredLearnedState {
  /** When the checkpoint was taken, epoch ms. */
  readonly atMs: number
  /** Launch-to-ready times of the last instances launched (ms, newest last, at most 5): the measured start-up the headroom and forecast horizon use. */
  readonly startupsMs?: readonly number[]
  /** Start failures in a row and until when launches wait, epoch ms (controller/crash-loop.ts). */
  readonly crashLoop?: { readonly failures: number; readonly untilMs: number }
  /** The vertical learner's usage histograms (controller/usage-recorder.ts). */
  readonly usage?: StoredUsage
  /** The slo learner: the headroom learner and the violation budget's daily account (controller/headroom-recorder.ts). */
  readonly slo?: StoredSlo
  /** The last decision's reasons, so that a restart does not announce an unchanged decision again as a change. */
  readonly lastDecision?: { readonly reason: string; readonly predictiveReason?: string }
}

/** Usage histograms as DecayingHistogram.toJSON makes them, the cpu samples counted and the last out-of-memory kill. */
export interface StoredUsage {
  readonly cpuCores: DecayingHistogramJSON
  readonly memoryMiB: DecayingHistogramJSON
  readonly samples: number
  readonly oom?: { readonly usageMiB: number; readonly atMs: number }
}

/** The slo learner's state: the headroom learner (absent without slo.instanceRps) and seconds measured and violated per UTC day. */
export interface StoredSlo {
  readonly learner?: HeadroomLearnerJSON
  readonly days: readonly { readonly day: number; readonly measured: number; readonly violated: number }[]
  /** The end of the last window observed, epoch ms. */
  readonly lastAtMs?: number
}

/** What an operation changes: launch instances, terminate one, or a step of a vertical replacement (launch of the new size). */
export type OperationKind = 'launch' | 'terminate'

/**
 * One provider action the controller is about to take, written before it calls the provider
 * (an intent) and updated when the provider answers, so that a tide killed in between finds it
 * on restart and completes or rolls it back instead of deciding afresh into a second launch.
 * Plain JSON. `state` moves pending → done or rolled-back; the controller keeps only unfinished
 * ones in the store (finished ones are told by the event log).
 */
export interface StoredOperation {
  /** Unique within the group: `${kind}-${decisionAtMs}-${n}`. */
  readonly id: string
  readonly kind: OperationKind
  /** Why: 'scale-out' (a raised count), 'fill' (up to the count in force: a first launch, an instance gone), 'replace-unhealthy', 'resize' (a vertical replacement's steps), 'scale-in' or 'group-removed'. */
  readonly why: string
  /** The tick of the decision that asked for it, epoch ms (the decision's id). */
  readonly decisionAtMs: number
  /** When it was written, epoch ms. */
  readonly startedAtMs: number
  readonly state: 'pending' | 'done' | 'rolled-back'
  /** launch: how many instances, of what size. */
  readonly count?: number
  readonly size?: Size
  /** The instances concerned, once known (launch: after the provider answered; terminate: the victim, from the start). */
  readonly instanceIds: readonly string[]
}

/**
 * One run of a group's backup command for an instance (lifecycle.backup), recorded before it
 * starts so that it runs exactly once per instance: a restarted tide adopts a run still going
 * (its pid and /proc start time say it is the same process) or reads its result from the
 * status file its wrapper writes, and never starts a second one.
 */
export interface StoredBackupRun {
  readonly instanceId: string
  /** running: started, no result read yet; done: finished (ok or not), kept until the instance is gone. */
  readonly state: 'running' | 'done'
  /** When it started, epoch ms. */
  readonly startedAtMs: number
  /** The wrapper's process id and /proc start time (field 22 of /proc/PID/stat), once spawned. */
  readonly pid?: number
  readonly startTime?: string
  /** The file the wrapper writes the command's exit status to. */
  readonly statusFile: string
  /** done: whether it succeeded, and how it ended in words. */
  readonly ok?: boolean
  readonly detail?: string
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
  /** Replaces the group's learned state (a checkpoint). Deleting the group's state deletes it too. */
  saveLearnedState(group: string, state: StoredLearnedState): void
  /** The group's last checkpoint of its learners; undefined when none was taken. */
  loadLearnedState(group: string): StoredLearnedState | undefined
  /** Replaces the group's unfinished operations (an empty list removes them). Deleting the group's state deletes them too. */
  saveOperations(group: string, operations: readonly StoredOperation[]): void
  /** The group's unfinished operations, oldest first; empty when none. */
  loadOperations(group: string): readonly StoredOperation[]
  /** Replaces the group's backup runs (an empty list removes them). Deleting the group's state deletes them too. */
  saveBackupRuns(group: string, runs: readonly StoredBackupRun[]): void
  /** The group's backup runs; empty when none. */
  loadBackupRuns(group: string): readonly StoredBackupRun[]
}

/** Keeps state and the latest status per group in memory: the simulator and tests. */
export class MemoryStateStore implements StateStore {
  readonly #groups = new Map<string, StoredGroupState>()
  readonly #statuses = new Map<string, StoredGroupStatus>()
  readonly #operator = new Map<string, StoredOperatorState>()
  readonly #learned = new Map<string, StoredLearnedState>()
  readonly #operations = new Map<string, readonly StoredOperation[]>()
  readonly #backups = new Map<string, readonly StoredBackupRun[]>()
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
    this.#learned.delete(group)
    this.#operations.delete(group)
    this.#backups.delete(group)
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
  /** Keeps the object itself (the controller builds a new one per checkpoint). */
  saveLearnedState(group: string, state: StoredLearnedState): void {
    this.#learned.set(group, state)
  }
  loadLearnedState(group: string): StoredLearnedState | undefined {
    return this.#learned.get(group)
  }
  /** Keeps a copy, as a persistent store would: a caller changing its list later changes nothing here. */
  saveOperations(group: string, operations: readonly StoredOperation[]): void {
    if (operations.length === 0) this.#operations.delete(group)
    else this.#operations.set(group, structuredClone(operations))
  }
  loadOperations(group: string): readonly StoredOperation[] {
    return structuredClone(this.#operations.get(group) ?? [])
  }
  saveBackupRuns(group: string, runs: readonly StoredBackupRun[]): void {
    if (runs.length === 0) this.#backups.delete(group)
    else this.#backups.set(group, structuredClone(runs))
  }
  loadBackupRuns(group: string): readonly StoredBackupRun[] {
    return structuredClone(this.#backups.get(group) ?? [])
  }
}
