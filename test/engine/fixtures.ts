/** Builders for engine tests: a parsed group spec, instances, signals and state, with defaults a test can override. */
import { GroupSchema, type GroupInput, type GroupSpec } from '../../src/spec/schema.ts'
import { policyInput, type PolicyInput } from '../../src/engine/policies/policy.ts'
import { emptyHistory, type DecideInput, type InstancePhase, type InstanceSample, type InstanceView, type ScaleHistory, type Signals } from '../../src/engine/types.ts'

/** A sim group named 'shop' parsed through the real schema, so every default is the real one. */
export function groupSpec(fields: Partial<GroupInput> = {}): GroupSpec {
  return GroupSchema.parse({ group: 'shop', provider: 'sim', ...fields })
}

/** `count` instances in `phase` with ids `${prefix}0…`, size 1 cpu / 512 MiB, launched 1 s apart. */
export function instances(count: number, phase: InstancePhase = 'in-service', prefix = 'i', protectedFromScaleIn = false): InstanceView[] {
  return Array.from({ length: count }, (_, n) => ({
    id: `${prefix}${n}`,
    phase,
    size: { cpu: 1, memoryMiB: 512 },
    launchedAtMs: n * 1000,
    protectedFromScaleIn,
  }))
}

/** Signals from per-instance samples (by id) and optional group values. */
export function signals(samples: Record<string, InstanceSample>, group: Signals['group'] = {}, atMs = 0): Signals {
  return { atMs, instances: new Map(Object.entries(samples)), group }
}

/** The same sample for every listed instance. */
export function sameSample(list: readonly InstanceView[], sample: InstanceSample): Record<string, InstanceSample> {
  return Object.fromEntries(list.map((i) => [i.id, sample]))
}

/** A decide() input; desiredReplicas defaults to the number of instances. */
export function decideInput(args: {
  spec: GroupSpec
  instances: readonly InstanceView[]
  signals: Signals | undefined
  nowMs?: number
  desiredReplicas?: number
  history?: ScaleHistory
}): DecideInput {
  return {
    spec: args.spec,
    state: {
      desiredReplicas: args.desiredReplicas ?? args.instances.length,
      size: args.spec.size,
      instances: args.instances,
      history: args.history ?? emptyHistory,
    },
    signals: args.signals,
    nowMs: args.nowMs ?? 1_000_000_000,
  }
}

/** A policy input built the way decide() builds it. */
export function policyInputFor(args: Parameters<typeof decideInput>[0]): PolicyInput {
  return policyInput(decideInput(args))
}
