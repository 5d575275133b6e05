/**
 * The policies `tide simulate --policy NAME` can replay, by name. Two kinds:
 *
 * - `controller`: a group spec run through the real controller (src/controller)
 *   with the sim provider — exactly what production would do. `spec()` derives the
 *   spec from the group under test (the `-c` group, or tide's default group).
 * - `oracle`: perfect foresight (oracle.ts), computed from the whole trace; it is
 *   not a controller and has no spec.
 *
 * - `predictive` and `mixed` are the group under test with prediction switched on, or with
 *   the mixed planner over a size ladder (predictiveSpec, mixedSpec below).
 *
 * To add a policy, add one entry to `simulationPolicies`; the CLI's `--policy` choices and
 * the quality bench follow.
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
export function hpaSpec(base: GroupSpec, tuning: HpaTuning = {}): GroupSpec {
  return GroupSchema.parse({
    group: base.group,
    provider: 'sim',
    size: base.size,
    replicas: base.replicas,
    startupSeconds: base.startupSeconds,
    warmupSeconds: base.warmupSeconds,
    metrics: [{ type: 'cpu', target: { averageUtilization: tuning.targetPercent ?? 60 } }],
    ...(tuning.scaleDownWindowSeconds === undefined ? {} : { behavior: { scaleDown: { stabilizationWindowSeconds: tuning.scaleDownWindowSeconds } } }),
  })
}

/** What an operator tunes on an HPA: the cpu target (60 % by default) and the scale-down window (300 s). */
export interface HpaTuning {
  readonly targetPercent?: number
  readonly scaleDownWindowSeconds?: number
}

/**
 * The group under test plus predictive scaling in forecastAndScale mode: it pre-launches for
 * the demand forecast one start-up time plus one sync period ahead (and for declared
 * campaigns), never scales in by itself, and backs off when the forecast's error exceeds
 * 30 %. The group's own predictive settings (buffer, error limit) are kept when it has them
 * switched on; otherwise a 2 % buffer, tuned with the quality bench: on the week of daily deals
 * 0 % left 45 s of violations, 2 % none at +2.3 % cost, 5 % none at +4.8 %; on the daily tides
 * (random bursts) no buffer up to 5 % changed the violations by more than a tenth.
 */
export function predictiveSpec(base: GroupSpec): GroupSpec {
  const settings = base.predictive.mode === 'off' ? { ...base.predictive, bufferPercent: 2 } : base.predictive
  return { ...base, predictive: { ...settings, mode: 'forecastAndScale' } }
}

/**
 * The size ladder `mixedSpec` gives a group that has none: half, one, two and four times the
 * group's size, priced in proportion to cpu (so the planner's choice comes from the
 * granularity and start-up cost of each size, not from a discount).
 */
export function defaultLadder(base: GroupSpec): GroupSpec['sizes'] {
  return [0.5, 1, 2, 4].map((k) => ({ name: `${k}x`, cpu: base.size.cpu * k, memoryMiB: Math.round(base.size.memoryMiB * k) }))
}

/**
 * The group under test with the mixed planner (strategy mixed, order cheapest): one planner
 * picks the count and the size for the reactive policies' demand. The group's own ladder is
 * kept; without one, defaultLadder.
 */
export function mixedSpec(base: GroupSpec): GroupSpec {
  return { ...base, strategy: 'mixed', mixedOrder: base.strategy === 'mixed' ? base.mixedOrder : 'cheapest', sizes: base.sizes.length > 0 ? base.sizes : defaultLadder(base) }
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
  predictive: {
    kind: 'controller',
    description: 'the configured policies plus predictive scaling (forecast and campaigns, pre-launched one start-up ahead)',
    spec: (ctx) => predictiveSpec(ctx.base),
  },
  mixed: {
    kind: 'controller',
    description: 'the configured policies with the mixed planner choosing count and size over a size ladder',
    spec: (ctx) => mixedSpec(ctx.base),
  },
  oracle: {
    kind: 'oracle',
    description: 'perfect foresight: the cheapest instance schedule that meets the SLO every second',
  },
}

/** The names `--policy` accepts, in registry order. */
export const simulationPolicyNames: readonly string[] = Object.keys(simulationPolicies)
