/**
 * A fake Kubernetes API server for tests: node:http on 127.0.0.1 speaking the real wire protocol
 * for the subset tide uses, so the real clients (`kubectl`, `@kubernetes/client-node`) talk to it
 * unchanged. No real API server can be installed on the build machine (no kube-apiserver, k3s,
 * kind or kwok in Debian or npm), so this stands in; test/support/fake-kube-apiserver.test.ts keeps
 * it honest by driving it with both real clients.
 *
 * What it serves:
 * - discovery: /version, /api, /apis, /api/v1, /apis/{apps,coordination.k8s.io}/v1,
 *   /apis/metrics.k8s.io/v1beta1 (plain APIGroupList: kubectl asks for aggregated discovery first
 *   and falls back when the reply's content type is not the aggregated one);
 * - apps/v1 Deployments and StatefulSets: get, list, watch, create, update (PUT, with
 *   resourceVersion conflicts), patch (merge, strategic merge as a merge, JSON patch), delete, and
 *   the `scale` subresource (get, put, patch);
 * - pods: get, list (labelSelector), watch (resourceVersion, bookmarks, chunked JSON lines),
 *   patch, delete (graceful: a deletionTimestamp, gone after `terminationDelayMs`), and the
 *   `resize` subresource when `resizeSubresource` is on (Kubernetes 1.33's in-place resize);
 * - metrics.k8s.io PodMetrics (usage set by the test through setUsage);
 * - coordination.k8s.io Leases: get, list, create, update with resourceVersion (409 on a stale one);
 * - errors as `kind: Status` (404, 409, 415, 422, 429 with Retry-After, 500), and injected
 *   faults (inject): those statuses, or a request held unanswered (`hang`) until the fake stops; meta.k8s.io Table
 *   output when the client asks for it (kubectl get).
 *
 * A simulated "kubelet and controllers": when a Deployment's or StatefulSet's replicas change it
 * creates pods (Pending, then Running and Ready after `startDelayMs`) or deletes them, choosing
 * Deployment victims as the ReplicaSet controller does (not-ready first, then the lowest
 * `controller.kubernetes.io/pod-deletion-cost`, then the newest) and StatefulSet victims by highest
 * ordinal; a changed pod template rolls the pods (new ones first, old ones deleted as new ones get ready).
 *
 * What it does not do: authentication, admission, scheduling onto nodes, real containers, field
 * selectors, server-side apply, protobuf, watch-cache expiry (410 Gone), and any resource not listed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A Kubernetes object as stored: plain JSON. */
export type KubeObject = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string } }

/** One injected fault: the next `count` requests matching `match` get `status`, or no answer at all (`hang`: held until the fake stops). */
export interface Fault {
  readonly status: 409 | 429 | 500 | 'hang'
  /** How many matching requests fail. Default 1. */
  readonly count?: number
  /** For 429: the Retry-After header, seconds. Default 1. */
  readonly retryAfterSeconds?: number
  /** Which requests: by method and path (without the query). Default: any request but discovery. */
  readonly match?: (method: string, path: string) => boolean
}

/** Knobs of the fake. */
export interface FakeKubeOptions {
  /** ms from a pod's creation to Running and Ready. Default 300. */
  readonly startDelayMs?: number
  /** ms from a pod's deletion to its disappearance. Default 200. */
  readonly terminationDelayMs?: number
  /** Whether /api/v1 lists `pods/resize` (in-place resize, Kubernetes ≥ 1.33). Default true. */
  readonly resizeSubresource?: boolean
  /** ms between watch bookmarks. Default 1000. */
  readonly bookmarkEveryMs?: number
  /** At most this many live pods per namespace, as a ResourceQuota: replicas beyond it get no pod. Default unlimited. */
  readonly podQuota?: number
}

/** A request the fake received, for tests that check what a client sent. */
export interface SeenRequest {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly contentType: string | undefined
  readonly accept: string | undefined
}

interface ResourceDef {
  readonly group: string // '' for the core group
  readonly version: string
  readonly resource: string
  readonly kind: string
  readonly namespaced: boolean
  readonly shortNames?: readonly string[]
  readonly subresources: readonly string[]
}

const RESOURCES: readonly ResourceDef[] = [
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'], subresources: ['status', 'resize'] },
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: [] },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], subresources: ['scale', 'status'] },
  { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true, shortNames: ['sts'], subresources: ['scale', 'status'] },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true, subresources: [] },
  { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', kind: 'PodMetrics', namespaced: true, subresources: [] },
]

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost'

interface WatchEvent {
  readonly rv: number
  readonly key: string // group/resource
  readonly namespace: string
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'
  readonly object: KubeObject
}

interface Watcher {
  readonly key: string
  readonly namespace: string | undefined
  readonly selector: Selector
  readonly res: ServerResponse
}

