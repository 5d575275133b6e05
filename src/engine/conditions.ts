/**
 * A group's status conditions, in the manner of the Kubernetes HPA's (`AbleToScale`,
 * `ScalingActive`, `ScalingLimited`; kubernetes pkg/controller/podautoscaler/horizontal.go,
 * `setCondition` in reconcileAutoscaler, computeReplicasForMetrics,
 * normalizeDesiredReplicasWithBehaviors and convertDesiredReplicasWithBehaviorRate). A decision
 * gives one `reason`; a dashboard also wants the three questions the HPA answers apart: can tide
 * change the group's scale now, could it compute a count from its signals, and did a limit
 * change that count. Pure: derived from this tick's decision (or the step that failed), the
 * back-offs in force and the previous conditions, which keep `lastTransitionMs`.
 *
 * The HPA's reasons are used where the HPA has one with the same meaning; tide's own where its
 * model differs (each named in docs/status.md):
 *
 * | condition | 'True' (normal for AbleToScale, ScalingActive) | 'False' |
 * |---|---|---|
 * | AbleToScale | SucceededRescale, ReadyForNewScale, ScaleUpStabilized, ScaleDownStabilized, SucceededGetScale | FailedGetScale, FailedUpdateScale, BackoffUpscale, BackoffDownscale, BackoffBoth |
 * | ScalingActive | ValidMetricFound | ScalingDisabled, FailedGetMetrics, FailedGetExternalMetric, NoScalingPolicy |
 * | ScalingLimited (normal: 'False') | TooManyReplicas, TooFewReplicas, ScaleUpLimit, ScaleDownLimit, QuotaExhausted, ScaleInProtected, MissingMetricsBlockScaleIn | DesiredWithinRange |
 *
 * As in the HPA, a condition the tick says nothing about keeps its previous value (a failed
 * `provider.list` leaves ScalingActive and ScalingLimited as they were), and a condition is
 * absent until a tick first sets it.
 */
import { sizeText } from '../core/size.ts'
import type { AppliedLimit, Decision } from './types.ts'

/** The three condition types, in the order a status lists them. */
export const ConditionTypes = ['AbleToScale', 'ScalingActive', 'ScalingLimited'] as const
export type ConditionType = (typeof ConditionTypes)[number]

/** As Kubernetes' ConditionStatus, without 'Unknown': a condition tide cannot tell yet is absent. */
export type ConditionStatus = 'True' | 'False'

/** Why AbleToScale is what it is (the HPA's reasons). */
export type AbleToScaleReason =
  | 'SucceededGetScale'
  | 'SucceededRescale'
  | 'ReadyForNewScale'
  | 'ScaleUpStabilized'
  | 'ScaleDownStabilized'
  | 'FailedGetScale'
  | 'FailedUpdateScale'
  | 'BackoffUpscale'
  | 'BackoffDownscale'
  | 'BackoffBoth'

/**
 * Why ScalingActive is what it is: the HPA's ValidMetricFound, ScalingDisabled and
 * FailedGetExternalMetric; tide's FailedGetMetrics (the group's metrics source failed, or a
 * policy's signals are missing: tide reads every signal of a group at once, where the HPA names
 * the failing metric's type) and NoScalingPolicy (no policy and no active schedule: the count
 * stays where min/max put it; an HPA always has a metric).
 */
export type ScalingActiveReason = 'ValidMetricFound' | 'ScalingDisabled' | 'FailedGetMetrics' | 'FailedGetExternalMetric' | 'NoScalingPolicy'

/**
 * Why ScalingLimited is what it is: the HPA's reasons, and tide's own guards (fleet quotas,
 * scale-in protection, the missing-metric scale-in veto). A schedule's min or max counts as
 * TooFewReplicas or TooManyReplicas, the message naming the schedule.
 */
