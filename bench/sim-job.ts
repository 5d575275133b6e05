/**
 * One simulation of the quality bench, described by plain data so that it can be sent to a
 * worker thread (bench/sim-pool.ts) and run there: which trace (and history), which
 * parameters, which policy, and which group (tide's default, a config file, or an HPA variant
 * of the sweep). Traces are parsed once per thread and kept.
 */
import { loadConfig } from '../src/spec/load.ts'
import type { GroupSpec } from '../src/spec/schema.ts'
import { defaultGroupSpec } from '../src/simulator/default-group.ts'
import type { SimulationParams } from '../src/simulator/params.ts'
import { simulate, type SimulationResult } from '../src/simulator/simulate.ts'
import { loadTrace, type Trace } from '../src/core/trace.ts'
import { hpaVariantSpec } from './pareto.ts'

/**
 * The group a job runs: tide's default (none given), the first group of a config file, an HPA
 * variant built on the default group, or tide's default with one of its choices turned off (the
 * fast path, or the learning: headroom fixed at the safe default).
 */
export type JobGroup =
  | { readonly kind: 'default' }
  | { readonly kind: 'config'; readonly file: string }
  | { readonly kind: 'hpa'; readonly targetPercent: number; readonly windowSeconds: number }
  | { readonly kind: 'choice'; readonly fastScaleOut: boolean; readonly fixedHeadroomPercent?: number }

/** A simulation to run; every path is absolute. */
export interface SimJob {
  readonly file: string
  /** Multiplies every rate of the trace and of its history (1 when absent). */
  readonly scale?: number
  readonly history?: string
  readonly params: SimulationParams
  /** A name in src/simulator/baselines.ts (configured, predictive, mixed, hpa, oracle). */
  readonly policy: string
  readonly group: JobGroup
}

/** A job's identity, for de-duplicating the jobs of several tables. */
export function jobKey(job: SimJob): string {
  return JSON.stringify([job.file, job.scale ?? 1, job.history ?? '', job.params, job.policy, job.group])
}

const traces = new Map<string, Trace>()

/** The trace at `file` × `factor`, parsed once per thread. */
export function scaledTrace(file: string, factor = 1): Trace {
  const key = `${file}\u0000${factor}`
  let t = traces.get(key)
  if (t === undefined) {
    const raw = loadTrace(file)
    t = factor === 1 ? raw : { ...raw, rps: raw.rps.map((r) => r * factor) }
    traces.set(key, t)
  }
  return t
}

/** The group spec of a job, or undefined for tide's default (simulate() builds it from the parameters). */
export function jobGroupSpec(group: JobGroup, params: SimulationParams): GroupSpec | undefined {
  switch (group.kind) {
    case 'default':
      return undefined
    case 'config':
      return loadConfig(group.file).groups[0]
    case 'hpa':
      return hpaVariantSpec(defaultGroupSpec(params), group.targetPercent, group.windowSeconds)
    case 'choice': {
      const base = defaultGroupSpec(params)
      const headroom = group.fixedHeadroomPercent === undefined ? {} : { headroom: { mode: 'fixed', percent: group.fixedHeadroomPercent } }
      return defaultGroupSpec(params, { slo: { ...base.slo, fastScaleOut: group.fastScaleOut, ...headroom } })
    }
  }
}

/** Runs one job in this thread. */
export async function runJob(job: SimJob): Promise<SimulationResult> {
  const trace = scaledTrace(job.file, job.scale)
  const history = job.history === undefined ? undefined : scaledTrace(job.history, job.scale)
  const group = jobGroupSpec(job.group, job.params)
  return simulate({ trace, policy: job.policy, params: job.params, ...(group === undefined ? {} : { group }), ...(history === undefined ? {} : { history }) })
}