class StatusError extends Error {
  readonly code: number
  readonly reason: string
  readonly retryAfterSeconds: number | undefined
  constructor(code: number, reason: string, message: string, retryAfterSeconds?: number) {
    super(message)
    this.code = code
    this.reason = reason
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** A parsed label selector: every requirement must hold. */
type Selector = (labels: Readonly<Record<string, string>>) => boolean

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h` (the forms kubectl and client-node send). */
export function parseSelector(text: string | null | undefined): Selector {
  if (text === null || text === undefined || text.trim() === '') return () => true
  const parts = text.match(/[^,(]+(\([^)]*\))?/g) ?? []
  const reqs: Selector[] = parts.map((raw) => {
    const p = raw.trim()
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p)
    if (m) {
      const [, k = '', op, vs = ''] = m
      const set = new Set(vs.split(',').map((v) => v.trim()))
      return (l) => (op === 'in' ? l[k] !== undefined && set.has(l[k]) : l[k] === undefined || !set.has(l[k]))
    }
    m = /^([\w./-]+)\s*(!=|==|=)\s*([\w./-]*)$/.exec(p)
    if (m) {
      const [, k = '', op, v = ''] = m
      return (l) => (op === '!=' ? l[k] !== v : l[k] === v)
    }
    m = /^(!?)([\w./-]+)$/.exec(p)
    if (m) {
      const [, not, k = ''] = m
      return (l) => (not === '!' ? l[k] === undefined : l[k] !== undefined)
    }
    throw new StatusError(400, 'BadRequest', `unable to parse requirement: ${p}`)
  })
  return (l) => reqs.every((r) => r(l))
}

/** The fake server. `start()` it, point a kubeconfig at `url` (see `kubeconfig()`), `stop()` it. */
export class FakeKubeApiServer {
  readonly #opts: Required<FakeKubeOptions>
  readonly #objects = new Map<string, KubeObject>() // group/resource/namespace/name
  readonly #events: WatchEvent[] = []
  readonly #watchers = new Set<Watcher>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #usage = new Map<string, { cpuMilli: number; memoryMiB: number }>()
  #faults: (Fault & { left: number })[] = []
  #rv = 1
  #podSerial = 0
  #ip = 10
  #server: Server | undefined
  #bookmarkTimer: NodeJS.Timeout | undefined
  /** Every request received, oldest first. */
  readonly requests: SeenRequest[] = []

  constructor(options: FakeKubeOptions = {}) {
    this.#opts = {
      startDelayMs: options.startDelayMs ?? 300,
      terminationDelayMs: options.terminationDelayMs ?? 200,
      resizeSubresource: options.resizeSubresource ?? true,
      bookmarkEveryMs: options.bookmarkEveryMs ?? 1000,
      podQuota: options.podQuota ?? Number.POSITIVE_INFINITY,
    }
    this.#put('/namespaces', '', 'default', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } })
  }

  /** http://127.0.0.1:PORT once started. */
  get url(): string {
    const a = this.#server?.address() as AddressInfo | null | undefined
    if (!a) throw new Error('fake kube-apiserver not started')
    return `http://127.0.0.1:${a.port}`
  }

