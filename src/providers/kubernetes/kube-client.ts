/**
 * The narrow seam between tide and the Kubernetes API (CONTRIBUTING "Add a provider", step 2):
 * the few calls the kubernetes provider, its metrics and its leader election make, through the
 * official `@kubernetes/client-node` 1.x, with the API's failures mapped to tide's provider
 * errors (429 → ThrottledError with the Retry-After, 404 of the workload → a ProviderConfigError
 * naming it, anything else a PlatformApiError, retryable when transient). Tests run it against
 * test/support/fake-kube-apiserver.ts, which speaks the real wire protocol.
 */
import * as k8s from '@kubernetes/client-node'
import { PlatformApiError, ProviderConfigError, ThrottledError, type ProviderError } from '../errors.ts'

const PROVIDER = 'kubernetes'

/** A workload tide scales: kind, namespace and name. */
export interface WorkloadRef {
  readonly kind: 'Deployment' | 'StatefulSet'
  readonly namespace: string
  readonly name: string
}

/** A workload's scale subresource: the replicas asked for, and the version a replace must name. */
export interface ScaleState {
  readonly replicas: number
  readonly resourceVersion: string
}

/** A container's resources as the API writes them (quantities as strings). */
export interface ContainerResources {
  readonly requests?: Readonly<Record<string, string>>
  readonly limits?: Readonly<Record<string, string>>
}

/** The parts of a workload tide reads: its pod selector and its pod template's containers. */
export interface WorkloadState {
  /** `matchLabels` as a label selector string (`app=web,tier=front`). */
  readonly selector: string
  readonly containers: readonly { readonly name: string; readonly resources?: ContainerResources }[]
}

/** One pod's usage from metrics.k8s.io. */
export interface PodUsage {
  readonly pod: string
  /** Cpu of the named container (or all containers when none is named), as a quantity string. */
  readonly containers: readonly { readonly name: string; readonly cpu: string; readonly memory: string }[]
  /** When the sample's window ended, epoch ms. */
  readonly atMs: number
  /** The window's length, ms. */
  readonly windowMs: number
}

/**
 * Loads the kubeconfig the usual way: `KUBECONFIG` (a list of files), then ~/.kube/config, then
 * the in-cluster service account. A config without a cluster is a ProviderConfigError.
 */
export function loadKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  try {
    kc.loadFromDefault()
  } catch (err) {
    throw new ProviderConfigError(PROVIDER, `cannot load a kubeconfig (KUBECONFIG, ~/.kube/config or the in-cluster service account): ${messageOf(err)}`, { cause: err })
  }
  if (kc.getCurrentCluster() === null) {
    throw new ProviderConfigError(PROVIDER, 'no Kubernetes cluster is configured: set KUBECONFIG, write ~/.kube/config, or run tide in a pod with a service account')
  }
  return kc
}

/**
 * The longest one API call may take, ms, by default: client-node sets no timeout of its own, so
 * an API server that accepts a request and never answers would hang the tick (and every tick
 * after it) that made the call. 10 s, as kubectl's default for a request is unbounded but
 * client-go's leader election renews within 10 s.
 */
export const KUBE_REQUEST_TIMEOUT_MS = 10_000

/** Options of KubeClient. */
export interface KubeClientOptions {
  /** The longest one API call may take, ms (default KUBE_REQUEST_TIMEOUT_MS); past it the call fails as a retryable PlatformApiError. */
  readonly requestTimeoutMs?: number
}

/** The client-node calls tide makes, over one kubeconfig. Every call is bounded in time (KubeClientOptions.requestTimeoutMs). */
export class KubeClient {
  readonly config: k8s.KubeConfig
  readonly #apps: k8s.AppsV1Api
  readonly #core: k8s.CoreV1Api
  readonly #coordination: k8s.CoordinationV1Api
  readonly #metrics: k8s.Metrics
  readonly #timeoutMs: number

