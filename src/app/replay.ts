/**
 * Replay before rollout (DESIGN.md "Beyond what others do" 5, issue 11): a proposed group spec is
 * run through the simulator `tide simulate` uses, on the group's own recorded demand, once with
 * the spec in force and once with the proposed one, from the same warm start, so that a change
 * is judged on cost and SLO before it is applied.
 *
 * Demand. The store keeps the group's `rps` series per second for an hour and per minute for
 * 30 days (src/store/metric-history.ts); the controller records one sample per reconcile (every
 * sync period). The window is read from the minute tier where it is older than the per-second
 * tier covers, and from the per-second tier for the rest, and becomes a trace: each point's mean
 * holds until the next point (a step function, as a trace CSV is read). A gap in the recording
 * (tide was down) holds the last rate, and a note says how much was held.
 *
 * The world model. How much one instance serves (instanceRps), its start-up and the SLO are
 * properties of the service, not of the policy: both runs take them from the spec in force
 * (resolveSimulationParams: `simulation:`, then `slo:`, then the simulator's defaults), and a
 * note says when the proposed spec would change them.
 *
 * Cost. The simulator is synchronous CPU work (a reconcile of the real controller every sync
 * period of virtual time): it gives the event loop a turn every REPLAY_YIELD_EVERY_MS of wall-clock
 * time, so the live control loop keeps ticking while a replay runs; windows over a day run in 5 s steps (the
 * controller still decides every sync period) to keep 14 days within a few seconds.
 */
import type { GroupSpec } from '../spec/schema.ts'
import type { MetricPoint, MetricSeries } from '../store/metric-history.ts'
import { SECOND_RETENTION_MS } from '../store/metric-history.ts'
import { traceDurationSeconds, type Trace } from '../core/trace.ts'
import type { Decision } from '../engine/types.ts'
import { resolveSimulationParams, type SimulationParams } from '../simulator/params.ts'
import { simulate, type SimulationResult } from '../simulator/simulate.ts'
import { ApiError } from './errors.ts'

/** The default window of a replay, hours. */
export const DEFAULT_REPLAY_HOURS = 24
/** The longest window of a replay, hours (14 days, half the minute tier's retention). */
export const MAX_REPLAY_HOURS = 24 * 14
/** The least recorded demand a replay runs on, ms: less says nothing about a policy. */
export const MIN_REPLAY_DEMAND_MS = 10 * 60_000
/** Wall-clock ms a replay may hold the event loop (the live control loop's) before it gives it a turn. */
export const REPLAY_YIELD_EVERY_MS = 10
/** A gap between recorded points longer than this is reported in the notes (the rate was held across it), ms. */
const GAP_NOTE_MS = 5 * 60_000

/** The store's part a replay reads: the metric history. */
export interface DemandSource {
  readMetric(group: string, series: string, fromMs: number, toMs: number, stepMs: number): Promise<MetricSeries>
}

/** What one run of a replay scored. */
export interface ReplayFigures {
  /** Instance-hours billed over the window (price-weighted in default-size instance-hours when sizes change). */
  readonly costInstanceHours: number
  /** costInstanceHours ÷ what the perfect-foresight oracle pays for the same demand (1 when both are 0). */
  readonly costRatioToOracle: number
  /** Share of the window outside the SLO (p95 above the objective, or a failed request), percent. */
  readonly sloViolatedPercent: number
  /** Share of the offered requests that failed (timed out in the queue), percent. */
  readonly failedRequestsPercent: number
  /** The most instances billed at once. */
  readonly peakInstances: number
  /** The controller's decisions by direction: raised the count, lowered it, kept it. */
  readonly decisions: { readonly up: number; readonly down: number; readonly hold: number }
  /** Reconciles that launched, and that terminated, at least one instance. */
  readonly scaleOutActions: number
  readonly scaleInActions: number
}

/** A replay's answer: the window, the demand it read, both runs' figures and how they differ. */
export interface ReplayResult {
  readonly group: string
  /** The window replayed, epoch ms: from the first recorded point to the last one's end (the window's end at most). */
  readonly fromMs: number
  readonly toMs: number
  /** Recorded points the demand trace was built from. */
  readonly demandPoints: number
  /** The config in force and the proposed one, on the same demand from the same start. */
  readonly current: ReplayFigures
  readonly proposed: ReplayFigures
  /** proposed − current, field by field; `costPercent` is the cost change relative to the current cost. */
  readonly delta: {
    readonly costInstanceHours: number
    readonly costPercent: number | null
    readonly sloViolatedPercent: number
    readonly failedRequestsPercent: number
    readonly peakInstances: number
  }
  /** The model both runs used (from the spec in force). */
  readonly model: { readonly instanceRps: number; readonly startupSeconds: number; readonly sloP95Ms: number; readonly tickSeconds: number }
  /** What the reader should know: the resolutions read, gaps held, model differences. */
  readonly notes: readonly string[]
  /** Wall-clock time the two runs took, ms. */
  readonly elapsedMs: number
}

