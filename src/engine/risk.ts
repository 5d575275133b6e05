/**
 * The risk radar (DESIGN.md "Beyond what others do" 6, issue 11): from what the controller has
 * each tick — the recent demand, the forecast ahead, what one instance carries, the group's max,
 * the room the global quotas leave it, and its SLO violation budget — it says ahead of time when
 * the group will need more instances than it may have, or spend its violation budget:
 * "at this trend shop-web reaches max 20 in ~35 min".
 *
 * Capacity risks (`max`, `quota`). The group needs ⌈demand ÷ perInstanceRps⌉ instances; its
 * ceiling is min(max, the quotas' room). Two bases look ahead:
 * - `trend`: a least-squares line through the demand of the last RISK_TREND_WINDOW_MS. Only an
 *   upward slope that is significant (slope ≥ 3 standard errors, over at least
 *   RISK_MIN_TREND_SPAN_MS and RISK_MIN_TREND_SAMPLES readings) counts, so flat and noisy traffic
 *   raise nothing; the line is followed at most RISK_TREND_HORIZON_MS ahead. The ETA is when the
 *   line crosses the ceiling's capacity (0 when the line's value now is already past it).
 * - `forecast`: the predictive forecaster's expected demand over the next
 *   RISK_FORECAST_HORIZON_MS; the ETA is the start of the first bucket that needs more than the
 *   ceiling.
 * The earlier of the two is reported, with its basis. A quota is reported instead of the max when
 * it binds first (the max is then out of reach).
 *
 * Budget risk (`budget`). The SLO allows budgetPercent of the UTC day's measured time outside the
 * objective (src/controller/headroom-recorder.ts keeps the account). If measuring goes on to the
 * day's end, the day allows B·(M + L) violated seconds (B the budget share, M measured so far, L
 * the seconds left); V are spent. At the recent burn rate b (violated ÷ measured over the trend
 * window) the rest lasts (B·(M + L) − V) ÷ b seconds: reported when that is before the day ends,
 * and with ETA 0 once V exceeds what the day allows. No burn, no warning.
 *
 * Pure: no clock (nowMs is an argument), no I/O; the controller feeds it and keeps the episodes.
 */
import type { QuotaLimits, Size } from '../spec/schema.ts'
import { appliedHeadroom, instanceCapacityRps } from './policies/slo.ts'
import type { DecideInput, Decision, FleetQuotas } from './types.ts'

/** What a risk is about: the group's max, a global quota, or its SLO violation budget. */
export type RiskKind = 'max' | 'quota' | 'budget'
/** What a risk's ETA comes from: the demand forecast, or the recent trend (of demand, or of the budget's burn). */
export type RiskBasis = 'forecast' | 'trend'

/** One risk the radar sees. */
export interface GroupRisk {
  readonly kind: RiskKind
  /** Seconds from now until the limit is reached, whole seconds; 0 when it already is. */
  readonly etaSeconds: number
  /** One sentence for the operator, with the numbers. */
  readonly message: string
  readonly basis: RiskBasis
}

/** One demand reading: group requests/s at a time. */
export interface DemandSample {
  readonly atMs: number
  readonly rps: number
}

/** What the radar needs of a group this tick. */
export interface RiskInput {
  readonly group: string
  readonly nowMs: number
  /** Recent demand readings, oldest first (the controller keeps RISK_TREND_WINDOW_MS of them). */
  readonly demand: readonly DemandSample[]
  /** The forecaster's expected demand (groups with predictive on, once fitted): bucket i covers [fromMs + i·stepMs, +stepMs). */
  readonly forecast?: { readonly fromMs: number; readonly stepMs: number; readonly values: readonly number[] } | undefined
  /** Requests/s one instance carries at the group's target; undefined when unknown (no capacity risks then). */
  readonly perInstanceRps?: number | undefined
  readonly max: number
  /** The most instances the global quotas leave the group, the others as they stand; undefined without quotas. */
  readonly quotaCeiling?: number | undefined
  /** The SLO budget's account (groups with an slo): the day so far and the recent window. */
  readonly budget?: BudgetInput | undefined
}

/** The violation budget's account as the radar reads it, seconds. */
export interface BudgetInput {
  readonly budgetPercent: number
  readonly todayMeasuredSeconds: number
  readonly todayViolatedSeconds: number
  /** Over the recent window (RISK_TREND_WINDOW_MS): seconds measured and violated. */
  readonly recentMeasuredSeconds: number
  readonly recentViolatedSeconds: number
}