  /** Listens on an ephemeral port of 127.0.0.1. */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#sendStatus(res, new StatusError(500, 'InternalError', String(err)))
        else res.destroy()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        resolve()
      })
    })
    this.#server = server
    this.#bookmarkTimer = setInterval(() => {
      this.#bookmarks()
    }, this.#opts.bookmarkEveryMs)
    this.#bookmarkTimer.unref()
  }

  /** Closes watches and the listener; clears the kubelet's timers. */
  async stop(): Promise<void> {
    if (this.#bookmarkTimer) clearInterval(this.#bookmarkTimer)
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    for (const w of this.#watchers) w.res.end()
    this.#watchers.clear()
    const server = this.#server
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => {
      resolve()
    }))
    this.#server = undefined
  }

  /** A kubeconfig (YAML is JSON) for `url`; client-node 1.x needs insecure-skip-tls-verify to accept plain http. */
  kubeconfig(namespace = 'default'): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user: { token: 'fake-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace } }],
      'current-context': 'fake',
    })
  }

  /** The next requests matching the fault fail with its status (Retry-After for 429). */
  inject(fault: Fault): void {
    this.#faults.push({ ...fault, left: fault.count ?? 1 })
  }

  /** Sets what metrics.k8s.io reports for a pod (cpu in millicores, memory in MiB). */
  setUsage(podName: string, usage: { cpuMilli: number; memoryMiB: number }): void {
    this.#usage.set(podName, usage)
  }

  /** The stored object, or undefined (a copy: edits do not reach the server). */
  get(resource: 'pods' | 'deployments' | 'statefulsets' | 'leases', namespace: string, name: string): KubeObject | undefined {
    const o = this.#objects.get(`${this.#groupOf(resource)}/${resource}/${namespace}/${name}`)
    return o === undefined ? undefined : structuredClone(o)
  }

  /** Pods of a namespace, by name (copies), including terminating ones. */
  pods(namespace: string): KubeObject[] {
    return this.#list('/pods', namespace).map((o) => structuredClone(o))
  }

  /** Stores an object directly (as `kubectl create` would), running the kubelet for workloads. */
  create(resource: 'deployments' | 'statefulsets' | 'leases', namespace: string, body: Record<string, unknown>): KubeObject {
    const def = RESOURCES.find((r) => r.resource === resource && r.group !== 'metrics.k8s.io')
    if (!def) throw new Error(resource)
    return this.#create(def, namespace, structuredClone(body))
  }

  /** Deletes a workload or lease outright (its pods go too), for tests of a vanished target. */
  remove(resource: 'deployments' | 'statefulsets' | 'leases', namespace: string, name: string): void {
    const key = `${this.#groupOf(resource)}/${resource}`
    const o = this.#objects.get(`${key}/${namespace}/${name}`)
    if (!o) return
    this.#delete(key, namespace, o)
    if (resource !== 'leases') {
      for (const p of this.#list('/pods', namespace)) {
        if (ownerName(p) === name) this.#delete('/pods', namespace, p)
      }
    }
  }

  // ---- HTTP ----

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const method = req.method ?? 'GET'
    this.requests.push({ method, path: url.pathname, query: url.search, contentType: req.headers['content-type'], accept: req.headers.accept })
    const body = await readBody(req)
    try {
      if (this.#discovery(url.pathname, res)) return
      if (this.#fault(method, url.pathname) === 'hang') return
      this.#route(method, url, req, body, res)
    } catch (err) {
      if (err instanceof StatusError) this.#sendStatus(res, err)
      else throw err
    }
  }

  /** Throws the injected fault's status for this request; 'hang' when it is to be left unanswered. */
  #fault(method: string, path: string): 'hang' | undefined {
    const f = this.#faults.find((x) => x.left > 0 && (x.match ? x.match(method, path) : true))
    if (!f) return undefined
    f.left--
    this.#faults = this.#faults.filter((x) => x.left > 0)
    if (f.status === 'hang') return 'hang'
    if (f.status === 429) throw new StatusError(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', f.retryAfterSeconds ?? 1)
    if (f.status === 409) throw new StatusError(409, 'Conflict', 'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again')
    throw new StatusError(500, 'InternalError', 'an error on the server ("injected") has prevented the request from succeeding')
  }

  #discovery(path: string, res: ServerResponse): boolean {
    const json = (o: unknown): true => {
      send(res, 200, o)
      return true
    }
    if (path === '/openapi/v3') {
      const gvs = [...new Set(RESOURCES.map((r) => (r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`)))]
      return json({ paths: Object.fromEntries(gvs.map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=fake` }])) })
    }
    const openapi = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path)
    if (openapi) return json(openApiV3(openapi[2] ?? '', openapi[1] ?? openapi[3] ?? ''))
    if (path === '/version') return json({ major: '1', minor: '33', gitVersion: 'v1.33.0-fake', platform: 'linux/amd64' })
    if (path === '/api') return json({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] })
    if (path === '/apis') {
      const groups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => `${r.group}/${r.version}`))].map((gv) => {
        const [name = '', version = ''] = gv.split('/')
        return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } }
      })
      return json({ kind: 'APIGroupList', apiVersion: 'v1', groups })
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path)
    if (!m) return false
    const group = m[2] ?? ''
    const version = m[1] ?? m[3] ?? ''
    const defs = RESOURCES.filter((r) => r.group === group && r.version === version)
    if (defs.length === 0) return false
    const resources: unknown[] = []
    for (const d of defs) {
      resources.push({ name: d.resource, singularName: d.kind.toLowerCase(), namespaced: d.namespaced, kind: d.kind, verbs: d.group === 'metrics.k8s.io' ? ['get', 'list'] : VERBS, ...(d.shortNames ? { shortNames: d.shortNames } : {}) })
      for (const s of d.subresources) {
        if (s === 'resize' && !this.#opts.resizeSubresource) continue
        const kind = s === 'scale' ? 'Scale' : d.kind
        resources.push({ name: `${d.resource}/${s}`, singularName: '', namespaced: true, kind, verbs: ['get', 'patch', 'update'], ...(s === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}) })
      }
    }
    return json({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources })
  }

  #route(method: string, url: URL, req: IncomingMessage, body: string, res: ServerResponse): void {
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(url.pathname)
    if (!m) throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`)
    const [, g = '', v = 'v1', namespace, resource = '', name, sub] = m
    const def = RESOURCES.find((r) => r.group === g && r.version === v && r.resource === resource)
    if (!def) throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`)
    const key = `${g}/${resource}`
    const q = url.searchParams
    if (def.group === 'metrics.k8s.io') {
      if (method !== 'GET') throw new StatusError(405, 'MethodNotAllowed', `${method} is not allowed on pod metrics`)
      this.#podMetrics(namespace, name, q, res)
      return
    }
    if (name === undefined) {
      if (method === 'GET' && q.get('watch') === 'true') {
        this.#watch(key, namespace, q, res)
        return
      }
      if (method === 'GET') {
        const selector = parseSelector(q.get('labelSelector'))
        const items = this.#list(key, namespace).filter((o) => selector(labelsOf(o)))
        if (wantsTable(req)) {
          send(res, 200, table(def, items, this.#rv))
          return
        }
        send(res, 200, { kind: `${def.kind}List`, apiVersion: gvOf(def), metadata: { resourceVersion: String(this.#rv) }, items })
        return
      }
      if (method === 'POST') {
        if (namespace === undefined) throw new StatusError(405, 'MethodNotAllowed', 'create needs a namespace')
        send(res, 201, this.#create(def, namespace, parseJson(body)))
        return
      }
      throw new StatusError(405, 'MethodNotAllowed', `${method} is not allowed on a collection`)
    }
    const ns = namespace ?? ''
    const current = this.#objects.get(`${key}/${ns}/${name}`)
    if (sub === 'scale') {
      this.#scale(method, def, ns, name, current, req, body, res)
      return
    }
    if (sub === 'resize' || sub === 'status') {
      if (sub === 'resize' && !this.#opts.resizeSubresource) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource (pods/resize)')
      if (method === 'GET') {
        if (!current) throw notFound(def, name)
        send(res, 200, current)
        return
      }
      const updated = this.#update(def, ns, name, current, req, method, body, sub)
      send(res, 200, updated)
      return
    }
    if (sub !== undefined) throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${resource}/${sub})`)
    switch (method) {
      case 'GET': {
        if (!current) throw notFound(def, name)
        if (wantsTable(req)) {
          send(res, 200, table(def, [current], this.#rv))
          return
        }
        send(res, 200, current)
        return
      }
      case 'PUT':
      case 'PATCH':
        send(res, 200, this.#update(def, ns, name, current, req, method, body, undefined))
        return
      case 'DELETE': {
        if (!current) throw notFound(def, name)
        if (key === '/pods') this.#deletePod(ns, current)
        else this.remove(def.resource as 'deployments', ns, name)
        send(res, 200, current)
        return
      }
      default:
        throw new StatusError(405, 'MethodNotAllowed', `${method} is not allowed`)
    }
  }

  #scale(method: string, def: ResourceDef, ns: string, name: string, current: KubeObject | undefined, req: IncomingMessage, body: string, res: ServerResponse): void {
    if (def.resource !== 'deployments' && def.resource !== 'statefulsets') throw new StatusError(404, 'NotFound', `${def.resource} has no scale subresource`)
    if (!current) throw notFound(def, name)
    const scaleOf = (o: KubeObject): Record<string, unknown> => {
      const spec = (o.spec ?? {}) as Record<string, unknown>
      const status = (o.status ?? {}) as Record<string, unknown>
      const labels = ((spec.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels) ?? {}
      return {
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: { name, namespace: ns, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
        spec: { replicas: spec.replicas ?? 1 },
        status: { replicas: status.replicas ?? 0, selector: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') },
      }
    }
    if (method === 'GET') {
      send(res, 200, scaleOf(current))
      return
    }
    if (method !== 'PUT' && method !== 'PATCH') throw new StatusError(405, 'MethodNotAllowed', `${method} is not allowed on scale`)
    const before = scaleOf(current)
    const next = method === 'PUT' ? parseJson(body) : applyPatch(before, body, req.headers['content-type'])
    const sentRv = (next.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion
    if (method === 'PUT' && sentRv !== undefined && sentRv !== '' && sentRv !== current.metadata.resourceVersion) throw conflict(def, name)
    const replicas = (next.spec as { replicas?: unknown } | undefined)?.replicas
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new StatusError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`)
    }
    const updated = structuredClone(current)
    ;(updated.spec as Record<string, unknown>).replicas = replicas
    const stored = this.#store(def, ns, updated, true)
    this.#kubelet(def, ns, name)
    send(res, 200, scaleOf(stored))
  }

  #update(def: ResourceDef, ns: string, name: string, current: KubeObject | undefined, req: IncomingMessage, method: string, body: string, sub: string | undefined): KubeObject {
    if (!current) throw notFound(def, name)
    let next: KubeObject
    if (method === 'PUT') {
      next = parseJson(body) as KubeObject
      const sentRv = next.metadata.resourceVersion as string | undefined
      if (sentRv !== undefined && sentRv !== '' && sentRv !== current.metadata.resourceVersion) throw conflict(def, name)
    } else {
      next = applyPatch(current, body, req.headers['content-type']) as KubeObject
      const sentRv = (next.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion
      if (sentRv !== undefined && sentRv !== current.metadata.resourceVersion) throw conflict(def, name)
    }
    if (next.metadata.name !== name) throw new StatusError(422, 'Invalid', `${def.kind} "${name}" is invalid: metadata.name: Invalid value: ${JSON.stringify(next.metadata.name)}: field is immutable`)
    if (sub === 'resize') {
      // Only container resources change through resize.
      const merged = structuredClone(current)
      const want = (((next.spec as { containers?: { name: string; resources?: unknown }[] }).containers) ?? [])
      const containers = (merged.spec as { containers: { name: string; resources?: unknown }[] }).containers
      for (const c of containers) {
        const w = want.find((x) => x.name === c.name)
        if (w?.resources !== undefined) c.resources = w.resources
      }
      ;(merged.status as Record<string, unknown>).resize = undefined
      return this.#store(def, ns, merged, false)
    }
    const validated = validate(def, next)
    const specChanged = JSON.stringify(current.spec) !== JSON.stringify(validated.spec)
    // metadata the server owns
    validated.metadata = { ...validated.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, namespace: def.namespaced ? ns : undefined, generation: current.metadata.generation }
    if (sub !== 'status' && def.resource !== 'pods' && def.resource !== 'leases') validated.status = current.status
    const stored = this.#store(def, ns, validated, specChanged)
    if (def.resource === 'deployments' || def.resource === 'statefulsets') this.#kubelet(def, ns, name)
    return stored
  }

  #create(def: ResourceDef, ns: string, body: Record<string, unknown>): KubeObject {
    const o = validate(def, body as KubeObject)
    const name = o.metadata.name
    if (this.#objects.has(`${def.group}/${def.resource}/${ns}/${name}`)) {
      throw new StatusError(409, 'AlreadyExists', `${def.resource}${def.group === '' ? '' : `.${def.group}`} "${name}" already exists`)
    }
    o.apiVersion = gvOf(def)
    o.kind = def.kind
    o.metadata = { ...o.metadata, namespace: def.namespaced ? ns : undefined, uid: uid(), creationTimestamp: nowIso(), generation: 1 }
    if (def.resource === 'deployments' || def.resource === 'statefulsets') {
      const spec = o.spec as Record<string, unknown>
      spec.replicas ??= 1
      o.status = { observedGeneration: 0, replicas: 0 }
    }
    const stored = this.#store(def, ns, o, false)
    if (def.resource === 'deployments' || def.resource === 'statefulsets') this.#kubelet(def, ns, name)
    return stored
  }

  #podMetrics(namespace: string | undefined, name: string | undefined, q: URLSearchParams, res: ServerResponse): void {
    const selector = parseSelector(q.get('labelSelector'))
    const pods = this.#list('/pods', namespace).filter((p) => phaseOf(p) === 'Running' && selector(labelsOf(p)) && (name === undefined || p.metadata.name === name))
    const items = pods.map((p) => {
      const u = this.#usage.get(p.metadata.name) ?? { cpuMilli: 0, memoryMiB: 0 }
      const containers = ((p.spec as { containers?: { name: string }[] }).containers ?? []).map((c, i) => ({
        name: c.name,
        usage: i === 0 ? { cpu: `${u.cpuMilli * 1_000_000}n`, memory: `${u.memoryMiB * 1024}Ki` } : { cpu: '0', memory: '0' },
      }))
      return { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: p.metadata.name, namespace: p.metadata.namespace, labels: labelsOf(p), creationTimestamp: nowIso() }, timestamp: nowIso(), window: '15s', containers }
    })
    if (name !== undefined) {
      const one = items[0]
      if (!one) throw new StatusError(404, 'NotFound', `podmetrics.metrics.k8s.io "${name}" not found`)
      send(res, 200, one)
      return
    }
    send(res, 200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items })
  }

  #watch(key: string, namespace: string | undefined, q: URLSearchParams, res: ServerResponse): void {
    const selector = parseSelector(q.get('labelSelector'))
    const since = Number(q.get('resourceVersion') ?? '0') || 0
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    const w: Watcher = { key, namespace, selector, res }
    if (since === 0) {
      // No resourceVersion: the current state as ADDED events, as the real server does.
      for (const o of this.#list(key, namespace)) if (selector(labelsOf(o))) res.write(`${JSON.stringify({ type: 'ADDED', object: o })}\n`)
    } else {
      for (const e of this.#events) if (e.rv > since && matches(w, e)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`)
    }
    this.#watchers.add(w)
    const timeout = Number(q.get('timeoutSeconds') ?? '0')
    let timer: NodeJS.Timeout | undefined
    if (timeout > 0) {
      timer = setTimeout(() => {
        this.#watchers.delete(w)
        res.end()
      }, timeout * 1000)
      timer.unref()
    }
    res.on('close', () => {
      if (timer) clearTimeout(timer)
      this.#watchers.delete(w)
    })
  }

  #bookmarks(): void {
    for (const w of this.#watchers) {
      const def = RESOURCES.find((r) => `${r.group}/${r.resource}` === w.key)
      w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: def?.kind ?? 'Object', apiVersion: def ? gvOf(def) : 'v1', metadata: { resourceVersion: String(this.#rv) } } })}\n`)
    }
  }

  #sendStatus(res: ServerResponse, err: StatusError): void {
    const text = JSON.stringify(statusBody(err))
    res.writeHead(err.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(err.retryAfterSeconds === undefined ? {} : { 'retry-after': String(err.retryAfterSeconds) }) })
    res.end(text)
  }

  // ---- storage ----

  #groupOf(resource: string): string {
    return resource === 'pods' ? '' : resource === 'leases' ? 'coordination.k8s.io' : 'apps'
  }

  #list(key: string, namespace: string | undefined): KubeObject[] {
    const prefix = `${key}/`
    const out: KubeObject[] = []
    for (const [k, o] of this.#objects) {
      if (!k.startsWith(prefix)) continue
      if (namespace !== undefined && o.metadata.namespace !== namespace) continue
      out.push(o)
    }
    return out.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  }

  #put(key: string, ns: string, name: string, o: KubeObject): void {
    this.#objects.set(`${key}/${ns}/${name}`, o)
  }

  /** Stores `o` with a new resourceVersion (and generation when its spec changed) and tells watchers. */
  #store(def: ResourceDef, ns: string, o: KubeObject, specChanged: boolean): KubeObject {
    const key = `${def.group}/${def.resource}`
    const existed = this.#objects.has(`${key}/${ns}/${o.metadata.name}`)
    this.#rv++
    o.metadata.resourceVersion = String(this.#rv)
    if (specChanged) o.metadata.generation = Number(o.metadata.generation ?? 1) + 1
    if (o.metadata.namespace === undefined) delete o.metadata.namespace
    this.#put(key, ns, o.metadata.name, o)
    this.#emit({ rv: this.#rv, key, namespace: ns, type: existed ? 'MODIFIED' : 'ADDED', object: structuredClone(o) })
    return structuredClone(o)
  }

  #delete(key: string, ns: string, o: KubeObject): void {
    if (!this.#objects.delete(`${key}/${ns}/${o.metadata.name}`)) return
    this.#rv++
    const gone = structuredClone(o)
    gone.metadata.resourceVersion = String(this.#rv)
    this.#emit({ rv: this.#rv, key, namespace: ns, type: 'DELETED', object: gone })
  }

  #emit(e: WatchEvent): void {
    this.#events.push(e)
    if (this.#events.length > 10_000) this.#events.splice(0, 1000)
    for (const w of this.#watchers) if (matches(w, e)) w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`)
  }

  #later(ms: number, run: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t)
      run()
    }, ms)
    this.#timers.add(t)
  }

  // ---- the simulated kubelet and workload controllers ----

  /** Brings a workload's pods to its replicas and template, then updates its status. */
  #kubelet(def: ResourceDef, ns: string, name: string): void {
    const key = `apps/${def.resource}`
    const w = this.#objects.get(`${key}/${ns}/${name}`)
    if (!w) return
    const spec = w.spec as { replicas: number; template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> } }
    const hash = templateHash(spec.template)
    const live = this.#list('/pods', ns).filter((p) => ownerName(p) === name && p.metadata.deletionTimestamp === undefined)
    const current = live.filter((p) => labelsOf(p)['pod-template-hash'] === hash)
    const old = live.filter((p) => labelsOf(p)['pod-template-hash'] !== hash)
    if (def.resource === 'statefulsets') {
      const ordinals = new Set(live.map((p) => ordinalOf(p)))
      for (let i = 0; i < spec.replicas; i++) if (!ordinals.has(i)) this.#createPod(def, ns, w, hash, `${name}-${i}`)
      for (const p of live) if (ordinalOf(p) >= spec.replicas) this.#deletePod(ns, p)
      // A changed template: replace from the highest ordinal down, one at a time.
      const stale = old.filter((p) => ordinalOf(p) < spec.replicas).sort((a, b) => ordinalOf(b) - ordinalOf(a))[0]
      if (stale && current.every((p) => isReady(p))) this.#deletePod(ns, stale)
    } else {
      let want = spec.replicas - current.length
      for (; want > 0; want--) this.#createPod(def, ns, w, hash, `${name}-${hash}-${(this.#podSerial++).toString(36).padStart(5, '0')}`)
      if (want < 0) for (const p of victims(current, -want)) this.#deletePod(ns, p)
      // Rolling: an old pod goes for every new one that is ready.
      const readyNew = current.filter((p) => isReady(p)).length
      const excess = old.length - Math.max(0, spec.replicas - readyNew)
      if (excess > 0) for (const p of victims(old, excess)) this.#deletePod(ns, p)
    }
    this.#workloadStatus(def, ns, name)
  }

  #createPod(def: ResourceDef, ns: string, w: KubeObject, hash: string, podName: string): void {
    if (this.#list('/pods', ns).filter((p) => p.metadata.deletionTimestamp === undefined).length >= this.#opts.podQuota) return
    const spec = w.spec as { template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> } }
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: ns,
        uid: uid(),
        creationTimestamp: nowIso(),
        labels: { ...(spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash },
        ...(spec.template.metadata?.annotations ? { annotations: { ...spec.template.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: gvOf(def), kind: def.kind, name: w.metadata.name, uid: w.metadata.uid, controller: true }],
      },
      spec: structuredClone(spec.template.spec),
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: nowIso() }] },
    }
    this.#store(RESOURCES[0]!, ns, pod, false)
    this.#later(this.#opts.startDelayMs, () => {
      const p = this.#objects.get(`/pods/${ns}/${podName}`)
      if (!p || p.metadata.deletionTimestamp !== undefined) return
      const next = structuredClone(p)
      const t = nowIso()
      next.status = {
        phase: 'Running',
        podIP: `10.0.0.${String(this.#ip++ % 250)}`,
        startTime: t,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: p.metadata.creationTimestamp },
          { type: 'Initialized', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
          { type: 'Ready', status: 'True', lastTransitionTime: t },
        ],
        containerStatuses: ((next.spec as { containers?: { name: string; image?: string }[] }).containers ?? []).map((c) => ({ name: c.name, image: c.image, ready: true, restartCount: 0, started: true, state: { running: { startedAt: t } } })),
      }
      this.#store(RESOURCES[0]!, ns, next, false)
      this.#afterPodChange(ns, next)
    })
  }

  #deletePod(ns: string, p: KubeObject): void {
    if (p.metadata.deletionTimestamp !== undefined) return
    const next = structuredClone(p)
    next.metadata.deletionTimestamp = nowIso()
    next.metadata.deletionGracePeriodSeconds = 30
    this.#store(RESOURCES[0]!, ns, next, false)
    this.#later(this.#opts.terminationDelayMs, () => {
      const cur = this.#objects.get(`/pods/${ns}/${p.metadata.name}`)
      if (cur) this.#delete('/pods', ns, cur)
      this.#afterPodChange(ns, next)
    })
    this.#afterPodChange(ns, next)
  }

  /** A pod's change moves its owner: a rollout continues, a deleted pod is replaced, the status follows. */
  #afterPodChange(ns: string, pod: KubeObject): void {
    const owner = ownerName(pod)
    const kind = ((pod.metadata.ownerReferences as { kind: string }[] | undefined) ?? [])[0]?.kind
    const def = RESOURCES.find((r) => r.kind === kind)
    if (owner === undefined || !def) return
    if (this.#objects.has(`apps/${def.resource}/${ns}/${owner}`)) this.#kubelet(def, ns, owner)
  }

  #workloadStatus(def: ResourceDef, ns: string, name: string): void {
    const key = `apps/${def.resource}`
    const w = this.#objects.get(`${key}/${ns}/${name}`)
    if (!w) return
    const spec = w.spec as { replicas: number; template: Record<string, unknown> }
    const hash = templateHash(spec.template)
    const live = this.#list('/pods', ns).filter((p) => ownerName(p) === name && p.metadata.deletionTimestamp === undefined)
    const updated = live.filter((p) => labelsOf(p)['pod-template-hash'] === hash)
    const ready = live.filter((p) => isReady(p)).length
    const status: Record<string, unknown> = {
      observedGeneration: w.metadata.generation,
      replicas: live.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(def.resource === 'statefulsets' ? { currentReplicas: updated.length, currentRevision: `${name}-${hash}`, updateRevision: `${name}-${hash}` } : {}),
      conditions: [
        { type: 'Available', status: ready >= spec.replicas ? 'True' : 'False', reason: ready >= spec.replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', lastUpdateTime: nowIso(), lastTransitionTime: nowIso() },
        { type: 'Progressing', status: 'True', reason: updated.length === spec.replicas && ready >= spec.replicas ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', lastUpdateTime: nowIso(), lastTransitionTime: nowIso() },
      ],
    }
    if (JSON.stringify(stripTimes(status)) === JSON.stringify(stripTimes(w.status))) return
    const next = structuredClone(w)
    next.status = status
    this.#store(def, ns, next, false)
  }
}

