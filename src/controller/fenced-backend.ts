/**
 * Fencing at the controller's provider seam: a group's Backend whose every action on the world
 * (launch, terminate, resize through the provider; drain and standby detach, which run preStop
 * hooks and backup commands on the instance) first asks the leadership lease whether it is KNOWN
 * held now (LeadershipView.held(): the last renewal sent less than the renew deadline ago, by the
 * monotonic clock, and no store write fenced off). When it is not, the action is refused with a
 * FencedActionError before anything reaches the platform, and `onRefused` is told (tide up stops
 * at once). Reads (list, signals, health) and the router's target list (this process's own
 * memory) pass through: a tide that lost the lease may look, never act.
 *
 * This is the guard for actions that cannot carry the fencing token (EC2 Auto Scaling and a
 * process spawn know nothing of it). Its limit is that of every lease (Kleppmann, "How to do
 * distributed locking"): a process frozen between the check and the call acts once more, at
 * most one call, and the renew deadline (6 s) sits 2 s inside the lease (8 s) to keep that
 * window away from a new leader's first actions. Store writes need no such guard: the store
 * applies them only with the fence (src/store/leadership.ts).
 */
import { FencedActionError } from '../providers/errors.ts'
import type { InstanceRecord, Provider } from '../providers/provider.ts'
import type { GroupSpec, Size } from '../spec/schema.ts'
import type { LeadershipView } from '../store/leadership.ts'
import type { Backend, Traffic } from './backend.ts'

/** Options of fenceBackend. */
export interface FenceOptions {
  readonly leadership: LeadershipView
  /** Told of each refused action (once per action), e.g. to stop tide at once; must not throw. */
  readonly onRefused?: (err: FencedActionError) => void
}

/** The backend with every action fenced on `leadership` (see the file's comment); reads pass through. */
export function fenceBackend(backend: Backend, options: FenceOptions): Backend {
  const traffic = backend.traffic === undefined ? undefined : fenceTraffic(backend.traffic, backend.provider.name, options)
  return {
    ...backend,
    provider: new FencedProvider(backend.provider, options),
    ...(traffic === undefined ? {} : { traffic }),
  }
}

/** Throws (and tells onRefused) when the lease is not known held. */
function check(options: FenceOptions, provider: string, action: string, what: string): void {
  if (options.leadership.held()) return
  const fence = options.leadership.fence()
  const err = new FencedActionError(
    provider,
    action,
    `${action} ${what} refused: this tide does not hold the leadership lease${fence === undefined ? ' (never acquired)' : ` (held at epoch ${fence.epoch}, lost or not renewed within the renew deadline)`}; nothing was done`,
  )
  options.onRefused?.(err)
  throw err
}

/** A provider that acts only while the lease is known held; `list` always passes. */
export class FencedProvider implements Provider {
  readonly #inner: Provider
  readonly #o: FenceOptions
  readonly resize?: (group: GroupSpec, instanceId: string, size: Size) => Promise<InstanceRecord>

  constructor(inner: Provider, options: FenceOptions) {
    this.#inner = inner
    this.#o = options
    const innerResize = inner.resize?.bind(inner)
    if (innerResize !== undefined) {
      this.resize = (group, instanceId, size) =>
        guarded(() => {
          check(this.#o, this.name, 'resize', `of ${group.group} instance ${instanceId}`)
          return innerResize(group, instanceId, size)
        })
    }
  }

  get name(): string {
    return this.#inner.name
  }

  get capabilities(): Provider['capabilities'] {
    return this.#inner.capabilities
  }

  list(group: GroupSpec): Promise<InstanceRecord[]> {
    return this.#inner.list(group)
  }

  launch(group: GroupSpec, size: Size, count: number): Promise<InstanceRecord[]> {
    return guarded(() => {
      check(this.#o, this.name, 'launch', `of ${count} ${group.group} instance(s)`)
      return this.#inner.launch(group, size, count)
    })
  }

  terminate(group: GroupSpec, instanceId: string): Promise<void> {
    return guarded(() => {
      check(this.#o, this.name, 'terminate', `of ${group.group} instance ${instanceId}`)
      return this.#inner.terminate(group, instanceId)
    })
  }
}

/** Runs `call`, a synchronous throw (the check) as a rejection, as the Provider contract promises. */
function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call()
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
}

function fenceTraffic(inner: Traffic, provider: string, options: FenceOptions): Traffic {
  const detach = inner.detach?.bind(inner)
  const state = inner.state?.bind(inner)
  return {
    setTargets: (spec, targets) => {
      inner.setTargets(spec, targets)
    },
    drain: async (spec, instance) => {
      check(options, provider, 'drain', `of ${spec.group} instance ${instance.id}`)
      await inner.drain(spec, instance)
    },
    ...(detach === undefined
      ? {}
      : {
          detach: async (spec: GroupSpec, instanceId: string) => {
            check(options, provider, 'detach', `of ${spec.group} instance ${instanceId}`)
            await detach(spec, instanceId)
          },
        }),
    ...(state === undefined ? {} : { state }),
  }
}