/** What a replay runs: the group's spec in force, the proposed one (validated, defaults filled in), the window. */
export interface ReplayInput {
  readonly current: GroupSpec
  readonly proposed: GroupSpec
  /** End of the window, epoch ms (now, by default). */
  readonly toMs: number
  /** Start of the window, epoch ms. */
  readonly fromMs: number
  /** Now on the controller's clock, ms: where the per-second tier's hour ends. */
  readonly nowMs: number
}

/** The window of a replay from `hours` or `from`/`to`, checked: ApiError BAD_REQUEST naming the field. */
export function replayWindow(q: { readonly hours?: number; readonly fromMs?: number; readonly toMs?: number }, nowMs: number): { fromMs: number; toMs: number } {
  if (q.hours !== undefined && !(Number.isFinite(q.hours) && q.hours > 0 && q.hours <= MAX_REPLAY_HOURS)) {
    throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `hours: a number of hours above 0 and at most ${MAX_REPLAY_HOURS} (14 days), got ${String(q.hours)}`)
  }
  if (q.hours !== undefined && q.fromMs !== undefined) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', 'hours and from: give one of them (from/to name the window; hours counts back from to)')
  const toMs = q.toMs ?? nowMs
  const fromMs = q.fromMs ?? toMs - (q.hours ?? DEFAULT_REPLAY_HOURS) * 3_600_000
  if (!(fromMs < toMs)) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `from (${new Date(fromMs).toISOString()}) must be before to (${new Date(toMs).toISOString()})`)
  if (toMs - fromMs > MAX_REPLAY_HOURS * 3_600_000) throw new ApiError('TIDE_ERR_API_BAD_REQUEST', `from/to: the window is ${Math.round((toMs - fromMs) / 3_600_000)} h; at most ${MAX_REPLAY_HOURS} h (14 days)`)
  return { fromMs, toMs }
}

/** The recorded demand of a window as a trace, and what reading it found. */
export interface RecordedDemand {
  readonly trace: Trace
  readonly points: number
  /** Time from the first point to the window's end, ms. */
  readonly coveredMs: number
  readonly notes: readonly string[]
}

/**
 * The group's recorded `rps` over [fromMs, toMs) as a trace that starts at the first point (see
 * the module comment); undefined when nothing was recorded in the window.
 */
export async function recordedDemand(store: DemandSource, group: string, fromMs: number, toMs: number, nowMs: number): Promise<RecordedDemand | undefined> {
  // The per-second tier covers the last hour before now; a minute of margin against its pruning.
  const secondsFromMs = Math.max(fromMs, Math.ceil((nowMs - SECOND_RETENTION_MS + 60_000) / 60_000) * 60_000)
  const notes: string[] = []
  const points: MetricPoint[] = []
  if (secondsFromMs > fromMs) {
    const minutes = await store.readMetric(group, 'rps', fromMs, Math.min(secondsFromMs, toMs), 60_000)
    points.push(...minutes.points)
    if (minutes.points.length > 0) notes.push(`${minutes.points.length} minute means (the store keeps 1-minute means for 30 days)`)
  }
  if (secondsFromMs < toMs) {
    const seconds = await store.readMetric(group, 'rps', secondsFromMs, toMs, 1000)
    points.push(...seconds.points)
    if (seconds.points.length > 0) notes.push(`${seconds.points.length} ${seconds.resolution === '1s' ? 'per-second points' : 'minute means'} over the last ${Math.round((toMs - secondsFromMs) / 60_000)} min`)
  }
  const first = points[0]
  if (first === undefined) return undefined
  const n = points.length
  const seconds = new Float64Array(n)
  const rps = new Float64Array(n)
  let heldMs = 0
  for (let i = 0; i < n; i++) {
    const p = points[i] as MetricPoint
    seconds[i] = (p.atMs - first.atMs) / 1000
    rps[i] = Math.max(0, p.avg)
    const next = points[i + 1]
    if (next !== undefined && next.atMs - p.atMs > GAP_NOTE_MS) heldMs += next.atMs - p.atMs
  }
  if (heldMs > 0) notes.push(`${Math.round(heldMs / 60_000)} min without recorded demand (tide down?) replayed at the rate recorded before each gap`)
  return { trace: { name: `${group} recorded demand`, startMs: first.atMs, seconds, rps }, points: n, coveredMs: toMs - first.atMs, notes }
}

/** The simulation step of a window: 1 s up to a day, 5 s beyond (the controller keeps its sync period either way). */
export function replayTickSeconds(windowMs: number): number {
  return windowMs > 86_400_000 ? 5 : 1
}

/**
 * Runs the replay (see the module comment). Throws ApiError INSUFFICIENT_DATA when the window
 * holds less than MIN_REPLAY_DEMAND_MS of recorded demand, saying how much there is; a spec
 * the simulator cannot model (external, disk or network metrics) is its TIDE_ERR_CONFIG.
 */