export type ScalingLimitedReason =
  | 'DesiredWithinRange'
  | 'TooManyReplicas'
  | 'TooFewReplicas'
  | 'ScaleUpLimit'
  | 'ScaleDownLimit'
  | 'QuotaExhausted'
  | 'ScaleInProtected'
  | 'MissingMetricsBlockScaleIn'

export type ConditionReason = AbleToScaleReason | ScalingActiveReason | ScalingLimitedReason

/** One condition, as the HPA's HorizontalPodAutoscalerCondition (times in epoch ms). */
export interface GroupCondition {
  readonly type: ConditionType
  readonly status: ConditionStatus
  /** A CamelCase word a program can match (see the module comment's table). */
  readonly reason: ConditionReason
  /** A sentence for the operator, with the numbers. */
  readonly message: string
  /** When `status` last changed (not the reason or message), epoch ms: the tick that changed it. */
  readonly lastTransitionMs: number
}

/** The step of a tick that failed, as conditions see it. */
export type FailedStep = 'provider' | 'metrics' | 'act'

/** What one tick tells the conditions. */
export interface ConditionsInput {
  /** The tick's time, epoch ms: the transition time of a condition whose status changes. */
  readonly nowMs: number
  /**
   * The tick's decision; absent when the tick failed before deciding, or was held back (then
   * only `backoff` says anything: AbleToScale from it, the rest as before).
   */
  readonly decision?: Pick<Decision, 'kind' | 'from' | 'to' | 'reason' | 'recommendations' | 'limits' | 'resize'>
  /**
   * A step of this tick failed (its message says why): `provider` listing instances (AbleToScale
   * False, FailedGetScale), `metrics` reading signals (ScalingActive False, FailedGetMetrics),
   * `act` launching, terminating or saving (AbleToScale False, FailedUpdateScale).
   */
  readonly failure?: { readonly step: FailedStep; readonly message: string }
  /** Back-offs in force: why new launches (`up`) or removals (`down`) wait. */
  readonly backoff?: { readonly up?: string; readonly down?: string } | undefined
  /** External queries whose source failed at its last poll (Signals.group.externalFailures). */
  readonly failedExternalQueries?: readonly string[] | undefined
  /** The conditions of the group's previous status; [] for its first. */
  readonly previous: readonly GroupCondition[]
}

/** The normal status of each type: what a healthy group that needs nothing shows. */
export const normalStatus: Readonly<Record<ConditionType, ConditionStatus>> = { AbleToScale: 'True', ScalingActive: 'True', ScalingLimited: 'False' }

/** Whether a condition is in its normal state (see normalStatus). */
export function isNormal(c: GroupCondition): boolean {
  return c.status === normalStatus[c.type]
}

type Draft = Omit<GroupCondition, 'lastTransitionMs'>

/**
 * The group's conditions after one tick (see the module comment), in ConditionTypes order,
 * each present once some tick has set it. A condition equal to its previous one is returned as
 * that same object; one whose status is unchanged keeps its lastTransitionMs.
 */
export function groupConditions(input: ConditionsInput): readonly GroupCondition[] {
  // Runs every tick of every group (the simulator's month included): plain loops, no closures.
  let able: Draft | undefined
  let active: Draft | undefined
  let limited: Draft | undefined
  const failure = input.failure
  const d = input.decision
  if (failure !== undefined) {
    if (failure.step === 'provider') able = { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: `tide was unable to list the group's instances: ${failure.message}` }
    else if (failure.step === 'act') able = { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `tide was unable to act on its decision: ${failure.message}` }
    else {
      able = { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: "tide listed the group's instances" }
      active = { type: 'ScalingActive', status: 'False', reason: 'FailedGetMetrics', message: `tide was unable to read the group's metrics: ${failure.message}` }
    }
  } else if (d !== undefined) {
    able = backedOff(input.backoff) ?? ableToScale(d)
    active = scalingActive(d, input.failedExternalQueries)
    limited = scalingLimited(d)
  } else {
    // A tick held back before it decided (the provider's calls wait): only the back-off is news.
    able = backedOff(input.backoff)
  }
  const prev = input.previous
  const out: GroupCondition[] = []
  push(out, able, previousOf(prev, 'AbleToScale'), input.nowMs)
  push(out, active, previousOf(prev, 'ScalingActive'), input.nowMs)
  push(out, limited, previousOf(prev, 'ScalingLimited'), input.nowMs)
  return out
}