// ---- helpers ----

/**
 * Just enough OpenAPI v3 for kubectl's "does the server validate fields?" check: each kind's
 * PATCH operation takes the `fieldValidation` query parameter, so `kubectl create` sends
 * `fieldValidation=Strict` and needs no client-side schema.
 */
function openApiV3(group: string, version: string): unknown {
  const paths: Record<string, unknown> = {}
  for (const d of RESOURCES.filter((r) => r.group === group && r.version === version)) {
    const base = d.group === '' ? `/api/${d.version}` : `/apis/${d.group}/${d.version}`
    paths[`${base}/namespaces/{namespace}/${d.resource}/{name}`] = {
      patch: {
        'x-kubernetes-group-version-kind': { group: d.group, version: d.version, kind: d.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        responses: { '200': { description: 'OK' } },
      },
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.33.0-fake' }, paths, components: { schemas: {} } }
}

function matches(w: Watcher, e: WatchEvent): boolean {
  return w.key === e.key && (w.namespace === undefined || w.namespace === e.namespace) && w.selector(labelsOf(e.object))
}

function labelsOf(o: unknown): Record<string, string> {
  return ((o as { metadata?: { labels?: Record<string, string> } }).metadata?.labels) ?? {}
}

function ownerName(p: KubeObject): string | undefined {
  return ((p.metadata.ownerReferences as { name: string }[] | undefined) ?? [])[0]?.name
}

function ordinalOf(p: KubeObject): number {
  return Number(/-(\d+)$/.exec(p.metadata.name)?.[1] ?? '-1')
}

function phaseOf(p: KubeObject): string | undefined {
  return (p.status as { phase?: string } | undefined)?.phase
}

function isReady(p: KubeObject): boolean {
  return ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
}

/** The ReplicaSet controller's order of victims: unready first, then lower deletion cost, then newer. */
function victims(pods: readonly KubeObject[], count: number): KubeObject[] {
  const cost = (p: KubeObject): number => Number(((p.metadata.annotations as Record<string, string> | undefined) ?? {})[DELETION_COST] ?? '0') || 0
  return [...pods]
    .sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || cost(a) - cost(b) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)) || b.metadata.name.localeCompare(a.metadata.name))
    .slice(0, count)
}

