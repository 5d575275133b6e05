/**
 * The parameters of a simulation and their defaults. Precedence, highest first:
 * command-line flags, the group's `simulation:` section in tide.yaml, its `slo:` section
 * (instanceRps, latencyP95Ms), these defaults.
 */
import type { GroupSpec } from '../spec/schema.ts'

/** Everything the workload model and the runner need besides the trace and the policy. */
export interface SimulationParams {
  /** N: requests/s one default-size instance sustains with p95 exactly at the SLO. */
  readonly instanceRps: number
  /** Seconds from launch until an instance serves. */
  readonly startupSeconds: number
  /** The p95 response-time objective, milliseconds. */
  readonly sloP95Ms: number
  /** A request waiting longer than this fails. */
  readonly requestTimeoutSeconds: number
  /** The simulation step, seconds. The controller still decides every syncPeriodSeconds. */
  readonly tickSeconds: number
}

/** The defaults: 100 req/s per instance, 30 s start-up, p95 SLO 200 ms, 10 s request timeout, 1 s steps. */
export const defaultSimulationParams: SimulationParams = {
  instanceRps: 100,
  startupSeconds: 30,
  sloP95Ms: 200,
  requestTimeoutSeconds: 10,
  tickSeconds: 1,
}

/** Flag values; absent ones fall through to the config and then the defaults. */
export type SimulationOverrides = { readonly [K in keyof SimulationParams]?: number | undefined }

/** Merges flags over the group's `simulation:` section over the defaults. */
export function resolveSimulationParams(overrides: SimulationOverrides, group?: GroupSpec): SimulationParams {
  // The group's objective and measured capacity stand in for the simulation section's.
  const slo = group?.slo
  const fromConfig = { ...(slo?.instanceRps === undefined ? {} : { instanceRps: slo.instanceRps }), ...(slo === undefined ? {} : { sloP95Ms: slo.latencyP95Ms }), ...(group?.simulation ?? {}) }
  const pick = (key: keyof SimulationParams): number => overrides[key] ?? fromConfig[key as keyof typeof fromConfig] ?? defaultSimulationParams[key]
  return {
    instanceRps: pick('instanceRps'),
    startupSeconds: pick('startupSeconds'),
    sloP95Ms: pick('sloP95Ms'),
    requestTimeoutSeconds: pick('requestTimeoutSeconds'),
    tickSeconds: pick('tickSeconds'),
  }
}
