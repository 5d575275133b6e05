/**
 * The `kubernetes` provider: a group is a Deployment or StatefulSet (spec.kubernetes), its
 * instances are the workload's pods, watched by an informer (list, then watch from its
 * resourceVersion). tide never creates or deletes pods itself; it asks the workload's controller
 * through the `scale` subresource, as the HPA does:
 *
 * - launch(size, n): the replicas + n (a PUT of the scale with its resourceVersion; a 409 is
 *   re-read and retried, at most CONFLICT_RETRIES times). A size other than the pod template's
 *   first patches the template's container resources (on a Deployment a rolling change). It then
 *   waits, at most launchWaitMs, for the new pods to appear and returns them.
 * - terminate(pod): a Deployment's victim is marked with the lowest
 *   `controller.kubernetes.io/pod-deletion-cost`, then the replicas − 1: its ReplicaSet removes
 *   that pod (it ranks not-ready pods first, then by that cost). A StatefulSet always removes its
 *   highest ordinal, so terminate lowers the replicas and that pod goes, whichever was named.
 * - replicas asked for but with no pod yet (a slow scheduler, a quota) are listed as 'starting'
 *   placeholders (`NAME~pending-N`), so a tick never asks for them twice.
 * - resize(pod, size): in place through the pods' `resize` subresource when discovery lists it
 *   (capabilities.resize 'in-place'); otherwise the pod template's resources (a rolling change).
 * - A missing workload is a ProviderConfigError on every list (the group's status says so, one
 *   event per streak; no crash loop); a 429 is a ThrottledError with the server's Retry-After.
 */
import type * as k8s from '@kubernetes/client-node'
import { sameSize } from '../../core/size.ts'
import type { GroupSpec, Size } from '../../spec/schema.ts'
import { kubernetesTarget } from '../../spec/kubernetes.ts'
import { PlatformApiError, ProviderConfigError } from '../errors.ts'
import type { InstanceRecord, Provider, ProviderCapabilities } from '../provider.ts'
import { ConflictError, describe, type ContainerResources, type KubeClient, type WorkloadRef } from './kube-client.ts'
import { cpuCores, cpuQuantity, memoryMiB, memoryQuantity } from './quantity.ts'

/** The annotation a Deployment's ReplicaSet reads to choose which pods go first on scale-down (lower goes first). */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost'
/** The lowest cost the annotation takes (int32): a victim tide chose goes before any other ready pod. */
export const VICTIM_COST = String(-(2 ** 31))
/** How many times a scale write is re-read and retried after a 409 Conflict. */
export const CONFLICT_RETRIES = 5
/** The separator of a placeholder id (`web~pending-1`): never in a pod name. */
const PENDING = '~pending-'

/** Knobs of the provider. */
export interface KubernetesProviderOptions {
  readonly client: KubeClient
  /** The longest launch waits for the new pods to appear, ms. Default 5000. */
  readonly launchWaitMs?: number
  /** Whether pods can be resized in place; discovered (hasPodResize) when absent. */
  readonly inPlaceResize?: boolean
}

/** One group's watch: the workload, its selector and the pod informer over it. */
interface Watch {
  readonly ref: WorkloadRef
  readonly container: string | undefined
  readonly informer: k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod>
  started: Promise<void> | undefined
  stopped: boolean
}

/** The kubernetes provider; one object can serve several groups (one watch each). */
export class KubernetesProvider implements Provider {
  readonly name = 'kubernetes'
  readonly #client: KubeClient
  readonly #launchWaitMs: number
  #inPlace: boolean | undefined
  readonly #watches = new Map<string, Watch>()
  /**
   * Scale-downs this object asked for, the pod named → the pod that goes (the same for a
   * Deployment; a StatefulSet's highest ordinal), so a repeated terminate never lowers the
   * replicas twice. An entry goes when its victim's pod is deleted.
   */
  readonly #retiring = new Map<string, string>()

  constructor(options: KubernetesProviderOptions) {
    this.#client = options.client
    this.#launchWaitMs = options.launchWaitMs ?? 5000
    this.#inPlace = options.inPlaceResize
  }

