/**
 * Simulator speed: simulated days per wall second on 30 days of per-second traffic
 * for one group (goal, DESIGN.md: 30 days in under 10 s), for the oracle (the
 * workload model alone, plus the oracle's schedule) and for tide's default policy
 * through the real controller (a reconcile every 15 s of simulated time, 172,800 in
 * all), also with prediction and with the mixed planner. Also the workload model's cost per
 * step on its own. Measured here, never in a test.
 */
import { resolveSimulationParams } from '../src/simulator/params.ts'
import { simulate } from '../src/simulator/simulate.ts'
import type { Trace } from '../src/core/trace.ts'
import { serviceRateRps, Workload } from '../src/simulator/workload.ts'
import { fmt, type Table } from './table.ts'

const DAYS = 30
const GOAL_SECONDS = 10

/** 30 days of per-second traffic: a daily tide between about 300 and 2,300 req/s plus a fast wobble. */
function monthTrace(): Trace {
  const n = DAYS * 86_400
  const seconds = new Float64Array(n)
  const rps = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    seconds[i] = i
    rps[i] = 1300 - 1000 * Math.cos((2 * Math.PI * i) / 86_400) + 60 * Math.sin(i / 37)
  }
  return { name: `synthetic ${DAYS} days, 1 s rows`, startMs: 0, seconds, rps }
}

export async function run(): Promise<Table[]> {
  const trace = monthTrace()
  const params = resolveSimulationParams({})
  const rows: (string | number)[][] = []
  const notes: string[] = []
  let oracleSeconds = 0
  for (const policy of ['oracle', 'configured', 'predictive', 'mixed'] as const) {
    const started = performance.now()
    const r = await simulate({ trace, policy, params })
    const wallSeconds = (performance.now() - started) / 1000
    const met = wallSeconds < GOAL_SECONDS
    rows.push([policy, fmt(wallSeconds, 1), fmt(DAYS / wallSeconds, 1), fmt((wallSeconds * 1e6) / (DAYS * 86_400), 2), met ? 'met' : 'NOT met'])
    if (policy === 'oracle') oracleSeconds = wallSeconds
    else if (!met) {
      const reconciles = r.durationSeconds / 15
      const perReconcileUs = ((wallSeconds - oracleSeconds) * 1e6) / reconciles
      notes.push(
        `${policy}: ${fmt(wallSeconds, 1)} s for ${DAYS} days, over the ${GOAL_SECONDS} s goal. The model and the stepping cost what the oracle row shows; the rest is ${fmt(reconciles)} controller reconciles at about ${fmt(perReconcileUs, 0)} µs each. A CPU profile puts the largest parts in building instance views and status (engine/lifecycle viewOf, reconciler #act) and in garbage collection of per-reconcile objects, then the engine's decide().`,
      )
    }
  }
  // The workload model alone: one step per simulated second, fleet changes every 15 s.
  const w = new Workload({ ...params })
  const mu = serviceRateRps(params.instanceRps, params.sloP95Ms)
  const steps = DAYS * 86_400
  const started = performance.now()
  for (let i = 0; i < steps; i++) {
    if (i % 15 === 0) w.setFleet(mu * (14 + (i % 7)), 14 + (i % 7))
    w.step(trace.rps[i] ?? 0)
  }
  const modelSeconds = (performance.now() - started) / 1000
  rows.push(['workload model alone', fmt(modelSeconds, 2), fmt(DAYS / modelSeconds, 0), fmt((modelSeconds * 1e6) / steps, 3), '—'])
  return [
    {
      title: `Simulator speed: ${DAYS} days of per-second traffic, one group (goal: under ${GOAL_SECONDS} s)`,
      columns: ['run', 'wall s', 'simulated days / wall s', 'µs per simulated second', 'goal'],
      rows,
      notes: [
        'oracle = workload model + oracle schedule; configured = the real controller reconciling every 15 s of simulated time with tide\'s default group; predictive adds the demand recorder and its forecaster (first fit on day 3, refits daily, full fits weekly); mixed adds the usage histograms and the planner.',
        'The machine is shared (2 cores); figures vary by ±30 % from run to run.',
        ...notes,
      ],
    },
  ]
}
