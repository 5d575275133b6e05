/**
 * decide(): one group, one tick. Pure and synchronous; composes the engine in the
 * order of the Kubernetes HPA's reconcileAutoscaler + normalizeDesiredReplicasWithBehaviors:
 *
 *   0. current = 0 with min > 0 → scaling disabled (the HPA's "ScalingDisabled").
 *   1. recommendations from every policy → combine (max; missing metrics veto scale-in)
 *   2. current outside [min, max] (spec or active schedule) → straight to the bound,
 *      skipping the windows and rates, as the HPA does for out-of-range counts.
 *   3. otherwise: stabilization windows → rate policies and min/max
 *   4. quota (only caps growth) → scale-in protection (never below the protected count)
 *   5. size: the mixed planner picks (count, size), or vertical auto sets the size (resize.ts)
 *
 * and returns the next ScaleHistory: this tick's unstabilized recommendation is
 * recorded, a scale event is recorded when the decision scales, and entries older
 * than the longest window or period are pruned.
 */
import type { GroupSpec } from '../spec/schema.ts'
import { effectiveBounds, type EffectiveBounds } from './guards/bounds.ts'
import { combine, type Combined } from './combine.ts'
import { explain } from './explain.ts'
import { allPolicies } from './policies/index.ts'
import { policyInput } from './policies/policy.ts'
import { isStepRecommendation } from './policies/step.ts'
import { capByQuota } from './guards/quota-room.ts'
import { longestPeriodMs, ratePolicyText, scaleDownLimit, scaleUpLimit } from './guards/rate-limits.ts'
import { heldByOperator } from './override.ts'
import { sizeOutcome } from './resize.ts'
import { protectedCount, scaleInCandidates } from './guards/scale-in.ts'
import { stabilize } from './guards/stabilization.ts'
import { historyAsOf } from './history-as-of.ts'
import type { AppliedLimit, DecideInput, Decision, DecisionReason, InstanceView, Recommendation, ScaleEvent, ScaleHistory, TimedRecommendation } from './types.ts'

/**
 * Decides the replica count of one group for this tick (see the module comment). With an
 * operator's manual scale in force (`input.override`), the engine's decision is made and then
 * replaced by the operator's count (override.ts), which explains it.
 */
export function decide(given: DecideInput): Decision {
  // A history stamped after now (the clock stepped back) is taken as made now: history-as-of.ts.
  const history = historyAsOf(given.state.history, given.nowMs)
  const input = history === given.state.history ? given : { ...given, state: { ...given.state, history } }
  const engine = decideByPolicies(input)
  return input.override === undefined ? engine : heldByOperator(input, engine)
}

/** The engine's own decision: policies, then the guards. */
function decideByPolicies(input: DecideInput): Decision {
  const { spec, state, nowMs } = input
  const from = state.desiredReplicas
  const pin = policyInput(input)
  const recommendations: Recommendation[] = []
  for (const policy of allPolicies) {
    const r = policy.propose(pin)
    if (r !== undefined) recommendations.push(r)
  }

  if (from === 0 && spec.replicas.min > 0) return scalingDisabled(input, recommendations)

  const combined = combine(from, recommendations)
  const bounds = effectiveBounds(spec.replicas, combined.scheduleMin, combined.scheduleMax)
  const limits: AppliedLimit[] = []
  let to: number
  let stabilized: readonly TimedRecommendation[] | undefined
  if (from > bounds.max || from < bounds.min) {
    to = from > bounds.max ? bounds.max : bounds.min
    limits.push(boundLimit(from, to, bounds))
  } else {
    const r = recommendAndLimit(input, combined, bounds, limits)
    to = r.to
    stabilized = r.recommendations
  }

  to = finalGuards(input, from, to, pin.instances.live, limits)
  // Size (vertical auto, or the mixed planner for both dimensions) after the count's guards.
  const sized = sizeOutcome(input, combined, to, limits, recommendations)
  to = sized.to

  const reason = reasonOf(limits, combined, recommendations, to, from)
  const kind: Decision['kind'] = to !== from || sized.resize !== undefined ? 'scale' : reason === 'NoMetrics' ? 'skip' : 'hold'
  const live = pin.instances.live
  const explanation = explain({ kind, from, to, reason, recommendations, ...(combined.driver === undefined ? {} : { driver: combined.driver }), limits })
  return {
    group: spec.group,
    atMs: nowMs,
    kind,
    from,
    to,
    ...(sized.resize === undefined ? {} : { resize: sized.resize }),
    reason,
    explanation: sized.note === undefined ? explanation : `${explanation}; ${sized.note}`,
    recommendations,
    limits,
    scaleInCandidates: live.length > to ? scaleInCandidates(live) : [],
    history: nextHistory(spec, state.history, stabilized, nowMs, from, to, recommendations),
  }
}

