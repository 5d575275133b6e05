/**
 * The min/max in force: the spec's replicas.min/max, replaced by an active
 * schedule's min/max (a schedule may raise or lower either, as an AWS scheduled
 * action sets them). If a schedule's min exceeds the max in force, the max wins:
 * max is the cost ceiling an operator relies on, and the explanation says so.
 */

/** Min and max in force, and where each came from. */
export interface EffectiveBounds {
  readonly min: number
  readonly max: number
  readonly minFrom: 'spec' | 'schedule'
  readonly maxFrom: 'spec' | 'schedule'
  /** Set when a schedule's min had to be lowered to the max. */
  readonly conflict?: string
}

/** Effective bounds from the spec and the combined schedule bounds (see the module comment). */
export function effectiveBounds(spec: { readonly min: number; readonly max: number }, scheduleMin: number | undefined, scheduleMax: number | undefined): EffectiveBounds {
  const max = scheduleMax ?? spec.max
  const maxFrom = scheduleMax === undefined ? 'spec' : 'schedule'
  const wantedMin = scheduleMin ?? spec.min
  const minFrom = scheduleMin === undefined ? 'spec' : 'schedule'
  if (wantedMin > max) {
    return { min: max, max, minFrom, maxFrom, conflict: `${minFrom} min ${wantedMin} exceeds ${maxFrom} max ${max}; max wins` }
  }
  return { min: wantedMin, max, minFrom, maxFrom }
}