function previousOf(prev: readonly GroupCondition[], type: ConditionType): GroupCondition | undefined {
  for (const c of prev) if (c.type === type) return c
  return undefined
}

/** Adds the draft settled against the previous condition of its type, or the previous one when the tick set none. */
function push(out: GroupCondition[], draft: Draft | undefined, before: GroupCondition | undefined, nowMs: number): void {
  if (draft !== undefined) out.push(settled(draft, before, nowMs))
  else if (before !== undefined) out.push(before)
}

/** The draft with its transition time: the previous one's when the status did not change (the HPA's setConditionInList). */
function settled(draft: Draft, before: GroupCondition | undefined, nowMs: number): GroupCondition {
  if (before !== undefined && before.status === draft.status && before.reason === draft.reason && before.message === draft.message) return before
  const lastTransitionMs = before === undefined || before.status !== draft.status ? nowMs : before.lastTransitionMs
  return { type: draft.type, status: draft.status, reason: draft.reason, message: draft.message, lastTransitionMs }
}

/** AbleToScale False while a back-off holds launches (`up`), removals (`down`) or both; undefined when none does. */
function backedOff(backoff: ConditionsInput['backoff']): Draft | undefined {
  const up = backoff?.up
  const down = backoff?.down
  if (up !== undefined && down !== undefined) return { type: 'AbleToScale', status: 'False', reason: 'BackoffBoth', message: up === down ? `scaling waits in both directions: ${up}` : `scaling waits in both directions: ${up}; ${down}` }
  if (up !== undefined) return { type: 'AbleToScale', status: 'False', reason: 'BackoffUpscale', message: `scale-up waits: ${up}` }
  if (down !== undefined) return { type: 'AbleToScale', status: 'False', reason: 'BackoffDownscale', message: `scale-down waits: ${down}` }
  return undefined
}

/** AbleToScale on a decided tick without a back-off: the rescale, the stabilization or ready (the HPA's order). */
function ableToScale(d: NonNullable<ConditionsInput['decision']>): Draft {
  if (d.kind === 'scale') {
    const size = d.resize === undefined ? '' : ` and the size to ${sizeText(d.resize.to)}`
    return { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `tide set the desired count to ${d.to}${size}` }
  }
  const stabilized = d.limits.find((l) => l.guard === 'stabilization')
  if (stabilized !== undefined) {
    return stabilized.to > stabilized.from
      ? { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: `recent recommendations were higher than the current one, applying the highest recent recommendation: ${stabilized.detail}` }
      : { type: 'AbleToScale', status: 'True', reason: 'ScaleUpStabilized', message: `recent recommendations were lower than the current one, applying the lowest recent recommendation: ${stabilized.detail}` }
  }
  return { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'the recommended count matches the count in force' }
}

/** Recommendation reasons that mean a policy's signals are missing (target tracking, step, slo). */
const MISSING_SIGNAL_REASONS: ReadonlySet<string> = new Set(['NoMetrics', 'NoDemand'])