  constructor(config: k8s.KubeConfig, options: KubeClientOptions = {}) {
    this.config = config
    this.#timeoutMs = options.requestTimeoutMs ?? KUBE_REQUEST_TIMEOUT_MS
    this.#apps = boundedApiClient(config, k8s.AppsV1Api, this.#timeoutMs)
    this.#core = boundedApiClient(config, k8s.CoreV1Api, this.#timeoutMs)
    this.#coordination = boundedApiClient(config, k8s.CoordinationV1Api, this.#timeoutMs)
    this.#metrics = new k8s.Metrics(config)
  }

  /** GET the workload's scale subresource. */
  async readScale(w: WorkloadRef): Promise<ScaleState> {
    const p = { name: w.name, namespace: w.namespace }
    const s = await call(`read the scale of ${describe(w)}`, w, () => (w.kind === 'Deployment' ? this.#apps.readNamespacedDeploymentScale(p) : this.#apps.readNamespacedStatefulSetScale(p)))
    return { replicas: s.spec?.replicas ?? 0, resourceVersion: s.metadata?.resourceVersion ?? '' }
  }

  /** PUT the scale subresource with `resourceVersion`: a 409 Conflict (someone changed it since) is thrown as ScaleConflict. */
  async replaceScale(w: WorkloadRef, replicas: number, resourceVersion: string): Promise<void> {
    const body = wire<k8s.V1Scale>({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: w.name, namespace: w.namespace, resourceVersion }, spec: { replicas } })
    const p = { name: w.name, namespace: w.namespace, body }
    await call(`set the replicas of ${describe(w)} to ${String(replicas)}`, w, () => (w.kind === 'Deployment' ? this.#apps.replaceNamespacedDeploymentScale(p) : this.#apps.replaceNamespacedStatefulSetScale(p)))
  }

  /** GET the workload: its selector and pod template containers. */
  async readWorkload(w: WorkloadRef): Promise<WorkloadState> {
    const p = { name: w.name, namespace: w.namespace }
    const o = await call<{ spec?: k8s.V1DeploymentSpec | k8s.V1StatefulSetSpec }>(`read ${describe(w)}`, w, () => (w.kind === 'Deployment' ? this.#apps.readNamespacedDeployment(p) : this.#apps.readNamespacedStatefulSet(p)))
    const labels = o.spec?.selector.matchLabels ?? {}
    const containers = (o.spec?.template.spec?.containers ?? []).map((c) => ({ name: c.name, ...(c.resources ? { resources: resourcesOf(c.resources) } : {}) }))
    return { selector: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','), containers }
  }

  /**
   * Sets one container's resources in the pod template (a JSON patch that first tests the
   * container's name, so a reordered template fails rather than resizing another container).
   * On a Deployment this is a rolling change: every pod is replaced at the new size.
   */
  async patchTemplateResources(w: WorkloadRef, index: number, container: string, resources: ContainerResources): Promise<void> {
    const body = [
      { op: 'test', path: `/spec/template/spec/containers/${String(index)}/name`, value: container },
      { op: 'replace', path: `/spec/template/spec/containers/${String(index)}/resources`, value: resources },
    ]
    const p = { name: w.name, namespace: w.namespace, body }
    const opts = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch)
    await call<unknown>(`set the resources of ${describe(w)}'s container ${container}`, w, () => (w.kind === 'Deployment' ? this.#apps.patchNamespacedDeployment(p, opts) : this.#apps.patchNamespacedStatefulSet(p, opts)))
  }

  /** Merge-patches annotations onto a pod (a value of null removes one). */
  async annotatePod(namespace: string, pod: string, annotations: Readonly<Record<string, string | null>>): Promise<void> {
    const opts = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)
    await call(`annotate pod ${namespace}/${pod}`, undefined, () => this.#core.patchNamespacedPod({ name: pod, namespace, body: { metadata: { annotations } } }, opts))
  }

  /** Resizes one container of a running pod in place, through the pods' `resize` subresource (Kubernetes ≥ 1.33). */
  async resizePod(namespace: string, pod: string, index: number, container: string, resources: ContainerResources): Promise<k8s.V1Pod> {
    const body = [
      { op: 'test', path: `/spec/containers/${String(index)}/name`, value: container },
      { op: 'replace', path: `/spec/containers/${String(index)}/resources`, value: resources },
    ]
    const opts = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch)
    return call(`resize pod ${namespace}/${pod}`, undefined, () => this.#core.patchNamespacedPodResize({ name: pod, namespace, body }, opts))
  }

  /** Whether the server lists the pods' `resize` subresource (discovery of /api/v1). */
  async hasPodResize(): Promise<boolean> {
    const list = await call('discover the core API', undefined, () => this.#core.getAPIResources())
    return list.resources.some((r) => r.name === 'pods/resize')
  }

  /** A pod informer (list, then watch from its resourceVersion) over the pods `selector` picks in `namespace`. */
  podInformer(namespace: string, selector: string): k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod> {
    return k8s.makeInformer(this.config, `/api/v1/namespaces/${namespace}/pods`, () => this.#core.listNamespacedPod({ namespace, labelSelector: selector }), selector)
  }

  /** metrics.k8s.io PodMetrics of a namespace. */
  async podUsage(namespace: string): Promise<PodUsage[]> {
    // k8s.Metrics takes no middleware: its call is raced against the timeout instead.
    const list = await call(`read pod metrics of ${namespace}`, undefined, () => withTimeout(this.#metrics.getPodMetrics(namespace), this.#timeoutMs))
    return list.items.map((m) => ({
      pod: m.metadata.name,
      containers: m.containers.map((c) => ({ name: c.name, cpu: c.usage.cpu, memory: c.usage.memory })),
      atMs: Date.parse(m.timestamp),
      windowMs: windowMsOf(m.window),
    }))
  }

  /** GET a Lease; undefined when there is none. */
  async readLease(namespace: string, name: string): Promise<k8s.V1Lease | undefined> {
    try {
      return await this.#coordination.readNamespacedLease({ name, namespace })
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined
      throw toProviderError(`read lease ${namespace}/${name}`, err, undefined)
    }
  }

  /** POST a Lease; a 409 (someone created it first) is a ScaleConflict. */
  async createLease(namespace: string, lease: k8s.V1Lease): Promise<k8s.V1Lease> {
    return call(`create lease ${namespace}/${lease.metadata?.name ?? ''}`, undefined, () => this.#coordination.createNamespacedLease({ namespace, body: lease }))
  }

  /** PUT a Lease with its resourceVersion; a 409 (it changed since it was read) is a ScaleConflict. */
  async replaceLease(namespace: string, lease: k8s.V1Lease): Promise<k8s.V1Lease> {
    const name = lease.metadata?.name ?? ''
    return call(`update lease ${namespace}/${name}`, undefined, () => this.#coordination.replaceNamespacedLease({ name, namespace, body: lease }))
  }
}

/**
 * An API client as KubeConfig.makeApiClient makes it, with a middleware that gives every request
 * an AbortSignal of `timeoutMs`: a request the server holds is aborted, and fails as a network
 * error does (a retryable PlatformApiError, toProviderError).
 */
function boundedApiClient<T>(config: k8s.KubeConfig, apiClientType: new (configuration: k8s.Configuration) => T, timeoutMs: number): T {
  const cluster = config.getCurrentCluster()
  if (cluster === null) throw new ProviderConfigError(PROVIDER, 'no Kubernetes cluster is configured: set KUBECONFIG, write ~/.kube/config, or run tide in a pod with a service account')
  const timeout: k8s.Middleware = {
    pre: (context) => {
      context.setSignal(AbortSignal.timeout(timeoutMs))
      return Promise.resolve(context)
    },
    post: (response) => Promise.resolve(response),
  }
  return new apiClientType(k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: { default: config }, promiseMiddleware: [timeout] }))
}

/** `p`, or a rejection naming the timeout once `ms` have passed. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${String(ms)} ms`))
    }, ms)
  })
  return Promise.race([p, expired]).finally(() => {
    clearTimeout(timer)
  })
}

/**
 * A write named an object version that is no longer current (409 Conflict): re-read and retry.
 * Not a provider error: the caller handles it (bounded retries) and it never reaches the controller.
 */
export class ConflictError extends Error {
  constructor(what: string, options?: ErrorOptions) {
    super(`${what}: conflict (the object changed since it was read)`, options)
    this.name = 'ConflictError'
  }
}

/** Runs a client call, mapping its failure (conflicts to ConflictError, the rest by toProviderError). */
async function call<T>(what: string, w: WorkloadRef | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof k8s.ApiException && err.code === 409) throw new ConflictError(what, { cause: err })
    throw toProviderError(what, err, w)
  }
}

/**
 * Maps a failed call to tide's provider errors: 429 → ThrottledError (Retry-After seconds as
 * retryAfterMs); a 404 of the workload → ProviderConfigError naming it (a lasting condition the
 * operator fixes); 401/403 → PlatformApiError, not retryable (RBAC: docs/providers.md); 5xx,
 * 408 and network errors → retryable PlatformApiError; other 4xx → not retryable.
 */
export function toProviderError(what: string, err: unknown, w: WorkloadRef | undefined): ProviderError {
  if (err instanceof k8s.ApiException) {
    const code: number = err.code
    const reason = statusMessage(err.body) ?? `HTTP ${String(code)}`
    if (code === 429) {
      const after = Number(err.headers['retry-after'])
      return new ThrottledError(PROVIDER, `${what}: the API server asks to slow down (429: ${reason})`, { cause: err, ...(Number.isFinite(after) ? { retryAfterMs: after * 1000 } : {}) })
    }
    if (code === 404 && w !== undefined) {
      return new ProviderConfigError(PROVIDER, `${describe(w)} not found: create it, or fix the group's kubernetes.${w.kind === 'Deployment' ? 'deployment' : 'statefulSet'} and kubernetes.namespace (${what}: ${reason})`, { cause: err })
    }
    const hint = code === 401 || code === 403 ? ' (check the service account and its Role: docs/providers.md, Kubernetes RBAC)' : ''
    return new PlatformApiError(PROVIDER, `${what}: ${String(code)} ${reason}${hint}`, code >= 500 || code === 408, { cause: err, platformCode: String(code) })
  }
  const errno = (err as { code?: unknown } | null)?.code
  return new PlatformApiError(PROVIDER, `${what}: ${messageOf(err)}`, true, { cause: err, ...(typeof errno === 'string' ? { platformCode: errno } : {}) })
}

/** `deployment shop/web` or `statefulSet shop/db`, as messages name a workload. */
export function describe(w: WorkloadRef): string {
  return `${w.kind === 'Deployment' ? 'deployment' : 'statefulSet'} ${w.namespace}/${w.name}`
}

/** The message of a `kind: Status` body, as client-node hands it over (a string or the parsed object). */
function statusMessage(body: unknown): string | undefined {
  let b: unknown = body
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body)
    } catch {
      return body.slice(0, 200) || undefined
    }
  }
  const m = (b as { message?: unknown } | null)?.message
  return typeof m === 'string' ? m : undefined
}

function resourcesOf(r: k8s.V1ResourceRequirements): ContainerResources {
  const strings = (o: Record<string, unknown> | undefined): Record<string, string> | undefined => (o === undefined ? undefined : Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)])))
  const requests = strings(r.requests)
  const limits = strings(r.limits)
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) }
}

/** A metrics window (`15s`, `1m0s`, `30.5s`) in ms; 30 s when unreadable (metrics-server's default resolution). */
function windowMsOf(w: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(w)
  if (!m || w === '') return 30_000
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * A plain JSON body typed as the client's model class: client-node serialises models by their
 * declared fields, so a literal of the same shape is what it sends.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the point is the cast
export function wire<T>(o: unknown): T {
  return o as T
}
