/**
 * The backend registry: per group, by its provider, the runtime composes `{ provider, signals,
 * health, traffic }` (controller/backend.ts). `local` is one kind (tide's router, /proc, the local
 * drainer); `kubernetes` and `aws` plug in here, beside it, with no change to the controller or
 * the runtime. See CONTRIBUTING.md "Add a provider".
 */
import type { Clock } from '../../core/clock.ts'
import type { Backend } from '../../controller/backend.ts'
import type { GroupSpec } from '../../spec/schema.ts'
import type { EventSink } from '../../store/events.ts'
import type { InstanceRegistry } from '../../providers/local/instance-registry.ts'
import type { Router } from '../../router/router.ts'
import type { ResourceSampler } from '../router-signals.ts'
import { localBackends } from './local.ts'

/** What every kind of backend may need from the running tide. */
export interface BackendContext {
  /** Where instance logs go (state/logs/…). */
  readonly stateDir: string
  /** Where instances are recorded, so that the next tide adopts them. */
  readonly registry: InstanceRegistry
  readonly events: EventSink
  readonly clock: Clock
  /** Cpu and memory per instance (the /proc sampler), for kinds that read /proc. */
  readonly sampler?: ResourceSampler
}

/** One group's running backend: what the controller uses, and what the runtime needs to show and stop it. */
export interface GroupBackend extends Backend {
  /** Where the group's requests enter, when tide routes them (local: its router). */
  readonly endpoint?: { readonly url: string; readonly proxy: GroupSpec['routing']['proxy'] }
  /** tide's router for the group (local), for the terminal's traffic tally and failover events. */
  readonly router?: Router
  /**
   * Whether this backend can serve `next`, a changed spec of its group, from now on (a reload);
   * undefined when it can, else why not (a setting that takes a new backend: a restart).
   */
  refuses(next: GroupSpec): string | undefined
  /** Stops what the backend runs for the group (its router); the instances are the controller's to stop first. */
  stop(): Promise<void>
}

/** A kind of backend, made once per running tide: starts a group's backend. */
export interface BackendKind {
  start(spec: GroupSpec): Promise<GroupBackend>
}

/** The kinds this build of tide can run, by provider name. */
const KINDS: Partial<Record<GroupSpec['provider'], (ctx: BackendContext) => BackendKind>> = {
  local: localBackends,
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