export async function runReplay(store: DemandSource, input: ReplayInput): Promise<ReplayResult> {
  const { current, proposed, fromMs, toMs, nowMs } = input
  const group = current.group
  const demand = await recordedDemand(store, group, fromMs, toMs, nowMs)
  if (demand === undefined || demand.coveredMs < MIN_REPLAY_DEMAND_MS) {
    const have = demand === undefined ? 'none' : `${Math.round(demand.coveredMs / 1000)} s (${demand.points} points)`
    throw new ApiError(
      'TIDE_ERR_API_INSUFFICIENT_DATA',
      `group ${group} has too little recorded demand in ${new Date(fromMs).toISOString()} – ${new Date(toMs).toISOString()} to replay: ${have}; a replay needs at least ${MIN_REPLAY_DEMAND_MS / 60_000} min (demand is recorded every sync period while tide runs)`,
    )
  }
  // The trace ends one median spacing past its last point (traceDurationSeconds), the window's end at most.
  const trace = demand.trace
  const endMs = Math.min(toMs, trace.startMs + traceDurationSeconds(trace) * 1000)
  const tickSeconds = replayTickSeconds(endMs - trace.startMs)
  const params = resolveSimulationParams({ tickSeconds }, current)
  const notes = [...demand.notes, ...modelNotes(params, current, proposed)]
  if (tickSeconds > 1) notes.push(`simulated in ${tickSeconds} s steps (a window over a day); the controller still decides every sync period`)
  const startedAt = performance.now()
  const run = async (spec: GroupSpec): Promise<{ result: SimulationResult; decisions: { up: number; down: number; hold: number } }> => {
    const decisions = { up: 0, down: 0, hold: 0 }
    const onDecision = (d: Decision): void => {
      if (d.to > d.from) decisions.up++
      else if (d.to < d.from) decisions.down++
      else decisions.hold++
    }
    const result = await simulate({ trace, policy: 'configured', params, group: spec, onDecision, yieldEveryMs: REPLAY_YIELD_EVERY_MS })
    return { result, decisions }
  }
  const a = await run(current)
  const b = await run(proposed)
  const currentFigures = figuresOf(a.result, a.decisions)
  const proposedFigures = figuresOf(b.result, b.decisions)
  return {
    group,
    fromMs: trace.startMs,
    toMs: endMs,
    demandPoints: demand.points,
    current: currentFigures,
    proposed: proposedFigures,
    delta: deltaOf(currentFigures, proposedFigures),
    model: { instanceRps: params.instanceRps, startupSeconds: params.startupSeconds, sloP95Ms: params.sloP95Ms, tickSeconds },
    notes,
    elapsedMs: Math.round(performance.now() - startedAt),
  }
}

/** Notes on the model: where it comes from, and what of the proposed spec it does not follow. */
function modelNotes(params: SimulationParams, current: GroupSpec, proposed: GroupSpec): string[] {
  const source = current.simulation.instanceRps !== undefined ? 'simulation.instanceRps' : current.slo?.instanceRps !== undefined ? 'slo.instanceRps' : 'the simulator\'s default (set slo.instanceRps or simulation.instanceRps to what one instance serves)'
  const notes = [`model: ${params.instanceRps} req/s per instance (${source}), start-up ${params.startupSeconds} s, p95 SLO ${params.sloP95Ms} ms, from the config in force`]
  const proposedParams = resolveSimulationParams({ tickSeconds: params.tickSeconds }, proposed)
  const changed = (['instanceRps', 'startupSeconds', 'sloP95Ms', 'requestTimeoutSeconds'] as const).filter((k) => proposedParams[k] !== params[k])
  if (changed.length > 0) notes.push(`the proposed spec changes the model (${changed.map((k) => `${k} ${params[k]} → ${proposedParams[k]}`).join(', ')}): the service does not change with the config, so both runs use the model in force`)
  return notes
}

/** A run's figures, rounded to what a reader compares. */
function figuresOf(r: SimulationResult, decisions: { up: number; down: number; hold: number }): ReplayFigures {
  return {
    costInstanceHours: round(r.costHours, 3),
    costRatioToOracle: round(Number.isFinite(r.costRatio) ? r.costRatio : 0, 3),
    sloViolatedPercent: round(r.sloViolationRatio * 100, 3),
    failedRequestsPercent: round(r.totalRequests > 0 ? (r.failedRequests / r.totalRequests) * 100 : 0, 4),
    peakInstances: r.maxInstances,
    decisions,
    scaleOutActions: r.scaleOutActions,
    scaleInActions: r.scaleInActions,
  }
}

function deltaOf(a: ReplayFigures, b: ReplayFigures): ReplayResult['delta'] {
  return {
    costInstanceHours: round(b.costInstanceHours - a.costInstanceHours, 3),
    costPercent: a.costInstanceHours > 0 ? round(((b.costInstanceHours - a.costInstanceHours) / a.costInstanceHours) * 100, 1) : null,
    sloViolatedPercent: round(b.sloViolatedPercent - a.sloViolatedPercent, 3),
    failedRequestsPercent: round(b.failedRequestsPercent - a.failedRequestsPercent, 4),
    peakInstances: b.peakInstances - a.peakInstances,
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
