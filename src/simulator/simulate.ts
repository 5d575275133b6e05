/**
 * The simulation runner: replays a trace through a policy and scores it.
 *
 * For controller policies it runs the real Controller (src/controller) with a
 * ManualClock, the sim provider and the workload model as its metrics source —
 * the same code production runs (DESIGN.md "The simulator"). Time advances in steps
 * of `tickSeconds`; the controller reconciles at the first step at or after each
 * sync period (spec.syncPeriodSeconds, 15 s by default), not every step. Launches
 * and terminations therefore happen only at step boundaries, so the instance-hours
 * billed by the provider equal Σ over steps of (instances billed × step length).
 *
 * Each step: (1) reconcile if due, (2) recompute the serving fleet when an instance
 * was launched, terminated or became ready, (3) feed the step's mean offered rate to
 * the workload model, (4) record the step. A step violates the SLO when its p95
 * exceeds the SLO or any request failed in it.
 *
 * The run starts warm: the group's `replicas.initial` instances, or else as many as the
 * trace's first minutes need (the most ⌈load/N⌉ of its first WARM_START_SECONDS, within
 * min/max), are ready at the first step, and the oracle starts with the same fleet. A long
 * trace that opens at its busy hour is then not scored on a fleet sized for its first second.
 * Only billing inside the trace's window counts. Requests still waiting at the end are neither
 * served nor failed.
 *
 * The oracle's cost is computed for every policy, so every result carries the ratio
 * that matters: how far the policy is from the physical limit.
 *
 * Cost. `instanceHours` counts instances whatever their size; `costHours` weighs each by its
 * price relative to the group's size (pricePerHour when every rung of the ladder has one,
 * else cpu), in default-size instance-hours, and is what `costRatio` compares with the
 * oracle (which runs default-size instances). For groups that never resize the two are equal.
 *
 * History. A predictive policy needs days of demand before it forecasts (as the cloud
 * forecasters do). `history` is demand recorded before the trace (same CSV format): a
 * trace with relative times is placed so that it ends where the replayed trace starts;
 * absolute times are taken as they are. Only the predictive policy reads it; nothing of it
 * is billed or scored.
 */
import { ManualClock } from '../core/clock.ts'
import { TideError } from '../errors.ts'
import type { EventSink } from '../store/events.ts'
import { Controller, type ControllerOptions, type ReconcileResult } from '../controller/reconciler.ts'
import type { GroupStatus } from '../controller/group-status.ts'
import { sameBackend } from '../controller/backend.ts'
import { byteRateName } from '../engine/readings.ts'
import type { Decision } from '../engine/types.ts'
import { sizePrice } from '../core/size.ts'
import type { Series } from '../forecast/series.ts'
import { SimProvider } from '../providers/sim/sim-provider.ts'
import type { GroupSpec, Size } from '../spec/schema.ts'
import { simulationPolicies, simulationPolicyNames, type SimulationPolicy } from './baselines.ts'
import { defaultGroupSpec } from './default-group.ts'
import { neededInstances, oracleSchedule, type OracleSchedule } from './oracle.ts'
import type { SimulationParams } from './params.ts'
import { traceDurationSeconds, type Trace } from '../core/trace.ts'
import { serviceRateRps, sloCapacityRps, Workload } from './workload.ts'
import { WorkloadMetrics } from './workload-metrics.ts'

/** One step as recorded in ticks.csv. The runner reuses one object: copy what you keep. */
export interface TickRow {
  /** Seconds from the trace start at the beginning of the step. */
  t: number
  offeredRps: number
  servedRps: number
  failedRps: number
  instancesBilled: number
  /** Σ over billed instances of their price relative to the group's size: instancesBilled when nothing was resized. costHours sums it. */
  costBilled: number
  instancesInService: number
  /** Σ over serving instances of the rate each serves within the SLO (N for a default-size instance). */
  capacityRps: number
  p95Ms: number
  /** The replica count the controller wants (the oracle: what it serves). */
  desired: number
  violation: boolean
}

/** Receives every step (ticks.csv writer, chart builder, tests). */
export interface TickSink {
  /** Called once before the first step with the number of steps to come. */
  begin?(steps: number, tickSeconds: number): void
  tick(row: Readonly<TickRow>): void
}

