/**
 * The figures of one group after a tick that its metric history keeps for charts (the
 * dashboard's, `GET /groups/{name}/metrics`): what was measured (demand, p95), what tide holds
 * (instances, the count in force), and what the status derives from them (capacity in service,
 * the forecast and its band, the headroom, the cost, the SLO budget spent). Pure: the runtime
 * reads the signals and the status, calls this, and writes each reading to the store. The names
 * are the API's series names (docs/api.md "Metric history").
 */
import { instanceCapacityRps } from '../engine/policies/slo.ts'
import type { GroupSpec } from '../spec/schema.ts'
import type { GroupStatus } from './group-status.ts'

/** Every series name the runtime records, in the order docs/api.md lists them. */
export const HISTORY_SERIES = [
  'rps',
  'p95',
  'instances',
  'desired',
  'capacity_rps',
  'forecast_rps',
  'forecast_lower_rps',
  'forecast_upper_rps',
  'forecast_wape',
  'headroom_percent',
  'cost_per_hour',
  'instance_hours_per_hour',
  'slo_budget_spent_percent',
] as const

/** A series the runtime records. */
export type HistorySeries = (typeof HISTORY_SERIES)[number]

/** One value to record: a series and its finite value at the tick. */
export interface HistoryReading {
  readonly series: HistorySeries
  readonly value: number
}

/** What a tick measured of the group (the backend's signals; absent figures were not measured). */
export interface MeasuredDemand {
  /** Requests/s arriving at the group. */
  readonly rps?: number | undefined
  /** The group's p95 latency, ms. */
  readonly p95Ms?: number | undefined
}

/** Phases whose instances are billed: launched and not yet terminated. */
const BILLED = new Set(['pending', 'warming', 'in-service', 'draining', 'unhealthy', 'standby'])

/**
 * The requests/s one instance of `size` is counted to serve: `slo.instanceRps` scaled by cpu
 * (instanceCapacityRps), else the rps metric's `target.averageValue` (the load per instance the
 * group is scaled for: its capacity as configured); undefined when the spec says neither.
 */
export function perInstanceCapacityRps(spec: GroupSpec, size: GroupStatus['size']): number | undefined {
  const slo = instanceCapacityRps(spec, size)
  if (slo !== undefined) return slo
  for (const m of spec.metrics) if (m.type === 'rps') return m.target.averageValue
  return undefined
}

/**
 * The readings of one tick, each only when it is known and finite:
 * - `rps`, `p95`: measured demand and latency (ms);
 * - `instances`: warming and in service; `desired`: the count in force;
 * - `capacity_rps`: Σ over in-service instances of perInstanceCapacityRps(their size), req/s;
 * - `forecast_rps`, `forecast_lower_rps`, `forecast_upper_rps`: the forecast for now and its
 *   prediction interval; `forecast_wape`: its error, %;
 * - `headroom_percent`: the slo headroom applied now, %;
 * - `cost_per_hour`: Σ pricePerHour over billed instances (the size in force and every
 *   instance's priced), in the price's
 *   unit; otherwise `instance_hours_per_hour`: the billed instances (instance-hours accrue at
 *   this rate);
 * - `slo_budget_spent_percent`: today's violated share over the budget, % (100: spent), once
 *   today has measured time.
 */
export function historyReadings(spec: GroupSpec, status: GroupStatus, measured: MeasuredDemand): HistoryReading[] {
  const out: HistoryReading[] = []
  const add = (series: HistorySeries, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) out.push({ series, value })
  }
  add('rps', measured.rps)
  add('p95', measured.p95Ms)
  add('instances', status.instances.filter((i) => i.phase === 'in-service' || i.phase === 'warming').length)
  add('desired', status.desiredReplicas)
  add('capacity_rps', capacityInService(spec, status))
  add('forecast_rps', status.forecast?.expectedRps)
  add('forecast_lower_rps', status.forecast?.expectedLowerRps)
  add('forecast_upper_rps', status.forecast?.expectedUpperRps)
  add('forecast_wape', status.forecast?.accuracyWapePercent)
  add('headroom_percent', status.slo?.headroom?.percent)
  const billed = status.instances.filter((i) => BILLED.has(i.phase))
  if (status.size.pricePerHour !== undefined && billed.every((i) => i.size.pricePerHour !== undefined)) add('cost_per_hour', billed.reduce((sum, i) => sum + (i.size.pricePerHour ?? 0), 0))
  else add('instance_hours_per_hour', billed.length)
  const budget = status.slo?.budget
  if (budget !== undefined && budget.todayMeasuredSeconds > 0 && budget.budgetPercent > 0) add('slo_budget_spent_percent', (budget.todayViolatedPercent / budget.budgetPercent) * 100)
  return out
}

/** Requests/s the in-service instances serve together; undefined when the spec gives no per-instance capacity. */
function capacityInService(spec: GroupSpec, status: GroupStatus): number | undefined {
  if (perInstanceCapacityRps(spec, status.size) === undefined) return undefined
  let sum = 0
  for (const i of status.instances) if (i.phase === 'in-service') sum += perInstanceCapacityRps(spec, i.size) ?? 0
  return sum
}