function stripTimes(s: unknown): unknown {
  return JSON.parse(JSON.stringify(s ?? {}, (k, v: unknown) => (k === 'lastUpdateTime' || k === 'lastTransitionTime' ? undefined : v)))
}

/** A short stable hash of a pod template (as pod-template-hash). */
function templateHash(t: unknown): string {
  let h = 2166136261
  for (const ch of JSON.stringify(t)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619)
  return (h >>> 0).toString(36).slice(0, 10)
}

let uidSerial = 0
function uid(): string {
  uidSerial++
  return `00000000-0000-4000-8000-${uidSerial.toString(16).padStart(12, '0')}`
}

function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function gvOf(def: ResourceDef): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`
}

function notFound(def: ResourceDef, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${def.resource}${def.group === '' ? '' : `.${def.group}`} "${name}" not found`)
}

function conflict(def: ResourceDef, name: string): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${def.resource}${def.group === '' ? '' : `.${def.group}`} "${name}": the object has been modified; please apply your changes to the latest version and try again`)
}

function validate(def: ResourceDef, o: KubeObject): KubeObject {
  const name = (o as { metadata?: { name?: unknown } }).metadata?.name
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    throw new StatusError(422, 'Invalid', `${def.kind} "${String(name)}" is invalid: metadata.name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`)
  }
  if (def.resource === 'deployments' || def.resource === 'statefulsets') {
    const spec = o.spec as { replicas?: unknown; selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: unknown[] } } } | undefined
    const sel = spec?.selector?.matchLabels
    if (!sel) throw new StatusError(422, 'Invalid', `${def.kind}.apps "${name}" is invalid: spec.selector: Required value`)
    const labels = spec.template?.metadata?.labels ?? {}
    if (!Object.entries(sel).every(([k, v]) => labels[k] === v)) throw new StatusError(422, 'Invalid', `${def.kind}.apps "${name}" is invalid: spec.template.metadata.labels: Invalid value: selector does not match template labels`)
    if (!Array.isArray(spec.template?.spec?.containers) || spec.template.spec.containers.length === 0) throw new StatusError(422, 'Invalid', `${def.kind}.apps "${name}" is invalid: spec.template.spec.containers: Required value`)
    if (spec.replicas !== undefined && (typeof spec.replicas !== 'number' || spec.replicas < 0)) throw new StatusError(422, 'Invalid', `${def.kind}.apps "${name}" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0`)
  }
  return o
}

function parseJson(body: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body)
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch (err) {
    throw new StatusError(400, 'BadRequest', `the body of the request was in an unknown format: ${String(err)}`)
  }
}

/** Applies a patch by its content type: merge and strategic merge (as merge), or JSON patch. */
function applyPatch(target: unknown, body: string, contentType: string | undefined): Record<string, unknown> {
  const type = (contentType ?? '').split(';')[0]?.trim()
  if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
    return mergePatch(structuredClone(target), parseJson(body)) as Record<string, unknown>
  }
  if (type === 'application/json-patch+json') {
    let ops: unknown
    try {
      ops = JSON.parse(body)
    } catch {
      throw new StatusError(400, 'BadRequest', 'the body of the request was in an unknown format')
    }
    if (!Array.isArray(ops)) throw new StatusError(400, 'BadRequest', 'a JSON patch is an array of operations')
    const doc = structuredClone(target) as Record<string, unknown>
    for (const op of ops as { op: string; path: string; value?: unknown }[]) jsonPatchOp(doc, op)
    return doc
  }
  throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`)
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch
  const out = (target !== null && typeof target === 'object' && !Array.isArray(target) ? target : {}) as Record<string, unknown>
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) Reflect.deleteProperty(out, k)
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