/** Step 0: the HPA leaves a group alone that someone scaled to zero while its min is above zero. */
function scalingDisabled(input: DecideInput, recommendations: readonly Recommendation[]): Decision {
  const { spec, state, nowMs } = input
  const note = `scaling is disabled while the group has 0 replicas and min is ${spec.replicas.min} (as the HPA: someone scaled it to zero on purpose)`
  return {
    group: spec.group,
    atMs: nowMs,
    kind: 'skip',
    from: 0,
    to: 0,
    reason: 'ScalingDisabled',
    explanation: explain({ kind: 'skip', from: 0, to: 0, reason: 'ScalingDisabled', recommendations, limits: [], note }),
    recommendations,
    limits: [],
    scaleInCandidates: [],
    history: nextHistory(spec, state.history, undefined, nowMs, 0, 0, recommendations),
  }
}

/** Step 4: the quota caps growth; protection floors a scale-in at the protected count; a fast re-decision never scales in. */
function finalGuards(input: DecideInput, from: number, wanted: number, live: readonly InstanceView[], limits: AppliedLimit[]): number {
  if (wanted > from) {
    const q = capByQuota(from, wanted, input.quotaRoom, input.state.size)
    if (q.detail === undefined) return wanted
    limits.push({ guard: 'quota', from: wanted, to: q.replicas, detail: q.detail })
    return q.replicas
  }
  if (wanted < from && input.scaleOutOnly === true) {
    limits.push({ guard: 'fast-path', from: wanted, to: from, detail: `held at ${from}: a fast re-decision on a fresh signal only scales out` })
    return from
  }
  if (wanted < from) {
    const floor = protectedCount(live)
    if (wanted >= floor) return wanted
    const raised = Math.min(from, floor)
    limits.push({ guard: 'protection', from: wanted, to: raised, detail: `kept ${raised}: ${floor} instance${floor === 1 ? ' is' : 's are'} protected from scale-in` })
    return raised
  }
  return wanted
}