export interface SimulateOptions {
  readonly trace: Trace
  /** A name in simulationPolicies: configured, hpa, oracle, … */
  readonly policy: string
  readonly params: SimulationParams
  /** The group under test (from -c); tide's default group when absent. */
  readonly group?: GroupSpec
  readonly sink?: TickSink
  /** Called now and then with the fraction done (0–1), and with 1 at the end. */
  readonly onProgress?: (fraction: number) => void
  /** The controller's event log, when the caller wants it. */
  readonly events?: EventSink
  /** Demand recorded before the trace, for the predictive policy (see the module comment). */
  readonly history?: Trace
  /** Called with every decision the controller makes (not the oracle's): a replay counts them by direction. */
  readonly onDecision?: (decision: Decision) => void
  /**
   * Give the event loop a turn (setImmediate) once this many ms of wall-clock time have passed
   * since the last turn, so that a simulation run inside a live tide (a replay through the API)
   * never holds its control loop longer than about that. The clock is read every 64 steps.
   * Absent: never (the CLI and the bench run alone). Wall-clock time only paces the run; it
   * never enters what is simulated.
   */
  readonly yieldEveryMs?: number
}

/** How the predictive policy's forecaster did over the run (runs with predictive on). */
export interface ForecastReport {
  /** The method chosen by the last full fit, or undefined when it never had enough history. */
  readonly method: string | undefined
  /** WAPE of the forecasts one scheduling buffer ahead against what then happened, percent, over the last day scored. */
  readonly liveWapePercent: number | undefined
  /** Buckets scored for liveWapePercent. */
  readonly scoredBuckets: number
  readonly fullFits: number
  readonly refits: number
  /** Ticks whose predictive recommendation carried a count (the forecast or a campaign drove it). */
  readonly ticksWithForecast: number
  /** Ticks on which the predictive count was the highest and raised the decision above every other policy. */
  readonly ticksLed: number
}

/** The summary of one run; the JSON of `tide simulate --json`. */
export interface SimulationResult {
  readonly policy: string
  readonly trace: string
  readonly group: string
  /** Steps × tickSeconds. */
  readonly durationSeconds: number
  readonly tickSeconds: number
  readonly instanceHours: number
  /** What the oracle pays for the same trace and parameters. */
  readonly oracleInstanceHours: number
  /** instanceHours / oracleInstanceHours (1 when both are 0). */
  readonly costRatio: number
  /** Seconds of steps whose p95 exceeded the SLO or that had a failed request. */
  readonly sloViolationSeconds: number
  /** sloViolationSeconds / durationSeconds. */
  readonly sloViolationRatio: number
  readonly totalRequests: number
  readonly servedRequests: number
  readonly failedRequests: number
  /** Reconciles (oracle: steps) that launched at least one instance. */
  readonly scaleOutActions: number
  /** Reconciles (oracle: steps) that terminated at least one instance. */
  readonly scaleInActions: number
  /** N: the rate one default-size instance serves within the SLO, requests/s. */
  readonly instanceCapacityRps: number
  readonly startupSeconds: number
  readonly sloP95Ms: number
  readonly requestTimeoutSeconds: number
  /** The most instances billed at once. */
  readonly maxInstances: number
  /** The 95th percentile over all served requests of their step's p95, ms (1 ms resolution). */
  readonly p95Ms: number
  /** Instance-hours weighted by each size's price relative to the group's size (see the module comment); costRatio is costHours / oracleInstanceHours. */
  readonly costHours: number
  /** With a predictive policy: how its forecast did. */
  readonly forecast?: ForecastReport
  /** Size changes carried out (vertical or mixed). */
  readonly resizeActions: number
}

/** An unknown policy name: a programmer error here; the CLI validates names first. */
export function policyByName(name: string): SimulationPolicy {
  const p = Object.hasOwn(simulationPolicies, name) ? simulationPolicies[name] : undefined
  if (p === undefined) throw new RangeError(`unknown policy '${name}' (known: ${simulationPolicyNames.join(', ')})`)
  return p
}

/**
 * The mean offered rate of each step: the trace's step function integrated over
 * [i·tick, (i+1)·tick) and divided by tick. The trace counts as 0 past its end, so
 * a last partial step is diluted rather than dropped. O(rows + steps).
 */