function jsonPatchOp(doc: Record<string, unknown>, op: { op: string; path: string; value?: unknown }): void {
  const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  const last = parts.pop()
  if (last === undefined) throw new StatusError(422, 'Invalid', `invalid JSON patch path ${op.path}`)
  let node: unknown = doc
  for (const p of parts) {
    node = Array.isArray(node) ? node[Number(p)] : (node as Record<string, unknown> | undefined)?.[p]
    if (node === undefined || node === null) throw new StatusError(422, 'Invalid', `JSON patch path ${op.path} does not exist`)
  }
  const parent = node as Record<string, unknown>
  switch (op.op) {
    case 'add':
    case 'replace':
      if (Array.isArray(node)) {
        if (last === '-') node.push(op.value)
        else if (op.op === 'add') node.splice(Number(last), 0, op.value)
        else node[Number(last)] = op.value
      } else parent[last] = op.value
      return
    case 'remove':
      if (Array.isArray(node)) node.splice(Number(last), 1)
      else Reflect.deleteProperty(parent, last)
      return
    case 'test':
      if (JSON.stringify((parent)[last]) !== JSON.stringify(op.value)) throw new StatusError(422, 'Invalid', `JSON patch test failed at ${op.path}`)
      return
    default:
      throw new StatusError(422, 'Invalid', `unsupported JSON patch op ${op.op}`)
  }
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '')
}