/** Steps 1 and 3 for a count inside its bounds: veto, stabilization, rate policies and min/max. */
function recommendAndLimit(
  input: DecideInput,
  combined: Combined,
  bounds: EffectiveBounds,
  limits: AppliedLimit[],
): { to: number; recommendations: readonly TimedRecommendation[] } {
  const { spec, state, nowMs } = input
  const from = state.desiredReplicas
  const behavior = spec.behavior
  if (!combined.hasReplicas) {
    // No policy produced a count (metrics missing): as the HPA, which errors out of this tick, record
    // nothing, so that the stabilization windows hold only real recommendations.
    const windowMs = Math.max(behavior.scaleUp.stabilizationWindowSeconds, behavior.scaleDown.stabilizationWindowSeconds) * 1000
    return { to: from, recommendations: state.history.recommendations.filter((r) => r.atMs > nowMs - windowMs) }
  }
  let desired = combined.proposed
  if (combined.vetoedBy !== undefined) {
    limits.push({ guard: 'missing-metrics', from: desired, to: from, detail: `no scale-in to ${desired} while a metric is missing` })
    desired = from
  }
  const downWindowMs = behavior.scaleDown.stabilizationWindowSeconds * 1000
  const upWindowMs = behavior.scaleUp.stabilizationWindowSeconds * 1000
  // The HPA seeds an empty window with the current count (maybeInitScaleDownStabilizationWindow),
  // so that a restarted controller does not scale in before it has seen a whole window.
  const past = state.history.recommendations.length === 0 && downWindowMs > 0 ? [{ atMs: nowMs, replicas: from }] : state.history.recommendations
  const st = stabilize({ currentReplicas: from, desiredReplicas: desired, recommendations: past, nowMs, scaleUpWindowMs: upWindowMs, scaleDownWindowMs: downWindowMs })
  if (st.replicas !== desired) {
    limits.push({
      guard: 'stabilization',
      from: desired,
      to: st.replicas,
      detail:
        st.replicas > desired
          ? `scale-down stabilized at ${st.replicas}: highest recommendation in the last ${behavior.scaleDown.stabilizationWindowSeconds} s`
          : `scale-up stabilized at ${st.replicas}: lowest recommendation in the last ${behavior.scaleUp.stabilizationWindowSeconds} s`,
    })
  }
  const to = rateAndBounds(input, st.replicas, bounds, limits)
  // A vetoed tick is one the HPA errors out of (computeReplicasForMetrics): it records no recommendation.
  return { to, recommendations: combined.vetoedBy === undefined ? st.recommendations : st.recommendations.slice(0, -1) }
}

/** The HPA's convertDesiredReplicasWithBehaviorRate: the rate limit or min/max, whichever is tighter. */
function rateAndBounds(input: DecideInput, desired: number, bounds: EffectiveBounds, limits: AppliedLimit[]): number {
  const { spec, state, nowMs } = input
  const from = state.desiredReplicas
  const { scaleUpEvents: up, scaleDownEvents: down } = state.history
  if (desired > from) {
    const rules = spec.behavior.scaleUp
    const limit = scaleUpLimit(from, up, down, rules, nowMs)
    const rateCap = Math.max(limit.replicas, from)
    if (bounds.max > rateCap) {
      if (desired > rateCap) {
        const detail = limit.policy === undefined ? 'scale-up disabled (selectPolicy Disabled)' : `capped by scale-up policy ${ratePolicyText(limit.policy, 'up')}`
        limits.push({ guard: 'rate', from: desired, to: rateCap, detail })
        return rateCap
      }
    } else if (desired > bounds.max) {
      limits.push(boundLimit(desired, bounds.max, bounds))
      return bounds.max
    }
  } else if (desired < from) {
    const rules = spec.behavior.scaleDown
    const limit = scaleDownLimit(from, up, down, rules, nowMs)
    const rateFloor = Math.min(limit.replicas, from)
    if (bounds.min < rateFloor) {
      if (desired < rateFloor) {
        const detail = limit.policy === undefined ? 'scale-down disabled (selectPolicy Disabled)' : `limited by scale-down policy ${ratePolicyText(limit.policy, 'down')}`
        limits.push({ guard: 'rate', from: desired, to: rateFloor, detail })
        return rateFloor
      }
    } else if (desired < bounds.min) {
      limits.push(boundLimit(desired, bounds.min, bounds))
      return bounds.min
    }
  }
  return desired
}

function boundLimit(from: number, to: number, bounds: EffectiveBounds): AppliedLimit {
  const up = to > from
  const source = up ? bounds.minFrom : bounds.maxFrom
  const conflict = bounds.conflict === undefined ? '' : ` (${bounds.conflict})`
  return {
    guard: source === 'schedule' ? 'schedule' : 'bounds',
    from,
    to,
    detail: `${up ? 'raised to' : 'capped at'} ${source === 'schedule' ? 'schedule ' : ''}${up ? 'min' : 'max'} ${to}${conflict}`,
  }
}