/** The demand the trend is fitted to, ms. */
export const RISK_TREND_WINDOW_MS = 10 * 60_000
/** The least span of readings a trend is drawn from, ms. */
export const RISK_MIN_TREND_SPAN_MS = 5 * 60_000
/** The fewest readings a trend is drawn from. */
export const RISK_MIN_TREND_SAMPLES = 6
/** How far a trend is followed ahead, ms: a line drawn from 10 minutes says little about the next hours. */
export const RISK_TREND_HORIZON_MS = 60 * 60_000
/** How far the forecast is read ahead, ms. */
export const RISK_FORECAST_HORIZON_MS = 6 * 60 * 60_000
/** A slope counts when it is at least this many standard errors above 0. */
const SIGNIFICANT_T = 3
const DAY_S = 86_400

/** A fitted demand trend: its value now and its slope. */
export interface DemandTrend {
  /** The line's value at nowMs, requests/s. */
  readonly levelRps: number
  /** Requests/s per second. */
  readonly slopeRpsPerSecond: number
  /** The slope ÷ its standard error (Infinity for a perfect line with a slope). */
  readonly tStat: number
}

/**
 * The least-squares line through the readings of the last RISK_TREND_WINDOW_MS before `nowMs`;
 * undefined with fewer than RISK_MIN_TREND_SAMPLES readings or a span under RISK_MIN_TREND_SPAN_MS.
 * Non-finite readings are skipped.
 */
export function demandTrend(samples: readonly DemandSample[], nowMs: number): DemandTrend | undefined {
  // x: seconds relative to now (≤ 0), y: requests/s.
  const xs: number[] = []
  const ys: number[] = []
  for (const s of samples) {
    if (s.atMs < nowMs - RISK_TREND_WINDOW_MS || s.atMs > nowMs || !Number.isFinite(s.rps)) continue
    xs.push((s.atMs - nowMs) / 1000)
    ys.push(s.rps)
  }
  const n = xs.length
  if (n < RISK_MIN_TREND_SAMPLES || (Math.max(...xs) - Math.min(...xs)) * 1000 < RISK_MIN_TREND_SPAN_MS) return undefined
  const mx = xs.reduce((a, x) => a + x, 0) / n
  const my = ys.reduce((a, y) => a + y, 0) / n
  let sxx = 0
  let sxy = 0
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx
    sxx += dx * dx
    sxy += dx * ((ys[i] ?? 0) - my)
  }
  const slope = sxy / sxx
  const intercept = my - slope * mx
  let sse = 0
  for (let i = 0; i < n; i++) sse += ((ys[i] ?? 0) - (intercept + slope * (xs[i] ?? 0))) ** 2
  // Standard error of the slope: sqrt(SSE / (n − 2) / Sxx).
  const se = Math.sqrt(sse / (n - 2) / sxx)
  return { levelRps: intercept, slopeRpsPerSecond: slope, tStat: se > 0 ? slope / se : Math.sign(slope) * Infinity || 0 }
}

/** Every risk the radar sees for the group now, capacity first; empty when none. */
export function groupRisks(input: RiskInput): GroupRisk[] {
  const out: GroupRisk[] = []
  const capacity = capacityRisk(input)
  if (capacity !== undefined) out.push(capacity)
  const budget = input.budget === undefined ? undefined : budgetRisk(input.group, input.nowMs, input.budget)
  if (budget !== undefined) out.push(budget)
  return out
}

/** The max or quota risk (see the module comment), or undefined. */
function capacityRisk(input: RiskInput): GroupRisk | undefined {
  const per = input.perInstanceRps
  if (per === undefined || !(per > 0)) return undefined
  const quotaBinds = input.quotaCeiling !== undefined && input.quotaCeiling < input.max
  const ceiling = quotaBinds ? (input.quotaCeiling ?? input.max) : input.max
  const kind: RiskKind = quotaBinds ? 'quota' : 'max'
  const limitRps = Math.max(0, ceiling) * per
  const limitText = kind === 'max' ? `max ${input.max}` : `the quotas' ceiling of ${ceiling} instances (max ${input.max})`
  const trend = trendCrossing(input, limitRps)
  const forecast = forecastCrossing(input, limitRps)
  const first = trend === undefined ? forecast : forecast === undefined || trend.etaSeconds <= forecast.etaSeconds ? trend : forecast
  if (first === undefined) return undefined
  const need = Math.ceil(first.rps / per - 1e-9)
  const when = first.etaSeconds === 0 ? 'now' : `in ~${durationText(first.etaSeconds)}`
  const what = `${need} instances of ${round(per)} req/s for ${round(first.rps)} req/s`
  const message =
    first.basis === 'trend'
      ? `at this trend (+${round(first.slopePerMinute ?? 0)} req/s a minute) ${input.group} reaches ${limitText} ${when}: it will need ${what}`
      : `the forecast says ${input.group} reaches ${limitText} ${when} (${clockText(input.nowMs + first.etaSeconds * 1000)}): it will need ${what}`
  return { kind, etaSeconds: first.etaSeconds, message, basis: first.basis }
}

