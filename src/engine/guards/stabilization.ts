/**
 * Stabilization windows, after the HPA's stabilizeRecommendationWithBehaviors
 * (pkg/controller/podautoscaler/horizontal.go):
 *
 * - up limit   = min of the recommendations newer than now − scaleUp window, and the new one;
 * - down limit = max of the recommendations newer than now − scaleDown window, and the new one;
 * - result = current, raised to the up limit, then lowered to the down limit.
 *
 * So a scale-down happens only to the highest count recommended during the whole
 * down window (300 s by default), and a scale-up only to the lowest count of the up
 * window (0 s by default: at once). The stored recommendations are the
 * *unstabilized* ones, as the HPA stores them.
 */
import type { TimedRecommendation } from '../types.ts'

/** Arguments of stabilize(); windows in milliseconds. */
export interface StabilizeArgs {
  readonly currentReplicas: number
  /** This tick's unstabilized recommendation. */
  readonly desiredReplicas: number
  readonly recommendations: readonly TimedRecommendation[]
  readonly nowMs: number
  readonly scaleUpWindowMs: number
  readonly scaleDownWindowMs: number
}

/** The stabilized count, the limits that produced it and the recommendations to keep. */
export interface StabilizeResult {
  readonly replicas: number
  /** Lowest recent recommendation (a scale-up goes no higher). */
  readonly upLimit: number
  /** Highest recent recommendation (a scale-down goes no lower). */
  readonly downLimit: number
  /** Recommendations still inside a window, plus this tick's, oldest first. */
  readonly recommendations: readonly TimedRecommendation[]
}

/** Applies both stabilization windows (see the module comment). Entries exactly at a cutoff are outside it, as in the HPA. */
export function stabilize(args: StabilizeArgs): StabilizeResult {
  const upCutoffMs = args.nowMs - args.scaleUpWindowMs
  const downCutoffMs = args.nowMs - args.scaleDownWindowMs
  const keepAfterMs = Math.min(upCutoffMs, downCutoffMs)
  let upLimit = args.desiredReplicas
  let downLimit = args.desiredReplicas
  const kept: TimedRecommendation[] = []
  for (const rec of args.recommendations) {
    if (rec.atMs > upCutoffMs && rec.replicas < upLimit) upLimit = rec.replicas
    if (rec.atMs > downCutoffMs && rec.replicas > downLimit) downLimit = rec.replicas
    if (rec.atMs > keepAfterMs && rec.atMs <= args.nowMs) kept.push(rec)
  }
  kept.push({ atMs: args.nowMs, replicas: args.desiredReplicas })
  let replicas = args.currentReplicas
  if (replicas < upLimit) replicas = upLimit
  if (replicas > downLimit) replicas = downLimit
  return { replicas, upLimit, downLimit, recommendations: kept }
}
