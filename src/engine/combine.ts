/**
 * Combining the policies' recommendations into one count, as the HPA combines
 * metrics and AWS combines policies: scale out if ANY recommendation asks, scale
 * in only if ALL agree — that is, the maximum. A recommendation that
 * `blocksScaleIn` (a metric is missing) vetoes any count below the current one.
 * Schedules' bounds combine as the highest min and the lowest max.
 * An `advisory` recommendation (forecastOnly, vertical recommend) is listed in the Decision
 * but takes no part here. A `scaleOutOnly` count (predictive) joins the max, but when it
 * is the only count and lies below the current one, the current count stands: such a
 * policy floors a scale-in, it never causes one.
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

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Combines recommendations (see the module comment). Pure; O(recommendations). */
export function combine(currentReplicas: number, recommendations: readonly Recommendation[]): Combined {
  const out: Mutable<Combined> = { proposed: currentReplicas, hasReplicas: false }
  let blocker: Recommendation | undefined
  let onlyFloors = true
  for (const r of recommendations) {
    if (r.advisory === true) continue
    if (r.replicas !== undefined && r.scaleOutOnly !== true) onlyFloors = false
    // On a tie a metric-driven recommendation explains the count better than a schedule's desired.
    if (r.replicas !== undefined && (!out.hasReplicas || r.replicas > out.proposed || (r.replicas === out.proposed && out.driver?.policy === 'scheduled'))) {
      out.proposed = r.replicas
      out.driver = r
      out.hasReplicas = true
    }
    if (r.blocksScaleIn === true) blocker ??= r
    if (r.bounds !== undefined) addBounds(out, r.bounds)
  }
  if (out.hasReplicas && onlyFloors && out.proposed < currentReplicas) out.proposed = currentReplicas
  if (blocker !== undefined && out.proposed < currentReplicas) out.vetoedBy = blocker
  return out
}

function addBounds(out: Mutable<Combined>, bounds: NonNullable<Recommendation['bounds']>): void {
  if (bounds.min !== undefined) out.scheduleMin = Math.max(out.scheduleMin ?? bounds.min, bounds.min)
  if (bounds.max !== undefined) out.scheduleMax = Math.min(out.scheduleMax ?? bounds.max, bounds.max)
}