interface Crossing {
  readonly etaSeconds: number
  readonly rps: number
  readonly basis: RiskBasis
  readonly slopePerMinute?: number
}

/** When the demand trend crosses `limitRps`, within RISK_TREND_HORIZON_MS; undefined without a significant upward trend. */
function trendCrossing(input: RiskInput, limitRps: number): Crossing | undefined {
  const t = demandTrend(input.demand, input.nowMs)
  if (t === undefined || !(t.slopeRpsPerSecond > 0) || t.tStat < SIGNIFICANT_T) return undefined
  const slopePerMinute = t.slopeRpsPerSecond * 60
  if (t.levelRps > limitRps) return { etaSeconds: 0, rps: t.levelRps, basis: 'trend', slopePerMinute }
  const eta = (limitRps - t.levelRps) / t.slopeRpsPerSecond
  if (eta > RISK_TREND_HORIZON_MS / 1000) return undefined
  // The demand just past the limit, for the count it needs.
  return { etaSeconds: Math.round(eta), rps: limitRps * (1 + 1e-6) + 1e-6, basis: 'trend', slopePerMinute }
}

/** The first forecast bucket within RISK_FORECAST_HORIZON_MS whose demand exceeds `limitRps`. */
function forecastCrossing(input: RiskInput, limitRps: number): Crossing | undefined {
  const f = input.forecast
  if (f === undefined || !(f.stepMs > 0)) return undefined
  const endMs = input.nowMs + RISK_FORECAST_HORIZON_MS
  for (let i = 0; i < f.values.length; i++) {
    const startMs = f.fromMs + i * f.stepMs
    if (startMs >= endMs) break
    if (startMs + f.stepMs <= input.nowMs) continue
    const v = f.values[i]
    if (v !== undefined && Number.isFinite(v) && v > limitRps) return { etaSeconds: Math.max(0, Math.round((startMs - input.nowMs) / 1000)), rps: v, basis: 'forecast' }
  }
  return undefined
}

/** The budget risk (see the module comment), or undefined. */
function budgetRisk(group: string, nowMs: number, b: BudgetInput): GroupRisk | undefined {
  const share = b.budgetPercent / 100
  const leftS = DAY_S - ((nowMs / 1000) % DAY_S)
  const allowed = share * (b.todayMeasuredSeconds + leftS)
  const remaining = allowed - b.todayViolatedSeconds
  if (remaining <= 0 && b.todayViolatedSeconds > 0) {
    return { kind: 'budget', etaSeconds: 0, basis: 'trend', message: `${group} has spent today's SLO violation budget: ${round(b.todayViolatedSeconds)} s outside the objective, more than ${b.budgetPercent} % of the day allows (${round(allowed)} s)` }
  }
  if (!(b.recentMeasuredSeconds > 0 && b.recentViolatedSeconds > 0)) return undefined
  const burn = b.recentViolatedSeconds / b.recentMeasuredSeconds
  const eta = remaining / burn
  if (eta >= leftS) return undefined
  return {
    kind: 'budget',
    etaSeconds: Math.round(eta),
    basis: 'trend',
    message: `at this burn (${round(burn * 100)} % of the last ${durationText(b.recentMeasuredSeconds)} outside the objective) ${group} spends today's SLO violation budget in ~${durationText(eta)}: ${round(b.todayViolatedSeconds)} s of ${round(allowed)} s spent`,
  }
}