export function stepLoads(trace: Trace, tickSeconds: number): Float64Array {
  const duration = traceDurationSeconds(trace)
  const steps = Math.max(1, Math.ceil(duration / tickSeconds - 1e-9))
  const loads = new Float64Array(steps)
  const times = trace.seconds
  const rates = trace.rps
  const n = times.length
  let row = 0
  for (let i = 0; i < steps; i++) {
    const a = i * tickSeconds
    const b = Math.min(a + tickSeconds, duration)
    while (row + 1 < n && (times[row + 1] ?? Infinity) <= a) row++
    let integral = 0
    let x = a
    for (let r = row; x < b && r < n; r++) {
      const next = Math.min(r + 1 < n ? (times[r + 1] ?? b) : b, b)
      if (next > x) integral += (rates[r] ?? 0) * (next - x)
      x = next
    }
    loads[i] = integral / tickSeconds
  }
  return loads
}

/** Replays the trace through the policy; see the module comment. */
export async function simulate(opts: SimulateOptions): Promise<SimulationResult> {
  const { params } = opts
  const policy = policyByName(opts.policy)
  const base = opts.group ?? defaultGroupSpec(params)
  const loads = stepLoads(opts.trace, params.tickSeconds)
  const startupSteps = Math.ceil(params.startupSeconds / params.tickSeconds - 1e-9)
  const needed = neededInstances(loads, params.instanceRps, base.replicas.min)
  const initial = warmStart(base, needed, params.tickSeconds)
  const oracle = oracleSchedule(needed, startupSteps, initial)
  const run: Run = { opts, base, loads, oracle, initial, tally: new Tally(params, loads.length) }
  opts.sink?.begin?.(loads.length, params.tickSeconds)
  const counts = policy.kind === 'oracle' ? runOracle(run) : await runController(run, simulatable(policy.spec({ base, params })))
  opts.onProgress?.(1)
  return run.tally.result(opts, base.group, counts, oracle.billedInstanceSteps * params.tickSeconds / 3600)
}

/**
 * The spec unchanged, or a config error when it scales on a signal the workload model does not
 * produce: external metrics (no queue or Prometheus behind the model), disk and network (the
 * model has requests and a queue per instance, no storage and no byte sizes). Replaying without
 * the metric would answer another question than the one the file asks (docs/config.md,
 * External metrics; Disk and network).
 */
export function simulatable(spec: GroupSpec): GroupSpec {
  const external = [
    ...spec.metrics.flatMap((m, i) => (m.type === 'external' ? [`metrics[${i}] (${m.query})`] : [])),
    ...spec.steps.flatMap((r, i) => (r.metric.type === 'external' ? [`steps[${i}].metric (${r.metric.query})`] : [])),
  ]
  const bytes = [
    ...spec.metrics.flatMap((m, i) => (m.type === 'disk' || m.type === 'network' ? [`metrics[${i}] (${byteRateName(m)})`] : [])),
    ...spec.steps.flatMap((r, i) => (r.metric.type === 'disk' || r.metric.type === 'network' ? [`steps[${i}].metric (${byteRateName(r.metric)})`] : [])),
  ]
  const why = [
    ...(external.length === 0 ? [] : [`external metrics (${external.join(', ')}): the simulator has no source for them`]),
    ...(bytes.length === 0 ? [] : [`disk or network metrics (${bytes.join(', ')}): the workload model has no disk and no request or response sizes`]),
  ]
  if (why.length === 0) return spec
  throw new TideError('TIDE_ERR_CONFIG', `group ${spec.group}: tide simulate cannot replay ${why.join('; nor ')}; simulate a copy of the file without them`)
}

/** Seconds at the start of a trace whose peak need sizes the warm fleet (see the module comment). */
export const WARM_START_SECONDS = 300

/** The warm fleet: replicas.initial, or the most instances the first WARM_START_SECONDS need, within min/max. */
export function warmStart(group: GroupSpec, needed: Int32Array, tickSeconds: number): number {
  if (group.replicas.initial !== undefined) return group.replicas.initial
  const steps = Math.min(needed.length, Math.max(1, Math.ceil(WARM_START_SECONDS / tickSeconds)))
  let peak = 0
  for (let i = 0; i < steps; i++) peak = Math.max(peak, needed[i] ?? 0)
  return Math.min(group.replicas.max, Math.max(group.replicas.min, peak))
}

/**
 * A history trace as a 1-minute demand series in epoch seconds: a trace with relative times
 * ends where `before` starts; an absolute one keeps its times.
 */
export function historySeries(history: Trace, before: Trace): Series {
  const stepSeconds = 60
  const loads = stepLoads(history, stepSeconds)
  const duration = loads.length * stepSeconds
  // Relative traces (seconds from start) have startMs 0.
  const startSec = history.startMs === 0 ? before.startMs / 1000 - duration : history.startMs / 1000
  return { startSec, stepSeconds, values: Array.from(loads) }
}