/** A meta.k8s.io/v1 Table, as kubectl get asks for. */
function table(def: ResourceDef, items: readonly KubeObject[], rv: number): unknown {
  const age = (o: KubeObject): string => `${Math.max(0, Math.round((Date.now() - Date.parse(String(o.metadata.creationTimestamp))) / 1000))}s`
  let columns: string[]
  let cells: (o: KubeObject) => unknown[]
  if (def.resource === 'pods') {
    columns = ['Name', 'Ready', 'Status', 'Restarts', 'Age']
    cells = (o) => {
      const n = ((o.spec as { containers?: unknown[] }).containers ?? []).length
      return [o.metadata.name, `${isReady(o) ? n : 0}/${n}`, o.metadata.deletionTimestamp !== undefined ? 'Terminating' : (phaseOf(o) ?? 'Pending'), 0, age(o)]
    }
  } else if (def.resource === 'deployments' || def.resource === 'statefulsets') {
    columns = ['Name', 'Ready', 'Up-to-date', 'Available', 'Age']
    cells = (o) => {
      const s = (o.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number }
      return [o.metadata.name, `${s.readyReplicas ?? 0}/${String((o.spec as { replicas?: number }).replicas ?? 0)}`, s.updatedReplicas ?? 0, s.availableReplicas ?? 0, age(o)]
    }
  } else {
    columns = ['Name', 'Age']
    cells = (o) => [o.metadata.name, age(o)]
  }
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: String(rv) },
    columnDefinitions: columns.map((c, i) => ({ name: c, type: i === 0 ? 'string' : 'string', format: i === 0 ? 'name' : '', description: c, priority: 0 })),
    rows: items.map((o) => ({ cells: cells(o), object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } })),
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** A `kind: Status` error body, as the real server sends. */
function statusBody(err: StatusError): unknown {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: err.reason, code: err.code, ...(err.retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds: err.retryAfterSeconds } }) }
}
