/**
 * What `tide up` prints while it runs: one line when something changes (a scaling action, an
 * instance changing phase, tide becoming unable to scale or able again), and a compact
 * heartbeat every so often (load, instances by phase, p95) instead of repeating the same
 * decision each tick. The full decisions, with every recommendation, stay in the store's event
 * log. Everything here but `UpOutput` is a pure function of its arguments.
 */
import type { Decision, DecisionReason, InstancePhase } from '../engine/types.ts'
import { isNormal, type GroupCondition } from '../engine/conditions.ts'
import { explain } from '../engine/explain.ts'
import type { EventSink, TideEvent } from '../store/events.ts'
import type { SloStatus } from '../controller/group-status.ts'
import type { RouterStats } from '../router/stats.ts'

/**
 * Hold reasons that mean tide cannot do what the metrics ask (no metrics, scale-in blocked,
 * scaling disabled, protected instances, at max, out of quota): entering one is news, and so
 * is leaving it. Holds for ordinary reasons (within tolerance, stabilization, rate limits, at
 * min) change from tick to tick and are left to the heartbeat.
 */
const STUCK: ReadonlySet<DecisionReason> = new Set<DecisionReason>(['NoMetrics', 'MissingMetricsBlockScaleIn', 'ScalingDisabled', 'ScaleInProtected', 'TooManyReplicas', 'QuotaExhausted'])
/** Stuck reasons the controller already announces with an event of their own (at-max-capacity, quota-exhausted). */
const ANNOUNCED: ReadonlySet<DecisionReason> = new Set<DecisionReason>(['TooManyReplicas', 'QuotaExhausted'])

/**
 * Whether a decision deserves its own line, given the group's previous decision (undefined
 * for the first): every scaling action; the first decision; entering a stuck reason that has
 * no event of its own, or changing from one stuck reason to another; and leaving a stuck
 * reason (so the operator sees tide can scale again).
 */
export function isDecisionNews(previous: Decision | undefined, next: Decision): boolean {
  if (next.kind === 'scale' || previous === undefined) return true
  if (next.reason === previous.reason) return false
  if (STUCK.has(next.reason)) return !ANNOUNCED.has(next.reason)
  return STUCK.has(previous.reason)
}

/**
 * A decision in one line: the outcome, what asked for it, and the guards that shaped it.
 * Advisory recommendations (predictive forecastOnly, vertical recommend: "not acted on") are
 * left out; the store's event log keeps the full explanation.
 */
export function decisionLine(d: Pick<Decision, 'kind' | 'from' | 'to' | 'reason' | 'recommendations' | 'limits'>): string {
  return explain({ kind: d.kind, from: d.from, to: d.to, reason: d.reason, recommendations: d.recommendations.filter((r) => r.advisory !== true), limits: d.limits })
}

/** Traffic through a group's router over a period (a heartbeat's), from its per-second windows. */
export interface TrafficSummary {
  /** Length of the windows summed, seconds. */
  readonly seconds: number
  /** Requests answered per second over the period. */
  readonly rps: number
  /** Requests shed (503 + Retry-After) and 5xx answers over the period. */
  readonly shed: number
  readonly errors: number
  /** The windows' p95, averaged weighted by their requests; undefined when nothing was answered. */
  readonly p95Ms: number | undefined
  /** Classes that had traffic in the period, in the router's order (classes without any are omitted). */
  readonly classes: readonly { readonly name: string; readonly rps: number; readonly p95Ms: number | undefined }[]
}

interface Sum {
  requests: number
  p95Weighted: number
  p95Weight: number
}

/**
 * Adds up a router's stats windows between two heartbeats. `add` each `stats` event; `take`
 * returns the period's summary (undefined when no window arrived) and starts a new period.
 */
export class TrafficTally {
  #seconds = 0
  #shed = 0
  #errors = 0
  #total: Sum = { requests: 0, p95Weighted: 0, p95Weight: 0 }
  #classes = new Map<string, Sum>()