interface Run {
  readonly opts: SimulateOptions
  readonly base: GroupSpec
  readonly loads: Float64Array
  readonly oracle: OracleSchedule
  /** The warm fleet every policy starts with. */
  readonly initial: number
  readonly tally: Tally
}

interface RunCounts {
  readonly instanceHours: number
  readonly scaleOutActions: number
  readonly scaleInActions: number
  readonly resizeActions: number
  readonly forecast?: ForecastReport
}

const PROGRESS_EVERY = 1 << 16

async function runController(run: Run, policySpec: GroupSpec): Promise<RunCounts> {
  const { params } = run.opts
  const tickMs = params.tickSeconds * 1000
  const spec: GroupSpec = { ...policySpec, provider: 'sim', startupSeconds: params.startupSeconds }
  const startMs = run.opts.trace.startMs
  const clock = new ManualClock(startMs)
  const provider = new SimProvider({ clock, startupSeconds: params.startupSeconds })
  const initial = Math.min(spec.replicas.max, Math.max(spec.replicas.min, run.initial))
  provider.seed(spec, spec.size, initial, startMs)
  const workload = new Workload(params)
  const metrics = new WorkloadMetrics(workload, spec.size.cpu)
  const controller = simController(run.opts, spec, { backend: sameBackend({ provider, signals: metrics }), clock })
  const fleet = new Fleet(provider, spec, params)
  const billedAtStart = provider.billedInstanceMs(spec.group, startMs)
  const fast = spec.slo?.fastScaleOut === true
  const actions = new ActionTally(initial, run.opts.onDecision)
  const steps = run.loads.length
  const pacer = run.opts.yieldEveryMs === undefined ? undefined : new Pacer(run.opts.yieldEveryMs)
  for (let i = 0; i < steps; i++) {
    if (pacer !== undefined && (i & 63) === 0) await pacer.turn()
    const nowMs = startMs + i * tickMs
    clock.set(nowMs)
    // The group's own sync period, as tide up's run loop keeps it (Controller.reconcileDue).
    const synced = await controller.reconcileDue()
    for (const r of synced) actions.note(r)
    if (synced.length === 0 && fast && controller.fastScaleOutDue()) {
      for (const r of await controller.fastScaleOut()) actions.note(r)
    }
    fleet.refresh(workload, nowMs)
    workload.step(run.loads[i] ?? 0)
    metrics.advance(params.tickSeconds)
    run.tally.step(i, workload, provider.liveCount(spec.group), fleet, actions.desired, run.opts.sink)
    if (run.opts.onProgress && (i & (PROGRESS_EVERY - 1)) === 0) run.opts.onProgress(i / steps)
  }
  const endMs = startMs + steps * tickMs
  const billedMs = provider.billedInstanceMs(spec.group, endMs) - billedAtStart
  const status = controller.status(spec.group)
  const forecast = spec.predictive.mode === 'off' ? undefined : actions.forecastReport(status?.forecast)
  return {
    instanceHours: billedMs / 3_600_000,
    scaleOutActions: actions.scaleOut,
    scaleInActions: actions.scaleIn,
    resizeActions: actions.resizes,
    ...(forecast === undefined ? {} : { forecast }),
  }
}

/** The real controller over the sim provider, with the run's event log and demand history. */
function simController(opts: SimulateOptions, spec: GroupSpec, parts: Pick<ControllerOptions, 'backend' | 'clock'>): Controller {
  const history = opts.history === undefined ? undefined : historySeries(opts.history, opts.trace)
  return new Controller({
    groups: [spec],
    ...parts,
    ...(opts.events ? { events: opts.events } : {}),
    ...(history === undefined ? {} : { demandHistory: () => history }),
  })
}

/** Gives the event loop a turn when `everyMs` of wall-clock time have passed since the last one (SimulateOptions.yieldEveryMs). */
class Pacer {
  readonly #everyMs: number
  #lastMs = performance.now()

  constructor(everyMs: number) {
    this.#everyMs = everyMs
  }

  async turn(): Promise<void> {
    if (performance.now() - this.#lastMs < this.#everyMs) return
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.#lastMs = performance.now()
  }
}

/** Counts what the controller did over a run: scale actions, resizes, the desired count, and what the predictive policy drove. */
class ActionTally {
  scaleOut = 0
  scaleIn = 0
  resizes = 0
  desired: number
  #withForecast = 0
  #led = 0
  readonly #onDecision: ((d: Decision) => void) | undefined

