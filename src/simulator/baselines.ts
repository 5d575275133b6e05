/**
 * The policies `tide simulate --policy NAME` can replay, by name. Two kinds:
 *
 * - `controller`: a group spec run through the real controller (src/controller)
 *   with the sim provider — exactly what production would do. `spec()` derives the
 *   spec from the group under test (the `-c` group, or tide's default group).
 * - `oracle`: perfect foresight (oracle.ts), computed from the whole trace; it is
 *   not a controller and has no spec.
 *
 * To add a policy (issue 4 adds `predictive` and `mixed`), add one entry to
 * `simulationPolicies`; the CLI's `--policy` choices and the quality bench follow.
 */
import { GroupSchema, type GroupSpec } from '../spec/schema.ts'
import type { SimulationParams } from './params.ts'

/** What a policy's spec is derived from. */
export interface PolicyContext {
  /** The group under test: the `-c` group, or tide's default group (default-group.ts). */
  readonly base: GroupSpec
  readonly params: SimulationParams
}

/** A policy replayed through the real controller. */
export interface ControllerPolicy {
  readonly kind: 'controller'
  /** One line for `--help` and bench tables. */
  readonly description: string
  /** The spec the controller runs. The runner then sets provider 'sim' and the simulated start-up time. */
  spec(ctx: PolicyContext): GroupSpec
}

/** The perfect-foresight schedule. */
export interface OraclePolicy {
  readonly kind: 'oracle'
  readonly description: string
}

export type SimulationPolicy = ControllerPolicy | OraclePolicy

/**
 * The Kubernetes HPA with every default: cpu target 60 % of the instance's cpu,
 * 15 s sync, tolerance 0.1, scale-up by max(+100 %, +4) per 15 s without
 * stabilization, scale-down by up to 100 % per 15 s after a 300 s window (the
 * schema's behavior defaults are the HPA's). The group keeps its size, min/max and
 * warm-up; its own metrics, steps, schedules and predictive settings are dropped,
 * because the HPA has none of them.
 */
export function hpaSpec(base: GroupSpec): GroupSpec {
  return GroupSchema.parse({
    group: base.group,
    provider: 'sim',
    size: base.size,
    replicas: base.replicas,
    startupSeconds: base.startupSeconds,
    warmupSeconds: base.warmupSeconds,
    metrics: [{ type: 'cpu', target: { averageUtilization: 60 } }],
  })
}

/** Every policy by name; `configured` first (the default). */
export const simulationPolicies: Readonly<Record<string, SimulationPolicy>> = {
  configured: {
    kind: 'controller',
    description: "the group's own policies (-c), or tide's default group without -c",
    spec: (ctx) => ctx.base,
  },
  hpa: {
    kind: 'controller',
    description: 'the Kubernetes HPA algorithm with its defaults (cpu 60 %, 300 s scale-down window)',
    spec: (ctx) => hpaSpec(ctx.base),
  },
  oracle: {
    kind: 'oracle',
    description: 'perfect foresight: the cheapest instance schedule that meets the SLO every second',
  },
}

/** The names `--policy` accepts, in registry order. */
export const simulationPolicyNames: readonly string[] = Object.keys(simulationPolicies)
