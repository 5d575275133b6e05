/**
 * A manual scale (the API's `POST /groups/{name}/scale`, AWS's SetDesiredCapacity): an operator
 * holds a group at a count for a while. The engine still decides as usual, so the explanation can
 * say what it would have done, but the count in force is the operator's, within the group's
 * min/max (spec.replicas: a schedule's bounds do not apply to a hand on the wheel), the fleet's
 * quota room (growth only) and the scale-in protection floor. Stabilization windows and rate
 * policies do not apply: the operator asked for this count now. The history is kept as it was
 * (nothing the engine decided was acted on), as for a pause. Pure.
 */
import { capByQuota } from './guards/quota-room.ts'
import { protectedCount, scaleInCandidates } from './guards/scale-in.ts'
import { classifyInstances } from './instance-classes.ts'
import type { AppliedLimit, DecideInput, Decision } from './types.ts'

/** The count an operator asked for, and where it lands within min and max (before quotas and protection). */
export interface ManualCount {
  /** The count asked for (a whole number ≥ 0). */
  readonly asked: number
  /** `asked` within [replicas.min, replicas.max]. */
  readonly bounded: number
  /** Why `bounded` differs from `asked` ('max 20', 'min 2'); absent when it does not. */
  readonly clampedBy?: string
}

/** `asked` within the spec's min and max, saying which bound it met (the API's answer and the decision share it). */
export function manualCount(asked: number, replicas: { readonly min: number; readonly max: number }): ManualCount {
  if (asked > replicas.max) return { asked, bounded: replicas.max, clampedBy: `max ${replicas.max}` }
  if (asked < replicas.min) return { asked, bounded: replicas.min, clampedBy: `min ${replicas.min}` }
  return { asked, bounded: asked }
}

/**
 * The decision of a group held by a manual scale: `engine` is what decide() gave without it.
 * `input.override` must be set. Reason ManualScale; the explanation names the count, what was
 * asked and what bounded it, and what the engine would have done.
 */
export function heldByOperator(input: DecideInput, engine: Decision): Decision {
  const asked = input.override?.desired ?? engine.from
  const from = input.state.desiredReplicas
  const m = manualCount(asked, input.spec.replicas)
  const limits: AppliedLimit[] = []
  if (m.clampedBy !== undefined) limits.push({ guard: 'bounds', from: asked, to: m.bounded, detail: `${m.bounded > asked ? 'raised to' : 'capped at'} ${m.clampedBy}` })
  let to = m.bounded
  const live = classifyInstances(input.state.instances).live
  if (to > from) {
    const q = capByQuota(from, to, input.quotaRoom, input.state.size)
    if (q.detail !== undefined) limits.push({ guard: 'quota', from: to, to: q.replicas, detail: q.detail })
    to = q.replicas
  } else if (to < from) {
    const floor = protectedCount(live)
    if (to < floor) {
      const raised = Math.min(from, floor)
      limits.push({ guard: 'protection', from: to, to: raised, detail: `kept ${raised}: ${floor} instance${floor === 1 ? ' is' : 's are'} protected from scale-in` })
      to = raised
    }
  }
  const said = limits.length === 0 ? '' : ` (asked ${asked}; ${limits.map((l) => l.detail).join('; ')})`
  const head = to === from ? `held at ${to} by the operator's manual scale${said}` : `scaled ${from}→${to} by the operator's manual scale${said}`
  return {
    group: engine.group,
    atMs: engine.atMs,
    kind: to === from ? 'hold' : 'scale',
    from,
    to,
    reason: 'ManualScale',
    explanation: `${head} (the engine alone: ${engine.explanation})`,
    recommendations: engine.recommendations,
    limits,
    scaleInCandidates: live.length > to ? scaleInCandidates(live) : [],
    history: input.state.history,
  }
}