/**
 * What one instance of the group carries at its target, requests/s, for the capacity risks:
 * with slo.instanceRps, instanceRps (by cpu) ÷ (1 + the headroom applied); else an `rps` metric's
 * averageValue (by cpu); else, when the tick read a demand and a policy asked for a count, the
 * demand ÷ the most any policy asked for (the load per instance the policies scale to). Undefined
 * when none of these is known (a group scaled on cpu at its min, say): no capacity risk then.
 */
export function riskPerInstanceRps(input: DecideInput, decision: Pick<Decision, 'recommendations' | 'resize'>): number | undefined {
  const { spec } = input
  const size = decision.resize?.to ?? input.state.size
  const capacity = instanceCapacityRps(spec, size)
  if (capacity !== undefined && spec.slo !== undefined) return capacity / (1 + appliedHeadroom(spec.slo, input.headroom).ratio)
  const metric = spec.metrics.find((m) => m.type === 'rps')
  if (metric?.type === 'rps') return metric.target.averageValue * (size.cpu / spec.size.cpu)
  const demand = input.signals?.group.rps
  let wanted = 0
  for (const r of decision.recommendations) if (r.advisory !== true && r.replicas !== undefined) wanted = Math.max(wanted, r.replicas)
  return demand !== undefined && Number.isFinite(demand) && demand > 0 && wanted > 0 ? demand / wanted : undefined
}

/**
 * The most instances of `size` each group could have under the quotas, the other groups held at
 * their counts: for group i, the room the fleet-wide and its provider's limits leave over the
 * others' usage. undefined for every group when no quota limits anything. Groups are
 * `{ provider, size, replicas }` in config order.
 */
export function quotaCeilings(groups: readonly { readonly provider: string; readonly size: Size; readonly replicas: number }[], quotas: FleetQuotas | undefined): (number | undefined)[] {
  const perProvider = quotas?.perProvider as Readonly<Record<string, QuotaLimits | undefined>> | undefined
  const limited = quotas !== undefined && (quotas.maxInstances !== undefined || quotas.maxCpu !== undefined || quotas.maxMemoryMiB !== undefined || (perProvider !== undefined && Object.keys(perProvider).length > 0))
  if (!limited) return groups.map(() => undefined)
  return groups.map((g, i) => {
    const others = groups.filter((_, j) => j !== i)
    const ceilings = [fitUnder(quotas, others, g.size), fitUnder(perProvider?.[g.provider], others.filter((o) => o.provider === g.provider), g.size)]
    const known = ceilings.filter((c): c is number => c !== undefined)
    return known.length === 0 ? undefined : Math.min(...known)
  })
}

/** Whole instances of `size` that fit under `limits` beside `others`; undefined when nothing is limited. */
function fitUnder(limits: QuotaLimits | undefined, others: readonly { readonly size: Size; readonly replicas: number }[], size: Size): number | undefined {
  if (limits === undefined) return undefined
  let fit: number | undefined
  const consider = (n: number): void => {
    fit = fit === undefined ? n : Math.min(fit, n)
  }
  let instances = 0
  let cpu = 0
  let memory = 0
  for (const o of others) {
    instances += o.replicas
    cpu += o.replicas * o.size.cpu
    memory += o.replicas * o.size.memoryMiB
  }
  // 1e-9 absorbs floating-point noise (0.3 / 0.1 = 2.9999999999999996), as quota-room.ts does.
  if (limits.maxInstances !== undefined) consider(Math.max(0, limits.maxInstances - instances))
  if (limits.maxCpu !== undefined) consider(Math.max(0, Math.floor((limits.maxCpu - cpu) / size.cpu + 1e-9)))
  if (limits.maxMemoryMiB !== undefined) consider(Math.max(0, Math.floor((limits.maxMemoryMiB - memory) / size.memoryMiB + 1e-9)))
  return fit
}

/** `35 min`, `2 h 10 min`, `40 s`: a duration as an operator reads it. */
export function durationText(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`
  const minutes = Math.round(seconds / 60)
  if (minutes < 120) return `${minutes} min`
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  return m === 0 ? `${h} h` : `${h} h ${m} min`
}

/** `20:00 UTC` of an epoch-ms time (formatting a given time; no clock is read). */
function clockText(atMs: number): string {
  const minuteOfDay = Math.floor((((atMs % 86_400_000) + 86_400_000) % 86_400_000) / 60_000)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${two(Math.floor(minuteOfDay / 60))}:${two(minuteOfDay % 60)} UTC`
}

function round(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 10) / 10
}