function reasonOf(limits: readonly AppliedLimit[], combined: Combined, recommendations: readonly Recommendation[], to: number, from: number): DecisionReason {
  const last = limits.at(-1)
  if (last !== undefined) {
    switch (last.guard) {
      case 'stabilization':
        return 'Stabilized'
      case 'rate':
        return last.from > from ? 'ScaleUpLimit' : 'ScaleDownLimit'
      case 'bounds':
        return last.to > last.from ? 'TooFewReplicas' : 'TooManyReplicas'
      case 'schedule':
        return 'ScheduleBounds'
      case 'quota':
        return 'QuotaExhausted'
      case 'protection':
        return 'ScaleInProtected'
      case 'missing-metrics':
        return 'MissingMetricsBlockScaleIn'
      case 'fast-path':
        return 'DesiredWithinRange'
    }
  }
  if (!combined.hasReplicas) return 'NoMetrics'
  if (to === from && recommendations.some((r) => r.policy === 'target-tracking' && r.reason === 'WithinTolerance')) return 'WithinTolerance'
  return 'DesiredWithinRange'
}

const noEvents: readonly ScaleEvent[] = []

function prunedEvents(events: readonly ScaleEvent[], afterMs: number): readonly ScaleEvent[] {
  if (events.length === 0) return noEvents
  const first = events[0]
  if (first !== undefined && first.atMs > afterMs) return events
  return events.filter((e) => e.atMs > afterMs)
}

/**
 * The history for the next tick: the stabilization window's recommendations (or
 * the old ones pruned, when this tick did not go through stabilization), the scale
 * event if the count changes, and the fire times of step rules still cooling down.
 */
function nextHistory(
  spec: GroupSpec,
  history: ScaleHistory,
  stabilized: readonly TimedRecommendation[] | undefined,
  nowMs: number,
  from: number,
  to: number,
  recommendations: readonly Recommendation[],
): ScaleHistory {
  const behavior = spec.behavior
  const windowMs = Math.max(behavior.scaleUp.stabilizationWindowSeconds, behavior.scaleDown.stabilizationWindowSeconds) * 1000
  const recs = stabilized ?? history.recommendations.filter((r) => r.atMs > nowMs - windowMs)
  let scaleUpEvents = prunedEvents(history.scaleUpEvents, nowMs - longestPeriodMs(behavior.scaleUp))
  let scaleDownEvents = prunedEvents(history.scaleDownEvents, nowMs - longestPeriodMs(behavior.scaleDown))
  if (to > from) scaleUpEvents = [...scaleUpEvents, { atMs: nowMs, delta: to - from }]
  if (to < from) scaleDownEvents = [...scaleDownEvents, { atMs: nowMs, delta: to - from }]
  return { recommendations: recs, scaleUpEvents, scaleDownEvents, stepFiredAtMs: nextStepFired(spec, history, nowMs, from, to, recommendations) }
}

function nextStepFired(spec: GroupSpec, history: ScaleHistory, nowMs: number, from: number, to: number, recommendations: readonly Recommendation[]): ScaleHistory['stepFiredAtMs'] {
  const previous = history.stepFiredAtMs
  const step = to === from ? undefined : recommendations.find(isStepRecommendation)
  const fired = step?.replicas !== undefined && step.replicas > from === to > from ? step.firedRules : []
  let changed = fired.length > 0
  const next: Record<number, number> = {}
  for (const [key, atMs] of Object.entries(previous)) {
    const index = Number(key)
    const rule = spec.steps[index]
    if (rule !== undefined && nowMs - atMs < rule.cooldownSeconds * 1000) next[index] = atMs
    else changed = true
  }
  for (const index of fired) next[index] = nowMs
  return changed ? next : previous
}
