/**
 * The backend registry: per group, by its provider, the runtime composes `{ provider, signals,
 * health, traffic }` (controller/backend.ts). `local` is one kind (tide's router, /proc, the local
 * drainer), `aws` another (an EC2 Auto Scaling group, CloudWatch); `kubernetes` plugs in here, beside it, with no change to the controller or
 * the runtime. See CONTRIBUTING.md "Add a provider".
 */
import type { GroupSpec } from '../../spec/schema.ts'
import type { BackendContext, BackendKind, GroupBackend } from './backend-kind.ts'
import { awsBackends } from './aws.ts'
import { kubernetesBackends } from './kubernetes.ts'
import { localBackends } from './local.ts'

export type { BackendContext, BackendKind, GroupBackend } from './backend-kind.ts'

/** The kinds this build of tide can run, by provider name. */
const KINDS: Partial<Record<GroupSpec['provider'], (ctx: BackendContext) => BackendKind>> = {
  aws: awsBackends,
  local: localBackends,
  kubernetes: kubernetesBackends,
}

/** The providers `tide up` runs (the rest, only `tide simulate`). */
export function runnableProviders(): readonly GroupSpec['provider'][] {
  return Object.keys(KINDS) as GroupSpec['provider'][]
}

/**
 * Starts backends for groups, one kind instance per provider (so that local groups share one
 * local provider and its instance registry).
 */
export class BackendRegistry {
  readonly #ctx: BackendContext
  readonly #kinds = new Map<GroupSpec['provider'], BackendKind>()

  constructor(ctx: BackendContext) {
    this.#ctx = ctx
  }

  /** Why `spec` cannot run here, or undefined when it can. */
  refuses(spec: GroupSpec): string | undefined {
    if (KINDS[spec.provider] !== undefined) return undefined
    return `group ${spec.group}: provider ${spec.provider} cannot run here; this build of tide runs groups with provider ${runnableProviders().join(', ')} (use tide simulate for any group)`
  }

  /** Starts the group's backend (a local group's router listens when this resolves). */
  async start(spec: GroupSpec): Promise<GroupBackend> {
    let kind = this.#kinds.get(spec.provider)
    if (kind === undefined) {
      const make = KINDS[spec.provider]
      if (make === undefined) throw new Error(this.refuses(spec))
      kind = make(this.#ctx)
      this.#kinds.set(spec.provider, kind)
    }
    return kind.start(spec)
  }
}
