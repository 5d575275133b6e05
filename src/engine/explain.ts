/**
 * The one sentence every Decision carries, for the engineer on call:
 * "scaled 4→7: cpu 92% > target 60%; capped by scale-up policy +4 instances/15 s"
 * "held at 5: within tolerance (cpu 63% vs 60%, ±10%)".
 * It states the outcome, then what drove it (with the numbers), then every guard
 * that changed the count, in the order they applied. Advisory recommendations (forecastOnly,
 * vertical recommend) are always listed, marked as not acted on.
 */
import type { AppliedLimit, Decision, Recommendation } from './types.ts'

/** What explain() needs: the outcome, the recommendations, the deciding one and the limits. */
export interface ExplainArgs {
  readonly kind: Decision['kind']
  readonly from: number
  readonly to: number
  readonly reason: Decision['reason']
  readonly recommendations: readonly Recommendation[]
  readonly driver?: Recommendation
  readonly limits: readonly AppliedLimit[]
  /** Extra clause for reasons that have no recommendation behind them (ScalingDisabled). */
  readonly note?: string
}

/** What drove the count; a floor below the count held (the predictive policy alone) says it never scales in by itself. */
function driverClause(d: Recommendation, to: number): string {
  const floorBelow = d.scaleOutOnly === true && d.replicas !== undefined && d.replicas < to
  return floorBelow ? `${d.detail} (a floor: ${d.policy} never scales in by itself)` : d.detail
}

/** The sentence's opening: what happened to the count. */
function headOf(args: ExplainArgs): string {
  if (args.kind === 'hold') return `held at ${args.from}`
  if (args.kind === 'skip') return `no change at ${args.from}`
  // A size change that keeps the count is a scale decision too; say what changes.
  return args.from === args.to ? `kept ${args.to} instances, resizing` : `scaled ${args.from}→${args.to}`
}

/** Builds the explanation sentence (see the module comment). */
export function explain(args: ExplainArgs): string {
  const head = headOf(args)
  const clauses: string[] = []
  if (args.note !== undefined) clauses.push(args.note)
  if (args.driver !== undefined) clauses.push(driverClause(args.driver, args.to))
  for (const r of args.recommendations) {
    if (r === args.driver) continue
    if (r.advisory === true) {
      clauses.push(`${r.detail} (recommendation only, not acted on)`)
      continue
    }
    // Without a driver every recommendation explains why there is none; with one, the others
    // matter only when they shape the outcome: a schedule's bounds or a scale-in veto.
    if (args.driver === undefined || r.bounds !== undefined || r.blocksScaleIn === true) clauses.push(r.detail)
  }
  if (clauses.length === 0 && args.reason === 'NoMetrics') clauses.push('no scaling policy is configured and no schedule is active')
  for (const l of args.limits) clauses.push(l.detail)
  return clauses.length === 0 ? head : `${head}: ${clauses.join('; ')}`
}
