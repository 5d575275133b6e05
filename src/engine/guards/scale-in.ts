/**
 * Scale-in protection and the order in which instances are removed.
 *
 * Protected instances (AWS instance scale-in protection) are never candidates, and
 * the desired count never drops below how many of them are live. Candidates come
 * cheapest-to-lose first: pending (serve nothing yet) → unhealthy → warming →
 * in-service → standby (kept deliberately by an operator), and within a phase the
 * newest first (ties by id, so the order is deterministic).
 */
import type { InstancePhase, InstanceView } from '../types.ts'

const phaseRank: Readonly<Record<InstancePhase, number>> = {
  pending: 0,
  unhealthy: 1,
  warming: 2,
  'in-service': 3,
  standby: 4,
  // Never candidates (already leaving); ranked only for completeness.
  draining: 5,
  terminated: 6,
}

/** How many live instances are protected from scale-in: the floor of any scale-in. */
export function protectedCount(live: readonly InstanceView[]): number {
  let n = 0
  for (const i of live) if (i.protectedFromScaleIn) n++
  return n
}

/** Ids of the unprotected live instances in removal order (see the module comment). */
export function scaleInCandidates(live: readonly InstanceView[]): string[] {
  return live
    .filter((i) => !i.protectedFromScaleIn && i.phase !== 'draining' && i.phase !== 'terminated')
    .sort((a, b) => phaseRank[a.phase] - phaseRank[b.phase] || b.launchedAtMs - a.launchedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((i) => i.id)
}
