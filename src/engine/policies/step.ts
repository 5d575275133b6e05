/**
 * Step scaling, after AWS EC2 Auto Scaling step policies, in tide's words:
 *
 * - A rule watches one metric (readings.ts units: cpu/memory in percent of size,
 *   latency in ms, rps and inflight per in-service instance, external as-is) and
 *   is breached when the value is strictly above `above` or strictly below `below`.
 * - A breached rule proposes a count from the current desired count `n`:
 *   `Pods v` → n ± |v|; `Percent v` → n ± max(1, floor(n × |v| / 100)) (AWS rounds a
 *   percentage change down, and a change below 1 up to 1); `Exact v` → v.
 *   `above` rules add, `below` rules subtract; the sign of `v` is ignored.
 * - A rule that fired less than `cooldownSeconds` ago (history.stepFiredAtMs, by
 *   rule index) is cooling down and proposes nothing.
 * - Proposals above n are scale-outs and the largest wins; only when there is none,
 *   proposals below n are scale-ins and the lowest wins. With no breached rule the
 *   policy has no opinion (no `replicas`), so it neither forces nor vetoes anything.
 * - `firedRules` lists the rules whose proposal won or tied; decide() records
 *   their firing time when the decision scales.
 */
import type { StepRule } from '../../spec/schema.ts'
import { metricName, metricUnit, readMetric } from '../readings.ts'
import type { Recommendation } from '../types.ts'
import type { PolicyInput, ScalingPolicy } from './policy.ts'

/** A step recommendation also says which rules fired, for their cooldowns. */
export interface StepRecommendation extends Recommendation {
  readonly policy: 'step'
  /** Indexes into spec.steps of the rules behind `replicas`. */
  readonly firedRules: readonly number[]
}

/** Whether a recommendation came from the step policy (and so carries firedRules). */
export function isStepRecommendation(r: Recommendation): r is StepRecommendation {
  return r.policy === 'step' && 'firedRules' in r
}

/** The count a breached rule proposes from the current count (see the module comment). */
export function stepTarget(rule: StepRule, currentReplicas: number): number {
  const magnitude = Math.abs(rule.change.value)
  const sign = rule.above !== undefined ? 1 : -1
  switch (rule.change.type) {
    case 'Exact':
      return magnitude
    case 'Pods':
      return Math.max(0, currentReplicas + sign * magnitude)
    case 'Percent':
      return Math.max(0, currentReplicas + sign * Math.max(1, Math.floor((currentReplicas * magnitude) / 100)))
  }
}

function changeText(rule: StepRule): string {
  const magnitude = Math.abs(rule.change.value)
  const sign = rule.above !== undefined ? '+' : '−'
  switch (rule.change.type) {
    case 'Exact':
      return `set ${magnitude}`
    case 'Pods':
      return `${sign}${magnitude} instance${magnitude === 1 ? '' : 's'}`
    case 'Percent':
      return `${sign}${magnitude}%`
  }
}

function show(v: number): string {
  return Math.abs(v) >= 10 ? String(Math.round(v)) : String(Math.round(v * 10) / 10)
}

interface Proposal {
  readonly index: number
  readonly replicas: number
  readonly text: string
}

/** What one rule says this tick: a proposal, a note (no signal, cooling down), or nothing (not breached). */
type RuleOutcome = { readonly proposal: Proposal } | { readonly note: string; readonly reading: boolean } | { readonly reading: true }

function evaluateRule(rule: StepRule, index: number, input: PolicyInput): RuleOutcome {
  const value = readMetric(rule.metric, input.signals, input.instances)
  const name = metricName(rule.metric)
  if (value === undefined || !Number.isFinite(value)) return { note: `${name}: no signal`, reading: false }
  const threshold = rule.above ?? rule.below ?? 0
  const breached = rule.above !== undefined ? value > rule.above : value < threshold
  if (!breached) return { reading: true }
  const unit = metricUnit(rule.metric)
  const text = `${name} ${show(value)}${unit} ${rule.above !== undefined ? '>' : '<'} ${show(threshold)}${unit} → ${changeText(rule)}`
  const firedAtMs = input.state.history.stepFiredAtMs[index]
  const cooldownMs = rule.cooldownSeconds * 1000
  if (firedAtMs !== undefined && input.nowMs - firedAtMs < cooldownMs) {
    return { note: `${text} cooling down (${show((cooldownMs - (input.nowMs - firedAtMs)) / 1000)} s left)`, reading: true }
  }
  return { proposal: { index, replicas: stepTarget(rule, input.state.desiredReplicas), text } }
}

/** The step policy: configured by `steps:` in tide.yaml; silent when there are none. */
export const stepPolicy: ScalingPolicy = {
  kind: 'step',
  propose(input: PolicyInput): StepRecommendation | undefined {
    const rules = input.spec.steps
    if (rules.length === 0) return undefined
    const current = input.state.desiredReplicas
    const ups: Proposal[] = []
    const downs: Proposal[] = []
    const notes: string[] = []
    let anyReading = false
    for (const [index, rule] of rules.entries()) {
      const outcome = evaluateRule(rule, index, input)
      if ('proposal' in outcome) {
        anyReading = true
        if (outcome.proposal.replicas > current) ups.push(outcome.proposal)
        else if (outcome.proposal.replicas < current) downs.push(outcome.proposal)
        continue
      }
      if (outcome.reading) anyReading = true
      if ('note' in outcome) notes.push(outcome.note)
    }
    const chosen = ups.length > 0 ? pick(ups, Math.max) : downs.length > 0 ? pick(downs, Math.min) : undefined
    if (chosen === undefined) {
      const detail = notes.length > 0 ? `step: ${notes.join(', ')}` : 'step: no rule breached'
      return { policy: 'step', reason: anyReading ? 'NoStepBreached' : 'NoMetrics', detail, firedRules: [] }
    }
    return {
      policy: 'step',
      replicas: chosen.replicas,
      reason: chosen.replicas > current ? 'StepAbove' : 'StepBelow',
      detail: `step: ${chosen.texts.join(', ')}`,
      firedRules: chosen.indexes,
    }
  },
}

function pick(proposals: readonly Proposal[], best: (...values: number[]) => number): { replicas: number; indexes: number[]; texts: string[] } {
  const replicas = best(...proposals.map((p) => p.replicas))
  const winners = proposals.filter((p) => p.replicas === replicas)
  return { replicas, indexes: winners.map((p) => p.index), texts: winners.map((p) => p.text) }
}