  /** Counts one window. */
  add(stats: RouterStats): void {
    this.#seconds += Math.max(0, stats.windowEndMs - stats.windowStartMs) / 1000
    this.#shed += stats.total.shed
    this.#errors += stats.total.errors
    addTraffic(this.#total, stats.total.requests, stats.total.p95Ms)
    for (const c of stats.classes) {
      let s = this.#classes.get(c.name)
      if (!s) this.#classes.set(c.name, (s = { requests: 0, p95Weighted: 0, p95Weight: 0 }))
      addTraffic(s, c.requests, c.p95Ms)
    }
  }

  /** The period's summary, then a fresh period. */
  take(): TrafficSummary | undefined {
    if (this.#seconds === 0) return undefined
    const seconds = this.#seconds
    const summary: TrafficSummary = {
      seconds,
      rps: this.#total.requests / seconds,
      shed: this.#shed,
      errors: this.#errors,
      p95Ms: p95Of(this.#total),
      classes: [...this.#classes].filter(([, s]) => s.requests > 0).map(([name, s]) => ({ name, rps: s.requests / seconds, p95Ms: p95Of(s) })),
    }
    this.#seconds = 0
    this.#shed = 0
    this.#errors = 0
    this.#total = { requests: 0, p95Weighted: 0, p95Weight: 0 }
    this.#classes = new Map()
    return summary
  }
}

function addTraffic(s: Sum, requests: number, p95Ms: number | undefined): void {
  s.requests += requests
  if (requests > 0 && p95Ms !== undefined) {
    s.p95Weighted += p95Ms * requests
    s.p95Weight += requests
  }
}

function p95Of(s: Sum): number | undefined {
  return s.p95Weight === 0 ? undefined : s.p95Weighted / s.p95Weight
}

/** The order phases are listed in a heartbeat: the lifecycle's. */
const PHASE_ORDER: readonly InstancePhase[] = ['pending', 'warming', 'in-service', 'draining', 'unhealthy', 'standby', 'terminated']

/** What a heartbeat line says about one group. */
export interface Heartbeat {
  readonly atMs: number
  readonly group: string
  /** The router's traffic since the last heartbeat; undefined when the group has no router or no window came. */
  readonly traffic: TrafficSummary | undefined
  /** The phase of each instance the controller knows. */
  readonly phases: readonly InstancePhase[]
  readonly desiredReplicas: number
  /** The group's slo status (headroom, its cost, the budget spent), when it has an slo. */
  readonly slo?: SloStatus
  /** The group's status conditions: those not in their normal state are shown. */
  readonly conditions?: readonly GroupCondition[]
}

/** "12", "3.4", "0.25": whole numbers from 10, otherwise up to two significant decimals. */
function num(v: number): string {
  return v >= 10 ? String(Math.round(v)) : String(Math.round(v * 100) / 100)
}

/**
 * The heartbeat, e.g. `12:00:30 shop-web: 42 req/s, p95 38 ms (checkout 120 ms, cart 35 ms);
 * instances 3 in-service, 1 warming; desired 4`. Latencies appear only where there was traffic;
 * shed and errors only when there were any; conditions only when not in their normal state
 * (conditionsText).
 */
export function heartbeatLine(h: Heartbeat): string {
  const parts: string[] = []
  const t = h.traffic
  if (t !== undefined) {
    let load = `${num(t.rps)} req/s`
    if (t.shed > 0) load += `, ${t.shed} shed`
    if (t.errors > 0) load += `, ${t.errors} errors`
    if (t.p95Ms !== undefined) {
      const classes = t.classes.filter((c) => c.p95Ms !== undefined).map((c) => `${c.name} ${Math.round(c.p95Ms ?? 0)} ms`)
      load += `, p95 ${Math.round(t.p95Ms)} ms${classes.length > 1 ? ` (${classes.join(', ')})` : ''}`
    }
    parts.push(load)
  }
  const counts = PHASE_ORDER.map((p) => [p, h.phases.filter((x) => x === p).length] as const).filter(([, n]) => n > 0)
  parts.push(counts.length === 0 ? 'no instances' : `instances ${counts.map(([p, n]) => `${n} ${p}`).join(', ')}`)
  parts.push(`desired ${h.desiredReplicas}`)
  if (h.slo !== undefined) parts.push(sloText(h.slo))
  const conditions = h.conditions === undefined ? undefined : conditionsText(h.conditions)
  if (conditions !== undefined) parts.push(conditions)
  return `${clockText(h.atMs)} ${h.group}: ${parts.join('; ')}`
}

/**
 * The conditions not in their normal state (AbleToScale or ScalingActive False, ScalingLimited
 * True), compactly, e.g. `AbleToScale False (FailedGetScale), ScalingLimited True (TooManyReplicas)`;
 * undefined when all are normal. ScalingLimited True for TooFewReplicas is left out: it is where
 * an idle group rests (at its min, or a schedule's), every heartbeat, and says nothing new. The
 * messages are in `tide status` and the event log.
 */
export function conditionsText(conditions: readonly GroupCondition[]): string | undefined {
  const off = conditions.filter((c) => !isNormal(c) && c.reason !== 'TooFewReplicas').map((c) => `${c.type} ${c.status} (${c.reason})`)
  return off.length === 0 ? undefined : off.join(', ')
}

/**
 * The slo part of a heartbeat, e.g. `headroom 24 % (learned; 2 instances), budget 0.5 %: 0.1 %
 * today, 0.3 % this week`.
 */
export function sloText(s: SloStatus): string {
  const pct = (v: number) => `${Math.round(v * 100) / 100} %`
  const budget = `budget ${pct(s.budgetPercent)}: ${pct(s.budget.todayViolatedPercent)} today, ${pct(s.budget.weekViolatedPercent)} this week`
  const h = s.headroom
  if (h === undefined) return budget
  const cost = s.cost === undefined ? '' : `; ${s.cost.headroomInstances} instance${s.cost.headroomInstances === 1 ? '' : 's'}`
  return `headroom ${Math.round(h.percent)} % (${h.source}${cost}), ${budget}`
}

/** HH:MM:SS of an epoch-ms time, UTC (the same clock as the store's event log). */
export function clockText(atMs: number): string {
  return new Date(atMs).toISOString().slice(11, 19)
}

/**
 * The line for an event, or undefined when it is not news: decisions as `isDecisionNews` says
 * (printed short, as `decisionLine`), every other event (launches, instances ready, drained,
 * failed, forecast state, limits reached, failover to the backup pool and failback) as it comes. `previous` is the group's last decision.
 */
export function eventLine(e: TideEvent, previous: Decision | undefined): string | undefined {
  if (e.type === 'decision' && e.decision !== undefined) {
    return isDecisionNews(previous, e.decision) ? `${clockText(e.atMs)} ${e.group} ${decisionLine(e.decision)}` : undefined
  }
  return `${clockText(e.atMs)} ${e.group} ${e.type}: ${e.message}`
}

/** The terminal sink of `tide up`: prints `eventLine` of each event, remembering each group's last decision. */
export class UpOutput implements EventSink {
  readonly #write: (line: string) => void
  readonly #last = new Map<string, Decision>()

  constructor(write: (line: string) => void) {
    this.#write = write
  }

  append(e: TideEvent): void {
    const line = eventLine(e, this.#last.get(e.group))
    if (e.type === 'decision' && e.decision !== undefined) this.#last.set(e.group, e.decision)
    if (line !== undefined) this.#write(`${line}\n`)
  }
}