/** ScalingActive on a decided tick: could the policies compute a count from their signals? */
function scalingActive(d: NonNullable<ConditionsInput['decision']>, failedExternal: readonly string[] | undefined): Draft {
  if (d.reason === 'ScalingDisabled') {
    return { type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: "scaling is disabled since the group's desired count is zero while its min is above zero" }
  }
  // The policies that gave a count (or, with none, that spoke), each once, and the details of those missing signals.
  let counted = ''
  let spoke = ''
  let missing = ''
  for (const r of d.recommendations) {
    if (r.advisory === true) continue
    spoke = withName(spoke, r.policy)
    if (r.replicas !== undefined) counted = withName(counted, r.policy)
    else if (MISSING_SIGNAL_REASONS.has(r.reason)) missing = missing === '' ? r.detail : `${missing}; ${r.detail}`
  }
  if (counted === '' && missing !== '') {
    return failedExternal !== undefined && failedExternal.length > 0
      ? { type: 'ScalingActive', status: 'False', reason: 'FailedGetExternalMetric', message: `tide was unable to compute the replica count: external ${failedExternal.length === 1 ? 'query' : 'queries'} ${failedExternal.join(', ')} failed; ${missing}` }
      : { type: 'ScalingActive', status: 'False', reason: 'FailedGetMetrics', message: `tide was unable to compute the replica count: ${missing}` }
  }
  if (spoke === '') {
    return { type: 'ScalingActive', status: 'False', reason: 'NoScalingPolicy', message: 'no scaling policy is configured and no schedule is active: the count stays within min and max' }
  }
  const partial = missing === '' ? '' : ` (${missing})`
  return { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the replica count was computed from ${counted === '' ? spoke : counted}${partial}` }
}

/** A comma-separated list of policy names with `name` added unless present. */
function withName(list: string, name: string): string {
  if (list === '') return name
  if (list === name || list.startsWith(`${name}, `) || list.endsWith(`, ${name}`) || list.includes(`, ${name}, `)) return list
  return `${list}, ${name}`
}

/** ScalingLimited on a decided tick: the last guard that changed the count (stabilization is AbleToScale's; the fast path only holds). */
function scalingLimited(d: NonNullable<ConditionsInput['decision']>): Draft | undefined {
  let last: LimitingLimit | undefined
  for (const l of d.limits) if (isLimiting(l)) last = l
  if (last === undefined) {
    // As the HPA, which leaves ScalingLimited alone when it computes no count or scaling is disabled.
    if (d.reason === 'NoMetrics' || d.reason === 'ScalingDisabled') return undefined
    return { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' }
  }
  return { type: 'ScalingLimited', status: 'True', ...limitedBy(last) }
}

/** A limit ScalingLimited reports: every guard but stabilization (AbleToScale's) and the fast path's hold (not a limit on the count asked for). */
type LimitingLimit = AppliedLimit & { readonly guard: Exclude<AppliedLimit['guard'], 'stabilization' | 'fast-path'> }

function isLimiting(l: AppliedLimit): l is LimitingLimit {
  return l.guard !== 'stabilization' && l.guard !== 'fast-path'
}

/** The reason and message of the guard that limited the count. */
function limitedBy(l: LimitingLimit): Pick<Draft, 'reason' | 'message'> {
  const down = l.to > l.from
  switch (l.guard) {
    case 'rate':
      return down
        ? { reason: 'ScaleDownLimit', message: `the desired count ${l.from} is decreasing faster than the maximum scale rate: ${l.detail}` }
        : { reason: 'ScaleUpLimit', message: `the desired count ${l.from} is increasing faster than the maximum scale rate: ${l.detail}` }
    case 'bounds':
    case 'schedule':
      return down
        ? { reason: 'TooFewReplicas', message: `the desired count ${l.from} is less than the minimum: ${l.detail}` }
        : { reason: 'TooManyReplicas', message: `the desired count ${l.from} is more than the maximum: ${l.detail}` }
    case 'quota':
      return { reason: 'QuotaExhausted', message: `the desired count ${l.from} is more than the quota allows: ${l.detail}` }
    case 'protection':
      return { reason: 'ScaleInProtected', message: `the desired count ${l.from} would remove protected instances: ${l.detail}` }
    case 'missing-metrics':
      return { reason: 'MissingMetricsBlockScaleIn', message: `the desired count ${l.from} is held: ${l.detail}` }
  }
}