  /** 'in-place' once discovery found the pods' resize subresource (see discover()), else 'replace'. */
  get capabilities(): ProviderCapabilities {
    return { resize: this.#inPlace === true ? 'in-place' : 'replace', adopts: true }
  }

  /** Asks the server whether pods can be resized in place (unless the options said); a failure leaves 'replace'. */
  async discover(): Promise<void> {
    if (this.#inPlace !== undefined) return
    try {
      this.#inPlace = await this.#client.hasPodResize()
    } catch {
      this.#inPlace = undefined
    }
  }

  async list(group: GroupSpec): Promise<InstanceRecord[]> {
    const w = await this.#watch(group)
    const scale = await this.#client.readScale(w.ref)
    const pods = w.informer.list()
    const records = pods.map((p) => this.#record(group, w, p))
    const live = pods.filter((p) => p.metadata?.deletionTimestamp === undefined).length
    for (let i = 1; i <= scale.replicas - live; i++) records.push(placeholder(group, w.ref, i, this.#templateSizeGuess(group)))
    return records.sort((a, b) => a.launchedAtMs - b.launchedAtMs || a.id.localeCompare(b.id))
  }

  async launch(group: GroupSpec, size: Size, count: number): Promise<InstanceRecord[]> {
    if (count <= 0) return []
    const w = await this.#watch(group)
    await this.#ensureTemplateSize(group, w, size)
    const before = new Set(w.informer.list().map((p) => p.metadata?.name ?? ''))
    await this.#changeReplicas(w.ref, (r) => r + count)
    // A duration: on the monotonic clock, so a step back of the wall clock cannot hold the tick for the step's length.
    const deadline = performance.now() + this.#launchWaitMs
    let fresh: k8s.V1Pod[] = []
    for (;;) {
      fresh = w.informer.list().filter((p) => !before.has(p.metadata?.name ?? '') && p.metadata?.deletionTimestamp === undefined)
      if (fresh.length >= count || performance.now() >= deadline) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const records = fresh.slice(0, count).map((p) => this.#record(group, w, p))
    for (let i = records.length + 1; i <= count; i++) records.push(placeholder(group, w.ref, i, size))
    return records
  }

  async terminate(group: GroupSpec, instanceId: string): Promise<void> {
    const w = await this.#watch(group)
    const pods = w.informer.list()
    const live = pods.filter((p) => p.metadata?.deletionTimestamp === undefined)
    if (instanceId.includes(PENDING)) {
      // A replica with no pod yet: lower the replicas only while some are still pod-less.
      await this.#changeReplicas(w.ref, (r) => (r > live.length ? r - 1 : r))
      return
    }
    const pod = live.find((p) => p.metadata?.name === instanceId)
    const victims = new Set(this.#retiring.values())
    if (pod === undefined || this.#retiring.has(instanceId) || victims.has(instanceId)) return
    // The StatefulSet controller removes the highest ordinal, whichever pod was named.
    const victim = w.ref.kind === 'StatefulSet' ? (live.map((p) => p.metadata?.name ?? '').filter((n) => !victims.has(n)).sort((x, y) => ordinal(y) - ordinal(x))[0] ?? instanceId) : instanceId
    // Marked before the calls, so a concurrent terminate of the same pod does nothing; unmarked if they fail.
    this.#retiring.set(instanceId, victim)
    try {
      if (w.ref.kind === 'Deployment') await this.#client.annotatePod(w.ref.namespace, instanceId, { [POD_DELETION_COST]: VICTIM_COST })
      await this.#changeReplicas(w.ref, (r) => Math.max(0, r - 1))
    } catch (err) {
      this.#retiring.delete(instanceId)
      throw err
    }
    // Forget it once it is gone, so the set stays small.
    const forget = (p: k8s.V1Pod): void => {
      if (p.metadata?.name !== victim) return
      for (const [named, v] of this.#retiring) if (v === victim) this.#retiring.delete(named)
      w.informer.off('delete', forget)
    }
    w.informer.on('delete', forget)
  }

  async resize(group: GroupSpec, instanceId: string, size: Size): Promise<InstanceRecord> {
    const w = await this.#watch(group)
    const pod = w.informer.list().find((p) => p.metadata?.name === instanceId)
    if (pod === undefined) throw new PlatformApiError(this.name, `pod ${w.ref.namespace}/${instanceId} is not among ${describe(w.ref)}'s pods`, false)
    if (this.#inPlace !== true) {
      await this.#ensureTemplateSize(group, w, size)
      return this.#record(group, w, pod)
    }
    const { index, name } = containerOf(pod.spec?.containers ?? [], w.container)
    if (index < 0) throw new ProviderConfigError(this.name, `pod ${instanceId} has no container ${w.container ?? ''}`)
    const resized = await this.#client.resizePod(w.ref.namespace, instanceId, index, name, resourcesFor(size, pod.spec?.containers[index]?.resources))
    return this.#record(group, w, resized)
  }

  /** Stops every watch (tide's shutdown). */
  async stop(): Promise<void> {
    const watches = [...this.#watches.values()]
    this.#watches.clear()
    for (const w of watches) {
      w.stopped = true
      await w.informer.stop()
    }
  }

  /** The group's watch, started on first use (reading the workload for its selector); a failed start is retried by the next call. */
  async #watch(group: GroupSpec): Promise<Watch> {
    const spec = group.kubernetes
    if (spec === undefined) throw new ProviderConfigError(this.name, `group ${group.group}: provider kubernetes needs kubernetes: { namespace, deployment }`)
    const target = kubernetesTarget(spec)
    const key = `${group.group}/${spec.namespace}/${target.resource}/${target.name}`
    let w = this.#watches.get(key)
    if (w === undefined) {
      const ref: WorkloadRef = { kind: target.kind, namespace: spec.namespace, name: target.name }
      const workload = await this.#client.readWorkload(ref)
      if (workload.selector === '') throw new ProviderConfigError(this.name, `${describe(ref)} has no spec.selector.matchLabels; tide finds its pods by them`)
      const informer = this.#client.podInformer(spec.namespace, workload.selector)
      const made: Watch = { ref, container: spec.container, informer, started: undefined, stopped: false }
      // A watch that fails (the server restarts, a network error) starts again after a second.
      informer.on('error', () => {
        if (made.stopped) return
        setTimeout(() => {
          if (!made.stopped) informer.start().catch(() => undefined)
        }, 1000).unref()
      })
      w = made
      this.#watches.set(key, w)
    }
    const watch = w
    watch.started ??= watch.informer.start().catch((err: unknown) => {
      watch.started = undefined
      throw err
    })
    await watch.started
    return watch
  }

  /** Sets the replicas to `next(current)` with optimistic concurrency: a 409 re-reads and retries, at most CONFLICT_RETRIES times. */
  async #changeReplicas(ref: WorkloadRef, next: (replicas: number) => number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const scale = await this.#client.readScale(ref)
      const want = next(scale.replicas)
      if (want === scale.replicas) return
      try {
        await this.#client.replaceScale(ref, want, scale.resourceVersion)
        return
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err
        if (attempt >= CONFLICT_RETRIES) throw new PlatformApiError(this.name, `${err.message}, ${String(CONFLICT_RETRIES + 1)} times in a row: another writer keeps changing ${describe(ref)}'s replicas (an HPA on the same workload?)`, true, { cause: err, platformCode: '409' })
      }
    }
  }

  /** Patches the pod template's container resources to `size` when they say another size. */
  async #ensureTemplateSize(group: GroupSpec, w: Watch, size: Size): Promise<void> {
    const workload = await this.#client.readWorkload(w.ref)
    const { index, name } = containerOf(workload.containers, w.container)
    if (index < 0) throw new ProviderConfigError(this.name, `${describe(w.ref)} has no container ${w.container ?? ''} (kubernetes.container of group ${group.group})`)
    const resources = workload.containers[index]?.resources
    const now = sizeOf(resources)
    if (now !== undefined && sameSize(now, size)) return
    await this.#client.patchTemplateResources(w.ref, index, name, resourcesFor(size, resources))
  }

  #templateSizeGuess(group: GroupSpec): Size {
    return group.size
  }

  #record(group: GroupSpec, w: Watch, pod: k8s.V1Pod): InstanceRecord {
    const name = pod.metadata?.name ?? ''
    const containers = pod.spec?.containers ?? []
    const { index } = containerOf(containers, w.container)
    const container = containers[index]
    const size = ladderSize(group, sizeOf(container?.resources ? { ...(container.resources.requests ? { requests: asStrings(container.resources.requests) } : {}), ...(container.resources.limits ? { limits: asStrings(container.resources.limits) } : {}) } : undefined) ?? group.size)
    const launchedAtMs = timeOf(pod.metadata?.creationTimestamp) ?? 0
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')
    const readyAtMs = ready === undefined ? undefined : Math.max(launchedAtMs, timeOf(ready.lastTransitionTime) ?? launchedAtMs)
    const port = container?.ports?.[0]?.containerPort
    const ip = pod.status?.podIP
    const reason = pod.status?.containerStatuses?.find((c) => c.name === container?.name)?.lastState?.terminated?.reason ?? pod.status?.reason
    const meta: Record<string, string> = { pod: name, namespace: w.ref.namespace }
    if (pod.spec?.nodeName !== undefined) meta.node = pod.spec.nodeName
    if (reason !== undefined) meta.reason = reason
    return {
      id: name,
      group: group.group,
      status: statusOf(pod),
      size,
      launchedAtMs,
      ...(readyAtMs === undefined ? {} : { readyAtMs }),
      ...(ip === undefined || port === undefined ? {} : { address: { host: ip, port } }),
      meta,
    }
  }
}

/** A pod's provider status: terminating → stopping; Pending or not yet ready → starting; ready → running; Failed → failed; Succeeded → stopped. */
export function statusOf(pod: k8s.V1Pod): InstanceRecord['status'] {
  if (pod.metadata?.deletionTimestamp !== undefined) return 'stopping'
  switch (pod.status?.phase) {
    case 'Failed':
      return 'failed'
    case 'Succeeded':
      return 'stopped'
    case 'Running':
      return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true ? 'running' : 'starting'
    case 'Pending':
    case 'Unknown':
    case undefined:
      return 'starting'
    default:
      return 'starting'
  }
}

function placeholder(group: GroupSpec, ref: WorkloadRef, i: number, size: Size): InstanceRecord {
  return { id: `${ref.name}${PENDING}${String(i)}`, group: group.group, status: 'starting', size, launchedAtMs: Date.now(), meta: { namespace: ref.namespace, pending: 'a replica the workload asks for has no pod yet' } }
}

/** The container tide sizes: the named one, else the first. index −1 when the named one is absent. */
function containerOf(containers: readonly { readonly name: string }[], wanted: string | undefined): { index: number; name: string } {
  const index = wanted === undefined ? (containers.length > 0 ? 0 : -1) : containers.findIndex((c) => c.name === wanted)
  return { index, name: containers[index]?.name ?? wanted ?? '' }
}

/** A size from container resources: requests first (what the scheduler and the HPA go by), else limits. */
function sizeOf(r: ContainerResources | undefined): Size | undefined {
  const cpu = cpuCores(r?.requests?.cpu ?? r?.limits?.cpu)
  const mem = memoryMiB(r?.requests?.memory ?? r?.limits?.memory)
  return cpu === undefined || mem === undefined ? undefined : { cpu, memoryMiB: mem }
}

/** The ladder's rung of that size (with its name and price) when there is one, else the bare size. */
function ladderSize(group: GroupSpec, s: Size): Size {
  return [group.size, ...group.sizes].find((r) => sameSize(r, s)) ?? { cpu: s.cpu, memoryMiB: s.memoryMiB }
}

/**
 * The resources for `size`: cpu and memory requests; the memory limit follows (a pod over it is
 * OOM-killed at the size it was given), a cpu limit only when there was one (cpu limits throttle).
 */
function resourcesFor(size: Size, current: ContainerResources | undefined): ContainerResources {
  const limits: Record<string, string> = { ...(current?.limits ?? {}), memory: memoryQuantity(size.memoryMiB) }
  if (current?.limits?.cpu !== undefined) limits.cpu = cpuQuantity(size.cpu)
  return { requests: { ...(current?.requests ?? {}), cpu: cpuQuantity(size.cpu), memory: memoryQuantity(size.memoryMiB) }, limits }
}

function asStrings(o: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]))
}

function timeOf(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined
  const ms = t instanceof Date ? t.getTime() : Date.parse(t)
  return Number.isFinite(ms) ? ms : undefined
}

function ordinal(pod: string): number {
  return Number(/-(\d+)$/.exec(pod)?.[1] ?? '-1')
}