  constructor(initial: number, onDecision?: (d: Decision) => void) {
    this.desired = initial
    this.#onDecision = onDecision
  }

  note(r: ReconcileResult): void {
    this.#onDecision?.(r.decision)
    if (r.launched.length > 0) this.scaleOut++
    if (r.terminated.length > 0) this.scaleIn++
    if (r.decision.resize !== undefined) this.resizes++
    this.desired = r.decision.to
    this.#notePredictive(r.decision)
  }

  #notePredictive(decision: Decision): void {
    let predictive: number | undefined
    let others = -Infinity
    for (const r of decision.recommendations) {
      if (r.replicas === undefined || r.advisory === true) continue
      if (r.policy === 'predictive') predictive = r.replicas
      else others = Math.max(others, r.replicas)
    }
    if (predictive === undefined) return
    this.#withForecast++
    if (predictive > others && decision.to > decision.from) this.#led++
  }

  forecastReport(stats: GroupStatus['forecast']): ForecastReport {
    return {
      method: stats?.method,
      liveWapePercent: stats?.liveWapePercent,
      scoredBuckets: stats?.liveScored ?? 0,
      fullFits: stats?.fullFits ?? 0,
      refits: stats?.refits ?? 0,
      ticksWithForecast: this.#withForecast,
      ticksLed: this.#led,
    }
  }
}

function runOracle(run: Run): RunCounts {
  const { params } = run.opts
  const { oracle } = run
  const mu = serviceRateRps(params.instanceRps, params.sloP95Ms)
  const workload = new Workload(params)
  const fleet = { count: 0, capacityRps: 0 }
  const steps = run.loads.length
  for (let i = 0; i < steps; i++) {
    const serving = oracle.serving[i] ?? 0
    if (serving !== fleet.count) {
      fleet.count = serving
      fleet.capacityRps = serving * params.instanceRps
      workload.setFleet(serving * mu, serving)
    }
    workload.step(run.loads[i] ?? 0)
    run.tally.step(i, workload, oracle.billed[i] ?? 0, fleet, serving, run.opts.sink)
    if (run.opts.onProgress && (i & (PROGRESS_EVERY - 1)) === 0) run.opts.onProgress(i / steps)
  }
  return {
    instanceHours: oracle.billedInstanceSteps * params.tickSeconds / 3600,
    scaleOutActions: oracle.scaleOutActions,
    scaleInActions: oracle.scaleInActions,
    resizeActions: 0,
  }
}

/**
 * The serving part of a controller-run fleet: instances that are ready. Recomputed
 * only when the provider's instance set changed or an instance became ready, so a
 * step costs O(1) in between.
 */
class Fleet {
  readonly #provider: SimProvider
  readonly #group: string
  readonly #mu: number
  readonly #defaultCpu: number
  readonly #sloP95Ms: number
  readonly #priceOf: (size: Size) => number
  #version = -1
  #nextReadyMs = Infinity
  count = 0
  capacityRps = 0
  /** Σ over live (billed) instances of their price relative to the group's size. */
  billedWeight = 0

  constructor(provider: SimProvider, spec: GroupSpec, params: SimulationParams) {
    this.#provider = provider
    this.#group = spec.group
    this.#mu = serviceRateRps(params.instanceRps, params.sloP95Ms)
    this.#defaultCpu = spec.size.cpu
    this.#sloP95Ms = params.sloP95Ms
    const basePrice = sizePrice(spec.size, spec.sizes)
    this.#priceOf = (size) => (basePrice > 0 ? sizePrice(size, spec.sizes) / basePrice : 1)
  }

