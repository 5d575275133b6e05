/**
 * Combining the policies' recommendations into one count, as the HPA combines
 * metrics and AWS combines policies: scale out if ANY recommendation asks, scale
 * in only if ALL agree — that is, the maximum. A recommendation that
 * `blocksScaleIn` (a metric is missing) vetoes any count below the current one.
 * Schedules' bounds combine as the highest min and the lowest max.
 */
import type { Recommendation } from './types.ts'

/** The combined want of all policies, before any guard. */
export interface Combined {
  /** Max over recommendations with a count; the current count when none has one. */
  readonly proposed: number
  /** The recommendation that set `proposed` (the first at the max), if any. */
  readonly driver?: Recommendation
  /** Whether any recommendation carries a count. */
  readonly hasReplicas: boolean
  /** The recommendation whose blocksScaleIn vetoes a `proposed` below current, if it does. */
  readonly vetoedBy?: Recommendation
  readonly scheduleMin?: number
  readonly scheduleMax?: number
}

/** Combines recommendations (see the module comment). Pure; O(recommendations). */
export function combine(currentReplicas: number, recommendations: readonly Recommendation[]): Combined {
  let driver: Recommendation | undefined
  let blocker: Recommendation | undefined
  let scheduleMin: number | undefined
  let scheduleMax: number | undefined
  for (const r of recommendations) {
    if (r.replicas !== undefined && (driver?.replicas === undefined || r.replicas > driver.replicas)) driver = r
    if (r.blocksScaleIn === true && blocker === undefined) blocker = r
    if (r.bounds?.min !== undefined) scheduleMin = scheduleMin === undefined ? r.bounds.min : Math.max(scheduleMin, r.bounds.min)
    if (r.bounds?.max !== undefined) scheduleMax = scheduleMax === undefined ? r.bounds.max : Math.min(scheduleMax, r.bounds.max)
  }
  const proposed = driver?.replicas ?? currentReplicas
  return {
    proposed,
    ...(driver === undefined ? {} : { driver }),
    hasReplicas: driver !== undefined,
    ...(blocker !== undefined && proposed < currentReplicas ? { vetoedBy: blocker } : {}),
    ...(scheduleMin === undefined ? {} : { scheduleMin }),
    ...(scheduleMax === undefined ? {} : { scheduleMax }),
  }
}