  refresh(workload: Workload, nowMs: number): void {
    const version = this.#provider.version(this.#group)
    if (version === this.#version && nowMs < this.#nextReadyMs) return
    this.#version = version
    let count = 0
    let rate = 0
    let capacity = 0
    let nextReady = Infinity
    let weight = 0
    for (const inst of this.#provider.instances(this.#group)) {
      weight += this.#priceOf(inst.size)
      if (inst.readyAtMs > nowMs) {
        if (inst.readyAtMs < nextReady) nextReady = inst.readyAtMs
        continue
      }
      const mu = this.#mu * (inst.size.cpu / this.#defaultCpu)
      count++
      rate += mu
      capacity += sloCapacityRps(mu, this.#sloP95Ms)
    }
    this.#nextReadyMs = nextReady
    this.billedWeight = weight
    this.count = count
    this.capacityRps = capacity
    workload.setFleet(rate, count)
  }
}

/** Accumulates the score step by step, and feeds the sink. Allocation-free per step. */
class Tally {
  readonly #params: SimulationParams
  readonly #steps: number
  readonly #row: TickRow = {
    t: 0,
    offeredRps: 0,
    servedRps: 0,
    failedRps: 0,
    instancesBilled: 0,
    costBilled: 0,
    instancesInService: 0,
    capacityRps: 0,
    p95Ms: 0,
    desired: 0,
    violation: false,
  }
  /** Served requests by their step's p95, in 1 ms bins up to the request timeout. */
  readonly #p95Histogram: Float64Array
  #violations = 0
  /** Σ over steps of the price-weighted billed instances × step, seconds. */
  #costSeconds = 0
  #maxInstances = 0
  #total = 0
  #served = 0
  #failed = 0

  constructor(params: SimulationParams, steps: number) {
    this.#params = params
    this.#steps = steps
    this.#p95Histogram = new Float64Array(Math.ceil(params.requestTimeoutSeconds * 1000) + 2)
  }

  step(i: number, w: Workload, billed: number, fleet: { readonly count: number; readonly capacityRps: number; readonly billedWeight?: number }, desired: number, sink: TickSink | undefined): void {
    const dt = this.#params.tickSeconds
    // p95 exactly at the SLO is within it: allow for floating-point error in the M/M/1 formula.
    const violation = w.p95Ms > this.#params.sloP95Ms * (1 + 1e-9) || w.failedRequests > 0
    if (violation) this.#violations++
    const costBilled = fleet.billedWeight ?? billed
    this.#costSeconds += costBilled * dt
    if (billed > this.#maxInstances) this.#maxInstances = billed
    this.#total += w.offeredRequests
    this.#served += w.servedRequests
    this.#failed += w.failedRequests
    if (w.servedRequests > 0) {
      const bin = Math.min(this.#p95Histogram.length - 1, Math.floor(w.p95Ms))
      this.#p95Histogram[bin] = (this.#p95Histogram[bin] ?? 0) + w.servedRequests
    }
    if (!sink) return
    const row = this.#row
    row.t = i * dt
    row.offeredRps = w.offeredRequests / dt
    row.servedRps = w.servedRequests / dt
    row.failedRps = w.failedRequests / dt
    row.instancesBilled = billed
    row.costBilled = costBilled
    row.instancesInService = fleet.count
    row.capacityRps = fleet.capacityRps
    row.p95Ms = w.p95Ms
    row.desired = desired
    row.violation = violation
    sink.tick(row)
  }

  result(opts: SimulateOptions, group: string, counts: RunCounts, oracleInstanceHours: number): SimulationResult {
    const p = this.#params
    const duration = this.#steps * p.tickSeconds
    const costHours = this.#costSeconds / 3600
    return {
      policy: opts.policy,
      trace: opts.trace.name,
      group,
      durationSeconds: duration,
      tickSeconds: p.tickSeconds,
      instanceHours: counts.instanceHours,
      oracleInstanceHours,
      costRatio: oracleInstanceHours > 0 ? costHours / oracleInstanceHours : costHours > 0 ? Infinity : 1,
      sloViolationSeconds: this.#violations * p.tickSeconds,
      sloViolationRatio: this.#steps > 0 ? this.#violations / this.#steps : 0,
      totalRequests: this.#total,
      servedRequests: this.#served,
      failedRequests: this.#failed,
      scaleOutActions: counts.scaleOutActions,
      scaleInActions: counts.scaleInActions,
      instanceCapacityRps: p.instanceRps,
      startupSeconds: p.startupSeconds,
      sloP95Ms: p.sloP95Ms,
      requestTimeoutSeconds: p.requestTimeoutSeconds,
      maxInstances: this.#maxInstances,
      p95Ms: this.#overallP95(),
      costHours,
      resizeActions: counts.resizeActions,
      ...(counts.forecast === undefined ? {} : { forecast: counts.forecast }),
    }
  }

  #overallP95(): number {
    const h = this.#p95Histogram
    let total = 0
    for (const v of h) total += v
    if (total <= 0) return 0
    const target = 0.95 * total
    let seen = 0
    for (let ms = 0; ms < h.length; ms++) {
      seen += h[ms] ?? 0
      if (seen >= target) return ms + 1
    }
    return h.length
  }
}
